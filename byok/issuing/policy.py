"""KeyPolicy: what the app allows the keys its "API keys" page issues (and rolls): a fixed rate
limit or a cap on the one users choose, how many live keys an owner may hold, how long a key
may live, and the credits every key gets. Checked once, at construction.

A key outside the policy is refused, never silently changed: `check` names what is wrong. A roll
brings the successor within the policy (`rolled`), so rolling never escapes it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ..core.bounds import bounded_int, later
from ..core.types import utcnow
from .errors import APIKeyError, InvalidInputError
from .models import KeyMetadata, RateLimit, Refill

__all__ = ["KeyPolicy", "TooManyKeysError", "rate_text"]

MIN_LIFETIME = timedelta(days=1)  # shortest max_lifetime (a key expiring "on a date" lives a day)


class TooManyKeysError(APIKeyError):
    """The owner already holds the most live keys the policy allows; nothing was created."""

    def __init__(
        self,
        limit: int,  # the policy's max_keys
    ):
        super().__init__(
            f"You already have {limit} live API key{'s' if limit != 1 else ''}, the most allowed: "
            "revoke or delete one to create another"
        )
        self.limit = limit


def rate_text(limit: RateLimit) -> str:
    """A rate limit in words: "100 requests per minute"."""
    noun = "request" if limit.requests == 1 else "requests"
    return f"{limit.requests:,} {noun} per {limit.window.value}"


@dataclass(frozen=True)
class KeyPolicy:
    """What keys issued by the page may be (None everywhere: no rate limit, no cap, no expiry)."""

    rate_limit: RateLimit | None = None  # every key gets it; users choose no rate
    max_rate_limit: RateLimit | None = None  # users choose up to it, in its window; none: no choice
    max_keys: int | None = None  # live keys (not revoked, expired or rolled) per owner
    max_lifetime: timedelta | None = None  # every key expires within it ("Never" not offered)
    credits: int | None = None  # every key starts with these credits (each success spends one)
    refill: Refill | None = None  # … reset on this schedule (needs credits)

    def __post_init__(self) -> None:
        for name in ("rate_limit", "max_rate_limit"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, RateLimit):
                raise InvalidInputError(
                    f"KeyPolicy.{name} must be a RateLimit, e.g. RateLimit(100, 'minute'), "
                    f"not {type(value).__name__}"
                )
        if self.rate_limit is not None and self.max_rate_limit is not None:
            raise InvalidInputError(
                "KeyPolicy takes rate_limit (every key gets it) or max_rate_limit (users choose "
                "up to it), not both"
            )
        if self.max_keys is not None:
            bounded_int(self.max_keys, "KeyPolicy.max_keys", low=1, error=InvalidInputError)
        if self.max_lifetime is not None:
            span = self.max_lifetime
            if not isinstance(span, timedelta) or span < MIN_LIFETIME:
                raise InvalidInputError(
                    "KeyPolicy.max_lifetime must be a timedelta of at least 1 day, e.g. "
                    "timedelta(days=90)"
                )
            later(utcnow(), span, "KeyPolicy.max_lifetime", error=InvalidInputError)
        if self.credits is not None:
            bounded_int(self.credits, "KeyPolicy.credits", low=1, error=InvalidInputError)
        if self.refill is not None:
            if not isinstance(self.refill, Refill):
                raise InvalidInputError("KeyPolicy.refill must be a Refill, e.g. Refill(1000)")
            if self.credits is None:
                raise InvalidInputError(
                    "KeyPolicy.refill needs credits (what each key starts with)"
                )

    @property
    def rate_choice(self) -> bool:
        """Whether users choose a rate limit (only under a max_rate_limit)."""
        return self.max_rate_limit is not None

    def latest_expiry(self, now: datetime) -> datetime | None:
        """The latest expiry a key issued now may have (None: it may never expire)."""
        return None if self.max_lifetime is None else now + self.max_lifetime

    def applied(
        self,
        meta: KeyMetadata,  # what the user chose (name, scopes, expiry, a rate within the cap)
    ) -> KeyMetadata:
        """The metadata with what the policy gives every key: the fixed rate, the credits."""
        rate = self.rate_limit if self.rate_limit is not None else meta.rate_limit
        if self.credits is None:
            return replace(meta, rate_limit=rate)
        return replace(meta, rate_limit=rate, remaining=self.credits, refill=self.refill)

    def check(
        self,
        meta: KeyMetadata,  # a new key's metadata
        now: datetime,  # the current time (UTC)
    ) -> None:
        """InvalidInputError naming what is outside the policy (the engine's last word)."""
        if meta.rate_limit != self.rate_limit and self.max_rate_limit is None:
            want = "no rate limit" if self.rate_limit is None else rate_text(self.rate_limit)
            raise InvalidInputError(f"keys issued here get {want}")
        cap = self.max_rate_limit
        if cap is not None and not self.within_cap(meta.rate_limit):
            raise InvalidInputError(f"the rate limit can be at most {rate_text(cap)}")
        latest = self.latest_expiry(now)
        if latest is not None and (meta.expires_at is None or meta.expires_at > latest):
            raise InvalidInputError(f"keys issued here expire by {latest:%Y-%m-%d %H:%M} UTC")

    def within_cap(self, rate: RateLimit | None) -> bool:
        """Whether a chosen rate fits max_rate_limit: its window, at most its requests."""
        cap = self.max_rate_limit
        if cap is None:
            return True
        return rate is not None and rate.window is cap.window and rate.requests <= cap.requests

    def rolled(
        self,
        was: KeyMetadata,  # the rolled key's metadata (read under its row's lock)
        now: datetime,  # the current time (UTC)
    ) -> KeyMetadata:
        """The successor's metadata within the policy: the fixed rate (or the old one held to
        the cap; without either, the old one), the expiry held to now + max_lifetime, the
        credits when it had none."""
        rate = was.rate_limit
        if self.rate_limit is not None:
            rate = self.rate_limit
        elif self.max_rate_limit is not None and not self.within_cap(rate):
            rate = self.max_rate_limit
        expires = was.expires_at
        latest = self.latest_expiry(now)
        if latest is not None and (expires is None or expires > latest):
            expires = latest
        meta = replace(was, rate_limit=rate, expires_at=expires)
        if self.credits is not None and was.remaining is None:
            meta = replace(meta, remaining=self.credits, refill=self.refill)
        return meta
