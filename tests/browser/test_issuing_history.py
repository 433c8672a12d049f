"""The key shown once is not kept by the browser: after creating a key, leaving the page and
going Back, the plaintext is nowhere in the DOM, nor in sessionStorage / localStorage.

Two ways a browser brings a page back: the back/forward cache (the whole page, frozen in memory:
Playwright turns it off by default, so these tests launch a Chromium with it on) and, in a
boosted htmx app, htmx's history snapshot (the body's HTML in sessionStorage, restored on Back).
The app here serves the issuing page itself (`mount_issuing_routes`) and an app page embedding
its section (`IssuingRoutes.section`), plain or boosted (`hx-boost` on the body); the last test
does the same in the gallery's playground.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fasthtml.common import H1, A, FastHTML, Main, Nav, P, Title
from playwright.sync_api import Browser, Page, expect
from starlette.requests import Request

from byok.components import front_end
from byok.issuing import KeyIssuer, KeyOwner, mount_issuing_routes
from byok.middleware import SecurityPolicy
from tests.conftest import unavailable
from tests.support import SECRET

pytestmark = pytest.mark.browser

SCOPES = {"read": "Read things"}
KEYS = "/account/api-keys"  # the issuing page
BOOST_ENV = "BYOK_TEST_BOOST"  # "1": hx-boost on every page's body
DB_ENV = "BYOK_TEST_ISSUING_DB"  # the app's SQLite URL
KEY = re.compile(r"acme_live_[0-9A-Za-z]{20,}")


def create_app() -> FastHTML:
    """The issuing page under /account/api-keys, /settings embedding it, /elsewhere; a nav."""
    boosted = os.environ.get(BOOST_ENV) == "1"
    issuer = KeyIssuer(
        os.environ[DB_ENV], signing_secret=SECRET, key_prefix="acme", environment="live"
    )
    org = issuer.get_or_create_organization("acme")[0].id
    assets = front_end()  # byok.css, htmx and byok.js, served locally

    def nav() -> Any:
        links = A("Settings", href="/settings"), " ", A("Keys", href=KEYS)
        return Nav(*links, " ", A("Elsewhere", href="/elsewhere"))

    def layout(body: Any, req: Request) -> Any:
        """The issuing page's full loads get the app's nav (its own pages carry it)."""
        return (nav(), body) if req.url.path.startswith(KEYS) else body

    app = FastHTML(
        secret_key=SECRET,
        default_hdrs=False,
        hdrs=assets.headers(),
        body_wrap=layout,
        **({"hx_boost": "true"} if boosted else {}),
    )
    assets.serve(app)
    policy = SecurityPolicy(is_production=False)
    routes = mount_issuing_routes(
        app,
        issuer,
        KEYS,
        owner=lambda req: KeyOwner(org),
        scopes=SCOPES,
        policy=policy,
        form_defaults={"scopes": ["read"]},
    )

    @app.get("/settings")
    def settings(req: Request) -> Any:
        return Title("Settings"), nav(), Main(H1("Settings"), routes.section(req, KeyOwner(org)))

    @app.get("/elsewhere")
    def elsewhere() -> Any:
        return Title("Elsewhere"), nav(), Main(H1("Elsewhere"), P("Another page."))

    return app


@pytest.fixture
def start(live_server: Any, tmp_path: Any) -> Any:
    """start(boosted) -> base URL of a fresh app."""
    if not front_end().local:
        unavailable("node_modules missing: run `npm ci`")

    def run(boosted: bool) -> str:
        env = {DB_ENV: f"sqlite:///{tmp_path / 'keys.db'}", BOOST_ENV: "1" if boosted else "0"}
        return live_server(f"{__name__}:create_app", env=env, factory=True)

    return run


@pytest.fixture
def open_page(bfcache_browser: Browser) -> Iterator[Any]:
    """open_page(url) -> a page of a fresh context (own cookies and storage), loaded."""
    contexts = []

    def run(url: str) -> Page:
        ctx = bfcache_browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto(url)
        page.wait_for_function("window.byokLoaded === true && !!window.htmx")
        return page

    yield run
    for ctx in contexts:
        ctx.close()


def create_key(page: Page) -> str:
    """Create a key with the page's form; the plaintext the reveal shows."""
    page.get_by_label("Name").fill("History key")
    page.get_by_role("button", name="Create key").click()
    field = page.locator("#byok-issued-plaintext")
    expect(field).to_be_visible()
    key = field.input_value()
    assert KEY.fullmatch(key), key
    return key


def kept_anywhere(page: Page, key: str) -> list[str]:
    """Where the page still holds the key: its HTML, a field's value, web storage."""
    found = []
    if key in page.content():
        found.append("HTML")
    values = page.evaluate("[...document.querySelectorAll('input, textarea')].map(e => e.value)")
    if key in " ".join(values):
        found.append("a field's value")
    storage = page.evaluate(
        """() => [sessionStorage, localStorage].map(s => Object.keys(s).map(k => k + '=' +
                  s.getItem(k)).join('\\n')).join('\\n')"""
    )
    if key in storage:
        found.append("web storage")
    return found


def went_back(page: Page, path: str) -> None:
    """Back to `path`, and its page has come back (the create form is there)."""
    page.go_back(wait_until="commit")  # a page from the cache fires no load
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    expect(page.get_by_role("button", name="Create key")).to_be_visible()


def test_the_browser_keeps_pages_for_back_here(open_page: Any, start: Any) -> None:
    """The control: an ordinary page does come back from the back/forward cache in this browser
    (else the tests below could not fail)."""
    base = start(boosted=False)
    page = open_page(f"{base}/elsewhere")
    page.evaluate("window.marker = 'still here'")
    page.goto(f"{base}/settings")
    page.go_back(wait_until="commit")  # a page from the cache fires no load
    expect(page).to_have_url(f"{base}/elsewhere")
    assert page.evaluate("window.marker") == "still here"


@pytest.mark.parametrize("path", [KEYS, "/settings"])
def test_back_after_creating_a_key_does_not_show_it(open_page: Any, start: Any, path: str) -> None:
    base = start(boosted=False)
    page = open_page(base + path)
    key = create_key(page)
    page.get_by_role("link", name="Elsewhere").click()
    expect(page).to_have_url(f"{base}/elsewhere")
    went_back(page, path)
    assert kept_anywhere(page, key) == []


@pytest.mark.parametrize("path", [KEYS, "/settings"])
def test_back_in_a_boosted_app_does_not_restore_the_key(
    open_page: Any, start: Any, path: str
) -> None:
    base = start(boosted=True)
    page = open_page(base + path)
    key = create_key(page)
    page.get_by_role("link", name="Elsewhere").click()  # htmx: a boosted request, pushState
    expect(page.get_by_role("heading", name="Elsewhere")).to_be_visible()
    expect(page).to_have_url(f"{base}/elsewhere")
    assert page.evaluate("typeof window.byokLoaded") != "undefined"  # the same document
    assert kept_anywhere(page, key) == []  # not in htmx's history cache
    went_back(page, path)  # htmx restores the page (its cache, or the server)
    assert kept_anywhere(page, key) == []
    expect(page.locator("table, [id='byok-issued-keys']").first).to_be_attached()


def test_a_boosted_link_to_the_keys_page_gets_the_page(open_page: Any, start: Any) -> None:
    """A boosted link (HX-Boosted) to the issuing page: the whole page, not only its table; the
    table's own links (hx-get, not boosted) still get the table alone."""
    base = start(boosted=True)
    page = open_page(f"{base}/elsewhere")
    page.get_by_role("link", name="Keys").click()
    expect(page).to_have_url(f"{base}{KEYS}")
    expect(page.get_by_role("button", name="Create key")).to_be_visible()
    page.get_by_role("link", name="Revoked (0)").click()
    expect(page.locator("[aria-current='page']", has_text="Revoked")).to_be_visible()
    expect(page.get_by_role("button", name="Create key")).to_have_count(1)
    expect(page).to_have_url(f"{base}{KEYS}")  # the table's links push no history


def test_back_to_the_gallery_playground_does_not_show_the_key(
    open_page: Any, gallery_url: str
) -> None:
    """The gallery (boosted, no htmx history cache): a key made in the playground, a full
    navigation elsewhere, Back: the key is gone."""
    page = open_page(f"{gallery_url}/playground")
    section = page.locator("#issue-keys")
    section.get_by_label("Name").fill("Gallery history key")
    section.get_by_role("button", name="Create key").click()
    field = section.locator("#byok-issued-plaintext")
    expect(field).to_be_visible()
    key = field.input_value()
    assert key.startswith("demo_test_")
    page.goto(f"{gallery_url}/index.json")  # a document of its own: the playground is left
    page.go_back(wait_until="commit")
    expect(page).to_have_url(f"{gallery_url}/playground")
    expect(page.locator("#issue-keys").get_by_role("button", name="Create key")).to_be_visible()
    assert kept_anywhere(page, key) == []
