"""The portable range of what byok stores and computes with: the one home of the bounds every
number, datetime and duration a caller gives is checked against, once, where it comes in, so
that none ends as an OverflowError in date arithmetic or in a database driver.

- Integers: byok's integer columns are INTEGER on PostgreSQL and INT on MySQL/MariaDB, signed
  32-bit (SQLite's hold 64 bits): `MAX_INT`.
- Datetimes: stored as ISO 8601 text in UTC; MySQL/MariaDB's DATETIME holds 1000-01-01 to
  9999-12-31 23:59:59 (PostgreSQL and SQLite hold more): `EARLIEST` to `LATEST`, in UTC (a time
  with an offset is converted first, so 9999-12-31 23:00 at UTC-5 is past the end).
- Durations: whatever keeps `now + duration` within that range (`later`).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from .types import ValidationError

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_INT",
    "bounded_int",
    "bounded_seconds",
    "held",
    "held_moment",
    "later",
    "moment",
]

MAX_INT = 2**31 - 1  # largest integer every byok column holds (signed 32-bit INTEGER / INT)
EARLIEST = datetime(1000, 1, 1, tzinfo=UTC)  # first moment of MySQL/MariaDB's DATETIME
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)  # last whole second of year 9999, UTC
_SHOWN = "from 1000-01-01 to 9999-12-31 23:59:59 UTC"


def bounded_int(
    value: Any,  # an integer given by a caller
    what: str,  # which value, for the message
    *,
    low: int = 0,  # the smallest allowed
    error: type[Exception] = ValidationError,  # the error raised
) -> int:
    """The int when low <= value <= MAX_INT (bools refused), else `error`."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= MAX_INT:
        raise error(f"{what} must be a whole number from {low} to {MAX_INT:,}, got {_shown(value)}")
    return value


def _shown(value: Any) -> str:
    """A refused value for a message: a small int as itself, anything else by its type (the
    text of a 5,000-digit int cannot even be built)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() <= 64:
        return str(value)
    return f"a {'huge int' if isinstance(value, int) else type(value).__name__}"


def bounded_seconds(
    value: Any,  # a number of seconds given by a caller (int or float)
    what: str,  # which value, for the message
    *,
    low: float = 0.001,  # the smallest allowed
    high: float = float(MAX_INT),  # the largest allowed
    error: type[Exception] = ValidationError,  # the error raised
) -> float:
    """The seconds as a float when finite and within [low, high] (bools refused), else `error`."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not low <= value <= high:
        raise error(f"{what} must be a number of seconds from {low:g} to {high:,.0f}")
    return float(value)


def moment(
    value: Any,  # a datetime given by a caller
    what: str,  # which value, for the message
    *,
    error: type[Exception] = ValidationError,  # the error raised
) -> datetime:
    """The datetime in UTC when timezone-aware and within EARLIEST..LATEST, else `error`."""
    if not isinstance(value, datetime):
        raise error(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise error(f"{what} must be timezone-aware, e.g. datetime.now(UTC) + timedelta(days=30)")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # the offset takes it past year 1 or 9999
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise error(f"{what} must be {_SHOWN}")
    return utc


def later(
    now: datetime,  # the present (UTC)
    span: Any,  # a duration given by a caller
    what: str,  # which duration, for the message
    *,
    error: type[Exception] = ValidationError,  # the error raised
) -> datetime:
    """now + span when span is a timedelta >= 0 that stays within LATEST, else `error`."""
    if not isinstance(span, timedelta) or span < timedelta(0):
        raise error(f"{what} must be a timedelta ≥ 0")
    if span > LATEST - now:
        raise error(f"{what} is too long: it reaches past 9999-12-31 (UTC)")
    return now + span


def held(
    value: Any,  # an integer read back from storage
) -> Any:
    """A stored integer held to MAX_INT: a row written before these bounds (SQLite kept 64
    bits) still reads, as the largest count allowed, instead of failing its checks."""
    return min(value, MAX_INT) if isinstance(value, int) and not isinstance(value, bool) else value


def held_moment(
    value: datetime,  # a timezone-aware datetime read back from storage
) -> datetime:
    """A stored datetime held within EARLIEST..LATEST (a row written before these bounds)."""
    return min(max(value, EARLIEST), LATEST)
