"""Hybrid storage: the database for persistence, a per-user copy in the session as a short-lived
cache (trusted for `config.hybrid_cache_ttl`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastsql import Database

from ..types import APIKey, BYOKConfig, SessionFullError, utcnow
from ..validation import validate_user_id
from .backend import Backend
from .database import DatabaseStorage
from .session import SessionStorage

__all__ = ["CLOCK_SKEW", "HybridStorage"]

CLOCK_SKEW = timedelta(seconds=5)  # how far in the future a cache copy may be written


class HybridStorage(Backend):
    """Database for persistence, a per-user session copy as a short-lived cache.

    A cached copy is trusted for `config.hybrid_cache_ttl`; after that the database is asked
    again, so a key deleted elsewhere disappears from every session within that time. The cache
    knows a provider's default only once the database named it (a flagged cell).
    """

    blocks = True  # the database is asked: async callers use the thread pool
    key_ttl = None  # the database copy is kept; the session copy is a cache
    needs_user = True  # rows belong to a user id
    caches = True  # a read may be a session copy sealed before a key rotation: refresh it

    def __init__(
        self,
        config: BYOKConfig,  # configuration
        db_url: str | Database | None = None,  # database URL or fastsql Database
    ):
        self.config = config
        self.session = SessionStorage(config, namespace="cache", flagged_default=True)
        self.database = DatabaseStorage(config, db_url or "sqlite:///byok_keys.db")

    def _cache(self, request: Any, key: APIKey) -> None:
        try:
            self.session.store(request, key)
        except SessionFullError:
            self.session.delete(
                request, key.provider, key.user_id, key.label
            )  # the database has it

    def _forget(self, request: Any, provider: str, user_id: str | None) -> None:
        """Drop every cached key of a provider (its default may have moved)."""
        for record in self.session.records(request, user_id):
            if record.provider == provider:
                self.session.delete(request, provider, user_id, record.label)

    def store(
        self,
        request: Any,  # a request with a session
        key: APIKey,  # sealed key; user_id required
    ) -> APIKey:
        """Write to the database, then cache in the session; returns it as the database has it."""
        stored = self.database.store(request, key)
        self._cache(request, key)
        return stored

    def retrieve(
        self,
        request: Any,  # a request with a session
        provider: str,  # provider name
        user_id: str | None = None,  # owner (required)
        label: str | None = None,  # which key; None = the provider's default
    ) -> APIKey | None:
        """The fresh session copy, else the database row (re-cached).

        A copy is fresh when written less than `hybrid_cache_ttl` ago (one written in the future,
        past a small clock-skew tolerance, is not) and unexpired: an expired copy is only a
        stale copy, the database decides whether the key expired.
        """
        user_id = validate_user_id(user_id, required=True)
        found = self.session.find(request, provider, user_id, label)
        if found is not None:
            copy, written = found
            age = utcnow() - written if written is not None else None
            if (
                age is not None
                and -CLOCK_SKEW <= age < self.config.hybrid_cache_ttl
                and not copy.is_expired
            ):
                return copy
        return self.refresh(request, provider, user_id, label)

    def refresh(
        self,
        request: Any,  # a request with a session
        provider: str,  # provider name
        user_id: str | None = None,  # owner (required)
        label: str | None = None,  # which key; None = the provider's default
    ) -> APIKey | None:
        """The database row, bypassing the session copy (which is replaced or removed)."""
        user_id = validate_user_id(user_id, required=True)
        key = self.database.retrieve(request, provider, user_id, label)
        if key is None or key.is_expired:
            if label is None:
                self._forget(request, provider, user_id)
            else:
                self.session.delete(request, provider, user_id, label)
        else:
            if label is None:  # the database chose it: the cache may call it the default
                key.is_default = True
            self._cache(request, key)
        return key

    def records(
        self,
        request: Any,  # unused
        user_id: str | None = None,  # owner (required)
    ) -> list[APIKey]:
        """Every stored key record of this owner (from the database)."""
        return self.database.records(request, user_id)

    def discard(
        self,
        request: Any,  # a request with a session
        key: APIKey,  # an expired database row as it was read
    ) -> bool:
        """Compare-and-delete the expired row; the session copy of its label goes either way
        (it is a cache)."""
        self.session.delete(request, key.provider, key.user_id, key.label)
        return self.database.discard(request, key)

    def delete(
        self,
        request: Any,  # a request with a session
        provider: str,  # provider name
        user_id: str | None = None,  # owner (required)
        label: str | None = None,  # which key; None = the provider's default
    ) -> None:
        """Remove from both."""
        self.database.delete(request, provider, user_id, label)
        self._forget(request, provider, user_id)

    def set_default(
        self,
        request: Any,  # a request with a session
        provider: str,  # provider name
        label: str,  # the key that becomes the default
        user_id: str | None = None,  # owner (required)
    ) -> bool:
        """Make one key the default (in the database; the cache forgets the provider)."""
        done = self.database.set_default(request, provider, label, user_id)
        self._forget(request, provider, user_id)
        return done

    def remove_expired(
        self,
        request: Any,  # unused
        user_id: str | None = None,  # owner; None = every user
    ) -> int:
        """Delete expired rows (from the database; the session copies are a cache)."""
        return self.database.remove_expired(request, user_id)

    def sweep_due(
        self,
        request: Any,  # unused
        user_id: str | None,  # owner
        interval: float,  # seconds between two sweeps of one owner
        now: float,  # epoch seconds
    ) -> bool:
        """The database's answer (the session copies are a cache: they expire with it)."""
        return self.database.sweep_due(request, user_id, interval, now)

    def sweep(
        self,
        request: Any,  # unused
        user_id: str | None,  # owner; None = every user
        now: float,  # epoch seconds
    ) -> int:
        """Delete the owner's expired rows (from the database); how many."""
        return self.database.sweep(request, user_id, now)

    def list_providers(
        self,
        request: Any,  # unused
        user_id: str | None = None,  # owner (required)
    ) -> list[str]:
        """Providers with a stored key (from the database)."""
        return self.database.list_providers(request, user_id)

    def clear_all(
        self,
        request: Any,  # a request with a session
        user_id: str | None = None,  # owner (required)
    ) -> None:
        """Remove every key of this owner from both."""
        self.database.clear_all(request, user_id)
        self.session.clear_all(request, user_id)
