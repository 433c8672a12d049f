"""What several test modules share: the app secret, Hypothesis example counts, request and app
helpers. Test modules import from here, never from one another."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import settings

HYPOTHESIS_PROFILE_ENV = "BYOK_HYPOTHESIS"  # dev | ci | deep (tests/conftest.py registers them)
CI_EXAMPLES = 100  # the dev and ci profiles' default count (Hypothesis's own default)
DEEP_EXAMPLES = 500  # the deep profile's: every property runs its full count


def examples(deep: int) -> int:
    """How many cases a property runs under the loaded profile: `deep` in the deep profile, a
    fifth of it in the dev and ci ones (never fewer than 10)."""
    scale = settings.default.max_examples / DEEP_EXAMPLES  # type: ignore[union-attr]
    return max(10, math.ceil(deep * min(scale, 1.0)))


SECRET = "test-secret-0123456789abcdef-xyz"  # the tests' app secret (≥ 16 bytes; signs sessions)


CLOCK_START = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)  # where a test's Clock starts


class Clock:
    """A clock the test moves (the `clock` fixture; an issuer's or manager's `clock=`)."""

    def __init__(self, now: datetime = CLOCK_START) -> None:
        self.now = now  # the time it answers until moved

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        """Move it on by a timedelta's keyword arguments (hours=1, seconds=30, ...)."""
        self.now += timedelta(**kw)
