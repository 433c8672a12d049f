"""The machine's floors, measured in the same process as the rows they judge: what a call cannot
do without (one AES-256-GCM seal or open, one indexed SQLite read, one SQLite write + commit),
as callables a `Row` takes for its reference side. `floor(a, b, …)` runs several in a row: the
floor of a call that needs all of them."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["aes_open", "aes_seal", "floor", "sqlite_read", "sqlite_write"]

PLAINTEXT = ("sk-proj-" + "Ab3dE5gH7jK9mN1pQ3sT5vX7zA9cD1fH3jL5nP7rT9vX").encode()  # 52 bytes
AAD = b"\x00" * 48  # associated data the size of byok's (owner and provider)
# a key table's row: three text keys, the sealed value (header + nonce + key + tag), three
# ISO 8601 times, an endpoint and the default flag
TABLE = (
    "CREATE TABLE IF NOT EXISTS k (user_id TEXT, provider TEXT, label TEXT, "
    "encrypted_value BLOB, key_version INTEGER, created_at TEXT, expires_at TEXT, "
    "updated_at TEXT, endpoint TEXT, is_default INTEGER, PRIMARY KEY (user_id, provider, label))"
)
ROW = ("user-42", "openai", "", os.urandom(3 + 12 + len(PLAINTEXT) + 16), 1,
       "2026-12-06T00:00:00.000000+00:00", None, "2026-12-06T00:00:00.000000+00:00", None, 1)  # fmt: skip

_tmp: tempfile.TemporaryDirectory[str] | None = None  # the floors' SQLite files


def _aead() -> tuple[AESGCM, bytes, bytes]:
    key, nonce = os.urandom(32), os.urandom(12)
    aead = AESGCM(key)
    return aead, nonce, aead.encrypt(nonce, PLAINTEXT, AAD)


def aes_open() -> Callable[[], object]:
    """One AES-256-GCM open of a key the size of bench's, with byok-sized associated data."""
    aead, nonce, sealed = _aead()

    def run() -> str:
        return aead.decrypt(nonce, sealed, AAD).decode()

    return run


def aes_seal() -> Callable[[], object]:
    """One AES-256-GCM seal of the same key under a fresh random nonce."""
    aead, _, _ = _aead()
    text = PLAINTEXT.decode()

    def run() -> bytes:
        return aead.encrypt(os.urandom(12), text.encode(), AAD)

    return run


def _sqlite(name: str) -> sqlite3.Connection:
    """A new SQLite file set up as byok sets its own (WAL, synchronous=NORMAL), one row in it."""
    global _tmp
    if _tmp is None:
        _tmp = tempfile.TemporaryDirectory(prefix="byok-bench-floors-")
    conn = sqlite3.connect(Path(_tmp.name) / name, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(TABLE)
    conn.execute("INSERT OR REPLACE INTO k VALUES (?,?,?,?,?,?,?,?,?,?)", ROW)
    return conn


def sqlite_read() -> Callable[[], object]:
    """One read of a row by its primary key (sqlite3 directly, statement cached by the driver)."""
    conn = _sqlite("read.db")
    sql, args = "SELECT * FROM k WHERE user_id = ? AND provider = ? AND label = ?", ROW[:3]

    def run() -> tuple:
        return conn.execute(sql, args).fetchone()

    return run


def sqlite_write() -> Callable[[], object]:
    """One upsert of a row by its primary key, committed (its own transaction)."""
    conn = _sqlite("write.db")
    sql = "INSERT OR REPLACE INTO k VALUES (?,?,?,?,?,?,?,?,?,?)"

    def run() -> None:
        conn.execute("BEGIN")
        conn.execute(sql, ROW)
        conn.execute("COMMIT")

    return run


def floor(
    *parts: Callable[[], object],  # floors a call needs, each run once per call
) -> Callable[[], object]:
    """One callable running every part once: the floor of a call that needs them all."""

    def run() -> None:
        for part in parts:
            part()

    return run
