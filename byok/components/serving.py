"""Serving byok's shipped assets from an app: `serve_assets(app)` (idempotent) adds one GET
route under /byok/ for byok.css, byok-full.css, htmx and byok.js; `setup_byok`,
`mount_key_routes` and `mount_issuing_routes` call it, so `fast_app(hdrs=front_end().headers())`
needs no `.serve(app)`. htmx is served guarded: a page that already has htmx (fast_app's default
headers load it) keeps that one.
"""

from __future__ import annotations

import weakref
from functools import cache
from pathlib import Path
from typing import Any

from .assets import (
    ASSETS_URL,
    BYOK_CSS_PATH,
    BYOK_FULL_CSS_PATH,
    FULL_NAME,
    HTMX_PATH,
    FrontEnd,
)

__all__ = ["SHIPPED", "AssetsBefore", "add_route", "serve_assets"]

SHIPPED = {"byok.css": BYOK_CSS_PATH, FULL_NAME: BYOK_FULL_CSS_PATH, **FrontEnd().files()}
"""Served name -> file: every asset shipped in the package (what serve_assets() serves)."""
_SERVED: weakref.WeakSet[Any] = weakref.WeakSet()  # apps whose asset route is in place: no rescan
_HTMX_ONCE = (b"if(typeof window.htmx==='undefined'){", b"\n}\n")  # FastHTML's htmx came first


@cache
def _htmx_once() -> bytes:
    """htmx, run only when the page has none yet (fast_app's default headers load one)."""
    return _HTMX_ONCE[0] + HTMX_PATH.read_bytes() + _HTMX_ONCE[1]


def add_route(
    app: Any,  # a FastHTML / Starlette app
    prefix: str,  # URL prefix, ending in '/'
    files: dict[str, Path],  # served name -> file (the whitelist)
) -> None:
    """Insert the GET route serving `files` under `prefix`, before the first route that would
    answer one of them (fast_app's static route would otherwise shadow it)."""
    from starlette.responses import FileResponse, Response
    from starlette.routing import Route

    if not isinstance(prefix, str) or not prefix.startswith("/") or not prefix.endswith("/"):
        raise ValueError("prefix must be an absolute URL path ending in '/', e.g. '/byok/'")
    cache_control = {"Cache-Control": "public, max-age=86400"}

    async def byok_asset(request: Any) -> Response:
        name = request.path_params["name"]
        path = files.get(name)
        if path is None or not path.is_file():
            return Response("not found", status_code=404, media_type="text/plain")
        if path == HTMX_PATH:
            return Response(_htmx_once(), media_type="text/javascript", headers=cache_control)
        return FileResponse(path, headers=cache_control)

    route = Route(prefix + "{name}", byok_asset, methods=["GET"], name="byok_assets")
    routes = app.router.routes
    # bench row "byok's own work": not first but before the first route that catches an asset,
    # so the app's own routes above it are matched without trying this one on every request
    routes.insert(_first_catching(routes, [prefix + name for name in files]), route)


def _first_catching(
    routes: list[Any],  # the app's route table
    urls: list[str],  # the asset URLs a GET must reach
) -> int:
    """Index of the first route that would answer a GET of one of `urls`; else the end."""
    from starlette.routing import Match

    probes = [_get_scope(url) for url in urls]
    for i, route in enumerate(routes):
        try:
            if any(route.matches(probe)[0] is not Match.NONE for probe in probes):
                return i
        except Exception:  # a route that cannot be asked might shadow them: go before it
            return i
    return len(routes)


def _get_scope(
    url: str,  # an asset's URL path
) -> dict[str, Any]:
    """The ASGI scope of a plain GET of `url` (what a route's `matches` reads)."""
    return {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": url,
        "raw_path": url.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
    }


def serve_assets(
    app: Any,  # a FastHTML / Starlette app
    prefix: str = ASSETS_URL,  # URL prefix to serve the files under
) -> None:
    """Serve every shipped asset (`SHIPPED`) under `prefix`, unless a byok asset route already
    answers there (idempotent; setup_byok and the mount functions call it)."""
    path = prefix + "{name}"
    if any(getattr(r, "name", None) == "byok_assets" and getattr(r, "path", None) == path
           for r in app.router.routes):  # fmt: skip
        return
    add_route(app, prefix, SHIPPED)


class AssetsBefore:
    """Beforeware (setup_byok's first part, one per setup): serves the assets on the request's
    app, and answers an asset request itself (a worker whose first request it is); None
    otherwise."""

    def __init__(self) -> None:
        self._app: Any = None  # the app last seen with its asset route in place

    def __call__(
        self,
        req: Any,  # the incoming request (its app gets the asset route)
    ) -> Any:
        """None for any request but a shipped asset's GET; else the asset."""
        scope = req.scope
        app = scope.get("app")
        if app is not self._app:  # bench row "byok's own work": an identity check per request
            if app is None or not hasattr(app, "router"):
                return None
            if app not in _SERVED:  # once per app: serve_assets scans the route table
                serve_assets(app)
                _SERVED.add(app)
            self._app = app
        # bench row "byok's own work": the scope's path (what req.url.path is for a shipped
        # name), so no URL is built for a request that is no asset
        path = scope["path"]
        if not path.startswith(ASSETS_URL):
            return None
        name = path[len(ASSETS_URL) :]
        if name not in SHIPPED or scope["method"] != "GET":
            return None
        from starlette.responses import FileResponse, Response

        if name == "htmx.js":
            return Response(_htmx_once(), media_type="text/javascript")
        return FileResponse(SHIPPED[name])
