"""Stories, once: a story is data (component, name, args, group, description) that renders itself,
writes its own Python snippet, names its slug and describes itself for /index.json.

The gallery app, the snapshot tests, the snippet-fidelity test, the browser tests, the static export
and the coverage test all iterate `registry()`: adding a story adds it everywhere.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import Enum
from functools import cache
from types import MappingProxyType
from typing import Any, Literal

from fastcore.xml import FT, to_xml

__all__ = [
    "LAYOUTS",
    "REQUEST",
    "Call",
    "Layout",
    "Registry",
    "Story",
    "registry",
    "slugify",
    "snippet_value",
]

_STDLIB = ("datetime", "enum", "os", "secrets")  # standard-library modules snippets import
LINE_WIDTH = 88  # snippets are wrapped like `ruff format` at this width
INDENT = "    "
PUBLIC_MODULE = "byok.components"  # snippets import from here when the name is exported there

Layout = Literal["centered", "padded", "fullscreen"]  # how the canvas places a story
LAYOUTS: tuple[Layout, ...] = ("centered", "padded", "fullscreen")
_HTMX_REQUEST = re.compile(r'\shx-(get|post|put|patch|delete)="')  # an element that calls a server
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def slugify(
    text: str,  # a component or story name, e.g. "KeyManagementCard" or "Soft, with title"
    camel: bool = False,  # split CamelCase words (component names), not "OpenAI" in a story name
) -> str:
    """A URL-safe slug: "Soft, with title" -> "soft-with-title"; camel: "KeyManagementCard" ->
    "key-management-card"."""
    if camel:
        text = _CAMEL.sub("-", text)
    return _SLUG_JUNK.sub("-", text.lower()).strip("-")


@dataclass(frozen=True)
class Call:
    """A component call used as an argument of a story (e.g. the alerts of an AlertStack).

    It is built fresh on each render and written as a call in the snippet.
    """

    component: Callable[..., Any]  # the component function
    args: Mapping[str, Any] = field(default_factory=dict)  # its keyword arguments

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", MappingProxyType(dict(self.args)))
        _check_args(self.args)

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
ROUTE_NAME = "keys_page"  # the route handler a snippet using REQUEST is written as


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


def _uses_request(value: Any) -> bool:
    """True when REQUEST appears anywhere in a story argument."""
    if value is REQUEST:
        return True
    if isinstance(value, Call):
        return any(_uses_request(v) for v in value.args.values())
    if isinstance(value, list | tuple):
        return any(_uses_request(v) for v in value)
    if isinstance(value, dict):
        return any(_uses_request(v) for v in value.values())
    return False


def _inside(outer: str, inner: str) -> str:
    """`inner` placed as the last child of the element `outer` (HTML of one element)."""
    end = outer.rstrip().rfind("</")
    if end < 0:
        raise ValueError("a story's wrap must be an element with a closing tag")
    return outer[:end] + inner + outer[end:]


def _check_args(args: Mapping[str, Any]) -> None:
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


class _Imports:
    """The names a snippet needs, grouped by module."""

    def __init__(self) -> None:
        self.by_module: dict[str, set[str]] = {}

    def add(self, obj: Any) -> str:
        """Record the import of a function/class; returns the name to write."""
        name = obj.__qualname__.split(".")[0]
        module = obj.__module__
        public = importlib.import_module(PUBLIC_MODULE)
        if getattr(public, name, None) is obj:
            module = PUBLIC_MODULE
        self.by_module.setdefault(module, set()).add(name)
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


def _str_literal(s: str) -> str:
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


def snippet_value(
    value: Any,  # a story argument
    imports: _Imports,  # collects the names the code needs
    indent: str = "",  # indentation of the line the value starts on
) -> str:
    """Python source that evaluates to the argument (enums by name, calls as calls)."""
    inner = indent + INDENT
    if value is REQUEST:
        return "request"
    if isinstance(value, Call):
        name = imports.add(value.component)
        items = [f"{k}={snippet_value(v, imports, inner)}" for k, v in value.args.items()]
        return _wrap(f"{name}(", items, ")", indent)
    if isinstance(value, Enum):
        return f"{imports.add(type(value))}.{value.name}"
    if isinstance(value, str):
        return _str_literal(value)
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
        return _wrap("[", [snippet_value(v, imports, inner) for v in value], "]", indent)
    if isinstance(value, tuple):
        items = [snippet_value(v, imports, inner) for v in value]
        return _wrap("(", items, ")", indent, one_tuple=len(items) == 1)
    if isinstance(value, dict):
        items = [
            f"{snippet_value(k, imports, inner)}: {snippet_value(v, imports, inner)}"
            for k, v in value.items()
        ]
        return _wrap("{", items, "}", indent)
    raise TypeError(f"cannot write {type(value).__name__} as Python source")


def _json_value(value: Any) -> Any:
    """The argument as JSON (enums by value, calls as {component, args}, datetimes ISO 8601)."""
    if isinstance(value, Call):
        return {
            "component": value.component.__name__,
            "args": {k: _json_value(v) for k, v in value.args.items()},
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
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


# ----------------------------------------------------------------------------- stories


@dataclass(frozen=True)
class Story:
    """One rendering of a component: what the gallery shows, snapshots and exports."""

    component: Callable[..., Any]  # the component function, from byok.components
    name: str  # the story's name, unique for its component, e.g. "Error, soft"
    args: Mapping[str, Any] = field(default_factory=dict)  # keyword arguments (literals, Call)
    group: str = "Components"  # sidebar group, e.g. "Feedback"
    description: str = ""  # one or two sentences shown above the canvas
    source: str = ""  # module that declared it (set by the registry)
    layout: Layout = "padded"  # the canvas: centered, padded, or fullscreen (edge to edge)
    wrap: Call | None = None  # an element the canvas shows it in (a ToastContainer for a Toast)
    samples: tuple[Call, ...] = ()  # elements the canvas puts inside it (toasts in a container)

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", MappingProxyType(dict(self.args)))
        object.__setattr__(self, "samples", tuple(self.samples))
        _check_args(self.args)
        if not slugify(self.name):
            raise ValueError(f"story name {self.name!r} has no letters or digits")
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, not {self.layout!r}")

    @property
    def component_name(self) -> str:
        """The component's name, e.g. "Alert"."""
        return self.component.__name__

    @property
    def component_slug(self) -> str:
        """The component's slug, e.g. "key-management-card"."""
        return slugify(self.component_name, camel=True)

    @property
    def slug(self) -> str:
        """The story's id in URLs, snapshots and index.json, e.g. "alert--error-soft"."""
        return f"{self.component_slug}--{slugify(self.name)}"

    @property
    def title(self) -> str:
        """Storybook-style title: "Group/Component"."""
        return f"{self.group}/{self.component_name}"

    def with_args(
        self,
        overrides: Mapping[str, Any],  # arguments replacing the story's own
    ) -> Story:
        """The same story with some arguments changed (what the Controls tab shows)."""
        return replace(self, args={**self.args, **overrides})

    def build(self) -> Any:
        """Call the component with the story's arguments (a fresh element each time)."""
        return Call(self.component, self.args).build()

    def render(self) -> str:
        """The story's HTML (deterministic: the same story gives the same bytes in any process)."""
        return to_xml(self.build())

    def canvas_html(
        self,
        html: str | None = None,  # the story's HTML (rendered here when not given)
    ) -> str:
        """What the canvas shows: the story's HTML with its samples inside, inside its wrap."""
        out = self.render() if html is None else html
        if self.samples:
            out = _inside(out, "".join(to_xml(c.build()) for c in self.samples))
        if self.wrap is not None:
            out = _inside(to_xml(self.wrap.build()), out)
        return out

    @property
    def interactive(self) -> bool:
        """True when its HTML calls a server (hx-get, hx-post, ...): it needs the live gallery."""
        return bool(_HTMX_REQUEST.search(self.render()))

    def snippet(self) -> str:
        """The Python code that produces this story: imports, a blank line, the call."""
        if not self.needs_request:
            imports, call = self.snippet_parts()
            return "\n".join([*imports.lines(), "", call]) + "\n"
        imports, call = self.snippet_parts(INDENT)  # written as the route handler an app has
        imports.names("starlette.requests", "Request")
        handler = [f"def {ROUTE_NAME}(request: Request):", f"{INDENT}return {call}"]
        return "\n".join([*imports.lines(), "", "", *handler]) + "\n"

    def snippet_parts(
        self,
        indent: str = "",  # indentation of the line the call starts on
    ) -> tuple[_Imports, str]:
        """The snippet's imports (to extend) and its call, wrapped for `indent`."""
        imports = _Imports()
        return imports, snippet_value(Call(self.component, self.args), imports, indent)

    @property
    def needs_request(self) -> bool:
        """True when the story passes the route's request (its snippet runs inside a route)."""
        return any(_uses_request(v) for v in self.args.values())

    def describe(self) -> dict[str, Any]:
        """The story's entry in /index.json."""
        return {
            "id": self.slug,
            "title": self.title,
            "name": self.name,
            "component": self.component_name,
            "group": self.group,
            "importPath": self.source,
            "description": self.description,
            "args": {k: _json_value(v) for k, v in self.args.items()},
            "parameters": {"layout": self.layout},
        }


class Registry:
    """Every story, in declaration order, indexed by slug and by component."""

    def __init__(
        self,
        stories: Iterable[Story],  # the stories, in the order the sidebar shows them
    ) -> None:
        self.stories: tuple[Story, ...] = tuple(stories)
        self.by_slug: dict[str, Story] = {}
        for s in self.stories:
            if s.slug in self.by_slug:
                raise ValueError(f"two stories share the slug {s.slug!r}: rename one")
            self.by_slug[s.slug] = s
        self.by_component: dict[str, list[Story]] = {}
        for s in self.stories:
            self.by_component.setdefault(s.component_slug, []).append(s)

    def __iter__(self) -> Iterator[Story]:
        return iter(self.stories)

    def __len__(self) -> int:
        return len(self.stories)

    def get(
        self,
        slug: str,  # a story slug
    ) -> Story | None:
        """The story with this slug, or None."""
        return self.by_slug.get(slug)

    def components(self) -> list[tuple[str, Callable[..., Any], list[Story]]]:
        """(component slug, component, its stories), in first-appearance order."""
        return [(slug, ss[0].component, ss) for slug, ss in self.by_component.items()]

    def tree(self) -> dict[str, dict[str, list[Story]]]:
        """group -> component name -> stories (the sidebar), in declaration order."""
        out: dict[str, dict[str, list[Story]]] = {}
        for s in self.stories:
            out.setdefault(s.group, {}).setdefault(s.component_name, []).append(s)
        return out

    def index(self) -> dict[str, Any]:
        """The Storybook-like /index.json: version and one entry per story."""
        return {"v": 5, "entries": {s.slug: s.describe() for s in self.stories}}


def load(
    package: str = "gallery.stories",  # the package holding one module per component family
) -> Registry:
    """Import every module of the package and collect their `STORIES`, ordered by `ORDER`."""
    pkg = importlib.import_module(package)
    modules = [
        importlib.import_module(f"{package}.{info.name}")
        for info in pkgutil.iter_modules(pkg.__path__)
        if not info.name.startswith("_")
    ]
    modules.sort(key=lambda m: (getattr(m, "ORDER", 1000), m.__name__))
    stories: list[Story] = []
    for module in modules:
        path = module.__name__.replace(".", "/") + ".py"
        stories += [replace(s, source=path) for s in getattr(module, "STORIES", ())]
    return Registry(stories)


@cache
def registry() -> Registry:
    """The gallery's registry (loaded once per process)."""
    return load()
