"""byok.core.storage: session, database (SQLite and PostgreSQL) and hybrid storage semantics.

Its helpers (`FakeRequest`, `make_app`, `session_cookie`, the schema-1 database, ...) live in
tests/support/storage.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from byok.core.database import create_engine
from byok.core.security import bind
from byok.core.storage import (
    SCHEMA_VERSION,
    BYOKManager,
    DatabaseStorage,
    HybridStorage,
    SessionStorage,
)
from byok.core.types import (
    MAX_USER_ID_LENGTH,
    APIKey,
    BYOKConfig,
    EncryptionError,
    SessionFullError,
    StorageBackend,
    StorageError,
    ValidationError,
    utcnow,
)
from tests.support.storage import (
    BAD_KEYS,
    BAD_PROVIDERS,
    COOKIE,
    SECRET,
    V1_DDL,
    V1_ROWS,
    FakeRequest,
    cookie_payload,
    make_app,
    raw_rows,
    run_ddl,
    session_cookie,
    sha256_hex,
    v2_manager,
    write_v1,
)

# --------------------------------------------------------------------------- database semantics


def test_db_url_alone_means_database_storage(db_url):
    manager = BYOKManager(SECRET, db_url=db_url)
    try:
        assert manager.backend is StorageBackend.DATABASE
        manager.set_key(None, "openai", "sk-persisted-0001", user_id="u1")
        again = BYOKManager(SECRET, db_url=db_url)
        assert again.get_key(None, "openai", user_id="u1") == "sk-persisted-0001"
        again.database.close()
    finally:
        manager.database.close()


def test_upsert_replaces_one_row_per_user_and_provider(make_manager):
    m = make_manager()
    m.set_key(None, "openai", "sk-first-000000", user_id="u1")
    m.set_key(None, "openai", "sk-second-00000", user_id="u1")
    m.set_key(None, "openai", "sk-other-user-0", user_id="u2")
    rows = raw_rows(m)
    assert [(r["user_id"], r["provider"]) for r in rows] == [("u1", "openai"), ("u2", "openai")]
    assert m.get_key(None, "openai", "u1") == "sk-second-00000"
    assert m.get_key(None, "openai", "u2") == "sk-other-user-0"
    assert m.database.count() == 2


def test_unique_user_provider_is_enforced_by_the_database(make_manager):
    m = make_manager()
    m.set_key(None, "openai", "sk-unique-000000", user_id="u1")
    row = raw_rows(m)[0]
    with pytest.raises(sa.exc.IntegrityError):
        m.database.db.execute(m.database.table.table.insert().values(**row))
    m.database.db.conn.rollback()


def test_rows_hold_ciphertext_version_and_utc_iso_times(make_manager):
    m = make_manager()
    m.set_key(None, "anthropic", "sk-ant-row-check-0001", user_id="u1", ttl=timedelta(hours=1))
    (row,) = raw_rows(m)
    value = bytes(row["encrypted_value"])
    assert value[:1] == b"B" and b"sk-ant-row-check-0001" not in value
    assert row["key_version"] == 1
    for col in ("created_at", "updated_at", "expires_at"):
        assert row[col].endswith("+00:00"), row[col]
        assert datetime.fromisoformat(row[col]).tzinfo is not None


def test_timezone_aware_datetimes_round_trip(make_manager):
    m = make_manager()
    tz = timezone(timedelta(hours=5, minutes=30))
    created = datetime(2031, 3, 4, 5, 6, 7, 123456, tzinfo=tz)
    expires = datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-8)))
    sealed = m.keyring.seal("sk-tz-000000", bind("user:u1", "openai"))
    m.database.store(None, APIKey("openai", sealed, created, expires, "u1"))
    back = m.database.retrieve(None, "openai", "u1")
    assert back.created_at == created and back.expires_at == expires  # same instants
    assert back.created_at.utcoffset() == timedelta(0) and back.expires_at.tzinfo is not None
    assert back.created_at.microsecond == 123456
    assert m.get_key(None, "openai", "u1") == "sk-tz-000000"
    early = datetime(5, 1, 2, tzinfo=UTC)  # year 5: still fixed-width text, still sortable
    m.database.store(None, APIKey("google", sealed, early, None, "u1"))
    assert m.database.retrieve(None, "google", "u1").created_at == early


def test_expired_keys_read_as_absent_and_are_removed(make_manager):
    m = make_manager()
    m.set_key(None, "openai", "sk-live-0000000", user_id="u1")
    sealed = m.keyring.seal("sk-expired-0000", bind("user:u1", "google"))
    past = utcnow() - timedelta(seconds=1)
    m.database.store(None, APIKey("google", sealed, past - timedelta(hours=1), past, "u1"))
    assert m.database.count() == 2
    assert m.list_providers(None, "u1") == ["openai"]  # filtered and cleaned up
    assert m.database.count() == 1
    m.database.store(None, APIKey("google", sealed, past - timedelta(hours=1), past, "u1"))
    assert m.get_key(None, "google", "u1") is None
    assert not m.has_key(None, "google", "u1")
    assert m.get_key_info(None, "google", "u1") is None
    assert m.database.retrieve(None, "google", "u1") is None  # the row is gone


def test_expired_keys_are_kept_without_auto_cleanup(make_manager):
    m = make_manager(auto_cleanup=False)
    sealed = m.keyring.seal("sk-expired-0000", bind("user:u1", "google"))
    past = utcnow() - timedelta(seconds=1)
    m.database.store(None, APIKey("google", sealed, past, past, "u1"))
    assert m.get_key(None, "google", "u1") is None
    assert m.database.count() == 1
    assert m.cleanup_expired(None) == 1
    assert m.database.count() == 0


def test_ttl_per_key_and_cleanup_of_every_user(make_manager):
    m = make_manager(default_ttl=None)
    m.set_key(None, "openai", "sk-forever-00000", user_id="u1")
    m.set_key(None, "google", "sk-short-lived-0", user_id="u1", ttl=timedelta(hours=1))
    m.set_key(None, "google", "sk-short-lived-1", user_id="u2", ttl=timedelta(hours=1))
    info = {k.provider: k for k in m.list_keys(None, "u1")}
    assert info["openai"].expires_at is None
    assert timedelta(minutes=59) < info["google"].expires_at - utcnow() <= timedelta(hours=1)
    removed = m.database.delete_expired(now=utcnow() + timedelta(hours=2))
    assert removed == 2
    assert m.list_providers(None, "u1") == ["openai"] and m.list_providers(None, "u2") == []


def test_decrypt_failure_raises_and_keeps_the_row(make_manager):
    events = []
    good = make_manager()
    good.set_key(None, "openai", "sk-keep-me-00000", user_id="u1")
    other = make_manager("a-different-app-secret-0123456789", on_event=events.append)
    with pytest.raises(EncryptionError, match="kept"):
        other.get_key(None, "openai", "u1")
    with pytest.raises(EncryptionError):
        other.get_masked_key(None, "openai", "u1")
    assert other.has_key(None, "openai", "u1")  # metadata is still there
    assert len(raw_rows(good)) == 1
    assert good.get_key(None, "openai", "u1") == "sk-keep-me-00000"
    assert [e.kind.value for e in events] == ["decrypt_failure", "decrypt_failure"]


def test_users_are_isolated(make_manager):
    m = make_manager()
    m.set_key(None, "openai", "sk-alice-0000000", user_id="alice")
    m.set_key(None, "google", "sk-alice-g000000", user_id="alice")
    m.set_key(None, "openai", "sk-bob-000000000", user_id="bob")
    assert m.list_providers(None, "alice") == ["google", "openai"]
    assert m.list_providers(None, "bob") == ["openai"]
    assert m.get_key(None, "google", "bob") is None
    m.clear_keys(None, "alice")
    assert m.list_providers(None, "alice") == []
    assert m.get_key(None, "openai", "bob") == "sk-bob-000000000"
    m.delete_key(None, "openai", "bob")
    m.delete_key(None, "openai", "bob")  # absent: no error
    assert m.database.count() == 0


def test_int_user_ids_are_text(make_manager):
    m = make_manager()
    m.set_key(None, "openai", "sk-int-user-0000", user_id=42)  # type: ignore[arg-type]
    assert m.get_key(None, "openai", "42") == "sk-int-user-0000"
    assert raw_rows(m)[0]["user_id"] == "42"


BAD_USERS = [None, "", "x" * 256, "tab\there", "nul\x00", True, 1.5, [], b"u1"]


def test_bad_input_raises_validation_error_and_stores_nothing(make_manager):
    m = make_manager()
    cases = [("openai", key, "u1") for key in BAD_KEYS]
    cases += [(provider, "sk-good-key-000", "u1") for provider in BAD_PROVIDERS]
    cases += [("openai", "sk-good-key-000", user) for user in BAD_USERS]
    for provider, key, user in cases:
        with pytest.raises(ValidationError):
            m.set_key(None, provider, key, user_id=user)
    assert m.database.count() == 0
    for user in BAD_USERS:
        for call in (m.get_key, m.has_key, m.delete_key, m.get_key_info, m.get_masked_key):
            with pytest.raises(ValidationError):
                call(None, "openai", user_id=user)
        for call in (m.list_providers, m.list_keys, m.clear_keys):
            with pytest.raises(ValidationError):
                call(None, user_id=user)
    assert len(cases) == 30


def test_max_length_is_accepted_exactly(make_manager):
    m = make_manager()
    m.set_key(None, "openai", "k" * 1024, user_id="u1")
    m.set_key(None, "google", "  sk-padded-000  ", user_id="u1")  # surrounding blanks trimmed
    assert m.get_key(None, "openai", "u1") == "k" * 1024
    assert m.get_key(None, "google", "u1") == "sk-padded-000"


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_postgres_connection_is_never_idle_in_transaction(make_manager, db_url):
    import psycopg

    m = make_manager()
    m.set_key(None, "openai", "sk-pg-idle-00000", user_id="u1")
    with psycopg.connect(db_url, autocommit=True) as watcher:

        def states() -> list[str]:
            rows = watcher.execute(
                "SELECT state FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
            return [r[0] for r in rows]

        operations = [
            lambda: m.get_key(None, "openai", "u1"),
            lambda: m.get_key(None, "missing", "u1"),
            lambda: m.has_key(None, "openai", "u1"),
            lambda: m.list_providers(None, "u1"),
            lambda: m.list_keys(None, "u1"),
            lambda: m.stale_count(),
            lambda: m.database.count(),
            lambda: m.cleanup_expired(None),
            lambda: m.rotate_keys(),
        ]
        for op in operations:
            op()
            found = states()
            assert found, "the manager's connection should be visible"
            assert "idle in transaction" not in found, found
        # and a DDL from another connection is not blocked by a lingering lock
        watcher.execute("SET lock_timeout = '2s'")
        watcher.execute(f'ALTER TABLE "{m.config.db_table_name}" ADD COLUMN probe integer')


@pytest.mark.parametrize(
    "db_url", [pytest.param("mariadb", marks=pytest.mark.mariadb)], indirect=True
)
def test_mariadb_connection_is_never_left_in_a_transaction(make_manager, db_url):
    import pymysql

    m = make_manager()
    m.set_key(None, "openai", "sk-maria-idle-00000", user_id="u1")
    parts = urlsplit(db_url)
    watcher = pymysql.connect(
        host=parts.hostname, port=parts.port, user=parts.username, password=parts.password,
        database=parts.path.lstrip("/"), autocommit=True,
    )  # fmt: skip
    table = m.config.db_table_name

    def table_is_free() -> bool:
        """True when no transaction holds the table (its metadata lock): LOCK TABLES … WRITE
        gets it within a second."""
        with watcher.cursor() as cur:
            try:
                cur.execute(f'LOCK TABLES "{table}" WRITE')
            except pymysql.err.OperationalError as e:
                assert e.args[0] == 1205  # lock wait timeout
                return False
            cur.execute("UNLOCK TABLES")
            return True

    with watcher:
        with watcher.cursor() as cur:
            cur.execute("SET SESSION sql_mode = 'ANSI_QUOTES', SESSION lock_wait_timeout = 1")
        m.database.db.conn.execute(sa.text(f'SELECT COUNT(*) FROM "{table}"')).all()
        assert not table_is_free()  # the probe sees a transaction left open
        m.database.db.conn.commit()
        for op in (
            lambda: m.get_key(None, "openai", "u1"),
            lambda: m.get_key(None, "missing", "u1"),
            lambda: m.set_key(None, "openai", "sk-maria-idle-11111", "u1", make_default=True),
            lambda: m.list_keys(None, "u1"),
            lambda: m.stale_count(),
            lambda: m.cleanup_expired(None),
            lambda: m.rotate_keys(),
        ):
            op()
            assert table_is_free(), op


def test_text_is_compared_exactly_as_written(make_manager):
    """Case and trailing spaces make different owners and labels on every database (MySQL's
    default collations would merge them)."""
    m = make_manager()
    owners = ["alice", "Alice", "alice "]
    for n, owner in enumerate(owners):
        m.set_key(None, "openai", f"sk-owner-{n}-0000000000", owner)
    for label in ("Work", "work"):
        m.set_key(None, "openai", f"sk-label-{label}-00000", "bob", label=label)
    assert [m.get_key(None, "openai", o) for o in owners] == [
        f"sk-owner-{n}-0000000000" for n in range(3)
    ]
    assert m.get_key(None, "openai", "bob", label="work") == "sk-label-work-00000"
    assert m.get_key(None, "openai", "bob", label="Work") == "sk-label-Work-00000"
    assert m.database.count() == 5


def test_the_longest_accepted_values_are_stored_whole(make_manager):
    m = make_manager(max_key_length=8192)
    owner = "ü" * MAX_USER_ID_LENGTH  # multi-byte, at the limit
    label = "L" * 32
    key = "sk-" + "x" * 8189
    m.set_key(None, "a" * 64, key, owner, label=label)
    assert m.get_key(None, "a" * 64, owner, label=label) == key


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    storage = DatabaseStorage(BYOKConfig(), f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        assert storage.db.q("PRAGMA journal_mode")[0]["journal_mode"] == "wal"
        assert storage.db.q("PRAGMA busy_timeout")[0]["timeout"] == 10000
    finally:
        storage.close()


def test_lookups_are_indexed(make_manager):
    m = make_manager()
    inspector = sa.inspect(m.database.db.engine)
    table = m.config.db_table_name
    pk = inspector.get_pk_constraint(table)["constrained_columns"]
    assert pk == ["user_id", "provider", "label"]
    indexed = {tuple(ix["column_names"]) for ix in inspector.get_indexes(table)}
    assert ("key_version",) in indexed and ("expires_at",) in indexed


def test_a_row_damaged_outside_byok_is_a_storage_error_and_is_kept(make_manager):
    m = make_manager()
    m.set_key(None, "openai", "sk-damaged-row-01", user_id="u1")
    with m.database._guard("damage"):
        m.database.db.q(f"UPDATE \"{m.config.db_table_name}\" SET created_at = 'yesterday'")
    for call in (m.get_key, m.has_key, m.get_masked_key):
        with pytest.raises(StorageError, match="malformed row"):
            call(None, "openai", "u1")
    with pytest.raises(StorageError):
        m.list_keys(None, "u1")
    assert m.database.count() == 1


def test_an_unreadable_schema_version_is_a_storage_error(db_url):
    run_ddl(db_url, V1_DDL.replace("'1')", "'one')"))
    with pytest.raises(StorageError, match="schema version"):
        DatabaseStorage(BYOKConfig(), db_url)


def test_a_schema_version_1_database_is_upgraded_with_nothing_lost(db_url):
    assert SCHEMA_VERSION == 2
    write_v1(db_url)
    manager = v2_manager(db_url)
    try:
        assert manager.database.count() == len(V1_ROWS)
        for user, provider, plain, created, expires, _version in V1_ROWS:
            assert manager.get_key(None, provider, user) == plain
            record = manager.get_key_info(None, provider, user)
            assert record.label == "" and record.endpoint is None and record.is_default
            assert record.created_at.isoformat(timespec="microseconds") == created
            assert (record.expires_at.isoformat(timespec="microseconds") if expires else None) == (
                expires
            )
        assert manager.stale_count() == 2  # the key versions came across: rotation still works
        assert manager.rotate_keys().rewrapped == 2
        inspector = sa.inspect(manager.database.db.engine)
        tables = inspector.get_table_names()
        assert "user_api_keys_v1" not in tables
        assert inspector.get_pk_constraint("user_api_keys")["constrained_columns"] == [
            "user_id", "provider", "label"
        ]  # fmt: skip
        indexes = {i["name"] for i in inspector.get_indexes("user_api_keys")}
        assert {"user_api_keys_version", "user_api_keys_expires"} <= indexes
        with manager.database._guard("test"):
            meta = manager.database.db.q("SELECT value FROM byok_meta")
        assert meta == [{"value": "2"}]
        # the upgraded table takes labelled keys beside the migrated one
        manager.set_key(None, "openai", "sk-work-key-after-upgrade", user_id="u1", label="work")
        assert manager.get_key(None, "openai", "u1") == "sk-from-v1-table-openai"
        assert manager.get_key(None, "openai", "u1", label="work") == "sk-work-key-after-upgrade"
        manager.set_key(None, "openai", "sk-rewritten-v1", user_id="u1")
        assert manager.get_key(None, "openai", "u1", label="") == "sk-rewritten-v1"
        assert manager.database.count() == len(V1_ROWS) + 1
    finally:
        manager.database.close()
    reopened = v2_manager(db_url)  # a second start finds version 2 and changes nothing
    try:
        assert reopened.get_key(None, "openai", "u2") == "sk-from-v1-table-u2"
    finally:
        reopened.database.close()


def test_an_interrupted_upgrade_completes_on_the_next_start(db_url):
    """A crash after the version-1 table was set aside (renamed) loses nothing."""
    write_v1(db_url)
    engine = create_engine(db_url)
    with engine.begin() as conn:  # what _set_aside_v1 leaves behind if the process dies next
        on = " ON user_api_keys" if engine.dialect.name == "mysql" else ""  # per-table names
        conn.execute(sa.text(f"DROP INDEX user_api_keys_version{on}"))
        conn.execute(sa.text(f"DROP INDEX user_api_keys_expires{on}"))
        conn.execute(sa.text("ALTER TABLE user_api_keys RENAME TO user_api_keys_v1"))
    engine.dispose()
    manager = v2_manager(db_url)
    try:
        assert manager.database.count() == len(V1_ROWS)
        for user, provider, plain, *_ in V1_ROWS:
            assert manager.get_key(None, provider, user) == plain
    finally:
        manager.database.close()


def test_a_too_new_schema_is_refused(db_url):
    run_ddl(db_url, V1_DDL.replace("'1')", "'3')"))
    with pytest.raises(StorageError, match="schema version 3"):
        DatabaseStorage(BYOKConfig(), db_url)


def test_reopening_keeps_the_schema_version(db_url):
    first = DatabaseStorage(BYOKConfig(), db_url)
    first.close()
    second = DatabaseStorage(BYOKConfig(), db_url)
    try:
        with second._guard("test"):
            rows = second.db.q("SELECT value FROM byok_meta WHERE name = 'schema:user_api_keys'")
        assert rows == [{"value": str(SCHEMA_VERSION)}]
    finally:
        second.close()


def test_custom_table_name_and_bad_names(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    m = BYOKManager(SECRET, db_url=url, config=BYOKConfig(db_table_name="my_keys"))
    m.set_key(None, "openai", "sk-custom-table", user_id="u")
    assert "my_keys" in sa.inspect(m.database.db.engine).get_table_names()
    m.database.close()
    for bad in ("drop table x", "1abc", "a;b", 'q"t', ""):
        with pytest.raises(ValidationError):
            DatabaseStorage(BYOKConfig(db_table_name=bad), url)


@pytest.mark.parametrize("url", ["", "not a url", None, 42])
def test_bad_database_urls_are_validation_errors(url):
    with pytest.raises(ValidationError):
        DatabaseStorage(BYOKConfig(), url)


def test_unreachable_database_is_a_storage_error(tmp_path):
    with pytest.raises(StorageError):
        DatabaseStorage(BYOKConfig(), f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")


def test_driver_errors_become_storage_errors_and_the_connection_recovers(make_manager):
    m = make_manager()
    m.set_key(None, "openai", "sk-before-drop-0", user_id="u1")
    name = m.config.db_table_name
    m.database.db.q(f'ALTER TABLE "{name}" RENAME TO moved_away')
    m.database.db.conn.commit()
    with pytest.raises(StorageError, match="database retrieve failed"):
        m.get_key(None, "openai", "u1")
    with pytest.raises(StorageError):
        m.set_key(None, "openai", "sk-after-drop-00", user_id="u1")
    m.database.db.q(f'ALTER TABLE moved_away RENAME TO "{name}"')
    m.database.db.conn.commit()
    assert m.get_key(None, "openai", "u1") == "sk-before-drop-0"


# --------------------------------------------------------------------------- session storage


def test_session_holds_one_namespaced_entry_with_ciphertext_only():
    m = BYOKManager(SECRET)
    req = FakeRequest({"byok_settings": {"theme": "dark"}, "user": "kept"})
    m.set_key(req, "openai", "sk-session-plain-0001")
    assert set(req.session) == {"byok_settings", "user", "byok_keys"}
    assert "sk-session-plain-0001" not in json.dumps(req.session)
    assert req.session["byok_settings"] == {"theme": "dark"}
    assert m.get_key(req, "openai") == "sk-session-plain-0001"


def test_session_namespace_does_not_collide_with_app_entries():
    m = BYOKManager(SECRET)
    app_data = {"byok_settings": "app", "byok_openai": "app", "settings": "app", "keys": "app"}
    req = FakeRequest(dict(app_data))
    for provider in ("settings", "openai", "keys", "cache"):
        m.set_key(req, provider, f"sk-{provider}-000000")
    for provider in ("settings", "openai", "keys", "cache"):
        assert m.get_key(req, provider) == f"sk-{provider}-000000"
    assert {k: req.session[k] for k in app_data} == app_data
    m.clear_keys(req)
    assert m.list_providers(req) == []
    assert {k: req.session[k] for k in app_data} == app_data


def test_session_writes_reassign_the_entry():
    m = BYOKManager(SECRET)
    req = FakeRequest()
    m.set_key(req, "openai", "sk-first-0000000")
    before = req.session["byok_keys"]
    snapshot = json.dumps(before, sort_keys=True)
    m.set_key(req, "google", "sk-second-000000")
    assert req.session["byok_keys"] is not before  # a new object: session backends see a change
    assert json.dumps(before, sort_keys=True) == snapshot  # the old one was not mutated
    m.delete_key(req, "openai")
    assert m.list_providers(req) == ["google"]


def test_anonymous_session_keys_are_bound_to_their_session():
    m = BYOKManager(SECRET)
    a, b = FakeRequest(), FakeRequest()
    m.set_key(a, "openai", "sk-session-a-000")
    m.set_key(b, "openai", "sk-session-b-000")
    b.session["byok_keys"]["k"][""]["openai"] = a.session["byok_keys"]["k"][""]["openai"]
    with pytest.raises(EncryptionError):
        m.get_key(b, "openai")  # a's ciphertext pasted into b's session
    assert m.get_key(a, "openai") == "sk-session-a-000"


def test_session_users_are_partitioned():
    m = BYOKManager(SECRET)
    req = FakeRequest()
    m.set_key(req, "openai", "sk-user-one-0000", user_id="one")
    m.set_key(req, "openai", "sk-anonymous-000")
    assert m.get_key(req, "openai", user_id="two") is None
    assert m.get_key(req, "openai", user_id="one") == "sk-user-one-0000"
    assert m.get_key(req, "openai") == "sk-anonymous-000"
    m.clear_keys(req, user_id="one")
    assert m.get_key(req, "openai") == "sk-anonymous-000"


def test_session_storage_needs_a_session():
    m = BYOKManager(SECRET)
    with pytest.raises(StorageError, match="SessionMiddleware"):
        m.set_key(object(), "openai", "sk-no-session-00")
    with pytest.raises(StorageError, match="pass the handler's request"):  # what to pass
        m.set_key(None, "openai", "sk-no-session-00")
    with pytest.raises(StorageError):
        m.get_key(FakeRequest(session="not a dict"), "openai")  # type: ignore[arg-type]


def test_session_full_raises_before_writing_and_keeps_stored_keys():
    config = BYOKConfig(cookie_limit=1500)
    m = BYOKManager(SECRET, config=config)
    req = FakeRequest()
    stored = []
    with pytest.raises(SessionFullError, match="1500-byte limit"):
        for i in range(50):
            m.set_key(req, f"p{i}", "k" * 200)
            stored.append(f"p{i}")
    assert 1 <= len(stored) < 50
    before = json.dumps(req.session)
    with pytest.raises(SessionFullError):
        m.set_key(req, "one-more", "k" * 200)
    assert json.dumps(req.session) == before  # nothing half-written
    assert m.list_providers(req) == sorted(stored)
    assert all(m.get_key(req, p) == "k" * 200 for p in stored)
    assert SessionStorage(config).cookie_size(req.session) <= 1500


def test_deleting_always_works_even_when_the_app_filled_the_cookie():
    m = BYOKManager(SECRET)
    req = FakeRequest()
    m.set_key(req, "openai", "sk-delete-me-000")
    m.set_key(req, "google", "sk-delete-me-001")
    req.session["app_blob"] = "x" * 5000  # the app alone is over budget now
    m.delete_key(req, "openai")  # shrinking is always allowed
    assert m.list_providers(req) == ["google"]
    m.clear_keys(req)
    assert m.list_providers(req) == []
    with pytest.raises(SessionFullError):
        m.set_key(req, "openai", "sk-no-room-00000")


def test_real_cookie_with_20_providers_of_200_characters():
    """The real Set-Cookie stays ≤ 4,096 bytes, or set_key refuses with SessionFullError (413)
    and the keys already stored survive; the storage's projection is ≥ the real size."""
    manager = BYOKManager(SECRET)
    client = TestClient(make_app(manager))
    stored, refused, sizes = [], [], []
    for i in range(20):
        provider, key = f"provider-{i:02d}", f"sk-{i:02d}-" + "x" * 194
        assert len(key) == 200
        response = client.post(f"/keys/{provider}", data={"key": key})
        if response.status_code == 413:
            assert "4096-byte limit" in response.text and key not in response.text
            refused.append(provider)
            continue
        assert response.status_code == 200, response.text
        header = session_cookie(response)
        assert header is not None
        real, projected = len(header.encode()), int(response.text)
        sizes.append((real, projected))
        assert real <= 4096
        assert projected >= real, (projected, real)
        stored.append(provider)
    assert stored and refused and len(stored) + len(refused) == 20
    assert stored == [f"provider-{i:02d}" for i in range(len(stored))]  # refused only at the end
    for i, provider in enumerate(stored):
        got = client.get(f"/digest/{provider}")
        assert got.status_code == 200 and got.text == sha256_hex(f"sk-{i:02d}-" + "x" * 194)
    assert all(client.get(f"/keys/{p}").status_code == 404 for p in refused)
    largest_real = max(r for r, _ in sizes)
    slack = max(p - r for r, p in sizes)
    print(
        f"\ncookie: {len(stored)} of 20 providers × 200 chars fit; largest Set-Cookie "
        f"{largest_real} B; projection over-estimates by ≤ {slack} B; {len(refused)} refused (413)"
    )
    assert slack <= 120


def test_real_cookie_is_signed_and_carries_no_plaintext():
    manager = BYOKManager(SECRET)
    client = TestClient(make_app(manager))
    response = client.post("/keys/openai", data={"key": "sk-cookie-canary-123456"})
    header = session_cookie(response)
    payload = cookie_payload(header)
    assert set(payload) == {"byok_keys"}
    assert "sk-cookie-canary-123456" not in header and "sk-cookie-canary" not in json.dumps(payload)
    # a tampered cookie is ignored by the signature check: the key is simply absent
    value = header.split(";")[0].split("=", 1)[1]
    assert TestClient(client.app, cookies={COOKIE: value}).get("/keys/openai").status_code == 200
    tampered = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    assert TestClient(client.app, cookies={COOKIE: tampered}).get("/keys/openai").status_code == 404


# --------------------------------------------------------------------------- hybrid


@pytest.fixture
def hybrid(tmp_path) -> Iterator[BYOKManager]:
    config = BYOKConfig(storage_backend=StorageBackend.HYBRID)
    manager = BYOKManager(SECRET, db_url=f"sqlite:///{tmp_path / 'h.db'}", config=config)
    yield manager
    manager.database.close()


def test_hybrid_cache_is_per_user_in_one_session(hybrid):
    req = FakeRequest()  # one browser session, two users in turn
    hybrid.set_key(req, "openai", "sk-alice-hybrid-0", user_id="alice")
    assert hybrid.get_key(req, "openai", user_id="bob") is None
    hybrid.set_key(req, "openai", "sk-bob-hybrid-000", user_id="bob")
    assert hybrid.get_key(req, "openai", user_id="alice") == "sk-alice-hybrid-0"
    assert hybrid.get_key(req, "openai", user_id="bob") == "sk-bob-hybrid-000"
    cache = req.session["byok_cache"]["k"]
    assert set(cache) == {"alice", "bob"}
    # a copy pasted into the other user's partition does not open: bob gets his own key back
    cache["bob"]["openai"] = list(cache["alice"]["openai"])
    assert hybrid.get_key(req, "openai", user_id="bob") == "sk-bob-hybrid-000"
    cache = req.session["byok_cache"]["k"]
    assert cache["bob"]["openai"][0] != cache["alice"]["openai"][0]  # the bad copy was replaced
    cache["bob"]["openai"] = list(cache["alice"]["openai"])
    hybrid.database.delete(None, "openai", "bob")
    assert hybrid.get_key(req, "openai", user_id="bob") is None  # never alice's key
    assert "bob" not in req.session["byok_cache"]["k"]
    other_secret = BYOKManager("another-secret-0123456789abc", hybrid.database.db, hybrid.config)
    with pytest.raises(EncryptionError):
        other_secret.get_key(req, "openai", user_id="alice")  # unreadable in both: reported


def test_hybrid_reads_the_database_when_the_cache_is_cold_or_stale(hybrid):
    hybrid.set_key(FakeRequest(), "openai", "sk-from-elsewhere", user_id="u1")
    fresh = FakeRequest()  # another device: empty session
    assert hybrid.get_key(fresh, "openai", user_id="u1") == "sk-from-elsewhere"
    assert "openai" in fresh.session["byok_cache"]["k"]["u1"]  # re-cached
    hybrid.database.delete(None, "openai", "u1")  # deleted from another device
    assert hybrid.get_key(fresh, "openai", user_id="u1") == "sk-from-elsewhere"  # cache trusted
    hybrid.config.hybrid_cache_ttl = timedelta(0)
    assert hybrid.get_key(fresh, "openai", user_id="u1") is None  # stale cache: database asked
    assert "openai" not in fresh.session["byok_cache"]["k"].get("u1", {})


def test_hybrid_falls_back_to_the_database_when_the_cookie_is_full(hybrid):
    req = FakeRequest({"app_blob": "x" * 3900})
    hybrid.set_key(req, "openai", "sk-too-big-for-cookie", user_id="u1")
    assert "byok_cache" not in req.session or not req.session["byok_cache"]["k"]
    assert hybrid.get_key(req, "openai", user_id="u1") == "sk-too-big-for-cookie"
    assert hybrid.list_providers(req, user_id="u1") == ["openai"]
    hybrid.clear_keys(req, user_id="u1")
    assert hybrid.database.count() == 0


def test_hybrid_needs_a_user_id(hybrid):
    with pytest.raises(ValidationError):
        hybrid.set_key(FakeRequest(), "openai", "sk-anonymous-000")
    assert isinstance(hybrid.storage, HybridStorage)


def test_hybrid_expired_copy_is_removed_from_both(hybrid):
    req = FakeRequest()
    hybrid.set_key(req, "openai", "sk-expiring-0000", user_id="u1", ttl=timedelta(seconds=30))
    later = utcnow() + timedelta(minutes=1)
    record = hybrid.database.retrieve(None, "openai", "u1")
    record.expires_at = utcnow() - timedelta(seconds=1)
    hybrid.storage.store(req, record)
    assert hybrid.get_key(req, "openai", user_id="u1") is None
    assert hybrid.database.count() == 0
    assert later > utcnow()
    assert "openai" not in req.session["byok_cache"]["k"].get("u1", {})


def test_session_storage_timestamps_are_utc():
    storage = SessionStorage(BYOKConfig())
    req = FakeRequest()
    created = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
    storage.store(req, APIKey("openai", b"B\x00\x01" + b"\x00" * 40, created, None, None))
    back = storage.retrieve(req, "openai")
    assert back.created_at == created and back.created_at.tzinfo is not None
    assert storage.written_at(req, "openai").tzinfo is not None
