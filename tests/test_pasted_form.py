"""The Code tab's `KeyInputForm(provider="openai")` pasted into an app's own page, over HTTP: the
page carries no CSRF token and no ToastContainer, yet the form saves (the browser's same-origin
headers are the proof), stays in place with its message, and sends the provider's card out of
band. Errors: a 422 aimed at the form's own slot; the others marked for byok.js, which shows them
beside the form when the page has no ToastContainer (tests/browser/test_pasted_form.py)."""

from __future__ import annotations

from typing import Any

import pytest
from fasthtml.common import Main, Title

from byok.components import (
    PROBLEM_HEADER,
    TARGETS_HEADER,
    TOAST_CONTAINER_ID,
    KeyInputForm,
    form_validation_id,
    validation_id,
)
from tests.support.routes import OPENAI_KEY, ORIGIN, PREFIX, Page, make_app, soup

pytestmark = pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP")

SLOT = form_validation_id("openai")  # the pasted form's own message slot


@pytest.fixture
def tab() -> Page:
    """A browser tab on an app whose page at / is only the pasted snippet."""
    app, _, _ = make_app()

    @app.get("/")
    def index() -> Any:
        return Title("My app"), Main(KeyInputForm(provider="openai"))

    return Page(app)


def from_the_form(**extra: str) -> dict[str, str]:
    """What Chromium and htmx send for the pasted form's save (no token: the page has none)."""
    return {
        "HX-Request": "true",
        "HX-Target": SLOT,
        "Sec-Fetch-Site": "same-origin",
        "Origin": ORIGIN,
        **extra,
    }


def test_the_pasted_page_has_no_token_and_no_toast_container(tab: Page) -> None:
    page = tab.client.get("/")
    assert page.status_code == 200
    form = soup(page).select_one("form#byok-form-openai")
    assert form["hx-target"] == f"#{SLOT}" and form.find(id=SLOT) is not None
    assert "X-CSRF-Token" not in page.text and TOAST_CONTAINER_ID not in page.text


def test_a_pasted_form_saves_and_stays_in_place(tab: Page) -> None:
    tab.client.get("/")
    response = tab.client.post(
        f"{PREFIX}/openai", data={"api_key": OPENAI_KEY}, headers=from_the_form()
    )
    assert response.status_code == 200, response.text[:300]
    assert tab.stored() == ["openai"]
    html = soup(response)
    message = html.find(id=SLOT)
    assert message is not None and message["role"] == "status"
    assert "OpenAI key saved" in message.get_text()
    card = html.find(id="byok-card-openai")  # any card of that provider on the page follows
    assert card is not None and card["hx-swap-oob"] == "true"
    assert card["data-byok-card"] == "stored"
    assert html.find("form", id="byok-form-openai") is None  # the form itself is not replaced
    assert OPENAI_KEY not in response.text


@pytest.mark.parametrize(
    ("targets", "card", "toast"),
    [
        ("", False, False),  # the bare pasted page: only the message
        (TOAST_CONTAINER_ID, False, True),
        (f"byok-card-anthropic {TOAST_CONTAINER_ID} byok-card-openai", True, True),
        (None, True, True),  # no byok.js to say: every part, as before
    ],
    ids=["bare-page", "toasts-only", "card-and-toasts", "not-said"],
)
def test_out_of_band_parts_only_where_the_page_has_a_place(
    tab: Page, targets: str | None, card: bool, toast: bool
) -> None:
    """byok.js says which out-of-band targets the page has (BYOK-Targets): the answer sends no
    part without a place to land (htmx would log an error for each)."""
    extra = {TARGETS_HEADER: targets} if targets is not None else {}
    response = tab.client.post(
        f"{PREFIX}/openai", data={"api_key": OPENAI_KEY}, headers=from_the_form(**extra)
    )
    assert response.status_code == 200
    html = soup(response)
    assert html.find(id=SLOT) is not None
    assert (html.find(id="byok-card-openai") is not None) is card
    assert (html.find(id=TOAST_CONTAINER_ID) is not None) is toast


def test_a_card_form_still_gets_its_card(tab: Page) -> None:
    response = tab.client.post(
        f"{PREFIX}/openai",
        data={"api_key": OPENAI_KEY},
        headers=from_the_form(**{"HX-Target": "byok-card-openai"}),
    )
    assert response.status_code == 200
    card = soup(response).find(id="byok-card-openai")
    assert card is not None and not card.has_attr("hx-swap-oob")
    assert soup(response).find(id=SLOT) is None


def test_an_invalid_key_answers_into_the_pasted_forms_slot(tab: Page) -> None:
    response = tab.client.post(
        f"{PREFIX}/openai", data={"api_key": "not a key"}, headers=from_the_form()
    )
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == f"#{SLOT}"
    assert response.headers[PROBLEM_HEADER] == "invalid"
    message = soup(response).find(id=SLOT)
    assert message is not None and message["role"] == "alert"
    card_slot = tab.client.post(  # the card's own form: the card's slot, as before
        f"{PREFIX}/openai",
        data={"api_key": "not a key"},
        headers=from_the_form(**{"HX-Target": "byok-card-openai"}),
    )
    assert card_slot.headers["HX-Retarget"] == f"#{validation_id('openai')}"
    assert tab.stored() == []


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 403, "csrf"),
        ({"Sec-Fetch-Site": "none", "Origin": ORIGIN}, 403, "csrf_token"),  # no proof, no token
    ],
    ids=["cross-site", "no-proof"],
)
def test_refusals_are_marked_for_byok_js(
    tab: Page, headers: dict[str, str], status: int, code: str
) -> None:
    """Still refused (CSRF as strong as before), and marked so byok.js shows the answer: in the
    ToastContainer, or beside the form on a page without one."""
    response = tab.client.post(
        f"{PREFIX}/openai", data={"api_key": OPENAI_KEY}, headers=from_the_form(**headers)
    )
    assert response.status_code == status
    assert response.headers[PROBLEM_HEADER] == code
    assert response.headers["HX-Retarget"] == f"#{TOAST_CONTAINER_ID}"
    assert soup(response).select_one("[role='alert']") is not None
    assert tab.stored() == []
