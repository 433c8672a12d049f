"""`BYOKManager`: validates, seals with the keyring (bound to owner, provider and endpoint) and
hands `APIKey` records to a storage backend; the one object an app talks to.

Data flows one way: input → validation → `Keyring.seal` → `Backend.store`; reads come back the
same way. The manager asks its backend's traits (`blocks`, `needs_user`, `caches`,
`rewrap_on_read`, `database`), never which kind it is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from fastsql import Database

import byok.core.types as core_types

from ..endpoints import validate_endpoint
from ..providers import check_provider
from ..security import Keyring, bind, mask_key
from ..types import (
    APIKey,
    BYOKConfig,
    Credentials,
    EncryptionError,
    EventKind,
    KeyLifetime,
    KeyNotFoundError,
    KeyOverview,
    SavedKey,
    SessionFullError,
    StorageBackend,
    ValidationError,
    utcnow,
)
from ..validation import (
    expiry,
    validate_api_key,
    validate_label,
    validate_provider,
    validate_user_id,
)
from .backend import Backend, open_backend, pick_default, with_defaults
from .database import DatabaseStorage
from .events import Events
from .maintenance import Maintenance
from .session import SessionStorage

__all__ = ["BYOKManager"]


class BYOKManager(Maintenance):
    """Validates, seals and stores API keys; the one object an app talks to."""

    def __init__(
        self,
        secret_key: str | bytes,  # the app secret (≥ 16 bytes); keys are derived from it by HKDF
        db_url: str
        | Database
        | DatabaseStorage
        | None = None,  # database URL or fastsql Database (or DatabaseStorage): implies a database
        config: BYOKConfig | None = None,  # configuration (defaults if None)
    ):
        config = config or BYOKConfig()
        if db_url is not None and config.storage_backend is StorageBackend.SESSION:
            # a database given is a database used (on a copy: the caller's config is not changed)
            config = replace(config, storage_backend=StorageBackend.DATABASE)
        self.config = config
        self.keyring = Keyring.from_config(secret_key, config)
        self.backend = config.storage_backend  # which kind (for display; behaviour asks storage)
        self.storage: Backend = open_backend(config, db_url)
        # the session's own storage (its random id), also for a database: routes read it
        self._sessions = (
            self.storage if isinstance(self.storage, SessionStorage) else SessionStorage(config)
        )
        self._needs_user = self.storage.needs_user
        # the lifetime of a key saved without ttl=: the app's choice, else the backend's
        self._ttl = (
            self.storage.key_ttl
            if config.default_ttl is KeyLifetime.BY_STORAGE
            else config.default_ttl
        )
        self._emit = Events(config, self.keyring).emit  # log (masked) and call config.on_event

    @property
    def blocks(self) -> bool:
        """True when storage calls do I/O (database, hybrid): async callers run them in the
        thread pool; False for session storage (microseconds: run them inline)."""
        return self.storage.blocks

    def session_id(
        self,
        request: Any,  # a request with a session
    ) -> str:
        """This browser session's random id (created on first use), whatever the storage: what
        anonymous keys are sealed for, and what per-session limits count."""
        return self._sessions.session_id(request)

    @property
    def needs_user(self) -> bool:
        """True when keys belong to a user id (database, hybrid); session storage needs none."""
        return self.storage.needs_user

    # helpers

    def _args(self, provider: Any, user_id: Any) -> tuple[str, str | None]:
        provider = validate_provider(provider)
        if user_id is None and not self._needs_user:  # the anonymous session's key
            return provider, None
        return provider, validate_user_id(user_id, required=self._needs_user)

    def _live(self, request: Any, key: APIKey | None) -> APIKey | None:
        """The key, or None when expired (then removed if auto_cleanup: only the copy read, so
        a key saved meanwhile, from another device or process, is never removed)."""
        if key is None or not key.is_expired:
            return key
        if self.config.auto_cleanup and self.storage.discard(request, key):
            self._emit(EventKind.EXPIRE, key.provider, key.user_id)
        return None

    def _aad(self, request: Any, user_id: str | None, record: APIKey) -> bytes:
        """The associated data of a record: owner, provider and its endpoint."""
        owner = self.storage.owner(request, user_id)
        return bind(owner, record.provider, record.endpoint.encode() if record.endpoint else b"")

    def _unreadable(self, provider: str, user_id: str | None) -> EncryptionError:
        """Report a key that fails to decrypt (it is kept, never deleted) and make its error."""
        self._emit(EventKind.DECRYPT_FAILURE, provider, user_id, detail="kept, not deleted")
        return EncryptionError(
            f"the stored {provider} key cannot be decrypted (was the app secret changed? "
            "list the old one in config.previous_keys); it was kept"
        )

    def _open_from_source(
        self, request: Any, record: APIKey, label: str | None
    ) -> tuple[str, APIKey] | None:
        """A cached copy that fails to open (e.g. sealed with a key retired since) is dropped
        and the source's record opened instead; None when it is gone or expired."""
        fresh = self._live(
            request, self.storage.refresh(request, record.provider, record.user_id, label)
        )
        if fresh is None:
            return None
        try:
            return self.keyring.open(
                fresh.encrypted_value, self._aad(request, fresh.user_id, fresh)
            ), fresh
        except EncryptionError:
            raise self._unreadable(record.provider, record.user_id) from None

    def _open(
        self, request: Any, provider: Any, user_id: Any, label: Any
    ) -> tuple[str, APIKey] | None:
        """(plaintext, record) of one live key, None when absent or expired."""
        provider, user_id = self._args(provider, user_id)
        label = None if label is None else validate_label(label)
        return self._read(request, provider, user_id, label)

    def _read(
        self, request: Any, provider: str, user_id: str | None, label: str | None
    ) -> tuple[str, APIKey] | None:
        """`_open` of validated arguments."""
        record = self.storage.retrieve(request, provider, user_id, label)
        if record is None or (record.expires_at is not None and record.is_expired):
            return self._live(request, record)  # None (an expired one is removed)
        aad = self._aad(request, user_id, record)
        try:
            key = self.keyring.open(record.encrypted_value, aad)
        except EncryptionError:
            if self.storage.caches:  # the copy read may be outdated
                return self._open_from_source(request, record, label)
            raise self._unreadable(provider, user_id) from None
        if self.storage.rewrap_on_read and self.keyring.needs_rewrap(record.encrypted_value):
            record.encrypted_value = self.keyring.seal(key, aad)  # lazy rotation of the cookie
            with contextlib.suppress(SessionFullError):  # a read never fails for lack of room
                self.storage.store(request, record)
        return key, record

    # reference API

    def set_key(
        self,
        request: Any,  # the request (its session for session storage)
        provider: str,  # provider name, e.g. 'openai'
        api_key: str,  # the key (surrounding whitespace is removed)
        user_id: str | None = None,  # owner; required for database and hybrid storage
        ttl: timedelta | None = None,  # lifetime; None = config.default_ttl (or the backend's)
        *,
        label: str | None = None,  # which of the provider's keys; None = the default one
        endpoint: Any = None,  # custom Endpoint (or {field: text}); bound to the ciphertext
        make_default: bool = False,  # make this key the provider's default
    ) -> SavedKey:
        """Validate, seal (bound to owner, provider and endpoint) and store a key; returns it as
        stored with the owner's keys after the save (on a database: one read, one write; a default
        save on PostgreSQL takes its lock first)."""
        provider, user_id = self._args(check_provider(provider, where="set_key"), user_id)
        label = validate_label(label)
        key = validate_api_key(api_key, self.config.max_key_length)
        endpoint = validate_endpoint(endpoint)
        now = utcnow()
        record = APIKey(provider, b"", now, expiry(now, ttl, self._ttl), user_id,
                        "", endpoint)  # fmt: skip
        # the owner, provider and endpoint are sealed with it; label and default flag are not
        record.encrypted_value = self.keyring.seal(key, self._aad(request, user_id, record))
        saved = self.storage.save(request, record, label, make_default)  # one read, one write
        label = saved.record.label
        self._emit(
            EventKind.SET, provider, user_id, key, detail=f"label={label}" if label else None
        )
        return SavedKey(saved.record, mask_key(key), saved.replaced, saved.after)

    def get_key(
        self,
        request: Any,  # the request
        provider: str,  # provider name
        user_id: str | None = None,  # owner
        *,
        label: str | None = None,  # which of the provider's keys; None = the default one
    ) -> str | None:
        """The decrypted key, None when absent or expired; EncryptionError when unreadable."""
        # bench row "session get_key vs one AES-GCM open": a key the storage has at hand is
        # opened without its record; anything else (expired, old key version, failing) below
        provider, user_id = self._args(provider, user_id)
        label = None if label is None else validate_label(label)
        peeked = self.storage.peek(request, provider, user_id, label)
        if peeked is not None:
            sealed, expires, endpoint, owner = peeked
            # the clock APIKey.is_expired reads (core.types.utcnow), so both paths agree
            if (expires is None or core_types.utcnow() < expires) and not self.keyring.needs_rewrap(
                sealed
            ):
                aad = bind(owner, provider, endpoint.encode() if endpoint else b"")
                try:
                    return self.keyring.open(sealed, aad)
                except EncryptionError:
                    pass  # reported by the full read below
        opened = self._read(request, provider, user_id, label)
        return None if opened is None else opened[0]

    def get_credentials(
        self,
        request: Any,  # the request
        provider: str,  # provider name
        user_id: str | None = None,  # owner
        *,
        label: str | None = None,  # which of the provider's keys; None = the default one
    ) -> Credentials | None:
        """The decrypted key with its label and custom endpoint (what a call to the provider
        needs), None when absent or expired; the endpoint is authenticated with the key."""
        opened = self._open(request, provider, user_id, label)
        if opened is None:
            return None
        key, record = opened
        return Credentials(record.provider, key, record.label, record.endpoint)

    def delete_key(
        self,
        request: Any,  # the request
        provider: str,  # provider name
        user_id: str | None = None,  # owner
        *,
        label: str | None = None,  # which of the provider's keys; None = the default one
    ) -> None:
        """Delete a key (no error when absent); the oldest remaining one becomes the default."""
        provider, user_id = self._args(provider, user_id)
        label = validate_label(label)
        self.storage.delete(request, provider, user_id, label)
        self._emit(EventKind.DELETE, provider, user_id, detail=f"label={label}" if label else None)

    def set_default(
        self,
        request: Any,  # the request
        provider: str,  # provider name
        label: str,  # the key that becomes the default ("" = the unlabelled one)
        user_id: str | None = None,  # owner
    ) -> None:
        """Make one of the provider's keys its default; KeyNotFoundError when it is not stored."""
        provider, user_id = self._args(provider, user_id)
        label = validate_label(label)
        if label is None:
            raise ValidationError("name the key to make the default (its label, '' if none)")
        if not self.storage.set_default(request, provider, label, user_id):
            raise KeyNotFoundError(f"no {provider} key labelled {label!r} is stored")

    def list_providers(
        self,
        request: Any,  # the request
        user_id: str | None = None,  # owner
    ) -> list[str]:
        """Providers with a live (unexpired) key, sorted."""
        return sorted({k.provider for k in self.list_keys(request, user_id)})

    def clear_keys(
        self,
        request: Any,  # the request
        user_id: str | None = None,  # owner
    ) -> None:
        """Delete every key of this owner."""
        user_id = validate_user_id(user_id, required=self._needs_user)
        self.storage.clear_all(request, user_id)
        self._emit(EventKind.CLEAR, "*", user_id)

    def has_key(
        self,
        request: Any,  # the request
        provider: str,  # provider name
        user_id: str | None = None,  # owner
        *,
        label: str | None = None,  # which of the provider's keys; None = the default one
    ) -> bool:
        """True when a live key is stored (no decryption)."""
        return self.get_key_info(request, provider, user_id, label=label) is not None

    # byok additions

    def get_key_info(
        self,
        request: Any,  # the request
        provider: str,  # provider name
        user_id: str | None = None,  # owner
        *,
        label: str | None = None,  # which of the provider's keys; None = the default one
    ) -> APIKey | None:
        """The live key's record (ciphertext, dates, label, endpoint), without decrypting it."""
        provider, user_id = self._args(provider, user_id)
        label = validate_label(label)
        return self._live(request, self.storage.retrieve(request, provider, user_id, label))

    def get_masked_key(
        self,
        request: Any,  # the request
        provider: str,  # provider name
        user_id: str | None = None,  # owner
        *,
        label: str | None = None,  # which of the provider's keys; None = the default one
    ) -> str | None:
        """The key masked for display (e.g. 'sk-p...wxyz'), or None."""
        key = self.get_key(request, provider, user_id, label=label)
        return None if key is None else mask_key(key)

    def list_keys(
        self,
        request: Any,  # the request
        user_id: str | None = None,  # owner
    ) -> list[APIKey]:
        """Records of every live key of this owner, sorted by provider and label; each
        provider's default (the one get_key returns unlabelled) has is_default set."""
        user_id = validate_user_id(user_id, required=self._needs_user)
        return with_defaults(
            [k for k in self.storage.records(request, user_id) if self._live(request, k)]
        )

    def overview(
        self,
        request: Any,  # the request (its session for session storage)
        providers: Iterable[str] | None,  # the providers asked about; None = every one stored
        user_id: str | None = None,  # owner; required for database and hybrid storage
        *,
        keys: Iterable[APIKey] | None = None,  # the owner's records (e.g. SavedKey.keys): no read
    ) -> dict[str, KeyOverview]:
        """provider -> what its card shows, for each of `providers` with a live key: one storage
        read (none with `keys=`), decryption only to mask; an undecryptable key is unreadable."""
        user_id = validate_user_id(user_id, required=self._needs_user)
        wanted = None if providers is None else [validate_provider(p) for p in providers]
        found = self.storage.records(request, user_id) if keys is None else keys
        groups: dict[str, list[APIKey]] = {}
        for k in found:
            if not k.is_expired:
                groups.setdefault(k.provider, []).append(k)
        if wanted is None:
            wanted = sorted(groups)
        out: dict[str, KeyOverview] = {}
        for provider in wanted:
            group = sorted(groups.get(provider, ()), key=lambda k: k.label)
            if provider in out or not group:
                continue
            chosen = pick_default(group)
            others = tuple(self._card(request, k) for k in group if k is not chosen)
            card = self._card(request, chosen)
            out[provider] = replace(card, others=others) if others else card
        return out

    def _card(self, request: Any, key: APIKey) -> KeyOverview:
        """One key as a card shows it: masked (decrypted only for that), or unreadable."""
        try:
            masked = mask_key(
                self.keyring.open(key.encrypted_value, self._aad(request, key.user_id, key))
            )
        except EncryptionError:
            self._emit(EventKind.DECRYPT_FAILURE, key.provider, key.user_id, detail="overview")
            masked = None
        return KeyOverview(
            masked, key.created_at, key.expires_at, masked is None, key.label, key.endpoint
        )
