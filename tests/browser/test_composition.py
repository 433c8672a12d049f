"""Composition: a real Storybook 9 build (from npm, package.json's devDependencies) includes the
live gallery as a ref; its manager lists the gallery's stories and shows one in its preview.

The HTTP contract Storybook relies on (index.json's entry shape, CORS, /iframe.html) is checked
directly too, so a failure says which part broke.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from gallery.build.compose import refs_entry
from gallery.build.export import export
from gallery.ui.assets import find_node_modules
from tests.conftest import ROOT, unavailable

STORY = "alert--info-filled"  # one of byok's own stories
OTHER_ORIGIN = "http://127.0.0.1:6006"  # where a team's Storybook would be served

MAIN_JS = """export default {{
  framework: {{ name: "@storybook/html-vite", options: {{}} }},
  stories: ["../stories/*.stories.js"],
  core: {{ disableTelemetry: true, disableWhatsNewNotifications: true }},
  {refs},
}};
"""
OWN_STORY = """export default { title: "Team/Button" };
export const Primary = { render: () => "<button>team button</button>" };
"""


def test_index_entries_are_what_storybook_composition_reads(gallery_url: str) -> None:
    entries = httpx.get(gallery_url + "/index.json").json()["entries"]
    entry = entries[STORY]
    assert entry["type"] == "story" and entry["id"] == STORY
    assert entry["title"] == "Feedback/Alert" and entry["name"] == "Info, filled"
    assert entry["importPath"] == "gallery/stories/alerts.py"
    assert {"dev", "test"} <= set(entry["tags"])
    assert all(e["type"] == "story" and "_" not in e["id"] for e in entries.values())


def test_index_json_is_readable_by_a_credentialed_fetch_from_another_origin(
    gallery_url: str,
) -> None:
    res = httpx.get(gallery_url + "/index.json", headers={"Origin": OTHER_ORIGIN})
    assert res.headers["access-control-allow-origin"] == OTHER_ORIGIN  # never "*" with cookies
    assert res.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in res.headers["vary"]
    pre = httpx.options(gallery_url + "/index.json", headers={"Origin": OTHER_ORIGIN})
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == OTHER_ORIGIN


def test_iframe_html_serves_the_bare_story_without_credentialed_cors(gallery_url: str) -> None:
    for requested in (STORY, f"byok_{STORY}"):  # the manager may send the ref's prefix
        url = f"{gallery_url}/iframe.html?id={requested}&viewMode=story&refId=byok"
        res = httpx.get(url, headers={"Origin": OTHER_ORIGIN})
        assert res.status_code == 200, requested
        assert f'data-story="{STORY}"' in res.text and "compose.js" in res.text
        assert res.headers["access-control-allow-origin"] == "*"  # its CSRF token stays unread
        assert "access-control-allow-credentials" not in res.headers
    assert httpx.get(gallery_url + "/iframe.html?id=nope--nothing").status_code == 404
    assert "compose.js" not in httpx.get(f"{gallery_url}/story/{STORY}/canvas").text


def test_a_static_export_forwards_iframe_html_to_the_canvas(tmp_path: Path, page: Page) -> None:
    export(tmp_path)
    page.goto((tmp_path / "iframe.html").as_uri() + f"?id=byok_{STORY}&viewMode=story")
    expect(page.locator(f'body[data-story="{STORY}"] .alert')).to_be_visible()


@contextlib.contextmanager
def _static_server(folder: Path) -> Iterator[str]:
    """A folder served on 127.0.0.1 (a free port), for the life of the block."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def storybook_with_ref(gallery_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A static Storybook 9 build with one story of its own and the gallery as a ref."""
    modules = find_node_modules(ROOT)
    cli = modules / ".bin" / "storybook" if modules is not None else None
    if cli is None or not cli.exists() or shutil.which("node") is None:
        unavailable("Storybook is not installed (npm ci installs package.json's devDependencies)")
    project = tmp_path_factory.mktemp("storybook")
    (project / ".storybook").mkdir()
    (project / ".storybook" / "main.js").write_text(MAIN_JS.format(refs=refs_entry(gallery_url)))
    (project / "stories").mkdir()
    (project / "stories" / "own.stories.js").write_text(OWN_STORY)
    (project / "node_modules").symlink_to(modules)
    res = subprocess.run(
        [str(cli), "build", "--quiet", "-o", "out"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"STORYBOOK_DISABLE_TELEMETRY": "1", "PATH": "/usr/bin:/bin"},
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    return project / "out"


def test_storybooks_manager_lists_and_shows_the_gallery(
    storybook_with_ref: Path, page: Page
) -> None:
    with _static_server(storybook_with_ref) as base:
        page.goto(f"{base}/?path=/story/team-button--primary")
        tree = page.locator("#storybook-explorer-tree")
        expect(tree.get_by_text("byok components")).to_be_visible(timeout=60_000)
        alert = tree.get_by_text("Alert", exact=True)  # the ref's first component
        expect(alert).to_be_visible(timeout=60_000)  # its index read from the gallery
        expect(tree.get_by_text("SecurityAlert", exact=True)).to_be_visible()
        alert.click()
        tree.get_by_text("Info, filled").first.click()
        frame = page.locator('iframe[src*="refId=byok"]')
        expect(frame).to_be_visible()
        expect(page.locator("#preview-loader")).to_be_hidden()  # the manager saw the story set
        inner = page.frame_locator('iframe[src*="refId=byok"]')
        expect(inner.locator(".alert-info")).to_contain_text("Keys are encrypted")
