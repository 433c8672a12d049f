"""byok.core.types: data, config defaults, errors and the storage protocol."""

from __future__ import annotations

import dataclasses
import warnings
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from byok.core.types import (
    MAX_KEY_LENGTH,
    PROVIDER_PATTERN,
    APIKey,
    BYOKConfig,
    BYOKException,
    EncryptionError,
    EventKind,
    KeyEvent,
    KeyLifetime,
    KeyNotFoundError,
    KeyStorage,
    SecurityWarning,
    SessionFullError,
    StorageBackend,
    StorageError,
    ValidationError,
    utcnow,
)

# --------------------------------------------------------------------------- StorageBackend


def test_storage_backend_values_match_the_reference():
    assert {b.name: b.value for b in StorageBackend} == {
        "SESSION": "session",
        "DATABASE": "database",
        "HYBRID": "hybrid",
    }
    assert StorageBackend("hybrid") is StorageBackend.HYBRID


# --------------------------------------------------------------------------- APIKey


def test_apikey_defaults_are_timezone_aware_utc():
    before = utcnow()
    key = APIKey("openai", b"sealed")
    assert key.created_at.tzinfo is not None
    assert key.created_at.utcoffset() == timedelta(0)
    assert before <= key.created_at <= utcnow()
    assert key.expires_at is None and key.user_id is None
    assert not key.is_expired


def test_apikey_naive_datetimes_are_read_as_local_time(local_zone):
    local_zone("Asia/Tokyo")  # UTC+9, no daylight saving
    naive = datetime(2030, 1, 2, 12, 4, 5)
    key = APIKey("openai", b"x", created_at=naive, expires_at=naive)
    assert key.created_at == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert key.expires_at.tzinfo is UTC
    local_zone("America/New_York")  # what the reference's examples pass: datetime.now()
    assert not APIKey("openai", b"x", expires_at=datetime.now() + timedelta(hours=1)).is_expired
    assert APIKey("openai", b"x", expires_at=datetime.now() - timedelta(minutes=1)).is_expired
    with pytest.raises(ValidationError):
        APIKey("openai", b"x", expires_at="2030-01-01")  # type: ignore[arg-type]


def test_apikey_other_timezones_are_converted_to_utc():
    paris = timezone(timedelta(hours=2))
    key = APIKey("openai", b"x", created_at=datetime(2030, 6, 1, 12, 0, tzinfo=paris))
    assert key.created_at.tzinfo is UTC
    assert key.created_at.hour == 10


def test_apikey_is_expired():
    assert APIKey("p", b"x", expires_at=utcnow() - timedelta(seconds=1)).is_expired
    assert not APIKey("p", b"x", expires_at=utcnow() + timedelta(hours=1)).is_expired
    assert not APIKey("p", b"x", expires_at=None).is_expired


def test_apikey_to_dict_is_json_safe_and_round_trips():
    import json

    key = APIKey(
        "anthropic",
        bytes(range(256)),
        created_at=datetime(2031, 2, 3, 4, 5, 6, 789, tzinfo=UTC),
        expires_at=datetime(2032, 2, 3, tzinfo=UTC),
        user_id="u-42",
    )
    data = key.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["encrypted_value"] == bytes(range(256)).hex()
    assert data["created_at"].endswith("+00:00")
    back = APIKey.from_dict(data)
    assert back == key
    assert back.created_at.tzinfo is not None


def test_apikey_without_expiry_round_trips():
    key = APIKey("google", b"\x00\x01", user_id=None)
    back = APIKey.from_dict(key.to_dict())
    assert back == key and back.expires_at is None


@settings(max_examples=200, deadline=None)
@given(
    provider=st.from_regex(PROVIDER_PATTERN, fullmatch=True),
    value=st.binary(max_size=300),
    created=st.datetimes(timezones=st.timezones()),
    expires=st.none() | st.datetimes(timezones=st.just(UTC)),
    user=st.none() | st.text(min_size=1, max_size=20),
)
def test_apikey_round_trip_property(provider, value, created, expires, user):
    key = APIKey(provider, value, created, expires, user)
    back = APIKey.from_dict(key.to_dict())
    assert back == key
    assert back.created_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"provider": "p"},
        {"provider": "p", "encrypted_value": "zz", "created_at": "2030-01-01T00:00:00+00:00"},
        {"provider": "p", "encrypted_value": "00", "created_at": "not a date"},
        {"provider": "p", "encrypted_value": 5, "created_at": "2030-01-01T00:00:00+00:00"},
        {"provider": "p", "encrypted_value": "00", "created_at": 12},
        {
            "provider": "p",
            "encrypted_value": "00",
            "created_at": "2030-01-01T00:00:00",
            "expires_at": "soon",
        },
        None,
        [1, 2],
    ],
)
def test_apikey_from_dict_rejects_malformed_data_with_storage_error(data):
    with pytest.raises(StorageError, match="malformed APIKey data"):
        APIKey.from_dict(data)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- config


def test_config_keeps_the_reference_defaults():
    c = BYOKConfig()
    assert c.storage_backend is StorageBackend.SESSION
    assert c.encryption_key is None
    assert (
        c.default_ttl is KeyLifetime.BY_STORAGE
    )  # session keys 24 h (the reference's), database never
    assert c.session_key_prefix == "byok_"
    assert c.db_table_name == "user_api_keys"
    assert c.auto_cleanup is True
    assert c.require_https is True


def test_config_byok_additions_have_safe_defaults():
    c = BYOKConfig()
    assert c.key_version == 1 and dict(c.previous_keys) == {} and c.min_decrypt_version == 1
    assert c.max_key_length == MAX_KEY_LENGTH
    assert c.cookie_limit == 4096
    assert c.on_event is None
    # mutable defaults are not shared between instances
    assert BYOKConfig().previous_keys is not c.previous_keys


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "error",
    [EncryptionError, StorageError, SessionFullError, KeyNotFoundError, ValidationError],
)
def test_every_error_is_a_byok_exception(error):
    assert issubclass(error, BYOKException)
    with pytest.raises(BYOKException):
        raise error("boom")


def test_session_full_is_a_storage_error_and_validation_is_a_value_error():
    assert issubclass(SessionFullError, StorageError)
    assert issubclass(ValidationError, ValueError)


def test_security_warning_works_with_warnings_warn():
    # the reference's SecurityWarning was a plain Exception: warnings.warn raised TypeError
    assert issubclass(SecurityWarning, Warning)
    with pytest.warns(SecurityWarning, match="plain HTTP"):
        warnings.warn("keys over plain HTTP", SecurityWarning, stacklevel=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SecurityWarning)
        with pytest.raises(SecurityWarning):
            warnings.warn("now an error", SecurityWarning, stacklevel=1)
    with pytest.raises(BYOKException):
        raise SecurityWarning("also raisable")


# --------------------------------------------------------------------------- events, protocol


def test_key_event_is_frozen_and_event_kinds_are_strings():
    event = KeyEvent(EventKind.SET, "openai", "u1", "sk-...wxyz", "0123456789abcdef")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.masked = "sk-plaintext"  # type: ignore[misc]
    assert EventKind.DECRYPT_FAILURE == "decrypt_failure"
    assert {k.value for k in EventKind} >= {"set", "delete", "rotate", "decrypt_failure"}


def test_storages_satisfy_the_key_storage_protocol(tmp_path):
    from byok.core.storage import DatabaseStorage, HybridStorage, SessionStorage

    config = BYOKConfig()
    db = DatabaseStorage(config, f"sqlite:///{tmp_path / 'k.db'}")
    hybrid = HybridStorage(config, f"sqlite:///{tmp_path / 'h.db'}")
    try:
        for storage in (SessionStorage(config), db, hybrid):
            assert isinstance(storage, KeyStorage)
    finally:
        db.close()
        hybrid.database.close()
    assert not isinstance(object(), KeyStorage)


def test_provider_pattern_is_documented_and_strict():
    for ok in ("openai", "anthropic", "google-ai", "x_1", "a" * 64):
        assert PROVIDER_PATTERN.fullmatch(ok)
    for bad in ("", "OpenAI", "-x", "a" * 65, "open ai", "ü", "a/b", "a\n"):
        assert not PROVIDER_PATTERN.fullmatch(bad)
