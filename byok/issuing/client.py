"""`APIKeyClient`: apikeys-platform's async client, as a thin face over `KeyIssuer`.

Every method runs the engine's plain call in a worker thread, so the event loop never waits on
the database. Two answers need no thread at all: a malformed key (refused by its format and
checksum) and a read-only validation the verified-key cache can answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from fastsql import Database
from starlette.concurrency import run_in_threadpool

from ..core.database import Guard
from ..core.pool import in_pool_thread
from .engine import KeyIssuer
from .models import (
    APIKey,
    APIKeyCreated,
    AuditEvent,
    KeyMetadata,
    KeyStatus,
    Organization,
    Product,
    Project,
    UsageDay,
)
from .store import Tables, open_db
from .validation import Admitted, Prepared, Staged

__all__ = ["APIKeyClient", "create_tables"]

T = TypeVar("T")


async def _off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking call in a worker thread: Starlette's pool (40 threads, as the vault's
    `call_storage`), not asyncio's default executor (CPU count + 4: on 2 cores, 6 calls in
    flight for a pool of 10 connections; bench/wrk.py's PostgreSQL rows)."""
    return await run_in_threadpool(fn, *args, **kwargs)


def _create_tables(db_url: str) -> None:
    import threading

    db = open_db(db_url)
    try:
        with Guard(threading.RLock(), db, "create tables"):
            Tables(db)
    finally:
        db.close()
        db.engine.dispose()


async def create_tables(
    db_url: str,  # the database URL (sqlite:///…, postgresql://…)
) -> None:
    """Create the issuing tables if they are missing (safe to re-run; KeyIssuer does it too)."""
    await _off_loop(_create_tables, db_url)


class APIKeyClient:
    """Issue and validate API keys from async code (the engine is `KeyIssuer`)."""

    def __init__(
        self,
        db_url: str | Database | None = None,  # sqlite:///keys.db, postgresql://…, or a Database
        *,
        signing_secret: str | bytes,  # HMAC secret of stored hashes; required
        key_prefix: str = "sk",  # first segment of every key, [a-z0-9]{1,16}
        environment: str = "",  # optional second segment, e.g. "live" or "test"
        previous_signing_secrets: Sequence[str | bytes] = (),  # older secrets, still accepted
        cache_ttl: float = 5.0,  # seconds a verified key is trusted in process; 0 = no cache
    ):
        self.issuer = KeyIssuer(
            db_url,
            signing_secret=signing_secret,
            key_prefix=key_prefix,
            environment=environment,
            previous_signing_secrets=previous_signing_secrets,
            cache_ttl=cache_ttl,
        )

    @classmethod
    def of(
        cls,
        issuer: KeyIssuer,  # an engine already built (e.g. shared with sync code)
    ) -> APIKeyClient:
        """An async face over an existing KeyIssuer."""
        client = cls.__new__(cls)
        client.issuer = issuer
        return client

    async def aclose(self) -> None:
        """Close the database connection."""
        await _off_loop(self.issuer.close)

    # organizations, projects, products

    async def create_organization(self, name: str) -> Organization:
        """See KeyIssuer.create_organization."""
        return await _off_loop(self.issuer.create_organization, name)

    async def get_or_create_organization(self, name: str) -> tuple[Organization, bool]:
        """See KeyIssuer.get_or_create_organization."""
        return await _off_loop(self.issuer.get_or_create_organization, name)

    async def use_organization(self, org_id: str) -> Organization:
        """See KeyIssuer.use_organization."""
        return await _off_loop(self.issuer.use_organization, org_id)

    async def list_organizations(self) -> list[Organization]:
        """See KeyIssuer.list_organizations."""
        return await _off_loop(self.issuer.list_organizations)

    async def create_project(self, org_id: str, name: str) -> Project:
        """See KeyIssuer.create_project."""
        return await _off_loop(self.issuer.create_project, org_id, name)

    async def get_or_create_project(self, org_id: str, name: str) -> tuple[Project, bool]:
        """See KeyIssuer.get_or_create_project."""
        return await _off_loop(self.issuer.get_or_create_project, org_id, name)

    async def list_projects(self, org_id: str) -> list[Project]:
        """See KeyIssuer.list_projects."""
        return await _off_loop(self.issuer.list_projects, org_id)

    async def create_product(self, org_id: str, name: str) -> Product:
        """See KeyIssuer.create_product."""
        return await _off_loop(self.issuer.create_product, org_id, name)

    async def get_or_create_product(self, org_id: str, name: str) -> tuple[Product, bool]:
        """See KeyIssuer.get_or_create_product."""
        return await _off_loop(self.issuer.get_or_create_product, org_id, name)

    async def list_products(self, org_id: str) -> list[Product]:
        """See KeyIssuer.list_products."""
        return await _off_loop(self.issuer.list_products, org_id)

    async def add_product_to_project(self, product_id: str, project_id: str) -> None:
        """See KeyIssuer.add_product_to_project."""
        return await _off_loop(self.issuer.add_product_to_project, product_id, project_id)

    async def list_project_products(self, project_id: str) -> list[Product]:
        """See KeyIssuer.list_project_products."""
        return await _off_loop(self.issuer.list_project_products, project_id)

    # keys

    async def create_key(
        self,
        org_id: str,
        *,
        project_id: str | None = None,
        product_id: str | None = None,
        metadata: KeyMetadata | None = None,
        actor: str | None = None,
    ) -> APIKeyCreated:
        """See KeyIssuer.create_key."""
        return await _off_loop(
            self.issuer.create_key,
            org_id,
            project_id=project_id,
            product_id=product_id,
            metadata=metadata,
            actor=actor,
        )

    async def create_keys(
        self,
        org_id: str,
        count: int | None = None,
        *,
        specs: Sequence[KeyMetadata] | None = None,
        metadata: KeyMetadata | None = None,
        project_id: str | None = None,
        product_id: str | None = None,
        actor: str | None = None,
    ) -> list[APIKeyCreated]:
        """See KeyIssuer.create_keys."""
        return await _off_loop(
            self.issuer.create_keys,
            org_id,
            count,
            specs=specs,
            metadata=metadata,
            project_id=project_id,
            product_id=product_id,
            actor=actor,
        )

    async def get_key(self, key_id: str) -> APIKey:
        """See KeyIssuer.get_key."""
        return await _off_loop(self.issuer.get_key, key_id)

    async def update_key(
        self, key_id: str, *, metadata: KeyMetadata, actor: str | None = None
    ) -> APIKey:
        """See KeyIssuer.update_key."""
        return await _off_loop(self.issuer.update_key, key_id, metadata=metadata, actor=actor)

    async def revoke_key(self, key_id: str, *, actor: str | None = None) -> APIKey:
        """See KeyIssuer.revoke_key."""
        return await _off_loop(self.issuer.revoke_key, key_id, actor=actor)

    async def delete_key(self, key_id: str, *, actor: str | None = None) -> None:
        """See KeyIssuer.delete_key."""
        return await _off_loop(self.issuer.delete_key, key_id, actor=actor)

    async def roll_key(
        self,
        key_id: str,
        *,
        grace: timedelta = timedelta(0),
        metadata: KeyMetadata | None = None,
        actor: str | None = None,
    ) -> APIKeyCreated:
        """See KeyIssuer.roll_key."""
        return await _off_loop(
            self.issuer.roll_key, key_id, grace=grace, metadata=metadata, actor=actor
        )

    async def list_org_keys(
        self, org_id: str, *, status: KeyStatus = KeyStatus.all
    ) -> list[APIKey]:
        """See KeyIssuer.list_org_keys."""
        return await _off_loop(self.issuer.list_org_keys, org_id, status=status)

    async def list_project_keys(
        self, project_id: str, *, status: KeyStatus = KeyStatus.all
    ) -> list[APIKey]:
        """See KeyIssuer.list_project_keys."""
        return await _off_loop(self.issuer.list_project_keys, project_id, status=status)

    async def list_audit_events(
        self, org_id: str, *, key_id: str | None = None, limit: int = 100
    ) -> list[AuditEvent]:
        """See KeyIssuer.list_audit_events."""
        return await _off_loop(self.issuer.list_audit_events, org_id, key_id=key_id, limit=limit)

    async def key_usage(self, key_id: str, *, days: int = 30) -> list[UsageDay]:
        """See KeyIssuer.key_usage."""
        return await _off_loop(self.issuer.key_usage, key_id, days=days)

    # validation

    async def validate_key(
        self,
        plaintext_key: str,
        *,
        org_id: str | None = None,
        project_id: str | None = None,
        product_id: str | None = None,
        required_scopes: Sequence[str] = (),
        required_scope: str | None = None,
        check_rate_limit: bool = True,
        track_usage: bool = True,
    ) -> APIKey:
        """See KeyIssuer.validate_key (a malformed key or a cached read-only answer never
        leaves the event loop; everything else runs in a worker thread)."""
        prepared = self.issuer.prepare(
            plaintext_key,
            org_id=org_id,
            project_id=project_id,
            product_id=product_id,
            required_scopes=required_scopes,
            required_scope=required_scope,
            check_rate_limit=check_rate_limit,
            track_usage=track_usage,
        )
        return (await self.admit(prepared)).key

    async def admit(
        self,
        prepared: Prepared,  # from KeyIssuer.prepare (validate_key's arguments, parsed)
    ) -> Admitted:
        """The validated key and its rate limit after this call, when counted (the guards'
        RateLimit-* headers): on the event loop when no query is needed, a counted use of a
        cached key in the next batch of this loop's (PostgreSQL: combine.py), else in a
        worker."""
        staged = self.issuer.validation.try_stage(prepared)
        if type(staged) is Admitted:
            return staged
        return await self.settle(prepared, staged)

    async def settle(
        self,
        prepared: Prepared,  # from KeyIssuer.prepare
        staged: Staged | None,  # what Validation.try_stage made of it (None: it needs a read)
    ) -> Admitted:
        """`admit` after its part on the event loop (`Validation.try_stage`) found I/O needed:
        a staged counted use goes to its batch, anything else to a worker thread."""
        validation = self.issuer.validation
        if staged is not None:
            # bench "HTTP wrk, PostgreSQL, counted validate_key … c = 16": one round trip per
            # batch of concurrent requests, not per request, run on the loop (no thread hop)
            done = validation.settle(staged, await validation.combiner.count(staged.params))
            if done is not None:
                return done
        return await in_pool_thread(self.issuer.db, validation.admit, prepared, io=True)

    async def verify_key(self, plaintext_key: str, *, track_usage: bool = True) -> APIKey:
        """See KeyIssuer.verify_key."""
        return await self.validate_key(
            plaintext_key, check_rate_limit=False, track_usage=track_usage
        )
