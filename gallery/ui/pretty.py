"""HTML indented for reading (the HTML panel). Display only: the copy button copies the exact
HTML, since indentation adds whitespace a browser may render (between inline elements)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["pretty_html"]

WIDTH = 100  # a start tag longer than this puts one attribute per line
INDENT = "  "
VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)  # elements without a closing tag
RAW = frozenset(("script", "style", "pre", "textarea"))  # content kept exactly as written
_ATTR = re.compile(r"""\s+([^\s=/>]+)(\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?""")  # as written


@dataclass
class _Node:
    tag: str  # element name ("" for the root)
    attrs: list[str] = field(default_factory=list)  # each attribute exactly as written
    children: list[_Node | str] = field(default_factory=list)


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.root = _Node("")
        self.stack = [self.root]

    def _raw_attrs(self) -> list[str]:
        text = self.get_starttag_text() or ""
        inner = re.sub(r"^<[^\s/>]+|/?>$", "", text)
        return [m.group(0).strip() for m in _ATTR.finditer(inner)]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, self._raw_attrs())
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(_Node(tag, self._raw_attrs()))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):  # tolerate a stray closing tag
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)

    def handle_entityref(self, name: str) -> None:
        self.stack[-1].children.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.stack[-1].children.append(f"&#{name};")


def _start(node: _Node, indent: str) -> list[str]:
    attrs = node.attrs
    flat = f"<{' '.join([node.tag, *attrs])}>"
    if len(indent) + len(flat) <= WIDTH or not attrs:
        return [indent + flat]
    inner = indent + INDENT
    return [f"{indent}<{node.tag}", *[inner + a for a in attrs], f"{indent}>"]


def _text(children: list[_Node | str]) -> str:
    return "".join(c if isinstance(c, str) else "" for c in children)


def _lines(node: _Node, indent: str, out: list[str]) -> None:
    start = _start(node, indent)
    if node.tag in VOID:
        out.extend(start)
        return
    end = f"</{node.tag}>"
    texts_only = all(isinstance(c, str) for c in node.children)
    if node.tag in RAW or texts_only:
        body = _text(node.children) if node.tag in RAW else _text(node.children).strip()
        if len(start) == 1 and len(start[0]) + len(body) + len(end) <= WIDTH + 20:
            out.append(start[0] + body + end)
            return
        out.extend(start)
        if body:
            out.append(indent + INDENT + body)
        out.append(indent + end)
        return
    out.extend(start)
    for child in node.children:
        if isinstance(child, str):
            if child.strip():
                out.append(indent + INDENT + child.strip())
        else:
            _lines(child, indent + INDENT, out)
    out.append(indent + end)


def pretty_html(
    html: str,  # HTML as the components render it (one line)
) -> str:
    """The HTML with one element per line, children indented, long tags one attribute a line."""
    tree = _Tree()
    tree.feed(html)
    tree.close()
    out: list[str] = []
    for child in tree.root.children:
        if isinstance(child, str):
            if child.strip():
                out.append(child.strip())
        else:
            _lines(child, "", out)
    return "\n".join(out) + ("\n" if out else "")
