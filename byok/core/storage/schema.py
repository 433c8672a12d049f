"""The key table: its layout and schema versions (upgrades included), rows as records, and the
statements the database backend runs, compiled once per table."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from fastsql import Database

from ..database import ensure_index, from_iso, record_schema_version, schema_version
from ..dialects import Dialect, dialect_of
from ..types import MAX_USER_ID_LENGTH, APIKey, Endpoint, StorageError, UserAPIKey

__all__ = ["SCHEMA_VERSION", "Statements", "existing", "migrate", "record_of"]

SCHEMA_VERSION = 2  # version of the database layout this code writes (2: labels, endpoints)
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")  # SQL table names we accept
LENGTHS = {  # the longest value of each indexed text column (MySQL needs one)
    "user_id": MAX_USER_ID_LENGTH,
    "provider": 64,  # PROVIDER_PATTERN
    "label": 32,  # LABEL_PATTERN
    "created_at": 40,  # ISO 8601 text (32 characters)
    "expires_at": 40,
    "updated_at": 40,
}
_KEY_COLUMNS = "user_id, provider, encrypted_value, key_version, created_at, expires_at, updated_at"


def migrate(db: Database, name: str) -> Any:
    """Create or upgrade the table; the schema version is recorded in byok_meta."""
    version = schema_version(db, name, SCHEMA_VERSION)
    if version == 1:
        _set_aside_v1(db, name)
    table = dialect_of(db).create_table(
        db,
        UserAPIKey,
        pk=["user_id", "provider", "label"],
        name=name,
        lengths=LENGTHS,
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
        ensure_index(db, table.table, f"{name}_version", "key_version")
        ensure_index(db, table.table, f"{name}_expires", "expires_at")
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
    old = sa.Table(name, sa.MetaData(), autoload_with=db.conn)
    for index in old.indexes:  # their names would clash with version 2's (PostgreSQL)
        if index.name in (f"{name}_version", f"{name}_expires"):
            index.drop(db.conn)
    db.q(f'ALTER TABLE "{name}" RENAME TO "{name}_v1"')
    db.conn.commit()


def _copy_v1(db: Database, name: str) -> None:
    """Schema 1 -> 2, step 2: copy every version-1 row (unlabelled, the provider's default,
    no endpoint) into the new table, then drop the old one. Rerunnable: rows already copied
    are skipped, so an upgrade a crash interrupted completes on the next start."""
    old = f"{name}_v1"
    if old not in sa.inspect(db.engine).get_table_names():
        return
    copied = (  # standard SQL: the same on SQLite, PostgreSQL and MySQL
        f'SELECT 1 FROM "{name}" n WHERE n.user_id = o.user_id AND n.provider = o.provider'
        " AND n.label = ''"
    )
    db.q(
        f'INSERT INTO "{name}" ({_KEY_COLUMNS}, label, endpoint, is_default) '
        f"SELECT {_KEY_COLUMNS}, '', NULL, 1 FROM \"{old}\" o WHERE NOT EXISTS ({copied})"
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
        dialect: Dialect,  # the database's behaviour (byok.core.dialects)
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
        names = [c.name for c in t.columns]
        keys = ("user_id", "provider", "label")
        plain = dialect.insert(t)
        self.upsert = dialect.upsert(
            plain, list(keys), lambda new: {n: new[n] for n in names if n not in keys}
        )
        # a default key and the provider's other flags cleared in one statement (None: the
        # upsert, then `flag`); run inside `dialect.serialised`
        self.upsert_default = dialect.default_upsert(t, names, keys)
