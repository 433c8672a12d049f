"""The issuing tables' rows: their layouts (the dataclasses fastsql makes the tables of, the
longest value of each indexed text column, the indexes) and how a row reads as a model."""

import json
from dataclasses import dataclass
from typing import Any

from ..core.database import from_iso
from ..core.types import StorageError
from .models import (
    MAX_NAME,
    APIKey,
    AuditAction,
    AuditEvent,
    KeyMetadata,
    Organization,
    Product,
    Project,
)

__all__ = [
    "INDEXES",
    "LENGTHS",
    "api_key",
    "audit_event",
    "organization",
    "product",
    "project",
]


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
    lineage_id: str | None  # the first key of its roll lineage (None: never rolled, its own id)
    rolled_to: str | None  # the successor once rolled: it then spends its lineage head's budget


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


LENGTHS = {  # the longest value of each indexed text column (MySQL needs one)
    "id": 64,  # a UUID (36); imported ids are kept
    "org_id": 64,
    "project_id": 64,
    "product_id": 64,
    "key_id": 64,
    "name": MAX_NAME,
    "key_hash": 128,  # hex HMAC-SHA256
    "created_at": 40,  # ISO 8601 text (32 characters)
    "day": 16,  # YYYY-MM-DD
    "lineage_id": 64,  # a key id
    "rolled_to": 64,  # a key id
}
INDEXES = (  # (table attribute, index name, columns, unique)
    ("orgs", "issued_org_name", ("name",), True),
    ("projects", "issued_project_name", ("org_id", "name"), True),
    ("products", "issued_product_name", ("org_id", "name"), True),
    ("keys", "issued_key_hash", ("key_hash",), True),
    ("keys", "issued_key_org", ("org_id", "created_at"), False),
    ("keys", "issued_key_project", ("project_id", "created_at"), False),
    ("usage", "issued_usage_day", ("day",), False),
    ("audit", "issued_audit_org", ("org_id", "seq"), False),
    ("audit", "issued_audit_key", ("key_id", "seq"), False),
)


def organization(row: Any) -> Organization:
    """A row of issued_organizations as an Organization."""
    return Organization(row["id"], row["name"], from_iso(row["created_at"]))


def project(row: Any) -> Project:
    """A row of issued_projects as a Project."""
    return Project(row["id"], row["name"], row["org_id"], from_iso(row["created_at"]))


def product(row: Any) -> Product:
    """A row of issued_products as a Product."""
    return Product(row["id"], row["name"], row["org_id"], from_iso(row["created_at"]))


def api_key(
    row: Any,  # a row of issued_keys
    metadata: KeyMetadata | None = None,  # its metadata already parsed (keys issued alike)
) -> APIKey:
    """A row of issued_keys as an APIKey; StorageError when it was damaged outside byok."""
    try:
        return APIKey(
            id=row["id"],
            org_id=row["org_id"],
            project_id=row["project_id"],
            product_id=row["product_id"],
            key_prefix=row["key_prefix"],
            metadata=(
                metadata
                if metadata is not None
                else KeyMetadata.from_json(row["metadata"], row["remaining"])
            ),
            revoked_at=from_iso(row["revoked_at"]),
            created_at=from_iso(row["created_at"]),
            last_used_at=from_iso(row["last_used_at"]),
            use_count=row["use_count"],
            rolled_to=row["rolled_to"],
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
