"""The key table: its layout and schema versions (upgrades included), rows as records, and the
statements the database backend runs, compiled once per table."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from fastsql import Database
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..database import from_iso, record_schema_version, schema_version
from ..types import APIKey, Endpoint, StorageError, UserAPIKey

__all__ = ["SCHEMA_VERSION", "Statements", "existing", "migrate", "record_of"]

SCHEMA_VERSION = 2  # version of the database layout this code writes (2: labels, endpoints)
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")  # SQL table names we accept
_KEY_COLUMNS = "user_id, provider, encrypted_value, key_version, created_at, expires_at, updated_at"


def migrate(db: Database, name: str) -> Any:
    """Create or upgrade the table; the schema version is recorded in byok_meta."""
    version = schema_version(db, name, SCHEMA_VERSION)
    if version == 1:
        _set_aside_v1(db, name)
    table = db.create(
        UserAPIKey,
        pk=["user_id", "provider", "label"],
        name=name,
        not_null={
            "user_id",
            "provider",
            "label",
            "encrypted_value",
            "key_version",
            "created_at",
            "updated_at",
            "is_default",
        },
    )
    _copy_v1(db, name)  # also finishes an upgrade a crash interrupted
    if version < SCHEMA_VERSION:
        db.q(f'CREATE INDEX IF NOT EXISTS "{name}_version" ON "{name}" (key_version)')
        db.q(f'CREATE INDEX IF NOT EXISTS "{name}_expires" ON "{name}" (expires_at)')
        db.conn.commit()
        record_schema_version(db, name, SCHEMA_VERSION)
    return table


def _set_aside_v1(db: Database, name: str) -> None:
    """Schema 1 -> 2, step 1: rename the version-1 table (primary key user, provider) so the
    version-2 table (primary key user, provider, label) can be created in its place."""
    inspector = sa.inspect(db.engine)
    if name not in inspector.get_table_names():
        return
    if "label" in {c["name"] for c in inspector.get_columns(name)}:
        return  # already version 2 (another process got here first)
    db.q(f'DROP INDEX IF EXISTS "{name}_version"')
    db.q(f'DROP INDEX IF EXISTS "{name}_expires"')
    db.q(f'ALTER TABLE "{name}" RENAME TO "{name}_v1"')
    db.conn.commit()


def _copy_v1(db: Database, name: str) -> None:
    """Schema 1 -> 2, step 2: copy every version-1 row (unlabelled, the provider's default,
    no endpoint) into the new table, then drop the old one. Rerunnable: rows already copied
    are skipped, so an upgrade a crash interrupted completes on the next start."""
    old = f"{name}_v1"
    if old not in sa.inspect(db.engine).get_table_names():
        return
    db.q(
        f'INSERT INTO "{name}" ({_KEY_COLUMNS}, label, endpoint, is_default) '
        f"SELECT {_KEY_COLUMNS}, '', NULL, 1 FROM \"{old}\" WHERE 1 = 1 ON CONFLICT DO NOTHING"
    )
    db.q(f'DROP TABLE "{old}"')
    db.conn.commit()


def existing(db: Database, name: str) -> Any:
    """The table as it is, never created or migrated (tools pointed at a database)."""
    tables = set(sa.inspect(db.engine).get_table_names())
    if name not in tables or "byok_meta" not in tables:
        raise StorageError(
            f"this database has no byok key table {name!r}: is the database URL right?"
        )
    rows = db.q("SELECT value FROM byok_meta WHERE name = :n", n=f"schema:{name}")
    try:
        version = int(rows[0]["value"]) if rows else 0
    except (TypeError, ValueError):
        raise StorageError(f"unreadable schema version of table {name}") from None
    if version != SCHEMA_VERSION:
        raise StorageError(
            f"table {name} has schema version {version}, this byok uses {SCHEMA_VERSION}: "
            "start the app once with this byok (it migrates), or use the matching byok"
        )
    return db.table(name)


def record_of(row: Any) -> APIKey:
    """A row as an APIKey; StorageError when a value was damaged outside byok (kept)."""
    value = row["encrypted_value"]
    try:
        if not isinstance(value, bytes | bytearray | memoryview):  # SQLite: any type fits
            raise TypeError(f"encrypted_value is {type(value).__name__}, not bytes")
        created = from_iso(row["created_at"])
        if created is None:
            raise TypeError("created_at is empty")
        if not isinstance(row["label"], str):
            raise TypeError(f"label is {type(row['label']).__name__}, not text")
        return APIKey(
            provider=row["provider"],
            encrypted_value=bytes(value),
            created_at=created,
            expires_at=from_iso(row["expires_at"]),
            user_id=row["user_id"],
            label=row["label"],
            endpoint=Endpoint.decode(row["endpoint"]),
            is_default=bool(row["is_default"]),
        )
    except (TypeError, ValueError, OverflowError, RecursionError) as e:
        reason = type(e).__name__
        raise StorageError(f"malformed row for provider {row['provider']!r} ({reason})") from None


class Statements:
    """The backend's statements on one key table, built once (4x faster than per call)."""

    def __init__(
        self,
        t: sa.Table,  # the key table
        dialect: str,  # the engine's dialect name
    ):
        mine = (t.c.user_id == sa.bindparam("u"), t.c.provider == sa.bindparam("p"))
        one = (*mine, t.c.label == sa.bindparam("l"))
        self.select_one = sa.select(t).where(*one)
        self.select_default = (  # the flagged default, else the oldest key (pick_default)
            sa.select(t).where(*mine).order_by(t.c.is_default.desc(), t.c.created_at, t.c.label)
        ).limit(1)
        self.flag = (  # exactly one default per (user, provider), in one statement
            t.update()
            .where(*mine)
            .values(is_default=sa.case((t.c.label == sa.bindparam("l"), 1), else_=0))
        )
        self.swap = (  # rotation's compare-and-swap of one sealed value
            t.update()
            .where(*one, t.c.encrypted_value == sa.bindparam("old"))
            .values(encrypted_value=sa.bindparam("new"), key_version=sa.bindparam("v"))
        )
        self.delete_expired = t.delete().where(  # compare-and-delete of one expired row
            *one, t.c.encrypted_value == sa.bindparam("v"), t.c.expires_at == sa.bindparam("e")
        )
        self.upsert, self.upsert_default = _upsert_statements(t, dialect)
        # PostgreSQL: a default save or a set_default first takes a lock of its (table, user,
        # provider) for the transaction, so the next statement's snapshot sees every default
        # committed before it (two moves of the default at once leave exactly one)
        self.default_lock = (
            sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))")
            if dialect == "postgresql"
            else None
        )


def _upsert_statements(
    table: sa.Table,  # the key table
    dialect: str,  # the engine's dialect name
) -> tuple[Any, Any]:
    """(plain, default) INSERT … ON CONFLICT (user_id, provider, label) DO UPDATE, built once
    (fastsql rebuilds it on every call); (None, None) for dialects without it.

    `default` (its values bound as ``b_<column>``) writes a default key and, in the same
    statement, clears the flag of the provider's other rows. PostgreSQL: the upsert in a CTE,
    then an UPDATE of the others, after `Statements.default_lock` (a statement's snapshot is
    taken when it starts: without the lock, two racing saves each miss the other's new
    default). SQLite (one
    writer at a time, the statement reads under the write lock): the other flagged rows are
    inserted again as the statement reads them, with is_default 0, and the conflict updates them
    (nothing deleted is brought back).
    """
    insert = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}.get(dialect)
    if insert is None:
        return None, None
    t, keys = table, ("user_id", "provider", "label")
    names = [c.name for c in t.columns]

    def on_conflict(stmt: Any) -> Any:
        update = {n: stmt.excluded[n] for n in names if n not in keys}
        return stmt.on_conflict_do_update(index_elements=list(keys), set_=update)

    # the row's values bind as b_<column>: column names are reserved inside an UPDATE
    new = sa.select(*(sa.cast(sa.bindparam(f"b_{n}"), t.c[n].type).label(n) for n in names))
    if dialect == "postgresql":
        row = insert(t).from_select(names, new)
        saved = on_conflict(row).returning(t.c.user_id, t.c.provider, t.c.label).cte("saved")
        default = (
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
        return on_conflict(insert(t)), default
    demoted = sa.select(
        *(sa.cast(sa.literal(0), t.c[n].type) if n == "is_default" else t.c[n] for n in names)
    ).where(
        t.c.user_id == sa.bindparam("b_user_id"),
        t.c.provider == sa.bindparam("b_provider"),
        t.c.label != sa.bindparam("b_label"),
        t.c.is_default != 0,
    )
    default = on_conflict(insert(t).from_select(names, sa.union_all(new, demoted)))
    return on_conflict(insert(t)), default
