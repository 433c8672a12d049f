"""`mask_key`: a key shown for display, at most a third of it (string work, no secret involved;
importable from byok.core.security too, where the reference had it)."""

from __future__ import annotations

__all__ = ["mask_key"]


def mask_key(
    key: str,  # the API key to mask
    visible_chars: int = 4,  # characters shown at each end, at most (fewer for short keys)
) -> str:
    """Mask a key for display: at most a third of it shows, e.g. 'sk-p...wxyz'."""
    if not isinstance(key, str) or not key:
        return "********"
    shown = max(0, min(visible_chars, len(key) // 6))
    if shown == 0:
        return "********"
    return f"{key[:shown]}...{key[-shown:]}"
