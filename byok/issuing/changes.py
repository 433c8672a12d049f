"""What a `Lifecycle` call is given, checked (the actor, a new key's metadata, a create_keys
call's specs), and the audited view of a key's settings (never key material)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import InvalidInputError
from .models import MAX_NAME, KeyMetadata

__all__ = ["MAX_BULK", "audit_diff", "audited", "bulk_specs", "checked_actor", "new_metadata"]

MAX_BULK = 100_000  # keys one create_keys call issues at most (its list is held in memory)


def checked_actor(value: Any) -> str | None:
    """Who made a change, for the audit log (None: nobody named); InvalidInputError otherwise."""
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_NAME or not value.isprintable():
        raise InvalidInputError(f"actor must be 1-{MAX_NAME} printable characters or None")
    return value


def audited(meta: KeyMetadata) -> dict[str, Any]:
    """The audited view of metadata (JSON-safe; `custom` is the app's own and kept out)."""
    rl = meta.rate_limit
    return {
        "name": meta.name,
        "scopes": meta.scopes,
        "rate_limit": None if rl is None else f"{rl.requests}/{rl.window.value}",
        "expires_at": None if meta.expires_at is None else meta.expires_at.isoformat(),
        "remaining": meta.remaining,
        "refill": None if meta.refill is None else f"{meta.refill.amount}/{meta.refill.interval}",
        "custom": sorted(meta.custom),
    }


def new_metadata(value: Any) -> KeyMetadata:
    """A new key's metadata (the defaults when None); InvalidInputError for anything else."""
    meta = KeyMetadata() if value is None else value
    if not isinstance(meta, KeyMetadata):
        raise InvalidInputError("metadata must be a KeyMetadata")
    return meta


def bulk_specs(count: Any, specs: Any, metadata: Any) -> list[KeyMetadata]:
    """The metadata of each key a create_keys call issues (count x metadata, or the specs)."""
    if (count is None) == (specs is None):
        raise InvalidInputError("give either count or specs")
    if specs is not None:
        if isinstance(specs, str | bytes) or not isinstance(specs, Sequence):
            raise InvalidInputError("specs must be a list of KeyMetadata")
        if metadata is not None:
            raise InvalidInputError("metadata is for count: give each spec its own")
        metas = [new_metadata(m) for m in specs]
    else:
        if not isinstance(count, int) or isinstance(count, bool) or not 0 < count <= MAX_BULK:
            raise InvalidInputError(f"count must be a whole number, 1-{MAX_BULK}")
        metas = [new_metadata(metadata)] * count  # bounded first: never a huge list
    if not 0 < len(metas) <= MAX_BULK:
        raise InvalidInputError(f"create_keys issues 1-{MAX_BULK} keys per call")
    return metas


def audit_diff(before: KeyMetadata, after: KeyMetadata) -> dict[str, list]:
    """What an update changed: setting -> [before, after] (the audited view)."""
    old, new = audited(before), audited(after)
    return {k: [old[k], new[k]] for k in new if old[k] != new[k]}
