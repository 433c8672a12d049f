"""Front-end assets: served locally from npm's node_modules (offline), else from the CDN with a notice.

`package.json` / `package-lock.json` pin the versions below; `npm ci` in the project root installs
them. The gallery's own small static files (gallery.js, gallery.css) live in `gallery/static/`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fastcore.xml import FT
from fasthtml.common import Link, Meta, Script

from byok.components import BYOK_JS_PATH, byok_script

__all__ = [
    "GALLERY_FILES",
    "NPM_FILES",
    "NPM_INSTALL",
    "Assets",
    "NpmFile",
    "find_node_modules",
    "locate",
]

NPM_INSTALL = "npm ci"  # the command that fetches the pinned assets (run in the project root)
NODE_MODULES_ENV = "BYOK_NODE_MODULES"  # override: a node_modules directory to serve from
PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout (package.json lives here)
STATIC_DIR = Path(__file__).resolve().parent / "static"  # gallery.js, gallery.css


@dataclass(frozen=True)
class NpmFile:
    """One file of an npm package that the gallery serves."""

    package: str  # npm package name
    version: str  # pinned version (as in package.json)
    path: str  # path inside the package

    @property
    def cdn(self) -> str:
        """The same file on jsDelivr (the fallback when node_modules is missing)."""
        return f"https://cdn.jsdelivr.net/npm/{self.package}@{self.version}/{self.path}"


# served name -> npm file; order is the order in <head>
NPM_FILES: dict[str, NpmFile] = {
    "daisyui.css": NpmFile("daisyui", "5.8.1", "daisyui.css"),  # components + light/dark
    "themes.css": NpmFile("daisyui", "5.8.1", "themes.css"),  # every other daisyUI theme
    "tailwind.js": NpmFile("@tailwindcss/browser", "4.3.4", "dist/index.global.js"),
    "htmx.js": NpmFile("htmx.org", "2.0.7", "dist/htmx.min.js"),
}
AXE = NpmFile("axe-core", "4.14.1", "axe.min.js")  # accessibility checks (browser tests only)
GALLERY_FILES = {  # served name -> file shipped with the Python packages (always local)
    "gallery.js": STATIC_DIR / "gallery.js",  # theme/viewport switchers, search, copy, tabs
    "gallery.css": STATIC_DIR / "gallery.css",  # canvas widths, code colours
    "byok.js": BYOK_JS_PATH,  # the component kit's one static script (dismiss, toggles, ...)
}

# htmx settings: never cache pages in localStorage; swap error answers too (the key routes send
# a toast or a message for them), a 422 (a validation message) without logging it as an error
HTMX_CONFIG = (
    '{"historyCacheSize":0,"refreshOnHistoryMiss":true,"responseHandling":['
    '{"code":"204","swap":false},{"code":"[23]..","swap":true},'
    '{"code":"422","swap":true},{"code":"[45]..","swap":true,"error":true}]}'
)


def find_node_modules() -> Path | None:
    """The node_modules directory holding every pinned asset, or None."""
    candidates: list[Path] = []
    if os.environ.get(NODE_MODULES_ENV):
        candidates.append(Path(os.environ[NODE_MODULES_ENV]))
    cwd = Path.cwd().resolve()
    candidates += [d / "node_modules" for d in (cwd, *cwd.parents)]
    candidates.append(PROJECT_ROOT / "node_modules")
    for nm in candidates:
        if all((nm / f.package / f.path).is_file() for f in NPM_FILES.values()):
            return nm
    return None


@dataclass(frozen=True)
class Assets:
    """Where each asset comes from: local files, or the CDN when node_modules is missing."""

    node_modules: Path | None  # the directory served from, None when missing

    @property
    def local(self) -> bool:
        """True when every npm asset is served from disk."""
        return self.node_modules is not None

    def files(self) -> dict[str, Path]:
        """Served name -> file on disk, for every asset the gallery can serve itself."""
        out = dict(GALLERY_FILES)
        if self.node_modules is not None:
            out |= {n: self.node_modules / f.package / f.path for n, f in NPM_FILES.items()}
        return out

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
        """The <head> elements: meta, the gallery script and styles, Tailwind and htmx."""

        def url(name: str) -> str:
            if name in NPM_FILES and not self.local:
                return NPM_FILES[name].cdn
            return prefix + name

        return [
            Meta(charset="utf-8"),
            Meta(name="viewport", content="width=device-width, initial-scale=1"),
            Meta(name="htmx-config", content=HTMX_CONFIG),
            Link(rel="icon", href="data:,"),  # no favicon request (a 404 in the console)
            Script(src=url("gallery.js")),  # sets the remembered theme before the first paint
            Link(rel="stylesheet", href=url("daisyui.css")),
            Link(rel="stylesheet", href=url("themes.css")),
            Link(rel="stylesheet", href=url("gallery.css")),
            Script(src=url("tailwind.js")),
            Script(src=url("htmx.js")),
            byok_script(url("byok.js")),
        ]


@cache
def locate() -> Assets:
    """The assets for this process (node_modules looked up once)."""
    return Assets(find_node_modules())
