"""What the issued-key page's forms send, parsed in one place: CreateKeyForm's fields into a
KeyMetadata (or an error per field, the typed values kept) and RollKeyDialog's grace period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from byok.components.variants import ExpiryChoice, GracePeriod, RateWindow

from .models import MAX_NAME, KeyMetadata, RateLimit, RateLimitWindow

__all__ = ["MAX_EXPIRY_DAYS", "MAX_RATE", "NewKey", "parse_grace", "parse_new_key"]

MAX_EXPIRY_DAYS = 3650  # latest expiry date a user may choose, in days from today
MAX_RATE = 1_000_000  # most requests a user may allow per window
_KEPT = 1000  # longest typed value sent back into the form
FIELDS = ("name", "scopes", "expires", "expires_on", "rate_requests", "rate_window", "environment")


@dataclass
class NewKey:
    """A parsed CreateKeyForm: the metadata to issue, or the errors to show beside the fields."""

    values: dict[str, Any]  # what the user typed (strings; `scopes` a list), to keep in the form
    errors: dict[str, str] = field(default_factory=dict)  # field -> message (empty: all good)
    metadata: KeyMetadata | None = None  # the key's metadata when there is no error
    environment: str = ""  # the chosen environment ("" when the app has none)


class _Shape(Exception):
    """A field sent repeated or as something other than text."""


def _one(data: Mapping[str, Any], name: str) -> str | None:
    """A single text field (None when absent); a repeated or non-text one is a _Shape."""
    raw = data.get(name)
    if raw is None or isinstance(raw, str):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):  # a JSON number
        return str(raw)
    raise _Shape(name)


def _many(data: Mapping[str, Any], name: str) -> list[str]:
    raw = data.get(name)
    if raw is None or raw == "":
        return []
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, Sequence) or not all(isinstance(s, str) for s in items):
        raise _Shape(name)
    return list(dict.fromkeys(items))


def _kept(data: Mapping[str, Any]) -> dict[str, Any]:
    """The typed values to send back (text only, and not too long)."""
    out: dict[str, Any] = {}
    for name in FIELDS:
        try:
            if name == "scopes":
                out[name] = [s[:_KEPT] for s in _many(data, name)]
            else:
                value = _one(data, name)
                out[name] = None if value is None else value[:_KEPT]
        except _Shape:
            out[name] = None
    return out


def _expiry(choice: str | None, on: str | None, today: date, now: datetime) -> datetime | None:
    """The expiry chosen (ValueError with the message to show)."""
    try:
        picked = ExpiryChoice(choice or ExpiryChoice.NEVER)
    except ValueError:
        raise ValueError("Choose when the key expires") from None
    if picked is ExpiryChoice.NEVER:
        return None
    if picked is not ExpiryChoice.DATE:
        return now + timedelta(days=int(picked.value))
    try:
        day = date.fromisoformat((on or "").strip())
    except ValueError:
        raise ValueError("Enter the expiry date as YYYY-MM-DD") from None
    if day <= today:
        raise ValueError("The expiry date must be after today")
    if day > today + timedelta(days=MAX_EXPIRY_DAYS):
        raise ValueError("Choose an expiry date within 10 years")
    return datetime.combine(day + timedelta(days=1), time(0), UTC)  # the end of that day, UTC


def _rate(requests: str | None, window: str | None) -> RateLimit | None:
    """The rate limit chosen, None for none (ValueError with the message to show)."""
    text = (requests or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 7) or not 1 <= int(text) <= MAX_RATE:
        raise ValueError(f"The rate limit is a whole number of requests from 1 to {MAX_RATE:,}")
    try:
        win = RateWindow(window or RateWindow.MINUTE)
    except ValueError:
        raise ValueError("Choose a rate-limit window: second, minute, hour or day") from None
    return RateLimit(int(text), RateLimitWindow(win.value))


def parse_new_key(
    data: Mapping[str, Any],  # the request body (form fields or JSON)
    scopes: Sequence[str],  # the scope names the app declares
    environments: Sequence[str],  # the environments offered ([] when none)
    now: datetime,  # the issuer's current time (UTC)
) -> NewKey:
    """CreateKeyForm's fields as a KeyMetadata, or an error per field; never raises."""
    new = NewKey(_kept(data))
    errors = new.errors
    try:
        name = (_one(data, "name") or "").strip()
    except _Shape:
        name, errors["name"] = "", "Send one name, as text"
    if "name" not in errors:
        if not name:
            errors["name"] = "Give the key a name, e.g. the app or server that uses it"
        elif len(name) > MAX_NAME:
            errors["name"] = f"Keep the name to {MAX_NAME} characters"
        elif not name.isprintable():
            errors["name"] = "The name may not contain control characters"
    try:
        chosen = _many(data, "scopes")
        unknown = [s for s in chosen if s not in scopes]
        if unknown:
            errors["scopes"] = "Choose scopes from the list"
        elif not chosen:
            errors["scopes"] = "Choose at least one scope"
    except _Shape:
        chosen, errors["scopes"] = [], "Choose scopes from the list"
    expires_at = rate = None
    try:
        expires_at = _expiry(_one(data, "expires"), _one(data, "expires_on"), now.date(), now)
    except _Shape:
        errors["expires"] = "Choose when the key expires"
    except ValueError as e:
        errors["expires"] = str(e)
    try:
        rate = _rate(_one(data, "rate_requests"), _one(data, "rate_window"))
    except _Shape:
        errors["rate_limit"] = "Send one rate limit"
    except ValueError as e:
        errors["rate_limit"] = str(e)
    if environments:
        try:
            env = _one(data, "environment") or environments[0]
        except _Shape:
            env = ""
        if env not in environments:
            errors["environment"] = "Choose an environment from the list"
        new.environment = env
    if not errors:
        custom = {"environment": new.environment} if environments else {}
        new.metadata = KeyMetadata(
            name=name, scopes=chosen, rate_limit=rate, expires_at=expires_at, custom=custom
        )
    return new


def parse_grace(
    data: Mapping[str, Any],  # the roll form's body
) -> timedelta | None:
    """The grace period chosen in RollKeyDialog; None when it is not one of the choices."""
    raw = data.get("grace", GracePeriod.DAY.value)
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    try:
        return timedelta(seconds=int(GracePeriod(raw).value))
    except (ValueError, TypeError):
        return None
