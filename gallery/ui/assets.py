"""The gallery's front-end assets: byok's (`byok.components.assets`: byok.css, htmx and byok.js
shipped in the package, or daisyUI + Tailwind's in-browser build) plus the gallery's own static
files, a developer's own stylesheets (`gallery --css FILE`) and axe-core (the Accessibility
panel and the browser tests).

The gallery's pages get `static/gallery-byok.css` as their byok.css: byok's stylesheet plus every
class the gallery's pages use and its themes (`python -m gallery.build.stylesheet` rebuilds it on top of
byok's own build); the gallery's own small static files (gallery.js/.css, canvas.js/.css) live in
`static/`. `package.json` / `package-lock.json` pin the npm packages (`npm ci`), which only the
in-browser mode, axe-core, the stylesheet build and the tests need.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import NamedTuple

from fastcore.xml import FT
from fasthtml.common import Link, Meta, Script

from byok.components.assets import (
    NPM_FILES,
    CssSource,
    FrontEnd,
    NpmFile,
    Prebuilt,
    find_node_modules,
    front_end,
)

__all__ = [
    "AXE",
    "GALLERY_CSS",
    "GALLERY_FILES",
    "NPM_FILES",
    "NPM_INSTALL",
    "THEME_SCRIPT",
    "Assets",
    "NpmFile",
    "Served",
    "assets_for",
    "find_node_modules",
    "locate",
    "served",
]

NPM_INSTALL = "npm ci"  # the command that fetches the pinned npm packages (in the project root)
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"  # gallery.js/.css, canvas.js/.css
GALLERY_CSS = STATIC_DIR / "gallery-byok.css"  # byok.css + the gallery's classes and themes
_ROOT = Path(__file__).resolve().parents[2]  # a checkout's root (its node_modules)

AXE = NpmFile("axe-core", "4.14.1", "axe.min.js")  # accessibility checks (a11y panel, tests)
GALLERY_FILES = {  # served name -> file shipped with the gallery (always local)
    "gallery.js": STATIC_DIR / "gallery.js",  # navigation, search, canvas tools, panels, reload
    "gallery.css": STATIC_DIR / "gallery.css",  # stage, focus ring, code colours
    "canvas.js": STATIC_DIR / "canvas.js",  # inside the canvas: actions log, sandbox, a11y runs
    "play.js": STATIC_DIR / "play.js",  # inside the canvas: runs a story's play step by step
    "compose.js": STATIC_DIR / "compose.js",  # in another Storybook: tells its manager "shown"
    "canvas.css": STATIC_DIR / "canvas.css",  # canvas layouts, backgrounds, outline, highlight
}

# htmx settings for the gallery's own pages: never cache pages in localStorage (Back and Forward
# ask the server for the page and swap its #main in, no reload); swap the canvas's 422 (a
# component refused its arguments) and other error pages of the gallery
HTMX_CONFIG = (
    '{"historyCacheSize":0,"refreshOnHistoryMiss":false,"responseHandling":['
    '{"code":"204","swap":false},{"code":"[23]..","swap":true},'
    '{"code":"422","swap":true},{"code":"[45]..","swap":true,"error":true}]}'
)

# A static export's remembered theme (ui/prefs.py), set before the first paint by an inline script
# at the top of <head>; live, the server renders it from a cookie and no script reads storage
THEME_SCRIPT = (
    'try{var t=JSON.parse(localStorage.getItem("byok-gallery-theme"));'
    'if(typeof t==="string"&&/^[a-z][a-z0-9-]{0,31}$/.test(t))'
    'document.documentElement.setAttribute("data-theme",t)}'
    "catch(e){}"
)


def shell_loader(
    urls: list[str],  # the shell's scripts, in their order (gallery.js, htmx, byok.js)
) -> str:
    """An inline script that starts the shell's scripts once the page has loaded, the story's
    canvas with it. Deferred in <head>, their parse and start-up ran on the page's one main thread
    before the canvas's document could (bench "cold load"). Started after the load event, they
    find the page complete (htmx initialises at once); the canvas replays what it said before
    they listened (canvas.js `early`). <html data-gallery-ready> says they have run (for tests and
    tools that drive the gallery)."""
    listed = json.dumps(urls).replace("<", "\\u003c")
    return (
        f'addEventListener("load",function(){{var l={listed};l.forEach(function(u,i){{'
        'var s=document.createElement("script");s.src=u;s.async=false;if(i===l.length-1)'
        's.onload=function(){document.documentElement.setAttribute("data-gallery-ready","")};'
        "document.head.appendChild(s)})},{once:true})"
    )


@dataclass(frozen=True)
class Assets:
    """byok's front end plus the gallery's files: served under /assets/ (or copied by export)."""

    front: FrontEnd = field(
        default_factory=lambda: Prebuilt(GALLERY_CSS)
    )  # where the styles, htmx and byok.js come from
    extra_css: tuple[Path, ...] = ()  # the developer's own stylesheets, linked after byok's

    @property
    def local(self) -> bool:
        """True when nothing loads from a CDN."""
        return self.front.local

    def extra_names(self) -> dict[str, Path]:
        """Served name -> file of each extra stylesheet ("extra-1-app.css", ...)."""
        return {f"extra-{i}-{p.name}": p for i, p in enumerate(self.extra_css, 1)}

    def files(self) -> dict[str, Path]:
        """Served name -> file on disk, for every asset the gallery can serve itself."""
        axe = {AXE.path: path} if (path := self.axe()) else {}
        return {**GALLERY_FILES, **self.front.files(), **self.extra_names(), **axe}

    def axe(self) -> Path | None:
        """axe-core's script in node_modules (the Accessibility panel, the tests), or None."""
        nm = find_node_modules(_ROOT)
        path = nm / AXE.package / AXE.path if nm is not None else None
        return path if path is not None and path.is_file() else None

    def notice(self) -> FT | None:
        """byok's warning when something loads from a CDN (None otherwise)."""
        return self.front.notice()

    def headers(
        self,
        prefix: str = "/assets/",  # URL prefix of locally served files ("assets/" in an export)
        *,
        remembered_theme: bool = False,  # read the theme from localStorage (a static export)
    ) -> list[FT]:
        """The <head> elements: meta, the inline scripts, the styles, then what must run before
        the first paint (an in-browser Tailwind); gallery.js, htmx and byok.js start once the page
        has loaded (`shell_loader`).

        The inline scripts come before the stylesheets: an inline script after a stylesheet waits
        for it, and the parser with it, so the canvas's iframe was requested only once the styles
        had arrived (bench "cold load")."""
        front = self.front.scripts(prefix)
        later = [prefix + "gallery.js", *(s.attrs["src"] for s in front if s.attrs.get("defer"))]
        return [
            *self.front.meta(),
            Meta(name="htmx-config", content=HTMX_CONFIG),
            Link(rel="icon", href="data:,"),  # no favicon request (a 404 in the console)
            Script(THEME_SCRIPT) if remembered_theme else None,  # before the first paint
            Script(shell_loader(later)),
            *self.front.styles(prefix),
            Link(rel="stylesheet", href=prefix + "gallery.css"),
            *self.extra_styles(prefix),
            *(s for s in front if not s.attrs.get("defer")),
        ]

    def extra_styles(
        self,
        prefix: str = "/assets/",  # URL prefix of locally served files ("assets/" in an export)
    ) -> list[FT]:
        """The links of the developer's own stylesheets."""
        return [Link(rel="stylesheet", href=prefix + n) for n in self.extra_names()]

    def page_headers(
        self,
        prefix: str = "/assets/",  # URL prefix of locally served files ("assets/" in an export)
    ) -> list[FT]:
        """What an app's page has (the canvas): byok's front end, then the developer's styles."""
        return [*self.front.headers(prefix), *self.extra_styles(prefix)]


def assets_for(
    css: CssSource = "prebuilt",  # "browser": daisyUI + Tailwind's in-browser build (npm / CDN)
    extra_css: tuple[Path | str, ...] = (),  # the developer's own stylesheets
) -> Assets:
    """The gallery's assets for a CSS source and the developer's stylesheets."""
    missing = [str(p) for p in extra_css if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"stylesheet not found: {', '.join(missing)}")
    front = Prebuilt(GALLERY_CSS) if css == "prebuilt" else front_end(css)
    return Assets(front, tuple(Path(p).resolve() for p in extra_css))


@cache
def locate() -> Assets:
    """The default assets for this process (byok.css; `create_app(assets=...)` overrides)."""
    return Assets()


class Served(NamedTuple):
    """An asset as the gallery sends it: read once per version of the file."""

    body: bytes  # the file's bytes
    media_type: str  # its Content-Type
    etag: str  # a validator of this version (If-None-Match answers 304)


_SERVED: dict[Path, tuple[int, Served]] = {}  # path -> (mtime_ns, what was read)


def served(
    path: Path,  # an asset file (GALLERY_FILES, npm files, byok's front end)
) -> Served:
    """The file from memory, read again only when it changed on disk (bench "cold load": five
    assets answered at once by one worker, without a file read and thread hop each)."""
    mtime = path.stat().st_mtime_ns
    known = _SERVED.get(path)
    if known is not None and known[0] == mtime:
        return known[1]
    body = path.read_bytes()
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    media = (
        f"{kind}; charset=utf-8" if kind.startswith("text/") or kind.endswith("script") else kind
    )
    found = Served(body, media, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"')
    _SERVED[path] = (mtime, found)
    return found
