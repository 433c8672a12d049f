"""Browser-test fixtures: one gallery server and one browser context for the whole session.

The root conftest's `live_server` is function-scoped; visiting ~140 story pages needs one server
for the session, so this starts the gallery once, as a developer's tests would
(`byok_gallery.testing.gallery_server`: a child process on a free 127.0.0.1 port, its own SQLite
file).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserType

from gallery.play.harness import gallery_server
from tests.conftest import ROOT
from tests.fake_providers import FakeProviders, Server
from tests.support import SECRET


@pytest.fixture(scope="session")
def providers_mock() -> Iterator[FakeProviders]:
    """The local fake provider server the playground's Test button talks to."""
    with Server() as state:
        yield state


@pytest.fixture(scope="session")
def gallery_url(providers_mock: FakeProviders) -> Iterator[str]:
    """Base URL of a gallery served for the whole test session (byok_gallery.testing's
    `gallery_server`); its playground's key checks go to the local fake provider server
    (loopback allowed explicitly)."""
    env = {
        "BYOK_GALLERY_SECRET": SECRET,
        "BYOK_GALLERY_PROVIDER_URL": providers_mock.url,
        "BYOK_GALLERY_ALLOW_NETWORKS": "127.0.0.1/32",
    }
    with gallery_server(env=env) as base:
        yield base


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
