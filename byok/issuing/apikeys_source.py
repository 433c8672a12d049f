"""apikeys-platform 0.2.0's database as byok reads it for the import: its tables (as its
models declare them: facts of its schema), its times and its key metadata in byok's terms.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from fastsql import Database

from ..core.database import engine_url, open_database
from ..core.types import ValidationError
from .errors import InvalidInputError
from .models import KeyMetadata, RateLimit

__all__ = ["SOURCE_TABLES", "key_metadata", "open_source", "utc"]

# apikeys-platform 0.2.0's tables, as its models declare them (facts of its schema)
_src = sa.MetaData()
_ORGS = sa.Table(
    "organizations",
    _src,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)
_PROJECTS, _PRODUCTS = (
    sa.Table(
        name,
        _src,
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("name", sa.String),
        sa.Column("org_id", sa.Uuid),
        sa.Column("created_at", sa.DateTime(timezone=True)),
    )
    for name in ("projects", "products")
)
_LINKS = sa.Table(
    "project_products",
    _src,
    sa.Column("project_id", sa.Uuid, primary_key=True),
    sa.Column("product_id", sa.Uuid, primary_key=True),
)
_KEYS = sa.Table(
    "api_keys",
    _src,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("org_id", sa.Uuid),
    sa.Column("project_id", sa.Uuid),
    sa.Column("product_id", sa.Uuid),
    sa.Column("key_prefix", sa.String),
    sa.Column("key_hash", sa.String),
    sa.Column("metadata", sa.Text),  # JSON: parsed here, so bad JSON skips one key
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
    sa.Column("use_count", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)
SOURCE_TABLES = {"organizations": _ORGS, "projects": _PROJECTS, "products": _PRODUCTS}
SOURCE_TABLES |= {"links": _LINKS, "keys": _KEYS}


def utc(value: Any) -> datetime | None:
    """A source time in UTC (SQLite gives them back without a zone: they were written in UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def key_metadata(raw: Any) -> KeyMetadata:
    """A key's apikeys-platform metadata as byok's (InvalidInputError when byok cannot hold it)."""
    try:
        d = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise InvalidInputError("metadata is not JSON") from None
    if not isinstance(d, dict):
        raise InvalidInputError("metadata is not a JSON object")
    rl, name = d.get("rate_limit"), d.get("name")
    if rl is not None and not isinstance(rl, dict):
        raise InvalidInputError("rate_limit is not an object")
    try:
        expires = utc(d.get("expires_at"))
    except (TypeError, ValueError, AttributeError):
        raise InvalidInputError("expires_at is not a time") from None
    return KeyMetadata(
        name=None if name is None or name == "" else name,
        scopes=d.get("scopes") or [],
        rate_limit=None
        if rl is None
        else RateLimit(rl.get("requests"), rl.get("window", "minute")),
        expires_at=expires,
        custom=d.get("custom") or {},
    )


def open_source(url: Any) -> Database:
    """The apikeys-platform database, read-only (any URL spelling it accepted)."""
    try:
        engine_url(url)
        source = open_database(url, access="read")
    except ValidationError as e:
        raise InvalidInputError(str(e)) from None
    missing = [
        t.name for t in SOURCE_TABLES.values() if not sa.inspect(source.engine).has_table(t.name)
    ]
    if missing:
        source.close()
        raise InvalidInputError(f"not an apikeys-platform database: no table {', '.join(missing)}")
    return source
