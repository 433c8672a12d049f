"""examples/app.py: the whole flow (guarded route → dashboard → save → use → test → delete),
in-process and under uvicorn, and its promise to stay under 40 lines."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from bs4 import BeautifulSoup
from starlette.testclient import TestClient

from byok.core.security import mask_key
from tests.support import SECRET
from tests.support.routes import OPENAI_KEY

pytestmark = pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP")

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "app.py"


def load_example(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh import of examples/app.py (its own manager and app)."""
    monkeypatch.setenv("APP_SECRET", SECRET)
    spec = importlib.util.spec_from_file_location("byok_example_app", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _token(html: str) -> str:
    node = BeautifulSoup(html, "html.parser").find(attrs={"hx-headers": True})
    found = re.search(r'"X-CSRF-Token":\s*"([^"]+)"', node["hx-headers"])
    assert found
    return found.group(1)


def test_example_is_under_40_lines() -> None:
    assert len(EXAMPLE.read_text().splitlines()) < 40


def test_example_whole_flow(monkeypatch) -> None:
    example = load_example(monkeypatch)
    client = TestClient(example.app, follow_redirects=False)

    first = client.get("/chat")
    assert first.status_code == 303 and first.headers["location"] == "/api/keys?next=/chat"
    dashboard = client.get(first.headers["location"])
    assert dashboard.status_code == 200 and "Continue" in dashboard.text
    headers = {
        "HX-Request": "true",
        "Origin": "http://testserver",
        "X-CSRF-Token": _token(dashboard.text),
    }

    bad = client.post("/api/keys/openai", data={"api_key": "not a key"}, headers=headers)
    assert bad.status_code == 422 and client.get("/chat").status_code == 303

    saved = client.post("/api/keys/openai", data={"api_key": OPENAI_KEY}, headers=headers)
    assert saved.status_code == 200 and OPENAI_KEY not in saved.text
    chat = client.get("/chat")
    assert chat.status_code == 200 and "Ready to call OpenAI" in chat.text
    assert OPENAI_KEY not in chat.text and mask_key(OPENAI_KEY) in chat.text

    tested = client.post("/api/keys/openai/test", headers=headers)
    assert tested.status_code == 200 and "Key works" in tested.text

    deleted = client.delete("/api/keys/openai", headers=headers)
    assert deleted.status_code == 200
    assert client.get("/chat").status_code == 303

    forged = client.post(
        "/api/keys/openai",
        data={"api_key": OPENAI_KEY},
        headers={"Origin": "https://evil.example", "X-CSRF-Token": headers["X-CSRF-Token"]},
    )
    assert forged.status_code == 403 and client.get("/chat").status_code == 303


def test_example_serves_under_uvicorn(live_server) -> None:
    base = live_server("examples.app:app", env={"APP_SECRET": SECRET})
    with httpx.Client(base_url=base, follow_redirects=False) as client:
        assert client.get("/").status_code == 200
        chat = client.get("/chat")
        assert chat.status_code == 303 and chat.headers["location"] == "/api/keys?next=/chat"
        dashboard = client.get("/api/keys")
        assert dashboard.status_code == 200 and 'id="byok-dashboard"' in dashboard.text
        assert client.get("/byok/byok.js").status_code == 200
        headers = {"HX-Request": "true", "Origin": base, "X-CSRF-Token": _token(dashboard.text)}
        saved = client.post("/api/keys/openai", data={"api_key": OPENAI_KEY}, headers=headers)
        assert saved.status_code == 200
        assert "Ready to call OpenAI" in client.get("/chat").text


def head_urls(html: str) -> list[str]:
    """Scripts and stylesheets the page loads (not its canonical link)."""
    head = BeautifulSoup(html, "html.parser").head
    scripts = [t["src"] for t in head.find_all("script", src=True)]
    return [t["href"] for t in head.find_all("link", rel="stylesheet")] + scripts


def test_example_serves_the_prebuilt_front_end_from_the_package(monkeypatch) -> None:
    import byok.components.assets as assets

    monkeypatch.setattr(assets, "find_node_modules", lambda *roots: None)  # no `npm ci` needed
    example = load_example(monkeypatch)
    assert example.assets.local
    client = TestClient(example.app)
    for page in ("/", "/api/keys"):
        html = client.get(page).text
        urls = head_urls(html)
        assert urls == ["/byok/byok.css", "/byok/htmx.js", "/byok/byok.js"]
        assert 'id="byok-asset-notice"' not in html  # nothing from a CDN: works offline
        for url in urls:
            assert client.get(url).status_code == 200, url


def test_example_is_styled_offline_in_a_browser(page, live_server) -> None:
    """Chromium loads every asset from the app itself, and daisyUI + Tailwind apply."""
    base = live_server("examples.app:app", env={"APP_SECRET": SECRET})
    foreign: list[str] = []
    page.on("request", lambda r: r.url.startswith(base) or foreign.append(r.url))
    page.goto(f"{base}/api/keys")
    page.wait_for_function("window.byokLoaded === true && !!window.htmx")
    card = page.locator("#byok-card-openai")
    page.wait_for_function(  # bg-base-100: a Tailwind utility on a daisyUI theme colour
        "getComputedStyle(document.querySelector('#byok-card-openai')).backgroundColor"
        " !== 'rgba(0, 0, 0, 0)'"
    )
    radius = card.evaluate("el => getComputedStyle(el).borderTopLeftRadius")
    assert radius not in ("", "0px")  # daisyUI's .card
    assert foreign == []
