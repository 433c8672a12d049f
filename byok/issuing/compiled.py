"""The compiled statements a key's life needs (`KeyStatements`: issue with its audit row, roll),
on `byok.core.compiled.Compiled` like every hot path; fastsql / SQLAlchemy build the schema and
the rare statements.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ..core.compiled import Compiled

if TYPE_CHECKING:
    from .store import Tables

__all__ = ["KeyStatements"]


class KeyStatements:
    """The compiled statements of issuing and rolling keys (one set per database)."""

    def __init__(
        self,
        tables: Tables,  # the issuing tables of one database
    ):
        k, a, o = tables.keys.table, tables.audit.table, tables.orgs.table
        b = sa.bindparam
        fast = functools.partial(Compiled, dialect=tables.db.engine.dialect)
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
