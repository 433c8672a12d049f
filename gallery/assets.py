"""The gallery's front-end assets: byok's (`byok.components.assets`: daisyUI, Tailwind, htmx and
byok.js, local from npm's node_modules or the CDN) plus the gallery's own static files and axe-core.

`package.json` / `package-lock.json` pin the versions; `npm ci` in the project root installs
them. The gallery's own small static files (gallery.js, gallery.css) live in `gallery/static/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastcore.xml import FT
from fasthtml.common import Link, Meta, Script

from byok.components.assets import NPM_FILES, FrontEnd, NpmFile, find_node_modules

__all__ = [
    "AXE",
    "GALLERY_FILES",
    "NPM_FILES",
    "NPM_INSTALL",
    "Assets",
    "NpmFile",
    "find_node_modules",
    "locate",
]

NPM_INSTALL = "npm ci"  # the command that fetches the pinned assets (run in the project root)
STATIC_DIR = Path(__file__).resolve().parent / "static"  # gallery.js, gallery.css

AXE = NpmFile("axe-core", "4.14.1", "axe.min.js")  # accessibility checks (a11y panel, tests)
GALLERY_FILES = {  # served name -> file shipped with the gallery (always local)
    "gallery.js": STATIC_DIR / "gallery.js",  # navigation, search, canvas tools, panels, copy
    "gallery.css": STATIC_DIR / "gallery.css",  # stage, focus ring, code colours
    "canvas.js": STATIC_DIR / "canvas.js",  # inside the canvas: actions log, sandbox, a11y runs
    "canvas.css": STATIC_DIR / "canvas.css",  # canvas layouts, backgrounds, outline, highlight
}

# htmx settings for the gallery's own pages: never cache pages in localStorage; swap the
# canvas's 422 (a component refused its arguments) and other error pages of the gallery
HTMX_CONFIG = (
    '{"historyCacheSize":0,"refreshOnHistoryMiss":true,"responseHandling":['
    '{"code":"204","swap":false},{"code":"[23]..","swap":true},'
    '{"code":"422","swap":true},{"code":"[45]..","swap":true,"error":true}]}'
)


@dataclass(frozen=True)
class Assets(FrontEnd):
    """byok's front end plus the gallery's files: served under /assets/ (or copied by export)."""

    def files(self) -> dict[str, Path]:
        """Served name -> file on disk, for every asset the gallery can serve itself."""
        axe = {AXE.path: path} if (path := self.axe()) else {}
        return {**GALLERY_FILES, **super().files(), **axe}

    def axe(self) -> Path | None:
        """axe-core's script on disk (for the accessibility tests), or None."""
        if self.node_modules is None:
            return None
        path = self.node_modules / AXE.package / AXE.path
        return path if path.is_file() else None

    def headers(
        self,
        prefix: str = "/assets/",  # URL prefix of locally served files ("assets/" in an export)
    ) -> list[FT]:
        """The <head> elements: meta, the gallery script and styles, Tailwind, htmx, byok.js."""
        return [
            *self.meta(),
            Meta(name="htmx-config", content=HTMX_CONFIG),
            Link(rel="icon", href="data:,"),  # no favicon request (a 404 in the console)
            Script(src=prefix + "gallery.js"),  # sets the remembered theme before the first paint
            *self.styles(prefix),
            Link(rel="stylesheet", href=prefix + "gallery.css"),
            *self.scripts(prefix),
        ]


@cache
def locate() -> Assets:
    """The assets for this process (node_modules looked up once)."""
    return Assets(find_node_modules(Path(__file__).resolve().parent.parent))
