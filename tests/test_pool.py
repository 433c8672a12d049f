"""The connection pool of a server database (byok/core/pool.py): concurrent operations of one
process run on connections of their own, at once; `?pool_size=N` sizes it; no connection is left
idle in a transaction. SQLite keeps one connection per process."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import psycopg
import pytest
import sqlalchemy as sa

from byok.core.database import create_engine, open_database
from byok.core.storage import BYOKManager
from byok.core.types import BYOKConfig, StorageBackend, ValidationError
from byok.issuing import KeyIssuer
from byok.issuing.errors import InvalidInputError

SECRET = "pool-test-signing-secret-0123456789abcdef"
VAULT_SECRET = "pool-test-vault-secret-0123456789abcdef"
WAIT = 60  # seconds a thread may take before the test calls it stuck (never a speed bar)
SERVERS = [  # the databases with a pool
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", id="mariadb", marks=pytest.mark.mariadb),
]
server_url = pytest.mark.parametrize("db_url", SERVERS, indirect=True)


def _with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _session_id(conn: sa.Connection) -> int:
    """The server's id of this connection's session."""
    name = conn.engine.dialect.name
    sql = "SELECT pg_backend_pid()" if name == "postgresql" else "SELECT CONNECTION_ID()"
    return conn.execute(sa.text(sql)).scalar_one()


@pytest.fixture
def issuer(db_url: str) -> Iterator[KeyIssuer]:
    made = KeyIssuer(db_url, signing_secret=SECRET, cache_ttl=0)
    yield made
    made.close()


def _while_held(issuer: KeyIssuer, call: Callable[[], object]) -> object:
    """Run `call` in a thread while another thread is inside a guarded operation (it has read a
    row, so its transaction is open); what `call` returned. A pool runs the two at once; one
    connection behind one lock would keep `call` waiting until the other ends."""
    inside, done = threading.Event(), threading.Event()

    def hold() -> None:
        with issuer._guard("held open"):
            issuer.db.conn.execute(sa.text("SELECT count(*) FROM issued_keys")).scalar()
            inside.set()
            done.wait(WAIT)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert inside.wait(WAIT)
        result: list[object] = []
        worker = threading.Thread(target=lambda: result.append(call()))
        worker.start()
        worker.join(WAIT)
        assert not worker.is_alive(), "the call waited for the other operation to end"
        return result[0]
    finally:
        done.set()
        holder.join(WAIT)


@server_url
def test_a_validation_runs_while_another_operation_holds_its_connection(
    issuer: KeyIssuer,
) -> None:
    org, _ = issuer.get_or_create_organization("Acme")
    made = issuer.create_key(org.id)
    key = _while_held(issuer, lambda: issuer.validate_key(made.plaintext))
    assert key.id == made.key.id
    assert issuer.get_key(made.key.id).use_count == 1


@server_url
def test_a_vault_read_runs_while_another_operation_holds_its_connection(
    db_url: str, issuer: KeyIssuer
) -> None:
    config = BYOKConfig(storage_backend=StorageBackend.DATABASE)
    manager = BYOKManager(VAULT_SECRET, db_url=db_url, config=config)
    try:
        manager.set_key(None, "openai", "sk-pooled-read-0001", user_id="u1")
        storage = manager.database

        def read() -> object:
            return manager.get_key(None, "openai", "u1")

        # the vault's own guard, held open by another thread, as the issuer's is above
        inside, done = threading.Event(), threading.Event()

        def hold() -> None:
            with storage._guard("held open"):
                storage.db.conn.execute(sa.text("SELECT 1")).scalar()
                inside.set()
                done.wait(WAIT)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert inside.wait(WAIT)
            result: list[object] = []
            worker = threading.Thread(target=lambda: result.append(read()))
            worker.start()
            worker.join(WAIT)
            assert not worker.is_alive(), "the read waited for the other operation to end"
            assert result == ["sk-pooled-read-0001"]
        finally:
            done.set()
            holder.join(WAIT)
    finally:
        storage.close()


@server_url
def test_pool_size_in_the_url_sizes_the_pool_and_each_operation_has_its_own_session(
    db_url: str,
) -> None:
    issuer = KeyIssuer(_with_query(db_url, "pool_size=3"), signing_secret=SECRET)
    try:
        assert issuer.db.engine.pool.size() == 3
        barrier = threading.Barrier(3, timeout=WAIT)
        sessions: list[int] = []

        def one() -> None:
            with issuer._guard("which session"):
                sessions.append(_session_id(issuer.db.conn))
                barrier.wait()  # all three are inside their guards at once

        threads = [threading.Thread(target=one) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(WAIT)
        assert len(set(sessions)) == 3
    finally:
        issuer.close()


@pytest.mark.parametrize("size", ["0", "1", "101", "ten", "-3", "2.5", "1e3", "²", "4&pool_size=5"])
def test_a_pool_size_out_of_bounds_is_a_clear_error_naming_no_password(size: str) -> None:
    url = f"postgresql://app:s3cret-pw@127.0.0.1:1/db?pool_size={size}"
    with pytest.raises(InvalidInputError, match=r"pool_size .* from 2 to 100") as caught:
        KeyIssuer(url, signing_secret=SECRET)
    assert "s3cret-pw" not in str(caught.value)
    with pytest.raises(ValidationError, match="pool_size"):
        open_database(url)


def test_sqlite_refuses_a_pool_size(tmp_path) -> None:
    with pytest.raises(ValidationError, match="SQLite keeps one connection"):
        open_database(f"sqlite:///{tmp_path / 'keys.db'}?pool_size=4")


@pytest.mark.parametrize("db_url", [SERVERS[0]], indirect=True)
def test_no_connection_is_left_idle_in_a_transaction_after_a_burst_of_reads(
    db_url: str, issuer: KeyIssuer
) -> None:
    org, _ = issuer.get_or_create_organization("Acme")
    made = issuer.create_key(org.id)
    config = BYOKConfig(storage_backend=StorageBackend.DATABASE)
    manager = BYOKManager(VAULT_SECRET, db_url=db_url, config=config)
    manager.set_key(None, "openai", "sk-pooled-read-0002", user_id="u1")
    errors: list[BaseException] = []

    def reads() -> None:
        try:
            for _ in range(15):
                issuer.validate_key(made.plaintext, track_usage=False, check_rate_limit=False)
                issuer.get_key(made.key.id)
                issuer.list_org_keys(org.id)
                manager.get_key(None, "openai", "u1")
                manager.list_providers(None, "u1")
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=reads) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    try:
        assert errors == []
        dbname = sa.make_url(db_url).database
        with psycopg.connect(db_url, autocommit=True) as admin:
            states = admin.execute(
                "SELECT state FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (dbname,),
            ).fetchall()
        states = [s for (s,) in states]
        assert len(states) >= 2  # the pools kept their connections (several, for 8 threads)
        assert [s for s in states if s != "idle"] == []  # none idle in transaction
    finally:
        manager.database.close()


def test_an_engine_byok_makes_takes_the_pool_size_of_its_url() -> None:
    # e.g. DatabaseRateLimit's: at most pool_size connections, the URL's pool_size not sent on
    engine = create_engine("postgresql://app:pw@127.0.0.1:1/db?pool_size=4")
    assert (engine.pool.size(), engine.pool._max_overflow) == (4, 0)
    assert "pool_size" not in engine.url.query


def test_the_async_client_has_more_calls_in_flight_than_asyncios_default_executor() -> None:
    # a pool of connections helps only when the calls reach it at once: asyncio's default
    # executor has at most 32 threads (CPU count + 4: 6 on 2 cores); Starlette's pool has 40
    from byok.issuing.client import _off_loop

    parties = 33
    barrier = threading.Barrier(parties, timeout=WAIT)

    async def together() -> list[int]:
        return await asyncio.gather(*(_off_loop(barrier.wait) for _ in range(parties)))

    assert sorted(asyncio.run(together())) == list(range(parties))


def test_sqlite_readers_do_not_wait_on_a_writer_of_another_connection(tmp_path) -> None:
    # one writer at a time (WAL), and reads never wait on it: another connection (another
    # process's, as sqlite3 sees it) holds a write transaction open while byok reads. Were the
    # reads to wait for its lock they would fail after the busy timeout (database is locked)
    import sqlite3

    url = f"sqlite:///{tmp_path / 'keys.db'}"
    issuer = KeyIssuer(url, signing_secret=SECRET, cache_ttl=0)
    config = BYOKConfig(storage_backend=StorageBackend.DATABASE)
    manager = BYOKManager(VAULT_SECRET, db_url=url, config=config)
    writer = sqlite3.connect(tmp_path / "keys.db", isolation_level=None, timeout=0)
    try:
        org, _ = issuer.get_or_create_organization("Acme")
        made = issuer.create_key(org.id)
        manager.set_key(None, "openai", "sk-wal-read-0001", user_id="u1")
        writer.execute("BEGIN IMMEDIATE")  # the write lock, held to the end of the test
        writer.execute("UPDATE issued_keys SET use_count = use_count + 1000")
        seen = issuer.validate_key(made.plaintext, track_usage=False, check_rate_limit=False)
        assert seen.id == made.key.id and seen.use_count == 0  # the last committed row
        assert issuer.get_key(made.key.id).use_count == 0
        assert [k.id for k in issuer.list_org_keys(org.id)] == [made.key.id]
        assert manager.get_key(None, "openai", "u1") == "sk-wal-read-0001"
        with pytest.raises(sqlite3.OperationalError, match="locked"):  # one writer at a time
            sqlite3.connect(tmp_path / "keys.db", timeout=0).execute("BEGIN IMMEDIATE")
    finally:
        writer.close()
        manager.database.close()
        issuer.close()


@pytest.mark.parametrize("db_url", [SERVERS[0]], indirect=True)
def test_no_connection_is_left_idle_in_a_transaction_after_a_burst_of_counted_validations(
    db_url: str, issuer: KeyIssuer
) -> None:
    # each counted use is one autocommit statement on PostgreSQL: the pool's connections go
    # back in autocommit off, idle, and the counts are exact
    from byok.issuing import APIKeyClient, KeyMetadata

    org, _ = issuer.get_or_create_organization("Acme")
    made = [issuer.create_key(org.id, metadata=KeyMetadata(remaining=30)) for _ in range(3)]
    client = APIKeyClient.of(KeyIssuer(_with_query(db_url, "pool_size=3"), signing_secret=SECRET))

    async def burst() -> list[object]:
        calls = [client.validate_key(m.plaintext) for m in made for _ in range(40)]
        return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(burst())
    try:
        passed = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, BaseException)]
        assert len(passed) == 90 and all(
            type(e).__name__ == "CreditsExhaustedError" for e in refused
        )
        assert [issuer.get_key(m.key.id).use_count for m in made] == [30, 30, 30]
        dbname = sa.make_url(db_url).database
        with psycopg.connect(db_url, autocommit=True) as admin:
            states = admin.execute(
                "SELECT state FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (dbname,),
            ).fetchall()
        assert [s for (s,) in states if s != "idle"] == []  # none idle in transaction
        with client.issuer._guard("after the burst"):  # a pooled connection is transactional
            assert client.issuer.db.conn.connection.driver_connection.autocommit is False
    finally:
        client.issuer.close()


@pytest.mark.parametrize("db_url", [SERVERS[0]], indirect=True)
def test_the_async_client_runs_no_more_validations_at_once_than_the_pool_has_connections(
    db_url: str,
) -> None:
    # calls beyond the pool queue for a thread of its own (none blocks a thread waiting for a
    # connection); every call ends
    from byok.core.pool import in_pool_thread

    db = open_database(_with_query(db_url, "pool_size=2"))
    inside, most, lock = [0], [0], threading.Lock()
    release = threading.Event()

    def call(i: int) -> int:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            if inside[0] == 2:
                release.set()  # both threads are busy: let them go
        assert release.wait(WAIT)
        with lock:
            inside[0] -= 1
        return i

    async def together() -> list[int]:
        return await asyncio.gather(*(in_pool_thread(db, call, i) for i in range(6)))

    try:
        assert asyncio.run(together()) == list(range(6))
        assert most[0] == 2
    finally:
        db.close()
        db.engine.dispose()


@pytest.mark.parametrize("db_url", [SERVERS[0]], indirect=True)
def test_a_counted_validation_on_postgresql_is_one_statement_committed_on_its_own(
    db_url: str, issuer: KeyIssuer
) -> None:
    # one round trip (not BEGIN, the UPDATE, then COMMIT): the connection that counted the use
    # last ran the UPDATE itself, in autocommit; its row lock still orders concurrent uses
    org, _ = issuer.get_or_create_organization("Acme")
    made = issuer.create_key(org.id)
    issuer.validate_key(made.plaintext)  # the first use of the day (its own transaction)
    issuer.validate_key(made.plaintext)  # a row already counting today: the one statement
    dbname = sa.make_url(db_url).database
    with psycopg.connect(db_url, autocommit=True) as admin:
        last = admin.execute(
            "SELECT state, query FROM pg_stat_activity WHERE datname = %s "
            "AND pid <> pg_backend_pid()",
            (dbname,),
        ).fetchall()
    assert {state for state, _ in last} == {"idle"}
    updates = [q for _, q in last if q.lstrip().upper().startswith("UPDATE ISSUED_KEYS")]
    assert len(updates) == 1, last
    assert issuer.get_key(made.key.id).use_count == 2


def test_a_fresh_sqlite_file_opens_while_another_connection_writes_to_it(tmp_path) -> None:
    # SQLite answers a switch to WAL "database is locked" at once, with no busy wait, while
    # another connection holds a write lock: so several processes opening a fresh file at once
    # failed now and then (CI: test_a_fresh_database_opened_by_4_processes_at_once). byok waits.
    import sqlite3

    path = tmp_path / "keys.db"
    locked, release = threading.Event(), threading.Event()

    def writer() -> None:  # a rollback-journal file, as a fresh file is, mid-write
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("CREATE TABLE other (x)")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO other VALUES (1)")
        locked.set()
        release.wait(30)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    assert locked.wait(30)
    threading.Timer(0.3, release.set).start()
    db = open_database(f"sqlite:///{path}")
    thread.join()
    assert db.q("PRAGMA journal_mode")[0]["journal_mode"] == "wal"
    db.conn.close()


def test_the_pool_threads_return_results_errors_and_context_and_skip_a_cancelled_call() -> None:
    # the threads behind in_pool_thread: at most `size` of them; a result, an exception and the
    # caller's context variables cross over; a call whose awaiter was cancelled while it waited
    # for a thread never runs; shutdown ends the threads
    import contextvars
    import functools

    from byok.core.pool import Workers

    workers, seen = Workers(2, "test-pool"), contextvars.ContextVar("seen", default="")
    both, gate, ran = threading.Barrier(2, timeout=WAIT), threading.Event(), []

    def blocked() -> str:
        both.wait()  # the two calls run at once, each in its own thread
        assert gate.wait(WAIT)
        return threading.current_thread().name

    def failing() -> None:
        raise KeyError("from the thread")

    async def main() -> None:
        seen.set("the caller's")
        first = asyncio.ensure_future(workers.run(blocked))
        second = asyncio.ensure_future(workers.run(blocked))
        waiting = asyncio.ensure_future(workers.run(lambda: ran.append(1)))
        await asyncio.sleep(0)  # the three are queued, in order
        waiting.cancel()  # no thread is free before the gate opens: it is still queued
        gate.set()
        names = await asyncio.gather(first, second)
        assert len(set(names)) == 2 and all(n.startswith("test-pool") for n in names)
        with pytest.raises(KeyError, match="from the thread"):
            await workers.run(failing)
        bound = functools.partial(contextvars.copy_context().run, seen.get)
        assert await workers.run(bound) == "the caller's"
        with pytest.raises(asyncio.CancelledError):
            await waiting

    asyncio.run(main())
    assert ran == []
    assert workers._started == 2
    workers.shutdown()
    with pytest.raises(RuntimeError):
        asyncio.run(workers.run(lambda: None))
