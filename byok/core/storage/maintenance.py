"""What a scheduler, the CLI or an admin page calls on a manager, not a request's key access:
the expiry sweep and the rotation of database rows to the newest key version (`BYOKManager`
inherits it)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..security import Keyring
from ..types import APIKey, BYOKConfig
from ..validation import validate_user_id
from .backend import Backend
from .rotation import RotationReport, opens, rotate

if TYPE_CHECKING:
    from .database import DatabaseStorage

__all__ = ["Maintenance"]


class Maintenance:
    """Expiry sweeps and key rotation of a `BYOKManager` (its config, keyring and storage)."""

    config: BYOKConfig
    keyring: Keyring
    storage: Backend

    def sweep_due(
        self,
        request: Any,  # the request
        user_id: str | None = None,  # owner (database and hybrid sweep per user)
        *,
        interval: timedelta | None = None,  # None = config.cleanup_interval
        now: float | None = None,  # epoch seconds; None = now
    ) -> bool:
        """Whether an expiry sweep is due for this session / owner (no I/O; False when
        config.auto_cleanup is off). The session keeps its stamp in the session, a database
        per owner in this process's memory."""
        if not self.config.auto_cleanup:
            return False
        seconds = (interval or self.config.cleanup_interval).total_seconds()
        when = time.time() if now is None else now
        return self.storage.sweep_due(request, validate_user_id(user_id), seconds, when)

    def sweep(
        self,
        request: Any,  # the request
        user_id: str | None = None,  # owner; None with a database = every user
        *,
        now: float | None = None,  # epoch seconds; None = now
    ) -> int:
        """Run the expiry sweep and stamp it; returns how many keys were removed (session: every
        owner in the session; database and hybrid: this owner's rows)."""
        when = time.time() if now is None else now
        return self.storage.sweep(request, validate_user_id(user_id), when)

    def cleanup_expired(
        self,
        request: Any,  # the request (session storage) or None (database: every user)
        user_id: str | None = None,  # owner; None with a database = all users
    ) -> int:
        """Remove expired keys; returns how many."""
        return self.storage.remove_expired(request, validate_user_id(user_id))

    @property
    def database(self) -> DatabaseStorage | None:
        """The database storage, when keys persist in one."""
        return self.storage.database

    def rotate_keys(
        self,
        batch_size: int = 500,  # rows per batch (each batch commits)
        progress: Callable[[int], None] | None = None,  # called with rows handled per batch
    ) -> RotationReport:
        """Re-encrypt every database row under the newest key. Resumable: run it again after a crash."""
        return rotate(self, batch_size, progress)

    def opens(
        self,
        key: APIKey,  # a database record (owner user_id, provider, endpoint, sealed value)
    ) -> bool:
        """True when this manager's secrets open the record (nothing is decrypted for show)."""
        return opens(self, key)

    def stale_count(self) -> int:
        """Database rows not yet under the newest key."""
        database = self.database
        return 0 if database is None else database.count_stale(self.keyring.version)
