"""The key table: its layout and schema versions (upgrades included), rows as records, and the
statements the database backend runs, compiled once per table."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import sqlalchemy as sa
from fastsql import Database

from ..compiled import Compiled
from ..database import ensure_index, from_iso, record_schema_version, schema_version
from ..dialects import Dialect, dialect_of
from ..types import MAX_USER_ID_LENGTH, APIKey, Endpoint, StorageError, UserAPIKey

__all__ = ["SCHEMA_VERSION", "Statements", "StoredRow", "existing", "migrate", "record_of"]

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


class StoredRow(NamedTuple):
    """One row of the key table as the compiled reads return it (the columns in this order)."""

    user_id: str  # owner
    provider: str  # provider name
    label: str  # "" = unlabelled
    encrypted_value: Any  # the sealed key (bytes; a damaged row may hold anything)
    key_version: int  # keyring version that sealed it
    created_at: Any  # ISO 8601 text
    expires_at: Any  # ISO 8601 text, None = never
    updated_at: Any  # ISO 8601 text
    endpoint: Any  # canonical JSON, None = none
    is_default: int  # 1 for the provider's flagged default


def record_of(row: StoredRow) -> APIKey:
    """A row as an APIKey; StorageError when a value was damaged outside byok (kept)."""
    value = row.encrypted_value
    try:
        if value.__class__ is not bytes:  # SQLite: any type fits
            if not isinstance(value, bytes | bytearray | memoryview):
                raise TypeError(f"encrypted_value is {type(value).__name__}, not bytes")
            value = bytes(value)
        created = from_iso(row.created_at)
        if created is None:
            raise TypeError("created_at is empty")
        if row.label.__class__ is not str:
            raise TypeError(f"label is {type(row.label).__name__}, not text")
        return APIKey(
            row.provider,
            value,
            created,
            from_iso(row.expires_at),
            row.user_id,
            row.label,
            Endpoint.decode(row.endpoint),
            bool(row.is_default),
        )
    except (TypeError, ValueError, OverflowError, RecursionError) as e:
        reason = type(e).__name__
        raise StorageError(f"malformed row for provider {row.provider!r} ({reason})") from None


class Statements:
    """The backend's statements on one key table, compiled once to the driver's SQL and run on
    its DBAPI connection (`byok.core.compiled`). Bench rows "vault SQLite get_key" and "vault
    SQLite set_key + get_key": SQLAlchemy's generic execute path was 4x the read itself."""

    def __init__(
        self,
        t: sa.Table,  # the key table
        dialect: Dialect,  # the database's behaviour (byok.core.dialects)
        sql_dialect: sa.Dialect,  # the engine's SQLAlchemy dialect: the SQL's spelling
    ):
        def fast(stmt: Any) -> Compiled:
            return Compiled(stmt, sql_dialect)

        b = sa.bindparam
        row = sa.select(*(t.c[n] for n in StoredRow._fields))  # columns in StoredRow's order
        mine = (t.c.user_id == b("u"), t.c.provider == b("p"))
        one = (*mine, t.c.label == b("l"))
        expired = (t.c.expires_at.is_not(None), t.c.expires_at <= b("now"))
        self.select_one = fast(row.where(*one))
        self.select_default = fast(  # the flagged default, else the oldest key (pick_default)
            row.where(*mine).order_by(t.c.is_default.desc(), t.c.created_at, t.c.label).limit(1)
        )
        self.select_owner = fast(  # one owner's keys, sorted
            row.where(t.c.user_id == b("u")).order_by(t.c.provider, t.c.label)
        )
        self.select_expired = fast(row.where(*expired))  # every owner's expired rows
        self.select_expired_of = fast(row.where(*expired, t.c.user_id == b("u")))
        self.select_stale = fast(  # rotation's next batch (keyset cursor after (u, p, l))
            row.where(
                t.c.key_version != b("v"),
                sa.or_(
                    t.c.user_id > b("u"),
                    sa.and_(
                        t.c.user_id == b("u"),
                        sa.or_(
                            t.c.provider > b("p"),
                            sa.and_(t.c.provider == b("p"), t.c.label > b("l")),
                        ),
                    ),
                ),
            )
            .order_by(t.c.user_id, t.c.provider, t.c.label)
            .limit(b("n", type_=sa.Integer))
        )
        self.flag = fast(  # exactly one default per (user, provider), in one statement
            t.update().where(*mine).values(is_default=sa.case((t.c.label == b("l"), 1), else_=0))
        )
        self.swap = fast(  # rotation's compare-and-swap of one sealed value
            t.update()
            .where(*one, t.c.encrypted_value == b("old"))
            .values(encrypted_value=b("new"), key_version=b("v"))
        )
        self.delete_expired = fast(  # compare-and-delete of one expired row
            t.delete().where(*one, t.c.encrypted_value == b("v"), t.c.expires_at == b("e"))
        )
        self.delete_one = fast(t.delete().where(*one))
        self.delete_owner = fast(t.delete().where(t.c.user_id == b("u")))
        names = [c.name for c in t.columns]
        keys = ("user_id", "provider", "label")
        plain = dialect.insert(t)
        upsert = dialect.upsert(
            plain, list(keys), lambda new: {n: new[n] for n in names if n not in keys}
        )
        self.upsert = fast(upsert)
        # a default key and the provider's other flags cleared in one statement (None: the
        # upsert, then `flag`); run inside `dialect.serialised`. Its parameters are b_<column>
        default = dialect.default_upsert(t, names, keys)
        self.upsert_default = None if default is None else fast(default)
