"""A key's lifetime when the app does not choose one: database (and hybrid) keys are kept until
removed, session keys expire after 24 hours; `ttl=` per key and an explicit `default_ttl` win."""

from __future__ import annotations

from datetime import timedelta

import pytest

from byok import BYOKConfig, BYOKManager, KeyLifetime, StorageBackend
from byok.core.types import utcnow
from tests.support import SECRET
from tests.support.storage import FakeRequest


def _lifetime(manager: BYOKManager, request: FakeRequest, user_id: str | None) -> timedelta | None:
    """How long the openai key just saved lives (None = never expires)."""
    (record,) = manager.list_keys(request, user_id)
    return None if record.expires_at is None else record.expires_at - record.created_at


def test_the_default_is_left_to_the_storage():
    assert BYOKConfig().default_ttl is KeyLifetime.BY_STORAGE


@pytest.mark.parametrize("backend", [StorageBackend.DATABASE, StorageBackend.HYBRID])
def test_database_keys_never_expire_unless_the_app_says_so(db_url, backend):
    m = BYOKManager(SECRET, db_url=db_url, config=BYOKConfig(storage_backend=backend))
    try:
        request = FakeRequest()
        m.set_key(request, "openai", "sk-kept-across-devices-0", user_id="u1")
        assert _lifetime(m, request, "u1") is None
        # a year later (the cleanup's clock) it is still there
        assert m.database.delete_expired(now=utcnow() + timedelta(days=365)) == 0
        assert m.get_key(FakeRequest(), "openai", "u1") == "sk-kept-across-devices-0"
    finally:
        m.database.close()


def test_session_keys_keep_their_day():
    m = BYOKManager(SECRET)
    request = FakeRequest()
    m.set_key(request, "openai", "sk-session-only-00000")
    assert _lifetime(m, request, None) == timedelta(hours=24)


def test_a_ttl_per_key_and_an_explicit_default_still_apply(tmp_path):
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    m = BYOKManager(SECRET, db_url=url, config=BYOKConfig(default_ttl=timedelta(hours=2)))
    try:
        request = FakeRequest()
        m.set_key(request, "openai", "sk-two-hours-000000", user_id="u1")
        assert _lifetime(m, request, "u1") == timedelta(hours=2)
        m.set_key(request, "openai", "sk-one-hour-0000000", user_id="u1", ttl=timedelta(hours=1))
        assert _lifetime(m, request, "u1") == timedelta(hours=1)
    finally:
        m.database.close()
    session = BYOKManager(SECRET, config=BYOKConfig(default_ttl=None))
    request = FakeRequest()
    session.set_key(request, "openai", "sk-session-forever-000")
    assert _lifetime(session, request, None) is None
