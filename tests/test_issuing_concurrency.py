"""Issued keys under concurrency, on SQLite, PostgreSQL and MariaDB: 200 calls at once on a
100/minute key let exactly 100 through, in one process (asyncio.gather) and across 4 processes;
use_count is exact; credits are never overspent, nor doubled by a roll (a rolled key and its
successor share them across 4 processes); get_or_create from 4 processes makes one row.

The figures (passes / 429s / use_count per database and mode) are printed: run with -s.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from byok.issuing import (
    APIKeyClient,
    CreditsExhaustedError,
    KeyIssuer,
    KeyMetadata,
    QuotaError,
    RateLimit,
    RateLimitWindow,
)
from tests.support import SECRET

CALLS = 200  # concurrent validations in all
LIMIT = 100  # the key's requests per minute
PROCESSES = 4


async def _burst(db_url: str, plaintext: str, calls: int) -> tuple[int, int, int]:
    """`calls` validations at once through one client; (passes, quota refusals, other errors)."""
    client = APIKeyClient(db_url, signing_secret=SECRET)
    results = await asyncio.gather(
        *(client.validate_key(plaintext) for _ in range(calls)), return_exceptions=True
    )
    await client.aclose()
    passes = sum(not isinstance(r, BaseException) for r in results)
    refused = sum(isinstance(r, QuotaError) for r in results)
    return passes, refused, calls - passes - refused


_BARRIER: Any = None


def _init(barrier: Any) -> None:
    global _BARRIER
    _BARRIER = barrier


def _process_burst(db_url: str, plaintext: str, calls: int) -> tuple[int, int, int, int]:
    """One process's share, started with the others at the barrier; (pid, passes, 429s, errors)."""
    _BARRIER.wait(timeout=120)
    return os.getpid(), *asyncio.run(_burst(db_url, plaintext, calls))


def _process_get_or_create(db_url: str) -> tuple[str, bool]:
    _BARRIER.wait(timeout=120)
    issuer = KeyIssuer(db_url, signing_secret=SECRET)
    org, created = issuer.get_or_create_organization("Racing Org")
    project, _ = issuer.get_or_create_project(org.id, "racing")
    issuer.close()
    return project.id, created


@pytest.fixture(scope="module")
def pool() -> Iterator[Any]:
    ctx = mp.get_context("spawn")
    with ctx.Pool(PROCESSES, initializer=_init, initargs=(ctx.Barrier(PROCESSES),)) as p:
        yield p


def _key(db_url: str, metadata: KeyMetadata) -> tuple[KeyIssuer, str, str]:
    issuer = KeyIssuer(db_url, signing_secret=SECRET)
    org, _ = issuer.get_or_create_organization("Acme")
    made = issuer.create_key(org.id, metadata=metadata)
    return issuer, made.key.id, made.plaintext


def _report(db_url: str, mode: str, passes: int, refused: int, use_count: int) -> None:
    db = db_url.split(":", 1)[0]  # sqlite, postgresql or mysql (MariaDB)
    print(f"\n[{db} {mode}] passes={passes} 429s={refused} use_count={use_count}")


PER_MINUTE = KeyMetadata(rate_limit=RateLimit(LIMIT, RateLimitWindow.minute))


def test_200_at_once_in_one_process_let_exactly_100_through(db_url: str) -> None:
    issuer, key_id, plaintext = _key(db_url, PER_MINUTE)
    passes, refused, errors = asyncio.run(_burst(db_url, plaintext, CALLS))
    use_count = issuer.get_key(key_id).use_count
    _report(db_url, "1 process", passes, refused, use_count)
    assert (passes, refused, errors) == (LIMIT, CALLS - LIMIT, 0)
    assert use_count == LIMIT
    issuer.close()


def test_200_at_once_across_4_processes_let_exactly_100_through(db_url: str, pool: Any) -> None:
    issuer, key_id, plaintext = _key(db_url, PER_MINUTE)
    share = [(db_url, plaintext, CALLS // PROCESSES)] * PROCESSES
    reports = pool.starmap(_process_burst, share, chunksize=1)
    assert len({r[0] for r in reports}) == PROCESSES
    passes, refused, errors = (sum(r[i] for r in reports) for i in (1, 2, 3))
    use_count = issuer.get_key(key_id).use_count
    _report(db_url, "4 processes", passes, refused, use_count)
    assert (passes, refused, errors) == (LIMIT, CALLS - LIMIT, 0)
    assert use_count == LIMIT
    issuer.close()


def test_use_count_is_exact_after_200_concurrent_successes(db_url: str, pool: Any) -> None:
    issuer, key_id, plaintext = _key(db_url, KeyMetadata())
    assert asyncio.run(_burst(db_url, plaintext, CALLS)) == (CALLS, 0, 0)
    share = [(db_url, plaintext, CALLS // PROCESSES)] * PROCESSES
    reports = pool.starmap(_process_burst, share, chunksize=1)
    assert sum(r[1] for r in reports) == CALLS
    key = issuer.get_key(key_id)
    _report(db_url, "no limit, 1 + 4 processes", 2 * CALLS, 0, key.use_count)
    assert key.use_count == 2 * CALLS
    assert sum(u.count for u in issuer.key_usage(key_id, days=2)) == 2 * CALLS
    issuer.close()


def test_credits_are_never_overspent(db_url: str, pool: Any) -> None:
    issuer, key_id, plaintext = _key(db_url, KeyMetadata(remaining=70))
    reports = pool.starmap(
        _process_burst, [(db_url, plaintext, CALLS // PROCESSES)] * PROCESSES, chunksize=1
    )
    passes = sum(r[1] for r in reports)
    key = issuer.get_key(key_id)
    assert passes == 70 and key.metadata.remaining == 0 and key.use_count == 70
    assert sum(r[2] for r in reports) == CALLS - 70  # CreditsExhaustedError is a QuotaError
    with pytest.raises(CreditsExhaustedError):
        issuer.validate_key(plaintext)
    issuer.close()


def test_a_rolled_key_and_its_successor_share_the_credits_across_processes(
    db_url: str, pool: Any
) -> None:
    issuer, key_id, old = _key(db_url, KeyMetadata(remaining=70))
    new = issuer.roll_key(key_id, grace=timedelta(hours=1)).plaintext
    share = [(db_url, key, CALLS // PROCESSES) for key in (old, new, old, new)]
    reports = pool.starmap(_process_burst, share, chunksize=1)
    passes = sum(r[1] for r in reports)
    _report(db_url, "rolled, 4 processes", passes, sum(r[2] for r in reports), passes)
    assert passes == 70 and sum(r[3] for r in reports) == 0  # 70 in all, not 70 each
    uses = [
        issuer.get_key(k.id).use_count for k in issuer.list_org_keys(issuer.get_key(key_id).org_id)
    ]
    assert sum(uses) == 70
    issuer.close()


def test_get_or_create_from_4_processes_makes_one_row(db_url: str, pool: Any) -> None:
    KeyIssuer(db_url, signing_secret=SECRET).close()  # tables first: the race is on the rows
    results = pool.map(_process_get_or_create, [db_url] * PROCESSES, chunksize=1)
    assert len({project for project, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    issuer = KeyIssuer(db_url, signing_secret=SECRET)
    assert [o.name for o in issuer.list_organizations()] == ["Racing Org"]
    issuer.close()


def test_a_fresh_database_opened_by_4_processes_at_once(db_url: str, pool: Any) -> None:
    results = pool.map(_process_get_or_create, [db_url] * PROCESSES, chunksize=1)
    assert sum(created for _, created in results) == 1
