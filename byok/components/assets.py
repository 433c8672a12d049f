"""The one static script of the kit (`static/byok.js`) and ways to put it on a page.

Prefer serving the file (`serve_byok_js(app)` + `byok_script()`), which works under a strict
Content-Security-Policy; `byok_script(inline=True)` embeds the same static file (no page data).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from ._html import FT, Safe, el, safe_url

__all__ = ["BYOK_JS_PATH", "BYOK_JS_URL", "byok_js", "byok_script", "serve_byok_js"]

BYOK_JS_PATH = Path(__file__).resolve().parent / "static" / "byok.js"  # the file on disk
BYOK_JS_URL = "/byok/byok.js"  # where serve_byok_js() serves it by default


@cache
def byok_js() -> str:
    """The script's source (read once)."""
    source = BYOK_JS_PATH.read_text(encoding="utf-8")
    if "</script" in source.lower():  # could not be embedded inline safely
        raise RuntimeError("byok.js must not contain '</script'")
    return source


def byok_script(
    src: str = BYOK_JS_URL,  # URL the script is served at (http(s) or relative)
    inline: bool = False,  # embed the static file instead of referencing it
) -> FT:
    """A <script> element loading byok.js (deferred), or embedding it when `inline`."""
    if inline:
        return el("script", {}, Safe(byok_js()))
    return el("script", {"src": safe_url(src, "src"), "defer": True})


def serve_byok_js(
    app: Any,  # a FastHTML / Starlette app
    path: str = BYOK_JS_URL,  # URL path to serve the script at
) -> None:
    """Add a GET route serving byok.js (text/javascript, cacheable for a day)."""
    from starlette.responses import Response
    from starlette.routing import Route

    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError("path must be an absolute URL path starting with '/'")

    async def byok_js_endpoint(request: Any) -> Response:
        return Response(
            byok_js(),
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    # first, so a catch-all static route registered earlier (fast_app's) cannot shadow it
    app.router.routes.insert(0, Route(path, byok_js_endpoint, methods=["GET"], name="byok_js"))
