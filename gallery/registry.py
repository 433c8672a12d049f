"""Stories, once: a story is data (component, name, args, group, description) that renders itself,
writes its own Python snippet, names its slug and describes itself for /index.json.

The gallery app, the snapshot tests, the snippet-fidelity test, the browser tests, the static export
and the coverage test all iterate `registry()`: adding a story adds it everywhere.

A story package is any importable package whose modules each declare `STORIES` (a list of
`Story`) and optionally `ORDER` (their place in the sidebar): byok's own is `gallery.stories`;
`use_stories("myapp.stories")` (what `gallery --stories myapp.stories` does) makes the gallery
show another. This module is public API: `from byok_gallery import Story, Call`.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from fastcore.xml import FT, to_xml

__all__ = [
    "DEFAULT_STORIES",
    "Call",
    "Registry",
    "StoriesError",
    "Story",
    "load",
    "public_module",
    "registry",
    "reload_stories",
    "slugify",
    "snippet_value",
    "story_packages",
    "use_stories",
]

DEFAULT_STORIES = __name__.rpartition(".")[0] + ".stories"  # byok's own stories

LINE_WIDTH = 88  # snippets are wrapped like `ruff format` at this width
INDENT = "    "
PUBLIC_MODULE = "byok.components"  # snippets import from here when the name is exported there

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


def resolve(
    value: Any,  # a story argument
) -> Any:
    """The argument as the component receives it: every `Call` inside it built."""
    if isinstance(value, Call):
        return value.build()
    if isinstance(value, list):
        return [resolve(v) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve(v) for v in value)
    if isinstance(value, dict):
        return {k: resolve(v) for k, v in value.items()}
    return value


def _check_args(args: Mapping[str, Any]) -> None:
    """Refuse argument values a snippet cannot spell (raw elements, objects): use `Call`."""
    for name, value in args.items():
        _check_value(value, name)


def _check_value(value: Any, where: str) -> None:
    if isinstance(value, Call | Enum | str | bool | int | float | datetime | date | timedelta):
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


class _Imports:
    """The names a snippet needs, grouped by module."""

    def __init__(self) -> None:
        self.by_module: dict[str, set[str]] = {}

    def add(self, obj: Any) -> str:
        """Record the import of a function/class; returns the name to write."""
        name = obj.__qualname__.split(".")[0]
        self.by_module.setdefault(public_module(obj), set()).add(name)
        return obj.__qualname__

    def lines(self) -> list[str]:
        """Import lines, isort style: standard library first, then the rest, a blank between."""
        std = sorted(m for m in self.by_module if m.split(".")[0] in ("datetime", "enum"))
        rest = sorted(m for m in self.by_module if m not in std)
        out: list[str] = []
        for block in (std, rest):
            if block and out:
                out.append("")
            for m in block:
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

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", MappingProxyType(dict(self.args)))
        _check_args(self.args)
        if not slugify(self.name):
            raise ValueError(f"story name {self.name!r} has no letters or digits")

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

    def snippet(self) -> str:
        """The Python code that produces this story: imports, a blank line, the call."""
        imports = _Imports()
        call = snippet_value(Call(self.component, self.args), imports)
        return "\n".join([*imports.lines(), "", call]) + "\n"

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


class StoriesError(ImportError):
    """A story package could not be imported or declares something that is not a story."""


def _import(name: str, what: str) -> Any:
    """Import a module; whatever goes wrong (missing, a syntax error, ...) is a StoriesError."""
    try:
        return importlib.import_module(name)
    except Exception as e:
        raise StoriesError(f"cannot import {what} {name!r}: {type(e).__name__}: {e}") from e


def _modules(package: str) -> list[Any]:
    """The package's story modules (not starting with "_"), in `ORDER`, then name order."""
    pkg = _import(package, "story package")
    if not hasattr(pkg, "__path__"):  # a plain module holding STORIES itself
        return [pkg]
    modules = [
        _import(f"{package}.{info.name}", "story module")
        for info in pkgutil.iter_modules(pkg.__path__)
        if not info.name.startswith("_")
    ]
    modules.sort(key=lambda m: (getattr(m, "ORDER", 1000), m.__name__))
    return modules


def load(
    *packages: str,  # story packages (or modules), default: byok's own (gallery.stories)
) -> Registry:
    """Import every module of the packages and collect their `STORIES`, ordered by `ORDER`."""
    stories: list[Story] = []
    for package in packages or (DEFAULT_STORIES,):
        for module in _modules(package):
            path = module.__name__.replace(".", "/") + ".py"
            found = getattr(module, "STORIES", ())
            wrong = [s for s in found if not isinstance(s, Story)]
            if wrong:
                raise StoriesError(f"{module.__name__}.STORIES holds a {type(wrong[0]).__name__}")
            stories += [replace(s, source=path) for s in found]
    return Registry(stories)


_packages: tuple[str, ...] = (DEFAULT_STORIES,)  # what registry() loads
_current: Registry | None = None  # what registry() returns, loaded on first use


def story_packages() -> tuple[str, ...]:
    """The story packages registry() holds."""
    return _packages


def registry() -> Registry:
    """The gallery's registry (loaded once per process; `use_stories` changes what it holds)."""
    global _current
    if _current is None:
        _current = load(*_packages)
    return _current


def use_stories(
    *packages: str,  # story packages, e.g. "myapp.stories" (none: byok's own)
) -> Registry:
    """Make registry() hold these packages' stories (for this process); returns it."""
    global _packages, _current
    new = load(*packages)  # first, so a broken package leaves the current registry in place
    _packages, _current = tuple(packages) or (DEFAULT_STORIES,), new
    return new


def reload_stories(
    watched: tuple[Path, ...],  # folders whose modules are imported afresh (stories, components)
) -> Registry:
    """Forget every module loaded from `watched` and load the story packages again.

    On an error (a syntax error in a story, a story refusing its arguments) the modules are
    restored and the current registry stays; the error is raised."""
    roots = tuple(os.path.join(p.resolve(), "") for p in watched)
    saved = {name: m for name, m in list(sys.modules.items()) if _under(m, roots)}
    for name in saved:
        del sys.modules[name]
    importlib.invalidate_caches()
    try:
        new = load(*_packages)
        for s in new:
            s.render()  # a story that no longer renders is an error now, not on its page
    except BaseException:
        for name, m in list(sys.modules.items()):
            if name not in saved and _under(m, roots):
                del sys.modules[name]
        sys.modules.update(saved)
        raise
    global _current
    _current = new
    return new


def _under(module: Any, roots: tuple[str, ...]) -> bool:
    """True when the module was loaded from a file inside one of the folders."""
    f = getattr(module, "__file__", None)
    return isinstance(f, str) and str(Path(f).resolve()).startswith(roots)
