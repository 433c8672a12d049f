"""The gallery's shell: the document around every page, the sidebar (skip link, sticky search,
collapsible groups) and the top bar. The sidebar comes first in the document, so it is first in
the tab order, after the skip link.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cache
from typing import NamedTuple

from fastcore.xml import FT, Safe, to_xml
from fasthtml.common import (
    A,
    Aside,
    Body,
    Button,
    Code,
    Details,
    Div,
    Footer,
    Head,
    Header,
    Html,
    Input,
    Kbd,
    Label,
    Li,
    Main,
    Nav,
    Option,
    P,
    Select,
    Span,
    Summary,
    Title,
    Ul,
)

from ..model.registry import Registry, registry, story_packages
from .assets import NPM_INSTALL, Assets, locate
from .guides import find_guides
from .prefs import DEFAULTS, Prefs
from .site import Site

__all__ = ["BRAND", "THEMES", "document", "sidebar"]

BRAND = "byok gallery"
THEMES = ("light", "dark", "cupcake", "corporate", "emerald", "nord", "synthwave", "dracula")


def _asset_notice(assets: Assets) -> FT | str:
    """A visible banner when the npm assets are missing and the CDN is used instead."""
    if assets.local:
        return ""
    return Div(
        Span(
            "Front-end assets not found in node_modules: styles and htmx load from the CDN "
            "(needs internet). For offline use, run "
        ),
        Code(NPM_INSTALL, cls="font-mono font-bold"),
        Span(" in the project root."),
        role="status",
        id="asset-notice",
        cls="alert alert-warning rounded-none",
    )


class _Group(NamedTuple):
    """A sidebar group's markup, closed and open (what a page picks per visitor)."""

    name: str  # the group's name (its data-group)
    closed: str  # its <li> with the <details> closed
    open: str  # … and open


@cache
def _tree(site: Site, reg: Registry) -> tuple[_Group, ...]:
    """The story tree's groups (group -> component -> story) as HTML, rendered once per site and
    registry (a hot reload makes a new registry)."""
    groups: list[tuple[str, FT, FT]] = []
    for group, components in reg.tree().items():
        items = []
        for name, stories in components.items():
            links = [
                Li(
                    A(s.name, href=site.story(s.slug), data_story_link=s.slug),
                    data_search=f"{name} {s.name} {group}".lower(),
                )
                for s in stories
            ]
            items.append(
                Li(
                    A(
                        name,
                        href=site.component(stories[0].component_slug),
                        cls="font-medium",
                        aria_label=f"{name} docs",
                    ),
                    Ul(*links),
                    data_component=name,
                )
            )
        groups.append((group, Summary(group, cls="font-semibold"), Ul(*items)))
    if guides := find_guides():  # first: a newcomer reads them before the stories
        links = [
            Li(A(g.title, href=site.guide(g.slug), data_guide_link=g.slug), data_search=g.search)
            for g in guides
        ]
        items = Li(Ul(*links), data_component="Guides")
        groups.insert(0, ("Guides", Summary("Guides", cls="font-semibold"), Ul(items)))
    # unindented: the tree is two thirds of the page's HTML, parsed before the canvas iframe
    # (bench "cold load")
    return tuple(
        _Group(
            name,
            to_xml(Li(Details(summary, body, data_group=name)), indent=False),
            to_xml(Li(Details(summary, body, data_group=name, open=True)), indent=False),
        )
        for name, summary, body in groups
    )


def _tree_open_at(site: Site, open_groups: Collection[str]) -> Safe:
    """The tree with these groups open (the current story's, the ones the visitor left open)."""
    parts = (g.open if g.name in open_groups else g.closed for g in _tree(site, registry()))
    tree = Ul(Safe("".join(parts)), id="story-tree", cls="menu menu-sm w-full")
    return Safe(to_xml(tree, indent=False))


def sidebar(
    site: Site,  # how links are written
    group: str | None = None,  # the group to show open (the current story's)
    prefs: Prefs = DEFAULTS,  # the visitor's remembered choices (the groups left open)
) -> FT:
    """The sidebar: brand, sticky search box, the story tree."""
    return Aside(
        Div(
            A(BRAND, href=site.home, cls="btn btn-ghost text-lg justify-start px-2"),
            Label(
                Span("Search stories", cls="sr-only"),
                Input(
                    type="search",
                    id="story-search",
                    placeholder="Search stories",
                    data_story_filter="story-tree",
                    autocomplete="off",
                    aria_describedby="story-search-hint",
                    cls="grow",
                ),
                Kbd("/", cls="kbd kbd-sm", aria_hidden="true"),
                cls="input input-sm w-full",
            ),
            P(
                "Press / or Ctrl+K to search, ↓ and Enter to open, Alt+↑/↓ for the previous or "
                "next story.",
                id="story-search-hint",
                cls="sr-only",
            ),
            P("No story matches.", id="story-filter-empty", hidden=True, cls="px-2 text-sm"),
            cls="bg-base-100 sticky top-0 z-10 flex flex-col gap-2 pb-3",
        ),
        Nav(
            _tree_open_at(site, prefs.groups | {group} if group else prefs.groups),
            aria_label="Stories",
            **site.boost(),
        ),
        id="sidebar",
        cls="gallery-sidebar bg-base-100 border-base-300 border-r px-4 pb-4",
    )


def navbar(
    site: Site,  # how links are written
    theme: str | None = None,  # the theme shown (None: daisyUI's default, light)
) -> FT:
    """The top bar: menu button (small screens), page links, theme switcher."""
    links = [A("Components", href=site.home, cls="btn btn-ghost btn-sm")]
    if site.playground:
        links.append(A("Playground", href=site.playground, cls="btn btn-ghost btn-sm"))
    return Header(
        Button(
            "Menu",
            type="button",
            aria_controls="sidebar",
            aria_expanded="false",
            data_sidebar_toggle=True,
            cls="btn btn-ghost btn-sm lg:hidden",
        ),
        Nav(*links, aria_label="Gallery", cls="flex flex-1 gap-1", **site.boost()),
        Label(
            Span("Theme", cls="sr-only"),
            Select(
                *[Option(t, value=t, selected=t == (theme or "light")) for t in THEMES],
                data_theme_select=True,
                cls="select select-sm w-36",
            ),
        ),
        cls="navbar bg-base-100 border-base-300 sticky top-0 z-10 min-h-12 gap-2 border-b px-4",
    )


def document(
    site: Site,  # how links are written
    title: str,  # the page title (without the brand)
    main: FT | tuple,  # the #main content
    assets: Assets | None = None,  # where assets come from (default: located once)
    hx_headers: str | None = None,  # JSON headers for every htmx request (the CSRF token), live
    group: str | None = None,  # the sidebar group to show open (the current story's)
    head: tuple[FT, ...] = (),  # more <head> elements (the hot-reload marker)
    prefs: Prefs = DEFAULTS,  # the visitor's remembered choices (live: from the cookies)
) -> FT:
    """A whole page: head with the assets, skip link, sidebar, top bar and `main`."""
    assets = assets or locate()
    reg = registry()
    return Html(
        Head(
            Title(f"{title} · {BRAND}"),
            *assets.headers(site.assets, remembered_theme=site.static),
            *head,
        ),
        Body(
            A("Skip to content", href="#main", cls="skip-link btn btn-primary btn-sm"),
            _asset_notice(assets),
            Div(
                sidebar(site, group, prefs),
                Div(
                    navbar(site, prefs.theme),
                    Main(
                        main, id="main", tabindex="-1", hx_history_elt=True, cls="flex-1 p-4 lg:p-8"
                    ),
                    Footer(
                        P(
                            f"{len(reg)} stories of {len(reg.by_component)} components, from "
                            f"{', '.join(story_packages())} · ",
                            A("index.json", href=site.index_json, cls="link"),
                        ),
                        cls="footer footer-center text-base-content/80 p-4 text-sm",
                    ),
                    cls="flex min-h-screen min-w-0 flex-1 flex-col",
                ),
                cls="gallery-layout",
            ),
            cls="bg-base-200 text-base-content min-h-screen",
            hx_headers=hx_headers,
        ),
        lang="en",
        data_theme=prefs.theme,
        data_gallery_static="true" if site.static else None,  # gallery.js: prefs in localStorage
    )
