"""PostgreSQL statements run on the event loop itself, through psycopg's AsyncConnection: for a
hot statement whose callers already wait on the loop (the group commit of counted validations,
byok/issuing/combine.py), so it costs no thread hop and no pool thread's share of the GIL (bench
"HTTP wrk, PostgreSQL, counted validate_key … c = 16").

One connection per event loop, opened when first used, in autocommit: each statement is its own
transaction (never idle in one), and is prepared on the server the first time it runs. A
connection that broke, or was left mid-statement by a cancellation, is closed and the next
statement opens another. A process opens one such connection per event loop that ran one (one
per uvicorn worker) besides its pool's `pool_size`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from .types import StorageError

__all__ = ["LoopConnections"]


class LoopConnections:
    """The connections that run statements on the event loops of one database, one per loop."""

    def __init__(
        self,
        connect_kws: dict,  # psycopg's connect arguments (host, dbname, options, adapters, …)
    ):
        self._kws = {**connect_kws, "autocommit": True}
        self._conns: dict[asyncio.AbstractEventLoop, psycopg.AsyncConnection] = {}
        self._closed = False

    async def rows(
        self,
        sql: str,  # one statement (psycopg's paramstyle), a whole transaction
        params: Any,  # its parameters
        what: str,  # the operation, named in a StorageError
    ) -> list[tuple]:
        """Run the statement on this loop's connection, committed alone; every row it returned.
        StorageError (as a Guard gives) when it fails or no connection can be opened."""
        loop = asyncio.get_running_loop()
        conn = self._conns.get(loop)
        try:
            if conn is None:
                conn = await self._open(loop)
            cursor = await conn.execute(sql, params, prepare=True)
            return await cursor.fetchall()
        except psycopg.Error as e:
            if conn is not None and not _reusable(conn):
                self._drop(loop, conn)  # the next statement opens another
            reason = (str(e) or type(e).__name__).splitlines()[0]
            raise StorageError(f"database {what} failed: {reason}") from None
        except BaseException:  # cancelled mid-statement: the connection's state is unknown
            if conn is not None:
                self._drop(loop, conn)
            raise

    async def _open(self, loop: asyncio.AbstractEventLoop) -> psycopg.AsyncConnection:
        """A new connection for `loop` (connections of loops closed since are closed first)."""
        if self._closed:
            raise psycopg.OperationalError("the database is closed")
        for old in [x for x in self._conns if x.is_closed()]:
            self._drop(old, self._conns[old])
        conn = await psycopg.AsyncConnection.connect(**self._kws)
        if self._closed:  # closed while connecting
            conn.pgconn.finish()
            raise psycopg.OperationalError("the database is closed")
        self._conns[loop] = conn
        return conn

    def _drop(self, loop: asyncio.AbstractEventLoop, conn: psycopg.AsyncConnection) -> None:
        """Close a loop's connection and forget it."""
        if self._conns.get(loop) is conn:
            del self._conns[loop]
        conn.pgconn.finish()  # (AsyncConnection.close does only this, but must be awaited)

    def close(self) -> None:
        """Close every loop's connection; no statement runs on one after."""
        self._closed = True
        for loop, conn in list(self._conns.items()):
            self._drop(loop, conn)


def _reusable(
    conn: psycopg.AsyncConnection,  # a connection whose statement failed
) -> bool:
    """The connection is open and outside any transaction (the failure was the statement's)."""
    return not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE
