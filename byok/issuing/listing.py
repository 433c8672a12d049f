"""Listings of keys and audit events (a part of `KeyIssuer`, which documents each method): the
key listings run statements compiled once per (owner column, status).
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa

from ..core.compiled import Compiled
from ..core.database import to_iso
from . import records
from .context import Context
from .errors import InvalidInputError
from .models import APIKey, AuditEvent, KeyStatus
from .tenancy import Tenancy, known_id

__all__ = ["Listing"]

MAX_EVENTS = 10_000  # audit events one listing returns at most


class Listing:
    """Reads many rows: an organization's or project's keys, an organization's audit events."""

    def __init__(
        self,
        ctx: Context,  # the issuer's database, tables, lock and clock
        *,
        tenancy: Tenancy,  # resolves the organization or project listed
    ):
        self.ctx, self.tenancy = ctx, tenancy

    @functools.cache  # noqa: B019 - eight statements at most, kept for the issuer's life
    def _keys(
        self,
        column: str,  # "org_id" or "project_id"
        status: KeyStatus,  # which keys
    ) -> Compiled:
        """The keys of one owner (bound as `owner`) in one status at `now`, oldest first."""
        k, b = self.ctx.tables.keys.table, sa.bindparam
        stmt = sa.select(k).where(k.c[column] == b("owner")).order_by(k.c.created_at, k.c.id)
        live = sa.or_(k.c.expires_at.is_(None), k.c.expires_at > b("now"))
        stmt = {
            KeyStatus.active: stmt.where(k.c.revoked_at.is_(None), live),
            KeyStatus.revoked: stmt.where(k.c.revoked_at.is_not(None)),
            KeyStatus.expired: stmt.where(k.c.revoked_at.is_(None), sa.not_(live)),
        }.get(status, stmt)  # all: `now` is not used
        return Compiled(stmt, self.ctx.db.engine.dialect)

    def _list(self, column: str, owner: str, status: Any) -> list[APIKey]:
        try:
            status = KeyStatus(status)
        except ValueError:
            raise InvalidInputError("status must be active, revoked, expired or all") from None
        params = {"owner": owner, "now": to_iso(self.ctx.clock())}
        with self.ctx.guard("list keys"):  # bench "list_org_keys": one compiled query
            rows = self.ctx.tables.rows(self._keys(column, status), params)
        return [records.api_key(r) for r in rows]

    def list_org_keys(self, org_id: str, *, status: KeyStatus) -> list[APIKey]:
        """See KeyIssuer.list_org_keys."""
        return self._list("org_id", self.tenancy.use_organization(org_id).id, status)

    def list_project_keys(self, project_id: str, *, status: KeyStatus) -> list[APIKey]:
        """See KeyIssuer.list_project_keys."""
        return self._list("project_id", self.tenancy.get_project(project_id).id, status)

    def list_audit_events(self, org_id: str, *, key_id: str | None, limit: int) -> list[AuditEvent]:
        """See KeyIssuer.list_audit_events."""
        org = self.tenancy.use_organization(org_id).id
        if not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit <= MAX_EVENTS:
            raise InvalidInputError(f"limit must be 1-{MAX_EVENTS}")
        a = self.ctx.tables.audit.table
        stmt = sa.select(a).where(a.c.org_id == org).order_by(a.c.seq.desc()).limit(limit)
        if key_id is not None:
            stmt = stmt.where(a.c.key_id == known_id(key_id, "Key"))
        with self.ctx.guard("list audit"):
            return [records.audit_event(r) for r in self.ctx.tables.execute(stmt).mappings()]
