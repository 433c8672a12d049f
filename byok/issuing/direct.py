"""Validation's statements straight on SQLite's DBAPI connection (`Direct`): the issuer's lock,
the driver's own commit, and no SQLAlchemy transaction around them.

On one SQLite connection (byok's single writer per process) sqlite3 opens a transaction only
before a write (INSERT / UPDATE / DELETE), so an indexed read needs none and a write is ended by
the driver's commit: SQLAlchemy's begin and commit wrappers add only their own Python. The
guarantees are the Guard's: the lock serialises the connection's users, a write commits or
rolls back as a whole (statements run through SQLAlchemy inside it too), and the driver's
errors become StorageError. Pooled server databases keep the Guard (`Direct.of` gives None).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, NamedTuple

import sqlalchemy as sa
from fastsql import Database

from ..core.compiled import Compiled
from ..core.database import db_reason
from ..core.pool import Pooled
from ..core.types import StorageError

__all__ = ["Direct"]


class Direct:
    """Reads and one-transaction writes on a single SQLite connection, under the issuer's lock
    (bench "validate_key defaults ≤ 4× HMAC + write" and "read-only, cache_ttl=0 ≤ 4× HMAC +
    read": no SQLAlchemy begin / commit per call)."""

    def __init__(
        self,
        lock: threading.RLock,  # the issuer's lock: serialises the connection's users
        db: Database,  # a single-connection SQLite database
    ):
        self.lock, self.db = lock, db
        self.error = db.engine.dialect.loaded_dbapi.Error  # the driver's errors
        self.errors = (sa.exc.SQLAlchemyError, self.error)  # what a statement or commit raises
        self.driver: Any = None  # the DBAPI connection of the write in progress (under the lock)

    @classmethod
    def of(
        cls,
        lock: threading.RLock,  # the issuer's lock
        db: Database,  # the issuer's database
    ) -> Direct | None:
        """A Direct for a single SQLite connection; None for any other database (the Guard)."""
        if isinstance(db, Pooled) or db.engine.dialect.name != "sqlite":
            return None
        return cls(lock, db)

    def fetch(
        self,
        fast: Compiled,  # a one-row query
        params: dict,  # its parameters
        what: str,  # the operation, named in a StorageError
    ) -> tuple[tuple | None, Any]:
        """(the first row as the driver's tuple or None, the cursor's description) of a read:
        no transaction is opened, so none is left open."""
        with self.lock:
            try:
                driver = self.db.conn.connection.driver_connection
                cursor = driver.execute(fast.sql, fast.params(params))
                return cursor.fetchone(), cursor.description
            except (sa.exc.SQLAlchemyError, self.error) as e:
                raise StorageError(f"database {what} failed: {db_reason(e)}") from None

    def run(
        self,
        fast: Compiled,  # a statement of the write in progress
        params: dict,  # its parameters
    ) -> Any:
        """Run a statement inside `write` (the driver begins its transaction); the cursor."""
        return self.driver.execute(fast.sql, fast.params(params))

    def write(
        self,
        what: str,  # the operation, named in a StorageError
    ) -> Write:
        """`with direct.write("validate"):` one transaction of `run` (and SQLAlchemy) statements,
        committed on success, rolled back on an error."""
        return _WRITE(Write, (self, what))  # bench "validate_key defaults": no Write() call


class Write(NamedTuple):
    """One write transaction of a `Direct` (a context manager)."""

    direct: Direct  # the connection's owner
    what: str  # the operation, named in a StorageError

    def __enter__(self) -> None:
        direct = self.direct
        direct.lock.acquire()
        try:  # bench "validate_key defaults ≤ 4× HMAC + write": the driver looked up once a write
            direct.driver = direct.db.conn.connection.driver_connection
        except BaseException:
            direct.lock.release()
            raise

    def __exit__(self, exc_type, exc, tb) -> bool:
        direct = self.direct
        conn, errors, driver = direct.db.conn, direct.errors, direct.driver
        try:
            if exc_type is None:
                try:
                    _end(conn, driver, commit=True)
                    return False
                except errors as e:
                    exc = e  # the commit failed: roll back and say so
            with contextlib.suppress(*errors):  # an unusable connection: the error below says why
                _end(conn, driver, commit=False)
        finally:
            direct.lock.release()
        if isinstance(exc, errors):
            raise StorageError(f"database {self.what} failed: {db_reason(exc)}") from None
        return False


_WRITE = tuple.__new__  # a Write from its two fields (a NamedTuple's __new__ is a Python call)


def _end(
    conn: sa.Connection,  # the SQLAlchemy connection over the driver's
    driver: Any,  # its DBAPI connection
    *,
    commit: bool,  # commit, else roll back
) -> None:
    """End the transaction: through SQLAlchemy when a statement run through it began one (it
    ends the driver's too), else on the driver."""
    if conn.in_transaction():
        conn.commit() if commit else conn.rollback()
    else:
        driver.commit() if commit else driver.rollback()
