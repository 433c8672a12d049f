"""What several test modules share: the app secret, Hypothesis example counts, request and app
helpers. Test modules import from here, never from one another."""

from __future__ import annotations

import math

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
