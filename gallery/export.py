"""The static export: every story page, every kitchen sink, the index, index.json and the assets,
as plain files that any static server (or the docs site) can publish.

Pages are the live app's markup with relative links; Controls are shown disabled (they need the
server) and the playground is left out.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from fastcore.xml import to_xml

from .app import Site, component_page, document, index_json_text, index_page, story_page
from .assets import Assets, locate
from .registry import Registry, registry

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

    _write(root / "index.html", to_xml(document(top, "Components", index_page(top), assets)))
    pages += 1
    for story in reg:
        title = f"{story.component_name} · {story.name}"
        html = to_xml(document(deep, title, story_page(deep, story), assets))
        _write(root / "story" / f"{story.slug}.html", html)
        pages += 1
    for slug, component, stories in reg.components():
        html = to_xml(document(deep, component.__name__, component_page(deep, stories), assets))
        _write(root / "component" / f"{slug}.html", html)
        pages += 1
    _write(root / "index.json", index_json_text(reg))

    copied = 0
    for name, path in assets.files().items():
        target = root / "assets" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copied += 1
    return ExportReport(root, pages, copied, time.perf_counter() - t0, assets.local)
