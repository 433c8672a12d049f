"""The vault's statements compiled once and run on the DBAPI connection (byok.core.compiled):
each paramstyle (qmark, pyformat, format) passes its parameters right, and on SQLite,
PostgreSQL and MariaDB the compiled reads return exactly the records SQLAlchemy's generic path
reads from the same rows (expiry, labels, endpoints, the one default, the owner), while
`get_key` / `set_key` no longer go through SQLAlchemy's execute path at all."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.mysql import pymysql
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.dialects.sqlite import pysqlite

from byok.core.compiled import Compiled
from byok.core.endpoints import Endpoint
from byok.core.storage import BYOKManager
from byok.core.storage.backend import pick_default
from byok.core.storage.schema import StoredRow, record_of
from byok.core.types import APIKey, StorageError
from tests.support.storage import FakeRequest

_T = sa.Table(
    "t",
    sa.MetaData(),
    sa.Column("a", sa.String(8)),
    sa.Column("b", sa.Integer),
)
_QUERY = sa.select(_T).where(_T.c.b == sa.bindparam("b"), _T.c.a == sa.bindparam("a")).limit(1)


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (pysqlite.dialect(), (7, "x", 1, 0)),  # qmark: positional, LIMIT 1 OFFSET 0 bound
        (psycopg.dialect(), {"param_1": 1, "b": 7, "a": "x"}),  # pyformat: by name
        (pymysql.dialect(), (7, "x", 1)),  # format: positional
    ],
    ids=["qmark", "pyformat", "format"],
)
def test_parameters_are_passed_in_the_drivers_style(dialect: Any, expected: Any) -> None:
    compiled = Compiled(_QUERY, dialect)
    assert compiled.params({"a": "x", "b": 7}) == expected


def test_a_missing_parameter_is_an_error_not_a_null() -> None:
    compiled = Compiled(_QUERY, pysqlite.dialect())
    with pytest.raises(KeyError):
        compiled.params({"a": "x"})


LATER = timedelta(days=3)


def _keys(m: BYOKManager) -> None:
    """Alice: three openai keys (the labelled one the default, one expiring, one with an
    endpoint), an anthropic key; bob: one openai key (never alice's)."""
    req = FakeRequest()
    m.set_key(req, "openai", "sk-plain-000000000000000000", "alice")
    m.set_key(req, "openai", "sk-work-0000000000000000000", "alice", label="work",
              make_default=True)  # fmt: skip
    m.set_key(req, "openai", "sk-soon-0000000000000000000", "alice", ttl=LATER, label="soon")
    m.set_key(req, "openai", "sk-azure-000000000000000000", "alice", label="azure",
              endpoint=Endpoint("https://r.openai.azure.com", "gpt-4o", "2024-10-21"))  # fmt: skip
    m.set_key(req, "anthropic", "sk-ant-0000000000000000000", "alice")
    m.set_key(req, "openai", "sk-bob-00000000000000000000", "bob")


def _generic(m: BYOKManager, user: str) -> list[APIKey]:
    """The owner's records read through SQLAlchemy's generic path (a Core select, row mappings),
    sorted as `records` sorts them."""
    storage = m.database
    t = storage.table.table
    query = sa.select(t).where(t.c.user_id == user).order_by(t.c.provider, t.c.label)
    with storage.db.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [record_of(StoredRow(**{f: r[f] for f in StoredRow._fields})) for r in rows]


@pytest.fixture
def manager(make_manager: Callable[..., BYOKManager]) -> Iterator[BYOKManager]:
    m = make_manager()
    _keys(m)
    yield m


def test_compiled_reads_return_what_the_generic_path_reads(manager: BYOKManager) -> None:
    storage = manager.database
    for user in ("alice", "bob"):
        generic = _generic(manager, user)
        assert storage.records(None, user) == generic
        for record in generic:
            assert storage.retrieve(None, record.provider, user, record.label) == record
        for provider in {r.provider for r in generic}:
            chosen = pick_default(r for r in generic if r.provider == provider)
            assert storage.retrieve(None, provider, user) == chosen
    alice = {r.label: r for r in _generic(manager, "alice") if r.provider == "openai"}
    assert [label for label, r in alice.items() if r.is_default] == ["work"]  # one default
    assert alice["soon"].expires_at is not None and alice["azure"].endpoint is not None
    assert storage.retrieve(None, "openai", "carol") is None  # owner binding: not bob's key
    assert storage.retrieve(None, "openai", "alice", "nope") is None


def test_the_manager_reads_each_key_back_through_the_compiled_path(manager: BYOKManager) -> None:
    req = FakeRequest()
    assert manager.get_key(req, "openai", "alice") == "sk-work-0000000000000000000"
    assert manager.get_key(req, "openai", "alice", label="") == "sk-plain-000000000000000000"
    assert manager.get_key(req, "openai", "bob") == "sk-bob-00000000000000000000"
    creds = manager.get_credentials(req, "openai", "alice", label="azure")
    assert creds.api_key == "sk-azure-000000000000000000" and creds.endpoint.deployment == "gpt-4o"
    info = manager.get_key_info(req, "openai", "alice", label="soon")
    assert info.expires_at - info.created_at == LATER
    manager.set_default(req, "openai", "soon", "alice")
    assert manager.get_key(req, "openai", "alice") == "sk-soon-0000000000000000000"
    assert [k.label for k in manager.list_keys(req, "alice") if k.is_default] == ["", "soon"]
    manager.delete_key(req, "openai", "alice")  # the default: "soon"
    assert manager.get_key(req, "openai", "alice", label="soon") is None
    manager.clear_keys(req, "alice")
    assert manager.list_keys(req, "alice") == []
    assert manager.get_key(req, "openai", "bob") == "sk-bob-00000000000000000000"


def test_expired_rows_are_found_and_removed_by_the_compiled_statements(
    make_manager: Callable[..., BYOKManager],
) -> None:
    m = make_manager()
    req = FakeRequest()
    m.set_key(req, "openai", "sk-gone-0000000000000000000", "alice", ttl=timedelta(seconds=1))
    m.set_key(req, "openai", "sk-kept-0000000000000000000", "alice", label="kept")
    gone = m.database.retrieve(None, "openai", "alice", "")
    assert m.database.delete_expired("alice", now=gone.expires_at) == 1
    assert m.database.delete_expired(None, now=gone.expires_at + LATER) == 0
    assert [k.label for k in m.database.records(None, "alice")] == ["kept"]


def test_get_key_and_set_key_skip_sqlalchemys_execute_path(manager: BYOKManager) -> None:
    """No statement on the key table goes through SQLAlchemy's execution (a default save's
    lock may: PostgreSQL's advisory lock, MySQL's named lock)."""
    seen: list[str] = []
    table = manager.database.table.table.name

    def listen(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if table in statement:
            seen.append(statement.split(None, 1)[0])

    engine = manager.database.db.engine
    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        req = FakeRequest()
        assert manager.get_key(req, "openai", "alice") == "sk-work-0000000000000000000"
        manager.set_key(req, "openai", "sk-next-0000000000000000000", "alice", label="next")
        manager.set_key(req, "openai", "sk-main-0000000000000000000", "alice", make_default=True)
        assert manager.get_key(req, "openai", "alice") == "sk-main-0000000000000000000"
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    assert seen == []


def test_a_damaged_row_is_a_storage_error_on_the_compiled_path(manager: BYOKManager) -> None:
    storage = manager.database
    t = storage.table.table
    with storage.db.engine.begin() as conn:
        conn.execute(
            t.update().where(t.c.user_id == "bob").values(created_at="not a time"),
        )
    with pytest.raises(StorageError, match="malformed row for provider 'openai'"):
        storage.retrieve(None, "openai", "bob")
    assert storage.retrieve(None, "openai", "alice").label == "work"  # the others still read
