"""Build byok.css, the prebuilt stylesheet shipped in `byok/components/static/`:
`uv run python -m gallery.stylesheet` rebuilds it, `--check` only says whether it is stale.

The class lists come from what really renders: every class string of the components
(`byok.components.classes.CLASSES`) goes to `byok-classes.txt` (the list an app adds to its own
Tailwind build); every other class the gallery's pages use (each page of the live app and of the
static export, plus the classes gallery.js toggles) goes to `gallery/static/gallery-classes.txt`.
The pinned Tailwind 4 CLI (`@tailwindcss/cli`, from `npm ci`) compiles both lists with the
daisyUI 5 plugin and the gallery's themes, minified. The output is deterministic, so a test
rebuilds it into a temporary folder and compares the bytes with the committed files.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from byok.components.assets import BYOK_CSS_PATH, CLASS_LIST_PATH

__all__ = [
    "CLI_VERSION",
    "DAISYUI_VERSION",
    "GALLERY_CLASS_LIST",
    "Build",
    "build",
    "component_classes",
    "gallery_classes",
    "stale",
    "tailwind_input",
]

CLI_VERSION = "4.3.5"  # @tailwindcss/cli (package.json); its native engine is an npm package too
DAISYUI_VERSION = "5.8.1"  # daisyui (package.json)
ROOT = Path(__file__).resolve().parent.parent  # the checkout (package.json, node_modules)
GALLERY_CLASS_LIST = Path(__file__).resolve().parent / "static" / "gallery-classes.txt"

_CLASS_ATTR = re.compile(r'\bclass="([^"]*)"')
_JS_CLASS = re.compile(r'classList\.(?:add|remove|toggle)\(\s*"([^"]+)"|className = "([^"]+)"')


def _tokens(html: str) -> set[str]:
    """Every class named in an HTML text's class attributes."""
    return {c for m in _CLASS_ATTR.finditer(html) for c in m.group(1).split()}


def component_classes() -> list[str]:
    """Every class the components can render, sorted (from the recipe table)."""
    from byok.components.classes import CLASSES

    return sorted({c for value in CLASSES.values() for c in value.split()})


def _gallery_pages() -> Iterable[str]:
    """The HTML of every page of the live gallery and of its static export."""
    from starlette.testclient import TestClient

    from byok.components.assets import Prebuilt

    from .app import create_app
    from .assets import Assets
    from .export import export
    from .registry import registry

    with tempfile.TemporaryDirectory(prefix="byok-css-") as tmp:
        app = create_app(db_url=f"sqlite:///{tmp}/playground.db", secret_key="css-build-" * 4)
        reg = registry()
        urls = ["/", "/playground", "/no-such-page"]
        urls += [f"/story/{s.slug}" for s in reg]
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
    """Every class the gallery's pages and gallery.js use that the components do not, sorted."""
    from .assets import GALLERY_FILES

    found: set[str] = set()
    for html in _gallery_pages():
        found |= _tokens(html)
    script = GALLERY_FILES["gallery.js"].read_text(encoding="utf-8")
    found |= {c for m in _JS_CLASS.finditer(script) for c in " ".join(m.groups("")).split()}
    return sorted(found - set(component_classes()))


def tailwind_input(
    byok_list: Path,  # the components' class list
    gallery_list: Path,  # the gallery's class list
) -> str:
    """The Tailwind 4 input: no automatic source detection, the two lists, daisyUI's themes."""
    from .app import THEMES

    themes = [
        "light --default",
        "dark --prefersdark",
        *[t for t in THEMES if t not in ("light", "dark")],
    ]
    return (
        '@import "tailwindcss" source(none);\n'
        f"@source {json.dumps(str(byok_list))};\n"
        f"@source {json.dumps(str(gallery_list))};\n"
        f'@plugin "daisyui" {{ themes: {", ".join(themes)}; logs: false; }}\n'
    )


def _cli() -> Path:
    """The pinned Tailwind CLI in node_modules (refuses any other version)."""
    nm = ROOT / "node_modules"
    for package, version in (("@tailwindcss/cli", CLI_VERSION), ("daisyui", DAISYUI_VERSION)):
        manifest = nm / package / "package.json"
        if not manifest.is_file():
            raise FileNotFoundError(f"{package} missing from {nm}: run `npm ci` in {ROOT}")
        found = json.loads(manifest.read_text())["version"]
        if found != version:
            raise RuntimeError(f"{package} is {found}, byok.css is built with {version}: `npm ci`")
    return nm / ".bin" / "tailwindcss"


@dataclass(frozen=True)
class Build:
    """Where one build wrote its three files."""

    css: Path  # the compiled stylesheet
    byok_list: Path  # the components' class list
    gallery_list: Path  # the gallery's class list


def _write_list(path: Path, classes: Sequence[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{c}\n" for c in classes), encoding="utf-8")


def build(
    out: Path | None = None,  # a folder for all three files (None: the committed locations)
) -> Build:
    """Regenerate the class lists and compile byok.css with the pinned CLI."""
    cli = _cli()
    if out is None:
        target = Build(BYOK_CSS_PATH, CLASS_LIST_PATH, GALLERY_CLASS_LIST)
    else:
        names = ("byok.css", "byok-classes.txt", "gallery-classes.txt")
        target = Build(*(Path(out) / n for n in names))
    _write_list(target.byok_list, component_classes())
    _write_list(target.gallery_list, gallery_classes())
    source = tailwind_input(target.byok_list, target.gallery_list)
    res = subprocess.run(
        [str(cli), "-i", "-", "-o", str(target.css), "--minify"],
        input=source,  # from stdin, so `@import "tailwindcss"` resolves from the checkout
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if res.returncode != 0 or not target.css.is_file():
        raise RuntimeError(f"tailwindcss failed ({res.returncode}): {res.stderr.strip()[-2000:]}")
    return target


def stale() -> list[str]:
    """The committed files a fresh build would change (empty when byok.css is current)."""
    committed = Build(BYOK_CSS_PATH, CLASS_LIST_PATH, GALLERY_CLASS_LIST)
    with tempfile.TemporaryDirectory(prefix="byok-css-check-") as tmp:
        fresh = build(Path(tmp))
        pairs = [(committed.css, fresh.css), (committed.byok_list, fresh.byok_list)]
        pairs.append((committed.gallery_list, fresh.gallery_list))
        return [
            str(old.relative_to(ROOT) if old.is_relative_to(ROOT) else old)
            for old, new in pairs
            if not old.is_file() or old.read_bytes() != new.read_bytes()
        ]


def main(
    argv: Sequence[str] | None = None,  # command-line arguments (default: sys.argv[1:])
) -> int:
    """`python -m gallery.stylesheet [--check]`; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m gallery.stylesheet", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when byok.css is stale")
    args = parser.parse_args(argv)
    if args.check:
        changed = stale()
        for name in changed:
            print(f"stale: {name} (rebuild: uv run python -m gallery.stylesheet)")
        return 1 if changed else 0
    done = build()
    print(
        f"wrote {done.css} ({done.css.stat().st_size:,} bytes), {done.byok_list.name}, "
        f"{done.gallery_list.name}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
