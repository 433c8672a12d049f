"""Statements compiled once to the driver's SQL and run on the DBAPI connection (`Fast`), and
the ones a key's life needs (`KeyStatements`: issue with its audit row, roll). fastsql /
SQLAlchemy build the schema and the rare statements; the hot paths skip their per-call
execution machinery.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from .store import Tables

__all__ = ["Fast", "KeyStatements"]


class Fast:
    """A statement compiled once to the driver's SQL and run on the DBAPI connection directly:
    the hot path skips SQLAlchemy's per-call execution machinery (3-5x cheaper here). The
    caller's Guard still ends the transaction and maps driver errors."""

    def __init__(
        self,
        stmt: Any,  # a SQLAlchemy Core statement with named bind parameters
        dialect: Any,  # the engine's dialect
        columns: list[str] | None = None,  # an INSERT / UPDATE: the columns bound by their names
    ):
        compiled = stmt.compile(dialect=dialect, column_keys=columns)
        self.sql = str(compiled)
        # literal values SQLAlchemy bound itself (e.g. the 1 of `use_count + 1`)
        self.defaults = {name: bp.value for bp, name in compiled.bind_names.items()}
        for name in columns or ():
            self.defaults.pop(name, None)  # given by every call
        self.order = compiled.positiontup  # qmark drivers (sqlite3): parameter names in order

    def params(self, given: dict) -> Any:
        """The parameters of one execution in the driver's shape (a tuple or a dict)."""
        values = {**self.defaults, **given} if self.defaults else given
        return tuple(values[n] for n in self.order) if self.order else values


class KeyStatements:
    """The compiled statements of issuing and rolling keys (one set per database)."""

    def __init__(
        self,
        tables: Tables,  # the issuing tables of one database
    ):
        k, a, o = tables.keys.table, tables.audit.table, tables.orgs.table
        b = sa.bindparam
        fast = functools.partial(Fast, dialect=tables.db.engine.dialect)
        key_columns = [c.name for c in k.columns]
        audit_columns = [c.name for c in a.columns if c.name != "seq"]  # seq: autoincrement
        # bench "create_key (≤ 10× HMAC + 2 writes)": both INSERTs compiled once
        self.insert_key = fast(k.insert(), columns=key_columns)
        self.insert_audit = fast(a.insert(), columns=audit_columns)
        self.org_by_id = fast(sa.select(o).where(o.c.id == b("id")))
        retired = ("metadata", "expires_at", "remaining", "lineage_id", "rolled_to", "updated_at")
        self.retire = fast(  # the roll's compare-and-swap on the version read under the lock
            k.update()
            .where(k.c.id == b("kid"), k.c.version == b("v"))
            .values({**{c: b(f"new_{c}") for c in retired}, "version": b("nv")})
        )
