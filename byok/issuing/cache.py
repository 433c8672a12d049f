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
from typing import Any, NamedTuple

from .models import APIKey

__all__ = ["Entry", "Parsed", "VerifiedCache"]


@dataclass
class Entry:
    """A key row as last read or written by this process."""

    row: dict[str, Any]  # the issued_keys columns
    key: APIKey  # the row as an APIKey
    seen: float  # time.monotonic() when the row was known to be current


class Parsed(NamedTuple):
    """A key row as the driver last returned it and the Entry made of it: the same row read
    again is the same Entry, without building it afresh (bench "validate_key read-only,
    cache_ttl=0 ≤ 4× HMAC + read": no metadata JSON parsed or checked again)."""

    raw: tuple  # the row's values, in the query's column order
    entry: Entry  # what they were made into


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
        self._parsed: dict[str, Parsed] = {}  # hash -> the row last read (kept even when ttl=0)
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

    def parsed(
        self,
        key_hash: str,  # the key's hash under the current pepper
    ) -> Parsed | None:
        """The row last read by this hash and its Entry; the caller compares the row it reads
        with `raw` (trusted only when equal: the Entry is a pure function of the row)."""
        return self._parsed.get(key_hash)

    def keep(
        self,
        key_hash: str,  # the key's hash under the current pepper
        raw: tuple,  # the row as the driver returned it
        entry: Entry,  # the Entry made of it
    ) -> None:
        """Remember a row read and its Entry (bounded like the cache)."""
        with self._lock:
            if key_hash not in self._parsed and len(self._parsed) >= self.size:
                del self._parsed[next(iter(self._parsed))]
            self._parsed[key_hash] = Parsed(raw, entry)

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
            self._parsed.clear()
