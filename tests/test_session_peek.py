"""The session read without a record (`Backend.peek`: the owner's lone default, its cell decoded
before in this process) keeps every guarantee of the full read: the owner binding, expiry with
its cleanup, lazy rotation to the newest key version, and a key that fails to open is kept."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from byok.core.storage import BYOKManager
from byok.core.types import APIKey, BYOKConfig, EncryptionError, StorageError, utcnow
from tests.support.storage import SECRET, FakeRequest

KEY = "sk-proj-peek-0123456789abcdef"
OLD, NEW = "old-app-secret-0123456789abcdef", "new-app-secret-0123456789abcdef"


def _entry(manager: BYOKManager, request: FakeRequest) -> dict:
    return request.session[manager.storage.name]


def test_the_lone_default_is_read_through_peek_and_bound_to_its_session() -> None:
    m = BYOKManager(SECRET)
    mine = FakeRequest()
    m.set_key(mine, "openai", KEY)
    assert m.storage.peek(mine, "openai", None, None) is not None  # the fast path is taken
    assert m.get_key(mine, "openai") == KEY
    # the same cells in another session (another random id): they do not open, and are kept
    other = FakeRequest()
    m.set_key(other, "anthropic", KEY)
    entry = _entry(m, other)
    entry["k"] = copy.deepcopy(_entry(m, mine)["k"])
    assert m.storage.peek(other, "openai", None, None) is not None
    with pytest.raises(EncryptionError, match="kept"):
        m.get_key(other, "openai")
    assert "openai" in _entry(m, other)["k"][""]


def test_an_expired_lone_default_reads_as_absent_and_is_removed() -> None:
    m = BYOKManager(SECRET)
    request = FakeRequest()
    m.set_key(request, "openai", KEY)
    past = utcnow() - timedelta(hours=1)
    sealed = m.storage.retrieve(request, "openai").encrypted_value
    m.storage.store(request, APIKey("openai", sealed, past - timedelta(hours=1), past, None, ""))
    peeked = m.storage.peek(request, "openai", None, None)
    assert peeked is not None and peeked.expires <= utcnow()
    assert m.get_key(request, "openai") is None
    assert m.storage.retrieve(request, "openai") is None


def test_a_lone_default_under_an_old_key_version_is_resealed_on_read() -> None:
    old = BYOKManager(OLD)
    request = FakeRequest()
    old.set_key(request, "openai", KEY)
    new = BYOKManager(NEW, config=BYOKConfig(key_version=2, previous_keys={1: OLD}))
    assert new.get_key(request, "openai") == KEY
    assert new.keyring.version_of(new.storage.retrieve(request, "openai").encrypted_value) == 2
    assert new.get_key(request, "openai") == KEY


def test_a_malformed_lone_cell_is_a_storage_error_not_a_crash() -> None:
    m = BYOKManager(SECRET)
    request = FakeRequest()
    m.set_key(request, "openai", KEY)
    _entry(m, request)["k"][""]["openai"] = ["tok", [1], None, 3]  # an unhashable item
    assert m.storage.peek(request, "openai", None, None) is None
    with pytest.raises(StorageError, match="malformed session entry for provider 'openai'"):
        m.get_key(request, "openai")
