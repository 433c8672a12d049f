"""Stand-ins used by stories that need a key manager (the dashboard), so their HTML is fixed.

`DemoManager` answers the three read calls `KeyManagerDashboard` makes (`list_providers`,
`get_key_info`, `get_masked_key`) from literal data: fixed dates and masked keys, no crypto and no
storage. The playground uses a real `BYOKManager`; stories use this, as Storybook stories use mocks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from byok.core.types import EncryptionError, StorageError

__all__ = ["DemoManager", "DemoRecord"]


@dataclass(frozen=True)
class DemoRecord:
    """What `get_key_info` returns: the metadata of a stored key (no ciphertext needed here)."""

    provider: str  # provider name
    created_at: datetime  # when it was stored
    expires_at: datetime | None = None  # when it expires (None = never)


class DemoManager:
    """A read-only stand-in for BYOKManager with fixed keys (for stories and snapshots)."""

    def __init__(
        self,
        keys: Mapping[str, Mapping[str, Any]]
        | None = None,  # provider -> {masked, created_at, expires_at}
        unreadable: tuple[str, ...] | list[str] = (),  # providers whose key fails to decrypt
        failing: bool = False,  # every call raises StorageError (the database is down)
    ) -> None:
        self.keys = {p: dict(v) for p, v in (keys or {}).items()}
        self.unreadable = tuple(unreadable)
        self.failing = failing

    def _check(self) -> None:
        if self.failing:
            raise StorageError("demo: the database is unreachable")

    def list_providers(
        self,
        request: Any,  # ignored
        user_id: str | None = None,  # ignored
    ) -> list[str]:
        """Providers with a key, sorted."""
        self._check()
        return sorted({*self.keys, *self.unreadable})

    def get_key_info(
        self,
        request: Any,  # ignored
        provider: str,  # provider name
        user_id: str | None = None,  # ignored
    ) -> DemoRecord | None:
        """The key's metadata, or None."""
        self._check()
        if provider in self.unreadable:
            raise EncryptionError(f"demo: the stored {provider} key cannot be decrypted")
        entry = self.keys.get(provider)
        if entry is None:
            return None
        return DemoRecord(provider, entry["created_at"], entry.get("expires_at"))

    def get_masked_key(
        self,
        request: Any,  # ignored
        provider: str,  # provider name
        user_id: str | None = None,  # ignored
    ) -> str | None:
        """The masked key, or None."""
        self._check()
        if provider in self.unreadable:
            raise EncryptionError(f"demo: the stored {provider} key cannot be decrypted")
        entry = self.keys.get(provider)
        return None if entry is None else entry.get("masked")
