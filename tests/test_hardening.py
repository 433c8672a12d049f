"""Defects found by the adversarial review (issue 9), each reproduced: storage and manager.

The HTTP-level ones (cookie budget, verifier, HTTPS, bodies, guards) are in test_hardening_http.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from byok.core.storage import BYOKManager
from byok.core.types import BYOKConfig, StorageBackend, StorageError, utcnow
from tests.support.storage import SECRET, FakeRequest, raw_rows

TABLE = "user_api_keys"  # the default key table


@pytest.fixture
def hybrid_pair(db_url: str) -> Iterator[tuple[BYOKManager, BYOKManager]]:
    """Two hybrid managers on one database: two app processes (or two devices' servers)."""
    config = BYOKConfig(storage_backend=StorageBackend.HYBRID)
    pair = (BYOKManager(SECRET, db_url, config), BYOKManager(SECRET, db_url, config))
    yield pair
    for m in pair:
        m.database.close()


def _damage(manager: BYOKManager, assignment: str) -> None:
    """Rewrite every row's column(s) directly, as a tool outside byok would."""
    with manager.database._guard("damage"):
        manager.database.db.q(f'UPDATE "{TABLE}" SET {assignment}')


# --------------------------------------------------------------------------- 1: expiry cleanup


def test_a_stale_expired_cache_copy_never_deletes_a_key_saved_since(hybrid_pair):
    phone, laptop = hybrid_pair
    phone_req, laptop_req = FakeRequest(), FakeRequest()
    phone.set_key(phone_req, "openai", "sk-old-key-0000", user_id="u1", ttl=timedelta(minutes=1))
    cell = phone_req.session["byok_cache"]["k"]["u1"]["openai"]
    cell[2] = int((utcnow() - timedelta(seconds=10)).timestamp())  # the phone's copy expired
    laptop.set_key(laptop_req, "openai", "sk-fresh-key-111", user_id="u1")  # saved minutes later
    for read in (phone.has_key, phone.get_key_info):
        assert read(phone_req, "openai", "u1")  # the database decides: the fresh key
    assert phone.get_key(phone_req, "openai", "u1") == "sk-fresh-key-111"
    assert [k.provider for k in phone.list_keys(phone_req, "u1")] == ["openai"]
    assert laptop.get_key(FakeRequest(), "openai", "u1") == "sk-fresh-key-111"
    assert len(raw_rows(phone)) == 1


def test_expiry_cleanup_deletes_only_the_row_it_read(make_manager):
    reader, writer = make_manager(), make_manager()
    reader.set_key(None, "openai", "sk-expired-000", user_id="u1")
    _damage(reader, "expires_at = '2000-01-01T00:00:00.000000+00:00'")  # an expired row
    read = reader.database.retrieve

    def retrieve_then_race(request, provider, user_id=None, label=None):  # another process
        row = read(request, provider, user_id, label)  # saves between the SELECT and the DELETE
        writer.set_key(None, "openai", "sk-fresh-0001", user_id="u1")
        return row

    reader.database.retrieve = retrieve_then_race  # type: ignore[method-assign]
    assert reader.get_key(None, "openai", "u1") is None  # what it read had expired
    assert writer.get_key(None, "openai", "u1") == "sk-fresh-0001"  # and the new key survived


def test_cleanup_of_every_user_spares_keys_saved_with_a_future_expiry(make_manager):
    m = make_manager()
    m.set_key(None, "openai", "sk-expired-000", user_id="u1")
    m.set_key(None, "openai", "sk-live-key-00", user_id="u2")
    _damage(m, "expires_at = '2000-01-01T00:00:00.000000+00:00' WHERE user_id = 'u1'")
    assert m.cleanup_expired(None) == 1
    assert [r["user_id"] for r in raw_rows(m)] == ["u2"]


# --------------------------------------------------------------------------- 6: damaged rows


@pytest.mark.parametrize(
    "assignment",
    ["encrypted_value = 1000000000", "encrypted_value = 9223372036854775807"],
    ids=["1e9", "int64-max"],
)
def test_a_non_bytes_value_is_a_storage_error_and_the_row_is_kept(tmp_path, assignment):
    m = BYOKManager(SECRET, f"sqlite:///{tmp_path / 'k.db'}")  # SQLite's dynamic typing
    m.set_key(None, "openai", "sk-damaged-row-01", user_id="u1")
    _damage(m, assignment)
    for call in (m.get_key, m.has_key, m.get_key_info):
        with pytest.raises(StorageError, match="malformed row"):
            call(None, "openai", "u1")
    with pytest.raises(StorageError, match="malformed row"):
        m.list_keys(None, "u1")
    assert m.database.count() == 1
    m.database.close()


@pytest.mark.parametrize(
    "expiry", ["1999", "0", "2000-01-01 00:00:00", "-1"], ids=["year", "zero", "naive", "minus"]
)
def test_a_damaged_expiry_that_sorts_before_now_is_kept_by_cleanup(make_manager, expiry):
    m = make_manager()
    m.set_key(None, "openai", "sk-damaged-exp-01", user_id="u1")
    _damage(m, f"expires_at = '{expiry}'")
    assert m.cleanup_expired(None) == 0
    assert m.cleanup_expired(None, "u1") == 0
    with pytest.raises(StorageError, match="malformed row"):
        m.get_key(None, "openai", "u1")
    assert m.database.count() == 1


# --------------------------------------------------------------------------- 9: clock skew


def test_hybrid_does_not_trust_a_cache_copy_written_in_the_future(hybrid_pair):
    m, other = hybrid_pair
    req = FakeRequest()
    m.set_key(req, "openai", "sk-deleted-key-00", user_id="u1")
    cell = req.session["byok_cache"]["k"]["u1"]["openai"]
    cell[3] = int((utcnow() + timedelta(hours=1)).timestamp())  # a server whose clock runs ahead
    other.delete_key(FakeRequest(), "openai", "u1")  # deleted from another device
    assert m.get_key(req, "openai", "u1") is None
    assert "openai" not in req.session["byok_cache"]["k"].get("u1", {})


def test_hybrid_trusts_a_copy_within_the_clock_skew_tolerance(hybrid_pair):
    m, other = hybrid_pair
    req = FakeRequest()
    m.set_key(req, "openai", "sk-cached-key-000", user_id="u1")
    cell = req.session["byok_cache"]["k"]["u1"]["openai"]
    cell[3] = int((utcnow() + timedelta(seconds=2)).timestamp())  # within the tolerance
    other.delete_key(FakeRequest(), "openai", "u1")
    assert m.get_key(req, "openai", "u1") == "sk-cached-key-000"  # still the cache's to answer


# --------------------------------------------------------------------------- per label (issue 14)
# Every guarantee above holds per (user, provider, label): a provider may hold several keys.

PAST = "2000-01-01T00:00:00.000000+00:00"  # an expiry long gone, as byok writes times


def test_expiry_cleanup_of_a_labelled_key_deletes_only_the_row_it_read(make_manager):
    reader, writer = make_manager(), make_manager()
    reader.set_key(None, "openai", "sk-personal-0000", user_id="u1", label="personal")
    reader.set_key(None, "openai", "sk-work-expired0", user_id="u1", label="work")
    _damage(reader, f"expires_at = '{PAST}' WHERE label = 'work'")
    read = reader.database.retrieve

    def retrieve_then_race(request, provider, user_id=None, label=None):  # another process
        row = read(request, provider, user_id, label)  # saves between the SELECT and the DELETE
        writer.set_key(None, "openai", "sk-work-fresh-01", user_id="u1", label="work")
        return row

    reader.database.retrieve = retrieve_then_race  # type: ignore[method-assign]
    assert reader.get_key(None, "openai", "u1", label="work") is None  # what it read had expired
    reader.database.retrieve = read  # type: ignore[method-assign]
    assert writer.get_key(None, "openai", "u1", label="work") == "sk-work-fresh-01"
    assert reader.get_key(None, "openai", "u1", label="personal") == "sk-personal-0000"


def test_cleanup_removes_the_expired_label_and_spares_its_siblings(make_manager):
    m = make_manager()
    m.set_key(None, "openai", "sk-personal-0000", user_id="u1", label="personal")
    m.set_key(None, "openai", "sk-work-expired0", user_id="u1", label="work")
    m.set_key(None, "openai", "sk-work-of-u2-00", user_id="u2", label="work")
    _damage(m, f"expires_at = '{PAST}' WHERE user_id = 'u1' AND label = 'work'")
    assert m.cleanup_expired(None) == 1
    assert [(r["user_id"], r["label"]) for r in raw_rows(m)] == [("u1", "personal"), ("u2", "work")]


def test_session_discard_compares_the_labelled_cell_it_read():
    m = BYOKManager(SECRET)  # session storage
    req = FakeRequest()
    m.set_key(req, "openai", "sk-personal-0000", label="personal")
    m.set_key(req, "openai", "sk-work-expired0", label="work")
    past = int((utcnow() - timedelta(seconds=10)).timestamp())
    req.session["byok_keys"]["k"][""]["openai#work"][2] = past
    expired = m.storage.retrieve(req, "openai", None, "work")
    assert expired.is_expired
    m.set_key(req, "openai", "sk-work-fresh-01", label="work")  # replaced since it was read
    assert m.storage.discard(req, expired) is False
    assert m.get_key(req, "openai", label="work") == "sk-work-fresh-01"
    req.session["byok_keys"]["k"][""]["openai#work"][2] = past  # now the fresh one expires
    assert m.cleanup_expired(req) == 1
    assert list(req.session["byok_keys"]["k"][""]) == ["openai#personal"]
    assert m.get_key(req, "openai", label="personal") == "sk-personal-0000"


def test_a_stale_expired_cache_copy_of_a_label_never_deletes_its_successor(hybrid_pair):
    phone, laptop = hybrid_pair
    phone_req = FakeRequest()
    phone.set_key(phone_req, "openai", "sk-personal-0000", user_id="u1", label="personal")
    phone.set_key(phone_req, "openai", "sk-work-old-0000", user_id="u1", label="work")
    cell = phone_req.session["byok_cache"]["k"]["u1"]["openai#work"]
    cell[2] = int((utcnow() - timedelta(seconds=10)).timestamp())  # the phone's copy expired
    laptop.set_key(FakeRequest(), "openai", "sk-work-fresh-01", user_id="u1", label="work")
    assert phone.has_key(phone_req, "openai", "u1", label="work")  # the database decides
    assert phone.get_key(phone_req, "openai", "u1", label="work") == "sk-work-fresh-01"
    assert phone.get_key(phone_req, "openai", "u1", label="personal") == "sk-personal-0000"
    assert len(raw_rows(phone)) == 2


def test_hybrid_does_not_trust_a_labelled_copy_written_in_the_future(hybrid_pair):
    m, other = hybrid_pair
    req = FakeRequest()
    m.set_key(req, "openai", "sk-personal-0000", user_id="u1", label="personal")
    m.set_key(req, "openai", "sk-work-deleted0", user_id="u1", label="work")
    cell = req.session["byok_cache"]["k"]["u1"]["openai#work"]
    cell[3] = int((utcnow() + timedelta(hours=1)).timestamp())  # a clock running ahead
    other.delete_key(FakeRequest(), "openai", "u1", label="work")  # deleted from another device
    assert m.get_key(req, "openai", "u1", label="work") is None
    assert "openai#work" not in req.session["byok_cache"]["k"]["u1"]
    assert m.get_key(req, "openai", "u1", label="personal") == "sk-personal-0000"


@pytest.mark.parametrize(
    "assignment",
    ["label = x'776f726b'", "endpoint = '{not json'", "endpoint = '[1]'", "endpoint = 7"],
    ids=["blob-label", "bad-json", "not-an-endpoint", "number"],
)
def test_a_damaged_label_or_endpoint_is_a_storage_error_and_the_row_is_kept(tmp_path, assignment):
    m = BYOKManager(SECRET, f"sqlite:///{tmp_path / 'k.db'}")  # SQLite's dynamic typing
    endpoint = {"base_url": "https://llm.example.com/v1"}
    m.set_key(
        None,
        "openai-compatible",
        "sk-damaged-row-01",
        user_id="u1",
        label="work",
        endpoint=endpoint,
    )
    _damage(m, assignment)
    for call in (m.get_key, m.has_key, m.get_key_info):
        with pytest.raises(StorageError, match="malformed row"):
            call(None, "openai-compatible", "u1")
    with pytest.raises(StorageError, match="malformed row"):
        m.list_keys(None, "u1")
    _damage(m, f"expires_at = '{PAST}'")
    assert m.cleanup_expired(None) == 0  # an expired but damaged row is kept too
    assert m.database.count() == 1
    m.database.close()
