"""`gallery --reload` in Chromium: editing a story file or a component shows in the open page,
a broken edit is reported on the page and the last good stories stay, without a restart."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.browser

COMPONENT = '''
from fasthtml.common import FT, Span


def Greeting(
    name: str = "world",  # who is greeted
) -> FT:
    """A greeting."""
    return Span(f"Hello, {name}!", cls="badge badge-info", id="greeting")
'''
STORY = """
from byok_gallery import Story

from ..components import Greeting

STORIES = [Story(Greeting, "Default", {{"name": "{name}"}}, description="{description}")]
"""


def write(path: Path, text: str) -> None:
    """Write a file and move its mtime forward (a watcher must see every edit)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    if path.stat().st_mtime_ns <= before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


@pytest.fixture
def reloading(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`gallery --reload --stories hello.stories` on a package in tmp_path; its base URL."""
    pkg = tmp_path / "hello"
    (pkg / "stories").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "stories" / "__init__.py").write_text("")
    write(pkg / "components.py", COMPONENT)
    write(pkg / "stories" / "main.py", STORY.format(name="Ada", description="First version."))
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    cmd = [sys.executable, "-m", "gallery", "--reload", "--port", str(port)]
    cmd += ["--stories", "hello.stories", "--db", f"sqlite:///{tmp_path / 'g.db'}"]
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a loaded machine imports slowly
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the gallery did not start"
                time.sleep(0.05)
        yield base, pkg
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_editing_a_story_or_a_component_refreshes_the_open_page(
    page: Page, reloading: tuple[str, Path]
) -> None:
    base, pkg = reloading
    page.goto(f"{base}/story/greeting--default")
    greeting = page.frame_locator("#canvas-frame").locator("#greeting")  # in the story's canvas
    expect(greeting).to_have_text("Hello, Ada!")
    expect(page.locator("#story")).to_contain_text("First version.")
    page.wait_for_timeout(200)  # the page's long-poll is open

    started = time.monotonic()
    write(pkg / "stories" / "main.py", STORY.format(name="Grace", description="Second version."))
    expect(greeting).to_have_text("Hello, Grace!", timeout=15_000)
    story_s = time.monotonic() - started
    expect(page.locator("#story")).to_contain_text("Second version.")

    started = time.monotonic()
    write(pkg / "components.py", COMPONENT.replace("Hello, ", "Welcome, "))
    expect(greeting).to_have_text("Welcome, Grace!", timeout=15_000)
    component_s = time.monotonic() - started
    print(f"reload seen in the page: story {story_s:.2f}s, component {component_s:.2f}s")

    write(pkg / "stories" / "main.py", "STORIES = [  # a syntax error\n")
    banner = page.locator("#gallery-reload-error")
    expect(banner).to_contain_text("SyntaxError", timeout=15_000)
    first = banner.inner_text().splitlines()[1]  # under "Reload failed; …": the file, first
    assert first.startswith(f"{pkg / 'stories' / 'main.py'}, line 1: SyntaxError"), first
    expect(greeting).to_have_text("Welcome, Grace!")  # last good one
    assert httpx.get(f"{base}/story/greeting--default").status_code == 200

    write(pkg / "stories" / "main.py", STORY.format(name="Linus", description="Fixed."))
    expect(greeting).to_have_text("Welcome, Linus!", timeout=15_000)
    expect(banner).to_have_count(0)


def test_without_reload_pages_carry_no_reload_marker(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from gallery.app import create_app

    app = create_app(db_url=f"sqlite:///{tmp_path / 'g.db'}", secret_key="r" * 32)
    client = TestClient(app)
    assert 'name="gallery-reload"' not in client.get("/").text
    assert client.get("/__reload").status_code == 404
