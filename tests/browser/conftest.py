"""Browser-test fixtures: one gallery server and one browser context for the whole session.

The root conftest's `live_server` is function-scoped; visiting ~140 story pages needs one server
for the session, so this starts the gallery once (same approach: uvicorn in a subprocess on a free
127.0.0.1 port, its own SQLite file and secret).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserType

from tests.conftest import ROOT, free_port
from tests.fake_providers import FakeProviders, Server
from tests.support import SECRET


@pytest.fixture(scope="session")
def providers_mock() -> Iterator[FakeProviders]:
    """The local fake provider server the playground's Test button talks to."""
    with Server() as state:
        yield state


@pytest.fixture(scope="session")
def gallery_url(
    tmp_path_factory: pytest.TempPathFactory, providers_mock: FakeProviders
) -> Iterator[str]:
    """Base URL of a gallery served by uvicorn for the whole test session; its playground's key
    checks go to the local fake provider server (loopback allowed explicitly)."""
    folder = tmp_path_factory.mktemp("gallery-server")
    log_path = folder / "server.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        "BYOK_GALLERY_DB": f"sqlite:///{folder / 'gallery.db'}",
        "BYOK_GALLERY_SECRET": SECRET,
        "BYOK_GALLERY_PROVIDER_URL": providers_mock.url,
        "BYOK_GALLERY_ALLOW_NETWORKS": "127.0.0.1/32",
    }
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "gallery.app:create_app", "--factory"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a loaded machine imports slowly
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gallery exited: {log_path.read_text()[-3000:]}")
            try:
                httpx.get(base + "/index.json", timeout=1.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"gallery did not start: {log_path.read_text()[-3000:]}"
                    ) from None
                time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)


@pytest.fixture(scope="session")
def results_dir() -> Path:
    """test-results/gallery/: screenshots land here (git-ignored)."""
    path = ROOT / "test-results" / "gallery"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def bfcache_browser(browser_type: BrowserType, browser_type_launch_args: dict) -> Iterator[Browser]:
    """Chromium with its back/forward cache on (Playwright passes --disable-back-forward-cache):
    Back shows the page as it was left, as a person's browser does."""
    browser = browser_type.launch(
        **browser_type_launch_args, ignore_default_args=["--disable-back-forward-cache"]
    )
    yield browser
    browser.close()
