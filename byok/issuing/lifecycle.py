"""A key's life: create, read, list, update, revoke, roll, delete, with an audit event for every
change (who, when, what; never key material) in the same transaction (a part of `KeyIssuer`,
which documents each method).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..core.bounds import later
from ..core.database import to_iso
from ..core.types import StorageError
from . import lineage, store
from .cache import VerifiedCache
from .context import Context
from .errors import InsufficientScopeError, InvalidInputError
from .keys import KeyFormat
from .models import (
    MAX_NAME,
    APIKey,
    APIKeyCreated,
    AuditAction,
    AuditEvent,
    KeyMetadata,
    KeyStatus,
)
from .policy import KeyPolicy, TooManyKeysError
from .rollout import Rollout
from .tenancy import Tenancy, known_id

__all__ = ["Lifecycle"]


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


class Lifecycle:
    """Key records: issue, read, change, roll, delete and list them, each change audited."""

    def __init__(
        self,
        ctx: Context,  # the issuer's database, tables, lock and clock
        *,
        tenancy: Tenancy,  # the organizations, projects and products keys are issued in
        cache: VerifiedCache,  # keys verified lately: a changed key is dropped from it
        format: KeyFormat,  # makes a new key's plaintext
        rollout: Rollout,  # hashes it under the committed pepper
    ):
        self.ctx, self.tenancy, self.cache = ctx, tenancy, cache
        self.format, self.rollout = format, rollout

    def _audit(
        self, org_id: str, key_id: str, action: AuditAction, actor: str | None, changes: dict
    ) -> None:
        """Record one event (inside the caller's guard: it commits with the change)."""
        row = {
            "at": to_iso(self.ctx.clock()),
            "org_id": org_id,
            "key_id": key_id,
            "action": action.value,
            "actor": actor,
            "changes": json.dumps(changes),
        }
        t = self.ctx.tables
        t.execute(t.audit.table.insert().values(**row))

    def _scope(self, org_id: Any, project_id: Any, product_id: Any) -> tuple[str, Any, Any]:
        """The canonical (org, project, product) of a new key; refused across organizations."""
        org = self.tenancy.use_organization(org_id).id
        project = product = None
        if project_id is not None:
            project = self.tenancy.get_project(project_id).id
            if self.tenancy.owner("project", project, query=True) != org:
                raise InsufficientScopeError("the project belongs to another organization")
        if product_id is not None:
            product = self.tenancy.get_product(product_id).id
            if self.tenancy.owner("product", product, query=True) != org:
                raise InsufficientScopeError("the product belongs to another organization")
        if project and product and not self.tenancy.linked(project, product, query=True):
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
        org_id: str,
        *,
        project_id: str | None,
        product_id: str | None,
        metadata: KeyMetadata | None,
        actor: str | None,
        policy: KeyPolicy | None = None,
    ) -> APIKeyCreated:
        """See KeyIssuer.create_key. Under a `policy`, metadata outside it is an
        InvalidInputError and a key past its max_keys a TooManyKeysError (see `_room`)."""
        meta = KeyMetadata() if metadata is None else metadata
        if not isinstance(meta, KeyMetadata):
            raise InvalidInputError("metadata must be a KeyMetadata")
        if policy is not None and not isinstance(policy, KeyPolicy):
            raise InvalidInputError("policy must be a KeyPolicy or None")
        actor = _actor(actor)
        now = self.ctx.clock()
        if policy is not None:
            policy.check(meta, now)
        org, project, product = self._scope(org_id, project_id, product_id)
        row, plaintext = self._insert_key(org, project, product, meta, now)
        with self.ctx.guard("create key"):
            t = self.ctx.tables
            if policy is not None and policy.max_keys is not None:
                self._room(org, project, policy.max_keys)
            t.execute(t.keys.table.insert().values(**row))
            self._audit(org, row["id"], AuditAction.create, actor, {"settings": _settings(meta)})
        return APIKeyCreated(store.api_key(row), plaintext)

    def _room(self, org: str, project: str | None, most: int) -> None:
        """Refuse a new key when its owner (the project, else the organization) already holds
        `most` live keys. Inside the create's guard: the organization's row is locked first, so
        creates for one owner count and insert one after another, in every process."""
        t = self.ctx.tables
        o, k = t.orgs.table, t.keys.table
        t.execute(o.update().where(o.c.id == org).values(name=o.c.name))  # the owner's lock
        now = to_iso(self.ctx.clock())
        owner = k.c.org_id == org if project is None else k.c.project_id == project
        live = sa.select(sa.func.count()).where(
            owner,
            k.c.revoked_at.is_(None),
            k.c.rolled_to.is_(None),  # a rolled key is on its way out (its successor counts)
            sa.or_(k.c.expires_at.is_(None), k.c.expires_at > now),
        )
        if t.execute(live).scalar_one() >= most:
            raise TooManyKeysError(most)

    def _key_row(self, key_id: Any) -> dict:
        return self.tenancy.row(self.ctx.tables.keys, key_id, "Key")

    def get_key(self, key_id: str) -> APIKey:
        """See KeyIssuer.get_key."""
        return store.api_key(self._key_row(key_id))

    def _change(
        self, key_id: Any, action: AuditAction, actor: Any, values: Any, changes: Any
    ) -> APIKey:
        """Apply `values(row)` to a key, bump its version, audit `changes(row)`, drop the cache;
        the row is locked and read in the same transaction, so `row` is the latest."""
        actor = _actor(actor)
        t, kid = self.ctx.tables, known_id(key_id, "Key")
        k = t.keys.table
        with self.ctx.guard(f"{action.value} key"):
            row = t.locked_key(kid)
            now = to_iso(self.ctx.clock())
            stmt = k.update().where(k.c.id == kid)
            t.execute(stmt.values(**values(row), version=k.c.version + 1, updated_at=now))
            self._audit(row["org_id"], kid, action, actor, changes(row))
            fresh = t.execute(t.key_by_id, {"id": kid}).mappings().first()
        self.cache.drop(kid)
        return store.api_key(fresh)

    def update_key(self, key_id: str, *, metadata: KeyMetadata, actor: str | None) -> APIKey:
        """See KeyIssuer.update_key."""
        if not isinstance(metadata, KeyMetadata):
            raise InvalidInputError("metadata must be a KeyMetadata")

        def values(row: dict) -> dict:
            refilled = (row["refilled_at"] or to_iso(self.ctx.clock())) if metadata.refill else None
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

    def revoke_key(self, key_id: str, *, actor: str | None) -> APIKey:
        """See KeyIssuer.revoke_key."""
        now = to_iso(self.ctx.clock())
        return self._change(
            key_id,
            AuditAction.revoke,
            actor,
            lambda row: {"revoked_at": row["revoked_at"] or now},
            lambda row: {"revoked_at": [row["revoked_at"], row["revoked_at"] or now]},
        )

    def delete_key(self, key_id: str, *, actor: str | None) -> None:
        """See KeyIssuer.delete_key."""
        actor = _actor(actor)
        row = self._key_row(key_id)
        t = self.ctx.tables
        with self.ctx.guard("delete key"):
            t.execute(t.usage.table.delete().where(t.usage.table.c.key_id == row["id"]))
            t.execute(t.keys.table.delete().where(t.keys.table.c.id == row["id"]))
            self._audit(row["org_id"], row["id"], AuditAction.delete, actor, {})
        self.cache.drop(row["id"])

    def roll_key(
        self,
        key_id: str,
        *,
        grace: timedelta,
        metadata: KeyMetadata | None,
        actor: str | None,
        policy: KeyPolicy | None = None,
    ) -> APIKeyCreated:
        """See KeyIssuer.roll_key."""
        later(self.ctx.clock(), grace, "grace", error=InvalidInputError)  # ≥ 0, ends by year 9999
        if metadata is not None and not isinstance(metadata, KeyMetadata):
            raise InvalidInputError("metadata must be a KeyMetadata")
        if policy is not None and (metadata is not None or not isinstance(policy, KeyPolicy)):
            raise InvalidInputError("policy must be a KeyPolicy, given without metadata")
        actor = _actor(actor)
        first, t = self._key_row(key_id), self.ctx.tables  # its tenancy never changes
        kid, k = first["id"], t.keys.table
        row, plaintext = self._insert_key(  # the new secret: made before the row is locked
            first["org_id"],
            first["project_id"],
            first["product_id"],
            store.api_key(first).metadata if metadata is None else metadata,
            self.ctx.clock(),
        )
        with self.ctx.guard("roll key"):  # one transaction, the row locked: read, check, write
            old = t.locked_key(kid)
            now = self.ctx.clock()
            lineage.check_rollable(old, now)
            was = store.api_key(old).metadata
            meta = was if metadata is None else metadata
            granted = metadata is not None
            if policy is not None:  # the successor within the policy; its credits move as they
                meta = policy.rolled(was, now)  # are, unless the old key had none to move
                granted = was.remaining is None and meta.remaining is not None
            ends = min(now + grace, was.expires_at or now + grace)
            row.update(lineage.inherited(old, meta, granted))  # from the locked read
            if granted and metadata is None:
                row.update(remaining=meta.remaining, refilled_at=to_iso(now))
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
        k = self.ctx.tables.keys.table
        now = to_iso(self.ctx.clock())
        stmt = sa.select(k).where(k.c[column] == owner).order_by(k.c.created_at, k.c.id)
        live = sa.or_(k.c.expires_at.is_(None), k.c.expires_at > now)
        stmt = {
            KeyStatus.active: stmt.where(k.c.revoked_at.is_(None), live),
            KeyStatus.revoked: stmt.where(k.c.revoked_at.is_not(None)),
            KeyStatus.expired: stmt.where(k.c.revoked_at.is_(None), sa.not_(live)),
        }.get(status, stmt)
        with self.ctx.guard("list keys"):
            return [store.api_key(r) for r in self.ctx.tables.execute(stmt).mappings()]

    def list_org_keys(self, org_id: str, *, status: KeyStatus) -> list[APIKey]:
        """See KeyIssuer.list_org_keys."""
        return self._list("org_id", self.tenancy.use_organization(org_id).id, status)

    def list_project_keys(self, project_id: str, *, status: KeyStatus) -> list[APIKey]:
        """See KeyIssuer.list_project_keys."""
        return self._list("project_id", self.tenancy.get_project(project_id).id, status)

    def list_audit_events(self, org_id: str, *, key_id: str | None, limit: int) -> list[AuditEvent]:
        """See KeyIssuer.list_audit_events."""
        org = self.tenancy.use_organization(org_id).id
        if not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit <= 10_000:
            raise InvalidInputError("limit must be 1-10000")
        a = self.ctx.tables.audit.table
        stmt = sa.select(a).where(a.c.org_id == org).order_by(a.c.seq.desc()).limit(limit)
        if key_id is not None:
            stmt = stmt.where(a.c.key_id == known_id(key_id, "Key"))
        with self.ctx.guard("list audit"):
            return [store.audit_event(r) for r in self.ctx.tables.execute(stmt).mappings()]
