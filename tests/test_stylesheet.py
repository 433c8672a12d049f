"""The stylesheets: byok.css and byok-full.css built by the library, the gallery's on top of them;
committed current, complete, small, shipped, and unlayered so that Pico CSS cannot restyle them.

The stale tests rebuild with the pinned Tailwind CLI and daisyUI (`npm ci`) and compare bytes;
the class-list and unlayering tests need no npm: every class a gallery page renders is in the lists
(each story's classes: tests/snapshots/test_stories.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from byok.components import css_layers, stylesheet
from byok.components.assets import (
    BYOK_CSS_PATH,
    BYOK_FULL_CSS_PATH,
    CLASS_LIST_PATH,
    NPM_FILES,
    find_node_modules,
)
from byok.components.classes import CLASSES
from gallery.build import stylesheet as gallery_stylesheet
from gallery.ui.assets import GALLERY_CSS
from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parent.parent


def listed(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def needs_cli() -> None:
    if not (ROOT / "node_modules" / ".bin" / "tailwindcss").exists():
        unavailable("node_modules/@tailwindcss/cli missing: run `npm ci`")


def test_committed_library_stylesheets_are_what_the_pinned_tools_build() -> None:
    needs_cli()
    stale = stylesheet.stale()
    assert stale == [], f"rebuild with `uv run python -m byok.components.stylesheet`: {stale}"


def test_committed_gallery_stylesheet_is_what_the_pinned_tools_build() -> None:
    needs_cli()
    stale = gallery_stylesheet.stale()
    assert stale == [], f"rebuild with `uv run python -m gallery.build.stylesheet`: {stale}"


def test_build_pins_the_tools_of_package_json_and_the_lock() -> None:
    pkg = json.loads((ROOT / "package.json").read_text())["dependencies"]
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    for name, version in (
        ("@tailwindcss/cli", stylesheet.CLI_VERSION),
        ("daisyui", stylesheet.DAISYUI_VERSION),
    ):
        assert pkg[name] == version and lock[f"node_modules/{name}"]["version"] == version
    sheet = gallery_stylesheet.gallery_sheet(Path("/a.txt"), Path("/b.txt"))
    source = stylesheet.tailwind_input(sheet)
    assert "source(none)" in source  # nothing but the two lists is scanned
    assert '@source "/a.txt";' in source and '@source "/b.txt";' in source
    assert "light --default, dark --prefersdark" in source
    for theme in ("cupcake", "corporate", "emerald", "nord", "synthwave", "dracula"):
        assert theme in source, theme
    full = stylesheet.Sheet((Path("/a.txt"),), None, every_component=True)
    assert "themes: all;" in stylesheet.tailwind_input(full, Path("/daisy.txt"))


def test_class_list_is_every_class_of_the_components_and_nothing_else() -> None:
    tokens = sorted({c for v in CLASSES.values() for c in v.split()})
    assert listed(CLASS_LIST_PATH) == tokens
    assert stylesheet.component_classes() == tokens


def test_gallery_class_list_is_current() -> None:
    assert listed(gallery_stylesheet.GALLERY_CLASS_LIST) == gallery_stylesheet.gallery_classes()
    assert not set(listed(gallery_stylesheet.GALLERY_CLASS_LIST)) & set(listed(CLASS_LIST_PATH))


def offline(css: str) -> None:
    assert "@import" not in css and not re.search(r"url\(\s*['\"]?(https?:)?//", css)


def test_byok_css_is_minified_small_and_holds_what_the_components_need() -> None:
    css = BYOK_CSS_PATH.read_text(encoding="utf-8")
    assert css.count("\n") < 10 and len(css) < 150_000  # minified; the bar is 10 % of before
    nm = find_node_modules()
    if nm is not None:  # before: daisyUI's stylesheets + Tailwind's in-browser compiler
        before = sum((nm / f.package / f.path).stat().st_size for f in NPM_FILES.values())
        assert len(css.encode()) <= 0.10 * before
    for selector in (".btn", ".alert-error", ".card-body", ".toast", ".tabs-box", ".modal-box"):
        assert selector in css, selector
    assert ".md\\:grid-cols-2" in css and "in-\\[\\.htmx-request\\]\\:inline-block" in css
    assert "[data-theme=light]" in css and "[data-theme=dark]" in css
    assert "[data-theme=dracula]" not in css and ".navbar" not in css  # the gallery's / full's
    assert "tailwindcss v4.3.5" in css  # its licence banner is kept
    offline(css)


def test_full_css_has_every_daisyui_component_and_theme() -> None:
    css = BYOK_FULL_CSS_PATH.read_text(encoding="utf-8")
    for selector in (".navbar", ".btn-secondary", ".drawer", ".steps", ".dropdown", ".hero"):
        assert re.search(re.escape(selector) + r"[{:,.\[ ]", css), selector
    for theme in ("retro", "cyberpunk", "valentine", "dracula", "nord", "sunset", "caramellatte"):
        assert f"[data-theme={theme}]" in css, theme
    assert ".w-4{" in css  # byok's own utilities too
    offline(css)


def test_gallery_css_adds_the_gallery_classes_and_themes() -> None:
    css = GALLERY_CSS.read_text(encoding="utf-8")
    for selector in (".kbd", ".tabs-lift", ".menu", ".navbar", ".btn"):
        assert selector in css, selector
    for theme in ("light", "dark", "dracula", "nord"):
        assert f"[data-theme={theme}]" in css, theme


def test_shipped_stylesheets_are_unlayered_for_the_components() -> None:
    """No component or utility rule sits in a cascade layer: an unlayered stylesheet such as
    Pico CSS would beat them all whatever their selectors. The gallery's own build keeps its
    layers: its shell's unlayered gallery.css must win over daisyUI's classes (no Pico there)."""
    for path in (BYOK_CSS_PATH, BYOK_FULL_CSS_PATH):
        css = path.read_text(encoding="utf-8")
        assert "@layer utilities" not in css and "@layer components" not in css, path
        assert "@layer properties,theme,base;" in css, path  # the page's base stays below
        assert ":not(#\\#):not(#\\#) .btn{" in css, path
    gallery = GALLERY_CSS.read_text(encoding="utf-8")
    assert "@layer utilities" in gallery and ":not(#\\#)" not in gallery


LAYERED = (
    "/*! banner */@layer theme,base,components,utilities;"
    "@layer base{*{margin:0}h1{font-size:inherit}:root{--x:1}}"
    "@layer utilities{@layer d.l1{.btn{color:red}@media (hover:hover){.btn:hover{color:blue}}}"
    "@layer d{.btn-primary{color:green}}.p-4{padding:1rem}:root:has(.modal){overflow:hidden}}"
    "@keyframes k{0%{opacity:0}}"
)


def test_unlayer_keeps_the_layer_order_as_specificity() -> None:
    css = css_layers.unlayer(LAYERED)
    boost = css_layers.BOOST
    assert css.startswith("/*! banner */@layer theme,base;@layer base{")
    # a later layer (d over d.l1, the utilities' own rules over d) gets one more id
    assert f"{boost} .btn{{color:red}}" in css
    assert f"@media (hover:hover){{{boost} .btn:hover{{color:blue}}}}" in css
    assert "revert" not in css  # no scope: nothing restored
    assert f"{boost * 2} .btn-primary{{color:green}}" in css
    assert f"{boost * 3} .p-4{{padding:1rem}}" in css
    assert f":root:has(.modal){boost * 3}{{overflow:hidden}}" in css  # boosted on the root
    assert css.endswith("@keyframes k{0%{opacity:0}}")
    assert css.index(".btn{") < css.index(".btn-primary{") < css.index(".p-4{")


def test_unlayer_restores_the_layered_values_inside_the_components() -> None:
    css = css_layers.unlayer(LAYERED, scope=("alert", "text-base-content/70"))
    scoped = f"{css_layers.BOOST} :where(.alert,.text-base-content\\/70){{"
    assert f"{scoped}{css_layers.REVERT_SELECTOR}{{all:revert-layer}}}}" in css
    assert css.index(scoped) < css.index(".btn{")  # below every component rule
    assert f"{css_layers.BOOST * 2} .btn{{color:red}}" in css  # one rank up


def test_boost_selector_handles_lists_pseudo_elements_and_escapes() -> None:
    b = css_layers.BOOST
    got = css_layers.boost_selector(".a,.b\\:c::before,:where(.x,.y) .z,html .q", 1)
    assert got == f"{b} .a,{b} .b\\:c::before,{b} :where(.x,.y) .z,html{b} .q"
    assert css_layers.boost_selector(".a", 0) == ".a"


def test_stylesheet_commands_check_and_report(monkeypatch, capsys) -> None:
    monkeypatch.setattr(stylesheet, "stale", lambda: ["byok/components/static/byok.css"])
    assert stylesheet.main(["--check"]) == 1
    assert "stale: byok/components/static/byok.css" in capsys.readouterr().out
    monkeypatch.setattr(stylesheet, "stale", lambda: [])
    assert stylesheet.main(["--check"]) == 0
    monkeypatch.setattr(gallery_stylesheet, "stale", lambda: ["gallery/static/gallery-byok.css"])
    assert gallery_stylesheet.main(["--check"]) == 1
    assert "stale: gallery/static/gallery-byok.css" in capsys.readouterr().out


def test_a_missing_or_wrong_cli_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="npm ci"):
        stylesheet.build(tmp_path / "out", root=tmp_path)
    manifest = tmp_path / "node_modules" / "@tailwindcss" / "cli" / "package.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text('{"version": "4.0.0"}')
    with pytest.raises(RuntimeError, match=r"4\.3\.5"):
        stylesheet.build(tmp_path / "out", root=tmp_path)
