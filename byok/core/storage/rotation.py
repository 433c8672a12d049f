"""Key rotation of a database: every row re-encrypted under the keyring's newest version, in
keyset-paginated batches, one compare-and-swap transaction per batch (resumable after a crash).
Session keys rotate when read (`Backend.rewrap_on_read`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..bounds import bounded_int
from ..types import APIKey, EncryptionError, EventKind, StorageError

if TYPE_CHECKING:
    from .database import DatabaseStorage
    from .manager import BYOKManager

__all__ = ["RotationReport", "opens", "rotate"]


@dataclass
class RotationReport:
    """What a rotation did."""

    rewrapped: int = 0  # rows re-encrypted under the newest key
    changed: int = 0  # rows skipped because they were rewritten meanwhile (already current)
    failed: int = 0  # rows that could not be decrypted (left untouched, reported)


def rotate(
    manager: BYOKManager,  # whose keyring rewraps and whose database is rotated
    batch_size: int = 500,  # rows per batch (each batch commits)
    progress: Callable[[int], None] | None = None,  # called with rows handled per batch
) -> RotationReport:
    """Re-encrypt every database row under the newest key; StorageError without a database."""
    database = manager.database
    if database is None:
        raise StorageError("rotation needs database storage; session keys rotate when read")
    report = RotationReport()
    for batch in _batches(database, manager.keyring.version, batch_size):
        changes = []
        for key in batch:
            aad = manager._aad(None, key.user_id, key)  # a row's owner is always a user
            try:
                changes.append((key, manager.keyring.rewrap(key.encrypted_value, aad)))
            except EncryptionError:
                report.failed += 1
                manager._emit(
                    EventKind.DECRYPT_FAILURE, key.provider, key.user_id, detail="rotation"
                )
        replaced = database.replace_values(changes)  # one transaction per batch
        report.rewrapped += replaced
        report.changed += len(changes) - replaced
        if progress is not None:
            progress(len(batch))
    detail = f"rewrapped={report.rewrapped} changed={report.changed} failed={report.failed}"
    manager._emit(EventKind.ROTATE, "*", None, detail=detail)
    return report


def _batches(
    database: DatabaseStorage,  # the rows' storage
    version: int,  # the newest key version
    batch_size: int,  # rows per batch
) -> Iterator[list[APIKey]]:
    """Batches of rows not yet under the newest key, by keyset pagination."""
    bounded_int(batch_size, "batch_size", low=1)  # a SQL LIMIT
    cursor = ("", "", "")
    while batch := database.stale(version, batch_size, cursor):
        yield batch
        cursor = (batch[-1].user_id or "", batch[-1].provider, batch[-1].label)


def opens(
    manager: BYOKManager,  # whose secrets are tried
    key: APIKey,  # a database record (owner user_id, provider, endpoint, sealed value)
) -> bool:
    """True when the manager's secrets open the record (nothing is decrypted for show)."""
    try:
        manager.keyring.open(key.encrypted_value, manager._aad(None, key.user_id, key))
    except EncryptionError:
        return False
    return True
