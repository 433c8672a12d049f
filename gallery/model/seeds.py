"""A story's seeded sandbox: the stored provider keys and the issued keys its sandbox holds before
its canvas is shown, so its buttons (Test, Delete, Roll, Revoke) act on something real.

`Seed(keys={provider: key}, issued=(IssuedSeed(...), ...))` is declared beside a story and
validated there. The live gallery's sandbox plants it (`plant_issued`): each issued key is made
by the real `KeyIssuer` at a fixed time before `DEMO_NOW` (the stories' "current time"), revoked
or used at a fixed time too, so the answers its routes give are the same on every run. A key
standing for one of the story's records (`story_id`) answers to that record's id in the
sandbox's paths (`Sandboxes` turns it into the issued key's id), so the story's own buttons act
on it. The plaintext of a seeded key is used once, to record its use, and never shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from byok.issuing import APIKey, KeyIssuer, KeyMetadata, RateLimit

__all__ = ["DEMO_NOW", "IssuedSeed", "Seed", "SeedClock", "plant_issued"]

DEMO_NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)  # the stories' fixed "current time"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_AGES = ("created", "used", "revoked")  # the times given as "this long before DEMO_NOW"


@dataclass(frozen=True)
class IssuedSeed:
    """One issued key a story's sandbox starts with (times relative to DEMO_NOW)."""

    name: str  # its name, as the table lists it, e.g. "CI deploy"
    scopes: tuple[str, ...] = ()  # its scopes, e.g. ("notes:read",)
    story_id: str | None = None  # the story's record it stands for (its buttons' paths name it)
    created: timedelta = timedelta(days=1)  # how long before DEMO_NOW it was issued
    used: timedelta | None = None  # how long before DEMO_NOW it was last used (None: never)
    revoked: timedelta | None = None  # how long before DEMO_NOW it was revoked (None: live)
    expires: timedelta | None = None  # when it expires, from DEMO_NOW (negative: expired)
    rate_limit: RateLimit | None = None  # its rate limit (None: unlimited)

    def __post_init__(self) -> None:
        if isinstance(self.scopes, str):
            raise TypeError(f"IssuedSeed {self.name!r}: scopes is a tuple of names, not a str")
        object.__setattr__(self, "scopes", tuple(self.scopes))
        if self.story_id is not None and not (
            isinstance(self.story_id, str) and _UUID.fullmatch(self.story_id)
        ):
            raise ValueError(
                f"IssuedSeed story_id must be a lower-case UUID, not {self.story_id!r}"
            )
        for what in (*_AGES, "expires"):
            value = getattr(self, what)
            if value is not None and not isinstance(value, timedelta):
                raise TypeError(f"IssuedSeed {self.name!r}: {what} must be a timedelta")
        for what in _AGES:
            age = getattr(self, what)
            if age is not None and not timedelta(0) <= age <= self.created:
                raise ValueError(
                    f"IssuedSeed {self.name!r}: {what} must be from 0 to `created` before DEMO_NOW"
                )
        if self.expires is not None and self.expires <= -self.created:
            raise ValueError(f"IssuedSeed {self.name!r}: it cannot expire before it was created")
        if self.used is not None and (
            (self.revoked is not None and self.used < self.revoked)
            or (self.expires is not None and self.expires <= -self.used)
        ):
            raise ValueError(f"IssuedSeed {self.name!r}: it cannot be used once revoked or expired")
        try:
            self.metadata(DEMO_NOW)  # the issuer's own checks: name, scopes, rate limit
        except ValueError as e:  # InvalidInputError is a ValueError
            raise ValueError(f"IssuedSeed {self.name!r}: {e}") from None

    def metadata(
        self,
        now: datetime,  # the sandbox's current time (DEMO_NOW)
    ) -> KeyMetadata:
        """The key's settings, as the issuer takes them."""
        expires = None if self.expires is None else now + self.expires
        return KeyMetadata(
            name=self.name, scopes=list(self.scopes), rate_limit=self.rate_limit, expires_at=expires
        )

    @classmethod
    def like(
        cls,
        key: APIKey,  # a story's record of an issued key
        now: datetime = DEMO_NOW,  # the story's current time (its `now=`)
    ) -> IssuedSeed:
        """A seed standing for a story's record: its id, name, scopes, limit and times."""
        meta = key.metadata

        def ago(at: datetime | None) -> timedelta | None:
            return None if at is None else now - at

        return cls(
            name=meta.name or "Unnamed key",
            scopes=tuple(meta.scopes),
            story_id=key.id,
            created=now - key.created_at,
            used=ago(key.last_used_at),
            revoked=ago(key.revoked_at),
            expires=None if meta.expires_at is None else meta.expires_at - now,
            rate_limit=meta.rate_limit,
        )


@dataclass(frozen=True)
class Seed:
    """What a story's sandbox holds before its canvas is shown (live gallery and export)."""

    keys: Mapping[str, str] = field(default_factory=dict)  # provider -> a demo key, stored
    issued: tuple[IssuedSeed, ...] = ()  # issued keys, oldest first (the issuer makes them)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))
        for provider, key in self.keys.items():
            if not isinstance(provider, str) or not isinstance(key, str):
                raise TypeError(f"Seed keys map a provider name to a key, not {provider!r}")
        object.__setattr__(self, "issued", tuple(self.issued))
        wrong = [i for i in self.issued if not isinstance(i, IssuedSeed)]
        if wrong:
            raise TypeError(f"Seed issued holds IssuedSeed, not {type(wrong[0]).__name__}")
        ids = [i.story_id for i in self.issued if i.story_id is not None]
        if len(ids) != len(set(ids)):
            raise ValueError("two IssuedSeed of one Seed stand for the same story_id")


_AT: ContextVar[datetime | None] = ContextVar("byok_gallery_seed_time", default=None)


class SeedClock:
    """The sandbox issuer's clock: DEMO_NOW, or the moment a seed is being planted at."""

    def __init__(
        self,
        now: datetime = DEMO_NOW,  # the sandbox's fixed current time
    ) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return _AT.get() or self.now

    @contextmanager
    def at(
        self,
        ago: timedelta,  # how long before `now` (this thread only, while planting)
    ) -> Iterator[None]:
        """Run the issuer `ago` before now (the other threads' requests keep `now`)."""
        token = _AT.set(self.now - ago)
        try:
            yield
        finally:
            _AT.reset(token)


def plant_issued(
    issuer: KeyIssuer,  # the sandbox's issuer (its clock a SeedClock)
    clock: SeedClock,  # that clock
    org_id: str,  # the sandbox's organization
    seeds: tuple[IssuedSeed, ...],  # the keys to issue, oldest first
    *,
    actor: str | None = None,  # who, for the audit log
) -> list[str]:
    """Issue, use and revoke the seeded keys at their fixed times; their ids, in order."""
    ids = []
    for n, seed in enumerate(seeds):
        # a few microseconds earlier (never a unit less ago), so keys of the same age list in
        # declaration order
        with clock.at(seed.created + timedelta(microseconds=len(seeds) - n)):
            made = issuer.create_key(org_id, metadata=seed.metadata(clock.now), actor=actor)
        if seed.used is not None:
            with clock.at(seed.used):
                issuer.verify_key(made.plaintext)
        if seed.revoked is not None:
            with clock.at(seed.revoked):
                issuer.revoke_key(made.key.id, actor=actor)
        ids.append(made.key.id)
    return ids
