"""Griffe extension: turn byok's inline `# comments` into API documentation.

byok documents parameters the fastcore/MonsterUI way, with one comment per parameter:

    def Alert(
        message: str,  # the alert text
        kind: AlertKind = AlertKind.INFO,  # colour and icon
    ) -> FT:  # the alert element

Griffe only reads docstrings, so this extension (loaded by mkdocstrings from mkdocs.yml) reads
the comments with `tokenize` and appends them to each docstring as a Google-style `Args:` /
`Returns:` section; a commented attribute, dataclass field or enum member gets its comment as
its docstring. The source files are never modified.
"""

from __future__ import annotations

import ast
import io
import tokenize
from functools import lru_cache

import griffe

_SKIP = {"self", "cls"}  # receivers are never documented


@lru_cache(maxsize=256)
def _comments(source: str) -> dict[int, str]:
    """Line number (1-based) -> text of the comment ending that line."""
    found: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                text = tok.string.lstrip("#").strip()
                if text and not text.startswith(("noqa", "type:", "pragma", "ty:")):
                    found[tok.start[0]] = text
    except (tokenize.TokenError, SyntaxError):
        pass
    return found


def _source(obj: griffe.Object) -> str | None:
    """The full text of the module that defines `obj`."""
    try:
        lines = obj.lines_collection[obj.filepath]  # type: ignore[index]
    except (KeyError, TypeError, AttributeError, griffe.BuiltinModuleError):
        return None
    return "\n".join(lines) + "\n"


def _last_line(*nodes: ast.AST | None) -> int:
    """The last source line any of the nodes reaches."""
    return max((getattr(n, "end_lineno", 0) or 0) for n in nodes if n is not None)


def _param_comments(node: ast.FunctionDef | ast.AsyncFunctionDef, comments: dict[int, str]):
    """(name, comment) for each commented parameter of a function definition."""
    a = node.args
    positional = [*a.posonlyargs, *a.args]
    defaults: list[ast.AST | None] = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    pairs: list[tuple[ast.arg, ast.AST | None]] = list(zip(positional, defaults, strict=True))
    if a.vararg:
        pairs.append((a.vararg, None))
    pairs.extend(zip(a.kwonlyargs, a.kw_defaults, strict=True))
    if a.kwarg:
        pairs.append((a.kwarg, None))
    ends = [_last_line(arg, default) for arg, default in pairs]
    out = []
    for (arg, _), end in zip(pairs, ends, strict=True):
        # a comment documents a parameter only when that parameter alone ends on its line
        if arg.arg in _SKIP or ends.count(end) != 1 or end == node.lineno:
            continue
        if end in comments:
            out.append((arg.arg, comments[end]))
    returns = None
    if node.returns is not None:
        end = _last_line(node.returns)
        if end not in ends and end in comments:
            returns = comments[end]
    return out, returns


def _new_docstring(obj: griffe.Object, text: str, agent) -> griffe.Docstring:
    """A docstring parsed the way the loader parses real ones (Google style here)."""
    doc = griffe.Docstring(
        "",
        parent=obj,
        parser=getattr(agent, "docstring_parser", None),
        parser_options=getattr(agent, "docstring_options", None),
    )
    doc.value = text  # set after: the constructor's cleandoc would strip the section indent
    return doc


def _append(obj: griffe.Object, section: str, agent) -> None:
    """Append a section to the object's docstring (creating one when absent)."""
    if obj.docstring is None:
        obj.docstring = _new_docstring(obj, section.lstrip(), agent)
    else:
        obj.docstring.value = f"{obj.docstring.value.rstrip()}\n\n{section.lstrip()}"


class InlineComments(griffe.Extension):
    """Parameter, return and attribute docs from inline comments."""

    def on_function_instance(self, *, node, func: griffe.Function, agent, **kwargs) -> None:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return
        source = _source(func)
        if source is None:
            return
        params, returns = _param_comments(node, _comments(source))
        existing = func.docstring.value if func.docstring else ""
        lines = []
        if params and "Args:" not in existing and "Parameters:" not in existing:
            lines.append("Args:")
            lines += [f"    {name}: {text}" for name, text in params]
        if returns and "Returns:" not in existing:
            lines += ["", "Returns:", f"    {returns}"]
        if lines:
            _append(func, "\n".join(lines), agent)

    def on_attribute_instance(self, *, node, attr: griffe.Attribute, agent, **kwargs) -> None:
        if attr.docstring is not None or not isinstance(node, ast.AST):
            return
        if not isinstance(node, ast.Assign | ast.AnnAssign):
            return
        source = _source(attr)
        if source is None:
            return
        text = _comments(source).get(node.end_lineno or node.lineno)
        if text:
            attr.docstring = _new_docstring(attr, text, agent)
