"""mkdocs hook: publish the component gallery's static export beside the docs, at `gallery/`.

`gallery.build.export.export` writes every story page, every kitchen sink and the front-end assets
(byok.css, htmx, byok.js — shipped in the package, so nothing is fetched and no npm step is
needed) into a temporary folder; this hook adds those files to the site, so the docs can link to
`gallery/component/<slug>.html` and `mkdocs build --strict` checks those links like any other.
The export runs once per process (`mkdocs serve` re-exports on restart, not on every edit).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.gallery")

PREFIX = "gallery"  # where the export lands in the site
_export_dir: Path | None = None  # one export per process


def _export() -> Path:
    """Export the gallery once."""
    global _export_dir
    if _export_dir is None:
        from gallery.build.export import export

        out = Path(tempfile.mkdtemp(prefix="byok-docs-gallery-"))
        report = export(out)
        if not report.local_assets:
            log.warning("gallery export: its pages would load styles from a CDN")
        log.info(f"gallery export: {report.pages} pages in {report.seconds:.2f}s")
        _export_dir = out
    return _export_dir


def on_files(files: Files, config) -> Files:
    """Add every exported file under `gallery/`."""
    root = _export()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            uri = f"{PREFIX}/{path.relative_to(root).as_posix()}"
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


def on_shutdown() -> None:
    """Remove the temporary export."""
    global _export_dir
    if _export_dir is not None:
        shutil.rmtree(_export_dir, ignore_errors=True)
        _export_dir = None
