"""A key's life: create, read, list, update, revoke, roll, delete, with an audit event for every
change (who, when, what; never key material) in the same transaction, and usage per day.
The base of `KeyIssuer`, above `Tenancy`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..core.bounds import EARLIEST, bounded_int, later
from ..core.database import to_iso
from ..core.types import StorageError
from . import lineage, store
from .cache import VerifiedCache
from .errors import InsufficientScopeError, InvalidInputError
from .keys import KeyFormat, Peppers
from .models import (
    MAX_NAME,
    APIKey,
    APIKeyCreated,
    AuditAction,
    AuditEvent,
    KeyMetadata,
    KeyStatus,
    UsageDay,
)
from .rollout import Rollout
from .tenancy import Tenancy

__all__ = ["Lifecycle"]

MAX_USAGE_DAYS = 400  # longest usage history kept and returned, in days


def _actor(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_NAME or not value.isprintable():
        raise InvalidInputError(f"actor must be 1-{MAX_NAME} printable characters or None")
    return value


def _settings(meta: KeyMetadata) -> dict[str, Any]:
    """The audited view of metadata (JSON-safe; `custom` is the app's own and kept out)."""
    rl = meta.rate_limit
    return {
        "name": meta.name,
        "scopes": meta.scopes,
        "rate_limit": None if rl is None else f"{rl.requests}/{rl.window.value}",
        "expires_at": None if meta.expires_at is None else meta.expires_at.isoformat(),
        "remaining": meta.remaining,
        "refill": None if meta.refill is None else f"{meta.refill.amount}/{meta.refill.interval}",
        "custom": sorted(meta.custom),
    }


def _diff(before: KeyMetadata, after: KeyMetadata) -> dict[str, list]:
    old, new = _settings(before), _settings(after)
    return {k: [old[k], new[k]] for k in new if old[k] != new[k]}


class Lifecycle(Tenancy):
    """Key records: everything but validation (see KeyIssuer)."""

    format: KeyFormat  # set by KeyIssuer
    peppers: Peppers
    rollout: Rollout
    cache: VerifiedCache

    def _audit(
        self, org_id: str, key_id: str, action: AuditAction, actor: str | None, changes: dict
    ) -> None:
        """Record one event (inside the caller's guard: it commits with the change)."""
        row = {
            "at": to_iso(self.clock()),
            "org_id": org_id,
            "key_id": key_id,
            "action": action.value,
            "actor": actor,
            "changes": json.dumps(changes),
        }
        self.tables.execute(self.tables.audit.table.insert().values(**row))

    def _scope(self, org_id: Any, project_id: Any, product_id: Any) -> tuple[str, Any, Any]:
        """The canonical (org, project, product) of a new key; refused across organizations."""
        org = self.use_organization(org_id).id
        project = product = None
        if project_id is not None:
            project = self._get_project(project_id).id
            if self.owner("project", project) != org:
                raise InsufficientScopeError("the project belongs to another organization")
        if product_id is not None:
            product = self._get_product(product_id).id
            if self.owner("product", product) != org:
                raise InsufficientScopeError("the product belongs to another organization")
        if project and product and not self.linked(project, product):
            raise InsufficientScopeError(
                "the product is not linked to the project: call add_product_to_project first"
            )
        return org, project, product

    def _insert_key(
        self, org: str, project: Any, product: Any, meta: KeyMetadata, now: datetime
    ) -> tuple[dict, str]:
        """A new key's row (not yet written) and its plaintext."""
        plaintext = self.format.generate()
        key_hash, pepper = self.rollout.issue(plaintext)
        at = to_iso(now)
        row = {
            "id": str(uuid.uuid4()),
            "org_id": org,
            "project_id": project,
            "product_id": product,
            "key_prefix": self.format.shown(plaintext),
            "key_hash": key_hash,
            "pepper": pepper,
            "metadata": meta.to_json(),
            "expires_at": to_iso(meta.expires_at),
            "revoked_at": None,
            "created_at": at,
            "updated_at": at,
            "last_used_at": None,
            "use_count": 0,
            "usage_day": None,
            "usage_count": 0,
            "prev_day": None,
            "prev_count": None,
            "remaining": meta.remaining,
            "refilled_at": at if meta.refill else None,
            "rl_state": None,
            "version": 0,
            "lineage_id": None,
            "rolled_to": None,
        }
        return row, plaintext

    def create_key(
        self,
        org_id: str,  # owning organization
        *,
        project_id: str | None = None,  # scope to a project of that organization
        product_id: str | None = None,  # scope to a product (linked to the project, if both)
        metadata: KeyMetadata | None = None,  # name, scopes, limits, expiry, credits, custom
        actor: str | None = None,  # who issues it, for the audit log
    ) -> APIKeyCreated:
        """Issue a key; its plaintext is in the result only, never stored."""
        meta = KeyMetadata() if metadata is None else metadata
        if not isinstance(meta, KeyMetadata):
            raise InvalidInputError("metadata must be a KeyMetadata")
        actor = _actor(actor)
        org, project, product = self._scope(org_id, project_id, product_id)
        row, plaintext = self._insert_key(org, project, product, meta, self.clock())
        with self._guard("create key"):
            self.tables.execute(self.tables.keys.table.insert().values(**row))
            self._audit(org, row["id"], AuditAction.create, actor, {"settings": _settings(meta)})
        return APIKeyCreated(store.api_key(row), plaintext)

    def _key_row(self, key_id: Any) -> dict:
        return self._row(self.tables.keys, key_id, "Key")

    def get_key(
        self,
        key_id: str,  # a key id
    ) -> APIKey:
        """The key's record (NotFoundError when there is none)."""
        return store.api_key(self._key_row(key_id))

    def _change(
        self, key_id: Any, action: AuditAction, actor: Any, values: Any, changes: Any
    ) -> APIKey:
        """Apply `values(row)` to a key, bump its version, audit `changes(row)`, drop the cache;
        the row is locked and read in the same transaction, so `row` is the latest."""
        actor = _actor(actor)
        kid, k = self._id(key_id, "Key"), self.tables.keys.table
        with self._guard(f"{action.value} key"):
            row = self.tables.locked_key(kid)
            now = to_iso(self.clock())
            stmt = k.update().where(k.c.id == kid)
            self.tables.execute(stmt.values(**values(row), version=k.c.version + 1, updated_at=now))
            self._audit(row["org_id"], kid, action, actor, changes(row))
            fresh = self.tables.execute(self.tables.key_by_id, {"id": kid}).mappings().first()
        self.cache.drop(kid)
        return store.api_key(fresh)

    def update_key(
        self,
        key_id: str,  # the key
        *,
        metadata: KeyMetadata,  # its new metadata (replaces the old; remaining sets the credits)
        actor: str | None = None,  # who, for the audit log
    ) -> APIKey:
        """Change a key's metadata in place (scopes, limits, expiry, credits, name, custom); a
        rolled key's expiry (its grace period's end) may come sooner, never later."""
        if not isinstance(metadata, KeyMetadata):
            raise InvalidInputError("metadata must be a KeyMetadata")

        def values(row: dict) -> dict:
            refilled = (row["refilled_at"] or to_iso(self.clock())) if metadata.refill else None
            meta = lineage.updated(metadata, row)
            return {
                "metadata": meta.to_json(),
                "expires_at": to_iso(meta.expires_at),
                "remaining": metadata.remaining,
                "refilled_at": refilled,
            }

        def changes(row: dict) -> dict:
            return _diff(store.api_key(row).metadata, lineage.updated(metadata, row))

        return self._change(key_id, AuditAction.update, actor, values, changes)

    def revoke_key(
        self,
        key_id: str,  # the key
        *,
        actor: str | None = None,  # who, for the audit log
    ) -> APIKey:
        """Disable a key for good (kept for the record); revoking twice keeps the first date."""
        now = to_iso(self.clock())
        return self._change(
            key_id,
            AuditAction.revoke,
            actor,
            lambda row: {"revoked_at": row["revoked_at"] or now},
            lambda row: {"revoked_at": [row["revoked_at"], row["revoked_at"] or now]},
        )

    def delete_key(
        self,
        key_id: str,  # the key
        *,
        actor: str | None = None,  # who, for the audit log
    ) -> None:
        """Remove a key and its counters for good (GDPR erasure); the audit log keeps the event."""
        actor = _actor(actor)
        row = self._key_row(key_id)
        t = self.tables
        with self._guard("delete key"):
            t.execute(t.usage.table.delete().where(t.usage.table.c.key_id == row["id"]))
            t.execute(t.keys.table.delete().where(t.keys.table.c.id == row["id"]))
            self._audit(row["org_id"], row["id"], AuditAction.delete, actor, {})
        self.cache.drop(row["id"])

    def roll_key(
        self,
        key_id: str,  # the key to replace
        *,
        grace: timedelta = timedelta(0),  # how long the old key keeps working
        metadata: KeyMetadata | None = None,  # the new key's metadata; None = the old one's
        actor: str | None = None,  # who, for the audit log
    ) -> APIKeyCreated:
        """A new key with the same settings and budget; the old one works until min(its expiry,
        now+grace), spending the new one's credits and window (see lineage.py)."""
        later(self.clock(), grace, "grace", error=InvalidInputError)  # ≥ 0, ends by year 9999
        if metadata is not None and not isinstance(metadata, KeyMetadata):
            raise InvalidInputError("metadata must be a KeyMetadata")
        actor = _actor(actor)
        first, t = self._key_row(key_id), self.tables  # its tenancy never changes
        kid, k = first["id"], t.keys.table
        row, plaintext = self._insert_key(  # the new secret: made before the row is locked
            first["org_id"],
            first["project_id"],
            first["product_id"],
            store.api_key(first).metadata if metadata is None else metadata,
            self.clock(),
        )
        with self._guard("roll key"):  # one transaction, the row locked: read, check, write
            old = self.tables.locked_key(kid)
            now = self.clock()
            lineage.check_rollable(old, now)
            was = store.api_key(old).metadata
            meta = was if metadata is None else metadata
            ends = min(now + grace, was.expires_at or now + grace)
            row.update(lineage.inherited(old, meta, metadata is not None))  # from the locked read
            t.execute(k.insert().values(**row))
            retire = lineage.retired(old, replace(was, expires_at=ends), row["id"], now)
            cas = k.update().where(k.c.id == kid, k.c.version == old["version"])
            if t.execute(cas.values(**retire, version=old["version"] + 1)).rowcount != 1:
                raise StorageError("issued key changed while locked")  # cannot happen
            roll = {"new_key_id": row["id"], "old_key_expires_at": ends.isoformat()}
            self._audit(old["org_id"], kid, AuditAction.roll, actor, roll)
            made = {"rolled_from": kid, "settings": _settings(meta)}
            self._audit(old["org_id"], row["id"], AuditAction.create, actor, made)
        self.cache.drop(kid)
        return APIKeyCreated(store.api_key(row), plaintext)

    # listings

    def _list(self, column: str, owner: str, status: Any) -> list[APIKey]:
        try:
            status = KeyStatus(status)
        except ValueError:
            raise InvalidInputError("status must be active, revoked, expired or all") from None
        k = self.tables.keys.table
        now = to_iso(self.clock())
        stmt = sa.select(k).where(k.c[column] == owner).order_by(k.c.created_at, k.c.id)
        live = sa.or_(k.c.expires_at.is_(None), k.c.expires_at > now)
        stmt = {
            KeyStatus.active: stmt.where(k.c.revoked_at.is_(None), live),
            KeyStatus.revoked: stmt.where(k.c.revoked_at.is_not(None)),
            KeyStatus.expired: stmt.where(k.c.revoked_at.is_(None), sa.not_(live)),
        }.get(status, stmt)
        with self._guard("list keys"):
            return [store.api_key(r) for r in self.tables.execute(stmt).mappings()]

    def list_org_keys(
        self,
        org_id: str,  # an organization
        *,
        status: KeyStatus = KeyStatus.all,  # active, revoked, expired or all
    ) -> list[APIKey]:
        """The organization's keys, oldest first."""
        return self._list("org_id", self.use_organization(org_id).id, status)

    def list_project_keys(
        self,
        project_id: str,  # a project
        *,
        status: KeyStatus = KeyStatus.all,  # active, revoked, expired or all
    ) -> list[APIKey]:
        """The project's keys, oldest first."""
        return self._list("project_id", self._get_project(project_id).id, status)

    def list_audit_events(
        self,
        org_id: str,  # an organization
        *,
        key_id: str | None = None,  # only this key's events
        limit: int = 100,  # most events returned
    ) -> list[AuditEvent]:
        """The organization's audit events, newest first."""
        org = self.use_organization(org_id).id
        if not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit <= 10_000:
            raise InvalidInputError("limit must be 1-10000")
        a = self.tables.audit.table
        stmt = sa.select(a).where(a.c.org_id == org).order_by(a.c.seq.desc()).limit(limit)
        if key_id is not None:
            stmt = stmt.where(a.c.key_id == self._id(key_id, "Key"))
        with self._guard("list audit"):
            return [store.audit_event(r) for r in self.tables.execute(stmt).mappings()]

    def key_usage(
        self,
        key_id: str,  # a key
        *,
        days: int = 30,  # how many UTC days, ending today
    ) -> list[UsageDay]:
        """Successful verifications per UTC day, oldest first (days without use count 0)."""
        if not isinstance(days, int) or isinstance(days, bool) or not 0 < days <= MAX_USAGE_DAYS:
            raise InvalidInputError(f"days must be 1-{MAX_USAGE_DAYS}")
        row = self._key_row(key_id)
        today = self.clock().date()
        first = today - timedelta(days=days - 1)
        u = self.tables.usage.table
        stmt = sa.select(u.c.day, u.c.count).where(
            u.c.key_id == row["id"], u.c.day >= first.isoformat()
        )
        with self._guard("usage"):
            counts = dict(self.tables.execute(stmt).all())
        if row["usage_day"] is not None:  # the day being counted in the key's own row
            counts[row["usage_day"]] = counts.get(row["usage_day"], 0) + row["usage_count"]
        span = (first + timedelta(days=i) for i in range(days))
        return [UsageDay(d, counts.get(d.isoformat(), 0)) for d in span]

    def prune_usage(
        self,
        keep_days: int = MAX_USAGE_DAYS,  # days of history to keep
    ) -> int:
        """Delete usage rows older than `keep_days`; returns how many (validation also does
        this, once a day per process)."""
        bounded_int(keep_days, "keep_days", low=1, error=InvalidInputError)
        today = self.clock().date()
        days = min(keep_days, (today - EARLIEST.date()).days)  # more than were stored: keep all
        with self._guard("prune usage"):
            return self._prune(today - timedelta(days=days))

    def _prune(self, cutoff: date) -> int:
        u = self.tables.usage.table
        return self.tables.execute(u.delete().where(u.c.day < cutoff.isoformat())).rowcount

    def _prune_daily(self, now: datetime) -> None:
        """Inside a write: drop usage rows older than MAX_USAGE_DAYS, once a day per process."""
        today = now.date()
        if getattr(self, "_pruned_on", None) != today:
            self._pruned_on = today
            self._prune(today - timedelta(days=MAX_USAGE_DAYS))
