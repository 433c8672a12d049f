"""BYOKManager: the reference API end to end, events, TTL, and the swap matrix through storage."""

from __future__ import annotations

import base64
import itertools
import logging
from datetime import timedelta

import pytest

from byok.core.storage import BYOKManager, DatabaseStorage, HybridStorage, SessionStorage
from byok.core.types import (
    APIKey,
    BYOKConfig,
    EncryptionError,
    EventKind,
    KeyEvent,
    StorageBackend,
    StorageError,
    ValidationError,
    utcnow,
)
from tests.support.storage import SECRET, FakeRequest

SECRETS = {v: f"manager-secret-v{v}-0123456789abcdef" for v in (1, 2, 3)}  # one per key version
PROVIDERS = ["openai", "anthropic", "google", "mistral", "groq"]
VERSIONS = [1, 2, 3]
CANARY = "sk-manager-CANARY-0123456789abcdef"  # plaintext that must never appear in events/logs


def versioned(version: int, db_url: str | None = None, **config) -> BYOKManager:
    """A manager whose current key is SECRETS[version], older versions listed as previous."""
    previous = {v: SECRETS[v] for v in VERSIONS if v < version}
    return BYOKManager(
        SECRETS[version],
        db_url=db_url,
        config=BYOKConfig(key_version=version, previous_keys=previous, **config),
    )


def relabel(value: bytes, version: int) -> bytes:
    """The same sealed value claiming another key version."""
    return value[:1] + version.to_bytes(2, "big") + value[3:]


# --------------------------------------------------------------------------- construction


def test_construction_runs_no_password_kdf(monkeypatch: pytest.MonkeyPatch):
    """The reference ran PBKDF2 (≈10 ms) on every construction; byok derives by HKDF. Checked by
    what runs, not by a clock (bench/core.py times construction against the reference)."""
    import byok.core.security as security

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("PBKDF2 ran while building a manager")

    monkeypatch.setattr(security, "PBKDF2HMAC", refuse)  # the only place byok takes it from
    for backend in StorageBackend:
        BYOKManager(SECRET, config=BYOKConfig(storage_backend=backend), db_url="sqlite://")
    with pytest.raises(AssertionError, match="PBKDF2 ran"):  # the trap is armed
        security.generate_encryption_key("correct horse", b"s" * 16)


def test_backends_are_chosen_from_config_and_db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'k.db'}"
    assert isinstance(BYOKManager(SECRET).storage, SessionStorage)
    config = BYOKConfig()
    db = BYOKManager(SECRET, db_url=url, config=config)
    assert isinstance(db.storage, DatabaseStorage) and db.backend is StorageBackend.DATABASE
    assert config.storage_backend is StorageBackend.SESSION  # the caller's config is untouched
    hybrid = BYOKManager(SECRET, url, BYOKConfig(storage_backend=StorageBackend.HYBRID))
    assert isinstance(hybrid.storage, HybridStorage)
    assert db.database is db.storage and hybrid.database is hybrid.storage.database
    assert BYOKManager(SECRET).database is None
    db.database.close()
    hybrid.database.close()


def test_short_secret_is_refused():
    with pytest.raises(ValidationError, match="too short"):
        BYOKManager("secret")


def test_raw_encryption_key_in_config_works():
    raw = bytes(range(32))
    req = FakeRequest()
    a = BYOKManager("unused-secret-0123456789", config=BYOKConfig(encryption_key=raw))
    a.set_key(req, "openai", "sk-raw-key-000000")
    b = BYOKManager("another-unused-secret-000", config=BYOKConfig(encryption_key=raw))
    assert b.get_key(req, "openai") == "sk-raw-key-000000"
    with pytest.raises(EncryptionError):
        BYOKManager("unused-secret-0123456789").get_key(req, "openai")


# --------------------------------------------------------------------------- reference API (session)


def test_reference_api_round_trip_in_the_session():
    m = BYOKManager(SECRET)
    req = FakeRequest()
    assert m.get_key(req, "openai") is None and not m.has_key(req, "openai")
    m.set_key(req, "openai", "sk-proj-abcdefghijklmnopqrstuvwxyz")
    m.set_key(req, "anthropic", "sk-ant-0123456789abcdef")
    assert m.get_key(req, "openai") == "sk-proj-abcdefghijklmnopqrstuvwxyz"
    assert m.has_key(req, "openai")
    assert m.list_providers(req) == ["anthropic", "openai"]
    assert m.get_masked_key(req, "openai") == "sk-p...wxyz"
    info = m.get_key_info(req, "openai")
    assert isinstance(info, APIKey) and info.provider == "openai"
    assert info.expires_at - info.created_at == timedelta(hours=24)
    assert [k.provider for k in m.list_keys(req)] == ["anthropic", "openai"]
    m.delete_key(req, "openai")
    assert m.list_providers(req) == ["anthropic"]
    m.delete_key(req, "openai")  # absent: fine
    m.clear_keys(req)
    assert m.list_providers(req) == [] and m.get_masked_key(req, "anthropic") is None


def test_bad_input_in_the_session_stores_nothing():
    from tests.support.storage import BAD_KEYS, BAD_PROVIDERS

    m = BYOKManager(SECRET)
    req = FakeRequest({"app": "data"})
    for key in BAD_KEYS:
        with pytest.raises(ValidationError):
            m.set_key(req, "openai", key)
    for provider in BAD_PROVIDERS:
        with pytest.raises(ValidationError):
            m.set_key(req, provider, "sk-good-key-000")
    for user in ("", "x" * 256, "tab\t", True, 2.5, ["u"]):
        with pytest.raises(ValidationError):
            m.set_key(req, "openai", "sk-good-key-000", user_id=user)
    assert req.session == {"app": "data"}  # not even a session id was written


def test_get_key_info_does_not_decrypt():
    req = FakeRequest()
    BYOKManager(SECRET).set_key(req, "openai", "sk-info-only-000")
    stranger = BYOKManager("some-other-secret-0123456789")
    assert stranger.get_key_info(req, "openai").provider == "openai"
    assert stranger.has_key(req, "openai")
    with pytest.raises(EncryptionError):
        stranger.get_key(req, "openai")


def test_ttl_default_explicit_none_and_invalid():
    req = FakeRequest()
    m = BYOKManager(SECRET, config=BYOKConfig(default_ttl=None))
    m.set_key(req, "openai", "sk-no-expiry-000")
    assert m.get_key_info(req, "openai").expires_at is None
    m.set_key(req, "google", "sk-one-minute-00", ttl=timedelta(minutes=1))
    left = m.get_key_info(req, "google").expires_at - utcnow()
    assert timedelta(seconds=55) < left <= timedelta(minutes=1)
    for bad in (timedelta(0), timedelta(seconds=-1), 60, "1h", timedelta.max, True):
        with pytest.raises(ValidationError):
            m.set_key(req, "mistral", "sk-bad-ttl-00000", ttl=bad)  # type: ignore[arg-type]
    assert m.list_providers(req) == ["google", "openai"]


def test_expired_session_key_reads_as_absent_and_is_removed():
    m = BYOKManager(SECRET)
    req = FakeRequest()
    m.set_key(req, "openai", "sk-expires-soon-0", ttl=timedelta(seconds=5))
    m.set_key(req, "google", "sk-stays-00000000")
    record = m.storage.retrieve(req, "openai")
    record.expires_at = utcnow() - timedelta(seconds=1)
    m.storage.store(req, record)
    assert m.get_key(req, "openai") is None
    assert "openai" not in req.session["byok_keys"]["k"][""]
    assert m.list_providers(req) == ["google"]
    record.provider = "mistral"
    m.storage.store(req, record)
    assert m.cleanup_expired(req) == 1
    assert m.list_providers(req) == ["google"]


def test_rotate_keys_needs_a_database():
    with pytest.raises(StorageError, match="database"):
        BYOKManager(SECRET).rotate_keys()
    assert BYOKManager(SECRET).stale_count() == 0


# --------------------------------------------------------------------------- events


@pytest.fixture
def events() -> list[KeyEvent]:
    return []


def test_events_carry_masked_values_only(events, caplog, tmp_path):
    caplog.set_level(logging.DEBUG, logger="byok")
    m = BYOKManager(
        SECRET,
        db_url=f"sqlite:///{tmp_path / 'e.db'}",
        config=BYOKConfig(on_event=events.append),
    )
    m.set_key(None, "openai", CANARY, user_id="u1")
    m.get_key(None, "openai", "u1")
    m.delete_key(None, "openai", "u1")
    m.set_key(None, "openai", CANARY, user_id="u1")
    m.clear_keys(None, "u1")
    m.set_key(None, "google", CANARY, user_id="u1")
    with pytest.raises(EncryptionError):
        versioned(1, db_url=f"sqlite:///{tmp_path / 'e.db'}").get_key(None, "google", "u1")
    m.rotate_keys()
    kinds = [e.kind for e in events]
    assert kinds == [
        EventKind.SET,
        EventKind.DELETE,
        EventKind.SET,
        EventKind.CLEAR,
        EventKind.SET,
        EventKind.ROTATE,
    ]
    set_event = events[0]
    assert set_event.provider == "openai" and set_event.user_id == "u1"
    assert set_event.masked == "sk-m...cdef"
    assert set_event.fingerprint == m.keyring.fingerprint(CANARY)
    for event in events:
        assert CANARY not in repr(event)
        assert CANARY[4:-4] not in repr(event)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "sk-m...cdef" in text and "decrypt_failure" in text
    assert CANARY not in text and CANARY[4:-4] not in text
    m.database.close()


def test_a_failing_hook_never_breaks_the_operation(caplog):
    def hook(event: KeyEvent) -> None:
        raise RuntimeError("hook is broken")

    m = BYOKManager(SECRET, config=BYOKConfig(on_event=hook))
    req = FakeRequest()
    with caplog.at_level(logging.ERROR, logger="byok"):
        m.set_key(req, "openai", CANARY)
    assert m.get_key(req, "openai") == CANARY
    assert any("on_event hook failed" in r.getMessage() for r in caplog.records)
    assert all(CANARY not in r.getMessage() for r in caplog.records)


def test_expire_and_decrypt_failure_events(events):
    m = BYOKManager(SECRET, config=BYOKConfig(on_event=events.append))
    req = FakeRequest()
    m.set_key(req, "openai", CANARY)
    record = m.storage.retrieve(req, "openai")
    record.expires_at = utcnow() - timedelta(seconds=1)
    m.storage.store(req, record)
    assert m.get_key(req, "openai") is None
    assert [e.kind for e in events] == [EventKind.SET, EventKind.EXPIRE]
    m.set_key(req, "google", CANARY)
    other = BYOKManager("other-secret-0123456789abc", config=BYOKConfig(on_event=events.append))
    with pytest.raises(EncryptionError) as info:
        other.get_key(req, "google")
    assert CANARY not in str(info.value)
    assert events[-1].kind is EventKind.DECRYPT_FAILURE and events[-1].masked is None


# --------------------------------------------------------------------------- swap matrix


def test_swap_matrix_through_the_database(db_url):
    """5 providers × 4 users × 3 key versions, moved between rows with SQL: 100% rejected."""
    url = db_url
    managers = {v: versioned(v, db_url=url) for v in VERSIONS}
    reader = managers[3]
    users = ["alice", "bob", "carol", "dave"]
    slots = list(itertools.product(users, PROVIDERS, VERSIONS))
    values = {}
    for u, p, v in slots:
        managers[v].set_key(None, p, f"sk-{u}-{p}-v{v}-0000", user_id=u)
        values[(u, p, v)] = managers[v].database.retrieve(None, p, u).encrypted_value
    storage = reader.database
    table = storage.table.table

    def put(user: str, provider: str, value: bytes) -> None:
        with storage._guard("test"):
            storage.db.execute(
                table.update()
                .where(table.c.user_id == user, table.c.provider == provider)
                .values(encrypted_value=value)
            )

    rejected, accepted = 0, 0
    for (u, p, v), value in values.items():
        for u2, p2, v2 in slots:
            if (u2, p2, v2) == (u, p, v):
                continue
            put(u2, p2, relabel(value, v2))
            with pytest.raises(EncryptionError):
                reader.get_key(None, p2, u2)
            rejected += 1
        put(u, p, value)
        assert reader.get_key(None, p, u) == f"sk-{u}-{p}-v{v}-0000"
        accepted += 1
    assert (rejected, accepted) == (3540, 60)
    assert storage.count() == 20  # nothing was deleted by the failures
    print(
        f"\nswap matrix ({url.split(':')[0]}): {rejected}/{rejected} rejected, {accepted}/60 read in place"
    )
    for m in managers.values():
        m.database.close()


def test_swap_matrix_through_session_cookies():
    """5 providers × 4 owners (2 anonymous sessions, 2 signed-in users) × 3 versions."""
    managers = {v: versioned(v) for v in VERSIONS}
    reader = managers[3]
    a, b = FakeRequest(), FakeRequest()
    owners = [(a, None), (b, None), (a, "alice"), (b, "bob")]
    slots = list(itertools.product(range(4), PROVIDERS, VERSIONS))

    def cell(owner: int, provider: str) -> list:
        req, user = owners[owner]
        return req.session["byok_keys"]["k"][user or ""][provider]

    def token(value: bytes) -> str:
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode()

    values = {}
    for o, p, v in slots:
        req, user = owners[o]
        managers[v].set_key(req, p, f"sk-{o}-{p}-v{v}-0000", user_id=user)
        values[(o, p, v)] = managers[v].storage.retrieve(req, p, user).encrypted_value
    rejected, accepted = 0, 0
    for (o, p, v), value in values.items():
        for o2, p2, v2 in slots:
            if (o2, p2, v2) == (o, p, v):
                continue
            cell(o2, p2)[0] = token(relabel(value, v2))
            req, user = owners[o2]
            with pytest.raises(EncryptionError):
                reader.get_key(req, p2, user_id=user)
            rejected += 1
        cell(o, p)[0] = token(value)
        req, user = owners[o]
        assert reader.get_key(req, p, user_id=user) == f"sk-{o}-{p}-v{v}-0000"
        accepted += 1
    assert (rejected, accepted) == (3540, 60)
    print(f"\nswap matrix (session): {rejected}/{rejected} rejected, {accepted}/60 read in place")
