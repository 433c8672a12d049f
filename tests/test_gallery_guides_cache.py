"""Guides are read once per registry load: a request serves what was loaded (an edit on disk
without a reload changes nothing), the hot reload (which watches the guides) reads them again."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gallery.app import create_app
from gallery.live.reload import Reloader
from gallery.model.registry import use_stories

PACKAGE = "guidecachestories"  # a story package made for the test
STORY = """from byok.components import Alert
from gallery import Story

STORIES = [Story(Alert, "Plain", {"message": "Hello"})]
"""


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / PACKAGE
    (root / "guides").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "alerts.py").write_text(STORY)
    (root / "guides" / "01-welcome.md").write_text("# Welcome\n\nThe first text.\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield root
    use_stories()  # back to byok's own stories for the other tests
    for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
        del sys.modules[name]  # the next test's package is another folder


@pytest.fixture
def client(package: Path, tmp_path: Path) -> TestClient:
    app = create_app(
        db_url=f"sqlite:///{tmp_path / 'g.db'}", secret_key="g" * 32, stories=[PACKAGE]
    )
    return TestClient(app, base_url="http://127.0.0.1")


def test_a_guide_is_read_once_per_registry_load(package: Path, client: TestClient) -> None:
    guide = package / "guides" / "01-welcome.md"
    assert "The first text." in client.get("/guide/welcome").text
    guide.write_text("# Welcome\n\nThe second text.\n")  # changed on disk, no reload yet
    again = client.get("/guide/welcome").text
    assert "The first text." in again and "The second text." not in again
    use_stories(PACKAGE)  # a registry load (what a reload does): the guides are read again
    assert "The second text." in client.get("/guide/welcome").text


def test_the_hot_reload_watches_the_guides(package: Path, client: TestClient) -> None:
    reloader = Reloader((package,))
    assert reloader.check() is False  # nothing changed since it looked
    guide = package / "guides" / "01-welcome.md"
    guide.write_text("# Welcome back\n\nEdited.\n")
    stat = guide.stat()  # a later mtime, even on a coarse clock
    os.utime(guide, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert reloader.check() is True  # a guide's edit is a change: stories and guides reloaded
    page = client.get("/guide/welcome").text
    assert "Edited." in page and "Welcome back" in page
