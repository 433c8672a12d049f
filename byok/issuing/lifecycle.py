"""A key's life: create, read, list, update, revoke, roll, delete, with an audit event for every
change (who, when, what; never key material) in the same transaction (a part of `KeyIssuer`,
which documents each method).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from ..core.bounds import later
from ..core.database import to_iso
from ..core.types import StorageError
from . import lineage, records
from .cache import VerifiedCache
from .changes import MAX_BULK, audit_diff, audited, bulk_specs, checked_actor, new_metadata
from .compiled import KeyStatements
from .context import Context
from .errors import InsufficientScopeError, InvalidInputError, NotFoundError
from .keys import KeyFormat
from .models import (
    APIKey,
    APIKeyCreated,
    AuditAction,
    KeyMetadata,
)
from .policy import KeyPolicy, TooManyKeysError
from .rollout import Rollout
from .tenancy import Tenancy, known_id

__all__ = ["BULK_BATCH", "MAX_BULK", "Lifecycle"]

BULK_BATCH = 1_000  # rows per executemany inside its one transaction: bounded parameter lists


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
        self.sql = KeyStatements(ctx.tables)

    def _audit_row(
        self, org_id: str, key_id: str, action: AuditAction, actor: str | None, changes: str
    ) -> dict:
        """One event's row (`changes` as JSON text)."""
        at = to_iso(self.ctx.clock())
        return {
            "at": at,
            "org_id": org_id,
            "key_id": key_id,
            "action": action.value,
            "actor": actor,
            "changes": changes,
        }

    def _audit(
        self, org_id: str, key_id: str, action: AuditAction, actor: str | None, changes: dict
    ) -> None:
        """Record one event (inside the caller's guard: it commits with the change)."""
        row = self._audit_row(org_id, key_id, action, actor, json.dumps(changes))
        self.ctx.tables.run(self.sql.insert_audit, row)

    def _org(self, org_id: Any) -> str:
        """The canonical id of an existing organization (one compiled read); else NotFoundError."""
        kid = known_id(org_id, "Organization")
        with self.ctx.guard("get organization"):
            found = self.ctx.tables.row(self.sql.org_by_id, {"id": kid})
        if found is None:
            raise NotFoundError(f"Organization {kid!r} not found")
        return kid

    def _scope(self, org_id: Any, project_id: Any, product_id: Any) -> tuple[str, Any, Any]:
        """The canonical (org, project, product) of a new key; refused across organizations."""
        org = self._org(org_id)
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
        self,
        scope: tuple[str, Any, Any],  # (org, project, product), canonical
        meta: KeyMetadata,  # its settings
        stored: str,  # meta.to_json() (made once for many keys alike)
        at: str,  # the creation time, ISO 8601
        issue: Callable[[str], tuple[str, str]],  # plaintext -> (hash, pepper id)
    ) -> tuple[dict, str]:
        """A new key's row (not yet written) and its plaintext."""
        plaintext = self.format.generate()
        key_hash, pepper = issue(plaintext)
        org, project, product = scope
        row = {
            "id": str(uuid.uuid4()),
            "org_id": org,
            "project_id": project,
            "product_id": product,
            "key_prefix": self.format.shown(plaintext),
            "key_hash": key_hash,
            "pepper": pepper,
            "metadata": stored,
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
        meta = new_metadata(metadata)
        if policy is not None and not isinstance(policy, KeyPolicy):
            raise InvalidInputError("policy must be a KeyPolicy or None")
        actor = checked_actor(actor)
        now = self.ctx.clock()
        if policy is not None:
            policy.check(meta, now)
        scope = self._scope(org_id, project_id, product_id)
        at = to_iso(now)
        row, plaintext = self._insert_key(scope, meta, meta.to_json(), at, self.rollout.issue)
        made = json.dumps({"settings": audited(meta)})
        audit = self._audit_row(scope[0], row["id"], AuditAction.create, actor, made)
        t = self.ctx.tables
        with self.ctx.guard("create key"):  # bench "create_key": two compiled INSERTs
            if policy is not None and policy.max_keys is not None:
                self._room(scope[0], scope[1], policy.max_keys)
            t.run(self.sql.insert_key, row)
            t.run(self.sql.insert_audit, audit)
        return APIKeyCreated(records.api_key(row), plaintext)

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

    def create_keys(
        self,
        org_id: str,
        *,
        count: int | None,
        specs: Sequence[KeyMetadata] | None,
        project_id: str | None,
        product_id: str | None,
        metadata: KeyMetadata | None,
        actor: str | None,
    ) -> list[APIKeyCreated]:
        """See KeyIssuer.create_keys."""
        metas = bulk_specs(count, specs, metadata)
        actor = checked_actor(actor)
        scope = self._scope(org_id, project_id, product_id)
        at = to_iso(self.ctx.clock())
        issue = self.rollout.issuing()  # the committed pepper, read once for the whole call
        made: dict[int, tuple[str, str, KeyMetadata]] = {}  # id(meta) -> (JSON, audit, parsed)
        out: list[APIKeyCreated] = []
        t, sql = self.ctx.tables, self.sql
        with self.ctx.guard("create keys"):  # one transaction: every key or none
            for start in range(0, len(metas), BULK_BATCH):
                rows, audits = [], []
                for meta in metas[start : start + BULK_BATCH]:
                    if (known := made.get(id(meta))) is None:
                        stored = meta.to_json()
                        settings = json.dumps({"settings": audited(meta)})
                        known = (stored, settings, KeyMetadata.from_json(stored, meta.remaining))
                        made[id(meta)] = known
                    row, plaintext = self._insert_key(scope, meta, known[0], at, issue)
                    rows.append(row)
                    audits.append(
                        self._audit_row(scope[0], row["id"], AuditAction.create, actor, known[1])
                    )
                    out.append(APIKeyCreated(records.api_key(row, known[2]), plaintext))
                # bench "create_keys, 100k keys": one executemany per table and batch
                t.run_many(sql.insert_key, rows)
                t.run_many(sql.insert_audit, audits)
        return out

    def _key_row(self, key_id: Any) -> dict:
        """The key's row (one compiled read); NotFoundError when there is none."""
        kid = known_id(key_id, "Key")
        with self.ctx.guard("get key"):
            row = self.ctx.tables.row(self.ctx.tables.key_by_id, {"id": kid})
        if row is None:
            raise NotFoundError(f"Key {kid!r} not found")
        return row

    def get_key(self, key_id: str) -> APIKey:
        """See KeyIssuer.get_key."""
        return records.api_key(self._key_row(key_id))

    def _change(
        self, key_id: Any, action: AuditAction, actor: Any, values: Any, changes: Any
    ) -> APIKey:
        """Apply `values(row)` to a key, bump its version, audit `changes(row)`, drop the cache;
        the row is locked and read in the same transaction, so `row` is the latest."""
        actor = checked_actor(actor)
        t, kid = self.ctx.tables, known_id(key_id, "Key")
        k = t.keys.table
        with self.ctx.guard(f"{action.value} key"):
            row = t.locked_key(kid)
            now = to_iso(self.ctx.clock())
            stmt = k.update().where(k.c.id == kid)
            t.execute(stmt.values(**values(row), version=k.c.version + 1, updated_at=now))
            self._audit(row["org_id"], kid, action, actor, changes(row))
            fresh = t.row(t.key_by_id, {"id": kid})
        self.cache.drop(kid)
        return records.api_key(fresh)

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
            return audit_diff(records.api_key(row).metadata, lineage.updated(metadata, row))

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
        actor = checked_actor(actor)
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
        actor = checked_actor(actor)
        first, t = self._key_row(key_id), self.ctx.tables  # its tenancy never changes
        kid = first["id"]
        scope = (first["org_id"], first["project_id"], first["product_id"])
        given = first["metadata"] if metadata is None else metadata.to_json()
        at = to_iso(self.ctx.clock())
        row, plaintext = self._insert_key(  # the new secret: made before the row is locked
            scope, new_metadata(metadata), given, at, self.rollout.issue
        )
        with self.ctx.guard("roll key"):  # one transaction, the row locked: read, check, write
            old = t.locked_key(kid)
            now = self.ctx.clock()
            lineage.check_rollable(old, now)
            was = records.api_key(old).metadata
            meta = was if metadata is None else metadata
            granted = metadata is not None
            if policy is not None:  # the successor within the policy; its credits move as they
                meta = policy.rolled(was, now)  # are, unless the old key had none to move
                granted = was.remaining is None and meta.remaining is not None
            ends = min(now + grace, was.expires_at or now + grace)
            row.update(lineage.inherited(old, meta, granted))  # from the locked read
            if granted and metadata is None:
                row.update(remaining=meta.remaining, refilled_at=to_iso(now))
            t.run(self.sql.insert_key, row)
            retire = lineage.retired(old, replace(was, expires_at=ends), row["id"], now)
            cas = {f"new_{c}": v for c, v in retire.items()}
            cas.update(kid=kid, v=old["version"], nv=old["version"] + 1)
            if t.run(self.sql.retire, cas).rowcount != 1:  # the version read under the lock
                raise StorageError("issued key changed while locked")  # cannot happen
            roll = {"new_key_id": row["id"], "old_key_expires_at": ends.isoformat()}
            self._audit(old["org_id"], kid, AuditAction.roll, actor, roll)
            made = {"rolled_from": kid, "settings": audited(meta)}
            self._audit(old["org_id"], row["id"], AuditAction.create, actor, made)
        self.cache.drop(kid)
        return APIKeyCreated(records.api_key(row), plaintext)
