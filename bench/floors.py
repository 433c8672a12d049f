"""The machine's floors, measured in the same run as the rows compared with them: what a path
cannot do without. One HMAC-SHA256 of a key; one SQLite indexed read; one SQLite write + commit
(an UPDATE of one row by its key, as a counted validation writes; an INSERT of a new row, as an
issue writes), on a file in WAL mode with synchronous=NORMAL, as byok opens SQLite. Raw sqlite3:
no SQL built, no result object beyond the driver's tuple.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import os
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["floor"]

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
