"""Group commit of counted validations (byok/issuing/combine.py, batches.py), on PostgreSQL and
MariaDB, on the event loop's own connection (byok/core/onloop*.py): concurrent counted uses in one
process share a query, their counts stay exact, a key changed between its read and its batch is
taken again (refused when revoked), a failing, killed or closed batch releases every waiter with
the StorageError a single write gives and leaves nothing counted, and a database the app opened
itself counts its batches in a pool thread.

The queries are counted by each server itself (`Server.queries`): PostgreSQL's statement-level
trigger logs one row per UPDATE statement, whichever path ran it; MariaDB's general log has one
row per query received, found by the test's own key ids (each batch names its keys)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import timedelta
from itertools import count
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from bench import servers
from byok.core.dialects import MySQL
from byok.core.types import StorageError
from byok.issuing import (
    APIKeyClient,
    CreditsExhaustedError,
    KeyIssuer,
    KeyMetadata,
    QuotaError,
    RateLimit,
    RateLimitWindow,
    RevokedKeyError,
)
from tests.support import SECRET, Clock

HANG = 120  # seconds after which a waiter never released fails the test (not a speed bound)
_names = count(1)


class Postgres:
    """A fresh PostgreSQL database, and what the tests ask of it."""

    AS_IS_QUERIES = 6  # a database given as is: one statement per batch, 3 rounds

    COUNT_UPDATES = """
    CREATE TABLE update_log (n serial PRIMARY KEY);
    CREATE FUNCTION log_update() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN INSERT INTO update_log DEFAULT VALUES; RETURN NULL; END $$;
    CREATE TRIGGER count_updates AFTER UPDATE ON issued_keys
      FOR EACH STATEMENT EXECUTE FUNCTION log_update();
    """
    REFUSE_UPDATES = """
    CREATE FUNCTION refuse_update() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'updates refused by the test'; END $$;
    CREATE TRIGGER refuse_updates BEFORE UPDATE ON issued_keys
      FOR EACH STATEMENT EXECUTE FUNCTION refuse_update();
    """
    # the first batch statement after it sleeps (a sequence: the kill does not undo nextval)
    SLOW_FIRST_UPDATE = """
    CREATE SEQUENCE slept;
    CREATE FUNCTION slow_update() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN IF nextval('slept') = 1 THEN PERFORM pg_sleep(120); END IF; RETURN NULL; END $$;
    CREATE TRIGGER slow_updates BEFORE UPDATE ON issued_keys
      FOR EACH STATEMENT EXECUTE FUNCTION slow_update();
    """
    UPDATING = (  # the backends running a batch statement now
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND state = 'active' AND query LIKE 'UPDATE issued_keys%' AND pid <> pg_backend_pid()"
    )

    def __init__(self, server: str):  # the pg_url fixture's
        self.server, name = server, f"byok_comb{os.getpid()}_{next(_names)}"
        servers.admin_exec(server, f"CREATE DATABASE {name} TEMPLATE template0")
        self.url = servers.with_db(server, name)

    def sql(self, script: str) -> list[tuple]:
        """Run SQL on a connection of the test's own; the last statement's rows, if any."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            cur = conn.execute(script)
            return cur.fetchall() if cur.description else []

    def count_queries(self) -> None:
        self.sql(self.COUNT_UPDATES)

    def queries(self, ids: list[str]) -> int:
        """The UPDATE statements on issued_keys since `count_queries`."""
        return self.sql("SELECT count(*) FROM update_log")[0][0]

    def refuse_updates(self, refused: bool = True) -> None:
        self.sql(self.REFUSE_UPDATES if refused else "DROP TRIGGER refuse_updates ON issued_keys")

    def slow_first_update(self) -> None:
        self.sql(self.SLOW_FIRST_UPDATE)

    def running(self) -> list[int]:
        """The connections running a batch statement now."""
        return [pid for (pid,) in self.sql(self.UPDATING)]

    def kill(self, pid: int) -> None:
        self.sql(f"SELECT pg_terminate_backend({pid})")

    def open_transactions(self) -> int:
        idle = "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'"
        return self.sql(idle)[0][0]

    def others(self) -> int:
        """The connections to the database but the test's own."""
        alive = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        return self.sql(alive)[0][0] - 1

    def as_is(self) -> Any:
        """A fastsql Database the app opened itself (psycopg's defaults)."""
        from fastsql import Database

        return Database(self.url.replace("postgresql://", "postgresql+psycopg://", 1))

    def close(self) -> None:
        name = urlsplit(self.url).path[1:]
        servers.admin_exec(self.server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class MariaDB:
    """A fresh MariaDB database, and what the tests ask of it."""

    # a database given as is: a batch's statements one by one (6 keys × an UPDATE and a read,
    # 3 rounds)
    AS_IS_QUERIES = 36

    REFUSE_UPDATES = (
        "CREATE TRIGGER refuse_updates BEFORE UPDATE ON issued_keys FOR EACH ROW "
        "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'updates refused by the test'"
    )
    # the first batch statement after it sleeps (a sequence: the kill does not undo NEXTVAL)
    SLOW_FIRST_UPDATE = (
        "CREATE SEQUENCE slept",
        "CREATE TRIGGER slow_updates BEFORE UPDATE ON issued_keys FOR EACH ROW "
        "BEGIN IF NEXTVAL(slept) = 1 THEN DO SLEEP(120); END IF; END",
    )
    UPDATING = (  # the connections running a query now (in a trigger, its INFO is the
        # trigger's statement), but the test's own
        "SELECT id FROM information_schema.processlist WHERE db = DATABASE() "
        "AND command = 'Query' AND id <> CONNECTION_ID()"
    )

    def __init__(self, server: str):  # the mariadb_url fixture's
        self.server, self.name = server, f"byok_comb{os.getpid()}_{next(_names)}"
        servers.mysql_exec(server, f"CREATE DATABASE {self.name} CHARACTER SET utf8mb4")
        self.url = servers.with_db(server, self.name)
        self._logging = False

    def sql(self, *statements: str) -> list[tuple]:
        """Run statements on a connection of the test's own (autocommit); the last one's rows."""
        conn = servers.mysql_admin(self.server)
        with closing(conn), conn.cursor() as cur:
            cur.execute(f"USE `{self.name}`")
            for stmt in statements:
                cur.execute(stmt)
            return list(cur.fetchall())

    def count_queries(self) -> None:
        self.sql("SET GLOBAL log_output = 'TABLE'", "TRUNCATE mysql.general_log")
        self.sql("SET GLOBAL general_log = 1")
        self._logging = True

    def queries(self, ids: list[str]) -> int:
        """The queries received since `count_queries` that name one of these key ids."""
        named = " OR ".join(f"argument LIKE '%{i}%'" for i in ids)
        found = self.sql(f"SELECT count(*) FROM mysql.general_log WHERE {named}")[0][0]
        return found - 1  # (this query names them too, and is logged before it runs)

    def refuse_updates(self, refused: bool = True) -> None:
        self.sql(self.REFUSE_UPDATES if refused else "DROP TRIGGER refuse_updates")

    def slow_first_update(self) -> None:
        self.sql(*self.SLOW_FIRST_UPDATE)

    def running(self) -> list[int]:
        return [pid for (pid,) in self.sql(self.UPDATING)]

    def kill(self, pid: int) -> None:
        self.sql(f"KILL {pid}")

    def open_transactions(self) -> int:
        return self.sql(
            "SELECT count(*) FROM information_schema.innodb_trx t JOIN "
            "information_schema.processlist p ON p.id = t.trx_mysql_thread_id "
            "WHERE p.db = DATABASE()"
        )[0][0]

    def others(self) -> int:
        alive = "SELECT count(*) FROM information_schema.processlist WHERE db = DATABASE()"
        return self.sql(alive)[0][0] - 1

    def as_is(self) -> Any:
        """A fastsql Database the app opened itself (PyMySQL's defaults: one statement per
        query)."""
        from fastsql import Database

        return Database(self.url.replace("mysql://", "mysql+pymysql://", 1) + "?charset=utf8mb4")

    def close(self) -> None:
        if self._logging:
            self.sql("SET GLOBAL general_log = 0", "TRUNCATE mysql.general_log")
        servers.mysql_drop(self.server, self.name)


Server = Postgres | MariaDB


@pytest.fixture(
    params=[
        pytest.param("pg_url", id="postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb_url", id="mariadb", marks=pytest.mark.mariadb),
    ]
)
def db(request: pytest.FixtureRequest) -> Iterator[Server]:
    """A fresh database of its own on each server database."""
    kind = Postgres if request.param == "pg_url" else MariaDB
    made = kind(request.getfixturevalue(request.param))
    try:
        yield made
    finally:
        made.close()


def _keys(issuer: KeyIssuer, n: int) -> list[str]:
    org, _ = issuer.get_or_create_organization("combine")
    return [issuer.create_key(org.id).plaintext for _ in range(n)]


def _ids(issuer: KeyIssuer, keys: list[str]) -> list[str]:
    return [issuer.validate_key(k, track_usage=False).id for k in keys]


def _cached_keys(issuer: KeyIssuer, n: int) -> tuple[list[str], APIKeyClient]:
    """`n` keys, each read and cached in this thread (their counted uses need no read), and a
    client of the issuer."""
    keys = _keys(issuer, n)
    for k in keys:
        issuer.validate_key(k)
    return keys, APIKeyClient.of(issuer)


def _use_counts(issuer: KeyIssuer) -> dict[str, int]:
    org, _ = issuer.get_or_create_organization("combine")
    return {k.id: k.use_count for k in issuer.list_org_keys(org.id)}


async def _gather(client: APIKeyClient, keys: list[str]) -> list:
    """Validate every key at once (counted); each outcome, an error as its value."""
    calls = (client.validate_key(k) for k in keys)
    return await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), HANG)


def _pool_threads() -> set[threading.Thread]:
    """The worker threads of pooled databases alive now (core/pool.py `Workers`)."""
    return {t for t in threading.enumerate() if t.name.startswith("byok-db")}


def test_concurrent_counted_uses_of_distinct_keys_share_queries(db: Server) -> None:
    issuer = KeyIssuer(db.url, signing_secret=SECRET)
    keys = _keys(issuer, 16)
    ids = _ids(issuer, keys)
    client = APIKeyClient.of(issuer)

    async def run() -> list:
        for k in keys:  # one use each, one at a time: every key read and cached
            await client.validate_key(k)
        db.count_queries()
        return [await _gather(client, keys) for _ in range(5)]

    rounds = asyncio.run(run())
    assert all(not isinstance(r, BaseException) for done in rounds for r in done)
    queries = db.queries(ids)
    assert queries < 5 * 16  # main: one UPDATE per validation (80)
    assert queries <= 10  # one query per round, or two when the first one's drain began alone
    assert sorted(_use_counts(issuer).values()) == [6] * len(keys)
    assert db.open_transactions() == 0
    issuer.close()


def test_limits_and_credits_spent_in_batches_hold_exactly(db: Server) -> None:
    issuer = KeyIssuer(db.url, signing_secret=SECRET)
    org, _ = issuer.get_or_create_organization("combine")
    limited = KeyMetadata(rate_limit=RateLimit(requests=3, window=RateLimitWindow.minute))
    credits = KeyMetadata(remaining=4)
    keys = [issuer.create_key(org.id, metadata=limited).plaintext for _ in range(6)]
    keys += [issuer.create_key(org.id, metadata=credits).plaintext for _ in range(6)]
    client = APIKeyClient.of(issuer)

    async def run() -> list:
        for k in keys:
            await client.validate_key(k)  # cached (one use of each budget spent)
        return [await _gather(client, keys) for _ in range(5)]

    rounds = asyncio.run(run())
    for i, k in enumerate(keys):
        outcomes = [done[i] for done in rounds]
        passed = sum(not isinstance(r, BaseException) for r in outcomes)
        refused = (QuotaError, CreditsExhaustedError)
        assert passed == (2 if i < 6 else 3), (i, outcomes)
        assert all(isinstance(r, refused) for r in outcomes if isinstance(r, BaseException))
        seen = issuer.validate_key(k, check_rate_limit=False, track_usage=False)
        assert seen.use_count == (3 if i < 6 else 4)
        assert seen.metadata.remaining == (None if i < 6 else 0)
    issuer.close()


def test_the_same_key_many_times_at_once_counts_exactly(db: Server) -> None:
    issuer = KeyIssuer(db.url, signing_secret=SECRET)
    keys = _keys(issuer, 4)
    ids = _ids(issuer, keys)
    client = APIKeyClient.of(issuer)
    sent = [keys[i % 4] if i % 3 else keys[0] for i in range(90)]  # keys[0] most often

    async def run() -> list:
        for k in keys:
            await client.validate_key(k)
        db.count_queries()
        return [await _gather(client, sent) for _ in range(3)]

    rounds = asyncio.run(run())
    assert all(not isinstance(r, BaseException) for done in rounds for r in done)
    # main: one UPDATE per validation (270); here a key's plain counts add up, and each round
    # starts from the counts the last one cached (MySQL's batches compare them)
    assert db.queries(ids) <= 6
    for done in rounds:  # each use learns its own count, as one at a time would
        for k in keys:
            seen = sorted(r.use_count for r, s in zip(done, sent, strict=True) if s == k)
            assert seen == list(range(seen[0], seen[0] + len(seen)))
    want = dict.fromkeys(keys, 1)
    for k in sent:
        want[k] += 3
    by_id = {issuer.validate_key(k, track_usage=False).id: n for k, n in want.items()}
    assert _use_counts(issuer) == by_id
    issuer.close()


def test_a_key_changed_before_its_batch_is_taken_again(db: Server) -> None:
    clock = Clock()
    issuer = KeyIssuer(db.url, signing_secret=SECRET, clock=clock)
    keys = _keys(issuer, 4)
    ids = _ids(issuer, keys)
    client = APIKeyClient.of(issuer)
    other = KeyIssuer(db.url, signing_secret=SECRET, clock=clock)  # another process
    later = KeyIssuer(db.url, signing_secret=SECRET, clock=Clock(clock.now + timedelta(days=1)))

    async def run() -> list:
        for k in keys:
            await client.validate_key(k)  # cached here, counting today
        other.revoke_key(ids[0])
        later.validate_key(keys[1])  # its row now counts tomorrow: this one's batch misses it
        other.validate_key(keys[2])  # counted since the read: this one's batch adds to it
        return await _gather(client, keys)

    revoked, turned, counted, plain = asyncio.run(run())
    assert isinstance(revoked, RevokedKeyError)
    assert (turned.use_count, counted.use_count, plain.use_count) == (3, 3, 2)
    assert sum(d.count for d in later.key_usage(ids[1], days=3)) == 3  # no use lost on a day
    assert _use_counts(issuer)[ids[2]] == 3
    for i in (issuer, other, later):
        i.close()


def test_a_failing_batch_releases_every_waiter_with_the_single_write_error(db: Server) -> None:
    issuer = KeyIssuer(db.url, signing_secret=SECRET)
    keys = _keys(issuer, 12)
    client = APIKeyClient.of(issuer)

    async def run() -> tuple[list, list]:
        for k in keys:
            await client.validate_key(k)
        db.refuse_updates()
        alone = await _gather(client, keys[:1])  # one at a time: a batch of one
        return alone, await _gather(client, keys)

    alone, together = asyncio.run(run())
    assert isinstance(alone[0], StorageError)
    assert all(isinstance(e, StorageError) for e in together)
    assert {str(e) for e in together} == {str(alone[0])}
    assert "updates refused by the test" in str(alone[0])
    assert all(k not in str(e) for e in together for k in keys)
    db.refuse_updates(False)
    assert sorted(_use_counts(issuer).values()) == [1] * len(keys)  # the batch rolled back

    async def after() -> list:  # nothing left waiting or stuck: the next uses count
        return await _gather(client, keys)

    assert all(not isinstance(r, BaseException) for r in asyncio.run(after()))
    assert sorted(_use_counts(issuer).values()) == [2] * len(keys)
    assert db.open_transactions() == 0
    issuer.close()


def test_a_batch_runs_on_the_event_loop_without_a_pool_thread(db: Server) -> None:
    issuer = KeyIssuer(db.url, signing_secret=SECRET)
    keys, client = _cached_keys(issuer, 8)
    before = _pool_threads()

    async def run() -> list:
        return [await _gather(client, keys) for _ in range(3)]

    rounds = asyncio.run(run())
    assert all(not isinstance(r, BaseException) for done in rounds for r in done)
    assert _pool_threads() - before == set()  # main: each batch hopped to a pool thread
    assert sorted(_use_counts(issuer).values()) == [4] * len(keys)
    assert db.open_transactions() == 0
    issuer.close()
    assert _eventually(lambda: db.others() == 0)  # the loop's connection was closed


def _eventually(done: Callable[[], bool]) -> bool:
    """Whether `done()` comes true within HANG (a server ends a closed connection's backend a
    moment after the client goes: not a speed bound)."""
    deadline = time.monotonic() + HANG
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _wait_for_a_batch(db: Server) -> int:
    """Wait for a batch statement to run; its connection's id."""
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline:
        running = db.running()
        if running:
            return running[0]
        time.sleep(0.02)
    raise AssertionError("no batch statement ran")


def test_a_connection_lost_mid_batch_fails_every_waiter_and_the_next_batch_reconnects(
    db: Server,
) -> None:
    issuer = KeyIssuer(db.url, signing_secret=SECRET)
    keys, client = _cached_keys(issuer, 8)
    db.slow_first_update()
    before = _pool_threads()

    async def run() -> tuple[list, list]:
        batch = asyncio.ensure_future(_gather(client, keys))  # one batch: all queue at once
        await asyncio.to_thread(lambda: db.kill(_wait_for_a_batch(db)))
        lost = await batch
        return lost, await _gather(client, keys)

    lost, again = asyncio.run(run())
    assert all(isinstance(e, StorageError) for e in lost), lost
    assert len({str(e) for e in lost}) == 1
    assert all(k not in str(e) for e in lost for k in keys)
    assert all(not isinstance(r, BaseException) for r in again), again  # a new connection
    assert _pool_threads() - before == set()
    assert sorted(_use_counts(issuer).values()) == [2] * len(keys)  # the lost batch undone
    assert db.open_transactions() == 0
    issuer.close()


def test_closing_the_issuer_mid_batch_fails_every_waiter_at_once(db: Server) -> None:
    issuer = KeyIssuer(db.url, signing_secret=SECRET)
    keys, client = _cached_keys(issuer, 4)
    db.slow_first_update()

    async def run() -> list:
        batch = asyncio.ensure_future(_gather(client, keys))
        await asyncio.to_thread(_wait_for_a_batch, db)
        issuer.close()  # (its statement sleeps for minutes: a waiter left waiting hangs)
        return await batch

    lost = asyncio.run(run())
    assert all(isinstance(e, StorageError) for e in lost), lost
    assert _eventually(lambda: db.running() == [])  # cancelled on the server
    other = KeyIssuer(db.url, signing_secret=SECRET)
    assert sorted(_use_counts(other).values()) == [1] * 4  # rolled back: none counted
    other.close()


def test_a_database_given_as_is_counts_its_batches_in_a_pool_thread(db: Server) -> None:
    # a fastsql Database the app opened itself (not byok's pooled one): the batch runs in a
    # thread, on that database's connection (MySQL: its statements one by one), the counts exact
    issuer = KeyIssuer(db.as_is(), signing_secret=SECRET)
    keys, client = _cached_keys(issuer, 6)  # (counted alone, a statement and its COMMIT)
    ids = _ids(issuer, keys)
    db.count_queries()

    async def run() -> list:
        return [await _gather(client, keys) for _ in range(3)]

    rounds = asyncio.run(run())
    assert all(not isinstance(r, BaseException) for done in rounds for r in done), rounds
    assert db.queries(ids) <= db.AS_IS_QUERIES  # batched all the same
    assert sorted(_use_counts(issuer).values()) == [4] * len(keys)
    assert db.open_transactions() == 0
    issuer.close()


def test_a_tls_mysql_connection_runs_its_batches_in_pool_threads() -> None:
    # PyMySQL's TLS socket cannot be driven on the loop: no loop connections, the pool's threads
    assert MySQL().on_loop({"host": "db", "ssl": {"ca": "/etc/ca.pem"}}) is None
    assert MySQL().on_loop({"host": "db"}) is not None
