"""Front-end assets: the kit's prebuilt stylesheet (`static/byok.css`), htmx (vendored,
`static/htmx.min.js`) and its one script (`static/byok.js`), all shipped inside the package.

`front_end()` (the default, `Prebuilt`) serves those three files: the page is styled at its first
paint, offline, with no npm step. byok.css is compiled by the Tailwind 4 CLI with daisyUI 5 from
exactly the classes the components (`static/byok-classes.txt`) and the gallery use, so an app that
writes Tailwind classes of its own either adds byok's class list to its own Tailwind build (see
docs/components.md) or asks for `front_end("browser")` (`InBrowser`): daisyUI's whole stylesheet
and Tailwind's in-browser compiler, from npm's node_modules or, when missing, the CDN with a
visible notice.

For a whole page: `assets = front_end()` once, `hdrs=assets.headers()` in
`fast_app(default_hdrs=False, ...)`, then `assets.serve(app)`; show `assets.notice()` somewhere
(None unless the CDN is used). Prefer serving byok.js (`serve_byok_js(app)` + `byok_script()`)
alone when the page has its own styles; `byok_script(inline=True)` embeds the same static file.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from ._html import FT, Safe, el, safe_url, void

__all__ = [
    "ASSETS_URL",
    "BYOK_CSS_PATH",
    "BYOK_FULL_CSS_PATH",
    "BYOK_JS_PATH",
    "BYOK_JS_URL",
    "CLASS_LIST_PATH",
    "FULL_NAME",
    "HTMX_NPM",
    "HTMX_PATH",
    "NODE_MODULES_ENV",
    "NPM_FILES",
    "NPM_PACKAGES",
    "STATIC_DIR",
    "CssSource",
    "DaisyUISet",
    "FrontEnd",
    "InBrowser",
    "NpmFile",
    "Prebuilt",
    "byok_js",
    "byok_script",
    "find_node_modules",
    "front_end",
    "serve_byok_js",
]

log = logging.getLogger("byok")

STATIC_DIR = Path(__file__).resolve().parent / "static"  # the files shipped with the package
BYOK_JS_PATH = STATIC_DIR / "byok.js"  # the kit's script
BYOK_CSS_PATH = STATIC_DIR / "byok.css"  # the prebuilt stylesheet (minified, light/dark themes)
BYOK_FULL_CSS_PATH = STATIC_DIR / "byok-full.css"  # the same + every daisyUI component and theme
HTMX_PATH = STATIC_DIR / "htmx.min.js"  # htmx 2.0.7, vendored (licence: THIRD-PARTY-LICENSES.txt)
CLASS_LIST_PATH = STATIC_DIR / "byok-classes.txt"  # every class the components use, one a line
BYOK_JS_URL = "/byok/byok.js"  # where serve_byok_js() serves it by default
ASSETS_URL = "/byok/"  # where FrontEnd.serve() serves its files by default (byok.js included)
NODE_MODULES_ENV = "BYOK_NODE_MODULES"  # override: a node_modules directory to serve from
_CHECKOUT = Path(__file__).resolve().parents[2]  # a source checkout's root (package.json)

CssSource = Literal["prebuilt", "browser"]  # byok.css, or daisyUI + Tailwind's in-browser build
DaisyUISet = Literal["byok", "full"]  # byok's own daisyUI classes, or every component and theme
FULL_NAME = "byok-full.css"  # the name byok-full.css is served under


@dataclass(frozen=True)
class NpmFile:
    """One file of a pinned npm package."""

    package: str  # npm package name
    version: str  # pinned version (as in package.json)
    path: str  # path inside the package

    @property
    def cdn(self) -> str:
        """The same file on jsDelivr (the fallback when node_modules is missing)."""
        return f"https://cdn.jsdelivr.net/npm/{self.package}@{self.version}/{self.path}"


# served name -> npm file: what `InBrowser` puts on a page
NPM_FILES: dict[str, NpmFile] = {
    "daisyui.css": NpmFile("daisyui", "5.8.1", "daisyui.css"),  # components + light/dark
    "themes.css": NpmFile("daisyui", "5.8.1", "themes.css"),  # every other daisyUI theme
    "tailwind.js": NpmFile("@tailwindcss/browser", "4.3.4", "dist/index.global.js"),
}
"""Served name -> the npm file behind it (package, pinned version, path in the package)."""
NPM_PACKAGES = " ".join(sorted({f"{f.package}@{f.version}" for f in NPM_FILES.values()}))
"""The `npm install` arguments for every file in `NPM_FILES`, e.g. "daisyui@5.8.1 ..."."""
HTMX_NPM = NpmFile("htmx.org", "2.0.7", "dist/htmx.min.js")  # what HTMX_PATH is a copy of


def find_node_modules(
    *roots: Path,  # more directories whose node_modules to try (after the cwd and its parents)
) -> Path | None:
    """The node_modules directory holding every file of NPM_FILES, or None.

    Looked for in $BYOK_NODE_MODULES, then the current directory and its parents, then `roots`,
    then this checkout's root."""
    candidates: list[Path] = []
    if os.environ.get(NODE_MODULES_ENV):
        candidates.append(Path(os.environ[NODE_MODULES_ENV]))
    cwd = Path.cwd().resolve()
    candidates += [d / "node_modules" for d in (cwd, *cwd.parents)]
    candidates += [Path(r) / "node_modules" for r in roots]
    candidates.append(_CHECKOUT / "node_modules")
    for nm in candidates:
        if all((nm / f.package / f.path).is_file() for f in NPM_FILES.values()):
            return nm
    return None


class FrontEnd:
    """Where a page's assets come from; htmx and byok.js always ship with the package.

    Subclasses say where the styles come from: `Prebuilt` (byok.css) or `InBrowser`."""

    @property
    def local(self) -> bool:
        """True when every asset is served from disk (nothing from a CDN)."""
        return True

    def files(self) -> dict[str, Path]:
        """Served name -> file on disk (what serve() whitelists)."""
        return {"htmx.js": HTMX_PATH, "byok.js": BYOK_JS_PATH}

    def url(
        self,
        name: str,  # a served name (a key of files())
        prefix: str = ASSETS_URL,  # URL prefix of the locally served files
    ) -> str:
        """The file's URL under `prefix`."""
        return prefix + name

    def meta(self) -> list[FT]:
        """charset and viewport (what fast_app's default headers would have added)."""
        return [
            void("meta", {"charset": "utf-8"}),
            void("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}),
        ]

    def styles(
        self,
        prefix: str = ASSETS_URL,  # URL prefix of the locally served files
    ) -> list[FT]:
        """The stylesheet links (none in the base class)."""
        return []

    def scripts(
        self,
        prefix: str = ASSETS_URL,  # URL prefix of the locally served files
    ) -> list[FT]:
        """htmx, then byok.js: both deferred (run in this order once the page is parsed, so
        they never hold up the first paint)."""
        return [
            el("script", {"src": self.url("htmx.js", prefix), "defer": True}),
            byok_script(self.url("byok.js", prefix)),
        ]

    def headers(
        self,
        prefix: str = ASSETS_URL,  # URL prefix of the locally served files
    ) -> list[FT]:
        """Every `<head>` element the components need: `fast_app(default_hdrs=False, hdrs=...)`."""
        return [*self.meta(), *self.styles(prefix), *self.scripts(prefix)]

    def notice(self) -> FT | None:
        """A visible warning when something loads from a CDN (None otherwise)."""
        return None

    def serve(
        self,
        app: Any,  # a FastHTML / Starlette app
        prefix: str = ASSETS_URL,  # URL prefix to serve files() under
    ) -> None:
        """Add a GET route serving files() (a whitelist: nothing else is reachable)."""
        from .serving import add_route

        add_route(app, prefix, self.files())


@dataclass(frozen=True)
class Prebuilt(FrontEnd):
    """byok.css (compiled, minified, shipped in the package): styled at first paint, offline."""

    stylesheet: Path = BYOK_CSS_PATH  # the compiled stylesheet to serve
    name: str = "byok.css"  # the name it is served under

    def files(self) -> dict[str, Path]:
        """The stylesheet, htmx and byok.js."""
        return {self.name: self.stylesheet, **super().files()}

    def styles(
        self,
        prefix: str = ASSETS_URL,  # URL prefix of the locally served files
    ) -> list[FT]:
        """The one stylesheet link (render-blocking: no flash of unstyled content)."""
        return [void("link", {"rel": "stylesheet", "href": self.url(self.name, prefix)})]


@dataclass(frozen=True)
class InBrowser(FrontEnd):
    """daisyUI's whole stylesheet and Tailwind's in-browser compiler, for pages that write
    Tailwind classes of their own: from node_modules, or the CDN (with a notice) when missing."""

    node_modules: Path | None  # the directory served from, None when missing (CDN)

    @property
    def local(self) -> bool:
        """True when the npm files are served from node_modules."""
        return self.node_modules is not None

    def files(self) -> dict[str, Path]:
        """htmx and byok.js, plus the npm files when node_modules was found."""
        out = super().files()
        if self.node_modules is not None:
            out |= {n: self.node_modules / f.package / f.path for n, f in NPM_FILES.items()}
        return out

    def url(
        self,
        name: str,  # a served name (a key of files() or NPM_FILES)
        prefix: str = ASSETS_URL,  # URL prefix of the locally served files
    ) -> str:
        """The file's URL: under `prefix` when served locally, else its CDN address."""
        if name in NPM_FILES and not self.local:
            return NPM_FILES[name].cdn
        return prefix + name

    def styles(
        self,
        prefix: str = ASSETS_URL,  # URL prefix of the locally served files
    ) -> list[FT]:
        """daisyUI's stylesheets (components, light/dark, then the other themes)."""
        names = ("daisyui.css", "themes.css")
        return [void("link", {"rel": "stylesheet", "href": self.url(n, prefix)}) for n in names]

    def scripts(
        self,
        prefix: str = ASSETS_URL,  # URL prefix of the locally served files
    ) -> list[FT]:
        """Tailwind's in-browser compiler, htmx and byok.js."""
        return [el("script", {"src": self.url("tailwind.js", prefix)}), *super().scripts(prefix)]

    def notice(self) -> FT | None:
        """A visible warning when the CDN is used (None when served locally)."""
        if self.local:
            return None
        from .alerts import Alert
        from .variants import AlertKind

        return Alert(
            "daisyUI and Tailwind load from the CDN (node_modules not found): without "
            f"internet the page is unstyled. For offline use run: npm install {NPM_PACKAGES}",
            AlertKind.WARNING,
            title="Front-end assets from the CDN",
            id="byok-asset-notice",
        )


@cache
def front_end(
    css: CssSource = "prebuilt",  # "browser": daisyUI + Tailwind compiled in the page instead
    *,
    daisyui: DaisyUISet = "byok",  # "full": every daisyUI component and theme (byok-full.css)
) -> FrontEnd:
    """This process's assets: byok.css by default (`daisyui="full"`: byok-full.css); "browser"
    looks node_modules up once (and logs a warning when the CDN is used)."""
    if daisyui not in ("byok", "full"):
        raise ValueError(f"daisyui must be 'byok' or 'full', not {daisyui!r}")
    if css == "prebuilt":
        return Prebuilt(BYOK_FULL_CSS_PATH, FULL_NAME) if daisyui == "full" else Prebuilt()
    if css != "browser":
        raise ValueError(f"css must be 'prebuilt' or 'browser', not {css!r}")
    found = InBrowser(find_node_modules())  # daisyUI's whole stylesheet: "full" already
    if not found.local:
        log.warning(
            "byok: node_modules with %s not found: pages load them from the CDN", NPM_PACKAGES
        )
    return found


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
    """A `<script>` element loading byok.js (deferred), or embedding it when `inline`."""
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
