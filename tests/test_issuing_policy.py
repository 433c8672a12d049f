"""The "API keys" page under the app's KeyPolicy, through its HTTP routes on a real SQLite issuer:
no rate choice without a policy, a fixed rate, a capped rate, max_keys, max_lifetime, credits,
and roll kept within the policy; KeyPolicy's own checks; max_keys under concurrent creates on
every database (two issuers, one per thread, as two processes would be).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from byok.components.wiring import TOAST_CONTAINER_ID
from byok.issuing import (
    InvalidInputError,
    KeyIssuer,
    KeyMetadata,
    KeyPolicy,
    KeyStatus,
    RateLimit,
    Refill,
    TooManyKeysError,
)
from tests.support import SECRET, Clock
from tests.test_issuing_routes import PREFIX, Browser, make_app, soup

pytestmark = pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP")
FIELDS = {"name": "k", "scopes": ["read"]}


@pytest.fixture
def issuer(tmp_path: Path, clock: Clock) -> Iterator[KeyIssuer]:
    iss = KeyIssuer(
        f"sqlite:///{tmp_path / 'keys.db'}",
        signing_secret=SECRET,
        environment="live",
        cache_ttl=0,
        clock=clock,
    )
    yield iss
    iss.close()


def page(app: Any) -> tuple[Browser, Any]:
    """Alice's browser and the page's create form, parsed."""
    alice = Browser(app, "alice")
    html = alice.client.get(PREFIX, headers=alice.base()).text
    return alice, soup(html).find("form", id="byok-create-key-form")


def post(alice: Browser, **fields: Any) -> Any:
    return alice.client.post(PREFIX, data={**FIELDS, **fields}, headers=alice.h())


def post_json(alice: Browser, **fields: Any) -> Any:
    headers = alice.h(htmx=False, Accept="application/json", **{"X-CSRF-Token": alice.token})
    return alice.client.post(PREFIX, json={**FIELDS, **fields}, headers=headers)


def only_key(issuer: KeyIssuer, app: Any) -> Any:
    (key,) = issuer.list_org_keys(app.state.orgs["alice"], status=KeyStatus.active)
    return key


def error_of(r: Any, field: str) -> str:
    slot = soup(r.text).find(id=f"byok-issued-validation-{field}")
    return slot.get_text(" ", strip=True) if slot else ""


# --- no policy ------------------------------------------------------------------------------


def test_without_a_policy_the_page_offers_no_rate_limit(issuer: KeyIssuer) -> None:
    app = make_app(issuer)
    alice, form = page(app)
    assert form.find("input", attrs={"name": "rate_requests"}) is None
    assert form.find("select", attrs={"name": "rate_window"}) is None
    assert "unlimited" not in str(form)
    r = post(alice, rate_requests="5", rate_window="second")  # a forged choice: refused
    assert r.status_code == 422
    assert "no rate limit to choose" in error_of(r, "rate_limit")
    assert issuer.list_org_keys(app.state.orgs["alice"]) == []
    assert post(alice).status_code == 200
    assert only_key(issuer, app).metadata.rate_limit is None


# --- a fixed rate limit, credits ------------------------------------------------------------


def test_a_fixed_rate_and_credits_are_given_to_every_key(issuer: KeyIssuer) -> None:
    policy = KeyPolicy(rate_limit=RateLimit(60, "minute"), credits=500, refill=Refill(500))
    app = make_app(issuer, key_policy=policy)
    alice, form = page(app)
    assert form.find("input", attrs={"name": "rate_requests"}) is None
    notes = form.find(attrs={"data-byok-policy": True}).get_text(" ", strip=True)
    assert "60 requests per minute" in notes and "500 credits, reset daily" in notes
    r = post(alice, rate_requests="100000")
    assert r.status_code == 422
    assert "Keys created here get 60 requests per minute" in error_of(r, "rate_limit")
    assert post(alice).status_code == 200
    meta = only_key(issuer, app).metadata
    assert meta.rate_limit == RateLimit(60, "minute")
    assert (meta.remaining, meta.refill) == (500, Refill(500))


# --- a capped rate limit --------------------------------------------------------------------


def test_a_capped_rate_is_chosen_up_to_the_cap_never_unlimited(issuer: KeyIssuer) -> None:
    app = make_app(issuer, key_policy=KeyPolicy(max_rate_limit=RateLimit(100, "minute")))
    alice, form = page(app)
    box = form.find("input", attrs={"name": "rate_requests"})
    assert box["max"] == "100" and box["value"] == "100" and box.has_attr("required")
    assert not box.has_attr("placeholder") and "unlimited" not in str(form)
    windows = [o["value"] for o in form.find("select", attrs={"name": "rate_window"})("option")]
    assert windows == ["minute"]
    for fields, text in [
        ({"rate_requests": "101"}, "at most 100 requests per minute"),
        ({"rate_requests": "100", "rate_window": "second"}, "window here is per minute"),
        ({"rate_requests": "0"}, "whole number"),
    ]:
        r = post(alice, **fields)
        assert r.status_code == 422, fields
        assert text in error_of(r, "rate_limit"), fields
    assert post_json(alice, rate_requests=101).json()["fields"]["rate_limit"].endswith("minute")
    assert issuer.list_org_keys(app.state.orgs["alice"]) == []
    assert post(alice, rate_requests="40").status_code == 200
    assert only_key(issuer, app).metadata.rate_limit == RateLimit(40, "minute")


def test_a_capped_rate_left_out_is_the_cap(issuer: KeyIssuer) -> None:
    app = make_app(issuer, key_policy=KeyPolicy(max_rate_limit=RateLimit(100, "hour")))
    alice, _ = page(app)
    assert post_json(alice).status_code == 201
    assert only_key(issuer, app).metadata.rate_limit == RateLimit(100, "hour")


# --- max_lifetime ---------------------------------------------------------------------------


def test_max_lifetime_offers_no_never_and_refuses_longer_expiries(
    issuer: KeyIssuer, clock: Clock
) -> None:
    app = make_app(issuer, key_policy=KeyPolicy(max_lifetime=timedelta(days=30)))
    alice, form = page(app)
    choices = [o["value"] for o in form.find("select", attrs={"name": "expires"})("option")]
    assert choices == ["7", "30", "date"]
    assert form.find("option", attrs={"value": "30"}).has_attr("selected")  # the longest
    latest = clock.now + timedelta(days=30)
    assert form.find("input", attrs={"name": "expires_on"})["max"] == latest.date().isoformat()
    too_late = (latest.date() + timedelta(days=1)).isoformat()
    for fields in [
        {"expires": "never"},
        {"expires": "90"},
        {"expires": "date", "expires_on": too_late},
    ]:
        r = post(alice, **fields)
        assert r.status_code == 422, fields
        assert f"must expire by {latest:%Y-%m-%d}" in error_of(r, "expires"), fields
    assert issuer.list_org_keys(app.state.orgs["alice"]) == []
    # the last day offered ends at the cap, not after it
    assert post(alice, expires="date", expires_on=latest.date().isoformat()).status_code == 200
    assert only_key(issuer, app).metadata.expires_at == latest


def test_max_lifetime_with_no_expiry_sent_is_the_longest(issuer: KeyIssuer, clock: Clock) -> None:
    app = make_app(issuer, key_policy=KeyPolicy(max_lifetime=timedelta(days=10)))
    alice, _ = page(app)
    assert post_json(alice).status_code == 201
    assert only_key(issuer, app).metadata.expires_at == clock.now + timedelta(days=10)


# --- max_keys -------------------------------------------------------------------------------


def test_max_keys_refuses_the_next_create_with_a_clear_message(issuer: KeyIssuer) -> None:
    app = make_app(issuer, key_policy=KeyPolicy(max_keys=2))
    alice, form = page(app)
    assert "up to 2 live keys" in form.get_text(" ")
    assert post(alice).status_code == 200
    assert post(alice).status_code == 200
    r = post(alice)
    assert r.status_code == 409
    assert r.headers["HX-Retarget"] == f"#{TOAST_CONTAINER_ID}"  # a toast in the page
    assert "You already have 2 live API keys, the most allowed" in r.text
    assert post_json(alice).json()["error"] == "max_keys"
    plain = alice.client.post(PREFIX, data={**FIELDS, "csrf_token": alice.token},
                              headers=alice.h(htmx=False))  # fmt: skip
    assert plain.status_code == 409 and "revoke or delete one" in plain.text
    keys = issuer.list_org_keys(app.state.orgs["alice"])
    assert len(keys) == 2
    bob = Browser(app, "bob")  # another owner has room of his own
    assert post(bob).status_code == 200
    issuer.revoke_key(keys[0].id)  # a revoked key no longer counts
    assert post(alice).status_code == 200


# --- roll -----------------------------------------------------------------------------------


def test_roll_keeps_the_new_key_within_the_policy(issuer: KeyIssuer, clock: Clock) -> None:
    policy = KeyPolicy(
        max_rate_limit=RateLimit(100, "minute"),
        max_keys=1,
        max_lifetime=timedelta(days=30),
        credits=50,
    )
    app = make_app(issuer, key_policy=policy)
    org = app.state.orgs["alice"]
    old = issuer.create_key(  # made before the policy: unlimited, never expires, no credits
        org, metadata=KeyMetadata(name="old", scopes=["read"], rate_limit=RateLimit(10**6, "day"))
    ).key
    alice = Browser(app, "alice")
    url = f"{PREFIX}/{old.id}/roll"
    r = alice.client.post(url, data={"grace": "0"}, headers=alice.h())  # max_keys: 1, still fine
    assert r.status_code == 200, r.text[:300]
    new = only_key(issuer, app)
    assert new.id != old.id
    assert new.metadata.rate_limit == RateLimit(100, "minute")
    assert new.metadata.expires_at == clock.now + timedelta(days=30)
    assert new.metadata.remaining == 50
    # a key within the policy keeps its own settings and live credits
    clock.advance(days=1)
    issuer.validate_key(r.text.split('value="')[1].split('"')[0])
    again = alice.client.post(f"{PREFIX}/{new.id}/roll", data={"grace": "0"}, headers=alice.h())
    assert again.status_code == 200
    third = only_key(issuer, app)
    assert third.metadata.remaining == 49
    assert third.metadata.expires_at == new.metadata.expires_at


# --- KeyPolicy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "text"),
    [
        ({"rate_limit": RateLimit(1), "max_rate_limit": RateLimit(2)}, "not both"),
        ({"rate_limit": 100}, "KeyPolicy.rate_limit must be a RateLimit"),
        ({"max_rate_limit": "100/minute"}, "KeyPolicy.max_rate_limit must be a RateLimit"),
        ({"max_keys": 0}, "KeyPolicy.max_keys must be a whole number from 1"),
        ({"max_keys": True}, "KeyPolicy.max_keys"),
        ({"max_keys": "5"}, "KeyPolicy.max_keys"),
        ({"max_lifetime": timedelta(hours=5)}, "at least 1 day"),
        ({"max_lifetime": 30}, "KeyPolicy.max_lifetime must be a timedelta"),
        ({"max_lifetime": timedelta(days=999_999_999)}, "past 9999-12-31"),
        ({"credits": 0}, "KeyPolicy.credits"),
        ({"credits": 2**40}, "KeyPolicy.credits"),
        ({"refill": Refill(10)}, "KeyPolicy.refill needs credits"),
        ({"credits": 10, "refill": "daily"}, "KeyPolicy.refill must be a Refill"),
    ],
)
def test_key_policy_checks_its_fields(kw: dict, text: str) -> None:
    with pytest.raises(InvalidInputError, match=text):
        KeyPolicy(**kw)


def test_key_policy_is_frozen_and_checked_at_mount(issuer: KeyIssuer) -> None:
    policy = KeyPolicy(max_keys=3)
    with pytest.raises(AttributeError):
        policy.max_keys = 4  # type: ignore[misc]
    with pytest.raises(TypeError, match="key_policy must be a KeyPolicy"):
        make_app(issuer, key_policy={"max_keys": 3})


def test_the_engine_refuses_metadata_outside_the_policy(issuer: KeyIssuer, clock: Clock) -> None:
    org = issuer.create_organization("o").id
    policy = KeyPolicy(max_rate_limit=RateLimit(5, "second"), max_lifetime=timedelta(days=2))
    soon = clock.now + timedelta(days=1)
    for meta, text in [
        (KeyMetadata(expires_at=soon), "at most 5 requests per second"),
        (KeyMetadata(rate_limit=RateLimit(6, "second"), expires_at=soon), "at most 5"),
        (KeyMetadata(rate_limit=RateLimit(5, "second")), "expire by"),
    ]:
        with pytest.raises(InvalidInputError, match=text):
            issuer.create_key(org, metadata=meta, policy=policy)
    meta = KeyMetadata(rate_limit=RateLimit(5, "second"), expires_at=soon)
    assert issuer.create_key(org, metadata=meta, policy=policy).key.metadata == meta


# --- max_keys under concurrent creates -------------------------------------------------------


def test_max_keys_holds_under_concurrent_creates(db_url: str) -> None:
    """Four creates at once from four issuers (connections) for one owner: exactly max_keys
    are made; the others are TooManyKeysError."""
    first = KeyIssuer(db_url, signing_secret=SECRET)
    org = first.create_organization("Racing").id
    issuers = [first] + [KeyIssuer(db_url, signing_secret=SECRET) for _ in range(3)]
    policy = KeyPolicy(max_keys=2)
    barrier = threading.Barrier(len(issuers))
    outcomes: list[str] = []

    def create(iss: KeyIssuer) -> None:
        barrier.wait(timeout=60)
        try:
            iss.create_key(org, metadata=KeyMetadata(name="k"), policy=policy)
            outcomes.append("made")
        except TooManyKeysError:
            outcomes.append("refused")

    threads = [threading.Thread(target=create, args=(i,)) for i in issuers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        assert sorted(outcomes) == ["made", "made", "refused", "refused"]
        assert len(first.list_org_keys(org)) == 2
    finally:
        for iss in issuers:
            iss.close()
