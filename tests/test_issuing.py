"""The issued-key engine (KeyIssuer) on SQLite and PostgreSQL: key format, hashing and peppers,
tenancy, expiry, usage, rate limits, credits, lifecycle, roll and audit."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from byok.core.types import SecurityWarning, StorageError, ValidationError
from byok.issuing import (
    ISSUED_KEY_PATTERN,
    APIKeyError,
    AuditAction,
    CreditsExhaustedError,
    ExpiredKeyError,
    InsufficientScopeError,
    InvalidInputError,
    InvalidKeyError,
    KeyFormat,
    KeyIssuer,
    KeyMetadata,
    KeyStatus,
    NotFoundError,
    QuotaError,
    RateLimit,
    RateLimitWindow,
    Refill,
    RefillInterval,
    RevokedKeyError,
    looks_like_issued_key,
)
from tests.support import SECRET, Clock


@pytest.fixture
def issuer(db_url: str, clock: Clock) -> Iterator[KeyIssuer]:
    iss = KeyIssuer(db_url, signing_secret=SECRET, clock=clock)
    yield iss
    iss.close()


@pytest.fixture
def org(issuer: KeyIssuer):
    return issuer.create_organization("Acme")


def raw_rows(issuer: KeyIssuer, table: str) -> list[dict]:
    with issuer._guard("test read"):
        return [
            dict(r) for r in issuer.db.conn.execute(sa.text(f"SELECT * FROM {table}")).mappings()
        ]


# --------------------------------------------------------------------------- key format


def test_keys_have_the_published_shape_and_a_valid_checksum() -> None:
    fmt = KeyFormat("myapp", "live")
    keys = {fmt.generate() for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert re.fullmatch(r"myapp_live_[0-9A-Za-z]{49}", key)
        assert ISSUED_KEY_PATTERN.fullmatch(key) and fmt.pattern.fullmatch(key)
        assert looks_like_issued_key(key)
        assert fmt.parse(key) == key
    assert KeyFormat().generate().startswith("sk_") and KeyFormat().length == 3 + 49


def test_scanners_find_leaked_keys_in_text() -> None:
    key = KeyFormat("acme", "test").generate()
    text = f"config = {{'token': '{key}'}} # oops"
    assert ISSUED_KEY_PATTERN.findall(text) == [key]


@pytest.mark.parametrize("prefix", ["", "SK", "sk-live", "a" * 17, "ké", None, 3, "sk_"])
def test_bad_prefixes_are_refused_at_construction(prefix: object, tmp_path) -> None:
    with pytest.raises(InvalidInputError):
        KeyFormat(prefix)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        KeyIssuer(f"sqlite:///{tmp_path}/k.db", signing_secret=SECRET, key_prefix=prefix)


@pytest.mark.parametrize("env", ["LIVE", "live_1", "x" * 17, " ", None])
def test_bad_environments_are_refused(env: object) -> None:
    with pytest.raises(InvalidInputError):
        KeyFormat("sk", env)  # type: ignore[arg-type]


def test_one_mistyped_character_fails_the_checksum() -> None:
    fmt = KeyFormat()
    key = fmt.generate()
    for i in range(len(fmt.head), len(key)):
        for c in "0aZ":
            if key[i] == c:
                continue
            typo = key[:i] + c + key[i + 1 :]
            with pytest.raises(InvalidKeyError):
                fmt.parse(typo)
            assert not looks_like_issued_key(typo)


MALFORMED = [
    None,
    b"sk_" + b"a" * 49,
    12345,
    3.5,
    ["sk_"],
    "",
    "sk_",
    "sk_\ud800" + "a" * 48,
    "sk_" + "a" * 48 + "\x00",
    "sk_" + "é" * 49,
    "sk_" + "a" * 10_000_000,
    "pk_" + "a" * 49,
]


@pytest.mark.parametrize("bad", MALFORMED, ids=lambda v: type(v).__name__ + str(len(str(v))))
def test_malformed_keys_are_invalid_without_a_query(
    issuer: KeyIssuer, bad: object, monkeypatch
) -> None:
    def no_query(*a, **k):
        raise AssertionError("a malformed key reached the database")

    monkeypatch.setattr(issuer.tables, "run", no_query)
    monkeypatch.setattr(issuer.tables, "execute", no_query)
    with pytest.raises(InvalidKeyError) as e:
        issuer.validate_key(bad)  # type: ignore[arg-type]
    assert "\ud800" not in str(e.value) and len(str(e.value)) < 100
    assert not looks_like_issued_key(bad)


@given(st.one_of(st.text(max_size=120), st.binary(max_size=60), st.integers(), st.none()))
def test_parsing_anything_is_a_key_or_an_invalid_key_error(value: object) -> None:
    fmt = KeyFormat("sk", "live")
    try:
        assert fmt.parse(value) == value and looks_like_issued_key(value)
    except InvalidKeyError:
        assert not (
            isinstance(value, str) and fmt.pattern.fullmatch(value) and looks_like_issued_key(value)
        )


@given(st.integers(0, 2**256 - 1), st.integers(0, 48), st.sampled_from("0Aa9zZ"))
def test_any_single_substitution_is_caught(bits: int, at: int, char: str) -> None:
    from byok.issuing.keys import _base62, _checksum

    head = "sk_" + _base62(bits, 43)
    key = head + _checksum(head)
    i = 3 + at
    typo = key[:i] + char + key[i + 1 :]
    assert (typo == key) == looks_like_issued_key(typo)


# --------------------------------------------------------------------------- storage


def test_only_an_hmac_is_stored_and_the_plaintext_appears_nowhere(
    issuer: KeyIssuer, org, caplog
) -> None:
    caplog.set_level("DEBUG")
    made = issuer.create_key(org.id, metadata=KeyMetadata(name="k"))
    issuer.validate_key(made.plaintext)
    issuer.revoke_key(made.key.id)
    with pytest.raises(RevokedKeyError) as e:
        issuer.validate_key(made.plaintext)
    body = made.plaintext[3:]
    for table in ("issued_keys", "issued_audit", "issued_key_usage"):
        dump = json.dumps(raw_rows(issuer, table), default=str)
        assert body not in dump and body[:20] not in dump
    (row,) = raw_rows(issuer, "issued_keys")
    assert re.fullmatch(r"[0-9a-f]{64}", row["key_hash"])
    assert body not in caplog.text and body not in str(e.value) and body not in repr(made)
    assert made.key.key_prefix == body[:8]


def test_a_short_signing_secret_works_with_a_warning_and_an_empty_one_is_refused(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/k.db"
    with pytest.warns(SecurityWarning):
        KeyIssuer(url, signing_secret="...")
    for bad in ("", None, b"", 42):
        with pytest.raises(InvalidInputError):
            KeyIssuer(url, signing_secret=bad)  # type: ignore[arg-type]


def test_previous_signing_secrets_keep_old_keys_and_rehash_them_once_adopted(db_url: str) -> None:
    old = KeyIssuer(db_url, signing_secret="old-signing-secret-0123456789")
    org = old.create_organization("Acme")
    made = old.create_key(org.id)
    old_hash = raw_rows(old, "issued_keys")[0]["key_hash"]
    old.close()

    rotated_only = KeyIssuer(db_url, signing_secret="new-signing-secret-0123456789", cache_ttl=0)
    with pytest.raises(InvalidKeyError):  # without the old secret the key is unknown
        rotated_only.validate_key(made.plaintext)
    rotated_only.close()

    new = KeyIssuer(
        db_url,
        signing_secret="new-signing-secret-0123456789",
        previous_signing_secrets=["old-signing-secret-0123456789"],
    )
    assert new.validate_key(made.plaintext).use_count == 1
    assert raw_rows(new, "issued_keys")[0]["key_hash"] == old_hash  # not before the commit
    new.adopt_signing_secret()
    new.cache.clear()
    assert new.validate_key(made.plaintext).use_count == 2
    (row,) = raw_rows(new, "issued_keys")
    assert row["key_hash"] != old_hash and row["pepper"] == new.peppers.current
    new.close()
    only_new = KeyIssuer(db_url, signing_secret="new-signing-secret-0123456789")
    assert only_new.validate_key(made.plaintext).use_count == 3  # rehashed: the old one can go
    only_new.close()


def test_unknown_well_formed_key(issuer: KeyIssuer, org) -> None:
    with pytest.raises(InvalidKeyError, match="not found"):
        issuer.validate_key(issuer.format.generate())


def test_a_newer_schema_is_refused(db_url: str) -> None:
    iss = KeyIssuer(db_url, signing_secret=SECRET)
    with iss._guard("test"):
        iss.db.conn.execute(
            sa.text("UPDATE byok_meta SET value = '99' WHERE name = 'schema:issuing'")
        )
    iss.close()
    with pytest.raises(StorageError, match="schema version 99"):
        KeyIssuer(db_url, signing_secret=SECRET)


# --------------------------------------------------------------------------- tenancy


@pytest.fixture
def two_orgs(issuer: KeyIssuer):
    a, b = issuer.create_organization("A"), issuer.create_organization("B")
    pa, pb = issuer.create_project(a.id, "v1"), issuer.create_project(b.id, "v1")
    xa, xb = issuer.create_product(a.id, "api"), issuer.create_product(b.id, "api")
    issuer.add_product_to_project(xa.id, pa.id)
    issuer.add_product_to_project(xa.id, pa.id)  # twice: a no-op
    issuer.add_product_to_project(xb.id, pb.id)
    return a, b, pa, pb, xa, xb


def test_a_key_of_one_org_never_validates_for_another(issuer: KeyIssuer, two_orgs) -> None:
    a, b, pa, pb, xa, xb = two_orgs
    key_b = issuer.create_key(b.id).plaintext
    assert issuer.validate_key(key_b, org_id=b.id, project_id=pb.id, product_id=xb.id)
    for kw in ({"org_id": a.id}, {"project_id": pa.id}, {"product_id": xa.id}):
        with pytest.raises(InsufficientScopeError):
            issuer.validate_key(key_b, **kw)
    assert issuer.get_key(issuer.list_org_keys(b.id)[0].id).use_count == 1  # refusals not counted


def test_a_project_key_only_validates_for_products_linked_to_its_project(
    issuer: KeyIssuer, two_orgs
) -> None:
    a, _, pa, _, xa, _ = two_orgs
    unlinked = issuer.create_product(a.id, "other")
    key = issuer.create_key(a.id, project_id=pa.id).plaintext
    assert issuer.validate_key(key, product_id=xa.id).project_id == pa.id
    with pytest.raises(InsufficientScopeError):
        issuer.validate_key(key, product_id=unlinked.id)
    issuer.add_product_to_project(unlinked.id, pa.id)
    assert issuer.validate_key(key, product_id=unlinked.id)


def test_create_key_refuses_foreign_or_unlinked_scopes(issuer: KeyIssuer, two_orgs) -> None:
    a, _, pa, pb, xa, xb = two_orgs
    with pytest.raises(InsufficientScopeError):
        issuer.create_key(a.id, project_id=pb.id)
    with pytest.raises(InsufficientScopeError):
        issuer.create_key(a.id, product_id=xb.id)
    lone = issuer.create_product(a.id, "lone")
    with pytest.raises(InsufficientScopeError, match="not linked"):
        issuer.create_key(a.id, project_id=pa.id, product_id=lone.id)
    with pytest.raises(InvalidInputError):
        issuer.add_product_to_project(xb.id, pa.id)
    assert issuer.create_key(a.id, project_id=pa.id, product_id=xa.id).key.product_id == xa.id


@pytest.mark.parametrize(
    "bad", ["nope", "", None, 42, "0" * 36, "12345678-1234-1234-1234-1234567890ab"]
)
def test_unknown_or_malformed_ids_are_typed_errors(issuer: KeyIssuer, bad: object) -> None:
    calls = [
        lambda: issuer.get_key(bad),
        lambda: issuer.revoke_key(bad),
        lambda: issuer.delete_key(bad),
        lambda: issuer.use_organization(bad),
        lambda: issuer.create_project(bad, "x"),
        lambda: issuer.list_project_keys(bad),
        lambda: issuer.create_key(bad),
    ]
    for call in calls:
        with pytest.raises(NotFoundError):
            call()


def test_a_key_passed_as_an_id_is_never_echoed(issuer: KeyIssuer, org) -> None:
    made = issuer.create_key(org.id)
    for call in (issuer.get_key, issuer.revoke_key, issuer.use_organization):
        with pytest.raises(NotFoundError) as e:
            call(made.plaintext)
        assert made.plaintext[3:12] not in str(e.value)


def test_old_usage_rows_are_pruned_while_validating(issuer: KeyIssuer, org, clock: Clock) -> None:
    made = issuer.create_key(org.id)
    issuer.validate_key(made.plaintext)  # day 0, counted in the key's row
    clock.advance(days=450)
    issuer.validate_key(made.plaintext)  # day 0 moves to issued_key_usage, is over 400 days old
    recent = clock.now.date().isoformat()
    clock.advance(days=1)
    issuer.validate_key(made.plaintext)  # day 450 moves to the table, and stays
    assert {r["day"] for r in raw_rows(issuer, "issued_key_usage")} == {recent}
    assert [u.count for u in issuer.key_usage(made.key.id, days=2)] == [1, 1]


def test_get_or_create_is_idempotent_and_create_names_the_existing_one(issuer: KeyIssuer) -> None:
    org, created = issuer.get_or_create_organization("Acme")
    again, created_again = issuer.get_or_create_organization("Acme")
    assert created and not created_again and again == org
    with pytest.raises(APIKeyError) as e:
        issuer.create_organization("Acme")
    assert e.value.existing_id == org.id
    p, _ = issuer.get_or_create_project(org.id, "v1")
    assert issuer.get_or_create_project(str(org.id).upper(), "v1") == (p, False)
    assert [x.id for x in issuer.list_projects(org.id)] == [p.id]
    assert issuer.list_organizations() == [org]


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "a\x00b", None, 5])
def test_bad_names_are_refused(issuer: KeyIssuer, name: object) -> None:
    with pytest.raises(InvalidInputError):
        issuer.create_organization(name)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- expiry and status


def test_naive_datetimes_are_refused_with_a_clear_error() -> None:
    with pytest.raises(InvalidInputError, match="timezone-aware"):
        KeyMetadata(expires_at=datetime(2030, 1, 1))
    with pytest.raises(ValidationError):
        KeyMetadata(expires_at="2030-01-01")  # type: ignore[arg-type]


def test_expiry_and_status_filters(issuer: KeyIssuer, org, clock: Clock) -> None:
    p = issuer.create_project(org.id, "v1")
    soon = clock.now + timedelta(hours=1)
    other_tz = timezone(timedelta(hours=5))
    a = issuer.create_key(
        org.id, project_id=p.id, metadata=KeyMetadata(expires_at=soon.astimezone(other_tz))
    )
    clock.advance(seconds=1)  # listings are oldest first
    b = issuer.create_key(org.id, project_id=p.id)
    clock.advance(seconds=1)
    c = issuer.create_key(org.id, project_id=p.id)
    issuer.revoke_key(c.key.id)
    assert a.key.metadata.expires_at == soon and a.key.metadata.expires_at.tzinfo is UTC
    issuer.validate_key(a.plaintext)
    clock.advance(hours=1, seconds=-2)
    with pytest.raises(ExpiredKeyError) as e:
        issuer.validate_key(a.plaintext)
    assert e.value.expired_at == soon
    ids = lambda s: [k.id for k in issuer.list_project_keys(p.id, status=s)]  # noqa: E731
    assert ids(KeyStatus.active) == [b.key.id]
    assert ids(KeyStatus.expired) == [a.key.id]
    assert ids(KeyStatus.revoked) == [c.key.id]
    assert ids(KeyStatus.all) == [a.key.id, b.key.id, c.key.id]
    assert ids("active") == [b.key.id]
    with pytest.raises(InvalidInputError):
        issuer.list_org_keys(org.id, status="bogus")


# --------------------------------------------------------------------------- usage


def test_only_successes_count(issuer: KeyIssuer, org, clock: Clock) -> None:
    made = issuer.create_key(org.id, metadata=KeyMetadata(scopes=["read"]))
    for _ in range(3):
        issuer.validate_key(made.plaintext, required_scopes=["read"])
    with pytest.raises(InsufficientScopeError) as e:
        issuer.validate_key(made.plaintext, required_scopes=["read", "write", "admin"])
    assert e.value.missing_scopes == ["write", "admin"]
    issuer.validate_key(made.plaintext, track_usage=False)
    key = issuer.get_key(made.key.id)
    assert key.use_count == 3 and key.last_used_at == clock.now


def test_usage_per_day_follows_the_days(issuer: KeyIssuer, org, clock: Clock) -> None:
    made = issuer.create_key(org.id)
    for n in (2, 0, 5, 1):
        for _ in range(n):
            issuer.validate_key(made.plaintext)
        clock.advance(days=1)
    clock.advance(days=-1)
    usage = issuer.key_usage(made.key.id, days=5)
    assert [u.count for u in usage] == [0, 2, 0, 5, 1]
    assert usage[-1].day == clock.now.date()
    assert issuer.get_key(made.key.id).use_count == 8
    with pytest.raises(InvalidInputError):
        issuer.key_usage(made.key.id, days=0)


def test_usage_rows_are_pruned_and_go_with_deleted_keys(
    issuer: KeyIssuer, org, clock: Clock
) -> None:
    made = issuer.create_key(org.id)
    for _ in range(3):
        issuer.validate_key(made.plaintext)
        clock.advance(days=10)
    issuer.validate_key(made.plaintext)
    assert len(raw_rows(issuer, "issued_key_usage")) == 3
    assert issuer.prune_usage(keep_days=15) == 2
    issuer.delete_key(made.key.id)
    assert raw_rows(issuer, "issued_key_usage") == [] and raw_rows(issuer, "issued_keys") == []


# --------------------------------------------------------------------------- rate limits


def test_a_limit_lets_exactly_n_through_and_refusals_cost_nothing(
    issuer: KeyIssuer, org, clock: Clock
) -> None:
    meta = KeyMetadata(rate_limit=RateLimit(5, RateLimitWindow.minute))
    made = issuer.create_key(org.id, metadata=meta)
    for _ in range(5):
        issuer.validate_key(made.plaintext)
    for _ in range(3):
        with pytest.raises(QuotaError) as e:
            issuer.validate_key(made.plaintext)
    assert e.value.retry_after_seconds == 61 and e.value.limit == 5
    assert issuer.get_key(made.key.id).use_count == 5
    assert issuer.validate_key(made.plaintext, check_rate_limit=False).use_count == 6


def test_retry_after_is_right_to_the_second(issuer: KeyIssuer, org, clock: Clock) -> None:
    made = issuer.create_key(org.id, metadata=KeyMetadata(rate_limit=RateLimit(3, "minute")))
    issuer.validate_key(made.plaintext)
    clock.advance(seconds=20.5)
    issuer.validate_key(made.plaintext)
    issuer.validate_key(made.plaintext)
    clock.advance(seconds=10)
    with pytest.raises(QuotaError) as e:
        issuer.validate_key(made.plaintext)
    wait = e.value.retry_after_seconds
    assert wait == 31  # the first pass (t=0) leaves the counted span at t=61
    clock.advance(seconds=wait - 1)
    with pytest.raises(QuotaError):
        issuer.validate_key(made.plaintext)
    clock.advance(seconds=1)
    issuer.validate_key(made.plaintext)


def test_no_burst_at_a_window_edge(issuer: KeyIssuer, org, clock: Clock) -> None:
    """A fixed window lets 2N through around its edge; the sliding window never more than N in
    any window-long span."""
    clock.now = datetime(2030, 1, 15, 12, 0, 59, 500_000, tzinfo=UTC)  # just before a minute turns
    made = issuer.create_key(org.id, metadata=KeyMetadata(rate_limit=RateLimit(10, "minute")))
    passes = []
    for _ in range(400):  # one call every 0.5 s for 200 s
        try:
            issuer.validate_key(made.plaintext)
            passes.append(clock.now)
        except QuotaError:
            pass
        clock.advance(seconds=0.5)
    assert len(passes) >= 30
    for i, t in enumerate(passes):
        in_span = [p for p in passes[i:] if p - t < timedelta(minutes=1)]
        assert len(in_span) <= 10


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "10", None])
def test_bad_limits_are_refused(bad: object) -> None:
    with pytest.raises(InvalidInputError):
        RateLimit(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        RateLimit(10, "fortnight")  # type: ignore[arg-type]


def test_a_changed_limit_applies_at_once(issuer: KeyIssuer, org) -> None:
    made = issuer.create_key(org.id, metadata=KeyMetadata(rate_limit=RateLimit(1, "hour")))
    issuer.validate_key(made.plaintext)
    with pytest.raises(QuotaError):
        issuer.validate_key(made.plaintext)
    issuer.update_key(made.key.id, metadata=KeyMetadata(rate_limit=RateLimit(2, "hour")))
    issuer.validate_key(made.plaintext)
    with pytest.raises(QuotaError):
        issuer.validate_key(made.plaintext)


# --------------------------------------------------------------------------- credits


def test_credits_are_spent_and_refilled(issuer: KeyIssuer, org, clock: Clock) -> None:
    meta = KeyMetadata(remaining=2, refill=Refill(3, RefillInterval.daily))
    made = issuer.create_key(org.id, metadata=meta)
    assert issuer.validate_key(made.plaintext).metadata.remaining == 1
    assert issuer.validate_key(made.plaintext).metadata.remaining == 0
    with pytest.raises(CreditsExhaustedError) as e:
        issuer.validate_key(made.plaintext)
    assert e.value.retry_after_seconds == 12 * 3600  # next 00:00 UTC
    assert isinstance(e.value, QuotaError)
    clock.advance(hours=12)
    assert issuer.validate_key(made.plaintext).metadata.remaining == 2
    assert issuer.get_key(made.key.id).metadata.remaining == 2


def test_credits_without_refill_and_monthly(issuer: KeyIssuer, org, clock: Clock) -> None:
    one = issuer.create_key(org.id, metadata=KeyMetadata(remaining=1))
    issuer.validate_key(one.plaintext)
    with pytest.raises(CreditsExhaustedError) as e:
        issuer.validate_key(one.plaintext)
    assert e.value.retry_after_seconds is None
    monthly = KeyMetadata(remaining=0, refill=Refill(5, "monthly"))
    m = issuer.create_key(org.id, metadata=monthly)
    with pytest.raises(CreditsExhaustedError) as e:
        issuer.validate_key(m.plaintext)
    assert e.value.retry_after_seconds == int(
        (datetime(2030, 2, 1, tzinfo=UTC) - clock.now).total_seconds()
    )
    with pytest.raises(InvalidInputError):
        KeyMetadata(refill=Refill(5))
    with pytest.raises(InvalidInputError):
        KeyMetadata(remaining=-1)


# --------------------------------------------------------------------------- lifecycle


def test_update_in_place_and_audit(issuer: KeyIssuer, org) -> None:
    made = issuer.create_key(org.id, metadata=KeyMetadata(name="a", scopes=["read"]), actor="alice")
    with pytest.raises(InsufficientScopeError):
        issuer.validate_key(made.plaintext, required_scope="admin")
    up = issuer.update_key(
        made.key.id, metadata=KeyMetadata(name="b", scopes=["read", "admin"]), actor="bob"
    )
    assert up.id == made.key.id and up.metadata.name == "b"
    assert issuer.validate_key(made.plaintext, required_scope="admin").metadata.scopes == [
        "read",
        "admin",
    ]
    issuer.revoke_key(made.key.id, actor="carol")
    issuer.delete_key(made.key.id, actor="dave")
    events = issuer.list_audit_events(org.id)
    assert [(e.action, e.actor) for e in events] == [
        (AuditAction.delete, "dave"),
        (AuditAction.revoke, "carol"),
        (AuditAction.update, "bob"),
        (AuditAction.create, "alice"),
    ]
    assert events[2].changes == {"name": ["a", "b"], "scopes": [["read"], ["read", "admin"]]}
    assert all(e.key_id == made.key.id and e.org_id == org.id for e in events)
    assert (
        issuer.list_audit_events(org.id, key_id=made.key.id, limit=1)[0].action
        is AuditAction.delete
    )
    with pytest.raises(NotFoundError):
        issuer.get_key(made.key.id)


def test_revoke_is_soft_and_immediate(issuer: KeyIssuer, org) -> None:
    made = issuer.create_key(org.id)
    issuer.validate_key(made.plaintext, track_usage=False)  # cached now
    first = issuer.revoke_key(made.key.id)
    with pytest.raises(RevokedKeyError):
        issuer.validate_key(made.plaintext, track_usage=False)
    assert issuer.revoke_key(made.key.id).revoked_at == first.revoked_at
    assert issuer.get_key(made.key.id).is_revoked


def test_delete_is_never_blocked_by_counters(issuer: KeyIssuer, org) -> None:
    made = issuer.create_key(org.id, metadata=KeyMetadata(rate_limit=RateLimit(10, "second")))
    for _ in range(3):
        issuer.validate_key(made.plaintext)
    issuer.delete_key(made.key.id)
    with pytest.raises(InvalidKeyError):
        issuer.validate_key(made.plaintext)


def test_roll_with_grace(issuer: KeyIssuer, org, clock: Clock) -> None:
    meta = KeyMetadata(name="k", scopes=["read"], rate_limit=RateLimit(100, "minute"))
    old = issuer.create_key(org.id, metadata=meta)
    new = issuer.roll_key(old.key.id, grace=timedelta(hours=1), actor="ops")
    assert new.plaintext != old.plaintext and new.key.metadata.scopes == ["read"]
    assert new.key.metadata.rate_limit == meta.rate_limit and new.key.org_id == org.id
    issuer.validate_key(old.plaintext)
    issuer.validate_key(new.plaintext)
    clock.advance(hours=1)
    with pytest.raises(ExpiredKeyError):
        issuer.validate_key(old.plaintext)
    issuer.validate_key(new.plaintext)
    roll = next(e for e in issuer.list_audit_events(org.id) if e.action is AuditAction.roll)
    assert roll.changes["new_key_id"] == new.key.id and roll.actor == "ops"
    with pytest.raises(ExpiredKeyError):
        issuer.roll_key(old.key.id)
    with pytest.raises(InvalidInputError):
        issuer.roll_key(new.key.id, grace=timedelta(seconds=-1))


def test_roll_never_extends_an_earlier_expiry(issuer: KeyIssuer, org, clock: Clock) -> None:
    soon = clock.now + timedelta(minutes=5)
    old = issuer.create_key(org.id, metadata=KeyMetadata(expires_at=soon))
    issuer.roll_key(old.key.id, grace=timedelta(days=1))
    assert issuer.get_key(old.key.id).metadata.expires_at == soon


def test_metadata_custom_is_json_and_private(issuer: KeyIssuer, org) -> None:
    custom = {"user_id": "u_1", "plan": {"tier": 2}}
    made = issuer.create_key(org.id, metadata=KeyMetadata(custom=custom))
    custom["plan"]["tier"] = 3
    assert issuer.get_key(made.key.id).metadata.custom == {"user_id": "u_1", "plan": {"tier": 2}}
    with pytest.raises(InvalidInputError):
        KeyMetadata(custom={"x": object()})
    with pytest.raises(InvalidInputError):
        KeyMetadata(scopes="read")  # type: ignore[arg-type]
