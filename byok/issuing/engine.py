"""`KeyIssuer`: the synchronous engine of issued keys (apikeys-platform's methods as plain
calls). `APIKeyClient` is its async face.

A facade over parts that own their state, each in its own module: `Context` (context.py: the
database, tables, lock and clock they all share), `Tenancy` (tenancy.py), `Lifecycle`
(lifecycle.py), `Usage` (usage.py), `Validation` (validation.py), `Rollout` (rollout.py), the
`Listing` (listing.py), the `VerifiedCache` (cache.py) and the key format and peppers (keys.py). Every public method here is
one call to the part that does it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from fastsql import Database

from ..core.database import Guard
from ..core.types import utcnow
from .cache import VerifiedCache
from .context import Context
from .keys import KeyFormat, Peppers
from .lifecycle import Lifecycle
from .listing import Listing
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
from .policy import KeyPolicy
from .rollout import Rollout, SecretStatus
from .store import Tables
from .tenancy import Tenancy
from .usage import MAX_USAGE_DAYS, Usage
from .validation import NeedsDatabase, Prepared, Validation

__all__ = ["KeyIssuer", "NeedsDatabase", "Prepared"]


class KeyIssuer:
    """Issues, stores, validates and counts API keys for your own API (synchronous, thread-safe)."""

    def __init__(
        self,
        db_url: str | Database | None = None,  # sqlite:///keys.db, postgresql://…, or a Database
        *,
        signing_secret: str | bytes,  # HMAC secret of stored hashes (secrets.token_hex(32))
        key_prefix: str = "sk",  # first segment of every key, [a-z0-9]{1,16}
        environment: str = "",  # optional second segment, e.g. "live" or "test"
        previous_signing_secrets: Sequence[str | bytes] = (),  # older ones (adopt_signing_secret)
        cache_ttl: float = 5.0,  # seconds a verified key is trusted in process; 0 = no cache
        clock: Callable[[], datetime] = utcnow,  # the current time (UTC); tests move it
    ):
        self.format = KeyFormat(key_prefix, environment)
        self.peppers = Peppers(signing_secret, previous_signing_secrets)
        self.cache = VerifiedCache(cache_ttl)
        self.context = ctx = Context(db_url, clock)
        self.rollout = Rollout(self.peppers, ctx.tables, ctx.guard, cache_ttl)
        self.tenancy = Tenancy(ctx)
        self.usage = Usage(ctx, self.tenancy)
        self.lifecycle = Lifecycle(
            ctx, tenancy=self.tenancy, cache=self.cache, format=self.format, rollout=self.rollout
        )
        self.listing = Listing(ctx, tenancy=self.tenancy)
        self.validation = Validation(
            ctx,
            tenancy=self.tenancy,
            usage=self.usage,
            cache=self.cache,
            format=self.format,
            peppers=self.peppers,
            rollout=self.rollout,
        )

    # the shared state, as earlier versions exposed it

    @property
    def db(self) -> Database:
        """The open database (see Context)."""
        return self.context.db

    @property
    def tables(self) -> Tables:
        """The issuing tables and their compiled statements (see Context)."""
        return self.context.tables

    @property
    def clock(self) -> Callable[[], datetime]:
        """The issuer's clock: the current time (UTC)."""
        return self.context.clock

    def _guard(self, what: str) -> Guard:
        """One database operation (lock, commit or rollback, StorageError); see Context.guard."""
        return self.context.guard(what)

    def close(self) -> None:
        """Close the connection and the engine's pool."""
        self.context.close()

    # signing secrets

    def adopt_signing_secret(self) -> SecretStatus:
        """Commit this issuer's signing_secret once EVERY instance runs it (`byok keys rehash`):
        new keys are then hashed under it and keys under older secrets move to it on their next
        use. Until then nothing is rehashed, so instances on the old secret keep working."""
        return self.rollout.adopt()

    def signing_secret_status(self) -> SecretStatus:
        """The committed secret and how many keys each secret holds (retire an old secret once
        `older` and `legacy` are 0)."""
        return self.rollout.status()

    # validation

    def validate_key(
        self,
        plaintext_key: str,  # the key a client sent
        *,
        org_id: str | None = None,  # the key must belong to this organization
        project_id: str | None = None,  # … be valid for this project
        product_id: str | None = None,  # … be valid for this product
        required_scopes: Sequence[str] = (),  # … and carry every one of these scopes
        required_scope: str | None = None,  # one more scope (apikeys-platform's older form)
        check_rate_limit: bool = True,  # enforce the rate limit and credits
        track_usage: bool = True,  # count this success (use_count, last_used_at, usage per day)
    ) -> APIKey:
        """The key's record when it may be used for this request; else the error that says why."""
        prepared = self.validation.prepare(
            plaintext_key,
            org_id=org_id,
            project_id=project_id,
            product_id=product_id,
            required_scopes=required_scopes,
            required_scope=required_scope,
            check_rate_limit=check_rate_limit,
            track_usage=track_usage,
        )
        return self.validation.answer(prepared, io=True)

    def verify_key(
        self,
        plaintext_key: str,  # the key a client sent
        *,
        track_usage: bool = True,  # count this success
    ) -> APIKey:
        """The key's record when it exists, is not revoked and has not expired."""
        return self.validate_key(plaintext_key, check_rate_limit=False, track_usage=track_usage)

    def prepare(
        self,
        plaintext_key: str,  # the key a client sent
        **want: Any,  # validate_key's keyword arguments
    ) -> Prepared:
        """Parse the key and the request (no I/O): InvalidKeyError for a malformed key."""
        return self.validation.prepare(plaintext_key, **want)

    def try_cached(
        self,
        prepared: Prepared,  # from `prepare`
    ) -> APIKey | None:
        """The answer when it needs no I/O (a key verified lately, a read-only request; or the
        error that says why not); None when only the database can answer: call `answer`. The
        async face calls this on the event loop and `answer` in a worker thread otherwise."""
        return self.validation.try_cached(prepared)

    def answer(
        self,
        prepared: Prepared,  # from `prepare`
        *,
        io: bool = True,  # False: raise NeedsDatabase rather than query (use `try_cached`)
    ) -> APIKey:
        """Validate a prepared request (the body of validate_key)."""
        return self.validation.answer(prepared, io=io)

    # tenancy

    def owner(
        self,
        kind: str,  # "project" or "product"
        value: Any,  # its id
        *,
        query: bool = True,  # False: answer only from memory (None when unknown)
    ) -> str | None:
        """The organization of a project or product, None when there is no such one."""
        return self.tenancy.owner(kind, value, query=query)

    def linked(
        self,
        project_id: str,  # a canonical project id
        product_id: str,  # a canonical product id
        *,
        query: bool = True,  # False: answer only from memory
    ) -> bool | None:
        """Whether the product is linked to the project (None: unknown without a query)."""
        return self.tenancy.linked(project_id, product_id, query=query)

    def get_or_create_organization(
        self,
        name: str,  # unique organization name
    ) -> tuple[Organization, bool]:
        """The organization of this name, created if needed; (organization, created)."""
        return self.tenancy.get_or_create_organization(name)

    def create_organization(
        self,
        name: str,  # unique organization name
    ) -> Organization:
        """A new organization; AlreadyExistsError (with existing_id) when the name is taken."""
        return self.tenancy.create_organization(name)

    def use_organization(
        self,
        org_id: str,  # an organization id
    ) -> Organization:
        """The organization with this id; NotFoundError when there is none."""
        return self.tenancy.use_organization(org_id)

    def list_organizations(self) -> list[Organization]:
        """Every organization, oldest first."""
        return self.tenancy.list_organizations()

    def get_or_create_project(
        self,
        org_id: str,  # owning organization
        name: str,  # unique within the organization
    ) -> tuple[Project, bool]:
        """The project of this name in the organization, created if needed; (project, created)."""
        return self.tenancy.get_or_create("project", org_id, name)

    def create_project(
        self,
        org_id: str,  # owning organization
        name: str,  # unique within the organization
    ) -> Project:
        """A new project; AlreadyExistsError when the organization has one of this name."""
        return self.tenancy.create("project", org_id, name)

    def get_or_create_product(
        self,
        org_id: str,  # owning organization
        name: str,  # unique within the organization
    ) -> tuple[Product, bool]:
        """The product of this name in the organization, created if needed; (product, created)."""
        return self.tenancy.get_or_create("product", org_id, name)

    def create_product(
        self,
        org_id: str,  # owning organization
        name: str,  # unique within the organization
    ) -> Product:
        """A new product; AlreadyExistsError when the organization has one of this name."""
        return self.tenancy.create("product", org_id, name)

    def list_projects(
        self,
        org_id: str,  # an organization
    ) -> list[Project]:
        """The organization's projects, oldest first."""
        return self.tenancy.listed("project", org_id)

    def list_products(
        self,
        org_id: str,  # an organization
    ) -> list[Product]:
        """The organization's products, oldest first."""
        return self.tenancy.listed("product", org_id)

    def add_product_to_project(
        self,
        product_id: str,  # a product
        project_id: str,  # a project of the same organization
    ) -> None:
        """Link a product to a project (linking twice is a no-op); both must share an org."""
        return self.tenancy.add_product_to_project(product_id, project_id)

    def list_project_products(
        self,
        project_id: str,  # a project
    ) -> list[Product]:
        """The products linked to a project, oldest first."""
        return self.tenancy.list_project_products(project_id)

    # keys

    def create_key(
        self,
        org_id: str,  # owning organization
        *,
        project_id: str | None = None,  # scope to a project of that organization
        product_id: str | None = None,  # scope to a product (linked to the project, if both)
        metadata: KeyMetadata | None = None,  # name, scopes, limits, expiry, credits, custom
        actor: str | None = None,  # who issues it, for the audit log
        policy: KeyPolicy | None = None,  # refuse metadata outside it, or a key past max_keys
    ) -> APIKeyCreated:
        """Issue a key; its plaintext is in the result only, never stored (under a `policy`: see
        Lifecycle.create_key)."""
        return self.lifecycle.create_key(
            org_id,
            project_id=project_id,
            product_id=product_id,
            metadata=metadata,
            actor=actor,
            policy=policy,
        )

    def create_keys(
        self,
        org_id: str,  # owning organization
        count: int | None = None,  # how many keys alike (with `metadata`), 1-MAX_BULK
        *,
        specs: Sequence[KeyMetadata] | None = None,  # or: one key per metadata, instead of count
        metadata: KeyMetadata | None = None,  # the settings every key of `count` shares
        project_id: str | None = None,  # scope every key to a project of that organization
        product_id: str | None = None,  # … and / or to a product
        actor: str | None = None,  # who issues them, for the audit log (one event per key)
    ) -> list[APIKeyCreated]:
        """Issue many keys in one transaction (all or none), in order; their plaintexts are in
        the result only. At most MAX_BULK per call: more take several calls."""
        return self.lifecycle.create_keys(
            org_id,
            count=count,
            specs=specs,
            metadata=metadata,
            project_id=project_id,
            product_id=product_id,
            actor=actor,
        )

    def get_key(
        self,
        key_id: str,  # a key id
    ) -> APIKey:
        """The key's record (NotFoundError when there is none)."""
        return self.lifecycle.get_key(key_id)

    def update_key(
        self,
        key_id: str,  # the key
        *,
        metadata: KeyMetadata,  # its new metadata (replaces the old; remaining sets the credits)
        actor: str | None = None,  # who, for the audit log
    ) -> APIKey:
        """Change a key's metadata in place (scopes, limits, expiry, credits, name, custom); a
        rolled key's expiry (its grace period's end) may come sooner, never later."""
        return self.lifecycle.update_key(key_id, metadata=metadata, actor=actor)

    def revoke_key(
        self,
        key_id: str,  # the key
        *,
        actor: str | None = None,  # who, for the audit log
    ) -> APIKey:
        """Disable a key for good (kept for the record); revoking twice keeps the first date."""
        return self.lifecycle.revoke_key(key_id, actor=actor)

    def delete_key(
        self,
        key_id: str,  # the key
        *,
        actor: str | None = None,  # who, for the audit log
    ) -> None:
        """Remove a key and its counters for good (GDPR erasure); the audit log keeps the event."""
        return self.lifecycle.delete_key(key_id, actor=actor)

    def roll_key(
        self,
        key_id: str,  # the key to replace
        *,
        grace: timedelta = timedelta(0),  # how long the old key keeps working
        metadata: KeyMetadata | None = None,  # the new key's metadata; None = the old one's
        actor: str | None = None,  # who, for the audit log
        policy: KeyPolicy | None = None,  # keep the new key within it (not with metadata)
    ) -> APIKeyCreated:
        """A new key with the same settings and budget; the old one works until min(its expiry,
        now+grace), spending the new one's credits and window (see lineage.py; KeyPolicy.rolled)."""
        return self.lifecycle.roll_key(
            key_id, grace=grace, metadata=metadata, actor=actor, policy=policy
        )

    def list_org_keys(
        self,
        org_id: str,  # an organization
        *,
        status: KeyStatus = KeyStatus.all,  # active, revoked, expired or all
    ) -> list[APIKey]:
        """The organization's keys, oldest first."""
        return self.listing.list_org_keys(org_id, status=status)

    def list_project_keys(
        self,
        project_id: str,  # a project
        *,
        status: KeyStatus = KeyStatus.all,  # active, revoked, expired or all
    ) -> list[APIKey]:
        """The project's keys, oldest first."""
        return self.listing.list_project_keys(project_id, status=status)

    def list_audit_events(
        self,
        org_id: str,  # an organization
        *,
        key_id: str | None = None,  # only this key's events
        limit: int = 100,  # most events returned
    ) -> list[AuditEvent]:
        """The organization's audit events, newest first."""
        return self.listing.list_audit_events(org_id, key_id=key_id, limit=limit)

    # usage

    def key_usage(
        self,
        key_id: str,  # a key
        *,
        days: int = 30,  # how many UTC days, ending today
    ) -> list[UsageDay]:
        """Successful verifications per UTC day, oldest first (days without use count 0)."""
        return self.usage.key_usage(key_id, days=days)

    def prune_usage(
        self,
        keep_days: int = MAX_USAGE_DAYS,  # days of history to keep
    ) -> int:
        """Delete usage rows older than `keep_days`; returns how many (validation also does
        this, once a day per process)."""
        return self.usage.prune_usage(keep_days)
