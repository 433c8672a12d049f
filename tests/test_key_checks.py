"""The test route with the built-in checks (no verifier passed), against the local fake provider
server, and its per-user rate limit (in memory, and in the database across processes)."""

from __future__ import annotations

import logging
import multiprocessing as mp
import time
from typing import Any

import pytest
import sqlalchemy as sa

from byok.core.ratelimit import DatabaseRateLimit, MemoryRateLimit
from byok.core.types import BYOKConfig, StorageBackend, ValidationError
from byok.outbound import OutboundPolicy
from tests.fake_providers import FakeProviders
from tests.ratelimit_worker import hammer
from tests.test_routes import PREFIX, Page, make_app, soup

LOOPBACK = ["127.0.0.1/32"]
SECRET_PART = "Zq8Wv7Ut6Sr5Qp4On3Ml2Kj"  # every test key carries it; it must never come back
pytestmark = pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP")


def key(kind: str) -> str:
    return f"sk-proj-{kind}-{SECRET_PART}"


def builtin_app(server: FakeProviders, **routes_kw: Any) -> Any:
    kw = {
        "provider_config": {"openai": {"api_base": f"{server.url}/v1"}},
        "outbound": OutboundPolicy(allow_networks=LOOPBACK, timeout=0.5),
        "test_limit": None,
        **routes_kw,
    }
    return make_app(verifier=None, routes_kw=kw)


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
    engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    DatabaseRateLimit(engine)  # create the table once, like the app does at mount
    engine.dispose()
    with mp.get_context("spawn").Pool(2) as pool:
        allowed = pool.starmap(hammer, [(db_url, start, 30, 25)] * 2)
    assert sum(allowed) == 25  # 60 hits from 2 processes: exactly the limit let through
