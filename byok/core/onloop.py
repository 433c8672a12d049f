"""Statements run on the event loop itself: for a hot statement whose callers already wait on the
loop (the group commit of counted validations, byok/issuing/combine.py), so it costs no thread
hop, no pooled connection's checkout and no pool thread's share of the GIL (bench "HTTP wrk,
PostgreSQL, counted validate_key … c = 16", "10× validate_key, defaults, async, MariaDB").

One connection per event loop, opened when first used by the database's driver (onloop_pg.py,
onloop_mysql.py: each a `Driver` and its links), then driven on its socket, one statement (or
query) at a time. A connection that broke, is in doubt, or was left mid-statement by a
cancellation is closed, and the next statement opens another. A process opens one such
connection per event loop that ran one (one per uvicorn worker) besides its pool's `pool_size`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from .types import StorageError

__all__ = ["Driver", "Link", "LoopConnections", "SocketWait"]


class Link(Protocol):
    """One loop's connection."""

    busy: bool  # a statement runs on it

    async def run(self, sql: str, params: dict | None) -> list[tuple]:
        """The statement's answer (see `LoopConnections.rows`)."""

    def reusable(self, error: Exception) -> bool:
        """After `error` (one of its driver's `errors`), the connection can run the next one."""

    def close(self) -> None:
        """Close it, from any thread; a statement in flight fails at once."""


class Driver(Protocol):
    """A database's way to open a loop's connection."""

    errors: tuple[type[Exception], ...]  # how a statement or its connection fails

    async def connect(self, loop: asyncio.AbstractEventLoop) -> Link:
        """A new connection, driven on `loop`."""


class LoopConnections:
    """The connections that run statements on the event loops of one database, one per loop."""

    def __init__(self, driver: Driver):  # opens them (onloop_pg.py, onloop_mysql.py)
        self.driver = driver
        self._links: dict[asyncio.AbstractEventLoop, Link] = {}
        self._closed = False

    async def rows(
        self,
        sql: str,  # the statement, with its driver's named placeholders (%(name)s); on MySQL
        # several, separated by ";"
        params: dict | None,  # its parameters by name (None: none, or inlined)
        what: str,  # the operation, named in a StorageError
    ) -> list[tuple]:
        """Run the statement on this loop's connection, committed alone (unless it opens a
        transaction itself); the rows it returned (MySQL: one (rows matched,) per statement).
        StorageError (as a Guard gives) when it fails or no connection can be opened. One
        statement at a time per loop (the combiner's drain): RuntimeError for a second."""
        loop = asyncio.get_running_loop()
        link = self._links.get(loop)
        if link is not None and link.busy:  # (a connection runs one command at a time)
            raise RuntimeError("one statement at a time on a loop's connection")
        try:
            if link is None:
                link = await self._open(loop, what)
            return await link.run(sql, params)
        except self.driver.errors as e:
            if link is not None and not link.reusable(e):
                self._drop(loop, link)  # lost or in doubt: the next statement opens another
            reason = (str(e) or type(e).__name__).splitlines()[0]
            raise StorageError(f"database {what} failed: {reason}") from None
        except BaseException:  # cancelled mid-statement: the connection's state is unknown
            if link is not None:
                self._drop(loop, link)
            raise

    async def _open(self, loop: asyncio.AbstractEventLoop, what: str) -> Link:
        """A new connection for `loop` (connections of loops closed since are closed first)."""
        closed = StorageError(f"database {what} failed: the database is closed")
        if self._closed:
            raise closed
        for old in [x for x in self._links if x.is_closed()]:
            self._drop(old, self._links[old])
        link = await self.driver.connect(loop)
        if self._closed:  # closed while connecting
            link.close()
            raise closed
        self._links[loop] = link
        return link

    def _drop(self, loop: asyncio.AbstractEventLoop, link: Link) -> None:
        """Close a loop's connection and forget it."""
        if self._links.get(loop) is link:
            del self._links[loop]
        link.close()

    def close(self) -> None:
        """Close every loop's connection; no statement runs on one after."""
        self._closed = True
        for loop, link in list(self._links.items()):
            self._drop(loop, link)


class SocketWait:
    """A statement's waits for its connection's socket on one event loop; `wake`, from any
    thread, ends the wait in progress (its connection was closed: its socket will never be
    ready, the statement goes on to the closed connection's error)."""

    def __init__(self, loop: asyncio.AbstractEventLoop):  # the loop the statements run on
        self.loop = loop
        self._waiting: asyncio.Future | None = None

    async def ready(
        self,
        fd: int,  # the socket's file descriptor
        *,
        write: bool = False,  # wait until it is writable (else readable)
    ) -> None:
        """Until the socket is ready, or `wake`."""
        loop = self.loop
        watch, unwatch = (
            (loop.add_writer, loop.remove_writer)
            if write
            else (loop.add_reader, loop.remove_reader)
        )
        done = self._waiting = loop.create_future()
        watch(fd, _wake, done)
        try:
            await done
        finally:
            self._waiting = None
            with contextlib.suppress(OSError):  # (closed meanwhile: its error follows)
                unwatch(fd)

    def wake(self) -> None:
        """End the wait in progress, if any (from any thread)."""
        waiting = self._waiting
        if waiting is not None:
            with contextlib.suppress(RuntimeError):  # (its loop has closed: nobody waits)
                self.loop.call_soon_threadsafe(_wake, waiting)


def _wake(done: asyncio.Future) -> None:
    """The socket is ready: the waiting statement goes on."""
    if not done.done():
        done.set_result(None)
