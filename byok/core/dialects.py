"""What differs between the databases byok runs on (SQLite, PostgreSQL, MySQL / MariaDB), one
object per database: how it is opened, its column types, its upserts, its locks, and which of
its errors mean "try the transaction again". Everything else byok writes is SQLAlchemy Core or
fastsql and runs unchanged on all three.

`dialect_of(db)` picks the object for an open database; callers never switch on its name.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import fields
from typing import Any, ClassVar

import sqlalchemy as sa
from fastcore.xtras import flexiclass
from fastsql import Database
from fastsql.core import DBTable
from pymysql.constants import CLIENT
from pymysql.converters import escape_item
from sqlalchemy.dialects import mysql, postgresql, sqlite

from .onloop import LoopConnections
from .onloop_mysql import MySQLDriver
from .onloop_pg import PostgresDriver
from .types import StorageError

__all__ = ["DIALECTS", "Dialect", "MySQL", "PostgreSQL", "dialect_of"]

Update = Callable[[Any], dict]  # given the row an insert proposed, the columns a conflict sets


class Dialect:
    """The behaviour byok needs that SQL does not spell the same everywhere (SQLite's here)."""

    name: ClassVar[str] = "sqlite"
    update_returning: ClassVar[bool] = True  # UPDATE … RETURNING exists
    update_from_arrays: ClassVar[bool] = False  # UPDATE … FROM unnest(arrays): many rows' values
    multi_statements: ClassVar[bool] = False  # several statements in one query (one round trip)
    insert = staticmethod(sqlite.insert)  # the dialect's INSERT with ON CONFLICT

    def engine_kws(
        self,
        url: sa.URL,  # the URL opened (from engine_url)
        read_only: bool,  # open the database read-only
    ) -> dict:
        """Keyword arguments of `create_engine` (fastsql's engine_kws). SQLite: a busy timeout;
        an in-memory database is one connection shared by every thread (each new connection
        would otherwise be a new, empty database)."""
        connect_args: dict[str, Any] = {"timeout": 10}
        if (url.database or "") in ("", ":memory:") or url.query.get("mode") == "memory":
            connect_args["check_same_thread"] = False  # callers serialise on their own lock
            return {"connect_args": connect_args, "poolclass": sa.pool.StaticPool}
        return {"connect_args": connect_args}

    def string(
        self,
        length: int | None,  # the longest value of an indexed column; None: unbounded text
    ) -> sa.types.TypeEngine:
        """A text column's type (case- and space-exact comparisons everywhere)."""
        return sa.String(length)

    def create_table(
        self,
        db: Database,  # the database
        cls: type,  # a dataclass: one column per field
        *,
        name: str,  # the table name
        pk: str | list[str],  # the primary-key column(s)
        not_null: set[str],  # columns that may not be NULL
        lengths: dict[str, int],  # longest value of each indexed text column
    ) -> DBTable:
        """The table of `cls`, created when missing (fastsql's types on SQLite / PostgreSQL)."""
        return db.create(cls, pk=pk, name=name, not_null=not_null)

    def upsert(
        self,
        stmt: Any,  # an INSERT of this dialect (`self.insert(table)…`)
        keys: list[str],  # the unique columns that may conflict
        update: Update,  # the columns to set on a conflict, from the proposed row
    ) -> Any:
        """INSERT … ON CONFLICT (keys) DO UPDATE."""
        return stmt.on_conflict_do_update(index_elements=keys, set_=update(stmt.excluded))

    def insert_ignore(
        self,
        conn: sa.Connection,  # the connection (inside the caller's transaction)
        table: sa.Table,  # the table
        row: dict,  # the full row
        keys: list[str],  # the unique columns that may conflict
    ) -> bool:
        """INSERT … ON CONFLICT DO NOTHING; True when the row was inserted."""
        stmt = self.insert(table).values(**row).on_conflict_do_nothing(index_elements=keys)
        return conn.execute(stmt.returning(table.c[keys[0]])).first() is not None

    def run(
        self,
        driver_conn: Any,  # the DBAPI connection
        sql: str,  # SQL compiled for this driver
        params: Any,  # its parameters
    ) -> Any:
        """Execute on the DBAPI connection; the cursor."""
        return driver_conn.execute(sql, params)

    def run_many(
        self,
        driver_conn: Any,  # the DBAPI connection
        sql: str,  # one statement compiled for this driver
        params: list,  # its parameters, one entry per execution
    ) -> None:
        """Execute once per entry in one driver call (sqlite3 loops in C, psycopg pipelines,
        PyMySQL sends one multi-row INSERT)."""
        cursor = driver_conn.cursor()
        try:
            cursor.executemany(sql, params)
        finally:
            cursor.close()

    def run_committed(
        self,
        driver_conn: Any,  # the DBAPI connection, outside any transaction
        sql: str,  # one statement compiled for this driver: the whole transaction
        params: Any,  # its parameters
    ) -> int:
        """Execute and commit; the statement's rowcount."""
        try:
            count = self.run(driver_conn, sql, params).rowcount
            driver_conn.commit()
        except BaseException:
            driver_conn.rollback()
            raise
        return count

    def run_alone(
        self,
        driver_conn: Any,  # the DBAPI connection, outside any transaction
        sql: str,  # one statement with RETURNING, compiled for this driver: the whole transaction
        params: Any,  # its parameters
    ) -> Any:
        """Execute and commit one statement that is a whole transaction; its first returned row
        (None when it matched none)."""
        rows = self.run_alone_rows(driver_conn, sql, params)
        return rows[0] if rows else None

    def run_alone_rows(
        self,
        driver_conn: Any,  # the DBAPI connection, outside any transaction
        sql: str,  # one statement with RETURNING, compiled for this driver: the whole transaction
        params: Any,  # its parameters
    ) -> list:
        """Execute and commit one statement that is a whole transaction; every row it returned."""
        try:
            rows = self.run(driver_conn, sql, params).fetchall()  # all: SQLite ends the statement
            driver_conn.commit()
        except BaseException:
            driver_conn.rollback()
            raise
        return rows

    def on_loop(
        self,
        connect_kws: dict,  # the driver's connect arguments (the URL's and the engine's)
    ) -> LoopConnections | None:
        """The connections that run a pooled database's hot statements on the event loops,
        None where they run in its pool threads."""
        return None

    def retryable(
        self,
        error: BaseException,  # a database error
    ) -> bool:
        """True when the transaction was aborted by a race (deadlock, serialization) and may
        simply run again."""
        return False

    @contextlib.contextmanager
    def serialised(
        self,
        conn: sa.Connection,  # the connection (inside the caller's transaction)
        name: str,  # what is locked, e.g. "byok:table:provider:user"
    ) -> Iterator[None]:
        """Hold a lock of `name` around statements that read and move a default, to the end of
        their transaction (which MySQL commits here, before it lets the lock go); SQLite: one
        writer at a time already."""
        yield

    def default_upsert(
        self,
        t: sa.Table,  # the key table
        names: list[str],  # its columns
        keys: tuple[str, ...],  # its primary key
    ) -> Any:
        """One statement that writes a default key (values bound as ``b_<column>``) and clears
        the flag of the provider's other rows; None where it takes two statements."""
        # SQLite (one writer at a time, the statement reads under the write lock): the other
        # flagged rows are inserted again as read, with is_default 0, and the conflict updates
        # them (nothing deleted is brought back)
        demoted = sa.select(
            *(sa.cast(sa.literal(0), t.c[n].type) if n == "is_default" else t.c[n] for n in names)
        ).where(
            t.c.user_id == sa.bindparam("b_user_id"),
            t.c.provider == sa.bindparam("b_provider"),
            t.c.label != sa.bindparam("b_label"),
            t.c.is_default != 0,
        )
        rows = sa.union_all(_bound_row(t, names), demoted)
        return self.upsert(
            self.insert(t).from_select(names, rows), list(keys), _others(names, keys)
        )


class PostgreSQL(Dialect):
    """PostgreSQL through psycopg 3."""

    name = "postgresql"
    update_from_arrays = True
    insert = staticmethod(postgresql.insert)
    RETRIED = frozenset({"40P01", "40001"})  # SQLSTATE: deadlock detected, serialization failure

    def engine_kws(self, url: sa.URL, read_only: bool) -> dict:
        read = {"connect_args": {"options": "-c default_transaction_read_only=on"}}
        return {"pool_pre_ping": True, **(read if read_only else {})}

    def retryable(self, error: BaseException) -> bool:
        return getattr(getattr(error, "orig", error), "sqlstate", None) in self.RETRIED

    def run_alone_rows(self, driver_conn: Any, sql: str, params: Any) -> list:
        # bench "HTTP wrk, PostgreSQL, counted validate_key": in autocommit the statement is its
        # own transaction, one round trip (not BEGIN, the statement, COMMIT); its row locks still
        # order concurrent writers of the rows, in any process
        driver_conn.autocommit = True
        try:
            rows = self.run(driver_conn, sql, params).fetchall()
        finally:
            try:
                driver_conn.autocommit = False
            except driver_conn.Error:
                driver_conn.close()  # never back in the pool in autocommit: the Guard drops it
                raise
        return rows

    def on_loop(self, connect_kws: dict) -> LoopConnections:
        return LoopConnections(PostgresDriver(connect_kws))

    @contextlib.contextmanager
    def serialised(self, conn: sa.Connection, name: str) -> Iterator[None]:
        # a statement's snapshot is taken when it starts: without this lock (held to the end of
        # the transaction) two racing saves each miss the other's new default
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": name})
        yield

    def default_upsert(self, t: sa.Table, names: list[str], keys: tuple[str, ...]) -> Any:
        # the upsert in a CTE, then an UPDATE of the others, after `serialised`
        row = self.insert(t).from_select(names, _bound_row(t, names))
        saved = self.upsert(row, list(keys), _others(names, keys))
        saved = saved.returning(t.c.user_id, t.c.provider, t.c.label).cte("saved")
        return (
            t.update()
            .where(
                t.c.user_id == saved.c.user_id,
                t.c.provider == saved.c.provider,
                t.c.label != saved.c.label,
                t.c.is_default != 0,
            )
            .values(is_default=sa.literal_column("0"))
            .add_cte(saved)
        )


class MySQL(Dialect):
    """MySQL 8 and MariaDB 10.5+ through PyMySQL: InnoDB, utf8mb4, READ COMMITTED (as
    PostgreSQL: no gap locks, each statement sees what was committed before it), strict mode
    (a value too long is an error, never cut), exact binary comparisons of text."""

    name = "mysql"
    update_returning = False  # neither has UPDATE … RETURNING
    multi_statements = True  # CLIENT.MULTI_STATEMENTS (engine_kws)
    insert = staticmethod(mysql.insert)
    RETRIED = frozenset({1213, 1205})  # deadlock found; lock wait timeout (statement rolled back)
    # strict (too long is an error, never cut); ANSI_QUOTES: "name" quotes an identifier, as in
    # standard SQL (SQLite, PostgreSQL)
    SQL_MODE = "STRICT_ALL_TABLES,ANSI_QUOTES,NO_ENGINE_SUBSTITUTION,ERROR_FOR_DIVISION_BY_ZERO"
    LOCK_WAIT = 30  # seconds a GET_LOCK waits before the save fails

    def __init__(self, mariadb: bool = True):  # the server is MariaDB (else MySQL)
        # no-pad binary: "a" and "a " and "A" are three values, as on SQLite and PostgreSQL
        self.collation = "utf8mb4_nopad_bin" if mariadb else "utf8mb4_0900_bin"

    def engine_kws(self, url: sa.URL, read_only: bool) -> dict:
        # FOUND_ROWS (as SQLAlchemy sets it): rowcount counts the rows matched, so a
        # compare-and-swap that writes equal values still reports its match
        flags = CLIENT.FOUND_ROWS | CLIENT.MULTI_STATEMENTS  # see `run_committed`
        connect: dict[str, Any] = {"sql_mode": self.SQL_MODE, "client_flag": flags}
        if read_only:
            connect["init_command"] = "SET SESSION TRANSACTION READ ONLY"
        return {
            "pool_pre_ping": True,
            "pool_recycle": 3600,  # before the server's wait_timeout drops an idle connection
            "isolation_level": "READ COMMITTED",
            "connect_args": connect,
        }

    def string(self, length: int | None) -> sa.types.TypeEngine:
        if length is None:
            return mysql.LONGTEXT(charset="utf8mb4", collation=self.collation)
        return mysql.VARCHAR(length, charset="utf8mb4", collation=self.collation)

    def create_table(
        self,
        db: Database,
        cls: type,
        *,
        name: str,
        pk: str | list[str],
        not_null: set[str],
        lengths: dict[str, int],
    ) -> DBTable:
        # fastsql's VARCHAR has no length (MySQL needs one): the columns are typed here
        keys = [pk] if isinstance(pk, str) else pk
        flexiclass(cls)
        kinds = {int: sa.BigInteger, bytes: mysql.LONGBLOB, bool: sa.Boolean, float: sa.Float}
        columns = []
        for f in fields(cls):
            base = next((t for t in (int, bytes, bool, float) if t in _types(f.type)), str)
            kind = self.string(lengths.get(f.name)) if base is str else kinds[base]()
            columns.append(
                sa.Column(f.name, kind, primary_key=f.name in keys, nullable=f.name not in not_null)
            )
        options = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
        table = sa.Table(name, db.meta, *columns, extend_existing=True, **options)
        found = DBTable(table, db, cls)  # creates it when missing
        table.cls = cls
        db._tables[name] = found  # as fastsql's own create does
        return found

    def upsert(self, stmt: Any, keys: list[str], update: Update) -> Any:
        return stmt.on_duplicate_key_update(**update(stmt.inserted))

    def insert_ignore(self, conn: sa.Connection, table: sa.Table, row: dict, keys: list[str]):
        # a duplicate key aborts the statement only, not the transaction; any other error stands
        try:
            with conn.begin_nested():
                conn.execute(table.insert().values(**row))
        except sa.exc.IntegrityError as e:
            if getattr(e.orig, "args", (None,))[0] != 1062:  # ER_DUP_ENTRY
                raise
            return False
        return True

    def run(self, driver_conn: Any, sql: str, params: Any) -> Any:
        cursor = driver_conn.cursor()
        cursor.execute(sql, params)
        return cursor

    def run_committed(self, driver_conn: Any, sql: str, params: Any) -> int:
        # the statement and its COMMIT in one round trip where the connection allows several
        # statements per query (byok's own SQL only, every value bound); a database the app
        # opened itself may not: then the base's two
        if not driver_conn.client_flag & CLIENT.MULTI_STATEMENTS:
            return super().run_committed(driver_conn, sql, params)
        cursor = driver_conn.cursor()
        try:
            cursor.execute(sql + ";COMMIT", params)
            count = cursor.rowcount
            while cursor.nextset():  # the COMMIT's answer, already sent
                pass
        except BaseException:
            driver_conn.rollback()
            raise
        return count

    def inline(
        self,
        sql: str,  # a statement compiled for PyMySQL (%(name)s placeholders)
        params: dict,  # its values by name
    ) -> str:
        """The statement with its values written in, escaped as PyMySQL escapes them (the
        session's sql_mode, byok's, keeps backslash escapes): several such statements go in one
        query."""
        return sql % {name: escape_item(value, "utf8mb4") for name, value in params.items()}

    def on_loop(self, connect_kws: dict) -> LoopConnections | None:
        if connect_kws.get("ssl"):  # (PyMySQL's TLS socket is no plain one: see onloop_mysql)
            return None
        return LoopConnections(MySQLDriver(connect_kws))

    def retryable(self, error: BaseException) -> bool:
        args = getattr(getattr(error, "orig", error), "args", ())
        return bool(args) and args[0] in self.RETRIED

    @contextlib.contextmanager
    def serialised(self, conn: sa.Connection, name: str) -> Iterator[None]:
        # a named lock (at most 64 characters), let go only once the statements are committed:
        # the next holder's statements then read every row this save wrote (a row inserted and
        # not yet committed may be passed over by a READ COMMITTED update)
        lock = "byok:" + hashlib.sha256(name.encode()).hexdigest()[:40]
        got = conn.execute(sa.text("SELECT GET_LOCK(:k, :t)"), {"k": lock, "t": self.LOCK_WAIT})
        if got.scalar() != 1:
            raise StorageError("timed out waiting for another save of the same key")
        try:
            yield
            conn.commit()
        finally:
            conn.execute(sa.text("SELECT RELEASE_LOCK(:k)"), {"k": lock})

    def default_upsert(self, t: sa.Table, names: list[str], keys: tuple[str, ...]) -> Any:
        return None  # the upsert, then the flag update, inside `serialised`


def _types(annotation: Any) -> tuple:
    """The types an annotation allows (`str | None` -> (str, NoneType))."""
    return getattr(annotation, "__args__", (annotation,))


def _bound_row(t: sa.Table, names: list[str]) -> Any:
    """SELECT of one row from bind parameters ``b_<column>`` (column names are reserved inside an
    UPDATE), typed as the columns."""
    return sa.select(*(sa.cast(sa.bindparam(f"b_{n}"), t.c[n].type).label(n) for n in names))


def _others(names: list[str], keys: tuple[str, ...]) -> Update:
    """On a conflict of the key, set every other column to the proposed row's."""
    return lambda new: {n: new[n] for n in names if n not in keys}


def dialect_of(
    db: Database | sa.Engine,  # an open fastsql Database, or an engine
) -> Dialect:
    """The behaviour of this database's dialect; StorageError for one byok does not run on."""
    engine = db.engine if isinstance(db, Database) else db
    name = engine.dialect.name
    if name in ("mysql", "mariadb") and not getattr(engine.dialect, "is_mariadb", True):
        return MYSQL
    found = DIALECTS.get(name)
    if found is None:
        raise StorageError(f"byok runs on SQLite, PostgreSQL or MySQL / MariaDB, not {name}")
    return found


MYSQL = MySQL(mariadb=False)
DIALECTS: dict[str, Dialect] = {  # SQLAlchemy's backend name -> its behaviour (MySQL: MariaDB's
    "sqlite": Dialect(),  # until a connection tells which server it is)
    "postgresql": PostgreSQL(),
    "mysql": MySQL(mariadb=True),
    "mariadb": MySQL(mariadb=True),
}
