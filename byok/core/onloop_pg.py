"""PostgreSQL's connections on the event loops (onloop.py): opened by psycopg's AsyncConnection
(its conninfo, TLS and authentication), then driven through libpq itself (`pgconn`): a statement
is prepared on the server the first time it runs on the connection, then each run is one send
and one wait for the socket, its text parameters and results converted here (psycopg's cursor
machinery cost ~2× the statement's own CPU on the loop; bench "HTTP wrk, PostgreSQL, counted
validate_key … c = 16"). In autocommit, as every libpq connection: each statement is its own
transaction, never idle in one. A statement that failed on its own (an ERROR, the connection
open and idle) leaves the connection in use.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from collections.abc import Callable
from typing import Any, NamedTuple

import psycopg
from psycopg import pq

from .onloop import SocketWait

__all__ = ["PostgresDriver"]

_PARAM = re.compile(r"%\((\w+)\)s|%%")  # psycopg's named placeholders (and an escaped %)
_DECODE: dict[int, Callable[[bytes], Any]] = {  # result columns by type OID, text format
    **dict.fromkeys((20, 21, 23), int),  # int8, int2, int4
    **dict.fromkeys((25, 1042, 1043), bytes.decode),  # text, bpchar, varchar
    16: lambda v: v == b"t",  # bool
}


class PostgresDriver:
    """How a loop's PostgreSQL connection is opened, and what its failures are."""

    errors = (psycopg.Error, OSError)  # (OSError: the socket closed under the loop)

    def __init__(
        self,
        connect_kws: dict,  # psycopg's connect arguments (host, dbname, options, …)
    ):
        self._kws = {**connect_kws, "autocommit": True}

    async def connect(self, loop: asyncio.AbstractEventLoop) -> _PgLink:  # the running loop
        """A new connection, driven on `loop`."""
        return _PgLink(await psycopg.AsyncConnection.connect(**self._kws), loop)


class _Statement(NamedTuple):
    """A statement prepared on one connection."""

    name: bytes  # its server-side name
    order: tuple[str, ...]  # its parameters' names, in the order of $1, $2, …


class _PgLink:
    """One loop's connection, driven through libpq: one statement at a time."""

    def __init__(
        self,
        conn: psycopg.AsyncConnection,  # an open connection (it owns the libpq connection)
        loop: asyncio.AbstractEventLoop,  # the loop it runs on
    ):
        self.conn, self.pg, self.loop = conn, conn.pgconn, loop
        self._prepared: dict[str, _Statement] = {}  # by SQL text
        self.wait = SocketWait(loop)  # the statement's wait for the socket
        self.busy = False  # a statement runs
        self._names = itertools.count(1)

    def reusable(self, error: Exception) -> bool:  # how a statement failed
        """The statement failed, not the connection (see `_reusable`)."""
        return _reusable(self.pg, error)

    async def run(self, sql: str, params: dict) -> list[tuple]:
        """The rows of one statement (prepared on the server when first run here)."""
        self.busy = True
        try:
            stmt = self._prepared.get(sql)
            if stmt is None:
                stmt = await self._prepare(sql)
            self.pg.send_query_prepared(stmt.name, [_text(params[n]) for n in stmt.order])
            return await self._result()
        finally:
            self.busy = False

    async def _prepare(self, sql: str) -> _Statement:
        """Prepare `sql` on the server under a name of its own."""
        order: list[str] = []

        def placeholder(m: re.Match) -> str:
            if m.group(1) is None:
                return "%"
            if m.group(1) not in order:
                order.append(m.group(1))
            return f"${order.index(m.group(1)) + 1}"

        text = _PARAM.sub(placeholder, sql)
        stmt = _Statement(f"byok_{next(self._names)}".encode(), tuple(order))
        self.pg.send_prepare(stmt.name, text.encode())
        await self._result()
        self._prepared[sql] = stmt
        return stmt

    async def _result(self) -> list[tuple]:
        """Flush what was sent, wait for its one result; its rows (psycopg.Error when failed)."""
        pg = self.pg
        while pg.flush():  # (a send fits the socket's buffer but for a huge batch)
            await self.wait.ready(pg.socket, write=True)
        while pg.is_busy():  # (no read before the first wait: the answer cannot be there yet)
            await self.wait.ready(pg.socket)
            pg.consume_input()
        results = []
        while (res := pg.get_result()) is not None:
            results.append(res)
        failed = [r for r in results if r.status == pq.ExecStatus.FATAL_ERROR]
        if failed:  # (a terminated backend's FATAL comes with its connection's end)
            raise psycopg.errors.error_from_result(failed[0])
        if len(results) != 1:
            raise psycopg.InterfaceError(f"{len(results)} results for one statement")
        (res,) = results
        get, rows = res.get_value, range(res.ntuples)
        columns = [
            [None if (v := get(r, c)) is None else decode(v) for r in rows]
            for c, decode in enumerate(_decoder(res.ftype(c)) for c in range(res.nfields))
        ]
        return list(zip(*columns, strict=True))

    def close(self) -> None:
        """Close the libpq connection (AsyncConnection.close does only this, but is awaited),
        from any thread. A statement in flight is cancelled on the server first (its
        transaction rolled back, as its waiters are told it failed; a cancel that comes too
        late leaves it committed, as any connection lost at that moment), and its wait goes on
        at once, to the closed connection's error (its socket will never be ready)."""
        if self.pg.transaction_status == pq.TransactionStatus.ACTIVE:
            with contextlib.suppress(psycopg.Error):  # (best effort: the server may be gone)
                self.conn.cancel()
        self.pg.finish()
        self.wait.wake()


def _reusable(
    pg: pq.abc.PGconn,  # the libpq connection a statement failed on
    error: Exception,  # how it failed
) -> bool:
    """The statement failed, not the connection: it is open, in no transaction, and the
    server's error was the statement's own (ERROR, not FATAL: a terminated backend says so
    before its socket closes), its prepared statements still there (a pooler in front may
    have dropped them: 26000)."""
    diag = getattr(error, "diag", None)
    return (
        diag is not None
        and diag.severity_nonlocalized == "ERROR"
        and diag.sqlstate != "26000"
        and pg.status == pq.ConnStatus.OK
        and pg.transaction_status == pq.TransactionStatus.IDLE
    )


def _decoder(
    oid: int,  # a result column's type
) -> Callable[[bytes], Any]:
    """How a column's text is read (InterfaceError for a type byok's statements never return)."""
    decode = _DECODE.get(oid)
    if decode is None:
        raise psycopg.InterfaceError(f"a result column of type OID {oid}")
    return decode


def _text(
    value: Any,  # a statement's parameter
) -> bytes | None:
    """A parameter in PostgreSQL's text format (the statement casts it to its column's type)."""
    if value is None:
        return None
    if value is True or value is False:
        return b"true" if value else b"false"
    if isinstance(value, int | str):
        return str(value).encode()
    raise TypeError(f"a {type(value).__name__} parameter: byok binds text and integers only")
