"""An in-process cache of verified keys, by hash: a read-only validation of a key seen less than
`ttl` seconds ago needs no database query. Writes never trust it: they compare-and-swap on the
row's version, so a changed row (revoked, updated, counted elsewhere) is re-read at once.

Lock-free for readers (dict reads are atomic in CPython), so the async face may consult it on
the event loop; a small lock guards eviction.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from .models import APIKey

__all__ = ["Entry", "VerifiedCache"]


@dataclass
class Entry:
    """A key row as last read or written by this process."""

    row: dict[str, Any]  # the issued_keys columns
    key: APIKey  # the row as an APIKey
    seen: float  # time.monotonic() when the row was known to be current


class VerifiedCache:
    """Hash -> Entry, bounded, each entry trusted for `ttl` seconds."""

    def __init__(
        self,
        ttl: float,  # seconds an entry is trusted by read-only validation; 0 disables the cache
        size: int = 10_000,  # most entries kept (the oldest is dropped first)
    ):
        if not isinstance(ttl, int | float) or isinstance(ttl, bool) or not 0 <= ttl <= 3600:
            from .errors import InvalidInputError

            raise InvalidInputError("cache_ttl must be 0-3600 seconds")
        self.ttl, self.size = float(ttl), size
        self._entries: dict[str, Entry] = {}
        self._by_id: dict[str, str] = {}  # key id -> hash, to drop a key changed here
        self._lock = threading.Lock()

    def get(
        self,
        key_hash: str,  # the key's hash under the current pepper
    ) -> Entry | None:
        """The entry when it is younger than ttl, else None."""
        entry = self._entries.get(key_hash)
        if entry is None or time.monotonic() - entry.seen >= self.ttl:
            return None
        return entry

    def put(
        self,
        key_hash: str,  # the key's hash under the current pepper
        entry: Entry,  # what is now known of it
    ) -> None:
        """Remember an entry (no-op when the cache is disabled)."""
        if self.ttl <= 0:
            return
        with self._lock:
            if key_hash not in self._entries and len(self._entries) >= self.size:
                oldest = next(iter(self._entries))
                self._by_id.pop(self._entries.pop(oldest).key.id, None)
            self._entries[key_hash] = entry
            self._by_id[entry.key.id] = key_hash

    def drop(
        self,
        key_id: str,  # a key changed or deleted by this process
    ) -> None:
        """Forget a key at once (revocation is immediate in this process)."""
        with self._lock:
            key_hash = self._by_id.pop(key_id, None)
            if key_hash is not None:
                self._entries.pop(key_hash, None)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._by_id.clear()
