"""The static export: every story page and its canvas, every component's docs page, the index,
index.json and the assets, as plain files that any static server (or the docs site) can publish,
and that also work opened from disk (file://).

Pages are the live app's markup with relative links. Controls are shown disabled and the
playground is left out (they need the server); an interactive story's canvas carries the
answers the live gallery gave to its main actions (gallery.build.recordings) and canvas.js replays
them; any other request is stopped with a note that the live gallery is needed, instead of
swapping in a static server's error page.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from fastcore.xml import FT, to_xml
from fasthtml.common import Script

from ..app import index_json_text
from ..model.registry import Registry, registry
from ..ui.assets import Assets, locate
from ..ui.canvas import canvas_document
from ..ui.guides import find_guides, guide_page
from ..ui.pages import component_page, index_page, story_page
from ..ui.shell import document
from ..ui.site import Site
from .compose import static_iframe_page
from .recordings import ELEMENT_ID, Recording, record_all, recordings_json

__all__ = ["ExportReport", "export"]


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote."""

    root: Path  # the export folder
    pages: int  # HTML pages written
    assets: int  # asset files copied
    seconds: float  # time taken
    local_assets: bool  # False when node_modules was missing (pages use the CDN)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _with_recordings(canvas: FT | tuple, recordings: list[Recording] | None) -> FT | tuple:
    """The canvas with its recorded answers in its body (canvas.js replays them)."""
    if recordings:
        html = canvas[-1] if isinstance(canvas, tuple) else canvas  # (doctype, html)
        html.children[1](
            Script(recordings_json(recordings), type="application/json", id=ELEMENT_ID)
        )
    return canvas


def export(
    out: Path | str,  # folder to write into (created; existing files are overwritten)
    reg: Registry | None = None,  # the stories (default: the gallery's registry)
    assets: Assets | None = None,  # where assets come from (default: located once)
) -> ExportReport:
    """Write the static gallery into `out`."""
    t0 = time.perf_counter()
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    reg = reg or registry()
    assets = assets or locate()
    top = Site(static=True, root="")
    deep = top.at_depth(1)
    pages = 0
    recorded = record_all(reg)

    _write(root / "index.html", to_xml(document(top, "Components", index_page(top), assets)))
    pages += 1
    for story in reg:
        title = f"{story.component_name} · {story.name}"
        page = document(deep, title, story_page(deep, story), assets, group=story.group)
        _write(root / "story" / f"{story.slug}.html", to_xml(page))
        canvas = _with_recordings(
            canvas_document(deep, story, story.render(), assets), recorded.get(story.slug)
        )
        _write(root / "canvas" / f"{story.slug}.html", to_xml(canvas))
        pages += 2
    for slug, component, stories in reg.components():
        main = component_page(deep, stories)
        page = document(deep, component.__name__, main, assets, group=stories[0].group)
        _write(root / "component" / f"{slug}.html", to_xml(page))
        pages += 1
    for guide in find_guides():
        page = document(deep, guide.title, guide_page(deep, guide, reg), assets, group="Guides")
        _write(root / "guide" / f"{guide.slug}.html", to_xml(page))
        pages += 1
    _write(root / "index.json", index_json_text(reg))
    _write(root / "iframe.html", static_iframe_page())  # a composing Storybook's story URL

    copied = 0
    for name, path in assets.files().items():
        target = root / "assets" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copied += 1
    return ExportReport(root, pages, copied, time.perf_counter() - t0, assets.local)
