"""byok.css, the prebuilt stylesheet: committed current, complete, small, and shipped.

The stale test rebuilds it with the pinned Tailwind CLI and daisyUI (`npm ci`) and compares bytes;
the class-list tests need no npm: every class a gallery page renders is in the lists (each story's
classes: tests/snapshots/test_stories.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from byok.components.assets import BYOK_CSS_PATH, CLASS_LIST_PATH, NPM_FILES, find_node_modules
from byok.components.classes import CLASSES
from gallery import stylesheet
from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parent.parent


def listed(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_committed_byok_css_is_what_the_pinned_tools_build() -> None:
    if not (ROOT / "node_modules" / ".bin" / "tailwindcss").exists():
        unavailable("node_modules/@tailwindcss/cli missing: run `npm ci`")
    stale = stylesheet.stale()
    assert stale == [], f"rebuild with `uv run python -m gallery.stylesheet`: {stale}"


def test_build_pins_the_tools_of_package_json_and_the_lock() -> None:
    pkg = json.loads((ROOT / "package.json").read_text())["dependencies"]
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    for name, version in (
        ("@tailwindcss/cli", stylesheet.CLI_VERSION),
        ("daisyui", stylesheet.DAISYUI_VERSION),
    ):
        assert pkg[name] == version and lock[f"node_modules/{name}"]["version"] == version
    source = stylesheet.tailwind_input(Path("/a.txt"), Path("/b.txt"))
    assert "source(none)" in source  # nothing but the two lists is scanned
    assert '@source "/a.txt";' in source and '@source "/b.txt";' in source
    assert "light --default, dark --prefersdark" in source
    for theme in ("cupcake", "corporate", "emerald", "nord", "synthwave", "dracula"):
        assert theme in source, theme


def test_class_list_is_every_class_of_the_components_and_nothing_else() -> None:
    tokens = sorted({c for v in CLASSES.values() for c in v.split()})
    assert listed(CLASS_LIST_PATH) == tokens
    assert stylesheet.component_classes() == tokens


def test_gallery_class_list_is_current() -> None:
    assert listed(stylesheet.GALLERY_CLASS_LIST) == stylesheet.gallery_classes()
    assert not set(listed(stylesheet.GALLERY_CLASS_LIST)) & set(listed(CLASS_LIST_PATH))


def test_byok_css_is_minified_small_and_holds_what_the_pages_need() -> None:
    css = BYOK_CSS_PATH.read_text(encoding="utf-8")
    assert css.count("\n") < 10 and len(css) < 150_000  # minified; the bar is 10 % of before
    nm = find_node_modules()
    if nm is not None:  # before: daisyUI's stylesheets + Tailwind's in-browser compiler
        before = sum((nm / f.package / f.path).stat().st_size for f in NPM_FILES.values())
        assert len(css.encode()) <= 0.10 * before
    for selector in (".btn", ".alert-error", ".card-body", ".toast", ".menu", ".kbd", ".tabs-lift"):
        assert selector in css, selector
    assert ".md\\:grid-cols-2" in css and "in-\\[\\.htmx-request\\]\\:inline-block" in css
    for theme in ("light", "dark", "dracula", "nord"):
        assert f"[data-theme={theme}]" in css, theme
    assert "tailwindcss v4.3.5" in css  # its licence banner is kept
    assert "@import" not in css and not re.search(r"url\(\s*['\"]?(https?:)?//", css)  # offline


def test_stylesheet_command_checks_and_reports(monkeypatch, capsys) -> None:
    monkeypatch.setattr(stylesheet, "stale", lambda: ["byok/components/static/byok.css"])
    assert stylesheet.main(["--check"]) == 1
    assert "stale: byok/components/static/byok.css" in capsys.readouterr().out
    monkeypatch.setattr(stylesheet, "stale", lambda: [])
    assert stylesheet.main(["--check"]) == 0


def test_a_missing_or_wrong_cli_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(stylesheet, "ROOT", tmp_path)
    with pytest.raises(FileNotFoundError, match="npm ci"):
        stylesheet.build(tmp_path / "out")
    manifest = tmp_path / "node_modules" / "@tailwindcss" / "cli" / "package.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text('{"version": "4.0.0"}')
    with pytest.raises(RuntimeError, match=r"4\.3\.5"):
        stylesheet.build(tmp_path / "out")
