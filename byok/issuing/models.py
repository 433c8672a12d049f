"""The issued-key models: apikeys-platform's names and fields as plain typed dataclasses, each
checking its input once, at construction (a bad value is an InvalidInputError, never later a
TypeError). Ids are strings of UUIDs; every datetime is timezone-aware UTC. Each also answers
pydantic's `model_dump()`, `model_dump_json()`, `model_validate()` (see pydantic_compat).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from ..core.bounds import bounded_int, held, held_moment, moment
from ..core.types import utcnow
from .errors import InvalidInputError
from .pydantic_compat import PydanticCompat  # model_dump() & co. (pydantic's habits)

__all__ = [
    "APIKey",
    "APIKeyCreated",
    "AuditAction",
    "AuditEvent",
    "KeyMetadata",
    "KeyStatus",
    "Organization",
    "Product",
    "Project",
    "RateLimit",
    "RateLimitWindow",
    "Refill",
    "RefillInterval",
    "UsageDay",
]

MAX_NAME = 200  # longest name of an organization, project, product or key
MAX_SCOPE = 64  # longest scope
MAX_SCOPES = 100  # most scopes on one key
MAX_CUSTOM_BYTES = 16_384  # largest `custom` dict, as JSON


def _set(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)  # normalise a field of a frozen dataclass


def _count(value: Any, what: str) -> int:
    """A positive int a column holds (bools refused), else InvalidInputError."""
    return bounded_int(value, what, low=1, error=InvalidInputError)


def aware(
    value: Any,  # a datetime given by a caller
    what: str,  # which field, for the message
) -> datetime:
    """The datetime in UTC; a naive one, a non-datetime or one out of the stored range
    (byok.core.bounds) is an InvalidInputError."""
    return moment(value, what, error=InvalidInputError)


def check_name(
    value: Any,  # a name given by a caller
    what: str,  # which kind of name, for the message
) -> str:
    """A name: 1-200 printable characters, not only spaces."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME:
        raise InvalidInputError(f"{what} must be 1-{MAX_NAME} characters")
    if not value.isprintable():
        raise InvalidInputError(f"{what} may not contain control characters")
    return value


class RateLimitWindow(StrEnum):
    """The span a rate limit counts over."""

    second = "second"
    minute = "minute"
    hour = "hour"
    day = "day"

    @property
    def seconds(self) -> int:
        """The window's length in seconds."""
        return _WINDOW_SECONDS[self]


_WINDOW_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_WINDOW_SECONDS = {RateLimitWindow(k): v for k, v in _WINDOW_SECONDS.items()}


@dataclass(frozen=True)
class RateLimit(PydanticCompat):
    """At most `requests` successful validations in any `window`-long span (sliding)."""

    requests: int  # calls allowed per window (> 0)
    window: RateLimitWindow = RateLimitWindow.minute  # the window

    def __post_init__(self) -> None:
        _count(self.requests, "RateLimit.requests")
        try:
            _set(self, "window", RateLimitWindow(self.window))
        except ValueError:
            raise InvalidInputError(
                f"RateLimit.window must be one of second, minute, hour, day, not {self.window!r:.40}"
            ) from None


class RefillInterval(StrEnum):
    """When credits are refilled: at 00:00 UTC every day, or on the 1st of every month."""

    daily = "daily"
    monthly = "monthly"


@dataclass(frozen=True)
class Refill(PydanticCompat):
    """Credits reset to `amount` at every `interval` boundary."""

    amount: int  # credits after each refill (> 0)
    interval: RefillInterval = RefillInterval.daily  # how often

    def __post_init__(self) -> None:
        _count(self.amount, "Refill.amount")
        try:
            _set(self, "interval", RefillInterval(self.interval))
        except ValueError:
            raise InvalidInputError("Refill.interval must be 'daily' or 'monthly'") from None


@dataclass(frozen=True)
class KeyMetadata(PydanticCompat):
    """What a key may do: name, scopes, rate limit, expiry, credits and your own JSON."""

    name: str | None = None  # a label for people, e.g. "Alice's key"
    scopes: list[str] = field(default_factory=list)  # permissions, e.g. ["read", "write"]
    rate_limit: RateLimit | None = None  # sliding-window limit; None = unlimited
    expires_at: datetime | None = None  # when the key stops working (timezone-aware); None = never
    custom: dict[str, Any] = field(default_factory=dict)  # your JSON, e.g. {"user_id": "u_1"}
    remaining: int | None = None  # credits left (each success spends one); None = unlimited
    refill: Refill | None = None  # credits reset on a schedule (needs `remaining`)

    def __post_init__(self) -> None:
        if self.name is not None:
            check_name(self.name, "KeyMetadata.name")
        _set(self, "scopes", _scopes(self.scopes))
        if self.rate_limit is not None and not isinstance(self.rate_limit, RateLimit):
            raise InvalidInputError("KeyMetadata.rate_limit must be a RateLimit or None")
        if self.expires_at is not None:
            _set(self, "expires_at", aware(self.expires_at, "KeyMetadata.expires_at"))
        _set(self, "custom", _custom(self.custom))
        if self.remaining is not None:
            bounded_int(self.remaining, "KeyMetadata.remaining", error=InvalidInputError)
        if self.refill is not None:
            if not isinstance(self.refill, Refill):
                raise InvalidInputError("KeyMetadata.refill must be a Refill or None")
            if self.remaining is None:
                raise InvalidInputError("KeyMetadata.refill needs remaining (the current credits)")

    def to_json(self) -> str:
        """The metadata as JSON text (how it is stored)."""
        rl, rf = self.rate_limit, self.refill
        return json.dumps(
            {
                "name": self.name,
                "scopes": self.scopes,
                "rate_limit": None if rl is None else [rl.requests, rl.window.value],
                "expires_at": None if self.expires_at is None else self.expires_at.isoformat(),
                "custom": self.custom,
                "refill": None if rf is None else [rf.amount, rf.interval.value],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(
        cls,
        text: str,  # what `to_json` wrote
        remaining: int | None,  # the live credits (a column of their own)
    ) -> KeyMetadata:
        """Rebuild stored metadata (ValueError/TypeError/KeyError when damaged); numbers and a
        date stored before byok.core.bounds are held to its range."""
        d = json.loads(text)
        rl, rf, exp = d["rate_limit"], d["refill"], d["expires_at"]
        return cls(
            name=d["name"],
            scopes=d["scopes"],
            rate_limit=None if rl is None else RateLimit(held(rl[0]), RateLimitWindow(rl[1])),
            expires_at=None if exp is None else held_moment(datetime.fromisoformat(exp)),
            custom=d["custom"],
            remaining=held(remaining),
            refill=None if rf is None else Refill(held(rf[0]), RefillInterval(rf[1])),
        )


def _scopes(value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence | set | frozenset):
        raise InvalidInputError('KeyMetadata.scopes must be a list of strings, e.g. ["read"]')
    scopes = list(dict.fromkeys(value))  # order kept, duplicates dropped
    if len(scopes) > MAX_SCOPES:
        raise InvalidInputError(f"a key may have at most {MAX_SCOPES} scopes")
    for s in scopes:
        if not isinstance(s, str) or not 0 < len(s) <= MAX_SCOPE or not s.isprintable() or " " in s:
            raise InvalidInputError(f"a scope is 1-{MAX_SCOPE} printable characters without spaces")
    return scopes


def _custom(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInputError("KeyMetadata.custom must be a dict")
    try:
        text = json.dumps(dict(value), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InvalidInputError(f"KeyMetadata.custom must be JSON-serialisable ({e})") from None
    if len(text) > MAX_CUSTOM_BYTES:
        raise InvalidInputError(f"KeyMetadata.custom is over {MAX_CUSTOM_BYTES} bytes as JSON")
    return json.loads(text)  # a private copy: later changes to the caller's dict do not leak in


class KeyStatus(StrEnum):
    """Filter for key listings."""

    active = "active"  # neither revoked nor expired
    revoked = "revoked"  # revoked (expired or not)
    expired = "expired"  # past expires_at, not revoked
    all = "all"  # every key


@dataclass(frozen=True)
class Organization(PydanticCompat):
    """A tenant: your customer, or your own company."""

    id: str  # UUID
    name: str  # unique among organizations
    created_at: datetime  # UTC


@dataclass(frozen=True)
class _OrgPart(PydanticCompat):
    """Something named within an organization (a Project, a Product): the same four fields."""

    id: str  # UUID
    name: str  # unique within the organization
    org_id: str  # owning organization
    created_at: datetime  # UTC


@dataclass(frozen=True)
class Project(_OrgPart):
    """A group of keys within an organization (e.g. "v1", "mobile")."""


@dataclass(frozen=True)
class Product(_OrgPart):
    """A named API surface of an organization; keys can be scoped to one."""


@dataclass(frozen=True)
class APIKey(PydanticCompat):
    """An issued key as stored: never its plaintext, only the first body characters."""

    id: str  # UUID
    org_id: str  # owning organization
    project_id: str | None  # the project it is scoped to, or None (org-wide)
    product_id: str | None  # the product it is scoped to, or None
    key_prefix: str  # first characters of the key's body, to tell keys apart
    metadata: KeyMetadata  # name, scopes, limits, expiry, credits, custom
    revoked_at: datetime | None  # when it was revoked, or None
    created_at: datetime  # UTC
    last_used_at: datetime | None = None  # last successful verification (UTC)
    use_count: int = 0  # successful verifications
    rolled_to: str | None = None  # the key that replaced it (roll_key), or None

    @property
    def is_revoked(self) -> bool:
        """True once revoked."""
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        """True once past `metadata.expires_at`."""
        exp = self.metadata.expires_at
        return exp is not None and exp <= utcnow()

    @property
    def status(self) -> KeyStatus:
        """active, revoked or expired (now)."""
        if self.is_revoked:
            return KeyStatus.revoked
        return KeyStatus.expired if self.is_expired else KeyStatus.active


@dataclass(frozen=True)
class APIKeyCreated(PydanticCompat):
    """A new key and its plaintext: shown to its owner once, never stored (hidden from repr)."""

    key: APIKey  # the stored record
    plaintext: str = field(repr=False)  # the key itself; return it once to your user


class AuditAction(StrEnum):
    """What an audit event records."""

    create = "create"
    update = "update"
    revoke = "revoke"
    roll = "roll"
    delete = "delete"


@dataclass(frozen=True)
class AuditEvent(PydanticCompat):
    """One change to a key: who, when, what (never key material)."""

    id: int  # increasing sequence number
    at: datetime  # when (UTC)
    org_id: str  # the key's organization
    key_id: str  # the key
    action: AuditAction  # what was done
    actor: str | None  # who did it (the `actor` argument), None when not given
    changes: dict[str, Any]  # what changed: {field: [before, after]}, or facts such as grace


@dataclass(frozen=True)
class UsageDay(PydanticCompat):
    """Successful verifications of a key on one UTC day."""

    day: date  # the UTC day
    count: int  # successes that day


def seconds_until(
    then: datetime,  # a future moment
    now: datetime,  # the present
) -> int:
    """Whole seconds from now until then, rounded up (≥ 1)."""
    return max(1, math.ceil((then - now).total_seconds()))
