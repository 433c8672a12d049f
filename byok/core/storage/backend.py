"""The one interface every key backend implements in full, and the traits the manager asks of
a backend instead of asking which kind it is (as starlette's middleware asks its
authentication backend, never its class).

A backend persists `APIKey` records (ciphertext and metadata); it never sees a plaintext key.
Every method takes the request first (session backends read its session, database backends
ignore it) and the owner's user id where keys belong to one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from ..types import APIKey, BYOKConfig, Endpoint, StorageBackend, ValidationError

if TYPE_CHECKING:
    from .database import DatabaseStorage

__all__ = [
    "Backend",
    "Peeked",
    "Saved",
    "after_save",
    "open_backend",
    "pick_default",
    "same_copy",
    "with_defaults",
]


def pick_default(
    records: Iterable[APIKey],  # one provider's keys
    flagged_only: bool = False,  # True: only a key flagged default counts (hybrid's cache)
) -> APIKey | None:
    """The provider's default key: the one flagged default, else the oldest (then by label)."""
    found = min(records, key=lambda r: (not r.is_default, r.created_at, r.label), default=None)
    return None if found is None or (flagged_only and not found.is_default) else found


def with_defaults(
    keys: list[APIKey],  # live records, sorted by provider and label
) -> list[APIKey]:
    """The same records, each provider's default (see `pick_default`) flagged, the others not."""
    if len(keys) == 1:  # the common case: one key, its provider's default
        keys[0].is_default = True
        return keys
    by_provider: dict[str, list[APIKey]] = {}
    for k in keys:
        by_provider.setdefault(k.provider, []).append(k)
    for group in by_provider.values():
        chosen = pick_default(group)
        for k in group:
            k.is_default = k is chosen
    return keys


def after_save(
    records: list[APIKey],  # the owner's records as read before the save (changed in place)
    saved: APIKey,  # the record stored
) -> tuple[bool, list[APIKey]]:
    """(whether `saved` replaced a record of the same provider and label, every live record of
    the owner after the save, sorted, each provider's default flagged)."""
    replaced, after = False, []
    for r in records:
        if r.provider == saved.provider:
            if r.label == saved.label:
                replaced = True
                continue
            if saved.is_default:  # the store cleared the provider's other flags
                r.is_default = False
        after.append(r)
    after.append(
        APIKey(saved.provider, saved.encrypted_value, saved.created_at, saved.expires_at,
               saved.user_id, saved.label, saved.endpoint, saved.is_default)
    )  # fmt: skip
    after.sort(key=lambda r: (r.provider, r.label))
    return replaced, with_defaults([r for r in after if not r.is_expired])


def same_copy(
    stored: APIKey,  # the copy stored now
    read: APIKey,  # the copy read earlier
) -> bool:
    """True when both are the same sealed copy (value and expiry; the nonce makes each seal
    unique), whatever flags were set on the read copy since."""
    return stored.encrypted_value == read.encrypted_value and stored.expires_at == read.expires_at


class Saved(NamedTuple):
    """What a backend's `save` did: the record as it reads back, whether it replaced one, and
    how to list the owner's live keys after it (from what the save read: no further read)."""

    record: APIKey  # the key as stored (its label and default flag decided by the save)
    replaced: bool  # a key of the same provider and label was there before
    after: Callable[[], list[APIKey]]  # the owner's live keys after the save, sorted, flagged


class Peeked(NamedTuple):
    """A stored key as a plain read needs it, without its record (bench row "session get_key
    vs one AES-GCM open": no APIKey built per read)."""

    sealed: bytes  # the sealed value
    expires: datetime | None  # when it expires (UTC), None = never
    endpoint: Endpoint | None  # its custom endpoint (bound into the associated data)
    owner: str  # who it is sealed for (`Backend.owner`)


class Backend(ABC):
    """Where sealed keys live. `BYOKManager` calls only these methods and reads only these traits."""

    blocks: ClassVar[bool]  # calls do I/O (database): async callers use the thread pool
    needs_user: ClassVar[bool]  # keys belong to a user id (None is refused)
    key_ttl: ClassVar[timedelta | None]  # a key's lifetime unless the app chooses (None = never)
    caches: ClassVar[bool] = False  # reads may come from a copy: `refresh` reads the source
    rewrap_on_read: ClassVar[bool] = False  # a key read under an old key version is resealed
    database: DatabaseStorage | None = None  # the database keys persist in (rotation, doctor)

    def owner(
        self,
        request: Any,  # the request
        user_id: str | None,  # the key's owner (validated)
    ) -> str:
        """Who a key is sealed for (part of its associated data): the user."""
        return f"user:{user_id}"

    @abstractmethod
    def store(
        self,
        request: Any,  # the request
        key: APIKey,  # sealed key and its metadata; a default clears the provider's others
    ) -> APIKey:
        """Insert or replace the key of (owner, provider, label); returns it as it reads back."""

    def save(
        self,
        request: Any,  # the request
        key: APIKey,  # sealed key and its metadata (label and is_default are decided here)
        label: str | None,  # its label; None = the provider's default's ("" when it has none)
        make_default: bool,  # flag it default even when the provider has another default
    ) -> Saved:
        """Store a key as `set_key` does: the provider's first key, a replaced default and a key
        asked to be default are flagged default. One read of the owner's records, one write."""
        records = self.records(request, key.user_id)
        default = pick_default(r for r in records if r.provider == key.provider)
        key.label = (default.label if default is not None else "") if label is None else label
        key.is_default = make_default or default is None or default.label == key.label
        stored = self.store(request, key)
        replaced, live = after_save(records, stored)
        return Saved(stored, replaced, lambda: live)

    @abstractmethod
    def retrieve(
        self,
        request: Any,  # the request
        provider: str,  # provider name
        user_id: str | None = None,  # owner
        label: str | None = None,  # which key; None = the provider's default
    ) -> APIKey | None:
        """The stored record (expired or not), or None."""

    def peek(
        self,
        request: Any,  # the request
        provider: str,  # provider name (validated)
        user_id: str | None,  # owner (validated)
        label: str | None,  # which key; None = the provider's default
    ) -> Peeked | None:
        """The key without its record when the backend has it at hand (no I/O, nothing to
        decide); None: read it with `retrieve`."""
        return None

    def refresh(
        self,
        request: Any,  # the request
        provider: str,  # provider name
        user_id: str | None = None,  # owner
        label: str | None = None,  # which key; None = the provider's default
    ) -> APIKey | None:
        """The record read from the source, past any cached copy (`retrieve` without a cache)."""
        return self.retrieve(request, provider, user_id, label)

    @abstractmethod
    def records(
        self,
        request: Any,  # the request
        user_id: str | None = None,  # owner
    ) -> list[APIKey]:
        """Every stored record of this owner (expired included), sorted by provider and label."""

    @abstractmethod
    def delete(
        self,
        request: Any,  # the request
        provider: str,  # provider name
        user_id: str | None = None,  # owner
        label: str | None = None,  # which key; None = the provider's default
    ) -> None:
        """Remove one key (no error when absent)."""

    @abstractmethod
    def discard(
        self,
        request: Any,  # the request
        key: APIKey,  # an expired copy as it was read
    ) -> bool:
        """Remove `key` only if it is still the stored copy (compare-and-delete); True if so."""

    @abstractmethod
    def set_default(
        self,
        request: Any,  # the request
        provider: str,  # provider name
        label: str,  # the key that becomes the default
        user_id: str | None = None,  # owner
    ) -> bool:
        """Make one key the provider's default; False when it is not stored."""

    def list_providers(
        self,
        request: Any,  # the request
        user_id: str | None = None,  # owner
    ) -> list[str]:
        """Providers with a stored key (expired included; the manager filters), sorted."""
        return sorted({r.provider for r in self.records(request, user_id)})

    @abstractmethod
    def clear_all(
        self,
        request: Any,  # the request
        user_id: str | None = None,  # owner
    ) -> None:
        """Remove every key of this owner."""

    @abstractmethod
    def remove_expired(
        self,
        request: Any,  # the request (session) or None (database)
        user_id: str | None = None,  # owner; None with a database = every user
    ) -> int:
        """Remove expired keys (compare-and-delete: a key saved meanwhile stays); how many."""

    @abstractmethod
    def sweep_due(
        self,
        request: Any,  # the request
        user_id: str | None,  # owner
        interval: float,  # seconds between two sweeps
        now: float,  # epoch seconds
    ) -> bool:
        """Whether the expiry sweep is due (no I/O; the backend knows where its stamp lives)."""

    @abstractmethod
    def sweep(
        self,
        request: Any,  # the request
        user_id: str | None,  # owner
        now: float,  # epoch seconds, stamped as the last sweep
    ) -> int:
        """Run the expiry sweep and stamp it; how many keys were removed."""


def open_backend(
    config: BYOKConfig,  # reads storage_backend (and what each backend reads)
    db_url: Any,  # str | fastsql Database | DatabaseStorage | None
) -> Backend:
    """The backend `config.storage_backend` names (the one place that asks which kind)."""
    from .database import DatabaseStorage
    from .hybrid import HybridStorage
    from .session import SessionStorage

    kind = config.storage_backend
    if kind is StorageBackend.SESSION:
        return SessionStorage(config)
    if kind is StorageBackend.DATABASE:
        if isinstance(db_url, DatabaseStorage):
            return db_url
        return DatabaseStorage(config, db_url or "sqlite:///byok_keys.db")
    if kind is StorageBackend.HYBRID:
        return HybridStorage(config, db_url)
    raise ValidationError(f"unknown storage backend {kind!r}")
