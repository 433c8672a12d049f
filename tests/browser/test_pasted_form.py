"""The Code tab's snippet pasted into an app's own page, in Chromium.

The app is only what a newcomer writes: `setup_byok`, `mount_key_routes`, byok's headers and a
page holding `KeyInputForm(provider="openai")` as the gallery shows it — no CSRF token on the
page, no ToastContainer. A key typed there is saved (read back through a manager on the same
database), and every error the form can meet is shown beside it.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fasthtml.common import H1, FastHTML, Main, Title, fast_app
from playwright.sync_api import Page, expect
from starlette.requests import Request

from byok.components import KeyInputForm, KeyManagerDashboard, front_end
from byok.core.storage import BYOKManager
from byok.middleware import SecurityPolicy, setup_byok
from byok.routes import mount_key_routes
from tests.conftest import unavailable
from tests.support import SECRET

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP"),
]

DB_ENV = "BYOK_PASTED_DB"  # the SQLite file the served app keeps its keys in
STRICT_ENV = "BYOK_PASTED_STRICT"  # "1": the app runs in production mode (plain HTTP refused)
USER = "alice"  # the one signed-in user of the app
OPENAI_KEY = "sk-proj-" + "Pa5tEd9k" * 5  # fits OpenAI's pattern


def user_id(req: Request) -> str:
    """The app's signed-in user (a real app reads its own login)."""
    return USER


def create_app() -> FastHTML:
    """A newcomer's app: setup_byok, the key routes, byok's headers and the pasted snippet."""
    strict = os.environ.get(STRICT_ENV) == "1"
    policy = SecurityPolicy(is_production=strict)
    before, manager = setup_byok(SECRET, db=os.environ[DB_ENV], user_id_func=user_id, policy=policy)
    assets = front_end()
    app, rt = fast_app(
        before=before, secret_key=SECRET, pico=False, default_hdrs=False, hdrs=assets.headers()
    )
    assets.serve(app)
    mount_key_routes(app, manager, user_id_func=user_id, policy=policy)

    @rt("/")
    def index() -> Any:
        return Title("My app"), Main(H1("Settings"), KeyInputForm(provider="openai"))

    @rt("/with-card")
    def with_card(req: Request) -> Any:  # the snippet beside a dashboard (a card, toasts)
        board = KeyManagerDashboard(req, ["openai", "anthropic"], manager, user_id(req))
        return Title("My app"), Main(KeyInputForm(provider="openai"), board)

    return app


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "keys.db"


def serve(live_server: Any, db_file: Path, strict: bool = False) -> str:
    """Base URL of the app served by uvicorn on 127.0.0.1."""
    if not front_end().local:
        unavailable("node_modules missing: run `npm ci`")
    env = {DB_ENV: f"sqlite:///{db_file}", STRICT_ENV: "1" if strict else "0"}
    return live_server("tests.browser.test_pasted_form:create_app", env=env, factory=True)


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("window.byokLoaded === true && !!window.htmx")


def stored_key(db_file: Path) -> str | None:
    """The user's OpenAI key as the app's manager reads it from the database."""
    return BYOKManager(SECRET, db_url=f"sqlite:///{db_file}").get_key(None, "openai", USER)


def save(form: Any, key: str) -> None:
    form.get_by_label("OpenAI API key").fill(key)
    form.get_by_role("button", name=re.compile("Save key")).click()


def test_a_pasted_form_saves_and_shows_its_errors_beside_it(
    page: Page, live_server: Any, db_file: Path
) -> None:
    base = serve(live_server, db_file)
    errors: list[str] = []  # htmx's own errors (a missing target); not the 4xx answers' notes
    page.on(
        "console",
        lambda m: m.type == "error" and "status of" not in m.text and errors.append(m.text),
    )
    open_page(page, base + "/")
    assert page.locator("#toast-container").count() == 0  # the app's page: none of the gallery's
    assert "X-CSRF-Token" not in page.content()  # nor its token
    form = page.locator("form#byok-form-openai")
    slot = form.locator("#byok-validation-openai--form")
    save(form, "not a key")  # invalid: 422, its message in the form's slot
    expect(slot).to_contain_text("printable")
    expect(form.get_by_label("OpenAI API key")).to_have_attribute("aria-invalid", "true")
    assert stored_key(db_file) is None
    save(form, OPENAI_KEY)
    expect(slot).to_contain_text("OpenAI key saved")
    expect(form).to_be_visible()  # updated in place, not swapped for a card
    expect(form.get_by_label("OpenAI API key")).to_have_value("")
    assert stored_key(db_file) == OPENAI_KEY
    assert OPENAI_KEY not in page.content()
    save(form, "sk-short")  # a second invalid key: its message beside the form again
    expect(slot).to_contain_text("does not look like an OpenAI API key")
    expect(slot).to_have_attribute("role", "alert")
    assert stored_key(db_file) == OPENAI_KEY  # nothing lost
    with sqlite3.connect(db_file) as db:  # the storage goes away: 503
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
            db.execute(f'DROP TABLE "{table}"')
    save(form, OPENAI_KEY)
    expect(slot).to_contain_text("could not be saved")
    expect(form.get_by_label("OpenAI API key")).to_have_value(OPENAI_KEY)  # kept to retry
    assert errors == []  # nothing was aimed at a target the page lacks


def test_a_refused_save_is_shown_beside_a_pasted_form(
    page: Page, live_server: Any, db_file: Path
) -> None:
    """A 403 (here: production mode over plain HTTP) aimed at the missing ToastContainer."""
    base = serve(live_server, db_file, strict=True)
    open_page(page, base + "/")
    form = page.locator("form#byok-form-openai")
    save(form, OPENAI_KEY)
    expect(form.locator("#byok-validation-openai--form [role='alert']")).to_contain_text("HTTPS")
    assert stored_key(db_file) is None


def test_a_pasted_form_updates_the_card_of_its_provider(
    page: Page, live_server: Any, db_file: Path
) -> None:
    """With a dashboard on the page too: the form stays, the card follows out of band, the
    toast goes to the ToastContainer as before."""
    base = serve(live_server, db_file)
    open_page(page, base + "/with-card")
    card = page.locator("#byok-card-openai")
    expect(card).to_have_attribute("data-byok-card", "empty")
    form = page.locator("form#byok-form-openai")
    save(form, OPENAI_KEY)
    expect(card).to_have_attribute("data-byok-card", "stored")
    expect(page.locator("#toast-container")).to_contain_text("OpenAI key saved")
    expect(form.locator("#byok-validation-openai--form")).to_contain_text("OpenAI key saved")
    expect(page.locator("#byok-card-openai")).to_have_count(1)
    assert stored_key(db_file) == OPENAI_KEY
