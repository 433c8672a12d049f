"""The gallery app: routes for the index, story pages and their canvases, the Controls answers,
component docs pages, /index.json, the assets, the sandbox and the playground.

Pages are built by plain functions (gallery.ui.pages, gallery.ui.shell) from the registry, so the live
app and the static export (`gallery export DIR`) share every byte of markup; only the URLs
(`Site`) differ. A direct load gets the whole page; an htmx navigation (a sidebar link, followed
by gallery.js with `htmx.ajax`) gets the `#main` fragment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from fastcore.xml import FT, to_xml
from fasthtml.common import FastHTML, Meta, Title
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from byok.middleware.csrf import CSRF_HEADER, csrf_headers, csrf_token

from .args.controls import ControlError, error_slots, parse_args, query_args
from .build.compose import IFRAME_PATH, cors_headers, story_for
from .model.introspect import params
from .model.registry import Registry, Story, registry, use_stories
from .ui.assets import Assets, locate, served
from .ui.canvas import VIEWPORTS, canvas_document, canvas_error_document
from .ui.guides import find_guides, guide_page
from .ui.pages import (
    DEFAULT_TAB,
    TABS,
    component_page,
    index_page,
    not_found_page,
    story_page,
    story_panel,
)
from .ui.panels import code_panel, html_panel
from .ui.prefs import Prefs
from .ui.shell import BRAND, THEMES, document
from .ui.site import LIVE, Site

__all__ = [
    "LIVE",
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


# A canvas answer for the Controls' arguments names the story page's URL for them (what a reload
# or a shared link needs); gallery.js puts it in the address bar when the canvas shows them.
STORY_URL_HEADER = "Gallery-Story-Url"


_VARY = {"Vary": "HX-Request, HX-History-Restore-Request"}  # a page or its #main fragment


def _is_fragment(req: Request) -> bool:
    """True for an htmx request that wants #main only (not a history restore)."""
    return "hx-request" in req.headers and "hx-history-restore-request" not in req.headers


def _reload_state(req: Request) -> str | None:
    """The hot reload's state, which every full page carries (None: no reloader)."""
    reloader = getattr(req.app.state, "gallery_reloader", None)
    return reloader.state if reloader else None


def _document(
    title: str,  # the page title (without the brand)
    main: FT,  # the #main content
    assets: Assets | None,  # where the styles come from
    hx_headers: str,  # the CSRF header JSON for htmx
    group: str | None,  # the sidebar group shown open
    reload_state: str | None,  # the hot reload's state (None: no reloader)
    prefs: Prefs,  # the visitor's remembered choices
) -> str:
    """A whole gallery page's HTML."""
    head = () if reload_state is None else (Meta(name="gallery-reload", content=reload_state),)
    page = document(
        LIVE, title, main, assets, hx_headers=hx_headers, group=group, head=head, prefs=prefs
    )
    return to_xml(page)


def _page(
    req: Request,
    title: str,
    main: FT,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    group: str | None = None,
    prefs: Prefs | None = None,  # the visitor's choices when the caller read them already
) -> HTMLResponse:
    """The full document on a direct load, the #main fragment (+ title) for htmx."""
    hdrs = {**_VARY, **(headers or {})}
    if _is_fragment(req):
        body = to_xml((Title(f"{title} · {BRAND}"), main))
    else:
        assets = getattr(req.app.state, "gallery_assets", None)
        prefs = Prefs.of(req.cookies) if prefs is None else prefs
        body = _document(title, main, assets, csrf_headers(req), group, _reload_state(req), prefs)
    return HTMLResponse(body, status_code=status, headers=hdrs)


def _story(
    found: Story,  # the story as declared
    query: Mapping[str, list[str]],  # the request's query parameters (its arguments)
    tab: str,  # the selected tab
    prefs: Prefs,  # the visitor's remembered choices
) -> tuple[str, FT, int]:
    """A story page's title, #main content and status (422: its arguments were refused)."""
    shown, errors, general = tweak(found, query)
    main = story_page(LIVE, shown, tab, errors, general, base=found, prefs=prefs)
    title = f"{found.component_name} · {found.name}"
    return title, main, 422 if errors or general else 200


# A story page as declared (no arguments in its URL) is the same for every visitor with the same
# choices but for the session's CSRF token: it is rendered once, the token put in per request
# (bench "cold load": the page is answered in about 1 ms instead of 7)
_TOKEN_MARK = "byok-gallery-token-mark"  # stands for the token in a kept page (never a real one)


@lru_cache(maxsize=256)
def _declared_story(
    reg: Registry,  # the stories (a hot reload makes a new registry, so a new key)
    slug: str,  # the story's slug
    tab: str,  # the selected tab
    prefs: Prefs,  # the visitor's remembered choices
    assets: Assets,  # where the styles come from
    reload_state: str | None,  # the hot-reload marker's state (None: no reloader)
) -> tuple[str, int]:
    """The whole page of a story as declared, with the token mark, and its status."""
    found = reg.by_slug[slug]
    title, main, status = _story(found, {}, tab, prefs)
    mark = json.dumps({CSRF_HEADER: _TOKEN_MARK})
    return _document(title, main, assets, mark, found.group, reload_state, prefs), status


def _query(req: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in req.query_params.multi_items():
        out.setdefault(k, []).append(v)
    return out


def tweak(
    story: Story,  # the story as declared
    query: Mapping[str, list[str]],  # the request's query parameters
) -> tuple[Story, dict[str, str], str | None]:
    """The story with the query's arguments, per-control errors, and the component's refusal."""
    try:
        overrides = parse_args(story.component, query, story.args)
    except ControlError as e:
        return story, e.errors, None
    tweaked = story.with_args(overrides)
    try:
        tweaked.render()
    except Exception as e:  # whatever the component refuses is shown (422), never a 500
        return tweaked, {}, f"{story.component_name} refused these arguments: {e}"
    return tweaked, {}, None


def create_app(
    db_url: str | None = None,  # playground database URL (default: playground.default_db_url)
    secret_key: str | None = None,  # session and manager secret (default: a stored random one)
    *,
    stories: Sequence[str] | None = None,  # story packages to show (default: byok's own)
    assets: Assets | None = None,  # where the styles come from (default: byok.css)
    reload: bool = False,  # watch the stories and components, refresh open pages on a change
) -> FastHTML:
    """The gallery app (a factory: `uvicorn --factory gallery.app:create_app`)."""
    from .live.issuing_playground import IssuePlayground
    from .live.playground import Playground
    from .live.sandbox import Sandboxes

    if stories is not None:
        use_stories(*stories)
    assets = assets or locate()
    playground = Playground.create(db_url=db_url, secret_key=secret_key)
    sandboxes = Sandboxes(playground.secret_key, verifier=playground.verifier)

    def not_found(req: Request, exc: Exception) -> Response:
        return _page(req, "Not found", not_found_page(LIVE, "page"), status=404)

    # FastHTML itself, not fast_app: no static-files-by-extension route, no Pico, no default
    # scripts; the gallery serves a whitelist of files (/assets/{name}) and writes its own <head>
    app = FastHTML(
        exception_handlers={404: not_found},
        default_hdrs=False,
        hdrs=assets.headers(LIVE.assets),
        secret_key=playground.secret_key,  # the session (the playground's CSRF token)
        session_cookie="byok_gallery",
        title=BRAND,
        canonical=False,
    )
    rt = app.route
    app.state.sandboxes = sandboxes
    app.state.gallery_assets = assets
    files = assets.files()
    if reload:
        from .live.reload import Reloader

        Reloader.for_registry().mount(app)

    @rt("/", methods=["get"])
    def index(req: Request):
        return _page(req, "Components", index_page(LIVE))

    @rt("/index.json", methods=["get", "options"])
    def index_json(req: Request):
        cors = cors_headers(req, credentials=True)  # no secret in it: Storybook sends cookies
        if req.method == "OPTIONS":
            return Response(status_code=204, headers=cors)
        return JSONResponse(registry().index(), headers=cors)

    @rt("/assets/{name}", methods=["get"])
    async def asset(req: Request, name: str):
        path = files.get(name)
        if path is None or not path.is_file():
            return Response("not found", status_code=404, media_type="text/plain")
        found = served(path)
        headers = {"Cache-Control": "public, max-age=3600", "ETag": found.etag}
        if req.headers.get("if-none-match") == found.etag:
            return Response(status_code=304, headers=headers)
        return Response(found.body, media_type=found.media_type, headers=headers)

    @rt("/story/{slug}", methods=["get"])
    async def story(req: Request, slug: str):
        # async: a kept page is answered at once, without a hop to the thread pool; a page with
        # arguments, or a #main fragment, renders on the loop as a canvas does (a few ms)
        reg = registry()
        found = reg.get(slug)
        if found is None:
            return _page(req, "Not found", not_found_page(LIVE, "story"), status=404)
        tab = req.query_params.get("tab", DEFAULT_TAB)
        tab = tab if tab in TABS else DEFAULT_TAB
        prefs = Prefs.of(req.cookies)
        if not _is_fragment(req) and req.query_params.keys() <= {"tab"}:
            state = _reload_state(req)
            kept, status = _declared_story(reg, slug, tab, prefs, assets, state)
            body = kept.replace(_TOKEN_MARK, csrf_token(req), 1)
            return HTMLResponse(body, status_code=status, headers=_VARY)
        title, main, status = _story(found, _query(req), tab, prefs)
        return _page(req, title, main, status, group=found.group, prefs=prefs)

    def canvas_answer(
        req: Request, found: Story | None, headers: Mapping[str, str], composed: bool = False
    ) -> Response:
        if found is None:
            return Response("no such story", status_code=404, media_type="text/plain")
        shown, errors, general = tweak(found, _query(req))
        theme = Prefs.of(req.cookies).theme
        if errors or general:
            message = general or "; ".join(f"{k}: {v}" for k, v in errors.items())
            page = canvas_error_document(LIVE, found, message, assets, theme)
            return HTMLResponse(to_xml(page), status_code=422, headers=headers)
        page = canvas_document(
            LIVE,
            shown,
            shown.render(),
            assets,
            sandboxes.open(found.slug),
            csrf_headers(req),
            composed=composed,
            theme=theme,
        )
        headers = {"Cache-Control": "no-store", **headers}
        if req.query_params and not composed:  # the Controls' arguments: gallery.js shows the
            # story page's URL for them as soon as the canvas shows them
            headers[STORY_URL_HEADER] = LIVE.story(
                found.slug, [("tab", "controls"), *_changed(found, shown)]
            )
        return HTMLResponse(to_xml(page), headers=headers)

    @rt("/story/{slug}/canvas", methods=["get"])
    async def canvas(req: Request, slug: str):
        # async: a few ms of rendering on the event loop beat a hop to the thread pool (every
        # keystroke in Controls and every story switch fetches it)
        return canvas_answer(req, registry().get(slug), {})

    @rt(IFRAME_PATH, methods=["get", "options"])
    def iframe(req: Request):
        """Storybook's /iframe.html?id=…&viewMode=story: the bare story (a composed ref)."""
        cors = cors_headers(req, credentials=False)  # the page holds the session's CSRF token
        if req.method == "OPTIONS":
            return Response(status_code=204, headers=cors)
        found = story_for(registry(), req.query_params.get("id", ""))
        return canvas_answer(req, found, cors, composed=True)

    @rt("/story/{slug}/panel/{name}", methods=["get"])
    def panel(req: Request, slug: str, name: str):
        """One tab's panel (the story page holds only the selected one; gallery.js loads the
        others when their tab is about to be opened)."""
        found = registry().get(slug)
        if found is None or name not in TABS:
            return Response("no such panel", status_code=404, media_type="text/plain")
        shown, errors, general = tweak(found, _query(req))
        part = story_panel(LIVE, name, shown, found, errors, general)
        return HTMLResponse(to_xml(part), headers={"Vary": "HX-Request"})

    @rt("/story/{slug}/panels", methods=["get"])
    def panels(req: Request, slug: str):
        """The Controls form's answer: code and HTML panels, errors, the new canvas URL."""
        found = registry().get(slug)
        if found is None:
            return Response("no such story", status_code=404, media_type="text/plain")
        shown, errors, general = tweak(found, _query(req))
        slots = error_slots(found.component, found.args, errors, general)
        if errors or general:
            return HTMLResponse(to_xml(tuple(slots)), status_code=422)
        parts = (code_panel(shown, oob=True), html_panel(shown.render(), oob=True), *slots)
        return HTMLResponse(to_xml(parts))

    @rt("/guide/{slug}", methods=["get"])
    def guide(req: Request, slug: str):
        found = next((g for g in find_guides() if g.slug == slug), None)
        if found is None:
            return _page(req, "Not found", not_found_page(LIVE, "guide"), status=404)
        return _page(req, found.title, guide_page(LIVE, found, registry()), group="Guides")

    @rt("/component/{slug}", methods=["get"])
    def component(req: Request, slug: str):
        stories = registry().by_component.get(slug)
        if not stories:
            return _page(req, "Not found", not_found_page(LIVE, "component"), status=404)
        first = stories[0]
        return _page(req, first.component_name, component_page(LIVE, stories), group=first.group)

    playground.mount(app, _page)
    issue_keys = IssuePlayground.create(
        playground.db_url, playground.secret_key, playground.user_id
    )
    issue_keys.mount(app)
    playground.sections.append(issue_keys.section)
    sandboxes.mount(app)
    return app


def _changed(story: Story, shown: Story) -> list[tuple[str, str]]:
    """The query arguments of `shown` that differ from `story`'s own (only those go in the URL,
    so it can be shared); the story's own are read once, not per argument."""
    own = dict(query_args(story.component, _effective_args(story), story.args))
    args = query_args(shown.component, dict(shown.args), story.args)
    return [(k, v) for k, v in args if own.get(k) != v]


def _effective_args(story: Story) -> dict[str, Any]:
    """The story's arguments with the signature's defaults filled in."""
    out = {p.name: p.default for p in params(story.component) if not p.required}
    return out | dict(story.args)


def index_json_text(reg: Registry | None = None) -> str:
    """/index.json as text (sorted keys: deterministic)."""
    return json.dumps((reg or registry()).index(), indent=2, sort_keys=True)
