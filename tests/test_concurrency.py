"""Many writers at once: 8 spawned processes on one SQLite file and on PostgreSQL, and threads
sharing one manager. Nothing may be lost and no writer may see an error."""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

from byok.core.security import bind
from byok.core.storage import BYOKManager
from byok.core.types import BYOKConfig, StorageBackend
from tests.support import SECRET

WORKERS = 8  # processes
OWN = 200  # keys each worker writes for its own users
SHARED_USERS = ["shared-0", "shared-1", "shared-2", "shared-3", "shared-4"]
PROVIDERS = ["openai", "anthropic", "google", "mistral", "groq"]
ROUNDS = 2  # times each worker rewrites every shared (user, provider)


def own_key(worker: int, j: int) -> tuple[str, str, str]:
    """(user, provider, plaintext) of a worker's j-th own key."""
    provider = PROVIDERS[j % len(PROVIDERS)]
    return f"w{worker}-u{j // len(PROVIDERS):03d}", provider, f"sk-w{worker}-{j:04d}-own-key"


def shared_key(worker: int, user: str, provider: str, rnd: int) -> str:
    """Plaintext a worker writes for a shared (user, provider) in a round."""
    return f"sk-{user}-{provider}-w{worker}-r{rnd}"


def manager_for(db_url: str) -> BYOKManager:
    return BYOKManager(
        SECRET, db_url=db_url, config=BYOKConfig(storage_backend=StorageBackend.DATABASE)
    )


_BARRIER: Any = None  # in each pool process: the barrier every worker waits on


def _init_worker(barrier: Any) -> None:
    """Pool initializer: keep the shared barrier (unpickling it imported this module)."""
    global _BARRIER
    _BARRIER = barrier


def worker(index: int, db_url: str) -> tuple[int, int, list[str], float, float]:
    """Write own keys and the shared keys, reading each back.

    Returns (pid, writes, errors, when writing started, when it ended)."""
    errors: list[str] = []
    writes = 0
    ready = done = time.time()
    try:
        _BARRIER.wait(timeout=120)  # all 8 processes open the database at the same moment
        ready = time.time()
        m = manager_for(db_url)
        for j in range(OWN):
            user, provider, plain = own_key(index, j)
            m.set_key(None, provider, plain, user_id=user)
            writes += 1
            if m.get_key(None, provider, user) != plain:
                errors.append(f"read-back mismatch {user}/{provider}")
            if j % 10 == 0:
                for rnd in range(ROUNDS):
                    for user in SHARED_USERS:
                        p = PROVIDERS[(j // 10 + rnd) % len(PROVIDERS)]
                        m.set_key(None, p, shared_key(index, user, p, rnd), user_id=user)
                        writes += 1
                        m.get_key(None, p, user)  # someone's value: must decrypt
        m.database.close()
        done = time.time()
    except Exception:
        errors.append(traceback.format_exc()[-1500:])
    return os.getpid(), writes, errors, ready, done


@pytest.fixture(scope="module")
def pool() -> Iterator[Any]:
    """WORKERS spawned processes, shared by the SQLite and PostgreSQL runs (spawning is the
    expensive part: each process imports the whole stack)."""
    ctx = mp.get_context("spawn")
    with ctx.Pool(WORKERS, initializer=_init_worker, initargs=(ctx.Barrier(WORKERS),)) as p:
        yield p


def run_workers(pool: Any, db_url: str) -> tuple[int, list[str], float]:
    """Run one worker per pool process on db_url; (total writes, errors, seconds of writing)."""
    reports = pool.starmap(worker, [(i, db_url) for i in range(WORKERS)], chunksize=1)
    assert len({r[0] for r in reports}) == WORKERS  # eight distinct processes
    assert max(r[3] for r in reports) < min(r[4] for r in reports)  # all writing at once
    elapsed = max(r[4] for r in reports) - min(r[3] for r in reports)
    writes = sum(r[1] for r in reports)
    errors = [e for r in reports for e in r[2]]
    return writes, errors, elapsed


def check_final_rows(db_url: str) -> int:
    """The table holds exactly the expected (user, provider) set, every value decrypting to what
    its writer stored; returns the row count."""
    m = manager_for(db_url)
    try:
        storage = m.database
        with storage._guard("verify"):
            rows = {(r["user_id"], r["provider"]): r for r in storage.table.rows_where()}
        expected_own = {
            own_key(w, j)[:2]: own_key(w, j)[2] for w in range(WORKERS) for j in range(OWN)
        }
        shared_written = {
            (u, PROVIDERS[(j // 10 + rnd) % len(PROVIDERS)])
            for j in range(0, OWN, 10)
            for rnd in range(ROUNDS)
            for u in SHARED_USERS
        }
        assert set(rows) == set(expected_own) | shared_written
        for (user, provider), plain in expected_own.items():
            row = rows[(user, provider)]
            opened = m.keyring.open(row["encrypted_value"], bind(f"user:{user}", provider))
            assert opened == plain
        for user, provider in shared_written:
            opened = m.get_key(None, provider, user)
            candidates = {
                shared_key(w, user, provider, rnd) for w in range(WORKERS) for rnd in range(ROUNDS)
            }
            assert opened in candidates
        return len(rows)
    finally:
        m.database.close()


def _concurrent_writers(pool: Any, db_url: str) -> None:
    writes, errors, elapsed = run_workers(pool, db_url)
    assert errors == [], errors[:3]
    expected_writes = WORKERS * (OWN + len(range(0, OWN, 10)) * ROUNDS * len(SHARED_USERS))
    assert writes == expected_writes
    rows = check_final_rows(db_url)
    kind = db_url.split(":")[0]
    print(
        f"\nconcurrency ({kind}): {WORKERS} processes, {writes} writes in {elapsed:.1f} s, "
        f"{rows} rows, 0 lost, 0 errors"
    )


@pytest.mark.slow
def test_eight_processes_on_one_sqlite_file(pool, tmp_path):
    _concurrent_writers(pool, f"sqlite:///{tmp_path / 'shared.db'}")


@pytest.mark.slow
@pytest.mark.parametrize(
    "db_url",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
    indirect=True,
)
def test_eight_processes_on_a_server_database(pool, db_url):
    _concurrent_writers(pool, db_url)


def test_threads_sharing_one_manager(db_url):
    m = manager_for(db_url)
    errors: list[BaseException] = []

    def run(t: int) -> None:
        try:
            for j in range(40):
                m.set_key(None, PROVIDERS[j % 5], f"sk-thread-{t}-{j:03d}", user_id=f"t{t}")
                m.set_key(None, "openai", f"sk-thread-shared-{t}-{j}", user_id="shared")
                assert m.get_key(None, "openai", "shared").startswith("sk-thread-shared-")
                m.list_providers(None, f"t{t}")
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert m.database.count() == 8 * 5 + 1
        for t in range(8):
            assert m.get_key(None, "groq", f"t{t}") == f"sk-thread-{t}-039"
    finally:
        m.database.close()
