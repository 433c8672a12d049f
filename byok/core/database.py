"""The database plumbing byok's tables share: opening a fastsql Database (SQLite in WAL mode with
a busy timeout, one connection per process; PostgreSQL and MySQL / MariaDB with a pool of
connections per process, `?pool_size=N` in the URL), guarded operations (each ends its
transaction, so a connection never sits idle in one; on a pooled database each runs on its own
connection, so concurrent operations run their round trips in parallel), schema versions in the
`byok_meta` table, and timestamps as fixed-width ISO 8601 text.

Used by the key storage (`byok.core.storage`) and the issued-key engine (`byok.issuing`).
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import sqlalchemy as sa
from fastsql import Database

from .dialects import DIALECTS, dialect_of
from .pool import POOL_WAIT, Pooled, pool_size, split_pool
from .types import StorageError, ValidationError

__all__ = [
    "Access",
    "Guard",
    "create_engine",
    "db_reason",
    "engine_url",
    "ensure_index",
    "from_iso",
    "open_database",
    "open_schema",
    "record_schema_version",
    "schema_version",
    "to_iso",
]

Access = Literal["create", "write", "read"]  # how a database is opened (see open_database)
SCHEMA_ATTEMPTS = 5  # tries to create a schema when several processes start at once
T = TypeVar("T")


@dataclass
class ByokMeta:
    name: str  # setting name, e.g. "schema:user_api_keys"
    value: str  # setting value


def to_iso(dt: datetime | None) -> str | None:
    """Fixed-width ISO 8601 in UTC: sorts like time, keeps the timezone."""
    return None if dt is None else dt.astimezone(UTC).isoformat(timespec="microseconds")


def from_iso(text: Any) -> datetime | None:
    """Inverse of `to_iso`; ValueError / TypeError for anything byok did not write."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise TypeError(f"a time stored as {type(text).__name__}, not text")
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:  # byok always writes the offset: a bare time was written elsewhere
        raise ValueError("a stored time without its timezone")
    return dt


def db_reason(
    exc: BaseException,  # a SQLAlchemy error
) -> str:
    """The driver's first message line (never the SQL parameters SQLAlchemy appends)."""
    text = str(getattr(exc, "orig", exc)) or type(exc).__name__
    return text.splitlines()[0]


# URL scheme (the part before any "+driver") -> the dialect+driver byok opens it with: the
# driver a URL names (asyncpg, aiosqlite, aiomysql, …) is replaced, since byok's database calls
# are synchronous (its async faces run them in worker threads)
DRIVERS = {
    "sqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}
USE = "sqlite:///keys.db, postgresql://user@host/db or mysql://user@host/db (MariaDB too)"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+._-]{0,40}")  # a scheme safe to name in a message
_PG_SSL = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}  # sslmode values


def engine_url(
    url: Any,  # a database URL as a user writes it (see DRIVERS for the schemes accepted)
) -> sa.URL:
    """The SQLAlchemy URL byok opens for `url`: one place turns every accepted spelling
    (`postgres://`, `postgresql+asyncpg://`, `sqlite+aiosqlite://`, `mariadb://`, …) into the
    driver byok uses; ValidationError naming the scheme (never the rest: it may hold a password)
    for a URL byok cannot serve."""
    if not isinstance(url, str) or "://" not in url:
        raise ValidationError(f"db_url must be a database URL such as {USE}")
    scheme = url.split("://", 1)[0]
    shown = f"a {scheme!r}" if _SCHEME.fullmatch(scheme) else "this"
    driver = DRIVERS.get(scheme.split("+", 1)[0].lower())
    if driver is None:
        raise ValidationError(f"byok cannot serve {shown} database URL: use {USE}")
    try:
        parsed = sa.make_url(driver + url[len(scheme) :])
    except (sa.exc.ArgumentError, ValueError):  # its message repeats the URL: not shown
        raise ValidationError(f"db_url is not {shown} URL byok can read: use {USE}") from None
    query = dict(parsed.query)
    if driver.startswith("postgresql") and "ssl" in query:  # asyncpg's spelling of sslmode
        ssl = str(query.pop("ssl")).lower()
        query.setdefault("sslmode", "require" if ssl in ("true", "1") else ssl)
        if query["sslmode"] not in _PG_SSL:
            raise ValidationError(f"unknown ssl mode in {shown} URL: use one of {sorted(_PG_SSL)}")
    if driver.startswith("mysql"):
        query.setdefault("charset", "utf8mb4")  # every Unicode character, emoji included
    if "pool_size" in query:
        pool_size(query["pool_size"], driver, shown)  # checked here, taken by `split_pool`
    return parsed.set(query=query)


def create_engine(
    url: str,  # a database URL (see `engine_url` for the spellings accepted)
    read_only: bool = False,  # open the database read-only
) -> sa.Engine:
    """A SQLAlchemy engine for `url`, set up as byok's own (e.g. for `DatabaseRateLimit`)."""
    parsed = engine_url(url)
    kws = DIALECTS[parsed.get_backend_name()].engine_kws(parsed, read_only)
    if parsed.get_backend_name() != "sqlite":
        parsed, size = split_pool(parsed)
        kws |= {"pool_size": size, "max_overflow": 0, "pool_timeout": POOL_WAIT}
    return sa.create_engine(parsed, **kws)


def open_database(
    url: str,  # a database URL (see `engine_url` for the spellings accepted)
    access: Access = "create",  # "create" may make a SQLite file; "read" opens read-only
) -> Database:
    """A fastsql Database tuned for byok: SQLite in WAL mode with a busy timeout."""
    parsed = engine_url(url)  # a URL object: its repr (fastsql's Database repr) hides the password
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite and access != "create":
        parsed = _existing_sqlite(parsed, read_only=access == "read")
    elif sqlite:
        _sqlite_directory(parsed)
    kws = DIALECTS[parsed.get_backend_name()].engine_kws(parsed, read_only=access == "read")
    try:
        if sqlite:
            db = Database(parsed, engine_kws=kws)
            db.q(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
            if access != "read":
                _wal(db)
                db.q("PRAGMA synchronous=NORMAL")
            db.conn.commit()
            return db
        parsed, size = split_pool(parsed)
        return Pooled(parsed, kws, size)
    except sa.exc.SQLAlchemyError as e:
        raise StorageError(f"cannot open database: {db_reason(e)}") from None


SQLITE_BUSY_MS = 10_000  # how long a SQLite statement waits on another connection's lock


def _wal(
    db: Database,  # a SQLite database byok may write
) -> None:
    """Put the SQLite file in WAL mode. Processes opening a fresh file at once race to switch it:
    SQLite answers the loser "database is locked" at once, without waiting (two readers both
    upgrading would deadlock), so the switch is retried until the busy timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_MS / 1000
    while True:
        try:
            if db.q("PRAGMA journal_mode")[0]["journal_mode"] != "wal":  # set once per file
                db.q("PRAGMA journal_mode=WAL")
            return
        except sa.exc.OperationalError as e:
            db.conn.rollback()
            if "locked" not in str(e.orig) or time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(0.001, 0.02))


def _existing_sqlite(
    url: sa.URL,  # a SQLite URL
    read_only: bool,  # open with mode=ro
) -> sa.URL:
    """The URL of an existing SQLite file (StorageError when there is none: never create one)."""
    path = url.database or ""
    if not path or path == ":memory:" or not os.path.isfile(path):
        raise StorageError(
            f"no SQLite database at {path or 'an in-memory URL'!r}: is the database URL right?"
        )
    return (
        url.set(database=f"file:{path}", query={"mode": "ro", "uri": "true"}) if read_only else url
    )


def _sqlite_directory(
    url: sa.URL,  # a SQLite URL byok may create the file of
) -> None:
    """StorageError naming the directory when a SQLite file's directory does not exist (SQLite
    itself says only "unable to open database file")."""
    path = url.database or ""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise StorageError(
            f"cannot open database: the directory {folder} does not exist "
            f"(create it, or point the SQLite URL at a directory that does)"
        )


class Guard:
    """One database operation: takes its connection (the pool's on a `Pooled` database; else
    the one connection, under `lock`), ends the transaction (commit, or rollback on an error),
    gives the connection back, and turns database errors (SQLAlchemy's, or the driver's for
    statements run on the DBAPI connection) into StorageError."""

    def __init__(
        self,
        lock: threading.RLock,  # serialises the users of one connection (unused when pooled)
        db: Database,  # the database whose connection is used
        what: str,  # the operation, named in the error message
    ):
        self.lock, self.db, self.what = lock, db, what
        self.pool = db if isinstance(db, Pooled) else None

    def __enter__(self) -> None:
        if self.pool is None:
            self.lock.acquire()
            return
        try:
            self.pool.enter()
        except sa.exc.TimeoutError:
            raise StorageError(
                f"database {self.what} failed: all {self.pool.engine.pool.size()} pooled "
                f"connections stayed busy for {POOL_WAIT} s (raise pool_size in the URL)"
            ) from None
        except sa.exc.SQLAlchemyError as e:
            raise StorageError(f"database {self.what} failed: {db_reason(e)}") from None

    def __exit__(self, exc_type, exc, tb) -> bool:
        conn = self.db.conn
        ended = False
        try:
            if exc_type is None:
                conn.commit()  # end the read transaction: never idle-in-transaction
            else:
                conn.rollback()
            ended = True
        except sa.exc.SQLAlchemyError:
            pass
        finally:
            if self.pool is None:
                self.lock.release()
            else:
                self.pool.leave(ended and not self._lost(conn, exc))
        if isinstance(exc, sa.exc.SQLAlchemyError | self.db.engine.dialect.loaded_dbapi.Error):
            raise StorageError(f"database {self.what} failed: {db_reason(exc)}") from None
        return False

    def _lost(
        self,
        conn: sa.Connection,  # the Guard's connection
        exc: BaseException | None,  # what ended the operation, if anything did
    ) -> bool:
        """The driver's connection broke (or was closed) under a statement run on it directly,
        which SQLAlchemy did not see: the pool must not hand it out again."""
        if not isinstance(exc, self.db.engine.dialect.loaded_dbapi.Error):
            return False
        try:
            driver = conn.connection.driver_connection
        except sa.exc.SQLAlchemyError:
            return True
        return self.db.engine.dialect.is_disconnect(exc, driver, None)


def open_schema(
    db: Database,  # the database
    migrate: Callable[[], T],  # creates or upgrades the tables; returns what the caller keeps
) -> T:
    """`migrate`, retried: processes starting together race to create the same tables (the
    loser sees "already exists"); a retry finds them made and only checks them."""
    for attempt in range(1, SCHEMA_ATTEMPTS):
        try:
            return migrate()
        except sa.exc.SQLAlchemyError:
            db.conn.rollback()
            time.sleep(0.05 * attempt + random.uniform(0, 0.05))  # let the winner finish
    return migrate()  # the last try's error propagates


def ensure_index(
    db: Database,  # the database
    table: sa.Table,  # the indexed table
    name: str,  # the index name
    *columns: str,  # the indexed columns, in order
    unique: bool = False,  # a unique index
) -> None:
    """Create an index when it is missing, on the open connection (the caller commits); the same
    on every database (MySQL has no CREATE INDEX IF NOT EXISTS)."""
    index = next((i for i in table.indexes if i.name == name), None)
    if index is None:
        index = sa.Index(name, *(table.c[c] for c in columns), unique=unique)
    index.create(db.conn, checkfirst=True)


def _meta(db: Database):
    lengths = {"name": 255}
    return dialect_of(db).create_table(
        db, ByokMeta, name="byok_meta", pk="name", not_null=set(), lengths=lengths
    )


def schema_version(
    db: Database,  # the database
    name: str,  # what is versioned: a table name, or a group of tables such as "issuing"
    supported: int,  # the newest version this code understands
) -> int:
    """The recorded schema version of `name` (0 when none), StorageError when it is newer than
    `supported` or unreadable."""
    row = _meta(db).get(f"schema:{name}", as_cls=False, default=None)
    try:
        version = int(row["value"]) if row else 0
    except (TypeError, ValueError):
        raise StorageError(f"unreadable schema version of table {name}") from None
    if version > supported:
        raise StorageError(
            f"table {name} has schema version {version}; this byok understands up to "
            f"{supported}: upgrade byok"
        )
    return version


def record_schema_version(
    db: Database,  # the database
    name: str,  # as given to `schema_version`
    version: int,  # the version now in place
) -> None:
    """Record that `name` is at `version` (committed)."""
    _meta(db).upsert(name=f"schema:{name}", value=str(version))
