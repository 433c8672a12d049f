"""Input checks of the key API: provider names, API keys, user ids and labels. Each returns the
value as byok stores it, or raises ValidationError without echoing a secret."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from .bounds import later
from .security import mask_key
from .types import LABEL_PATTERN, MAX_USER_ID_LENGTH, PROVIDER_PATTERN, ValidationError

__all__ = [
    "expiry",
    "validate_api_key",
    "validate_label",
    "validate_provider",
    "validate_user_id",
]

_KEY_CHARS = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces or control characters
_PROVIDERS: set[str] = set()  # provider names seen valid (most apps have a handful)
_MAX_REMEMBERED = 1024  # past this many names, the set starts over


def validate_provider(
    provider: Any,  # a provider name
) -> str:
    """The provider name, or ValidationError when it does not match PROVIDER_PATTERN."""
    if provider.__class__ is str and provider in _PROVIDERS:
        return provider
    if not isinstance(provider, str) or not PROVIDER_PATTERN.fullmatch(provider):
        # masked: a provider argument that fails is sometimes the API key (arguments swapped)
        shown = repr(mask_key(provider)) if isinstance(provider, str) else type(provider).__name__
        raise ValidationError(
            f"invalid provider name {shown}: use 1-64 lowercase letters, digits, '-' or '_'"
        )
    if len(_PROVIDERS) >= _MAX_REMEMBERED:
        _PROVIDERS.clear()
    _PROVIDERS.add(provider)
    return provider


def validate_api_key(
    api_key: Any,  # the key as typed by a user
    max_length: int,  # longest key accepted
) -> str:
    """The key with surrounding whitespace removed, or ValidationError (the key is never echoed)."""
    if not isinstance(api_key, str):
        raise ValidationError(f"API key must be a string, not {type(api_key).__name__}")
    key = api_key.strip()
    if not key:
        raise ValidationError("API key is empty")
    if len(key) > max_length:
        raise ValidationError(f"API key is too long ({len(key)} characters; at most {max_length})")
    if not _KEY_CHARS.fullmatch(key):
        raise ValidationError(
            "API key may only contain printable ASCII characters (no spaces or control characters)"
        )
    return key


def validate_user_id(
    user_id: Any,  # a user id: str or int, or None
    required: bool = False,  # whether None is an error (database storage)
) -> str | None:
    """The user id as text, or ValidationError."""
    if user_id is None:
        if required:
            raise ValidationError("a user_id is required for database and hybrid storage")
        return None
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        if user_id.bit_length() > 4 * MAX_USER_ID_LENGTH:  # str() of a huge int is slow, or fails
            raise ValidationError(f"user_id must be 1-{MAX_USER_ID_LENGTH} printable characters")
        user_id = str(user_id)
    if not isinstance(user_id, str):
        raise ValidationError(f"user_id must be str or int, not {type(user_id).__name__}")
    if not user_id or len(user_id) > MAX_USER_ID_LENGTH or not user_id.isprintable():
        raise ValidationError(f"user_id must be 1-{MAX_USER_ID_LENGTH} printable characters")
    return user_id


def validate_label(
    label: Any,  # a key label as typed (None = "the provider's default key")
) -> str | None:
    """The label with surrounding spaces removed ("" = unlabelled), None kept; else
    ValidationError: 1-32 letters, digits, spaces, '.', '-' or '_'."""
    if label is None:
        return None
    if not isinstance(label, str):
        raise ValidationError(f"label must be text, not {type(label).__name__}")
    label = label.strip()
    if label and not LABEL_PATTERN.fullmatch(label):
        raise ValidationError(
            "A label is 1-32 letters, digits, spaces, '.', '-' or '_' (e.g. 'work', 'personal')"
        )
    return label


def expiry(
    now: datetime,  # when the key is stored
    ttl: Any,  # its lifetime as given (None = `default`)
    default: timedelta | None,  # the configured lifetime (None = never expires)
) -> datetime | None:
    """When a key stored `now` expires; ValidationError for a ttl that is not a positive
    timedelta or reaches past the year 9999 (byok.core.bounds)."""
    if ttl is None:
        ttl = default
    elif not isinstance(ttl, timedelta) or ttl <= timedelta(0):
        raise ValidationError("ttl must be a positive timedelta")
    return later(now, ttl, "ttl") if ttl is not None else None
