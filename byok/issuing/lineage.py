"""A roll's lineage: the keys a roll replaced and the one that replaced them share one budget.

`roll_key` locks the key's row, re-checks it and writes the roll in one transaction, with a
compare-and-swap on the version it read: a concurrent update or revoke is either seen by the
roll's checks or applied after it, never undone. A rolled key is retired (`rolled_to` names its
successor) and is not rolled again: roll its successor. An update may bring a rolled key's end
sooner, never later (an update built before the roll does not revive the retired key).

Budget: the successor takes the key's live credits, refill time and rate-limit window; the old
key keeps no credits of its own. During its grace period the old key spends from the lineage's
head (the one key of the lineage not yet rolled), so the old and the new key together never get
more than the one key had. Every key of a lineage carries the id of its first key
(`lineage_id`), so the head is one indexed lookup however many rolls ago a key was retired.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ..core.database import from_iso, to_iso
from ..core.types import StorageError
from .errors import ExpiredKeyError, RevokedKeyError, RolledKeyError
from .limits import Plan
from .models import APIKey, KeyMetadata
from .store import Tables

__all__ = [
    "Conflict",
    "check_rollable",
    "head",
    "inherited",
    "retired",
    "shown",
    "spend_head",
    "updated",
]

HEAD_ATTEMPTS = 4  # lineage reads under lock before giving up (a head rolled at that moment)


class Conflict(Exception):
    """Internal: a row changed between the read and the write; the transaction is undone."""


def check_rollable(
    row: Any,  # the key's row, read under its lock
    now: datetime,  # the current time (UTC)
) -> None:
    """Refuse to roll a revoked, expired or already rolled key (the error says which)."""
    if row["revoked_at"] is not None:
        raise RevokedKeyError("a revoked key cannot be rolled")
    expires = from_iso(row["expires_at"])
    if expires is not None and expires <= now:
        raise ExpiredKeyError("an expired key cannot be rolled", expires)
    if row["rolled_to"] is not None:
        raise RolledKeyError(
            f"key {row['id']} was already rolled (to {row['rolled_to']}): roll that key instead",
            row["rolled_to"],
        )


def inherited(
    old: Any,  # the rolled key's row, read under its lock
    meta: KeyMetadata,  # the successor's metadata
    given: bool,  # whether the caller gave that metadata (its credits are then an explicit grant)
) -> dict[str, Any]:
    """The successor's settings, lineage and counters: the old key's credits, refill time and
    window (all from the row read under its lock)."""
    moved = {
        "metadata": meta.to_json(),
        "expires_at": to_iso(meta.expires_at),
        "lineage_id": old["lineage_id"] or old["id"],
        "rl_state": old["rl_state"],
    }
    if not given:  # the same settings: the live credits and the refill clock move as they are
        moved.update(remaining=old["remaining"], refilled_at=old["refilled_at"])
    elif meta.refill is not None and old["refilled_at"] is not None:
        moved["refilled_at"] = old["refilled_at"]  # a refill comes due when it would have
    return moved


def retired(
    old: Any,  # the rolled key's row, read under its lock
    meta: KeyMetadata,  # its metadata with the grace period's end as expiry
    new_id: str,  # the successor
    now: datetime,  # the current time (UTC)
) -> dict[str, Any]:
    """What the roll changes in the old key's row (and nothing else)."""
    return {
        "metadata": meta.to_json(),
        "expires_at": to_iso(meta.expires_at),
        "remaining": None if old["remaining"] is None else 0,  # moved to the successor
        "lineage_id": old["lineage_id"] or old["id"],
        "rolled_to": new_id,
        "updated_at": to_iso(now),
    }


def updated(
    metadata: KeyMetadata,  # the metadata an update_key gives
    row: Any,  # the key's row, read under its lock
) -> KeyMetadata:
    """The metadata to store: a rolled key's grace period may end sooner, never later."""
    ends = from_iso(row["expires_at"]) if row["rolled_to"] is not None else None
    if ends is None or (metadata.expires_at is not None and metadata.expires_at <= ends):
        return metadata
    return replace(metadata, expires_at=ends)


def head(
    tables: Tables,  # the issuing tables (inside the caller's guard)
    row: Any,  # a rolled key's row
    *,
    lock: bool = False,  # lock the head's row (the caller holds the rolled key's lock)
) -> dict | None:
    """The row of the lineage's head (its key not yet rolled); None when it was deleted."""
    for _ in range(HEAD_ATTEMPTS):
        found = tables.execute(tables.lineage_head, {"lin": row["lineage_id"]}).mappings().first()
        if found is None or not lock:
            return None if found is None else dict(found)
        tables.run(tables.lock_row, {"kid": found["id"]})
        again = tables.row(tables.key_by_id, {"id": found["id"]})
        if again is not None and again["rolled_to"] is None:  # still the head, now locked
            return again
    raise StorageError(f"the lineage of key {row['id']} kept changing")


def shown(
    key: APIKey,  # a rolled key after a validation
    remaining: int | None,  # its lineage's credits left (None: unlimited)
) -> APIKey:
    """The key as a validation answers it: with the credits it actually spends from."""
    if remaining == key.metadata.remaining:
        return key
    return replace(key, metadata=replace(key.metadata, remaining=remaining))


def spend_head(
    tables: Tables,  # the issuing tables (inside the caller's guard)
    row: dict,  # the head's row as read
    plan: Plan,  # its counters after this call (the engine's plan)
) -> None:
    """Write the head's counters if its row is still the one read; else Conflict."""
    params = {
        "kid": row["id"],
        "v": row["version"],
        "nv": row["version"] + 1,
        "rl": plan.rl,
        "rem": plan.rem,
        "refilled": plan.refilled,
    }
    if tables.run(tables.spend_untracked, params).rowcount != 1:
        raise Conflict
