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
    "FieldType",
    "FormMethod",
    "IconSize",
    "KeyState",
    "KeyStatus",
    "Severity",
    "StackSpacing",
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
