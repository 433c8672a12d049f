"""Group commit of counted validations on PostgreSQL (byok/issuing/combine.py): concurrent counted
uses in one process share a statement, their counts stay exact, a key changed between its read
and its batch is taken again (refused when revoked), and a failing batch releases every waiter
with the StorageError a single write gives.

The UPDATE statements on issued_keys are counted by PostgreSQL itself: a statement-level trigger
logs one row per statement, whichever path ran it."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from itertools import count

import psycopg
import pytest

from bench.servers import admin_exec, with_db
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

pytestmark = pytest.mark.postgres

HANG = 120  # seconds after which a waiter never released fails the test (not a speed bound)
_names = count(1)

COUNT_UPDATES = """
CREATE TABLE update_log (n serial PRIMARY KEY);
CREATE FUNCTION log_update() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO update_log DEFAULT VALUES; RETURN NULL; END $$;
CREATE TRIGGER count_updates AFTER UPDATE ON issued_keys
  FOR EACH STATEMENT EXECUTE FUNCTION log_update();
"""
FAIL_UPDATES = """
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
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' "
    "AND query LIKE 'UPDATE issued_keys%' AND pid <> pg_backend_pid()"
)


@pytest.fixture
def pg(pg_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database of its own."""
    name = f"byok_comb{os.getpid()}_{next(_names)}"
    admin_exec(pg_url, f"CREATE DATABASE {name} TEMPLATE template0")
    try:
        yield with_db(pg_url, name)
    finally:
        admin_exec(pg_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _sql(url: str, script: str) -> list[tuple]:
    """Run SQL on a connection of the test's own; the last statement's rows, if any."""
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(script)
        return cur.fetchall() if cur.description else []


IDLE_IN_TRANSACTION = "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'"


def _keys(issuer: KeyIssuer, n: int) -> list[str]:
    org, _ = issuer.get_or_create_organization("combine")
    return [issuer.create_key(org.id).plaintext for _ in range(n)]


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


def test_concurrent_counted_uses_of_distinct_keys_share_statements(pg: str) -> None:
    issuer = KeyIssuer(pg, signing_secret=SECRET)
    keys = _keys(issuer, 16)
    client = APIKeyClient.of(issuer)

    async def run() -> list:
        for k in keys:  # one use each, one at a time: every key read and cached
            await client.validate_key(k)
        _sql(pg, COUNT_UPDATES)
        return [await _gather(client, keys) for _ in range(5)]

    rounds = asyncio.run(run())
    assert all(not isinstance(r, BaseException) for done in rounds for r in done)
    updates = _sql(pg, "SELECT count(*) FROM update_log")[0][0]
    calls = 5 * 16
    assert updates < calls  # main: one UPDATE per validation (80)
    assert updates <= 10  # one statement per round, or two when the first one's drain began alone
    assert sorted(_use_counts(issuer).values()) == [6] * len(keys)
    assert _sql(pg, IDLE_IN_TRANSACTION) == [(0,)]
    issuer.close()


def test_limits_and_credits_spent_in_batches_hold_exactly(pg: str) -> None:
    issuer = KeyIssuer(pg, signing_secret=SECRET)
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


def test_the_same_key_many_times_at_once_counts_exactly(pg: str) -> None:
    issuer = KeyIssuer(pg, signing_secret=SECRET)
    keys = _keys(issuer, 4)
    client = APIKeyClient.of(issuer)
    sent = [keys[i % 4] if i % 3 else keys[0] for i in range(90)]  # keys[0] most often

    async def run() -> list:
        for k in keys:
            await client.validate_key(k)
        _sql(pg, COUNT_UPDATES)
        return [await _gather(client, sent) for _ in range(3)]

    rounds = asyncio.run(run())
    assert all(not isinstance(r, BaseException) for done in rounds for r in done)
    updates = _sql(pg, "SELECT count(*) FROM update_log")[0][0]
    assert updates <= 6  # main: one UPDATE per validation (270); here a key's plain counts add up
    for done in rounds:  # each use learns its own count, as one at a time would
        for k in keys:
            seen = sorted(r.use_count for r, s in zip(done, sent, strict=True) if s == k)
            assert seen == list(range(seen[0], seen[0] + len(seen)))
    want = {}
    for k in sent:
        want[k] = want.get(k, 0) + 3
    for k in keys:
        want[k] += 1
    by_id = {issuer.validate_key(k, track_usage=False).id: n for k, n in want.items()}
    assert _use_counts(issuer) == by_id
    issuer.close()


def test_a_key_revoked_or_turned_before_its_batch_is_taken_again(pg: str) -> None:
    clock = Clock()
    issuer = KeyIssuer(pg, signing_secret=SECRET, clock=clock)
    keys = _keys(issuer, 3)
    ids = [issuer.validate_key(k, track_usage=False).id for k in keys]
    client = APIKeyClient.of(issuer)
    other_clock = Clock(clock.now + timedelta(days=1))  # another process, past midnight already
    other = KeyIssuer(pg, signing_secret=SECRET, clock=other_clock)

    async def run() -> list:
        for k in keys:
            await client.validate_key(k)  # cached here, counting today
        other.revoke_key(ids[0])
        other.validate_key(keys[1])  # its row now counts tomorrow: this one's batch misses it
        return await _gather(client, keys)

    revoked, turned, plain = asyncio.run(run())
    assert isinstance(revoked, RevokedKeyError)
    assert turned.use_count == 3 and plain.use_count == 2
    assert sum(d.count for d in other.key_usage(ids[1], days=3)) == 3  # no use lost on a day
    issuer.close()
    other.close()


def test_a_failing_batch_releases_every_waiter_with_the_single_write_error(pg: str) -> None:
    issuer = KeyIssuer(pg, signing_secret=SECRET)
    keys = _keys(issuer, 12)
    client = APIKeyClient.of(issuer)

    async def run() -> tuple[list, list]:
        for k in keys:
            await client.validate_key(k)
        _sql(pg, FAIL_UPDATES)
        alone = await _gather(client, keys[:1])  # one at a time: a batch of one
        return alone, await _gather(client, keys)

    alone, together = asyncio.run(run())
    assert isinstance(alone[0], StorageError)
    assert all(isinstance(e, StorageError) for e in together)
    assert {str(e) for e in together} == {str(alone[0])}
    assert "updates refused by the test" in str(alone[0])
    _sql(pg, "DROP TRIGGER refuse_updates ON issued_keys")

    async def after() -> list:  # nothing left waiting or stuck: the next uses count
        return await _gather(client, keys)

    assert all(not isinstance(r, BaseException) for r in asyncio.run(after()))
    assert sorted(_use_counts(issuer).values()) == [2] * len(keys)
    issuer.close()


def _pool_threads() -> set[threading.Thread]:
    """The worker threads of pooled databases alive now (core/pool.py `Workers`)."""
    return {t for t in threading.enumerate() if t.name.startswith("byok-db")}


def test_a_batch_runs_on_the_event_loop_without_a_pool_thread(pg: str) -> None:
    issuer = KeyIssuer(pg, signing_secret=SECRET)
    keys, client = _cached_keys(issuer, 8)
    before = _pool_threads()

    async def run() -> list:
        return [await _gather(client, keys) for _ in range(3)]

    rounds = asyncio.run(run())
    assert all(not isinstance(r, BaseException) for done in rounds for r in done)
    assert _pool_threads() - before == set()  # main: each batch hopped to a pool thread
    assert sorted(_use_counts(issuer).values()) == [4] * len(keys)
    assert _sql(pg, IDLE_IN_TRANSACTION) == [(0,)]
    issuer.close()
    left = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    assert _sql(pg, left) == [(1,)]  # only the test's own: the loop's connection was closed


def _wait_for_a_batch(url: str) -> int:
    """Wait for a batch statement to run; its backend's pid."""
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline:
        running = _sql(url, UPDATING)
        if running:
            return running[0][0]
        time.sleep(0.02)
    raise AssertionError("no batch statement ran")


def _terminate_a_batch(url: str) -> int:
    """Wait for a batch statement to run, then terminate its backend; its pid."""
    pid = _wait_for_a_batch(url)
    _sql(url, f"SELECT pg_terminate_backend({pid})")
    return pid


def test_a_connection_lost_mid_batch_fails_every_waiter_and_the_next_batch_reconnects(
    pg: str,
) -> None:
    issuer = KeyIssuer(pg, signing_secret=SECRET)
    keys, client = _cached_keys(issuer, 8)
    _sql(pg, SLOW_FIRST_UPDATE)
    before = _pool_threads()

    async def run() -> tuple[list, list]:
        batch = asyncio.ensure_future(_gather(client, keys))  # one batch: all queue at once
        await asyncio.to_thread(_terminate_a_batch, pg)
        lost = await batch
        return lost, await _gather(client, keys)

    lost, again = asyncio.run(run())
    assert all(isinstance(e, StorageError) for e in lost), lost
    assert len({str(e) for e in lost}) == 1
    assert all(k not in str(e) for e in lost for k in keys)
    assert all(not isinstance(r, BaseException) for r in again), again  # a new connection
    assert _pool_threads() - before == set()
    assert sorted(_use_counts(issuer).values()) == [2] * len(keys)  # the lost batch undone
    assert _sql(pg, IDLE_IN_TRANSACTION) == [(0,)]
    issuer.close()


def test_closing_the_issuer_mid_batch_fails_every_waiter_at_once(pg: str) -> None:
    issuer = KeyIssuer(pg, signing_secret=SECRET)
    keys, client = _cached_keys(issuer, 4)
    _sql(pg, SLOW_FIRST_UPDATE)

    async def run() -> list:
        batch = asyncio.ensure_future(_gather(client, keys))
        await asyncio.to_thread(_wait_for_a_batch, pg)
        issuer.close()  # (its statement sleeps for minutes: a waiter left waiting hangs)
        return await batch

    lost = asyncio.run(run())
    assert all(isinstance(e, StorageError) for e in lost), lost
    deadline = time.monotonic() + HANG
    while _sql(pg, UPDATING) and time.monotonic() < deadline:  # cancelled on the server
        time.sleep(0.02)
    assert _sql(pg, UPDATING) == []
    other = KeyIssuer(pg, signing_secret=SECRET)
    assert sorted(_use_counts(other).values()) == [1] * 4  # rolled back: none counted
    other.close()


def test_a_database_given_as_is_counts_its_batches_in_a_pool_thread(pg: str) -> None:
    # a fastsql Database the app opened itself (not byok's pooled one): the batch statement
    # runs in a thread, on that database's connection, and the counts stay exact
    from fastsql import Database

    db = Database(pg.replace("postgresql://", "postgresql+psycopg://", 1))
    issuer = KeyIssuer(db, signing_secret=SECRET)
    keys, client = _cached_keys(issuer, 6)
    _sql(pg, COUNT_UPDATES)

    async def run() -> list:
        return [await _gather(client, keys) for _ in range(3)]

    rounds = asyncio.run(run())
    assert all(not isinstance(r, BaseException) for done in rounds for r in done)
    assert _sql(pg, "SELECT count(*) FROM update_log")[0][0] <= 6  # batched all the same
    assert sorted(_use_counts(issuer).values()) == [4] * len(keys)
    assert _sql(pg, IDLE_IN_TRANSACTION) == [(0,)]
    issuer.close()
