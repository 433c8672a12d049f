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
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from fastcore.xml import to_xml

from ..play.steps import Step, check_play
from .seeds import IssuedSeed, Seed
from .snippets import (
    CLOCK_ARG,
    INDENT,
    REQUEST,
    Call,
    Imports,
    check_args,
    clock_line,
    has_datetime,
    json_value,
    public_module,
    snippet_value,
    uses_request,
)

__all__ = [
    "DEFAULT_STORIES",
    "LAYOUTS",
    "REQUEST",
    "Call",
    "IssuedSeed",
    "Layout",
    "Registry",
    "Seed",
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

DEFAULT_STORIES = __name__.split(".")[0] + ".stories"  # byok's own stories
ROUTE_NAME = "keys_page"  # the route handler a snippet using REQUEST is written as

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


def _inside(outer: str, inner: str) -> str:
    """`inner` placed as the last child of the element `outer` (HTML of one element)."""
    end = outer.rstrip().rfind("</")
    if end < 0:
        raise ValueError("a story's wrap must be an element with a closing tag")
    return outer[:end] + inner + outer[end:]


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
    seed: Seed | None = None  # its sandbox's starting data (stored keys, issued keys)
    play: tuple[Step, ...] = ()  # interaction steps (gallery.play) its Interactions panel runs

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", MappingProxyType(dict(self.args)))
        object.__setattr__(self, "samples", tuple(self.samples))
        object.__setattr__(self, "play", check_play(self.play))
        check_args(self.args)
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
        """The Python code that produces this story: imports, a blank line, the call (after the
        clock's reading when the story shows dates)."""
        if not self.needs_request:
            imports, call = self.snippet_parts()
            setup = self.snippet_setup(imports)
            return "\n".join([*imports.lines(), "", *setup, call]) + "\n"
        imports, call = self.snippet_parts(INDENT)  # written as the route handler an app has
        imports.names("starlette.requests", "Request")
        setup = [INDENT + line for line in self.snippet_setup(imports)]
        handler = [f"def {ROUTE_NAME}(request: Request):", *setup, f"{INDENT}return {call}"]
        return "\n".join([*imports.lines(), "", "", *handler]) + "\n"

    @property
    def clock(self) -> datetime | None:
        """The story's fixed current time (its `now=`), or None; snippets never carry it."""
        value = self.args.get(CLOCK_ARG)
        return value if isinstance(value, datetime) else None

    def _snippet_args(self) -> Mapping[str, Any]:
        """The arguments a snippet writes: `now=` left out when nothing else is dated (the
        component's default, the real clock, gives the same HTML)."""
        dated = any(has_datetime(v) for k, v in self.args.items() if k != CLOCK_ARG)
        if self.clock is None or dated:
            return self.args
        return {k: v for k, v in self.args.items() if k != CLOCK_ARG}

    def snippet_setup(
        self,
        imports: Imports,  # the snippet's imports (extended with what the lines need)
    ) -> list[str]:
        """Statements before the call: the real clock's one reading when the story's dates are
        written relative to it (`now = datetime.now(UTC)`), else none."""
        return [clock_line(imports)] if CLOCK_ARG in self._snippet_args() and self.clock else []

    def snippet_parts(
        self,
        indent: str = "",  # indentation of the line the call starts on
    ) -> tuple[Imports, str]:
        """The snippet's imports (to extend) and its call, wrapped for `indent`; dates relative
        to the snippet's clock reading (`snippet_setup`), never the gallery's fixed time."""
        imports = Imports()
        call = Call(self.component, self._snippet_args())
        return imports, snippet_value(call, imports, indent, clock=self.clock)

    @property
    def needs_request(self) -> bool:
        """True when the story passes the route's request (its snippet runs inside a route)."""
        return any(uses_request(v) for v in self.args.values())

    def describe(self) -> dict[str, Any]:
        """The story's entry in /index.json."""
        return {
            "type": "story",  # Storybook 9's composition lists only entries typed "story"
            "id": self.slug,
            "tags": ["dev", "test", *(["play-fn"] if self.play else [])],  # play-fn: has a play
            "title": self.title,
            "name": self.name,
            "component": self.component_name,
            "group": self.group,
            "importPath": self.source,
            "description": self.description,
            "args": {k: json_value(v) for k, v in self.args.items()},
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
