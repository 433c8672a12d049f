"""Build the stylesheets shipped in `byok/components/static/`: `python -m byok.components.stylesheet`
rebuilds them, `--check` only says whether they are stale.

- `byok-classes.txt`: every class the components render (`byok.components.classes.CLASSES`), one a
  line: the list an app adds to its own Tailwind build.
- `byok.css`: that list compiled by the pinned Tailwind 4 CLI (`@tailwindcss/cli`, from `npm ci`)
  with the daisyUI 5 plugin and its `light` (default) and `dark` (when the system prefers it)
  themes, minified.
- `byok-full.css` (`front_end(daisyui="full")`): the same plus every daisyUI component and every
  daisyUI theme, for apps that write daisyUI classes of their own with no Tailwind build.

Both are unlayered (`css_layers.unlayer`) so that byok's components keep their look on a page that
also loads FastHTML's default Pico CSS. The output is deterministic: a test rebuilds the files into
a temporary folder and compares the bytes with the committed ones. The gallery builds its own
stylesheet with `compile_css` (its pages use more classes and themes).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .assets import _CHECKOUT, BYOK_CSS_PATH, BYOK_FULL_CSS_PATH, CLASS_LIST_PATH
from .css_layers import unlayer

__all__ = [
    "CLI_VERSION",
    "DAISYUI_VERSION",
    "Built",
    "Sheet",
    "build",
    "compile_css",
    "component_classes",
    "daisyui_classes",
    "main",
    "stale",
    "tailwind_input",
    "write_list",
]

CLI_VERSION = "4.3.5"  # @tailwindcss/cli (package.json); its native engine is an npm package too
DAISYUI_VERSION = "5.8.1"  # daisyui (package.json)
_CLASS = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")  # a class selector in a stylesheet
# Pico CSS's own class names: never a scope of byok's resets (a Pico page's `.grid` keeps Pico's)
PICO_CLASSES = frozenset(
    {"container", "container-fluid", "grid", "secondary", "contrast", "outline"}
)
BASE_THEMES = ("light --default", "dark --prefersdark")  # byok.css's daisyUI themes


@dataclass(frozen=True)
class Sheet:
    """What one stylesheet is compiled from."""

    sources: tuple[Path, ...]  # files Tailwind scans for class names (class lists)
    themes: tuple[str, ...] | None  # daisyUI theme options in order; None: every daisyUI theme
    every_component: bool = False  # also every daisyUI component (the classes of daisyui.css)


def component_classes() -> list[str]:
    """Every class the components can render, sorted (from the recipe table)."""
    from .classes import CLASSES

    return sorted({c for value in CLASSES.values() for c in value.split()})


def write_list(
    path: Path,  # where to write
    classes: Sequence[str],  # the class names, one a line
) -> None:
    """Write a class list (one class a line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{c}\n" for c in classes), encoding="utf-8")


def daisyui_classes(
    root: Path = _CHECKOUT,  # the checkout whose node_modules holds daisyUI
) -> list[str]:
    """Every class daisyUI's whole stylesheet (`daisyui.css`) names, sorted."""
    css = (root / "node_modules" / "daisyui" / "daisyui.css").read_text(encoding="utf-8")
    return sorted({m.replace("\\", "") for m in _CLASS.findall(css)})


def tailwind_input(
    sheet: Sheet,  # the sources and themes
    extra: Path | None = None,  # one more class list (daisyUI's classes, for `every_component`)
) -> str:
    """The Tailwind 4 input: no automatic source detection, the sheet's sources, its themes."""
    sources = [*sheet.sources, *([extra] if extra else [])]
    themes = "all" if sheet.themes is None else ", ".join(sheet.themes)
    return (
        '@import "tailwindcss" source(none);\n'
        + "".join(f"@source {json.dumps(str(s))};\n" for s in sources)
        + f'@plugin "daisyui" {{ themes: {themes}; logs: false; }}\n'
    )


def _cli(root: Path) -> Path:
    """The pinned Tailwind CLI in root's node_modules (refuses any other version)."""
    nm = root / "node_modules"
    for package, version in (("@tailwindcss/cli", CLI_VERSION), ("daisyui", DAISYUI_VERSION)):
        manifest = nm / package / "package.json"
        if not manifest.is_file():
            raise FileNotFoundError(f"{package} missing from {nm}: run `npm ci` in {root}")
        found = json.loads(manifest.read_text())["version"]
        if found != version:
            raise RuntimeError(f"{package} is {found}, byok.css is built with {version}: `npm ci`")
    return nm / ".bin" / "tailwindcss"


def compile_css(
    sheet: Sheet,  # the sources and themes
    out: Path,  # the stylesheet to write
    root: Path = _CHECKOUT,  # the checkout with node_modules (the pinned CLI and daisyUI)
    *,
    layered: bool = False,  # keep Tailwind's cascade layers (a page whose own unlayered CSS
    # must win over byok's, as the gallery's shell does; an app's page with Pico needs False)
) -> Path:
    """Compile one stylesheet with the pinned CLI, minified (unlayered unless `layered`); returns
    `out`."""
    cli = _cli(root)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="byok-css-") as tmp:
        raw, extra = Path(tmp) / "layered.css", None
        if sheet.every_component:
            extra = Path(tmp) / "daisyui-classes.txt"
            write_list(extra, daisyui_classes(root))
        res = subprocess.run(
            [str(cli), "-i", "-", "-o", str(raw), "--minify"],
            input=tailwind_input(sheet, extra),  # stdin: `@import "tailwindcss"` resolves from root
            cwd=root,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if res.returncode != 0 or not raw.is_file():
            err = res.stderr.strip()[-2000:]
            raise RuntimeError(f"tailwindcss failed ({res.returncode}): {err}")
        listed = [extra] if extra else []
        names = {c for f in (*sheet.sources, *listed) for c in f.read_text("utf-8").split()}
        scope = tuple(sorted(names - PICO_CLASSES))  # where preflight beats Pico's element rules
        css = raw.read_text(encoding="utf-8")
        css = css if layered else unlayer(css, scope=scope)
        out.write_text(css + "\n", encoding="utf-8")
    return out


@dataclass(frozen=True)
class Built:
    """Where one build wrote its files."""

    css: Path  # byok.css
    full_css: Path  # byok-full.css
    class_list: Path  # byok-classes.txt


COMMITTED = Built(BYOK_CSS_PATH, BYOK_FULL_CSS_PATH, CLASS_LIST_PATH)  # the shipped files


def build(
    out: Path | None = None,  # a folder for the three files (None: the committed locations)
    root: Path = _CHECKOUT,  # the checkout with node_modules
) -> Built:
    """Regenerate the class list and compile byok.css and byok-full.css."""
    target = COMMITTED
    if out is not None:
        target = Built(*(Path(out) / p.name for p in (BYOK_CSS_PATH, BYOK_FULL_CSS_PATH)),
                       Path(out) / CLASS_LIST_PATH.name)  # fmt: skip
    write_list(target.class_list, component_classes())
    compile_css(Sheet((target.class_list,), BASE_THEMES), target.css, root)
    compile_css(Sheet((target.class_list,), None, every_component=True), target.full_css, root)
    return target


def _name(path: Path) -> str:
    return str(path.relative_to(_CHECKOUT) if path.is_relative_to(_CHECKOUT) else path)


def stale(
    root: Path = _CHECKOUT,  # the checkout with node_modules
) -> list[str]:
    """The committed files a fresh build would change (empty when they are current)."""
    with tempfile.TemporaryDirectory(prefix="byok-css-check-") as tmp:
        fresh = build(Path(tmp), root)
        pairs = zip(
            (COMMITTED.css, COMMITTED.full_css, COMMITTED.class_list),
            (fresh.css, fresh.full_css, fresh.class_list),
            strict=True,
        )
        return [
            _name(old)
            for old, new in pairs
            if not old.is_file() or old.read_bytes() != new.read_bytes()
        ]


def main(
    argv: Sequence[str] | None = None,  # command-line arguments (default: sys.argv[1:])
) -> int:
    """`python -m byok.components.stylesheet [--check]`; returns the exit status."""
    prog = "python -m byok.components.stylesheet"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a file is stale")
    args = parser.parse_args(argv)
    if args.check:
        changed = stale()
        for name in changed:
            print(f"stale: {name} (rebuild: uv run {prog})")
        return 1 if changed else 0
    done = build()
    for path in (done.css, done.full_css, done.class_list):
        print(f"wrote {_name(path)} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
