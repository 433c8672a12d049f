"""The issued-key tables (fastsql, on the shared plumbing of `byok.core.database`) and the
statements the engine runs, compiled once. No decisions here: the engine makes them.

Tables: `issued_organizations`, `issued_projects`, `issued_products`,
`issued_project_products` (links), `issued_keys` (hash, settings, counters, today's usage and
rate-limit state in one row, so a success is one UPDATE and a key's counters go with it),
`issued_key_usage` (successes per key of earlier UTC days) and `issued_audit`. Their layout version is recorded in `byok_meta` as `schema:issuing`.
"""

import functools
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from fastsql import Database
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..core.database import (
    engine_url,
    from_iso,
    open_database,
    open_schema,
    record_schema_version,
    schema_version,
)
from ..core.types import StorageError, ValidationError
from .errors import InvalidInputError
from .models import APIKey, AuditAction, AuditEvent, KeyMetadata, Organization, Product, Project

__all__ = ["SCHEMA_VERSION", "Tables"]

SCHEMA_VERSION = 1  # layout of the issuing tables this code writes
SCHEMA_NAME = "issuing"  # its entry in byok_meta


@dataclass
class OrgRow:
    id: str  # UUID
    name: str  # unique
    created_at: str  # ISO 8601 UTC


@dataclass
class ProjectRow:
    id: str  # UUID
    org_id: str  # owner
    name: str  # unique per organization
    created_at: str  # ISO 8601 UTC


@dataclass
class ProductRow:
    id: str  # UUID
    org_id: str  # owner
    name: str  # unique per organization
    created_at: str  # ISO 8601 UTC


@dataclass
class LinkRow:
    project_id: str  # a project
    product_id: str  # a product of the same organization
    created_at: str  # ISO 8601 UTC


@dataclass
class KeyRow:
    id: str  # UUID
    org_id: str  # owner
    project_id: str | None  # scope, or None
    product_id: str | None  # scope, or None
    key_prefix: str  # first body characters (in clear)
    key_hash: str  # HMAC-SHA256 of the key under the pepper `pepper` (unique)
    pepper: str  # id of the pepper that made key_hash
    metadata: str  # KeyMetadata as JSON (without the live credits)
    expires_at: str | None  # copy of metadata.expires_at, for status filters
    revoked_at: str | None  # ISO 8601 UTC, or None
    created_at: str  # ISO 8601 UTC
    updated_at: str  # last change of settings
    last_used_at: str | None  # last success
    use_count: int  # successes
    usage_day: str | None  # the UTC day usage_count counts (YYYY-MM-DD)
    usage_count: int  # successes on usage_day (moved to issued_key_usage when the day turns)
    prev_day: str | None  # the day just turned from, and its count: written by the same
    prev_count: int | None  # statement that turned it, so the engine can move them
    remaining: int | None  # live credits, None = unlimited
    refilled_at: str | None  # last credit refill
    rl_state: str | None  # sliding-window state (see limits.py)
    version: int  # bumped by every change a decision depends on (compare-and-swap)


@dataclass
class UsageRow:
    key_id: str  # a key
    day: str  # UTC day, YYYY-MM-DD
    count: int  # successes that day


@dataclass
class AuditRow:
    seq: int  # autoincrement (left out of inserts)
    at: str  # ISO 8601 UTC
    org_id: str  # the key's organization
    key_id: str  # the key
    action: str  # AuditAction
    actor: str | None  # who
    changes: str  # JSON


class Fast:
    """A statement compiled once to the driver's SQL and run on the DBAPI connection directly:
    the hot path skips SQLAlchemy's per-call execution machinery (3-5x cheaper here). The
    caller's Guard still ends the transaction and maps driver errors."""

    def __init__(
        self,
        stmt: Any,  # a SQLAlchemy Core statement with named bind parameters
        dialect: Any,  # the engine's dialect
    ):
        compiled = stmt.compile(dialect=dialect)
        self.sql = str(compiled)
        # literal values SQLAlchemy bound itself (e.g. the 1 of `use_count + 1`)
        self.defaults = {name: bp.value for bp, name in compiled.bind_names.items()}
        self.order = compiled.positiontup  # qmark drivers (sqlite3): parameter names in order

    def params(self, given: dict) -> Any:
        values = {**self.defaults, **given}
        return tuple(values[n] for n in self.order) if self.order else values


def open_db(
    url: Any,  # a database URL given by a caller (see byok.core.database.engine_url)
) -> Database:
    """The database at `url`; InvalidInputError, before a driver is loaded, for a URL byok
    cannot serve."""
    try:
        engine_url(url)
    except ValidationError as e:
        raise InvalidInputError(str(e)) from None
    return open_database(url)


def _insert_for(dialect: str):
    insert = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}.get(dialect)
    if insert is None:
        raise StorageError(f"issued keys need SQLite or PostgreSQL, not {dialect}")
    return insert


class Tables:
    """The issuing tables of one database and the engine's compiled statements."""

    def __init__(
        self,
        db: Database,  # an open fastsql Database (see byok.core.database.open_database)
    ):
        self.db = db
        self.insert = _insert_for(db.engine.dialect.name)
        open_schema(db, self._migrate)
        o, p, r, k = (self.orgs.table, self.projects.table, self.products.table, self.keys.table)
        u = self.usage.table
        b = sa.bindparam
        fast = functools.partial(Fast, dialect=db.engine.dialect)
        self.key_by_hash = fast(sa.select(k).where(k.c.key_hash == b("h")))
        self.key_by_hashes = sa.select(k).where(k.c.key_hash.in_(b("hs", expanding=True)))
        self.key_by_id = sa.select(k).where(k.c.id == b("id"))
        self.org_of = {
            "project": sa.select(p.c.org_id).where(p.c.id == b("id")),
            "product": sa.select(r.c.org_id).where(r.c.id == b("id")),
        }
        self.org_exists = sa.select(o.c.id).where(o.c.id == b("id"))
        links = self.links.table
        self.linked = sa.select(links.c.project_id).where(
            links.c.project_id == b("project"), links.c.product_id == b("product")
        )
        cas = k.update().where(k.c.id == b("kid"), k.c.version == b("v"))
        counters = {
            "rl_state": b("rl"),
            "remaining": b("rem"),
            "refilled_at": b("refilled"),
            "version": b("nv"),
        }
        same_day = k.c.usage_day == b("day")
        counted = {  # one success: every SET sees the old row, so a turned day is kept in prev_*
            "use_count": k.c.use_count + 1,
            "last_used_at": b("now"),
            "usage_count": sa.case((same_day, k.c.usage_count + 1), else_=1),
            "prev_day": sa.case((same_day, k.c.prev_day), else_=k.c.usage_day),
            "prev_count": sa.case((same_day, k.c.prev_count), else_=k.c.usage_count),
            "usage_day": b("day"),
        }
        turned = (k.c.use_count, k.c.usage_count, k.c.prev_day, k.c.prev_count)
        self.spend_tracked = fast(cas.values(**counted, **counters).returning(*turned))
        self.spend_untracked = fast(cas.values(**counters))
        self.count_use = fast(cas.values(**counted).returning(*turned))
        self.lock_row = k.update().where(k.c.id == b("kid")).values(version=k.c.version)
        self.rehash = cas.values(key_hash=b("h"), pepper=b("pepper"), version=b("nv"))
        ins = self.insert(u).values(key_id=b("kid"), day=b("day"), count=b("n"))
        self.add_day = fast(
            ins.on_conflict_do_update(
                index_elements=["key_id", "day"], set_={"count": u.c.count + ins.excluded.count}
            )
        )

    def _migrate(self) -> None:
        db = self.db
        version = schema_version(db, SCHEMA_NAME, SCHEMA_VERSION)
        named = {"id", "org_id", "name", "created_at"}
        self.orgs = db.create(OrgRow, pk="id", name="issued_organizations", not_null=named)
        self.projects = db.create(ProjectRow, pk="id", name="issued_projects", not_null=named)
        self.products = db.create(ProductRow, pk="id", name="issued_products", not_null=named)
        self.links = db.create(
            LinkRow,
            pk=["project_id", "product_id"],
            name="issued_project_products",
            not_null={"project_id", "product_id", "created_at"},
        )
        self.keys = db.create(
            KeyRow,
            pk="id",
            name="issued_keys",
            not_null={"org_id", "key_prefix", "key_hash", "pepper", "metadata", "created_at"}
            | {"updated_at", "use_count", "usage_count", "version"},
        )
        self.usage = db.create(
            UsageRow, pk=["key_id", "day"], name="issued_key_usage", not_null={"count"}
        )
        self.audit = db.create(
            AuditRow, pk="seq", name="issued_audit", not_null={"at", "org_id", "key_id", "action"}
        )
        if version < 1:
            for stmt in (
                "CREATE UNIQUE INDEX IF NOT EXISTS issued_org_name ON issued_organizations (name)",
                "CREATE UNIQUE INDEX IF NOT EXISTS issued_project_name"
                " ON issued_projects (org_id, name)",
                "CREATE UNIQUE INDEX IF NOT EXISTS issued_product_name"
                " ON issued_products (org_id, name)",
                "CREATE UNIQUE INDEX IF NOT EXISTS issued_key_hash ON issued_keys (key_hash)",
                "CREATE INDEX IF NOT EXISTS issued_key_org ON issued_keys (org_id, created_at)",
                "CREATE INDEX IF NOT EXISTS issued_key_project"
                " ON issued_keys (project_id, created_at)",
                "CREATE INDEX IF NOT EXISTS issued_usage_day ON issued_key_usage (day)",
                "CREATE INDEX IF NOT EXISTS issued_audit_org ON issued_audit (org_id, seq)",
                "CREATE INDEX IF NOT EXISTS issued_audit_key ON issued_audit (key_id, seq)",
            ):
                db.q(stmt)
            db.conn.commit()
            record_schema_version(db, SCHEMA_NAME, SCHEMA_VERSION)

    def execute(self, stmt: Any, params: dict | list | None = None) -> Any:
        """Run a statement on the connection (inside the caller's Guard)."""
        return self.db.conn.execute(stmt, params)

    def run(self, fast: Fast, params: dict) -> Any:
        """Run a compiled statement on the DBAPI connection (inside the caller's Guard); the
        cursor."""
        conn = self.db.conn
        if not conn.in_transaction():
            conn.begin()  # so that the Guard's commit reaches the driver
        return conn.connection.driver_connection.execute(fast.sql, fast.params(params))

    def row(self, fast: Fast, params: dict) -> dict | None:
        """The first row of a compiled query, as a dict (None when there is none)."""
        cursor = self.run(fast, params)
        found = cursor.fetchone()
        if found is None:
            return None
        return dict(zip((d[0] for d in cursor.description), found, strict=True))

    def insert_ignore(
        self,
        table: Any,  # a fastsql table
        row: dict,  # the full row
        keys: list[str],  # the unique columns that may conflict
    ) -> bool:
        """INSERT … ON CONFLICT DO NOTHING; True when the row was inserted."""
        t = table.table
        stmt = self.insert(t).values(**row).on_conflict_do_nothing(index_elements=keys)
        return self.execute(stmt.returning(t.c[keys[0]])).first() is not None


def organization(row: Any) -> Organization:
    """A row of issued_organizations as an Organization."""
    return Organization(row["id"], row["name"], from_iso(row["created_at"]))


def project(row: Any) -> Project:
    """A row of issued_projects as a Project."""
    return Project(row["id"], row["name"], row["org_id"], from_iso(row["created_at"]))


def product(row: Any) -> Product:
    """A row of issued_products as a Product."""
    return Product(row["id"], row["name"], row["org_id"], from_iso(row["created_at"]))


def api_key(row: Any) -> APIKey:
    """A row of issued_keys as an APIKey; StorageError when it was damaged outside byok."""
    try:
        return APIKey(
            id=row["id"],
            org_id=row["org_id"],
            project_id=row["project_id"],
            product_id=row["product_id"],
            key_prefix=row["key_prefix"],
            metadata=KeyMetadata.from_json(row["metadata"], row["remaining"]),
            revoked_at=from_iso(row["revoked_at"]),
            created_at=from_iso(row["created_at"]),
            last_used_at=from_iso(row["last_used_at"]),
            use_count=row["use_count"],
        )
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as e:
        raise StorageError(f"malformed issued key row {row['id']!r} ({type(e).__name__})") from None


def audit_event(row: Any) -> AuditEvent:
    """A row of issued_audit as an AuditEvent."""
    return AuditEvent(
        id=row["seq"],
        at=from_iso(row["at"]),
        org_id=row["org_id"],
        key_id=row["key_id"],
        action=AuditAction(row["action"]),
        actor=row["actor"],
        changes=json.loads(row["changes"]),
    )
