"""What the gallery reads from a component's signature: parameters, types, defaults, comments.

The parameter table of the Docs tab, the Controls form and the coverage test all come from here.
Types and defaults are shown as written in the source (`ast.unparse`), and each parameter's
description is its inline `# comment`, read with `tokenize` (no docstring conventions needed).
"""

from __future__ import annotations

import ast
import collections.abc
import inspect
import io
import re
import textwrap
import tokenize
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, StrEnum
from functools import cache
from typing import Any, Literal

__all__ = [
    "Control",
    "Param",
    "first_line",
    "params",
    "signature_text",
    "variant_axes",
]

EMPTY = inspect.Parameter.empty  # marks a parameter without a default
_RANGE = re.compile(r"\((-?\d+(?:\.\d+)?) to (-?\d+(?:\.\d+)?)\)")  # "(0 to 48)" in a comment
_AT_LEAST = re.compile(r"\(≥ ?(-?\d+(?:\.\d+)?)\)")  # "(≥ 0)" in a comment
_NONE_MEANS = re.compile(r"\bNone(?: \(the default\))? = ([^;,.()]+)")  # "None = filled"


class Control(StrEnum):
    """The form control a parameter gets in the Controls tab."""

    CHOICE = "choice"  # a select: an Enum or a Literal
    BOOL = "bool"  # a checkbox
    INT = "int"  # a number input (integers)
    FLOAT = "float"  # a number input (any number)
    TEXT = "text"  # a text input
    DATETIME = "datetime"  # a datetime-local input (UTC)
    DATE = "date"  # a date input
    JSON = "json"  # a JSON editor (lists, tuples, dicts of literals)
    NONE = "none"  # not editable from the form (components, requests, Any, ...)


@dataclass(frozen=True)
class Param:
    """One parameter of a component, as the gallery shows and edits it."""

    name: str  # parameter name
    annotation: Any  # the resolved type hint (EMPTY when unannotated)
    type_text: str  # the annotation as written in the source ("" when unannotated)
    default: Any  # the default value (EMPTY when required)
    default_text: str  # the default as written in the source ("" when required)
    comment: str  # the inline comment describing it ("" when none)
    control: Control  # which form control edits it
    choices: tuple[Any, ...]  # for CHOICE: the Enum members or Literal values, in order
    optional: bool  # None is an accepted value

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """(min, max) of a number, read from its comment: "(0 to 48)", "(≥ 0)"; None = open."""
        if m := _RANGE.search(self.comment):
            return float(m.group(1)), float(m.group(2))
        if m := _AT_LEAST.search(self.comment):
            return float(m.group(1)), None
        return None, None

    @property
    def none_means(self) -> str:
        """What None stands for, from the comment ("None = filled" -> "filled"), else ""."""
        m = _NONE_MEANS.search(self.comment)
        return m.group(1).strip() if m else ""

    @property
    def required(self) -> bool:
        """True when the parameter has no default."""
        return self.default is EMPTY

    @property
    def enum(self) -> type[Enum] | None:
        """The Enum class of a CHOICE parameter, None for a Literal or another control."""
        if self.choices and isinstance(self.choices[0], Enum):
            return type(self.choices[0])
        return None


def first_line(
    obj: Any,  # a function or class
) -> str:
    """The first line of an object's docstring ("" when it has none)."""
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _union_args(tp: Any) -> tuple[Any, ...]:
    """The members of a union type (X | Y or Optional[X]), or (tp,) for any other type."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return (tp,)


def _classify(tp: Any) -> tuple[Control, tuple[Any, ...], bool]:
    """Control kind, choices and optionality of a resolved annotation."""
    if tp is EMPTY:
        return Control.NONE, (), False
    members = _union_args(tp)
    optional = type(None) in members
    members = tuple(m for m in members if m is not type(None))
    for m in members:  # an Enum anywhere in the union is the variant axis (`AlertKind | str`)
        if isinstance(m, type) and issubclass(m, Enum):
            return Control.CHOICE, tuple(m), optional
    for m in members:
        if typing.get_origin(m) is Literal:
            return Control.CHOICE, typing.get_args(m), optional
    if members == (bool,):
        return Control.BOOL, (), optional
    if members == (int,):
        return Control.INT, (), optional
    if set(members) <= {int, float} and members:
        return Control.FLOAT, (), optional
    if members == (str,):
        return Control.TEXT, (), optional
    if datetime in members and set(members) <= {datetime, str}:
        return Control.DATETIME, (), optional
    if date in members and set(members) <= {date, str}:
        return Control.DATE, (), optional
    if members and all(_is_container(m) for m in members):
        return Control.JSON, (), optional
    return Control.NONE, (), optional


def _is_container(tp: Any) -> bool:
    """True for list / tuple / dict types and their abstract forms (Sequence, Mapping)."""
    origin = typing.get_origin(tp) or tp
    if not isinstance(origin, type):
        return False
    return issubclass(origin, list | tuple | dict) or origin in (
        collections.abc.Sequence,
        collections.abc.Mapping,
    )


def _target(obj: Callable) -> Callable:
    """The function whose signature and source describe a component (unwrapped; __init__ for a class)."""
    obj = inspect.unwrap(obj)
    if inspect.isclass(obj):
        return obj.__init__  # type: ignore[misc]
    return obj


def _source_info(func: Callable) -> dict[str, tuple[str, str, str]]:
    """Per parameter: (annotation text, default text, inline comment), read from the source."""
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        return {}
    tree = ast.parse(source)
    node = next(
        (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)),
        None,
    )
    if node is None:
        return {}
    a = node.args
    positional = [*a.posonlyargs, *a.args]
    defaults: dict[str, ast.expr] = {}
    for arg, default in zip(
        positional[len(positional) - len(a.defaults) :], a.defaults, strict=True
    ):
        defaults[arg.arg] = default
    for arg, kw_default in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        if kw_default is not None:
            defaults[arg.arg] = kw_default
    ordered = [*positional, *([a.vararg] if a.vararg else []), *a.kwonlyargs]
    ordered += [a.kwarg] if a.kwarg else []
    body_start = node.body[0].lineno if node.body else node.end_lineno or 0
    comments: list[tuple[int, str]] = []  # (line, text) of comments inside the signature
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT and tok.start[0] < body_start:
            comments.append((tok.start[0], tok.string.lstrip("#").strip()))
    info: dict[str, tuple[str, str, str]] = {}
    starts = [arg.lineno for arg in ordered[1:]] + [body_start]
    for arg, next_start in zip(ordered, starts, strict=True):
        default = defaults.get(arg.arg)
        end = max(arg.end_lineno or arg.lineno, default.end_lineno if default else 0)
        # the comment on the parameter's last line, or the first one before the next parameter
        comment = next(
            (text for line, text in comments if end <= line < max(next_start, end + 1)), ""
        )
        ann = ast.unparse(arg.annotation) if arg.annotation is not None else ""
        info[arg.arg] = (ann, ast.unparse(default) if default is not None else "", comment)
    return info


@cache
def params(
    component: Callable,  # a component function (or class)
) -> tuple[Param, ...]:
    """The component's parameters with their types, defaults, comments and controls (cached)."""
    func = _target(component)
    sig = inspect.signature(func)
    try:
        hints = typing.get_type_hints(func)
    except Exception:  # an unresolvable annotation: fall back to what inspect has
        hints = {}
    source = _source_info(func)
    out = []
    for p in sig.parameters.values():
        if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        tp = hints.get(p.name, p.annotation)
        control, choices, optional = _classify(tp)
        ann_text, default_text, comment = source.get(p.name, ("", "", ""))
        if not ann_text and tp is not EMPTY:
            ann_text = inspect.formatannotation(tp)
        if not default_text and p.default is not EMPTY:
            default_text = repr(p.default)
        out.append(
            Param(
                p.name, tp, ann_text, p.default, default_text, comment, control, choices, optional
            )
        )
    return tuple(out)


def variant_axes(
    component: Callable,  # a component function
) -> dict[str, tuple[Any, ...]]:
    """The component's variant axes: parameter name -> every allowed value (Enum or Literal)."""
    return {p.name: p.choices for p in params(component) if p.control is Control.CHOICE}


def signature_text(
    component: Callable,  # a component function
) -> str:
    """The signature as source-like text, one parameter per line."""
    func = _target(component)
    lines = []
    for p in params(component):
        text = p.name
        if p.type_text:
            text += f": {p.type_text}"
        if not p.required:
            text += f" = {p.default_text}" if p.type_text else f"={p.default_text}"
        lines.append(f"    {text},")
    ret = inspect.signature(func).return_annotation
    ret_text = ""
    if ret is not EMPTY:
        ret_text = f" -> {ret if isinstance(ret, str) else inspect.formatannotation(ret)}"
    name = getattr(component, "__name__", str(component))
    if not lines:
        return f"{name}(){ret_text}"
    return f"{name}(\n" + "\n".join(lines) + f"\n){ret_text}"
