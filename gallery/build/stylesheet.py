"""Build the gallery's stylesheet, on top of byok's: `uv run python -m gallery.build.stylesheet`
rebuilds it, `--check` only says whether it is stale.

byok's own stylesheet (`byok/components/static/byok.css`) is built by the library
(`python -m byok.components.stylesheet`) from the components' class list. The gallery's pages use
more: every class they render that the components do not (each page of the live app and of the
static export, every story's canvas, the classes gallery.js and canvas.js set) goes to
`gallery/static/gallery-classes.txt`, and `gallery/static/gallery-byok.css` is compiled by the
library's `compile_css` from both lists with the gallery's themes (served to the gallery's pages
as byok.css). The output is deterministic, so a test rebuilds it into a temporary folder and
compares the bytes with the committed files.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from byok.components.assets import CLASS_LIST_PATH
from byok.components.stylesheet import Sheet, compile_css, component_classes, write_list

from ..ui.assets import GALLERY_CSS

__all__ = [
    "GALLERY_CLASS_LIST",
    "GALLERY_CSS",
    "Build",
    "build",
    "gallery_classes",
    "gallery_sheet",
    "script_classes",
    "stale",
]

ROOT = Path(__file__).resolve().parents[2]  # the checkout (package.json, node_modules)
GALLERY_CLASS_LIST = Path(__file__).resolve().parents[1] / "static" / "gallery-classes.txt"

_CLASS_ATTR = re.compile(r'\bclass="([^"]*)"')
# where the gallery's scripts name classes: classList.add("x"), el.className = "x y" + (...),
# make("li", "x y " + (ok ? "a" : "b"), text) -- every string literal of that expression counts
_JS_CLASS = re.compile(r'classList\.(?:add|remove|toggle)\(|\.className = |\bmake\("[a-z0-9]+",')
_JS_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _tokens(html: str) -> set[str]:
    """Every class named in an HTML text's class attributes."""
    return {c for m in _CLASS_ATTR.finditer(html) for c in m.group(1).split()}


def _expression(text: str, start: int) -> str:
    """The JavaScript expression starting at `start`, up to its `,` `)` or `;` (depth 0)."""
    depth, i, quote = 0, start, ""
    while i < len(text):
        c = text[i]
        if quote:
            i += 2 if c == "\\" else 1
            quote = "" if c == quote else quote
            continue
        if c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}" and depth:
            depth -= 1
        elif c in ",);\n" and not depth:
            break
        i += 1
    return text[start:i]


def script_classes(
    script: str,  # a JavaScript source (gallery.js, canvas.js)
) -> set[str]:
    """Every class a script sets: the string literals of its class expressions."""
    found: set[str] = set()
    for m in _JS_CLASS.finditer(script):
        expr = _expression(script, m.end())
        for literal in _JS_STRING.finditer(expr):
            if not expr[: literal.start()].rstrip().endswith("="):  # x === "critical": a value
                found |= set(literal.group(1).split())
    return found


def _gallery_pages() -> Iterable[str]:
    """The HTML of every page of the live gallery and of its static export."""
    from starlette.testclient import TestClient

    from byok.components.assets import Prebuilt

    from ..app import create_app
    from ..model.registry import registry
    from ..ui.assets import Assets
    from .export import export

    with tempfile.TemporaryDirectory(prefix="byok-css-") as tmp:
        app = create_app(db_url=f"sqlite:///{tmp}/playground.db", secret_key="css-build-" * 4)
        reg = registry()
        urls = ["/", "/playground", "/no-such-page"]
        urls += [f"/story/{s.slug}" for s in reg]
        urls += [f"/story/{s.slug}/canvas" for s in reg]
        urls += [f"/component/{slug}" for slug in reg.by_component]
        with TestClient(app) as client:
            for url in urls:
                yield client.get(url).text
        placeholder = Path(tmp) / "byok.css"  # the export copies a stylesheet: any will do
        placeholder.write_text("")
        export(Path(tmp) / "export", assets=Assets(Prebuilt(placeholder)))
        for page in sorted((Path(tmp) / "export").rglob("*.html")):
            yield page.read_text(encoding="utf-8")


def gallery_classes() -> list[str]:
    """Every class the gallery's pages and scripts use that the components do not, sorted."""
    from ..ui.assets import GALLERY_FILES

    found: set[str] = set()
    for html in _gallery_pages():
        found |= _tokens(html)
    for name in ("gallery.js", "canvas.js"):
        found |= script_classes(GALLERY_FILES[name].read_text(encoding="utf-8"))
    return sorted(found - set(component_classes()))


def gallery_sheet(
    byok_list: Path,  # the components' class list
    gallery_list: Path,  # the gallery's class list
) -> Sheet:
    """What the gallery's stylesheet is compiled from: both lists, the gallery's themes."""
    from ..app import THEMES

    themes = [
        "light --default",
        "dark --prefersdark",
        *[t for t in THEMES if t not in ("light", "dark")],
    ]
    return Sheet((byok_list, gallery_list), tuple(themes))


@dataclass(frozen=True)
class Build:
    """Where one build wrote its files."""

    css: Path  # the gallery's compiled stylesheet
    gallery_list: Path  # the gallery's class list


def build(
    out: Path | None = None,  # a folder for both files (None: the committed locations)
) -> Build:
    """Regenerate the gallery's class list and compile its stylesheet with the pinned CLI."""
    if out is None:
        target = Build(GALLERY_CSS, GALLERY_CLASS_LIST)
    else:
        target = Build(Path(out) / GALLERY_CSS.name, Path(out) / GALLERY_CLASS_LIST.name)
    write_list(target.gallery_list, gallery_classes())
    # layered: the shell's own unlayered gallery.css must win over daisyUI's classes (no Pico here)
    compile_css(gallery_sheet(CLASS_LIST_PATH, target.gallery_list), target.css, ROOT, layered=True)
    return target


def stale() -> list[str]:
    """The committed files a fresh build would change (empty when they are current)."""
    committed = Build(GALLERY_CSS, GALLERY_CLASS_LIST)
    with tempfile.TemporaryDirectory(prefix="gallery-css-check-") as tmp:
        fresh = build(Path(tmp))
        pairs = [(committed.css, fresh.css), (committed.gallery_list, fresh.gallery_list)]
        return [
            str(old.relative_to(ROOT) if old.is_relative_to(ROOT) else old)
            for old, new in pairs
            if not old.is_file() or old.read_bytes() != new.read_bytes()
        ]


def main(
    argv: Sequence[str] | None = None,  # command-line arguments (default: sys.argv[1:])
) -> int:
    """`python -m gallery.build.stylesheet [--check]`; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m gallery.build.stylesheet", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when a file is stale")
    args = parser.parse_args(argv)
    if args.check:
        changed = stale()
        for name in changed:
            print(f"stale: {name} (rebuild: uv run python -m gallery.build.stylesheet)")
        return 1 if changed else 0
    done = build()
    print(f"wrote {done.css} ({done.css.stat().st_size:,} bytes), {done.gallery_list.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
