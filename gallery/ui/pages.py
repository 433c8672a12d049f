"""The gallery's pages (the #main content): a story with its canvas and panels, a component's
docs page, the index with live previews, and the 404 body. The same functions build the live
pages and the static export; only the `Site` differs.
"""

from __future__ import annotations

from fastcore.xml import FT
from fasthtml.common import (
    H1,
    H2,
    H3,
    A,
    Button,
    Code,
    Div,
    Iframe,
    Input,
    Label,
    Li,
    Option,
    Output,
    P,
    Pre,
    Section,
    Select,
    Span,
    Ul,
)

from ..args.controls import controls_form, query_args
from ..model.introspect import first_line, signature_text
from ..model.registry import DEFAULT_STORIES, LAYOUTS, Story, registry, story_packages
from ..model.snippets import public_module
from ..play.panel import interactions_panel
from .canvas import VIEWPORTS
from .highlight import highlight_python
from .panels import (
    a11y_panel,
    actions_panel,
    code_panel,
    copy_button,
    docs_panel,
    html_panel,
    param_table,
    rich_text,
)
from .prefs import DEFAULTS, Prefs
from .site import Site

__all__ = [
    "DEFAULT_TAB",
    "TABS",
    "component_page",
    "index_page",
    "not_found_page",
    "story_page",
    "story_panel",
]

TABS = {  # value -> label, in order
    "controls": "Controls",
    "actions": "Actions",
    "interactions": "Interactions",
    "a11y": "Accessibility",
    "code": "Code",
    "html": "HTML",
    "docs": "Docs",
}
DEFAULT_TAB = "controls"
BACKGROUNDS = {"page": "Page", "base-200": "Base 200", "checkered": "Checkered"}
CANVAS_HEIGHT = 560  # px: the responsive canvas's height (drag the handle to change it)


def _select(label: str, name: str, options: dict[str, str], selected: str) -> FT:
    return Label(
        Span(label, cls="text-xs text-base-content/80"),
        Select(
            *[Option(text, value=v, selected=v == selected) for v, text in options.items()],
            name=name,
            data_canvas_setting=name,
            cls="select select-xs w-auto",
        ),
        cls="flex items-center gap-1",
    )


def _toolbar(site: Site, story: Story, canvas_url: str, viewport: str | None) -> FT:
    """Viewport, size, zoom, background, layout, outline, measure, open in a new tab."""
    viewports = {name: label for name, (label, _, _) in VIEWPORTS.items()}
    return Div(
        _select(
            "Viewport", "viewport", viewports, viewport if viewport in VIEWPORTS else "responsive"
        ),
        Output(
            "—",
            id="canvas-size",
            aria_label="Canvas size in CSS pixels",
            cls="font-mono text-xs tabular-nums min-w-24",
        ),
        Div(
            Button("−", type="button", data_zoom="-1", aria_label="Zoom out", cls="btn btn-xs"),
            Button(
                Span("Reset zoom, now ", cls="sr-only"),
                Span("100%", id="canvas-zoom"),
                type="button",
                data_zoom="0",
                cls="btn btn-xs font-mono",
            ),
            Button("+", type="button", data_zoom="1", aria_label="Zoom in", cls="btn btn-xs"),
            role="group",
            aria_label="Zoom",
            cls="join-horizontal flex gap-1",
        ),
        _select("Background", "background", BACKGROUNDS, "page"),
        _select("Layout", "layout", {v: v.title() for v in LAYOUTS}, story.layout),
        Button(
            "Outline",
            type="button",
            data_canvas_outline=True,
            aria_pressed="false",
            cls="btn btn-xs aria-pressed:btn-active",
        ),
        Button(
            "Measure",
            type="button",
            data_canvas_measure=True,
            aria_pressed="false",
            title="Click an element in the canvas, then hover another: their distances (or hold Alt)",
            cls="btn btn-xs aria-pressed:btn-active",
        ),
        A(
            "Open canvas in a new tab",
            href=canvas_url,
            target="_blank",
            rel="noopener",
            id="canvas-open",
            cls="link text-xs ml-auto",
        ),
        role="toolbar",
        aria_label="Canvas tools",
        cls="flex flex-wrap items-center gap-x-4 gap-y-2 border-base-300 border-b px-3 py-2",
    )


def _stage(story: Story, canvas_url: str, title: str) -> FT:
    """The stage: the iframe in a box sized like the chosen viewport, with a resize handle.

    The iframe is kept across story switches (hx-preserve): gallery.js swaps the story named by
    the stage's data-canvas-src into the same canvas document instead of reloading it."""
    return Div(
        Div(
            Div(
                Iframe(
                    src=canvas_url,
                    title=title,
                    id="canvas-frame",
                    name="canvas",
                    cls="gallery-frame",
                    hx_preserve="true",
                ),
                id="canvas-box",
                cls="gallery-frame-box",
                style=f"height:{CANVAS_HEIGHT}px",
            ),
            Div(
                role="separator",
                tabindex="0",
                aria_label="Resize the canvas (arrow keys; Shift for 50 px)",
                aria_orientation="vertical",
                aria_valuemin="200",
                aria_valuemax="2560",
                aria_valuenow="0",
                data_canvas_resize=True,
                cls="gallery-resize",
            ),
            id="canvas-sizer",
            cls="gallery-sizer",
        ),
        id="canvas-stage",
        data_background="page",
        data_canvas_src=canvas_url,
        data_canvas_title=title,
        cls="gallery-stage",
    )


def story_panel(
    site: Site,  # how links are written
    name: str,  # a TABS value
    story: Story,  # the story (with the arguments to show)
    base: Story,  # the story as declared (its arguments are the reset values)
    errors: dict[str, str] | None = None,  # control errors to show inline
    general: str | None = None,  # an error not tied to one control (the component refused)
) -> FT:
    """One tab's panel, its outermost element's id `<name>-panel` (what a lazy tab is swapped
    with); with errors, Controls shows the refused values and the other panels the declared story."""
    shown = base if errors or general else story
    if name == "controls":
        form = controls_form(
            story.component, story.args, site.panels(story.slug), base.args, errors, general
        )
        return Div(form, id="controls-panel")
    if name == "actions":
        return actions_panel(live=not site.static)
    if name == "interactions":
        return interactions_panel(shown)
    if name == "a11y":
        return a11y_panel()
    if name == "code":
        return code_panel(shown)
    if name == "html":
        return html_panel(shown.render())
    return Div(docs_panel(shown), id="docs-panel")


def story_page(
    site: Site,  # how links are written
    story: Story,  # the story (with the arguments to show)
    tab: str = DEFAULT_TAB,  # the selected tab
    errors: dict[str, str] | None = None,  # control errors to show inline
    general: str | None = None,  # an error not tied to one control (the component refused)
    base: Story | None = None,  # the story as declared (its arguments are the reset values)
    prefs: Prefs = DEFAULTS,  # the visitor's remembered choices (viewport, the panels' share)
) -> FT:
    """A story: breadcrumbs, the canvas (an iframe) with its tools, and the panels.

    Live, only the selected tab's panel is in the page: the others are empty `<name>-panel`
    placeholders naming their route (gallery.js loads one when its tab is about to be opened).
    The static export has no server, so it holds every panel."""
    base = base or story
    shown = base if errors or general else story
    changed = [(k, v) for k, v in query_args(shown.component, dict(shown.args), base.args)]
    own = dict(query_args(base.component, dict(base.args)))
    query = [(k, v) for k, v in changed if own.get(k) != v]
    canvas_url = site.canvas(shown.slug, query)
    tabs = []
    for value, label in TABS.items():
        if site.static or value == tab:
            content = story_panel(site, value, story, base, errors, general)
        else:
            content = Div(
                id=f"{value}-panel",
                data_panel_src=site.panel(shown.slug, value, query),
                aria_busy="true",
            )
        tabs += [
            Input(
                type="radio",
                name="story-tab",
                value=value,
                aria_label=label,
                checked=value == tab,
                data_tab_label=label,
                cls="tab",
            ),
            Div(content, cls="tab-content bg-base-100 border-base-300 p-4"),
        ]
    story = shown
    notice = ""
    if site.static and story.interactive:
        notice = Div(
            Span(
                "Interactive story: its requests need the live gallery (run ",
                Code("uv run gallery"),
                "); this static copy shows it without a server.",
            ),
            role="note",
            cls="alert alert-info alert-soft mt-3 text-sm",
        )
    title = f"Canvas: {story.component_name}, {story.name}"
    return Div(
        Div(
            Ul(
                Li(A("Components", href=site.home)),
                Li(story.group),
                Li(A(story.component_name, href=site.component(story.component_slug))),
                Li(story.name),
            ),
            cls="breadcrumbs text-sm",
            **site.boost(),
        ),
        H1(
            story.component_name,
            Span(" · ", story.name, cls="font-normal"),
            cls="text-2xl font-bold",
        ),
        P(
            *rich_text(story.description or first_line(story.component)),
            cls="text-base-content/80 mt-1",
        ),
        notice,
        Section(
            _toolbar(site, story, canvas_url, prefs.viewport),
            _stage(story, canvas_url, title),
            aria_label="Canvas",
            cls="bg-base-100 border-base-300 rounded-box mt-4 overflow-hidden border",
        ),
        Div(
            Div(*tabs, cls="tabs tabs-lift"),
            id="story-panels",
            cls="mt-6",  # docked: gallery.css
            style=None if prefs.split is None else f"height:{prefs.split}%",
        ),
        id="story",
        data_story=story.slug,
        data_canvas_base=site.canvas(story.slug),
        data_static="true" if site.static else None,
    )


def _preview(site: Site, story: Story, title: str, height: int) -> FT:
    """A story's canvas as a live preview (an iframe; inert on the index)."""
    return Iframe(
        data_src=site.canvas(story.slug),  # gallery.js sets src after the page's load, when near
        title=title,
        cls="gallery-preview",
        style=f"height:{height}px",
        data_autoheight="true",
    )


def component_page(
    site: Site,  # how links are written
    stories: list[Story],  # the component's stories
) -> FT:
    """A component's docs page: description, signature, parameters, every story with its code."""
    first = stories[0]
    doc = (first.component.__doc__ or "").strip().split("\n\n")
    sections = []
    for s in stories:
        code_id = f"code-{s.slug}"
        sections.append(
            Section(
                Div(
                    H3(s.name, cls="text-lg font-semibold"),
                    A(
                        "Open story",
                        href=site.story(s.slug),
                        cls="link text-sm",
                        aria_label=f"Open story: {s.name}",
                    ),
                    cls="flex items-baseline justify-between gap-2",
                    **site.boost(),
                ),
                P(*rich_text(s.description), cls="text-sm text-base-content/80")
                if s.description
                else "",
                _preview(site, s, f"Canvas: {s.component_name}, {s.name}", 200),
                Div(
                    copy_button(code_id, f"the code of {s.name}"),
                    cls="flex justify-end",
                ),
                Pre(highlight_python(s.snippet()), id=code_id, tabindex="0", cls="code-block"),
                aria_label=s.name,
                cls="bg-base-100 border-base-300 rounded-box flex flex-col gap-3 border p-4",
            )
        )
    return Div(
        H1(first.component_name, cls="text-2xl font-bold"),
        Div(*[P(*rich_text(line)) for line in doc], cls="prose mt-2 max-w-none"),
        P(f"{len(stories)} stories · ", first.group, cls="text-sm mt-1"),
        Section(
            H2("Usage", cls="text-lg font-semibold"),
            P(
                "from ",
                Code(public_module(first.component)),
                " import ",
                Code(first.component_name),
                cls="text-sm",
            ),
            Pre(highlight_python(signature_text(first.component)), tabindex="0", cls="code-block"),
            H2("Parameters", cls="text-lg font-semibold"),
            param_table(first),
            aria_label="Usage and parameters",
            cls="bg-base-100 border-base-300 rounded-box mt-6 flex flex-col gap-3 border p-4",
        ),
        H2("Stories", cls="mt-8 text-xl font-semibold"),
        Div(*sections, cls="mt-4 grid gap-4"),
    )


def index_page(
    site: Site,  # how links are written
) -> FT:
    """The front page: counts and one card per component, with a live preview of its first story."""
    reg = registry()
    cards = []
    for slug, component, stories in reg.components():
        name = component.__name__
        cards.append(
            Li(
                Div(
                    _preview(site, stories[0], f"Preview: {name}", 150),
                    inert=True,
                    aria_hidden="true",
                    cls="gallery-thumb",
                ),
                Div(
                    H3(
                        A(name, href=site.component(slug), cls="link link-hover"),
                        cls="card-title text-base",
                    ),
                    P(*rich_text(first_line(component)), cls="text-sm"),
                    P(
                        f"{len(stories)} stories · {stories[0].group}",
                        cls="text-base-content/80 text-xs",
                    ),
                    Div(
                        A(
                            f"{name}: {stories[0].name}",
                            href=site.story(stories[0].slug),
                            cls="btn btn-sm btn-primary",
                        ),
                        cls="card-actions justify-end",
                    ),
                    cls="card-body",
                ),
                cls="card bg-base-100 border-base-300 overflow-hidden border",
            )
        )
    own = story_packages() == (DEFAULT_STORIES,)  # byok's stories, or a developer's
    return Div(
        H1("byok components" if own else "Components", cls="text-3xl font-bold"),
        P(
            "Every component of " if own else "The stories of ",
            Code("byok.components" if own else ", ".join(story_packages())),
            " in every variant. Pick a story, tweak it in Controls, watch its requests in Actions, "
            "copy its code.",
            cls="text-base-content/80 mt-2",
        ),
        Div(
            Div(Div("Stories", cls="stat-title"), Div(str(len(reg)), cls="stat-value"), cls="stat"),
            Div(
                Div("Components", cls="stat-title"),
                Div(str(len(reg.by_component)), cls="stat-value"),
                cls="stat",
            ),
            cls="stats bg-base-100 border-base-300 mt-4 border",
        ),
        Ul(*cards, cls="mt-6 grid gap-4 sm:grid-cols-2 xl:grid-cols-3", **site.boost()),
    )


def not_found_page(site: Site, what: str) -> FT:
    """A 404 page body."""
    return Div(
        H1("Not found", cls="text-2xl font-bold"),
        P(f"There is no {what} here.", cls="mt-2"),
        A("Back to all components", href=site.home, cls="btn btn-primary mt-4"),
    )
