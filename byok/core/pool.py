"""The connection pool of a server database (PostgreSQL, MySQL / MariaDB): one per process,
sized by `?pool_size=N` in the database URL (`POOL_SIZE` when none), so the guarded operations of
concurrent requests run their round trips in parallel, each on its own connection and in its own
transaction. SQLite keeps one connection per process (`byok.core.database`).

A process opens at most `pool_size` connections per database it opens: N processes (workers ×
instances) open at most N × pool_size, which the server's max_connections must allow.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import queue
import threading
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa
from fastsql import Database
from starlette.concurrency import run_in_threadpool

from .dialects import dialect_of
from .onloop import LoopConnections
from .types import ValidationError

__all__ = [
    "POOL_SIZE",
    "POOL_SIZES",
    "POOL_WAIT",
    "Pooled",
    "in_pool_thread",
    "pool_size",
    "split_pool",
]

POOL_SIZE = 10  # connections per process to a server database when the URL names no pool_size
POOL_SIZES = range(2, 101)  # the pool sizes accepted (opening the schema holds two at once)
POOL_WAIT = 30  # seconds an operation waits for a free connection before StorageError
T = TypeVar("T")


def pool_size(
    given: Any,  # the URL's pool_size value (text; a tuple when it is given twice)
    driver: str,  # the dialect+driver opened
    shown: str,  # how a message names the URL ("a 'postgresql'", never the URL itself)
) -> int:
    """The pool size a URL asks for; ValidationError when it is not a whole number in
    `POOL_SIZES` or the database is SQLite (one connection per process)."""
    if driver == "sqlite":
        raise ValidationError(
            "pool_size is for PostgreSQL and MySQL / MariaDB: SQLite keeps one connection per "
            "process (WAL lets other processes read while it writes)"
        )
    text = given if isinstance(given, str) else ""
    if not (text.isascii() and text.isdigit()) or int(text) not in POOL_SIZES:
        raise ValidationError(
            f"pool_size in {shown} URL must be a whole number from {POOL_SIZES.start} to "
            f"{POOL_SIZES.stop - 1}"
        )
    return int(text)


def split_pool(
    url: sa.URL,  # a URL from engine_url
) -> tuple[sa.URL, int]:
    """The URL without its pool_size (the driver does not know it), and the pool size
    (`POOL_SIZE` when none is named)."""
    query = dict(url.query)
    given = query.pop("pool_size", None)
    if given is None:
        return url, POOL_SIZE
    return url.set(query=query), pool_size(given, url.drivername, "this")


class Pooled(Database):
    """A fastsql Database on a server database (PostgreSQL, MySQL / MariaDB) with a pool of
    connections (SQLAlchemy's QueuePool, at most `size`, none kept beyond it): `conn` is the
    connection the current thread's Guard took from the pool, so guarded operations of several
    threads run at once, each in its own transaction. Outside any Guard (schema work at open,
    a test's own statements) `conn` is a connection of its own, taken when first used."""

    def __init__(
        self,
        url: sa.URL,  # the URL opened, without its pool_size
        engine_kws: dict,  # the dialect's create_engine arguments
        size: int,  # connections in the pool (see POOL_SIZES)
    ):
        self._local = threading.local()  # per thread: the Guard's connection and its depth
        self._home: sa.Connection | None = None
        self._size = size
        self._threads: Workers | None = None  # made when first used
        self._making = threading.Lock()  # guards making the threads and the loop connections
        self._connect_args = engine_kws.get("connect_args", {})
        self._on_loop: LoopConnections | None = None
        self._on_loop_made = False  # `_on_loop` is made (when first used)
        pool = {
            "pool_size": size,
            "max_overflow": 0,  # exactly `size` per process: N processes open N × size
            "pool_timeout": POOL_WAIT,
            # no extra round trip per operation: a Guard ends every transaction itself (and
            # drops a connection it could not end), and a connection lost to a server restart
            # fails one operation, then the pool reconnects
            "pool_pre_ping": False,
            "pool_reset_on_return": None,
        }
        super().__init__(url, engine_kws={**engine_kws, **pool})
        self.release_home()  # fastsql's own connection: back to the pool

    @property
    def conn(self) -> sa.Connection:  # type: ignore[override]
        """The current Guard's connection, else this database's own."""
        held = getattr(self._local, "conn", None)
        if held is not None:
            return held
        if self._home is None:
            self._home = self.engine.connect()
        return self._home

    @conn.setter
    def conn(self, value: sa.Connection) -> None:  # fastsql's __init__ sets it
        self._home = value

    def enter(self) -> None:
        """Take a connection for this thread's Guard (a nested Guard uses the same one)."""
        local = self._local
        depth = getattr(local, "depth", 0)
        if depth == 0:
            local.conn = self.engine.connect()
        local.depth = depth + 1

    def leave(
        self,
        ended: bool,  # the Guard ended its transaction (else the connection is dropped)
    ) -> None:
        """Give this thread's Guard connection back to the pool once its outermost Guard ends."""
        local = self._local
        local.depth -= 1
        if local.depth == 0:
            conn, local.conn = local.conn, None
            if not ended:
                conn.invalidate()  # it may still be in a transaction: never reused
            conn.close()

    def release_home(self) -> None:
        """End and return this database's own connection (taken again when next used)."""
        home, self._home = self._home, None
        if home is not None:
            try:
                home.rollback()  # a statement a caller left uncommitted holds no lock
            finally:
                home.close()

    def threads(self) -> Workers:
        """As many worker threads as the pool has connections (see `in_pool_thread`)."""
        if self._threads is None:
            with self._making:
                if self._threads is None:
                    self._threads = Workers(self._size, "byok-db")
        return self._threads

    def on_loop(self) -> LoopConnections | None:
        """This database's connections on the event loops (onloop.py), None where its
        statements run in its pool threads (the dialect's `on_loop`)."""
        if not self._on_loop_made:
            with self._making:
                if not self._on_loop_made:
                    args, kws = self.engine.dialect.create_connect_args(self.engine.url)
                    if args:  # (neither psycopg's dialect nor PyMySQL's passes any)
                        raise TypeError("a database whose driver takes positional arguments")
                    self._on_loop = dialect_of(self).on_loop({**kws, **self._connect_args})
                    self._on_loop_made = True
        return self._on_loop

    def close(self) -> None:
        """Return this database's own connection (the engine's dispose closes the pool), close
        its connections on the event loops and end its worker threads once their calls are
        done."""
        self.release_home()
        if self._on_loop is not None:
            self._on_loop.close()
        threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown()


class _Call(NamedTuple):
    """A blocking call waiting for a worker, and where its outcome goes."""

    loop: asyncio.AbstractEventLoop  # the event loop awaiting it
    future: asyncio.Future  # its outcome, set on that loop
    call: Callable[[], Any]  # the call (its context bound)


class Workers:
    """Up to `size` threads running blocking calls for event loops, started as calls need them
    and kept: a call waits in a queue (no thread holds it), and its outcome returns to its loop
    by one `call_soon_threadsafe` (~30 µs less CPU a call than an executor's concurrent Future,
    its locks and the asyncio Future chained to it, measured on bench "10× validate_key,
    defaults, async, MariaDB" when its writes still ran in a pool thread)."""

    def __init__(
        self,
        size: int,  # most threads
        name: str,  # their names' prefix
    ):
        self.size, self.name = size, name
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards the two counts
        self._started = 0  # threads started
        self._idle = 0  # threads waiting for a call
        self._closed = False

    async def run(
        self,
        call: Callable[[], T],  # a blocking call (its context already bound)
    ) -> T:
        """`call`'s result (or its exception), run in one of the threads."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the database is closed")
            if self._idle:
                self._idle -= 1  # this call's: a second call starts another thread
            elif self._started < self.size:
                self._started += 1
                threading.Thread(
                    target=self._work, name=f"{self.name}_{self._started}", daemon=True
                ).start()
        self._calls.put(_Call(loop, future, call))
        return await future

    def _work(self) -> None:
        """A thread's loop: run calls until `shutdown`."""
        calls = self._calls
        while (item := calls.get()) is not None:
            loop, future, call = item
            if not future.cancelled():  # its awaiter gave up while it waited: not run
                try:
                    result = call()
                except BaseException as e:  # the awaiter gets it, as from an executor
                    _settle(loop, future, e, failed=True)
                else:
                    _settle(loop, future, result, failed=False)
            with self._lock:
                self._idle += 1

    def shutdown(self) -> None:
        """End the threads once the calls queued are done (not waiting for them)."""
        with self._lock:
            self._closed = True
            for _ in range(self._started):
                self._calls.put(None)


def _settle(
    loop: asyncio.AbstractEventLoop,  # the loop awaiting the call
    future: asyncio.Future,  # its outcome
    value: Any,  # the result, or the exception raised
    *,
    failed: bool,  # `value` is an exception
) -> None:
    """Hand a call's outcome to its loop (dropped when the loop has closed meanwhile)."""
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody awaits it
        loop.call_soon_threadsafe(_set, future, value, failed)


def _set(future: asyncio.Future, value: Any, failed: bool) -> None:
    """On the loop: the outcome, unless the awaiter was cancelled."""
    if not future.cancelled():
        future.set_exception(value) if failed else future.set_result(value)


async def in_pool_thread(
    db: Any,  # the database `fn` works on (a fastsql Database)
    fn: Callable[..., T],  # a blocking call of one guarded operation at a time
    *args: Any,  # its arguments
    **kwargs: Any,  # its keyword arguments
) -> T:
    """Run a blocking database call off the event loop: on a pooled database in one of its
    `pool_size` threads, so the calls in flight never outnumber the connections (the others
    queue without a thread each, none waits holding a thread) and the hop is `Workers`' own,
    lighter than anyio's and an executor's (bench "HTTP wrk, PostgreSQL, counted validate_key":
    the reads of keys not cached); elsewhere (SQLite: one connection) in Starlette's pool."""
    if not isinstance(db, Pooled):
        return await run_in_threadpool(fn, *args, **kwargs)
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await db.threads().run(call)
