"""Statements compiled once to the driver's own SQL and run on the DBAPI connection: the hot
paths skip SQLAlchemy's per-call execution machinery (compiling from its cache, the execution
context, the result proxy and row objects), which costs several times the database's own work on
a one-row read. SQLAlchemy still writes the SQL (one statement text per dialect, with its
paramstyle: qmark on SQLite, pyformat on PostgreSQL, format on MySQL) and fastsql / SQLAlchemy
still own the schema and its migrations.

The caller's `Guard` ends the transaction and maps the driver's errors."""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from .dialects import Dialect

__all__ = ["Compiled", "run"]


class Compiled:
    """One statement compiled for one database: its SQL text and how its parameters are passed."""

    __slots__ = ("defaults", "order", "pick", "sql")

    def __init__(
        self,
        stmt: Any,  # a SQLAlchemy Core statement with named bind parameters
        dialect: sa.Dialect,  # the engine's dialect (its paramstyle shapes the SQL)
        columns: list[str] | None = None,  # an INSERT / UPDATE: the columns bound by their names
    ):
        compiled = stmt.compile(dialect=dialect, column_keys=columns)
        self.sql = str(compiled)
        if "POSTCOMPILE" in self.sql:  # a parameter rendered per call: not compilable once
            raise ValueError("a statement with per-call rendered parameters cannot be compiled")
        # values SQLAlchemy bound itself (a LIMIT's 1, the 1 of `use_count + 1`); a
        # `bindparam(name)` without a value is required of every call
        given = set(columns or ())  # bound by every call
        self.defaults = {
            name: bp.value
            for bp, name in compiled.bind_names.items()
            if not bp.required and name not in given
        }
        self.order: Sequence[str] | None = compiled.positiontup  # positional drivers: the names
        # bench "validate_key defaults ≤ 4× HMAC + write": the values in order in one C call
        # (an itemgetter of one name gives the value, not a tuple: those keep the list)
        self.pick = itemgetter(*self.order) if self.order and len(self.order) > 1 else None

    def params(
        self,
        given: dict,  # the statement's named parameters
    ) -> Any:
        """The parameters as the driver takes them (a tuple in order, or the dict)."""
        values = {**self.defaults, **given} if self.defaults else given
        if self.pick is not None:
            return self.pick(values)
        return tuple([values[n] for n in self.order]) if self.order else values


def run(
    conn: sa.Connection,  # the SQLAlchemy connection the caller's Guard ends the transaction of
    dialect: Dialect,  # the database's behaviour (how a statement is run on its driver)
    stmt: Compiled,  # the compiled statement
    params: dict,  # its named parameters
) -> Any:
    """Run a compiled statement on the connection's DBAPI connection (inside a Guard); the
    cursor."""
    if not conn.in_transaction():
        conn.begin()  # so that the Guard's commit (or rollback) reaches the driver
    return dialect.run(conn.connection.driver_connection, stmt.sql, stmt.params(params))
