"""Per-user rate limits for byok's own routes (the "test key" route sends a request to a provider
for each press, so a user may not turn it into a scanner or a flood).

A sliding window approximated from two fixed windows (the previous window's count, weighted by
how much of it still overlaps, plus the current one). `DatabaseRateLimit` keeps the counters in
the database with one atomic upsert per hit, so the limit holds across processes (SQLite,
PostgreSQL, MySQL / MariaDB); `MemoryRateLimit` keeps them in this process (session storage, tests).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

import sqlalchemy as sa

from .bounds import MAX_INT, bounded_int, bounded_seconds
from .dialects import dialect_of
from .types import StorageError

__all__ = ["DatabaseRateLimit", "MemoryRateLimit", "RateLimit"]

_TABLE = "byok_rate"  # counters: (bucket, window start) -> hits
_MAX_BUCKET = 300  # longest bucket name stored
_ATTEMPTS = 3  # a hit rolled back by a deadlock is counted again


class RateLimit(Protocol):
    """Counts hits per bucket; says how long to wait once a bucket is over its limit."""

    limit: int  # hits allowed per window
    window: float  # window length, in seconds

    def hit(self, bucket: str) -> int | None:
        """Count one hit; None when allowed, else the whole seconds to wait."""
        ...


def _check(limit: int, window: float) -> None:
    """A limit its counter column holds, and a finite window of 1 ms to MAX_INT seconds (the
    window's index, now // window, is a stored integer)."""
    bounded_int(limit, "a rate limit's hits", low=1)
    bounded_seconds(window, "a rate limit's window", high=MAX_INT)


def _verdict(limit: int, window: float, now: float, previous: int, current: int) -> int | None:
    """Sliding-window estimate over two fixed windows; None = allowed, else seconds to wait."""
    elapsed = now % window
    estimate = previous * (1 - elapsed / window) + current
    if estimate <= limit:
        return None
    return max(1, math.ceil(window - elapsed))


class MemoryRateLimit:
    """Counters in this process (thread-safe); each process counts on its own."""

    def __init__(
        self,
        limit: int = 10,  # hits allowed per window
        window: float = 60.0,  # window length, in seconds
        clock: Callable[[], float] = time.time,  # the current time, in seconds
    ):
        _check(limit, window)
        self.limit, self.window, self.clock = limit, float(window), clock
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(
        self,
        bucket: str,  # whose hits, e.g. "test:user:42"
    ) -> int | None:
        """Count one hit; None when allowed, else the whole seconds to wait."""
        now = self.clock()
        start = int(now // self.window)
        with self._lock:
            if len(self._counts) > 10_000:  # forget windows that can no longer count
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= start - 1}
            current = self._counts.get((bucket, start), 0) + 1
            self._counts[bucket, start] = current
            previous = self._counts.get((bucket, start - 1), 0)
        return _verdict(self.limit, self.window, now, previous, current)


class DatabaseRateLimit:
    """Counters in a database table: one atomic upsert per hit, so every process shares them."""

    def __init__(
        self,
        engine: sa.Engine,  # the database (e.g. manager.database.db.engine)
        limit: int = 10,  # hits allowed per window
        window: float = 60.0,  # window length, in seconds
        clock: Callable[[], float] = time.time,  # the current time, in seconds
    ):
        _check(limit, window)
        self.limit, self.window, self.clock = limit, float(window), clock
        self.engine = engine
        try:
            with engine.connect():  # a first connection tells MySQL from MariaDB
                self.dialect = dialect = dialect_of(engine)
        except sa.exc.SQLAlchemyError as e:
            raise StorageError(f"cannot open the rate-limit database: {type(e).__name__}") from None
        meta = sa.MetaData()
        self.table = sa.Table(
            _TABLE,
            meta,
            sa.Column("bucket", dialect.string(_MAX_BUCKET), primary_key=True),
            sa.Column("window_start", sa.BigInteger, primary_key=True),
            sa.Column("hits", sa.Integer, nullable=False),
        )
        t = self.table
        stmt = dialect.insert(t).values(bucket=sa.bindparam("b"), window_start=sa.bindparam("w"))
        stmt = dialect.upsert(
            stmt.values(hits=1), ["bucket", "window_start"], lambda _: {"hits": t.c.hits + 1}
        )
        self._upsert = stmt  # then `_previous` at this window reads the count (the row is ours
        # until the commit: no RETURNING needed, which MySQL lacks)
        self._previous = sa.select(t.c.hits).where(
            t.c.bucket == sa.bindparam("b"), t.c.window_start == sa.bindparam("w")
        )
        self._forget = t.delete().where(t.c.window_start < sa.bindparam("w"))
        try:
            meta.create_all(engine, checkfirst=True)
        except sa.exc.IntegrityError:
            pass  # another process created it first
        except sa.exc.SQLAlchemyError as e:
            raise StorageError(f"cannot create the rate-limit table: {type(e).__name__}") from None

    def hit(
        self,
        bucket: str,  # whose hits, e.g. "test:user:42"
    ) -> int | None:
        """Count one hit atomically; None when allowed, else the whole seconds to wait."""
        now = self.clock()
        start = int(now // self.window)
        bucket = bucket[:_MAX_BUCKET]
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                current, previous = self._count(bucket, start)
                break
            except sa.exc.SQLAlchemyError as e:
                # a deadlock (MySQL) or serialization failure rolled it back: count again
                if attempt < _ATTEMPTS and self.dialect.retryable(e):
                    continue
                raise StorageError(f"rate limit failed: {type(e).__name__}") from None
        return _verdict(self.limit, self.window, now, previous or 0, current)

    def _count(self, bucket: str, start: int) -> tuple[int, int | None]:
        """One transaction: the hit counted; (this window's hits, the previous window's)."""
        with self.engine.begin() as conn:
            conn.execute(self._upsert, {"b": bucket, "w": start})
            current = conn.execute(self._previous, {"b": bucket, "w": start}).scalar_one()
            previous = conn.execute(self._previous, {"b": bucket, "w": start - 1}).scalar()
            if current == 1:  # the first hit of a window sweeps windows that no longer count
                conn.execute(self._forget, {"w": start - 1})
        return current, previous
