"""A KeyManagerDashboard embedded in an app's own page (not the routes' dashboard page), in Chromium.

The page is the app's: its own title and layout, byok's front end (`front_end().headers()`:
daisyUI, Tailwind, htmx, byok.js from node_modules), and no `htmx-config`. What the key routes
answer must still show there: a refused write (403), a validation error (422), the new count.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from fasthtml.common import H1, FastHTML, Main, P, Title
from playwright.sync_api import Browser, Page, expect
from starlette.requests import Request

from byok.components import SUMMARY_ID, TOAST_CONTAINER_ID, KeyManagerDashboard, front_end
from byok.middleware import SecurityPolicy, csrf_token, setup_byok
from byok.routes import mount_key_routes
from tests.conftest import unavailable
from tests.support import SECRET

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP"),
]

PROVIDERS = ["openai", "anthropic", "google"]
OPENAI_KEY = "sk-proj-" + "Qw3rTy7u" * 5
STRICT_ENV = "BYOK_EMBEDDED_STRICT"  # "1": production mode, so a write over plain HTTP is refused


def create_app() -> FastHTML:
    """An app page at /settings embedding the dashboard; the key routes under /api/keys."""
    policy = SecurityPolicy(is_production=os.environ.get(STRICT_ENV) == "1")
    before, manager = setup_byok(SECRET, policy=policy)
    assets = front_end()  # daisyUI, Tailwind, htmx and byok.js from node_modules: offline
    app = FastHTML(before=before, secret_key=SECRET, default_hdrs=False, hdrs=assets.headers())
    assets.serve(app)
    mount_key_routes(app, manager, providers=PROVIDERS, policy=policy)

    @app.get("/settings")
    def settings(req: Request) -> Any:
        board = KeyManagerDashboard(req, PROVIDERS, manager, csrf_token=csrf_token(req))
        return Title("Acme settings"), Main(H1("Settings"), P("Your account."), board)

    return app


def open_settings(page: Page, live_server: Any, strict: bool = False) -> Page:
    """The app's /settings page, loaded, with htmx and byok.js running."""
    if not front_end().local:
        unavailable("node_modules missing: run `npm ci`")
    env = {STRICT_ENV: "1" if strict else "0"}
    base = live_server("tests.browser.test_embedded_dashboard:create_app", env=env, factory=True)
    page.goto(f"{base}/settings")
    page.wait_for_function("window.byokLoaded === true && !!window.htmx")
    assert page.locator("meta[name='htmx-config']").count() == 0  # nothing but byok.js helps
    return page


@pytest.fixture
def settings_page(page: Page, live_server: Any) -> Page:
    """The app's /settings page, loaded, with htmx and byok.js running."""
    return open_settings(page, live_server)


def save(page: Page, provider: str, key: str) -> None:
    card = page.locator(f"#byok-card-{provider}")
    card.locator("input[name='api_key']").fill(key)
    card.get_by_role("button", name=re.compile("Save")).click()


def test_a_refused_write_shows_a_toast_on_an_app_page(page: Page, live_server: Any) -> None:
    page = open_settings(page, live_server, strict=True)  # production over plain HTTP: 403
    save(page, "openai", OPENAI_KEY)
    toast = page.locator(f"#{TOAST_CONTAINER_ID} [role='alert']")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("HTTPS")
    expect(page.locator("#byok-card-openai")).to_have_attribute("data-byok-card", "empty")
    assert OPENAI_KEY not in page.content()


def test_a_stale_csrf_token_does_not_block_a_same_origin_save(settings_page: Page) -> None:
    """The session (and its CSRF token) expired: the browser's Sec-Fetch-Site: same-origin
    is the proof the write comes from this site, so the save goes through."""
    page = settings_page
    page.context.clear_cookies()
    save(page, "openai", OPENAI_KEY)
    expect(page.locator("#byok-card-openai")).to_have_attribute("data-byok-card", "stored")
    assert OPENAI_KEY not in page.content()


def test_validation_save_and_delete_on_an_app_page(settings_page: Page) -> None:
    page = settings_page
    summary = page.locator(f"#{SUMMARY_ID}")
    expect(summary).to_have_text("No keys stored yet: add one below.")
    save(page, "openai", "not a key")
    expect(page.locator("#byok-validation-openai")).to_contain_text("printable")
    field = page.locator("#byok-card-openai input[name='api_key']")
    expect(field).to_have_attribute("aria-invalid", "true")
    save(page, "openai", OPENAI_KEY)
    expect(page.locator("#byok-card-openai")).to_have_attribute("data-byok-card", "stored")
    expect(page.locator(f"#{TOAST_CONTAINER_ID}")).to_contain_text("OpenAI key saved")
    expect(summary).to_have_text("1 of 3 providers have a key.")  # refreshed out of band
    expect(page).to_have_title("Acme settings")  # still the app's page
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#byok-card-openai").get_by_role("button", name=re.compile("Delete")).click()
    expect(page.locator("#byok-card-openai")).to_have_attribute("data-byok-card", "empty")
    expect(summary).to_have_text("No keys stored yet: add one below.")


def test_a_typed_key_is_gone_when_back_brings_the_page(
    bfcache_browser: Browser, live_server: Any
) -> None:
    """A key typed (and shown) but not saved: leaving the page empties and hides the field, so
    the back/forward cache, which brings the page back as it was, does not bring the key."""
    if not front_end().local:
        unavailable("node_modules missing: run `npm ci`")
    base = live_server("tests.browser.test_embedded_dashboard:create_app", factory=True)
    ctx = bfcache_browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(f"{base}/settings")
        page.wait_for_function("window.byokLoaded === true && !!window.htmx")
        field = page.locator("#byok-card-openai input[name='api_key']")
        field.fill(OPENAI_KEY)
        page.locator("#byok-card-openai").get_by_role("button", name="Show key").click()
        expect(field).to_have_attribute("type", "text")
        page.evaluate("window.leftAt = 'settings'")
        page.goto(f"{base}/api/keys")
        page.go_back(wait_until="commit")  # a page from the cache fires no load
        expect(page).to_have_url(f"{base}/settings")
        assert page.evaluate("window.leftAt") == "settings"  # the same page, from the cache
        expect(field).to_have_value("")
        expect(field).to_have_attribute("type", "password")
        assert OPENAI_KEY not in page.content()
    finally:
        ctx.close()
