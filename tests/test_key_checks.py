"""The test route with the built-in checks (no verifier passed), against the local fake provider
server, and its per-user rate limit (in memory, and in the database across processes)."""

from __future__ import annotations

import logging
import multiprocessing as mp
import time
from typing import Any

import pytest

from byok.core.database import create_engine
from byok.core.ratelimit import DatabaseRateLimit, MemoryRateLimit
from byok.core.types import BYOKConfig, StorageBackend, ValidationError
from byok.outbound import OutboundPolicy
from tests.fake_providers import FakeProviders
from tests.ratelimit_worker import hammer
from tests.support.routes import PREFIX, Page, make_app, soup

LOOPBACK = ["127.0.0.1/32"]
SECRET_PART = "Zq8Wv7Ut6Sr5Qp4On3Ml2Kj"  # every test key carries it; it must never come back
pytestmark = pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP")


def key(kind: str) -> str:
    return f"sk-proj-{kind}-{SECRET_PART}"


def builtin_app(server: FakeProviders, providers: Any = ("openai",), **routes_kw: Any) -> Any:
    kw = {
        "provider_config": {"openai": {"api_base": f"{server.url}/v1"}},
        "outbound": OutboundPolicy(allow_networks=LOOPBACK, timeout=0.5),
        "test_limit": None,
        **routes_kw,
    }
    chosen = providers if providers is not None else ("openai", "azure")
    return make_app(verifier=None, providers=chosen, routes_kw=kw)


def outcome_of(page: Page, kind: str) -> tuple[str, str]:
    assert page.save("openai", key(kind)).status_code == 200
    response = page.send("POST", f"{PREFIX}/openai/test")
    assert response.status_code == 200, response.text[:300]
    assert SECRET_PART not in response.text
    badge = soup(response).find("span")
    return badge["class"], badge.get_text(" ", strip=True)


@pytest.mark.parametrize(
    ("kind", "colour", "words"),
    [
        ("valid", "badge-success", "OpenAI accepted this key"),
        ("invalid", "badge-error", "OpenAI rejected this key (HTTP 401)"),
        ("ratelimit", "badge-warning", "try again in 7 s"),
        ("slow", "badge-warning", "did not answer within 0.5 s"),
        ("error", "badge-warning", "internal error (HTTP 500)"),
        ("huge", "badge-warning", "too large"),
        ("redirect", "badge-warning", "redirect"),
    ],
)
def test_the_test_button_shows_the_real_outcome(
    fake_providers: FakeProviders, kind: str, colour: str, words: str
) -> None:
    page = Page(builtin_app(fake_providers)[0])
    classes, text = outcome_of(page, kind)
    assert colour in classes and words in text
    assert fake_providers.seen[-1].path == "/v1/models"


def test_json_answer_carries_the_state(fake_providers: FakeProviders) -> None:
    page = Page(builtin_app(fake_providers)[0])
    page.save("openai", key("ratelimit"))
    answer = page.send(
        "POST", f"{PREFIX}/openai/test", htmx=False, headers={"Accept": "application/json"}
    ).json()
    assert answer["state"] == "rate_limited" and "7 s" in answer["detail"]


def test_loopback_without_the_allowlist_is_blocked(fake_providers: FakeProviders) -> None:
    page = Page(builtin_app(fake_providers, outbound=None)[0])
    classes, text = outcome_of(page, "valid")
    assert "badge-error" in classes and "not allowed" in text and "loopback" in text
    assert fake_providers.seen == []


def test_dashboard_has_test_buttons_by_default(fake_providers: FakeProviders) -> None:
    page = Page(builtin_app(fake_providers)[0])
    page.save("openai", key("valid"))
    assert f"{PREFIX}/openai/test" in page.client.get(PREFIX).text


def test_key_never_in_logs(fake_providers: FakeProviders, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    page = Page(builtin_app(fake_providers)[0])
    for kind in ("valid", "invalid", "redirect", "error"):
        outcome_of(page, kind)
    assert SECRET_PART not in caplog.text


# --- the per-user rate limit ---------------------------------------------------------------


def test_tests_are_limited_per_session(fake_providers: FakeProviders) -> None:
    app = builtin_app(fake_providers, test_limit=(3, 60.0))[0]
    page, other = Page(app), Page(app)
    page.save("openai", key("valid"))
    other.save("openai", key("valid"))
    for _ in range(3):
        assert page.send("POST", f"{PREFIX}/openai/test").status_code == 200
    over = page.send("POST", f"{PREFIX}/openai/test")
    assert over.status_code == 429 and over.headers["BYOK-Problem"] == "rate_limited"
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    assert "Too many key tests" in over.text and "badge-warning" in over.text
    assert len(fake_providers.seen) == 3  # the refused test sent nothing
    assert other.send("POST", f"{PREFIX}/openai/test").status_code == 200  # another user
    as_json = page.send(
        "POST", f"{PREFIX}/openai/test", htmx=False, headers={"Accept": "application/json"}
    )
    assert as_json.status_code == 429 and as_json.json()["state"] == "rate_limited"


def test_database_users_share_one_limit_across_apps(fake_providers: FakeProviders, db_url) -> None:
    """Two apps on one database (two processes' worth of state): the user's limit is shared."""
    config = BYOKConfig(storage_backend=StorageBackend.DATABASE)
    apps = [
        make_app(
            verifier=None,
            db=db_url,
            config=config,
            user_id_func=lambda req: "alice",
            routes_kw={
                "provider_config": {"openai": {"api_base": f"{fake_providers.url}/v1"}},
                "outbound": OutboundPolicy(allow_networks=LOOPBACK),
                "test_limit": (2, 60.0),
            },
        )
        for _ in range(2)
    ]
    first, second = Page(apps[0][0]), Page(apps[1][0])
    first.save("openai", key("valid"))
    assert first.send("POST", f"{PREFIX}/openai/test").status_code == 200
    assert second.send("POST", f"{PREFIX}/openai/test").status_code == 200
    assert second.send("POST", f"{PREFIX}/openai/test").status_code == 429
    assert first.send("POST", f"{PREFIX}/openai/test").status_code == 429
    for _, manager, _ in apps:
        manager.database.close()


def test_memory_limit_slides() -> None:
    now = [1000.0 * 60]
    limit = MemoryRateLimit(2, 60.0, clock=lambda: now[0])
    assert limit.hit("a") is None and limit.hit("a") is None
    assert limit.hit("a") == 60
    assert limit.hit("b") is None  # buckets are separate
    now[0] += 90  # half of the previous window still counts: 3 * 0.5 + 1 > 2
    assert limit.hit("a") is not None
    now[0] += 30  # the old window has slid out
    assert limit.hit("a") is None


def test_bad_limits_are_refused() -> None:
    for bad in ((0, 60), (1, 0), (True, 60), (1, "60")):
        with pytest.raises(ValidationError):
            MemoryRateLimit(*bad)


def test_database_limit_holds_across_processes(db_url: str) -> None:
    start = (time.time() // 60) * 60  # the start of a window: the previous one weighs nothing
    engine = create_engine(db_url)
    DatabaseRateLimit(engine)  # create the table once, like the app does at mount
    engine.dispose()
    with mp.get_context("spawn").Pool(2) as pool:
        allowed = pool.starmap(hammer, [(db_url, start, 30, 25)] * 2)
    assert sum(allowed) == 25  # 60 hits from 2 processes: exactly the limit let through


# --- labels and custom endpoints through the routes ------------------------------------------


def labelled_app(server: FakeProviders, **kw: Any) -> Any:
    return builtin_app(server, labels=True, custom_endpoints=True, **kw)[0]


def test_several_labelled_keys_through_the_routes(fake_providers: FakeProviders) -> None:
    page = Page(labelled_app(fake_providers))
    assert page.save("openai", key("valid")).status_code == 200
    added = page.send(
        "POST",
        f"{PREFIX}/openai",
        data={"api_key": key("invalid"), "label": "work", "intent": "add"},
    )
    assert added.status_code == 200 and "OpenAI key (work) saved" in added.text
    card = soup(added).select_one("#byok-card-openai")
    assert card.select_one('li[data-byok-label="work"]') is not None  # the other key is listed
    again = page.send(
        "POST", f"{PREFIX}/openai", data={"api_key": key("valid"), "label": "work", "intent": "add"}
    )
    assert again.status_code == 422 and "already stored" in again.text
    unnamed = page.send("POST", f"{PREFIX}/openai", data={"api_key": key("valid"), "intent": "add"})
    assert unnamed.status_code == 422 and "label" in unnamed.text
    # each key is tested on its own: the default is valid, "work" is rejected
    assert "accepted" in page.send("POST", f"{PREFIX}/openai/test").text
    assert "rejected" in page.send("POST", f"{PREFIX}/openai/test?label=work").text
    made = page.send("POST", f"{PREFIX}/openai/default?label=work")
    assert made.status_code == 200 and "is now the default" in made.text
    assert "rejected" in page.send("POST", f"{PREFIX}/openai/test").text  # work is the default now
    listed = soup(page.client.get(PREFIX, headers={"HX-Request": "true"}))
    assert listed.select_one('#byok-card-openai li[data-byok-label=""]') is not None
    gone = page.send("DELETE", f"{PREFIX}/openai?label=work")
    assert gone.status_code == 200 and "OpenAI key (work) removed" in gone.text
    assert "accepted" in page.send("POST", f"{PREFIX}/openai/test").text  # the other is default
    assert page.send("POST", f"{PREFIX}/openai/default?label=ghost").status_code == 404
    assert page.send("POST", f"{PREFIX}/openai/default?label=%23bad").status_code == 422


def test_labels_are_refused_when_the_app_keeps_one_key(fake_providers: FakeProviders) -> None:
    page = Page(builtin_app(fake_providers)[0])
    answer = page.send("POST", f"{PREFIX}/openai", data={"api_key": key("valid"), "label": "w"})
    assert answer.status_code == 422 and "one key per provider" in answer.text
    assert page.send("POST", f"{PREFIX}/openai/default?label=w").status_code in (404, 405)


def test_a_custom_base_url_is_saved_shown_and_checked_there(fake_providers: FakeProviders) -> None:
    app = builtin_app(
        fake_providers,
        providers=None,
        custom_endpoints=True,
        provider_config={},
    )[0]
    page = Page(app)
    base = f"{fake_providers.url}/my-proxy/v1"
    saved = page.send("POST", f"{PREFIX}/openai", data={"api_key": key("valid"), "base_url": base})
    assert saved.status_code == 200 and f"Endpoint: {base}" in saved.text
    assert f'value="{base}"' in saved.text  # prefilled in the replace form
    tested = page.send("POST", f"{PREFIX}/openai/test")
    assert "accepted" in tested.text and fake_providers.seen[-1].path == "/my-proxy/v1/models"
    for bad, why in [
        ("ftp://x.example", "https://"),
        ("https://user:pw@x.example", "user name"),
        ("https://x.example/?q=1", "query"),
    ]:
        refused = page.send(
            "POST", f"{PREFIX}/openai", data={"api_key": key("valid"), "base_url": bad}
        )
        assert refused.status_code == 422 and why in refused.text


def test_a_custom_endpoint_to_a_private_address_is_blocked(fake_providers: FakeProviders) -> None:
    page = Page(builtin_app(fake_providers, custom_endpoints=True, outbound=None)[0])
    page.save("openai", key("valid"))
    page.send(
        "POST",
        f"{PREFIX}/openai",
        data={"api_key": key("valid"), "base_url": "http://169.254.169.254/latest"},
    )
    tested = page.send("POST", f"{PREFIX}/openai/test")
    assert "not allowed" in tested.text and "metadata" in tested.text
    assert fake_providers.seen == []


def test_optional_endpoints_are_refused_unless_the_app_allows_them(
    fake_providers: FakeProviders,
) -> None:
    page = Page(builtin_app(fake_providers)[0])
    answer = page.send(
        "POST", f"{PREFIX}/openai", data={"api_key": key("valid"), "base_url": "https://x.example"}
    )
    assert answer.status_code == 422 and "does not take" in answer.text


def test_azure_needs_its_endpoint(fake_providers: FakeProviders) -> None:
    app = builtin_app(fake_providers, providers=None)[0]
    page = Page(app)
    dashboard = page.client.get(PREFIX).text
    assert 'name="base_url"' in dashboard and 'name="deployment"' in dashboard
    missing = page.send("POST", f"{PREFIX}/azure", data={"api_key": "a" * 32})
    assert missing.status_code == 422 and "needs a base URL" in missing.text
    endpoint = {
        "base_url": f"{fake_providers.url}/az",
        "deployment": "gpt-4o",
        "api_version": "2024-10-21",
    }
    fake_providers.shape = "data"
    saved = page.send("POST", f"{PREFIX}/azure", data={"api_key": "valid" + "a" * 32, **endpoint})
    assert saved.status_code == 200 and "deployment gpt-4o" in saved.text
    assert "accepted" in page.send("POST", f"{PREFIX}/azure/test").text
    assert fake_providers.seen[-1].path == "/az/openai/models?api-version=2024-10-21"
    assert fake_providers.seen[-1].headers["api-key"] == "valid" + "a" * 32
