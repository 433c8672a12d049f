"""Story arguments: `Call` (a component call given as an argument), `REQUEST` (the route's
request), the check that every argument can be written back as code, and the writers — the Python snippet of the Code tab
(imports and a call, wrapped like `ruff format`) and the JSON of /index.json.

The gallery's clock: a story fixes the current time (its `now=` argument, `CLOCK_ARG`) so relative
dates ("Added 3 days ago") never change in snapshots. A snippet never carries that clock: it reads
the real one once (`now = datetime.now(UTC)`, `clock_line`) and writes every date of the story
relative to it (`now - timedelta(days=3)`), so pasted code shows the same "3 days ago" today.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum
from types import MappingProxyType
from typing import Any

from fastcore.xml import FT

__all__ = [
    "CLOCK_ARG",
    "CLOCK_NAME",
    "INDENT",
    "REQUEST",
    "Call",
    "Imports",
    "check_args",
    "clock_line",
    "has_datetime",
    "json_value",
    "public_module",
    "resolve",
    "snippet_value",
    "str_literal",
    "uses_request",
]

_STDLIB = ("datetime", "enum", "os", "secrets")  # standard-library modules snippets import
LINE_WIDTH = 88  # snippets are wrapped like `ruff format` at this width
INDENT = "    "
PUBLIC_MODULE = "byok.components"  # snippets import from here when the name is exported there
CLOCK_ARG = "now"  # the components' argument for the current time (fixed by the stories)
CLOCK_NAME = "now"  # the snippet's variable holding the real clock's one reading


@dataclass(frozen=True)
class Call:
    """A component call used as an argument of a story (e.g. the alerts of an AlertStack).

    It is built fresh on each render and written as a call in the snippet.
    """

    component: Callable[..., Any]  # the component function
    args: Mapping[str, Any] = field(default_factory=dict)  # its keyword arguments

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", MappingProxyType(dict(self.args)))
        check_args(self.args)

    def build(self) -> Any:
        """Call the component with the arguments resolved (nested calls built first)."""
        return self.component(**{k: resolve(v) for k, v in self.args.items()})


class _Request:
    """A story argument standing for the route's request: `request` in the snippet, a bare
    Starlette request (no session, nothing in its scope) when the story renders."""

    def __repr__(self) -> str:
        return "REQUEST"

    def build(self) -> Any:
        """A fresh GET / request, as a route handler without middleware would receive it."""
        from starlette.requests import Request

        scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
        return Request(scope)


REQUEST = _Request()  # the route's request, for components that take one (the dashboard)


def resolve(
    value: Any,  # a story argument
) -> Any:
    """The argument as the component receives it: every `Call` (and REQUEST) inside it built."""
    if isinstance(value, Call | _Request):
        return value.build()
    if isinstance(value, list):
        return [resolve(v) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve(v) for v in value)
    if isinstance(value, dict):
        return {k: resolve(v) for k, v in value.items()}
    return value


def uses_request(
    value: Any,  # a story argument
) -> bool:
    """True when REQUEST appears anywhere in a story argument."""
    if value is REQUEST:
        return True
    if isinstance(value, Call):
        return any(uses_request(v) for v in value.args.values())
    if isinstance(value, list | tuple):
        return any(uses_request(v) for v in value)
    if isinstance(value, dict):
        return any(uses_request(v) for v in value.values())
    return False


def has_datetime(
    value: Any,  # a story argument
) -> bool:
    """True when a datetime appears anywhere in a story argument (nested calls included)."""
    if isinstance(value, datetime):
        return True
    if isinstance(value, Call):
        return any(has_datetime(v) for v in value.args.values())
    if isinstance(value, list | tuple):
        return any(has_datetime(v) for v in value)
    if isinstance(value, dict):
        return any(has_datetime(v) for v in value.values())
    return False


def check_args(args: Mapping[str, Any]) -> None:
    """Refuse argument values a snippet cannot spell (raw elements, objects): use `Call`."""
    for name, value in args.items():
        _check_value(value, name)


def _check_value(value: Any, where: str) -> None:
    if isinstance(
        value, Call | _Request | Enum | str | bool | int | float | datetime | date | timedelta
    ):
        return
    if value is None:
        return
    if isinstance(value, list | tuple):
        for v in value:
            _check_value(v, where)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            _check_value(k, where)
            _check_value(v, where)
        return
    kind = (
        "an element: wrap it in Call(component, args)" if isinstance(value, FT) else "not literal"
    )
    raise TypeError(f"story argument {where!r} is {kind} ({type(value).__name__})")


# ----------------------------------------------------------------------------- snippets


def public_module(
    obj: Any,  # a component, enum or other top-level name a snippet imports
) -> str:
    """The module to import `obj` from: byok.components when it is exported there."""
    public = importlib.import_module(PUBLIC_MODULE)
    if getattr(public, obj.__qualname__.split(".")[0], None) is obj:
        return PUBLIC_MODULE
    return obj.__module__


class Imports:
    """The names a snippet needs, grouped by module."""

    def __init__(self) -> None:
        self.by_module: dict[str, set[str]] = {}

    def add(self, obj: Any) -> str:
        """Record the import of a function/class; returns the name to write."""
        name = obj.__qualname__.split(".")[0]
        self.by_module.setdefault(public_module(obj), set()).add(name)
        return obj.__qualname__

    def names(
        self,
        module: str,  # a module path, e.g. "fasthtml.common"
        *names: str,  # names imported from it
    ) -> None:
        """Record imports by name (for code around the snippet)."""
        self.by_module.setdefault(module, set()).update(names)

    def lines(self) -> list[str]:
        """Import lines, isort style: standard library, third party, then byok; blank between."""
        std = sorted(m for m in self.by_module if m.split(".")[0] in _STDLIB)
        ours = sorted(m for m in self.by_module if m.split(".")[0] in ("byok", "gallery"))
        rest = sorted(m for m in self.by_module if m not in std and m not in ours)
        out: list[str] = []
        for block in (std, rest, ours):
            if block and out:
                out.append("")
            out += [f"import {m}" for m in block if not self.by_module[m]]  # isort: these first
            for m in (m for m in block if self.by_module[m]):
                ordered = sorted(self.by_module[m], key=_isort_key)
                line = f"from {m} import {', '.join(ordered)}"
                if len(line) > LINE_WIDTH:
                    inner = "".join(f"{INDENT}{n},\n" for n in ordered)
                    line = f"from {m} import (\n{inner})"
                out.append(line)
        return out


def _isort_key(name: str) -> tuple[int, str, str]:
    """isort's order-by-type (ruff's default): CONSTANTS, then Classes, then functions."""
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return kind, name.lower(), name


def str_literal(s: str) -> str:
    """A string literal, double-quoted like `ruff format` writes it."""
    r = repr(s)
    if r.startswith("'") and '"' not in s:
        return '"' + r[1:-1] + '"'
    return r


def _wrap(open_: str, items: list[str], close: str, indent: str, one_tuple: bool = False) -> str:
    """A bracketed list flat when it fits, else one item per line with a trailing comma."""
    flat = open_ + ", ".join(items) + ("," if one_tuple else "") + close
    if len(indent) + len(flat) <= LINE_WIDTH and "\n" not in flat:
        return flat
    inner = indent + INDENT
    body = "".join(f"{inner}{item},\n" for item in items)
    return f"{open_}\n{body}{indent}{close}"


def clock_line(
    imports: Imports,  # collects the names the line needs
) -> str:
    """The snippet's one reading of the real clock, which its dates are written relative to."""
    imports.names("datetime", "UTC", "datetime")
    return f"{CLOCK_NAME} = datetime.now(UTC)"


def _relative(value: datetime, clock: datetime, imports: Imports) -> str:
    """`value` as `now`, `now + timedelta(...)` or `now - timedelta(...)` (the story's clock ->
    the snippet's reading of the real one)."""
    if (value.tzinfo is None) != (clock.tzinfo is None):
        raise TypeError("a story's dates and its clock must both be naive or both in UTC")
    delta = value - clock
    if not delta:
        return CLOCK_NAME
    imports.add(timedelta)
    rest = abs(delta)
    days, seconds = rest.days, rest.seconds
    units = {"days": days, "hours": seconds // 3600, "minutes": seconds % 3600 // 60}
    units |= {"seconds": seconds % 60, "microseconds": rest.microseconds}
    parts = ", ".join(f"{u}={n}" for u, n in units.items() if n)
    return f"{CLOCK_NAME} {'+' if delta > timedelta(0) else '-'} timedelta({parts})"


def snippet_value(
    value: Any,  # a story argument
    imports: Imports,  # collects the names the code needs
    indent: str = "",  # indentation of the line the value starts on
    *,
    clock: datetime | None = None,  # the story's fixed time: datetimes are written relative to it
) -> str:
    """Python source that evaluates to the argument (enums by name, calls as calls)."""
    inner = indent + INDENT
    if value is REQUEST:
        return "request"
    if isinstance(value, datetime) and clock is not None:
        return _relative(value, clock, imports)
    if isinstance(value, Call):
        name = imports.add(value.component)
        items = [
            f"{k}={snippet_value(v, imports, inner, clock=clock)}" for k, v in value.args.items()
        ]
        return _wrap(f"{name}(", items, ")", indent)
    if isinstance(value, Enum):
        return f"{imports.add(type(value))}.{value.name}"
    if isinstance(value, str):
        return str_literal(value)
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, datetime):
        imports.add(datetime)
        fields = [value.year, value.month, value.day, value.hour, value.minute, value.second]
        fields.append(value.microsecond)
        while len(fields) > 3 and not fields[-1]:
            fields.pop()
        parts = [str(f) for f in fields]
        if value.tzinfo is not None:
            if value.utcoffset() != timedelta(0):
                raise TypeError("story datetimes must be naive or in UTC")
            imports.by_module.setdefault("datetime", set()).add("UTC")
            parts.append("tzinfo=UTC")
        return _wrap("datetime(", parts, ")", indent)
    if isinstance(value, date):
        imports.add(date)
        return f"date({value.year}, {value.month}, {value.day})"
    if isinstance(value, timedelta):
        imports.add(timedelta)
        parts = [f"{u}={getattr(value, u)}" for u in ("days", "seconds", "microseconds")]
        return "timedelta(" + ", ".join(p for p in parts if not p.endswith("=0")) + ")"
    if isinstance(value, list):
        items = [snippet_value(v, imports, inner, clock=clock) for v in value]
        return _wrap("[", items, "]", indent)
    if isinstance(value, tuple):
        items = [snippet_value(v, imports, inner, clock=clock) for v in value]
        return _wrap("(", items, ")", indent, one_tuple=len(items) == 1)
    if isinstance(value, dict):
        items = [
            f"{snippet_value(k, imports, inner, clock=clock)}: "
            f"{snippet_value(v, imports, inner, clock=clock)}"
            for k, v in value.items()
        ]
        return _wrap("{", items, "}", indent)
    raise TypeError(f"cannot write {type(value).__name__} as Python source")


def json_value(value: Any) -> Any:
    """The argument as JSON (enums by value, calls as {component, args}, datetimes ISO 8601)."""
    if isinstance(value, Call):
        return {
            "component": value.component.__name__,
            "args": {k: json_value(v) for k, v in value.args.items()},
        }
    if isinstance(value, Enum):
        return value.value
    if value is REQUEST:
        return "request"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return value
