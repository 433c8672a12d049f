"""The machine's floors, measured in the same run as the rows compared with them: what a path
cannot do without. One HMAC-SHA256 of a key; one SQLite indexed read; one SQLite write + commit
(an UPDATE of one row by its key, as a counted validation writes; an INSERT of a new row, as an
issue writes), on a file in WAL mode with synchronous=NORMAL, as byok opens SQLite. Raw sqlite3:
no SQL built, no result object beyond the driver's tuple.

`bulk_floor`: the floor of a bulk issue at a table size: one transaction inserting a batch of
key rows and their audit rows, with byok's index shape (a random UUID primary key, a unique
random hash, (org, created); audit by (org, seq) and by (key_id, seq)), into tables already
holding that many rows. Its cost per row grows with the table: each row lands on a random leaf
of three indexes, so a batch dirties about three pages per row that the commit writes (at 1k
rows the indexes are a few pages, rewritten once per batch).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import os
import sqlite3
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

__all__ = ["bulk_floor", "floor"]

KEY = "sk_" + "Ab3dE5gH7jK9mN1pQ3sT5vX7zA9cD1fH3jL5nP7rT9vX1z"  # a key's size (byok's format)
ROW = "x" * 300  # a key row's size, about
ROWS = 1_000  # rows in the read / update table

_tmp = tempfile.TemporaryDirectory(prefix="byok-bench-floors-")
_n = itertools.count()


def _hmac() -> Callable[[], str]:
    secret = os.urandom(32)
    return lambda: hmac.new(secret, KEY.encode("ascii"), hashlib.sha256).hexdigest()


def _db() -> sqlite3.Connection:
    conn = sqlite3.connect(Path(_tmp.name) / f"floor-{next(_n)}.db")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, h TEXT UNIQUE, n INTEGER, v TEXT)")
    conn.executemany(
        "INSERT INTO t VALUES (?, ?, 0, ?)", ((f"id{i}", f"h{i:064d}", ROW) for i in range(ROWS))
    )
    conn.commit()
    return conn


def _read() -> Callable[[], tuple]:
    conn, wanted = _db(), f"h{ROWS // 2:064d}"
    return lambda: conn.execute("SELECT * FROM t WHERE h = ?", (wanted,)).fetchone()


def _update() -> Callable[[], None]:
    conn = _db()

    def run() -> None:
        conn.execute("UPDATE t SET n = n + 1 WHERE id = ?", ("id7",))
        conn.commit()

    return run


def _insert() -> Callable[[], None]:
    conn, ids = _db(), itertools.count(ROWS)

    def run() -> None:
        i = next(ids)
        conn.execute("INSERT INTO t VALUES (?, ?, 0, ?)", (f"id{i}", f"h{i:064d}", ROW))
        conn.commit()

    return run


def _bulk_rows(
    n: int,  # how many keys
) -> tuple[list[tuple], list[tuple]]:
    """n key rows and their audit rows, as byok makes them (random ids and hashes)."""
    keys, audits = [], []
    for _ in range(n):
        kid = str(uuid.uuid4())
        keys.append((kid, os.urandom(32).hex(), "org", "2026-12-07T00:00:00.000000+00:00", ROW))
        audits.append(("2026-12-07T00:00:00.000000+00:00", "org", kid, "{}"))
    return keys, audits


def bulk_floor(
    *,
    size: int,  # rows already in the tables
    batch: int,  # key rows (and audit rows) inserted per call, in one transaction
) -> Callable[[], None]:
    """One callable inserting `batch` keys and their audit rows in one transaction."""
    conn = sqlite3.connect(Path(_tmp.name) / f"bulk-{next(_n)}.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE k (id TEXT PRIMARY KEY, h TEXT UNIQUE, org TEXT, at TEXT, v TEXT)")
    conn.execute("CREATE INDEX k_org ON k (org, at)")
    conn.execute(
        "CREATE TABLE a (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT, org TEXT, key_id TEXT, "
        "changes TEXT)"
    )
    conn.execute("CREATE INDEX a_org ON a (org, seq)")
    conn.execute("CREATE INDEX a_key ON a (key_id, seq)")

    def insert(n: int) -> None:
        keys, audits = _bulk_rows(n)  # made inside the call: byok makes its ids and hashes too
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO k VALUES (?, ?, ?, ?, ?)", keys)
        conn.executemany("INSERT INTO a (at, org, key_id, changes) VALUES (?, ?, ?, ?)", audits)
        conn.execute("COMMIT")

    for start in range(0, size, 10_000):
        insert(min(10_000, size - start))
    return lambda: insert(batch)


def floor(
    *,
    hmacs: int = 0,  # HMAC-SHA256s of a key
    reads: int = 0,  # SQLite indexed reads
    writes: int = 0,  # SQLite UPDATEs of one row, each committed
    inserts: int = 0,  # SQLite INSERTs of a new row, each committed
) -> Callable[[], object]:
    """One callable doing these operations once each, in that order (checked once)."""
    parts = (
        [_hmac() for _ in range(hmacs)]
        + [_read() for _ in range(reads)]
        + [_update() for _ in range(writes)]
        + [_insert() for _ in range(inserts)]
    )

    def run() -> object:
        last = None
        for part in parts:
            last = part()
        return last

    run()
    return run
