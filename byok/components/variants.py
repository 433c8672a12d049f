"""Variant axes of the byok components: one str-Enum per axis, so plain strings still work.

Every component coerces its variant arguments with `coerce`, so `kind="info"` and
`kind=AlertKind.INFO` are the same call, and a wrong value raises a ValueError that names the
allowed values (the gallery enumerates these enums to cover every value).
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import TypeVar

__all__ = [
    "AlertKind",
    "AlertStyle",
    "DialogMode",
    "ExpiryChoice",
    "FieldType",
    "FormMethod",
    "GracePeriod",
    "IconSize",
    "IssuedKeyStatus",
    "KeyState",
    "KeyStatus",
    "RateWindow",
    "RevealState",
    "Severity",
    "SparkStyle",
    "StackSpacing",
    "StatusFilter",
    "TestState",
    "ToastAlign",
    "ToastPosition",
    "coerce",
]


class AlertKind(StrEnum):
    """What an alert or toast reports (its colour and icon)."""

    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


class AlertStyle(StrEnum):
    """How an alert is drawn; None (the default) is the filled style."""

    SOFT = "soft"
    OUTLINE = "outline"
    DASH = "dash"


class IconSize(StrEnum):
    """Icon size in Tailwind spacing units (h-N w-N)."""

    XS = "3"
    SM = "4"
    MD = "5"
    BASE = "6"
    LG = "8"
    XL = "10"
    XXL = "12"


class Severity(StrEnum):
    """How serious a security alert is."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class KeyStatus(StrEnum):
    """What just happened to a key (KeyStatusNotification)."""

    ADDED = "added"
    UPDATED = "updated"
    DELETED = "deleted"
    EXPIRED = "expired"
    INVALID = "invalid"


class ToastPosition(StrEnum):
    """Vertical place of the toast container."""

    TOP = "top"
    MIDDLE = "middle"
    BOTTOM = "bottom"


class ToastAlign(StrEnum):
    """Horizontal place of the toast container."""

    START = "start"
    CENTER = "center"
    END = "end"


class StackSpacing(StrEnum):
    """Gap between stacked alerts, in Tailwind spacing units."""

    NONE = "0"
    XS = "1"
    SM = "2"
    MD = "3"
    BASE = "4"
    LG = "6"
    XL = "8"


class FormMethod(StrEnum):
    """HTTP method of a key form (never GET: a key must not end up in a URL)."""

    POST = "post"
    PUT = "put"
    PATCH = "patch"


class FieldType(StrEnum):
    """Input type of an extra form field."""

    TEXT = "text"
    PASSWORD = "password"
    EMAIL = "email"
    URL = "url"
    NUMBER = "number"
    TEL = "tel"
    HIDDEN = "hidden"


class KeyState(StrEnum):
    """What a key card shows; derived from its arguments unless given."""

    EMPTY = "empty"  # no key stored
    STORED = "stored"  # a live key
    EXPIRING = "expiring"  # a live key that expires soon
    EXPIRED = "expired"  # past its expiry
    UNREADABLE = "unreadable"  # stored but cannot be decrypted: re-enter it


class TestState(StrEnum):
    """Outcome of a "test key" request (byok.verify's outcomes, plus pending and error)."""

    __test__ = False  # not a pytest test class

    PENDING = "pending"  # the request is on its way
    VALID = "valid"  # the provider accepted the key
    REJECTED = "rejected"  # the provider refused it (401 / 403)
    RATE_LIMITED = "rate_limited"  # the provider said "too many requests"
    UNREACHABLE = "unreachable"  # no answer in time, or the provider is down
    UNEXPECTED = "unexpected"  # an answer that is not the provider's (wrong URL, 500)
    BLOCKED = "blocked"  # the address is not allowed (SSRF guard): nothing was sent
    ERROR = "error"  # the key could not be tested (storage, no check, the app's verifier)


# --- issued keys (byok.components.issued) ---------------------------------------------------


class IssuedKeyStatus(StrEnum):
    """What a KeyStatusBadge says about an issued key."""

    ACTIVE = "active"  # works
    EXPIRING = "expiring"  # works, but not for long (a roll's grace period, or expiry is near)
    EXPIRED = "expired"  # past its expiry
    REVOKED = "revoked"  # revoked for good


class StatusFilter(StrEnum):
    """Which keys an IssuedKeyTable lists (the engine's KeyStatus values)."""

    ACTIVE = "active"  # neither revoked nor expired
    REVOKED = "revoked"  # revoked
    EXPIRED = "expired"  # past expiry, not revoked
    ALL = "all"  # every key


class ExpiryChoice(StrEnum):
    """When a new key expires (CreateKeyForm)."""

    NEVER = "never"
    DAYS_7 = "7"
    DAYS_30 = "30"
    DAYS_90 = "90"
    DATE = "date"  # on the date given beside the choice


class RateWindow(StrEnum):
    """The window of a new key's rate limit (the engine's RateLimitWindow values)."""

    SECOND = "second"
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"


class GracePeriod(StrEnum):
    """How long a rolled key keeps working (RollKeyDialog), in seconds."""

    NONE = "0"
    HOUR = "3600"
    DAY = "86400"
    WEEK = "604800"


class RevealState(StrEnum):
    """An IssuedKeyReveal showing the new key once, or only its masked form."""

    SHOWN = "shown"  # the plaintext, a copy button and the "you will not see it again" notice
    DISMISSED = "dismissed"  # the masked form only


class DialogMode(StrEnum):
    """How a RollKeyDialog opens."""

    MODAL = "modal"  # byok.js opens it as a modal dialog as soon as it is on the page
    INLINE = "inline"  # shown in the page's flow (no script needed)


class SparkStyle(StrEnum):
    """How a UsageSparkline draws its days."""

    BARS = "bars"  # one bar per day
    LINE = "line"  # a line through the days


E = TypeVar("E", bound=Enum)


def coerce(
    enum: type[E],  # the variant axis
    value: object,  # a member or its value (e.g. "info")
    param: str,  # parameter name, for the error message
) -> E:
    """The member of `enum` for `value`, or ValueError naming the allowed values."""
    if value.__class__ is enum:
        return value  # type: ignore[return-value]
    try:
        return enum(value)
    except (ValueError, TypeError):
        allowed = ", ".join(repr(m.value) for m in enum)  # type: ignore[attr-defined]
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise ValueError(f"{param} must be one of {allowed}; got {shown}") from None
