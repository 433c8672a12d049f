"""The gallery app: shell, sidebar, story pages, kitchen sinks, /index.json and the playground.

Pages are built by plain functions from the registry, so the live app and the static export
(`gallery export DIR`) share every byte of markup; only the URLs (`Site`) differ. A direct load
gets the whole page; an htmx navigation (boosted sidebar link) gets the `#main` fragment.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlencode

from fastcore.xml import FT, Safe, to_xml
from fasthtml.common import (
    H1,
    H2,
    H3,
    A,
    Aside,
    Body,
    Button,
    Code,
    Div,
    FastHTML,
    Footer,
    Head,
    Header,
    Html,
    Input,
    Label,
    Li,
    Main,
    Meta,
    Nav,
    Option,
    P,
    Pre,
    Section,
    Select,
    Span,
    Table,
    Tbody,
    Td,
    Th,
    Thead,
    Title,
    Tr,
    Ul,
    fast_app,
)
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response

from byok.middleware.csrf import csrf_headers

from .assets import NPM_INSTALL, Assets, locate
from .controls import ControlError, controls_form, parse_args, query_args
from .highlight import highlight_html, highlight_python
from .introspect import first_line, params, signature_text
from .registry import (
    DEFAULT_STORIES,
    Registry,
    Story,
    public_module,
    registry,
    story_packages,
    use_stories,
)

__all__ = [
    "TABS",
    "THEMES",
    "VIEWPORTS",
    "Site",
    "component_page",
    "create_app",
    "document",
    "index_page",
    "story_page",
]

TABS = {"code": "Code", "html": "HTML", "docs": "Docs", "controls": "Controls"}  # value -> label
DEFAULT_TAB = "code"
THEMES = ("light", "dark", "cupcake", "corporate", "emerald", "nord", "synthwave", "dracula")
VIEWPORTS = {"mobile": "Mobile", "tablet": "Tablet", "desktop": "Desktop"}  # canvas widths
BRAND = "byok gallery"


@dataclass(frozen=True)
class Site:
    """How pages link to each other: the live app (absolute URLs, htmx) or a static export."""

    static: bool = False  # True for the static export (relative .html links, no server)
    root: str = "/"  # prefix of every link: "/" live; "" or "../" in an export

    def at_depth(
        self,
        depth: int,  # how many folders below the export's root the page sits
    ) -> Site:
        """The same site, seen from a page `depth` folders deep (exports only)."""
        return Site(self.static, "../" * depth) if self.static else self

    @property
    def home(self) -> str:
        """The index page."""
        return f"{self.root}index.html" if self.static else self.root

    @property
    def assets(self) -> str:
        """URL prefix of the locally served assets."""
        return f"{self.root}assets/"

    @property
    def index_json(self) -> str:
        """The story index (Storybook-like)."""
        return f"{self.root}index.json"

    @property
    def playground(self) -> str | None:
        """The playground (live only: it needs a server)."""
        return None if self.static else f"{self.root}playground"

    def story(
        self,
        slug: str,  # story slug
        query: list[tuple[str, str]] | None = None,  # tab and arguments (live only)
    ) -> str:
        """A story's page."""
        if self.static:
            return f"{self.root}story/{slug}.html"
        return f"{self.root}story/{slug}" + (f"?{urlencode(query)}" if query else "")

    def canvas(
        self,
        slug: str,  # story slug
    ) -> str | None:
        """The URL the Controls form re-renders the canvas from (None in an export)."""
        return None if self.static else f"{self.root}story/{slug}/canvas"

    def component(
        self,
        slug: str,  # component slug
    ) -> str:
        """A component's kitchen sink (all its stories)."""
        if self.static:
            return f"{self.root}component/{slug}.html"
        return f"{self.root}component/{slug}"

    def boost(self) -> dict[str, str]:
        """htmx attributes that turn links into fragment navigation into #main (live only)."""
        if self.static:
            return {}
        return {
            "hx_boost": "true",
            "hx_target": "#main",
            "hx_swap": "innerHTML show:window:top",
        }


LIVE = Site()


# ----------------------------------------------------------------------------- the shell


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


@cache
def _sidebar_tree(site: Site, reg: Registry) -> Safe:
    """The story tree (group -> component -> story), rendered once per site and registry."""
    groups = []
    for group, components in reg.tree().items():
        items = []
        for name, stories in components.items():
            links = [
                Li(
                    A(s.name, href=site.story(s.slug)),
                    data_search=f"{group} {name} {s.name}".lower(),
                )
                for s in stories
            ]
            items.append(
                Li(
                    Div(
                        Span(name, cls="font-medium"),
                        A(
                            "all",
                            href=site.component(stories[0].component_slug),
                            cls="badge badge-ghost badge-sm",
                            aria_label=f"All {name} stories",
                        ),
                        cls="flex items-center justify-between gap-2 px-2 py-1",
                    ),
                    Ul(*links),
                    data_component=name,
                )
            )
        groups.append(
            Li(
                H2(group, cls="menu-title text-base-content/70"),
                Ul(*items),
                data_group=group,
            )
        )
    return Safe(to_xml(Ul(*groups, id="story-tree", cls="menu menu-sm w-full")))


def sidebar(site: Site) -> FT:
    """The sidebar: brand, search box, story tree."""
    return Aside(
        A(BRAND, href=site.home, cls="btn btn-ghost text-lg justify-start px-2"),
        Label(
            Span("Search stories", cls="sr-only"),
            Input(
                type="search",
                placeholder="Search stories",
                data_story_filter="story-tree",
                autocomplete="off",
                cls="grow",
            ),
            cls="input input-sm my-3 w-full",
        ),
        P("No story matches.", id="story-filter-empty", hidden=True, cls="px-2 text-sm"),
        Nav(_sidebar_tree(site, registry()), aria_label="Stories", **site.boost()),
        cls="bg-base-100 border-base-300 min-h-full w-80 border-r p-4",
    )


def navbar(site: Site) -> FT:
    """The top bar: menu button (small screens), playground link, theme and viewport switchers."""
    links = [A("Components", href=site.home, cls="btn btn-ghost btn-sm")]
    if site.playground:
        links.append(A("Playground", href=site.playground, cls="btn btn-ghost btn-sm"))
    links.append(A("index.json", href=site.index_json, cls="btn btn-ghost btn-sm"))
    return Header(
        Label(
            "Menu",
            fr="nav-drawer",
            cls="btn btn-ghost btn-sm lg:hidden",
        ),
        Nav(*links, aria_label="Gallery", cls="flex flex-1 gap-1", **site.boost()),
        Div(
            *[
                Button(
                    label,
                    type="button",
                    value=value,
                    data_viewport_button=True,
                    aria_pressed="true" if value == "desktop" else "false",
                    cls="btn btn-sm join-item aria-pressed:btn-active",
                )
                for value, label in VIEWPORTS.items()
            ],
            role="group",
            aria_label="Canvas width",
            cls="join hidden sm:inline-flex",
        ),
        Label(
            Span("Theme", cls="sr-only"),
            Select(
                *[Option(t, value=t, selected=t == "light") for t in THEMES],
                data_theme_select=True,
                cls="select select-sm w-36",
            ),
        ),
        cls="navbar bg-base-100 border-base-300 sticky top-0 z-10 flex-wrap gap-2 border-b px-4",
    )


def document(
    site: Site,  # how links are written
    title: str,  # the page title (without the brand)
    main: FT | tuple,  # the #main content
    assets: Assets | None = None,  # where assets come from (default: located once)
    hx_headers: str | None = None,  # JSON headers for every htmx request (the CSRF token), live
    head: tuple[FT, ...] = (),  # more <head> elements (the hot-reload marker)
) -> FT:
    """A whole page: head with the assets, the drawer layout, the sidebar and `main`."""
    assets = assets or locate()
    return Html(
        Head(Title(f"{title} · {BRAND}"), *assets.headers(site.assets), *head),
        Body(
            _asset_notice(assets),
            Div(
                Input(
                    id="nav-drawer",
                    type="checkbox",
                    cls="drawer-toggle",
                    aria_label="Show the story list",
                ),
                Div(
                    navbar(site),
                    Main(main, id="main", cls="flex-1 p-4 lg:p-8"),
                    Footer(
                        P(
                            f"{len(registry())} stories of {len(registry().by_component)} "
                            f"components, from {', '.join(story_packages())}."
                        ),
                        cls="footer footer-center text-base-content/70 p-4 text-sm",
                    ),
                    cls="drawer-content flex min-h-screen flex-col",
                ),
                Div(
                    Label(fr="nav-drawer", aria_hidden="true", cls="drawer-overlay"),
                    sidebar(site),
                    cls="drawer-side z-20",
                ),
                cls="drawer lg:drawer-open",
            ),
            cls="bg-base-200 text-base-content min-h-screen",
            hx_headers=hx_headers,
        ),
        lang="en",
    )


# ----------------------------------------------------------------------------- pages (#main)


def _copy_button(target: str, what: str) -> FT:
    return Button(
        Span("Copy", data_copy_label=True),
        type="button",
        data_copy_target=target,
        aria_label=f"Copy the {what}",
        cls="btn btn-sm btn-ghost",
    )


def code_panel(story: Story, oob: bool = False) -> FT:
    """The Code tab: the Python snippet that produces the story, with a copy button."""
    return Div(
        Div(_copy_button("code-source", "Python code"), cls="flex justify-end"),
        Pre(highlight_python(story.snippet()), id="code-source", tabindex="0", cls="code-block"),
        id="code-panel",
        hx_swap_oob="true" if oob else None,
    )


def html_panel(html: str, oob: bool = False) -> FT:
    """The HTML tab: the rendered markup, highlighted, with a copy button."""
    return Div(
        Div(_copy_button("html-source", "HTML"), cls="flex justify-end"),
        Pre(highlight_html(html), id="html-source", tabindex="0", cls="code-block"),
        id="html-panel",
        hx_swap_oob="true" if oob else None,
    )


def docs_panel(story: Story) -> FT:
    """The Docs tab: signature, docstring and the parameter table (from the inline comments)."""
    rows = [
        Tr(
            Td(Code(p.name)),
            Td(Code(p.type_text) if p.type_text else "—"),
            Td(Code(p.default_text) if not p.required else Span("required", cls="badge badge-sm")),
            Td(p.comment or "—"),
        )
        for p in params(story.component)
    ]
    module = story.component.__module__
    return Div(
        P(
            "from ",
            Code(public_module(story.component)),
            " import ",
            Code(story.component_name),
            Span(f" (defined in {module})", cls="text-base-content/70"),
            cls="text-sm",
        ),
        Pre(highlight_python(signature_text(story.component)), tabindex="0", cls="code-block"),
        Div(
            *[P(line) for line in (story.component.__doc__ or "").strip().split("\n\n")],
            cls="prose max-w-none",
        ),
        Div(
            Table(
                Thead(Tr(Th("Parameter"), Th("Type"), Th("Default"), Th("Description"))),
                Tbody(*rows),
                cls="table table-sm",
            ),
            cls="overflow-x-auto",
        ),
        cls="flex flex-col gap-4",
    )


def _canvas_error(message: str) -> FT:
    return Div(
        Span(message),
        role="alert",
        cls="alert alert-error alert-soft",
    )


def story_page(
    site: Site,  # how links are written
    story: Story,  # the story (with the arguments to show)
    tab: str = DEFAULT_TAB,  # the selected tab
    error: str | None = None,  # a control error to show instead of the canvas
) -> FT:
    """A story: breadcrumbs, canvas, and the Code / HTML / Docs / Controls tabs."""
    html = "" if error else story.render()
    canvas = _canvas_error(error) if error else Safe(html)
    panels = {
        "code": code_panel(story),
        "html": html_panel(html),
        "docs": docs_panel(story),
        "controls": controls_form(story.component, story.args, site.canvas(story.slug)),
    }
    tabs = []
    for value, label in TABS.items():
        tabs += [
            Input(
                type="radio",
                name="story-tab",
                value=value,
                aria_label=label,
                checked=value == tab,
                cls="tab",
            ),
            Div(panels[value], cls="tab-content bg-base-100 border-base-300 p-4"),
        ]
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
        P(story.description or first_line(story.component), cls="text-base-content/80 mt-1"),
        Section(
            Div(canvas, id="canvas", data_canvas=True, data_viewport="desktop"),
            aria_label="Canvas",
            cls="bg-base-100 border-base-300 rounded-box mt-4 border p-6",
        ),
        Div(*tabs, cls="tabs tabs-lift mt-6"),
        id="story",
        data_story=story.slug,
    )


def component_page(
    site: Site,  # how links are written
    stories: list[Story],  # the component's stories
) -> FT:
    """A component's kitchen sink: every story at once."""
    first = stories[0]
    return Div(
        H1(first.component_name, cls="text-2xl font-bold"),
        P(first_line(first.component), cls="text-base-content/80 mt-1"),
        P(f"{len(stories)} stories · ", first.group, cls="text-sm mt-1"),
        Div(
            *[
                Section(
                    Div(
                        H2(s.name, cls="text-lg font-semibold"),
                        A(
                            "Open story",
                            href=site.story(s.slug),
                            cls="link text-sm",
                            aria_label=f"Open story: {s.name}",
                        ),
                        cls="flex items-baseline justify-between gap-2",
                        **site.boost(),
                    ),
                    P(s.description, cls="text-sm text-base-content/80") if s.description else "",
                    Div(Safe(s.render()), cls="mt-3"),
                    aria_label=s.name,
                    cls="bg-base-100 border-base-300 rounded-box border p-4",
                )
                for s in stories
            ],
            cls="mt-6 grid gap-4",
        ),
    )


def index_page(
    site: Site,  # how links are written
) -> FT:
    """The front page: counts and one card per component."""
    reg = registry()
    cards = []
    for slug, component, stories in reg.components():
        cards.append(
            Li(
                Div(
                    H3(
                        A(component.__name__, href=site.component(slug), cls="link link-hover"),
                        cls="card-title text-base",
                    ),
                    P(first_line(component), cls="text-sm"),
                    P(
                        f"{len(stories)} stories · {stories[0].group}",
                        cls="text-base-content/70 text-xs",
                    ),
                    Div(
                        A(
                            "First story",
                            href=site.story(stories[0].slug),
                            cls="btn btn-sm btn-primary",
                            aria_label=f"First story of {component.__name__}",
                        ),
                        cls="card-actions justify-end",
                    ),
                    cls="card-body",
                ),
                cls="card bg-base-100 border-base-300 border",
            )
        )
    own = story_packages() == (DEFAULT_STORIES,)  # byok's stories, or a developer's
    return Div(
        H1("byok components" if own else "Components", cls="text-3xl font-bold"),
        P(
            "Every component of " if own else "The stories of ",
            Code("byok.components" if own else ", ".join(story_packages())),
            " in every variant. Pick a story, tweak it in Controls, copy its code.",
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


# ----------------------------------------------------------------------------- the app


def _is_fragment(req: Request) -> bool:
    """True for an htmx request that wants #main only (not a history restore)."""
    return "hx-request" in req.headers and "hx-history-restore-request" not in req.headers


def _page(
    req: Request, title: str, main: FT, status: int = 200, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    """The full document on a direct load, the #main fragment (+ title) for htmx."""
    hdrs = {"Vary": "HX-Request, HX-History-Restore-Request", **(headers or {})}
    if _is_fragment(req):
        body = to_xml((Title(f"{title} · {BRAND}"), main))
    else:
        assets = getattr(req.app.state, "gallery_assets", None)
        reloader = getattr(req.app.state, "gallery_reloader", None)
        head = (Meta(name="gallery-reload", content=reloader.state),) if reloader else ()
        page = document(LIVE, title, main, assets, hx_headers=csrf_headers(req), head=head)
        body = to_xml(page)
    return HTMLResponse(body, status_code=status, headers=hdrs)


def _query(req: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in req.query_params.multi_items():
        out.setdefault(k, []).append(v)
    return out


def _story_with_query(story: Story, req: Request) -> tuple[Story, str | None]:
    """The story with the query's arguments applied, and an error message if they are bad."""
    try:
        overrides = parse_args(story.component, _query(req))
    except ControlError as e:
        return story, str(e)
    tweaked = story.with_args(overrides)
    try:
        tweaked.render()
    except Exception as e:  # whatever the component refuses is shown (422), never a 500
        return tweaked, f"{story.component_name} refused these arguments: {e}"
    return tweaked, None


def create_app(
    db_url: str | None = None,  # playground database URL (default: playground.default_db_url)
    secret_key: str | None = None,  # session and manager secret (default: a stored random one)
    *,
    stories: Sequence[str] | None = None,  # story packages to show (default: byok's own)
    assets: Assets | None = None,  # where the styles come from (default: byok.css)
    reload: bool = False,  # watch the stories and components, refresh open pages on a change
) -> FastHTML:
    """The gallery app (a factory: `uvicorn --factory gallery.app:create_app`)."""
    from .issuing_playground import IssuePlayground
    from .playground import Playground

    if stories is not None:
        use_stories(*stories)
    assets = assets or locate()
    playground = Playground.create(db_url=db_url, secret_key=secret_key)

    def not_found(req: Request, exc: Exception) -> Response:
        return _page(req, "Not found", not_found_page(LIVE, "page"), status=404)

    app, rt = fast_app(
        exception_handlers={404: not_found},
        pico=False,
        default_hdrs=False,
        hdrs=assets.headers(LIVE.assets),
        secret_key=playground.secret_key,
        session_cookie="byok_gallery",
        title=BRAND,
        canonical=False,
    )
    app.state.gallery_assets = assets
    # fast_app serves every file of a folder by extension; the gallery serves a whitelist only
    app.router.routes[:] = [
        r for r in app.router.routes if "{ext:static}" not in getattr(r, "path", "")
    ]
    files = assets.files()
    if reload:
        from .reload import Reloader

        Reloader.for_registry().mount(app)

    @rt("/")
    def index(req: Request):
        return _page(req, "Components", index_page(LIVE))

    @rt("/index.json")
    def index_json():
        return JSONResponse(registry().index())

    @rt("/assets/{name}")
    def asset(name: str):
        path = files.get(name)
        if path is None or not path.is_file():
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})

    @rt("/story/{slug}")
    def story(req: Request, slug: str):
        found = registry().get(slug)
        if found is None:
            return _page(req, "Not found", not_found_page(LIVE, "story"), status=404)
        tab = req.query_params.get("tab", DEFAULT_TAB)
        tab = tab if tab in TABS else DEFAULT_TAB
        shown, error = _story_with_query(found, req)
        title = f"{found.component_name} · {found.name}"
        return _page(req, title, story_page(LIVE, shown, tab, error), 422 if error else 200)

    @rt("/story/{slug}/canvas")
    def canvas(req: Request, slug: str):
        found = registry().get(slug)
        if found is None:
            return Response("no such story", status_code=404, media_type="text/plain")
        shown, error = _story_with_query(found, req)
        if error:
            return HTMLResponse(to_xml(_canvas_error(error)), status_code=422)
        html = shown.render()
        query = [("tab", "controls"), *query_args(shown.component, dict(shown.args))]
        parts = (Safe(html), code_panel(shown, oob=True), html_panel(html, oob=True))
        push = LIVE.story(slug, [(k, v) for k, v in query if k == "tab" or _differs(found, k, v)])
        return HTMLResponse(to_xml(parts), headers={"HX-Push-Url": push})

    @rt("/component/{slug}")
    def component(req: Request, slug: str):
        stories = registry().by_component.get(slug)
        if not stories:
            return _page(req, "Not found", not_found_page(LIVE, "component"), status=404)
        return _page(req, stories[0].component_name, component_page(LIVE, stories))

    playground.mount(app, _page)
    issue_keys = IssuePlayground.create(
        playground.db_url, playground.secret_key, playground.user_id
    )
    issue_keys.mount(app)
    playground.sections.append(issue_keys.section)

    return app


def _differs(story: Story, name: str, value: str) -> bool:
    """True when a control value differs from the story's own (only those go in the URL)."""
    own = dict(query_args(story.component, _effective_args(story)))
    return own.get(name) != value


def _effective_args(story: Story) -> dict[str, Any]:
    """The story's arguments with the signature's defaults filled in."""
    out = {p.name: p.default for p in params(story.component) if not p.required}
    return out | dict(story.args)


def render_index_ms(repeat: int = 20) -> float:
    """Median milliseconds to render the full index page (a benchmark helper)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        to_xml(document(LIVE, "Components", index_page(LIVE)))
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return times[len(times) // 2]


def index_json_text(reg: Registry | None = None) -> str:
    """/index.json as text (sorted keys: deterministic)."""
    return json.dumps((reg or registry()).index(), indent=2, sort_keys=True)
