"""Server-side syntax highlighting for the Code and HTML tabs (no JavaScript highlighter needed).

Tokens become `<span class="tok-…">` elements (colours in gallery.css, on a fixed dark code
background so contrast holds in every theme); every token's text is escaped, so the code shown is
exactly the code copied. The spans are written as text (a story's HTML is thousands of tokens:
one FT element each made a story page ~10x slower to render), byte for byte what
`Span(text, cls=...)` renders.
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
from html import escape

from fastcore.xml import FT, Safe
from fasthtml.common import Code

__all__ = ["highlight_html", "highlight_python"]

_TAG = "tok-tag"  # tag names and brackets
_ATTR = "tok-attr"  # attribute names, numbers
_VALUE = "tok-value"  # attribute values, string literals
_KEYWORD = "tok-keyword"  # Python keywords, True/False/None
_NAME = "tok-name"  # capitalised names (components, enums)
_COMMENT = "tok-comment"  # comments, doctype

_HTML_TOKENS = re.compile(
    r"(?P<comment><!--.*?-->|<!doctype[^>]*>)"
    r"|(?P<open></?)(?P<tag>[A-Za-z][\w:-]*)"
    r"|(?P<attr>[\w:@.-]+)(?P<eq>=)(?P<value>\"[^\"]*\"|'[^']*')"
    r"|(?P<close>/?>)",
    re.S | re.I,
)


def _span(text: str, cls: str) -> str:
    """A token as markup: what `to_xml(Span(text, cls=cls))` writes."""
    return f'<span class="{cls}">{escape(text, quote=False)}</span>'


def _text(text: str) -> str:
    """Text between tokens, escaped as to_xml escapes a str child."""
    return escape(text, quote=False)


def highlight_html(
    source: str,  # HTML markup
) -> FT:
    """A <code> element showing the markup with tags, attributes and values coloured."""
    parts: list[str] = []
    pos = 0
    in_tag = False
    for m in _HTML_TOKENS.finditer(source):
        if m.group("attr") and not in_tag:
            continue  # looks like name="value" but sits in text: leave it as text
        if m.start() > pos:
            parts.append(_text(source[pos : m.start()]))
        if m.group("comment"):
            parts.append(_span(m.group("comment"), _COMMENT))
        elif m.group("tag"):
            parts += [_span(m.group("open"), _TAG), _span(m.group("tag"), _TAG)]
            in_tag = True
        elif m.group("attr"):
            parts += [_span(m.group("attr"), _ATTR), "=", _span(m.group("value"), _VALUE)]
        elif m.group("close"):
            parts.append(_span(m.group("close"), _TAG) if in_tag else _text(m.group("close")))
            in_tag = False
        pos = m.end()
    parts.append(_text(source[pos:]))
    return Code(Safe("".join(parts)), cls="language-html")


def highlight_python(
    source: str,  # Python source (a snippet)
) -> FT:
    """A <code> element showing Python with keywords, names, strings and numbers coloured."""
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    parts: list[str] = []
    pos = 0
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return Code(source, cls="language-python")
    for tok in tokens:
        cls = None
        if tok.type == tokenize.STRING:
            cls = _VALUE
        elif tok.type == tokenize.NUMBER:
            cls = _ATTR
        elif tok.type == tokenize.COMMENT:
            cls = _COMMENT
        elif tok.type == tokenize.NAME and keyword.iskeyword(tok.string):
            cls = _KEYWORD
        elif tok.type == tokenize.NAME and tok.string[:1].isupper():
            cls = _NAME
        if cls is None:
            continue
        start = offsets[tok.start[0] - 1] + tok.start[1]
        end = offsets[tok.end[0] - 1] + tok.end[1]
        parts += [_text(source[pos:start]), _span(source[start:end], cls)]
        pos = end
    parts.append(_text(source[pos:]))
    return Code(Safe("".join(parts)), cls="language-python")
