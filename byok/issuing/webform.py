"""What the issued-key page's forms send, parsed in one place: CreateKeyForm's fields into a
KeyMetadata within the page's KeyPolicy (or an error per field, the typed values kept), what the
form offers under that policy, and RollKeyDialog's grace period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from byok.components.issued_fields import RateOffer
from byok.components.variants import ExpiryChoice, GracePeriod, RateWindow

from .models import MAX_NAME, KeyMetadata, RateLimit
from .policy import KeyPolicy, rate_text

__all__ = ["MAX_EXPIRY_DAYS", "NO_POLICY", "NewKey", "offer", "parse_grace", "parse_new_key"]

MAX_EXPIRY_DAYS = 3650  # latest expiry date a user may choose, in days from today
NO_POLICY = KeyPolicy()  # no rate limit to choose, no cap on keys or their lifetime
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


def _expiry(
    choice: str | None, on: str | None, now: datetime, latest: datetime | None
) -> datetime | None:
    """The expiry chosen (ValueError with the message to show); `latest` is the policy's cap
    (None: none): a choice past it is refused, a day ending past it ends at it."""
    today = now.date()
    default = ExpiryChoice.NEVER if latest is None else None
    try:
        picked = ExpiryChoice(choice or default) if choice or default else None
    except ValueError:
        raise ValueError("Choose when the key expires") from None
    if picked is None:  # not sent, under a max_lifetime: the longest allowed
        return latest
    if picked is ExpiryChoice.NEVER:
        if latest is not None:
            raise ValueError(f"Keys here must expire by {latest:%Y-%m-%d}: choose when")
        return None
    if picked is not ExpiryChoice.DATE:
        chosen = now + timedelta(days=int(picked.value))
        if latest is not None and chosen > latest:
            raise ValueError(f"Keys here must expire by {latest:%Y-%m-%d}: choose a sooner expiry")
        return chosen
    try:
        day = date.fromisoformat((on or "").strip())
    except ValueError:
        raise ValueError("Enter the expiry date as YYYY-MM-DD") from None
    if day <= today:
        raise ValueError("The expiry date must be after today")
    if latest is not None and day > latest.date():
        raise ValueError(f"Keys here must expire by {latest:%Y-%m-%d}: choose a sooner date")
    if day > today + timedelta(days=MAX_EXPIRY_DAYS):
        raise ValueError("Choose an expiry date within 10 years")
    end = datetime.combine(day + timedelta(days=1), time(0), UTC)  # the end of that day, UTC
    return end if latest is None else min(end, latest)


def _rate(requests: str | None, window: str | None, policy: KeyPolicy) -> RateLimit | None:
    """The rate limit chosen within the policy (ValueError with the message to show): none to
    choose unless it has a max_rate_limit; under one, at most it, in its window (empty: it)."""
    text = (requests or "").strip()
    cap = policy.max_rate_limit
    if cap is None:
        if text:
            fixed = policy.rate_limit
            if fixed is None:
                raise ValueError("Keys created here have no rate limit to choose: leave it out")
            raise ValueError(f"Keys created here get {rate_text(fixed)}: leave it out")
        return None
    if not text:
        return cap
    if not (text.isascii() and text.isdigit() and len(text) <= 10) or int(text) < 1:
        raise ValueError(f"The rate limit is a whole number of requests from 1 to {cap.requests:,}")
    if window and window != cap.window.value:
        raise ValueError(f"The rate-limit window here is per {cap.window.value}")
    if int(text) > cap.requests:
        raise ValueError(f"The rate limit can be at most {rate_text(cap)}")
    return RateLimit(int(text), cap.window)


def offer(
    policy: KeyPolicy,  # the page's policy
    now: datetime,  # the issuer's current time (UTC)
) -> dict[str, Any]:
    """CreateKeyForm's keyword arguments that show the policy: the rate field (only under a
    max_rate_limit), the expiries within max_lifetime, and what every key gets, in words."""
    cap, latest = policy.max_rate_limit, policy.latest_expiry(now)
    rate = (
        None
        if cap is None
        else RateOffer(cap.requests, (RateWindow(cap.window.value),), optional=False)
    )
    expiries = [
        c
        for c in ExpiryChoice
        if latest is None
        or c is ExpiryChoice.DATE
        or (c is not ExpiryChoice.NEVER and now + timedelta(days=int(c.value)) <= latest)
    ]
    notes = []
    if policy.rate_limit is not None:
        notes.append(f"Every key allows {rate_text(policy.rate_limit)}.")
    if policy.credits is not None:
        every = "" if policy.refill is None else f", reset {policy.refill.interval.value}"
        notes.append(f"Every key gets {policy.credits:,} credits{every}.")
    if latest is not None:
        notes.append(f"Keys expire by {latest:%Y-%m-%d}.")
    if policy.max_keys is not None:
        notes.append(f"You can hold up to {policy.max_keys:,} live keys.")
    return {
        "rate": rate,
        "expiries": expiries,
        "latest_date": None if latest is None else latest.date().isoformat(),
        "notes": notes,
    }


def parse_new_key(
    data: Mapping[str, Any],  # the request body (form fields or JSON)
    scopes: Sequence[str],  # the scope names the app declares
    environments: Sequence[str],  # the environments offered ([] when none)
    now: datetime,  # the issuer's current time (UTC)
    policy: KeyPolicy = NO_POLICY,  # what keys may be (rate, expiry, credits)
) -> NewKey:
    """CreateKeyForm's fields as a KeyMetadata within the policy, or an error per field (a
    value beyond the policy is refused, never clamped); never raises."""
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
        latest = policy.latest_expiry(now)
        expires_at = _expiry(_one(data, "expires"), _one(data, "expires_on"), now, latest)
    except _Shape:
        errors["expires"] = "Choose when the key expires"
    except ValueError as e:
        errors["expires"] = str(e)
    try:
        rate = _rate(_one(data, "rate_requests"), _one(data, "rate_window"), policy)
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
        chose = KeyMetadata(
            name=name, scopes=chosen, rate_limit=rate, expires_at=expires_at, custom=custom
        )
        new.metadata = policy.applied(chose)
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
