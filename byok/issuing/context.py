"""The state every part of a `KeyIssuer` shares: the database, its issuing tables, the lock that
serialises the connection's users (`guard`) and the clock. One object, given to each part.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from fastsql import Database

from ..core.database import Guard
from . import store
from .direct import Direct
from .errors import InvalidInputError
from .store import Tables

__all__ = ["Context"]


class Context:
    """One database (its connection, tables and lock) and the clock of one issuer."""

    def __init__(
        self,
        db_url: str | Database | None,  # database URL (sqlite:///…, postgresql://…) or Database
        clock: Callable[[], datetime],  # the current time (UTC); tests move it
    ):
        if db_url is None:
            raise InvalidInputError("db_url is required, e.g. 'sqlite:///issued_keys.db'")
        self.db = db_url if isinstance(db_url, Database) else store.open_db(db_url)
        self.clock = clock
        self._lock = threading.RLock()
        with self.guard("open"):
            self.tables = Tables(self.db)
        self.direct = Direct.of(self._lock, self.db)  # SQLite: validation skips SQLAlchemy's txn

    def guard(
        self,
        what: str,  # the operation, named in a StorageError
    ) -> Guard:
        """One database operation (lock, commit or rollback, StorageError)."""
        return Guard(self._lock, self.db, what)

    def close(self) -> None:
        """Close the connection and the engine's pool."""
        with self._lock:
            self.db.close()
            self.db.engine.dispose()
