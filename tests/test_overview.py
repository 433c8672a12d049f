"""The manager's contract with the routes and the dashboard: `set_key` returns a `SavedKey` in two
SQL statements, `overview` reads storage once, `blocks` / `needs_user` answer for the backend,
`sweep_due` / `sweep` run the expiry cleanup. SQL statements are counted with SQLAlchemy's
cursor events, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from byok.core.storage import BYOKManager, KeyOverview, SavedKey
from byok.core.types import (
    BYOKConfig,
    Endpoint,
    StorageBackend,
    StorageError,
    ValidationError,
)
from tests.support.statements import StatementLog as Statements
from tests.support.storage import SECRET, FakeRequest

KEY_A = "sk-first-0000000000000000000aaaa"  # three distinct keys (their masks differ)
KEY_B = "sk-second-000000000000000000bbbb"
KEY_C = "sk-third-0000000000000000000cccc"


@pytest.fixture(params=["database", "hybrid"])
def on_db(
    request: pytest.FixtureRequest, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., tuple[BYOKManager, Statements]]]:
    """(manager, statement counter) on this test's database (SQLite and PostgreSQL)."""
    made: list[BYOKManager] = []

    def make(**config: Any) -> tuple[BYOKManager, Statements]:
        backend = StorageBackend(request.param)
        manager = BYOKManager(
            SECRET, db_url=db_url, config=BYOKConfig(storage_backend=backend, **config)
        )
        made.append(manager)
        return manager, Statements(manager.database.db.engine, monkeypatch)

    yield make
    for m in made:
        m.database.close()


def _flags(keys: tuple | list) -> list[tuple[str, str, bool]]:
    return [(k.provider, k.label, k.is_default) for k in keys]


# --------------------------------------------------------------------------- set_key


def test_set_key_is_one_read_and_one_write_whatever_the_labels(on_db) -> None:
    m, sql = on_db()
    dialect = m.database.db.engine.dialect.name
    pg = dialect == "postgresql"
    req = FakeRequest()
    steps = [
        dict(api_key=KEY_A),  # the provider's first key
        dict(api_key=KEY_B, label="work"),  # a second, labelled key
        dict(api_key=KEY_C, label="work"),  # replace a non-default key
        dict(api_key=KEY_C, label="work", make_default=True),  # move the default
        dict(api_key=KEY_A),  # replace the default (unlabelled: the default's label)
        dict(api_key=KEY_B, label="", make_default=True),  # move it back
    ]
    sql.take()
    for step in steps:
        saved = m.set_key(req, "openai", user_id="alice", **step)
        read, *write = sql.take()
        if dialect == "mysql" and saved.record.is_default:  # no UPDATE … FROM an upsert: the
            # upsert and the flag update, between a named lock and its release (after the commit)
            assert (read, write) == ("SELECT", ["LOCK", "INSERT", "UPDATE", "UNLOCK"]), step
            continue
        # one write statement (PostgreSQL: WITH saved AS (INSERT …) UPDATE … in one), and on
        # PostgreSQL a default save's transaction lock before it
        lock = ["LOCK"] if pg and write[:1] == ["LOCK"] else []
        assert read == "SELECT" and write == [*lock, "INSERT"], step
        assert bool(lock) == (pg and saved.record.is_default), step
    assert _flags(m.list_keys(req, "alice")) == [("openai", "", True), ("openai", "work", False)]


def test_saved_key_tells_what_was_stored_and_what_is_live(on_db) -> None:
    m, _ = on_db()
    req = FakeRequest()
    first = m.set_key(req, "openai", KEY_A, "alice")
    assert isinstance(first, SavedKey)
    assert first.replaced is False and first.masked == "sk-f...aaaa"
    assert (first.record.label, first.record.is_default) == ("", True)
    assert _flags(first.keys) == [("openai", "", True)]

    second = m.set_key(req, "openai", KEY_B, "alice", label="work", endpoint=AZURE)
    assert second.replaced is False and second.record.endpoint == AZURE
    assert _flags(second.keys) == [("openai", "", True), ("openai", "work", False)]

    moved = m.set_key(req, "openai", KEY_C, "alice", label="work", make_default=True)
    assert moved.replaced is True and moved.record.is_default
    assert _flags(moved.keys) == [("openai", "", False), ("openai", "work", True)]
    # what the save returned is what storage now holds
    assert _flags(moved.keys) == _flags(m.list_keys(req, "alice"))
    assert m.get_key(req, "openai", "alice") == KEY_C
    assert str(KEY_C) not in repr(moved)  # the plaintext is never in the result


def test_saved_key_keys_leave_out_expired_and_other_owners(on_db) -> None:
    m, _ = on_db()
    req = FakeRequest()
    m.set_key(req, "openai", KEY_A, "alice", ttl=timedelta(microseconds=1))
    m.set_key(req, "groq", KEY_A, "bob")
    saved = m.set_key(req, "anthropic", KEY_B, "alice")
    assert _flags(saved.keys) == [("anthropic", "", True)]


def _saves(m: BYOKManager, req: Any, user: str | None) -> tuple[SavedKey, SavedKey]:
    """Two saves of one owner, then a third key and a delete: what `keys` must not show."""
    first = m.set_key(req, "openai", KEY_A, user)
    second = m.set_key(req, "openai", KEY_B, user, label="work", make_default=True)
    m.set_key(req, "groq", KEY_C, user)
    m.delete_key(req, "openai", user, label="work")
    return first, second


def _check_saves(first: SavedKey, second: SavedKey) -> None:
    # each save's keys are the owner's keys right after it, not after the writes that followed
    assert _flags(first.keys) == [("openai", "", True)]
    assert _flags(second.keys) == [("openai", "", False), ("openai", "work", True)]
    assert second.keys is second.keys  # built once
    assert "keys" not in repr(second) and KEY_B not in repr(second)


def test_saved_key_keys_are_the_owner_right_after_that_save(on_db) -> None:
    m, sql = on_db()
    first, second = _saves(m, FakeRequest(), "alice")
    sql.take()
    _check_saves(first, second)
    assert sql.take() == []  # from what each save read: no further statement


def test_saved_key_keys_of_a_session_save_are_a_snapshot() -> None:
    m = BYOKManager(SECRET)
    req = FakeRequest()
    first, second = _saves(m, req, None)
    req.session.clear()  # the session is not read again either
    _check_saves(first, second)


def test_one_default_survives_a_racing_default_move(on_db) -> None:
    """Two managers (two processes' worth) moving the default: never two defaults."""
    m1, _ = on_db()
    m2, _ = on_db()
    req = FakeRequest()
    m1.set_key(req, "openai", KEY_A, "alice")
    m1.set_key(req, "openai", KEY_B, "alice", label="work")
    m2.set_key(req, "openai", KEY_C, "alice", label="home", make_default=True)
    m1.set_key(req, "openai", KEY_B, "alice", label="work", make_default=True)
    flagged = [k.label for k in m2.database.records(None, "alice") if k.is_default]
    assert flagged == ["work"]


@pytest.mark.parametrize(
    "db_url",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
    indirect=True,
)
def test_racing_default_moves_leave_one_default_on_a_server_database(db_url) -> None:
    """Two processes' worth of managers move the default at the same time, again and again."""
    config = BYOKConfig(storage_backend=StorageBackend.DATABASE)
    managers = [BYOKManager(SECRET, db_url=db_url, config=config) for _ in range(2)]
    req = FakeRequest()
    for label in ("a", "b"):
        managers[0].set_key(req, "openai", KEY_A, "alice", label=label)
    barrier = threading.Barrier(2, timeout=60)  # a thread that fails breaks it: no hang
    failures: list[BaseException] = []

    def move(manager: BYOKManager, label: str) -> None:
        try:
            for _ in range(25):
                barrier.wait()
                manager.set_key(req, "openai", KEY_B, "alice", label=label, make_default=True)
        except BaseException as e:  # reported below; the other thread stops at the barrier
            failures.append(e)
            barrier.abort()

    threads = [
        threading.Thread(target=move, args=(m, label))
        for m, label in zip(managers, ("a", "b"), strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not [f for f in failures if not isinstance(f, threading.BrokenBarrierError)]
        assert not failures
        flagged = [k.label for k in managers[0].database.records(None, "alice") if k.is_default]
        assert len(flagged) == 1
    finally:
        for m in managers:
            m.database.close()


# --------------------------------------------------------------------------- overview


AZURE = Endpoint("https://my-resource.openai.azure.com", "gpt-4o", "2024-10-21")


def test_overview_is_one_read_and_none_with_keys(on_db) -> None:
    m, sql = on_db()
    req = FakeRequest()
    m.set_key(req, "openai", KEY_A, "alice")
    m.set_key(req, "openai", KEY_B, "alice", label="work", endpoint=AZURE)
    saved = m.set_key(req, "anthropic", KEY_C, "alice")
    sql.take()
    shown = m.overview(req, ["openai", "anthropic", "groq"], "alice")
    assert sql.take() == ["SELECT"]
    assert list(shown) == ["openai", "anthropic"]
    openai = shown["openai"]
    assert (openai.masked_key, openai.label, openai.unreadable) == ("sk-f...aaaa", "", False)
    assert [(o.label, o.masked_key, o.endpoint) for o in openai.others] == [
        ("work", "sk-s...bbbb", AZURE)
    ]
    assert shown["anthropic"] == KeyOverview(
        "sk-t...cccc", saved.record.created_at, saved.record.expires_at
    )
    assert m.overview(req, ["openai", "anthropic", "groq"], "alice", keys=saved.keys) == shown
    assert sql.take() == []


def test_overview_flags_unreadable_keys_and_skips_expired(on_db) -> None:
    m, _ = on_db()
    req = FakeRequest()
    m.set_key(req, "openai", KEY_A, "alice")
    m.set_key(req, "groq", KEY_B, "alice", ttl=timedelta(microseconds=1))
    other = BYOKManager("another-secret-0123456789abcdef", db_url=m.database)
    shown = other.overview(req, ["openai", "groq"], "alice")
    assert shown == {
        "openai": KeyOverview(
            None, shown["openai"].created_at, shown["openai"].expires_at, unreadable=True
        )
    }


def test_overview_lets_a_storage_error_through(on_db) -> None:
    m, _ = on_db()
    req = FakeRequest()
    m.set_key(req, "openai", KEY_A, "alice")
    with m.database._guard("test"):
        m.database.db.execute(sa.text("UPDATE user_api_keys SET created_at = 'garbage'"))
    with pytest.raises(StorageError):
        m.overview(req, ["openai"], "alice")


def test_overview_validates_its_arguments(on_db) -> None:
    m, sql = on_db()
    with pytest.raises(ValidationError):
        m.overview(FakeRequest(), ["openai"])  # a database needs the user
    with pytest.raises(ValidationError):
        m.overview(FakeRequest(), ["sk-not a provider"], "alice")
    assert sql.take() == []


def test_session_storage_contract() -> None:
    m = BYOKManager(SECRET)
    req = FakeRequest()
    assert (m.blocks, m.needs_user) == (False, False)
    m.set_key(req, "openai", KEY_A)
    saved = m.set_key(req, "openai", KEY_B, label="work", make_default=True)
    assert saved.replaced is False
    assert _flags(saved.keys) == [("openai", "", False), ("openai", "work", True)]
    assert _flags(saved.keys) == _flags(m.list_keys(req))
    shown = m.overview(req, ["openai", "groq"])
    assert list(shown) == ["openai"] and shown["openai"].masked_key == "sk-s...bbbb"
    assert [o.masked_key for o in shown["openai"].others] == ["sk-f...aaaa"]
    assert m.overview(req, ["openai", "groq"], keys=saved.keys) == shown


def test_database_and_hybrid_block_and_need_a_user(on_db) -> None:
    m, _ = on_db()
    assert (m.blocks, m.needs_user) == (True, True)


# --------------------------------------------------------------------------- sweep


def test_session_sweep_is_due_once_per_interval() -> None:
    m = BYOKManager(SECRET, config=BYOKConfig(cleanup_interval=timedelta(minutes=10)))
    req = FakeRequest()
    assert not m.sweep_due(req, now=1_000)  # no keys stored: nothing to do, no cookie written
    assert not m.sweep_due(object(), now=1_000)  # no session at all
    m.set_key(req, "openai", KEY_A, ttl=timedelta(microseconds=1))
    m.set_key(req, "groq", KEY_B, "alice", ttl=timedelta(microseconds=1))
    m.set_key(req, "anthropic", KEY_C)
    assert m.sweep_due(req, now=1_000)
    assert m.sweep(req, now=1_000) == 2  # every owner of the session
    assert [k.provider for k in m.list_keys(req)] == ["anthropic"]
    assert not m.sweep_due(req, now=1_000 + 599)
    assert m.sweep_due(req, now=1_000 + 600)
    assert m.sweep_due(req, now=1_000 + 30, interval=timedelta(seconds=30))


def test_database_sweep_is_due_once_per_interval_per_owner(on_db) -> None:
    m, sql = on_db(cleanup_interval=timedelta(minutes=10))
    req = FakeRequest()
    m.set_key(req, "openai", KEY_A, "alice", ttl=timedelta(microseconds=1))
    m.set_key(req, "openai", KEY_A, "bob", ttl=timedelta(microseconds=1))
    sql.take()
    assert not m.sweep_due(req, None, now=1_000)  # per user: nobody's
    assert m.sweep_due(req, "alice", now=1_000)
    assert not m.sweep_due(req, "alice", now=1_001)  # claimed: one sweep per interval
    assert sql.take() == []  # asking costs no I/O
    assert m.sweep(req, "alice", now=1_001) == 1
    assert m.sweep_due(req, "bob", now=1_001)
    assert not m.sweep_due(req, "alice", now=1_001 + 599)  # the sweep stamped 1_001
    assert m.sweep_due(req, "alice", now=1_001 + 600)
    assert m.sweep(req, None) == 1  # everyone's
    assert m.database.count() == 0


def test_sweep_is_never_due_without_auto_cleanup() -> None:
    m = BYOKManager(SECRET, config=BYOKConfig(auto_cleanup=False))
    req = FakeRequest()
    m.set_key(req, "openai", KEY_A)
    assert not m.sweep_due(req, now=1_000)


def test_session_id_is_the_sessions_own_whatever_the_storage(on_db) -> None:
    m, _ = on_db()
    req = FakeRequest()
    sid = m.session_id(req)
    assert len(sid) >= 16 and m.session_id(req) == sid  # created once, then kept
    assert m.session_id(FakeRequest()) != sid  # another browser session, another id
    session = BYOKManager(SECRET)
    assert session.session_id(req) == sid  # one id per browser session, whatever the backend
