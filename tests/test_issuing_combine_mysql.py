"""Group commit of counted validations on MariaDB (byok/issuing/batches.py `Matched`, on the event
loop's own connection: byok/core/onloop_mysql.py): concurrent counted uses in one process share a
query and a transaction, their counts stay exact, a key changed between its read and its batch
(revoked, its day turned, counted by another process) is taken again, a failing or killed batch
releases every waiter with a StorageError and leaves nothing counted, and a database the app
opened itself counts its batches in a pool thread.

The queries are counted by MariaDB itself: its general log, one row per query received, filtered
by the test's own key ids (each batch names its keys)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from itertools import count
from urllib.parse import urlsplit

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

pytestmark = pytest.mark.mariadb

HANG = 120  # seconds after which a waiter never released fails the test (not a speed bound)
_names = count(1)

FAIL_UPDATES = (
    "CREATE TRIGGER refuse_updates BEFORE UPDATE ON issued_keys FOR EACH ROW "
    "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'updates refused by the test'"
)
# the first batch statement after it sleeps (a sequence: the kill does not undo its NEXTVAL)
SLOW_FIRST_UPDATE = (
    "CREATE SEQUENCE slept",
    "CREATE TRIGGER slow_updates BEFORE UPDATE ON issued_keys FOR EACH ROW "
    "BEGIN IF NEXTVAL(slept) = 1 THEN DO SLEEP(120); END IF; END",
)
UPDATING = (  # the connections running a query on this database now (in a trigger, its INFO
    # is the trigger's statement), but the test's own
    "SELECT id FROM information_schema.processlist WHERE db = DATABASE() "
    "AND command = 'Query' AND id <> CONNECTION_ID()"
)
OPEN_TRANSACTIONS = (  # transactions open on this database's connections
    "SELECT count(*) FROM information_schema.innodb_trx t JOIN information_schema.processlist p "
    "ON p.id = t.trx_mysql_thread_id WHERE p.db = DATABASE()"
)


@pytest.fixture
def maria(mariadb_url: str) -> Iterator[str]:
    """A fresh MariaDB database of its own."""
    name = f"byok_comb{os.getpid()}_{next(_names)}"
    servers.mysql_exec(mariadb_url, f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    try:
        yield servers.with_db(mariadb_url, name)
    finally:
        servers.mysql_drop(mariadb_url, name)


def _sql(url: str, *statements: str) -> list[tuple]:
    """Run statements on a connection of the test's own (autocommit); the last one's rows."""
    conn = servers.mysql_admin(url)
    with closing(conn), conn.cursor() as cur:
        cur.execute(f"USE `{urlsplit(url).path.lstrip('/')}`")
        for stmt in statements:
            cur.execute(stmt)
        return list(cur.fetchall())


class QueryLog:
    """MariaDB's general log (one row per query received), on while the test runs."""

    def __init__(self, url: str):
        self.url = url

    def start(self) -> None:
        _sql(self.url, "SET GLOBAL log_output = 'TABLE'", "TRUNCATE mysql.general_log")
        _sql(self.url, "SET GLOBAL general_log = 1")

    def naming(self, ids: list[str]) -> int:
        """The queries received since that name one of these key ids."""
        named = " OR ".join(f"argument LIKE '%{i}%'" for i in ids)
        return _sql(self.url, f"SELECT count(*) FROM mysql.general_log WHERE {named}")[0][0]

    def off(self) -> None:
        _sql(self.url, "SET GLOBAL general_log = 0", "TRUNCATE mysql.general_log")


def _keys(issuer: KeyIssuer, n: int) -> list[str]:
    org, _ = issuer.get_or_create_organization("combine")
    return [issuer.create_key(org.id).plaintext for _ in range(n)]


def _ids(issuer: KeyIssuer, keys: list[str]) -> list[str]:
    return [issuer.validate_key(k, track_usage=False).id for k in keys]


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


def test_concurrent_counted_uses_share_queries_on_the_loop(maria: str) -> None:
    issuer = KeyIssuer(maria, signing_secret=SECRET)
    keys = _keys(issuer, 16)
    ids = _ids(issuer, keys)
    client = APIKeyClient.of(issuer)

    async def run() -> list:
        for k in keys:  # one use each, one at a time: every key read and cached
            await client.validate_key(k)
        log.start()  # (counting from here)
        before = _pool_threads()
        rounds = [await _gather(client, keys) for _ in range(5)]
        assert _pool_threads() - before == set()  # each batch ran on the loop
        return rounds

    log = QueryLog(maria)
    try:
        rounds = asyncio.run(run())
        queries = log.naming(ids)
    finally:
        log.off()
    assert all(not isinstance(r, BaseException) for done in rounds for r in done)
    assert queries < 5 * 16  # one query per validation
    assert queries <= 10  # one per round, or two when the first one's drain began alone
    assert sorted(_use_counts(issuer).values()) == [6] * len(keys)
    assert _sql(maria, OPEN_TRANSACTIONS) == [(0,)]
    issuer.close()
    left = "SELECT count(*) FROM information_schema.processlist WHERE db = DATABASE()"
    assert _sql(maria, left) == [(1,)]  # only the test's own: the loop's connection was closed


def test_limits_and_credits_spent_in_batches_hold_exactly(maria: str) -> None:
    issuer = KeyIssuer(maria, signing_secret=SECRET)
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


def test_the_same_key_many_times_at_once_counts_exactly(maria: str) -> None:
    issuer = KeyIssuer(maria, signing_secret=SECRET)
    keys = _keys(issuer, 4)
    ids = _ids(issuer, keys)
    client = APIKeyClient.of(issuer)
    sent = [keys[i % 4] if i % 3 else keys[0] for i in range(90)]  # keys[0] most often
    log = QueryLog(maria)

    async def run() -> list:
        for k in keys:
            await client.validate_key(k)
        log.start()
        return [await _gather(client, sent) for _ in range(3)]

    try:
        rounds = asyncio.run(run())
        queries = log.naming(ids)
    finally:
        log.off()
    assert all(not isinstance(r, BaseException) for done in rounds for r in done)
    assert queries <= 6  # one query per validation (270); here a key's plain counts add up
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


def test_a_key_changed_before_its_batch_is_taken_again(maria: str) -> None:
    clock = Clock()
    issuer = KeyIssuer(maria, signing_secret=SECRET, clock=clock)
    keys = _keys(issuer, 4)
    ids = _ids(issuer, keys)
    client = APIKeyClient.of(issuer)
    other = KeyIssuer(maria, signing_secret=SECRET, clock=clock)  # another process
    later = KeyIssuer(maria, signing_secret=SECRET, clock=Clock(clock.now + timedelta(days=1)))

    async def run() -> list:
        for k in keys:
            await client.validate_key(k)  # cached here, counting today
        other.revoke_key(ids[0])
        later.validate_key(keys[1])  # its row now counts tomorrow: this one's batch misses it
        other.validate_key(keys[2])  # counted since the read: the compared use_count misses
        return await _gather(client, keys)

    revoked, turned, counted, plain = asyncio.run(run())
    assert isinstance(revoked, RevokedKeyError)
    assert (turned.use_count, counted.use_count, plain.use_count) == (3, 3, 2)
    assert sum(d.count for d in later.key_usage(ids[1], days=3)) == 3  # no use lost on a day
    assert _use_counts(issuer)[ids[2]] == 3
    for i in (issuer, other, later):
        i.close()


def test_a_failing_batch_releases_every_waiter_and_counts_none(maria: str) -> None:
    issuer = KeyIssuer(maria, signing_secret=SECRET)
    keys = _keys(issuer, 12)
    client = APIKeyClient.of(issuer)

    async def run() -> tuple[list, list]:
        for k in keys:
            await client.validate_key(k)
        _sql(maria, FAIL_UPDATES)
        alone = await _gather(client, keys[:1])  # one at a time: a batch of one
        return alone, await _gather(client, keys)

    alone, together = asyncio.run(run())
    assert isinstance(alone[0], StorageError)
    assert all(isinstance(e, StorageError) for e in together)
    assert {str(e) for e in together} == {str(alone[0])}
    assert "updates refused by the test" in str(alone[0])
    assert all(k not in str(e) for e in together for k in keys)
    _sql(maria, "DROP TRIGGER refuse_updates")
    assert sorted(_use_counts(issuer).values()) == [1] * len(keys)  # the batch rolled back

    async def after() -> list:  # nothing left waiting or stuck: the next uses count
        return await _gather(client, keys)

    assert all(not isinstance(r, BaseException) for r in asyncio.run(after()))
    assert sorted(_use_counts(issuer).values()) == [2] * len(keys)
    assert _sql(maria, OPEN_TRANSACTIONS) == [(0,)]
    issuer.close()


def _wait_for_a_batch(url: str) -> int:
    """Wait for a batch query to run; its connection's id."""
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline:
        running = _sql(url, UPDATING)
        if running:
            return running[0][0]
        time.sleep(0.02)
    raise AssertionError("no batch query ran")


def test_a_connection_killed_mid_batch_fails_every_waiter_and_the_next_batch_reconnects(
    maria: str,
) -> None:
    issuer = KeyIssuer(maria, signing_secret=SECRET)
    keys = _keys(issuer, 8)
    client = APIKeyClient.of(issuer)

    def kill() -> None:
        _sql(maria, f"KILL {_wait_for_a_batch(maria)}")

    async def run() -> tuple[list, list]:
        for k in keys:
            await client.validate_key(k)
        _sql(maria, *SLOW_FIRST_UPDATE)
        batch = asyncio.ensure_future(_gather(client, keys))  # one batch: all queue at once
        await asyncio.to_thread(kill)
        lost = await batch
        return lost, await _gather(client, keys)

    lost, again = asyncio.run(run())
    assert all(isinstance(e, StorageError) for e in lost), lost
    assert len({str(e) for e in lost}) == 1
    assert all(k not in str(e) for e in lost for k in keys)
    assert all(not isinstance(r, BaseException) for r in again), again  # a new connection
    assert sorted(_use_counts(issuer).values()) == [2] * len(keys)  # the lost batch undone
    assert _sql(maria, OPEN_TRANSACTIONS) == [(0,)]
    issuer.close()


def test_closing_the_issuer_mid_batch_fails_every_waiter_at_once(maria: str) -> None:
    issuer = KeyIssuer(maria, signing_secret=SECRET)
    keys = _keys(issuer, 4)
    client = APIKeyClient.of(issuer)

    async def run() -> list:
        for k in keys:
            await client.validate_key(k)
        _sql(maria, *SLOW_FIRST_UPDATE)
        batch = asyncio.ensure_future(_gather(client, keys))
        await asyncio.to_thread(_wait_for_a_batch, maria)
        issuer.close()  # (its query sleeps for minutes: a waiter left waiting hangs)
        return await batch

    lost = asyncio.run(run())
    assert all(isinstance(e, StorageError) for e in lost), lost
    deadline = time.monotonic() + HANG
    while _sql(maria, UPDATING) and time.monotonic() < deadline:  # killed on the server
        time.sleep(0.02)
    assert _sql(maria, UPDATING) == []
    other = KeyIssuer(maria, signing_secret=SECRET)
    assert sorted(_use_counts(other).values()) == [1] * 4  # rolled back: none counted
    other.close()


def test_a_database_given_as_is_counts_in_a_pool_thread(maria: str) -> None:
    # a fastsql Database the app opened itself (PyMySQL's defaults: one statement per query):
    # the batches' statements run one by one in a thread, the counts stay exact
    from fastsql import Database

    db = Database(maria.replace("mysql://", "mysql+pymysql://", 1) + "?charset=utf8mb4")
    issuer = KeyIssuer(db, signing_secret=SECRET)
    keys = _keys(issuer, 6)
    for k in keys:
        issuer.validate_key(k)  # counted alone (a statement, then its COMMIT), and cached
    client = APIKeyClient.of(issuer)

    async def run() -> list:
        return [await _gather(client, keys) for _ in range(3)]

    rounds = asyncio.run(run())
    assert all(not isinstance(r, BaseException) for done in rounds for r in done), rounds
    assert sorted(_use_counts(issuer).values()) == [4] * len(keys)
    assert _sql(maria, OPEN_TRANSACTIONS) == [(0,)]
    issuer.close()


def test_a_tls_connection_runs_its_batches_in_pool_threads() -> None:
    # PyMySQL's TLS socket cannot be driven on the loop: no loop connections, the pool's threads
    assert MySQL().on_loop({"host": "db", "ssl": {"ca": "/etc/ca.pem"}}) is None
    assert MySQL().on_loop({"host": "db"}) is not None
