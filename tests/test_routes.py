"""The key-management routes through a real FastHTML app: dashboard, save, delete, test, errors,
and hypothesis-generated bodies (never a 500, nothing stored on a 4xx).

Its helpers (`make_app`, `Page`, the test keys) live in tests/support/routes.py.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fasthtml.common import FastHTML, FileResponse, Script
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from byok.components.wiring import MULTI_VALIDATION_ID, TOAST_CONTAINER_ID
from byok.core.storage import BYOKManager
from byok.core.types import BYOKConfig, SessionFullError, StorageError
from byok.middleware.csrf import CSRF_SESSION_KEY
from byok.routes import KeyRoutes, mount_key_routes
from tests.conftest import unavailable
from tests.support import examples
from tests.support.routes import (
    ANTHROPIC_KEY,
    GOOGLE_KEY,
    KEYS,
    OPENAI_KEY,
    ORIGIN,
    PREFIX,
    PROVIDERS,
    SECRET,
    TOKEN,
    Page,
    make_app,
    soup,
)

pytestmark = pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP")


@pytest.fixture
def app_parts() -> tuple[FastHTML, BYOKManager, KeyRoutes | None]:
    return make_app()


@pytest.fixture
def tab(app_parts) -> Page:
    return Page(app_parts[0])


# --------------------------------------------------------------------------- dashboard


def test_dashboard_page_has_cards_token_toasts_and_script(tab: Page) -> None:
    tab.save("openai", OPENAI_KEY)
    response = tab.client.get(PREFIX)
    assert response.status_code == 200
    doc = soup(response)
    assert doc.find("html") is not None
    for provider in PROVIDERS:
        assert doc.find(id=f"byok-card-{provider}") is not None
    assert doc.find(id=TOAST_CONTAINER_ID) is not None
    assert doc.find("meta", attrs={"name": "htmx-config"}) is None  # byok.js shows errors
    assert doc.find("script", src="/byok/byok.js") is not None
    headers = json.loads(doc.find(attrs={"hx-headers": True})["hx-headers"])
    assert headers["X-CSRF-Token"] == tab.token()
    assert "sk-p" in response.text and OPENAI_KEY not in response.text  # masked only
    assert tab.client.get("/byok/byok.js").status_code == 200


def test_dashboard_fragment_for_htmx_and_summary_for_json(tab: Page) -> None:
    tab.save("anthropic", ANTHROPIC_KEY)
    fragment = tab.client.get(PREFIX, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert soup(fragment).find(id="byok-dashboard") is not None
    summary = tab.client.get(PREFIX, headers={"Accept": "application/json"})
    rows = {r["provider"]: r for r in summary.json()["providers"]}
    assert rows["anthropic"]["stored"] is True and rows["openai"]["stored"] is False
    assert rows["anthropic"]["expires_at"] is not None
    assert ANTHROPIC_KEY not in summary.text


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("/chat?model=x", True),
        ("//evil.example/x", False),
        ("https://evil.example/", False),
        ("javascript:alert(1)", False),
        ("/\\evil.example", False),
    ],
)
def test_dashboard_continue_link_only_for_same_origin_next(
    tab: Page, target: str, shown: bool
) -> None:
    response = tab.client.get(PREFIX, params={"next": target})
    links = [a["href"] for a in soup(response).find_all("a") if a.get_text() == "Continue"]
    assert links == ([target] if shown else [])


# --------------------------------------------------------------------------- save


def test_save_returns_card_and_oob_toast_and_stores(tab: Page) -> None:
    response = tab.save("openai", OPENAI_KEY)
    assert response.status_code == 200
    doc = soup(response)
    card = doc.find(id="byok-card-openai")
    assert card is not None and card.get("data-byok-card") == "stored"
    toast = doc.find(attrs={"hx-swap-oob": "beforeend"})
    assert toast is not None and toast["id"] == TOAST_CONTAINER_ID
    assert "saved" in toast.get_text()
    assert OPENAI_KEY not in response.text
    assert tab.stored() == ["openai"]
    again = tab.save("openai", OPENAI_KEY.replace("a", "b"))
    assert "updated" in soup(again).find(attrs={"hx-swap-oob": "beforeend"}).get_text()


def dashboard_headers(tab: Page) -> dict[str, str]:
    """The hx-headers of the dashboard fragment (what every request from its cards carries)."""
    board = soup(tab.client.get(PREFIX, headers={"HX-Request": "true"})).find(id="byok-dashboard")
    return json.loads(board["hx-headers"])


def summary_of(response: Any) -> str | None:
    """The text of the out-of-band dashboard count in an answer, or None."""
    from byok.components.wiring import SUMMARY_ID

    node = soup(response).find(id=SUMMARY_ID)
    if node is None:
        return None
    assert node["hx-swap-oob"] == "true"
    return node.get_text()


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_the_forms_put_and_patch_methods_save(tab: Page, method: str) -> None:
    """KeyInputForm / MultiProviderKeyForm(method=PUT or PATCH) save on byok's own routes."""
    one = tab.send(method, f"{PREFIX}/openai", data={"api_key": OPENAI_KEY})
    assert one.status_code == 200 and "saved" in one.text
    any_ = tab.send(method, PREFIX, data={"provider": "google", "api_key": GOOGLE_KEY})
    assert any_.status_code == 200
    assert sorted(tab.stored()) == ["google", "openai"]


def test_save_and_delete_refresh_the_dashboard_count_out_of_band(tab: Page) -> None:
    first = soup(tab.client.get(PREFIX)).find(id="byok-dashboard-summary")
    assert first.get_text() == "No keys stored yet: add one below."
    board = dashboard_headers(tab)
    assert board["BYOK-Dashboard"] == ",".join(PROVIDERS)
    saved = tab.save("openai", OPENAI_KEY, headers=board)
    assert summary_of(saved) == "1 of 3 providers have a key."
    saved = tab.save("google", GOOGLE_KEY, headers=board)
    assert summary_of(saved) == "2 of 3 providers have a key."
    subset = {"BYOK-Dashboard": "google,anthropic"}  # an app's dashboard of two providers
    assert summary_of(tab.save("anthropic", ANTHROPIC_KEY, headers=subset)) == (
        "2 of 2 providers have a key."
    )
    multi = tab.send("POST", PREFIX, data={"provider": "openai", "api_key": OPENAI_KEY})
    assert summary_of(multi) is None  # not from a dashboard: no element without a target
    deleted = tab.send("DELETE", f"{PREFIX}/openai", headers=board)
    assert summary_of(deleted) == "2 of 3 providers have a key."
    for p in ("google", "anthropic"):
        deleted = tab.send("DELETE", f"{PREFIX}/{p}", headers=board)
    assert summary_of(deleted) == "No keys stored yet: add one below."
    alone = tab.save("openai", OPENAI_KEY)  # a card or form outside a dashboard
    assert alone.status_code == 200 and summary_of(alone) is None
    junk = tab.save("openai", OPENAI_KEY, headers={"BYOK-Dashboard": ",,"})
    assert junk.status_code == 200 and summary_of(junk) is None


def test_save_page_post_redirects_and_json_answers_masked(tab: Page) -> None:
    plain = tab.save("google", GOOGLE_KEY, htmx=False)
    assert plain.status_code == 303 and plain.headers["location"] == PREFIX
    as_json = tab.save(
        "anthropic", ANTHROPIC_KEY, htmx=False, headers={"Accept": "application/json"}
    )
    body = as_json.json()
    assert body["stored"] is True and body["masked"].startswith("sk-a")
    assert ANTHROPIC_KEY not in as_json.text
    assert tab.stored() == ["anthropic", "google"]


def test_dashboard_forms_post_without_javascript(tab: Page) -> None:
    """Every card form of the dashboard page carries the session's token as a hidden field, so a
    browser without JavaScript (a plain form post: no header, no htmx) is not refused."""
    tab.save("openai", OPENAI_KEY)
    page = soup(tab.client.get(PREFIX))
    forms = page.find_all("form", attrs={"data-byok-form": True})
    assert {f["action"] for f in forms} == {f"{PREFIX}/{p}" for p in PROVIDERS}
    for form in forms:
        assert form.find("input", attrs={"name": "csrf_token"})["value"] == tab.token()
    form = next(f for f in forms if f["action"] == f"{PREFIX}/google")
    fields = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")}
    posted = tab.client.post(
        form["action"],
        data={**fields, "api_key": GOOGLE_KEY},
        headers={"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"},
    )
    assert posted.status_code == 303 and posted.headers["location"] == PREFIX
    assert tab.stored() == ["google", "openai"]


INVALID_KEYS = [
    ("", "empty"),
    ("   ", "empty"),
    ("sk-proj-abc def ghi jkl mno pqr", "printable"),
    ("sk-proj-" + "x" * 2000, "too long"),
    ("sk-proj-abc\x00defghijklmnopqrstuvwxyz", "printable"),
    ("AIzaThisIsAGoogleKeyNotAnOpenAIKey123456", "does not look like"),
    ("sk-ant-" + "a" * 30, "does not look like"),
]


@pytest.mark.parametrize(("key", "why"), INVALID_KEYS)
def test_invalid_key_is_422_with_validation_message_and_nothing_stored(
    tab: Page, key: str, why: str
) -> None:
    response = tab.save("openai", key)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#byok-validation-openai"
    assert response.headers["HX-Reswap"] == "outerHTML"
    message = soup(response).find(id="byok-validation-openai")
    assert message is not None and why in message.get_text().lower()
    if key.strip():
        assert key.strip()[:12] not in response.text  # the typed key is never echoed
    assert tab.stored() == []


def test_missing_repeated_and_url_keys_are_422(tab: Page) -> None:
    url = f"{PREFIX}/openai"
    assert tab.send("POST", url, data={}).status_code == 422
    repeated = tab.send(
        "POST",
        url,
        content=f"api_key={OPENAI_KEY}&api_key={OPENAI_KEY}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert repeated.status_code == 422
    in_url = tab.send("POST", url, params={"api_key": OPENAI_KEY}, data={"api_key": OPENAI_KEY})
    assert in_url.status_code == 422 and "URL" in in_url.text
    assert tab.stored() == []


def test_invalid_key_page_and_json_answers(tab: Page) -> None:
    as_page = tab.save("openai", "", htmx=False)
    assert as_page.status_code == 422 and soup(as_page).find(id="byok-validation-openai")
    as_json = tab.save("openai", "", htmx=False, headers={"Accept": "application/json"})
    assert as_json.status_code == 422 and as_json.json()["error"] == "invalid"


@pytest.mark.parametrize("provider", ["mistral", "OpenAI", "open%20ai", "x" * 80, "openai.css"])
def test_unknown_provider_is_404_and_nothing_stored(tab: Page, provider: str) -> None:
    response = tab.save(provider, OPENAI_KEY)
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == f"#{TOAST_CONTAINER_ID}"
    assert tab.stored() == []


def test_every_htmx_error_answer_is_marked_for_byok_js(app_parts, monkeypatch) -> None:
    """byok.js swaps an error answer only when it carries PROBLEM_HEADER (its reason code):
    every htmx error of the key routes has it, with a target that exists on a dashboard."""
    from byok.components.wiring import PROBLEM_HEADER

    app, manager, _ = app_parts
    tab = Page(app)
    stale = Page(app)  # another session: its token is not this one's
    answers = {
        "invalid": tab.save("openai", "not a key"),
        "invalid_multi": tab.send("POST", PREFIX, data={"provider": "nope", "api_key": "x"}),
        "unknown_provider": tab.save("mistral", OPENAI_KEY),
        "csrf_token": tab.client.post(
            f"{PREFIX}/openai",
            data={"api_key": OPENAI_KEY},
            headers={"HX-Request": "true", "X-CSRF-Token": stale.token()},  # no browser's word
        ),
        "csrf": tab.save(
            "openai",
            OPENAI_KEY,
            headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        ),
    }

    ok = stale.save("openai", OPENAI_KEY)
    assert ok.status_code == 200 and PROBLEM_HEADER not in ok.headers  # a success is not marked
    stale.send("DELETE", f"{PREFIX}/openai")

    def broken(*a: Any, **k: Any) -> None:
        raise StorageError("database is down")

    monkeypatch.setattr(manager, "set_key", broken)
    answers["storage"] = tab.save("openai", OPENAI_KEY)
    expected = {
        "invalid": (422, "invalid", "#byok-validation-openai"),
        "invalid_multi": (422, "invalid", None),  # the form targets its slot already
        "unknown_provider": (404, "unknown_provider", f"#{TOAST_CONTAINER_ID}"),
        "csrf_token": (403, "csrf_token", f"#{TOAST_CONTAINER_ID}"),
        "csrf": (403, "csrf", f"#{TOAST_CONTAINER_ID}"),
        "storage": (503, "storage", f"#{TOAST_CONTAINER_ID}"),
    }
    for name, (status, code, target) in expected.items():
        response = answers[name]
        assert response.status_code == status, name
        assert response.headers.get(PROBLEM_HEADER) == code, name
        assert response.headers.get("HX-Retarget") == target, name
    assert tab.stored() == []


def test_save_any_from_the_multi_provider_form(tab: Page) -> None:
    ok = tab.send("POST", PREFIX, data={"provider": "anthropic", "api_key": ANTHROPIC_KEY})
    assert ok.status_code == 200
    doc = soup(ok)
    assert doc.find(id=MULTI_VALIDATION_ID) is not None
    assert doc.find(id="byok-card-anthropic")["hx-swap-oob"] == "true"
    bad = tab.send("POST", PREFIX, data={"provider": "nope", "api_key": ANTHROPIC_KEY})
    assert bad.status_code == 422 and soup(bad).find(id=MULTI_VALIDATION_ID)
    bad_key = tab.send("POST", PREFIX, data={"provider": "openai", "api_key": ""})
    assert bad_key.status_code == 422 and "HX-Retarget" not in bad_key.headers
    assert tab.stored() == ["anthropic"]


# --------------------------------------------------------------------------- delete


def test_delete_returns_empty_card_and_toast(tab: Page) -> None:
    tab.save("openai", OPENAI_KEY)
    response = tab.send("DELETE", f"{PREFIX}/openai")
    assert response.status_code == 200
    doc = soup(response)
    assert doc.find(id="byok-card-openai")["data-byok-card"] == "empty"
    assert "removed" in doc.find(attrs={"hx-swap-oob": "beforeend"}).get_text()
    assert tab.stored() == []
    assert tab.send("DELETE", f"{PREFIX}/openai").status_code == 200  # idempotent
    as_json = tab.send(
        "DELETE", f"{PREFIX}/openai", htmx=False, headers={"Accept": "application/json"}
    )
    assert as_json.json() == {"provider": "openai", "stored": False}


# --------------------------------------------------------------------------- test route


def _result(response: Any) -> str:
    assert response.status_code == 200, response.text[:300]
    return soup(response).get_text(" ", strip=True)


def test_verifier_valid_rejected_and_no_key(tab: Page) -> None:
    assert "No key stored" in _result(tab.send("POST", f"{PREFIX}/openai/test"))
    tab.save("openai", OPENAI_KEY)
    assert "Key works" in _result(tab.send("POST", f"{PREFIX}/openai/test"))
    tab.save("openai", "sk-proj-" + "q" * 30)
    assert "refused" in _result(tab.send("POST", f"{PREFIX}/openai/test"))
    as_json = tab.send(
        "POST", f"{PREFIX}/openai/test", htmx=False, headers={"Accept": "application/json"}
    )
    assert as_json.json()["state"] == "rejected"


@pytest.mark.parametrize(
    ("verifier", "expected"),
    [
        (lambda p, k: True, "Key works"),  # a sync verifier
        (lambda p, k: False, "Key rejected"),
        (lambda p, k: 1 / 0, "Could not test"),  # a failing verifier is reported, never a 500
    ],
)
def test_verifier_kinds(verifier: Any, expected: str) -> None:
    page = Page(make_app(verifier=verifier)[0])
    page.save("openai", OPENAI_KEY)
    assert expected in _result(page.send("POST", f"{PREFIX}/openai/test"))


def test_slow_verifier_times_out() -> None:
    async def slow(provider: str, key: str) -> bool:
        await asyncio.sleep(5)
        return True

    page = Page(make_app(verifier=slow, routes_kw={"verify_timeout": 0.05})[0])
    page.save("openai", OPENAI_KEY)
    assert "in time" in _result(page.send("POST", f"{PREFIX}/openai/test"))


def test_no_test_route_with_verifier_false() -> None:
    page = Page(make_app(verifier=False)[0])
    page.save("openai", OPENAI_KEY)
    assert page.send("POST", f"{PREFIX}/openai/test").status_code in (404, 405)
    assert "/openai/test" not in page.client.get(PREFIX).text


# --------------------------------------------------------------------------- failures


def test_session_full_is_422_and_storage_failure_503(app_parts, monkeypatch) -> None:
    app, manager, _ = app_parts
    page = Page(app)

    def full(*a: Any, **k: Any) -> None:
        raise SessionFullError("the cookie is full")

    monkeypatch.setattr(manager, "set_key", full)
    response = page.save("openai", OPENAI_KEY)
    assert response.status_code == 422 and "remove a key" in response.text

    def broken(*a: Any, **k: Any) -> None:
        raise StorageError("database is down")

    monkeypatch.setattr(manager, "set_key", broken)
    monkeypatch.setattr(manager, "delete_key", broken)
    assert page.save("openai", OPENAI_KEY).status_code == 503
    assert page.send("DELETE", f"{PREFIX}/openai").status_code == 503
    monkeypatch.setattr(manager, "list_providers", broken)
    assert page.client.get(PREFIX).status_code in (200, 503)  # an alert, never a 500
    assert "database is down" not in page.client.get(PREFIX).text


def test_real_session_budget_gives_422_not_500() -> None:
    config = BYOKConfig(max_key_length=1024)
    app, _, _ = make_app(
        providers=("openai", "anthropic", "google", "mistral", "groq"), config=config
    )
    page = Page(app)
    statuses = [
        page.save(p, prefix + "k" * 1000).status_code
        for p, prefix in [
            ("openai", "sk-proj-"),
            ("anthropic", "sk-ant-"),
            ("google", "AIza"),
            ("mistral", "M"),
            ("groq", "gsk_"),
        ]
    ]
    assert statuses[0] == 200 and 422 in statuses and set(statuses) <= {200, 422}
    assert len(page.stored()) == statuses.count(200)


def test_unreadable_key_after_secret_change_shows_in_dashboard_not_500() -> None:
    app, manager, _ = make_app()
    page = Page(app)
    page.save("openai", OPENAI_KEY)
    manager.keyring = BYOKManager("another-secret-0123456789abcdef").keyring
    response = page.client.get(PREFIX)
    assert response.status_code == 200
    assert soup(response).find(id="byok-card-openai")["data-byok-card"] == "unreadable"
    assert "cannot be read" in _result(page.send("POST", f"{PREFIX}/openai/test"))


def test_database_storage_needs_a_user(tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'keys.db'}"

    def user_of(req: Any) -> str | None:
        return req.headers.get("x-user")

    app, manager, _ = make_app(db=db, user_id_func=user_of)
    page = Page(app)
    anonymous = page.client.get(PREFIX, headers={"Accept": "application/json"})
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "sign_in"
    alice = {"X-User": "alice"}
    page.client.headers.update(alice)
    assert page.save("openai", OPENAI_KEY).status_code == 200
    assert manager.list_providers(None, "alice") == ["openai"]
    assert manager.list_providers(None, "bob") == []
    assert page.send("DELETE", f"{PREFIX}/openai").status_code == 200
    assert manager.list_providers(None, "alice") == []


def test_routes_without_beforeware_find_the_manager_and_check_themselves() -> None:
    app, _, _ = make_app(beforeware=False)
    page = Page(app)
    assert page.save("openai", OPENAI_KEY).status_code == 200
    cross = page.save(
        "google",
        GOOGLE_KEY,
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403
    assert page.stored() == ["openai"]


def test_mount_rejects_bad_prefix_and_provider() -> None:
    app = FastHTML(secret_key=SECRET)
    with pytest.raises(ValueError):
        mount_key_routes(app, BYOKManager(SECRET), prefix="//evil")
    with pytest.raises(ValueError):
        mount_key_routes(app, BYOKManager(SECRET), providers=["Not Valid"])


def test_token_stays_the_same_for_a_session(tab: Page) -> None:
    first = tab.token()
    again = TOKEN.search(
        BeautifulSoup(tab.client.get(PREFIX).text, "html.parser").decode(formatter=None)
    )
    assert again and again.group(1) == first
    assert CSRF_SESSION_KEY == "byok_csrf"


# --------------------------------------------------------------------------- fuzzing

FUZZ_EXAMPLES = examples(1000)  # random bodies per form route (1000 in the deep profile)
FIELD_NAMES = st.sampled_from(["api_key", "provider", "csrf_token", "x", "api-key", "API_KEY", ""])
TEXT = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=80),
    st.sampled_from([*KEYS.values(), "", " ", "sk-" + "x" * 2000, "\x00", "%00", "é", "😀"]),
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
        "application/json",
        "text/plain",
        "application/octet-stream",
        "",
    ]
)


def _multipart(fields: list[tuple[str, str]], ending: bytes) -> bytes:
    parts = b"".join(
        b'--xyz\r\nContent-Disposition: form-data; name="'
        + n.encode("utf-8", "replace")
        + b'"\r\n\r\n'
        + v.encode("utf-8", "surrogatepass")
        + b"\r\n"
        for n, v in fields
    )
    return parts + ending


@st.composite
def bodies(draw: Any) -> tuple[dict[str, str], bytes]:
    """A request body in one of several encodings, well-formed or not, and its headers."""
    from urllib.parse import urlencode

    kind = draw(st.sampled_from(["form", "multipart", "json", "raw", "save"]))
    fields = draw(st.lists(st.tuples(FIELD_NAMES, TEXT), max_size=5))
    if kind == "save":  # a coherent provider + key (mostly well-formed), plus extras
        provider = draw(st.sampled_from([*PROVIDERS, "mistral", "x"]))
        good = KEYS.get(provider, OPENAI_KEY)
        key = draw(st.sampled_from([good, good, good[:-3], *KEYS.values()]))
        fields = [("api_key", key), ("provider", provider)][: draw(st.integers(1, 2))]
        fields += draw(st.lists(st.tuples(st.sampled_from(["x", "note"]), TEXT), max_size=2))
        kind = draw(st.sampled_from(["form", "multipart", "json"]))
    if kind == "form":
        return {"Content-Type": "application/x-www-form-urlencoded"}, urlencode(fields).encode()
    if kind == "multipart":
        ending = draw(st.sampled_from([b"--xyz--\r\n", b"", b"--xy"]))
        return {"Content-Type": "multipart/form-data; boundary=xyz"}, _multipart(fields, ending)
    if kind == "json":
        value = draw(
            st.one_of(
                st.just(dict(fields)),
                st.dictionaries(
                    FIELD_NAMES,
                    st.one_of(TEXT, st.integers(), st.none(), st.lists(TEXT, max_size=2)),
                ),
                st.lists(st.integers(), max_size=3),
                st.just("not json {"),
            )
        )
        raw = value.encode() if isinstance(value, str) else json.dumps(value).encode()
        return {"Content-Type": "application/json"}, raw
    return {"Content-Type": draw(CONTENT_TYPES)}, draw(st.binary(max_size=200))


class _Fuzzer:
    """Sends generated bodies to one route from one browser tab and checks every answer."""

    def __init__(self, method: str, path: str):
        self.method, self.path = method, path
        self.page = Page(make_app()[0], raise_server_exceptions=False)
        self.page.token()
        self.page.save("anthropic", ANTHROPIC_KEY)  # something to delete / test
        self.page.save("google", GOOGLE_KEY)
        self.stored = self.page.stored()
        self.statuses: list[int] = []

    def send(self, data: tuple[dict[str, str], bytes], with_token: bool, accept: str) -> None:
        headers, body = data
        headers = dict(headers)
        if with_token:
            headers.update(self.page.headers(htmx=accept == "htmx"))
        if accept == "json":
            headers["Accept"] = "application/json"
        response = self.page.client.request(self.method, self.path, headers=headers, content=body)
        status = response.status_code
        self.statuses.append(status)
        assert 200 <= status < 500, (status, response.text[:300])
        for key in KEYS.values():
            assert key not in response.text
        if status >= 400:
            # session storage: keys live only in the cookie, so a 4xx that sets no cookie stored
            # nothing; one that does set a cookie is checked through the app
            if "set-cookie" in response.headers:
                assert self.page.stored() == self.stored, "a 4xx answer changed the stored keys"
        else:
            self.stored = self.page.stored()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
FORM_SAVE = (FORM, f"provider=openai&api_key={OPENAI_KEY}".encode())  # a well-formed save
FORM_BAD_KEY = (FORM, b"provider=openai&api_key=not-a-key")  # a key of the wrong shape
FUZZ_ROUTES = [
    ("POST", f"{PREFIX}/openai"),
    ("POST", PREFIX),
    ("DELETE", f"{PREFIX}/anthropic"),
    ("POST", f"{PREFIX}/google/test"),
]
FUZZ_STATUSES: dict[str, Counter[int]] = {}  # route -> statuses of the bodies sent (for reports)


@pytest.mark.parametrize(("method", "path"), FUZZ_ROUTES, ids=lambda v: str(v))
def test_random_bodies_never_500_and_store_nothing_on_4xx(method: str, path: str) -> None:
    fuzzer = _Fuzzer(method, path)

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        data=bodies(),
        with_token=st.booleans(),
        accept=st.sampled_from(["htmx", "page", "json"]),
    )
    # every route meets a save that gets through, one without its CSRF token and a bad key
    # whatever the profile's count (the random corpus reaches them within the deep count)
    @example(data=FORM_SAVE, with_token=True, accept="htmx")
    @example(data=FORM_SAVE, with_token=False, accept="page")
    @example(data=FORM_BAD_KEY, with_token=True, accept="page")
    def run(data: Any, with_token: bool, accept: str) -> None:
        fuzzer.send(data, with_token, accept)

    run()
    statuses = fuzzer.statuses
    FUZZ_STATUSES[f"{method} {path}"] = Counter(statuses)
    assert len(statuses) >= FUZZ_EXAMPLES
    assert any(s == 403 for s in statuses)  # the corpus reaches the CSRF refusal...
    assert any(s == 422 for s in statuses) or method == "DELETE" or path.endswith("/test")
    assert any(200 <= s < 400 for s in statuses)  # ...and requests that get through


# --------------------------------------------------------------------------- in a real browser

HTMX_JS = Path(__file__).resolve().parent.parent / "node_modules/htmx.org/dist/htmx.min.js"


def browser_app() -> FastHTML:
    """The key routes with htmx served from node_modules (uvicorn --factory)."""
    app, _, _ = make_app(default_hdrs=False, hdrs=[Script(src="/_htmx")])

    @app.get("/_htmx")
    def htmx_js():
        return FileResponse(HTMX_JS, media_type="text/javascript")

    return app


def test_the_htmx_contract_in_a_browser(page, live_server) -> None:
    from playwright.sync_api import expect

    if not HTMX_JS.exists():
        unavailable(f"{HTMX_JS} missing: run `npm ci`")
    base = live_server("tests.test_routes:browser_app", factory=True)
    page.goto(f"{base}{PREFIX}")
    card = page.locator("#byok-card-openai")
    field = card.locator('input[name="api_key"]')
    field.fill("not a key")
    card.get_by_role("button", name=re.compile("Save")).click()
    message = page.locator("#byok-validation-openai")
    expect(message).to_contain_text("printable")  # 422 swapped beside the field
    expect(field).to_have_value("not a key")  # what the user typed is kept

    field.fill(OPENAI_KEY)
    card.get_by_role("button", name=re.compile("Save")).click()
    expect(page.locator("#byok-card-openai[data-byok-card='stored']")).to_be_visible()
    expect(page.locator(f"#{TOAST_CONTAINER_ID}")).to_contain_text("OpenAI key saved")
    assert OPENAI_KEY not in page.content()

    page.locator("#byok-card-openai").get_by_role("button", name=re.compile("Test")).click()
    expect(page.locator("#byok-test-openai")).to_contain_text("Key works")

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#byok-card-openai").get_by_role(
        "button", name=re.compile("Delete|Remove")
    ).click()
    expect(page.locator("#byok-card-openai[data-byok-card='empty']")).to_be_visible()
    expect(page.locator(f"#{TOAST_CONTAINER_ID}")).to_contain_text("removed")

    # a stale token (another session's) does not matter: the browser's own Sec-Fetch-Site:
    # same-origin proves the write comes from this site (a refusal's toast: the embedded test)
    page.evaluate(
        """() => {
            for (const el of document.querySelectorAll('[hx-headers]'))
                el.setAttribute('hx-headers', JSON.stringify({'X-CSRF-Token': 'stale'}));
            for (const el of document.querySelectorAll('input[name="csrf_token"]'))
                el.value = 'stale';
        }"""
    )
    card = page.locator("#byok-card-openai")
    card.locator('input[name="api_key"]').fill(OPENAI_KEY)
    card.get_by_role("button", name=re.compile("Save")).click()
    expect(page.locator("#byok-card-openai[data-byok-card='stored']")).to_be_visible()
    assert "reload the page" not in page.locator(f"#{TOAST_CONTAINER_ID}").inner_text()
