"""MySQL / MariaDB's connections on the event loops (onloop.py), as PostgreSQL's
(onloop_pg.py): opened by PyMySQL (its handshake and authentication, in a worker thread: they
block), then driven here on its socket: a query (one or more statements separated by `;`, values
inlined) goes out as one COM_QUERY packet, and the server answers each statement (an OK or ERR
packet, or a result set), read as the socket becomes readable (bench "10× validate_key, defaults, async,
MariaDB": the hop to a pool thread and the pooled connection's checkout were about half of a
validation). A statement that returns no rows answers the rows it matched, a query its
rows (integers and text: byok's reads back). In autocommit: a statement is its own
transaction unless the query opens one. A query that fails drops its connection (the server
rolls back what it left open). A TLS connection's socket is not PyMySQL's plain one: such a
database runs these statements in pool threads instead (the dialect's `on_loop`).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from typing import Any

import pymysql
from pymysql.constants import COMMAND, FIELD_TYPE
from pymysql.protocol import EOFPacketWrapper, FieldDescriptorPacket, MysqlPacket, OKPacketWrapper

from .onloop import SocketWait

__all__ = ["MySQLDriver"]

_OK, _ERR = 0x00, 0xFF  # an answer's first byte
_MAX_PACKET = 0xFFFFFF  # a longer payload is split over packets (never a byok query)
_READ = 65536  # bytes read from the socket at a time
_INTEGERS = {
    FIELD_TYPE.TINY,
    FIELD_TYPE.SHORT,
    FIELD_TYPE.INT24,
    FIELD_TYPE.LONG,
    FIELD_TYPE.LONGLONG,
}
_TEXTS = {FIELD_TYPE.VARCHAR, FIELD_TYPE.VAR_STRING, FIELD_TYPE.STRING, FIELD_TYPE.BLOB}
_QUIT = b"\x01\x00\x00\x00" + bytes([COMMAND.COM_QUIT])  # the packet that ends a session


class MySQLDriver:
    """How a loop's MySQL / MariaDB connection is opened, and what its failures are."""

    errors = (pymysql.MySQLError, OSError)  # (OSError: the socket closed under the loop)

    def __init__(
        self,
        connect_kws: dict,  # PyMySQL's connect arguments (host, user, client_flag, sql_mode, …)
    ):
        # the pool's isolation (SQLAlchemy sets it per connection; PyMySQL's init_command here)
        isolation = "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"
        self._kws = {**connect_kws, "autocommit": True, "init_command": isolation}

    async def connect(self, loop: asyncio.AbstractEventLoop) -> _MySQLLink:  # the running loop
        """A new connection, driven on `loop` (PyMySQL's handshake in a worker thread)."""
        opening = loop.run_in_executor(None, lambda: pymysql.connect(**self._kws))
        try:
            conn = await asyncio.shield(opening)
        except asyncio.CancelledError:  # the connection still opens: closed once it has
            opening.add_done_callback(_close_opened)
            raise
        return _MySQLLink(conn, loop, self._kws)


class _MySQLLink:
    """One loop's connection, driven on its socket: one query at a time."""

    def __init__(
        self,
        conn: pymysql.Connection,  # an open connection (its handshake done, nothing unread)
        loop: asyncio.AbstractEventLoop,  # the loop it runs on
        connect_kws: dict,  # how it was opened (a second connection cancels its query)
    ):
        sock = conn._sock  # (PyMySQL keeps its socket there; its reads buffer nothing since)
        if type(sock) is not socket.socket:
            conn.close()
            raise pymysql.InterfaceError("a loop's connection needs a plain socket (no TLS)")
        sock.setblocking(False)
        self.conn, self.sock, self.fd, self.loop = conn, sock, sock.fileno(), loop
        self._kws = connect_kws
        self._escape = conn.cursor()  # inlines values (`mogrify`, no I/O)
        self._buffer = bytearray()  # bytes received, not yet read as packets
        self.wait = SocketWait(loop)
        self.busy = False  # a query runs

    def reusable(self, error: Exception) -> bool:  # how a query failed
        """Never: a query may have failed inside the transaction it opened (the server rolls
        back what a closed connection left)."""
        return False

    async def run(self, sql: str, params: dict | None) -> list:
        """Each statement's answer, in order: (rows matched,) for one that returns no rows, the
        list of its rows for a query; the server's error raised as PyMySQL's."""
        self.busy = True
        try:
            text = self._escape.mogrify(sql, params) if params is not None else sql
            await self._send(bytes([COMMAND.COM_QUERY]) + text.encode())
            answers: list = []
            more = True
            while more:
                packet = MysqlPacket(await self._packet(), "utf8")
                first = packet.get_bytes(0)[0]
                if first == _ERR:
                    packet.raise_for_error()
                if first == _OK:
                    ok = OKPacketWrapper(packet)
                    answers.append((ok.affected_rows,))  # (matched: CLIENT.FOUND_ROWS)
                    more = ok.has_next
                else:  # a result set: its column count first
                    rows, more = await self._rows(packet.read_length_encoded_integer())
                    answers.append(rows)
            return answers
        finally:
            self.busy = False

    async def _rows(
        self,
        width: int,  # the result's columns
    ) -> tuple[list[tuple], bool]:
        """A result set's rows (text protocol, after its column count), and whether another
        answer follows."""
        decoders = []
        for _ in range(width):
            column = FieldDescriptorPacket(await self._packet(), "utf8")
            decoders.append(_decoder(column.type_code))
        await self._packet()  # the EOF after the columns
        rows = []
        while True:
            packet = MysqlPacket(await self._packet(), "utf8")
            if packet.is_eof_packet():
                return rows, bool(EOFPacketWrapper(packet).has_next)
            if packet.is_error_packet():  # (failed while sending its rows)
                packet.raise_for_error()
            values = [packet.read_length_coded_string() for _ in decoders]
            rows.append(
                tuple(None if v is None else d(v) for d, v in zip(decoders, values, strict=True))
            )

    async def _send(self, payload: bytes) -> None:
        """Send one command packet (sequence 0), waiting while the socket's buffer is full."""
        if len(payload) >= _MAX_PACKET:
            raise pymysql.InterfaceError("a query over 16 MB on a loop's connection")
        data = memoryview(len(payload).to_bytes(3, "little") + b"\0" + payload)
        while data:
            try:
                data = data[self.sock.send(data) :]
            except BlockingIOError:
                await self.wait.ready(self.fd, write=True)

    async def _packet(self) -> bytes:
        """The next packet's payload, as it arrives."""
        buffer = self._buffer
        while True:
            if len(buffer) >= 4:
                end = 4 + int.from_bytes(buffer[:3], "little")
                if len(buffer) >= end:
                    payload = bytes(buffer[4:end])
                    del buffer[:end]
                    return payload
            try:
                chunk = self.sock.recv(_READ)
            except BlockingIOError:
                await self.wait.ready(self.fd)
                continue
            if not chunk:
                raise pymysql.OperationalError("the server closed the connection")
            buffer += chunk

    def close(self) -> None:
        """Close the connection, from any thread. A query in flight is killed on the server
        first (its transaction rolled back, as its waiters are told it failed; a kill that comes
        too late leaves it committed, as any connection lost at that moment), and its wait goes
        on at once, to the closed socket's error."""
        if self.busy:
            with contextlib.suppress(pymysql.MySQLError, OSError):  # (best effort)
                killer = pymysql.connect(**self._kws)
                try:
                    killer.query(f"KILL CONNECTION {int(self.conn.thread_id())}")
                finally:
                    killer.close()
        else:  # the server is told (else it logs an aborted connection)
            with contextlib.suppress(OSError):  # (a full buffer, a closed socket: dropped)
                self.sock.send(_QUIT)
        self.conn._force_close()  # (its socket and the reader PyMySQL made of it)
        self.wait.wake()


def _close_opened(opening: asyncio.Future) -> None:
    """A connection opened for a statement cancelled meanwhile: closed."""
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()


def _decoder(
    type_code: int,  # a result column's type (pymysql.constants.FIELD_TYPE)
) -> Callable[[bytes], Any]:
    """How a column's text is read (InterfaceError for a type byok's reads never return)."""
    if type_code in _INTEGERS:
        return int
    if type_code in _TEXTS:
        return bytes.decode
    raise pymysql.InterfaceError(f"a result column of type {type_code}")
