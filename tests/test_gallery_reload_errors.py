"""`gallery --reload`'s error box: the developer's file, line and message come first, and the
import system's frames are left out."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from gallery.live.reload import reload_error


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An importable package `devstories` in tmp_path (forgotten again afterwards)."""
    (tmp_path / "devstories").mkdir()
    (tmp_path / "devstories" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path / "devstories"
    for name in [m for m in sys.modules if m.startswith("devstories")]:
        del sys.modules[name]


def _raised(module: str) -> BaseException:
    with pytest.raises(Exception) as caught:
        importlib.import_module(module)
    return caught.value


def test_a_syntax_error_names_the_file_and_line_first(package: Path) -> None:
    (package / "broken.py").write_text("OK = 1\nSTORIES = [  # never closed\n")
    text = reload_error(_raised("devstories.broken"), (package,))
    first = text.splitlines()[0]
    assert first.startswith(f"{package / 'broken.py'}, line 2: SyntaxError:"), first
    assert "STORIES = [" in text  # the broken line itself, with its caret
    assert "/importlib/" not in text and "<frozen" not in text


def test_an_error_raised_deep_names_the_developers_own_frame(package: Path) -> None:
    (package / "helpers.py").write_text("def build():\n    raise ValueError('no price')\n")
    (package / "stories.py").write_text("from devstories.helpers import build\n\nbuild()\n")
    text = reload_error(_raised("devstories.stories"), (package,))
    assert text.splitlines()[0] == f"{package / 'helpers.py'}, line 2: ValueError: no price"
    assert "/importlib/" not in text and "<frozen" not in text
    assert f'"{package / "stories.py"}", line 3' in text  # the path that led there follows


def test_the_registrys_wrapper_is_looked_through(package: Path) -> None:
    from gallery.model.registry import StoriesError, _import

    (package / "broken.py").write_text("STORIES = (\n")
    with pytest.raises(StoriesError) as caught:
        _import("devstories.broken", "story module")
    text = reload_error(caught.value, (package,))
    assert text.startswith(f"{package / 'broken.py'}, line 1: SyntaxError:"), text
