"""Formatting and environment helpers (the reference's names), timezone-aware.

Times are compared in UTC: a naive datetime is read as this machine's local time (what
`datetime.now()` returns, as the reference's examples pass it), everywhere byok takes one.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from byok.core.providers import resolve_provider
from byok.core.types import BYOKException, EncryptionError, StorageError, as_utc, utcnow

__all__ = [
    "article",
    "format_expiration",
    "format_key_age",
    "format_provider_name",
    "get_env_key",
    "get_key_summary",
    "get_provider_info",
    "import_from_env",
    "to_utc",
]

_ENV_JUNK = re.compile(r"[^A-Z0-9_]")  # characters not allowed in an env variable name


_VOWEL_LETTERS = frozenset("AEFHILMNORSX")  # letters whose name starts with a vowel sound: "an F"
_CONSONANT_SOUND = ("eu", "one", "uni", "use", "usa", "ubi", "uti")  # "a user", "a unique key"
_SILENT_H = ("hour", "honest", "honor", "heir")  # "an hour"


def article(
    word: str,  # the word that follows, e.g. "OpenAI", "info", "API", "user"
) -> str:
    """ "a" or "an" by how the word sounds: "an OpenAI key", "an info alert", "an API", "a user"."""
    w = word.strip()
    if not w:
        return "a"
    head = w.split()[0].strip("\"'(")
    if len(head) > 1 and head.isupper():  # an acronym, read letter by letter: "an SDK", "a GPU"
        return "an" if head[0] in _VOWEL_LETTERS else "a"
    low = head.lower()
    if low.startswith(_SILENT_H):
        return "an"
    if low.startswith(_CONSONANT_SOUND):
        return "a"
    return "an" if low[:1] in "aeiou" else "a"


def get_provider_info(
    provider: str,  # provider identifier, e.g. "openai"
    provider_config: Mapping[str, Any] | None = None,  # overrides/extensions per provider
) -> dict[str, Any]:
    """The provider's info as a dict: registry defaults merged with the app's config."""
    return resolve_provider(provider, provider_config).as_dict()


def format_provider_name(
    provider: str,  # provider identifier
    provider_config: Mapping[str, Any] | None = None,  # overrides/extensions per provider
) -> str:
    """The provider's display name, e.g. "OpenAI"."""
    return resolve_provider(provider, provider_config).name


to_utc = as_utc  # the reference's name of `byok.core.types.as_utc` (one function, two names)


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 else 's'}"


def _span(delta: timedelta) -> str:
    """A positive duration in its largest whole unit: months (30 days), days, hours, minutes."""
    seconds = int(delta.total_seconds())
    days = seconds // 86400
    if days >= 30:
        return _plural(days // 30, "month")
    if days >= 1:
        return _plural(days, "day")
    if seconds >= 3600:
        return _plural(seconds // 3600, "hour")
    return _plural(max(1, seconds // 60), "minute")


def format_key_age(
    created_at: datetime,  # when the key was stored (naive = local time)
    now: datetime | None = None,  # the current time (default: now, UTC); fixed for snapshots
) -> str:
    """How long ago the key was stored, e.g. "3 days ago" or "just now" (reads inside a sentence)."""
    age = to_utc(now or utcnow()) - to_utc(created_at)
    if age < timedelta(minutes=1):  # also a time slightly ahead of ours (clock skew)
        return "just now"
    return f"{_span(age)} ago"


def format_expiration(
    expires_at: datetime | None,  # when the key expires (naive = local time), None = never
    now: datetime | None = None,  # the current time (default: now, UTC); fixed for snapshots
) -> str:
    """When the key expires, e.g. "Expires in 5 hours", "Expired" or "Never"."""
    if expires_at is None:
        return "Never"
    remaining = to_utc(expires_at) - to_utc(now or utcnow())
    if remaining <= timedelta(0):
        return "Expired"
    return f"Expires in {_span(remaining)}"


def get_key_summary(
    byok_manager: Any,  # a BYOKManager
    request: Any,  # the request
    user_id: str | None = None,  # owner
    provider_config: Mapping[str, Any] | None = None,  # overrides/extensions per provider
    now: datetime | None = None,  # the current time (default: now, UTC)
) -> dict[str, Any]:
    """Every stored key (each provider's default): display name, masked key, fingerprint, age,
    expiry; unreadable ones flagged. Built on `BYOKManager.overview` (one storage read)."""
    from byok.core.security import get_key_fingerprint

    keys = []
    for provider, card in byok_manager.overview(request, None, user_id).items():
        fingerprint = "N/A"
        if not card.unreadable:  # the fingerprint needs the key itself, never kept
            with contextlib.suppress(EncryptionError, StorageError):
                plain = byok_manager.get_key(request, provider, user_id, label=card.label)
                fingerprint = get_key_fingerprint(plain) if plain else "N/A"
                plain = None
        keys.append(
            {
                "provider": provider,
                "display_name": format_provider_name(provider, provider_config),
                "masked_key": card.masked_key or "N/A",
                "fingerprint": fingerprint,
                "created": format_key_age(card.created_at, now),
                "expires": format_expiration(card.expires_at, now),
                "is_expired": False,  # an overview shows live keys only
                "unreadable": card.unreadable,
            }
        )
    return {"count": len(keys), "keys": keys}


def _env_name(provider: str, env_prefix: str) -> str:
    return env_prefix + _ENV_JUNK.sub("_", str(provider).upper())


def get_env_key(
    provider: str,  # provider name, e.g. "openai" -> API_KEY_OPENAI
    env_prefix: str = "API_KEY_",  # environment variable prefix
) -> str | None:
    """The key in the environment variable f"{env_prefix}{PROVIDER}" ('-' -> '_'), or None."""
    value = os.environ.get(_env_name(provider, env_prefix))
    return value.strip() or None if value is not None else None


def import_from_env(
    byok_manager: Any,  # a BYOKManager
    request: Any,  # the request
    providers: Iterable[str],  # providers to look for
    user_id: str | None = None,  # owner
    env_prefix: str = "API_KEY_",  # environment variable prefix
) -> dict[str, bool]:
    """Store every key found in the environment; provider -> whether it was stored."""
    results: dict[str, bool] = {}
    for provider in providers:
        key = get_env_key(provider, env_prefix)
        stored = False
        if key:
            try:
                byok_manager.set_key(request, provider, key, user_id)
                stored = True
            except BYOKException:  # invalid key/provider, session full, storage failure
                stored = False
        results[provider] = stored
    return results
