"""Rate limits and credits as pure functions of a key's stored state and the time: no I/O here.
The engine reads the state, calls `take`/`spend`, and writes the result back with a
compare-and-swap, so check and count are one atomic step on any number of processes.

Sliding window: the window is cut into `BUCKETS` slices; a call passes when the passes counted
in the slices overlapping the last window-long span (the oldest slice counted whole) are fewer
than the limit. Counting the oldest slice whole makes the limit strict: **at most N passes in
any window-long span**, never the 2x burst of a fixed window at its edge; the price is that a
slot frees up to one slice (1/60 of the window) later than an exact log would free it.
"""

from __future__ import annotations

import calendar
import math
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from .models import RateLimit, RateLimitWindow, Refill, RefillInterval

__all__ = ["BUCKETS", "Decision", "Plan", "Quota", "next_refill", "spend", "take"]

BUCKETS = 60  # slices per window: second → 1/60 s, minute → 1 s, hour → 1 min, day → 24 min
_US = 1_000_000  # microseconds per second


class Plan(NamedTuple):
    """A key's counters after one validation: what its compare-and-swap writes. A NamedTuple
    (bench "validate_key defaults ≤ 4× HMAC + write": no dict built and read per call)."""

    rl: str | None  # rate-limit state (rl_state)
    rem: int | None  # credits left (remaining); None = unlimited
    refilled: str | None  # last credit refill (refilled_at), ISO 8601
    bump: bool  # a limit changed: the row's version moves (a plain count leaves it)
    quota: Quota | None = None  # the rate limit after this call (RateLimit-*); None = not counted

    @classmethod
    def kept(
        cls,
        row: Any,  # a key's row
    ) -> Plan:
        """A plan that leaves the key's own counters as they are."""
        return cls(row["rl_state"], row["remaining"], row["refilled_at"], False)


class Decision(NamedTuple):
    """The outcome of one rate-limit check (a NamedTuple: bench "validate_key defaults ≤ 4×
    HMAC + write" makes one per call)."""

    passed: bool  # whether the call may proceed
    state: str | None  # the state to store when it passed (None when refused)
    remaining: int  # passes left in the current span after this call
    retry_after: int  # refused: whole seconds until a call will pass; passed: until a slot frees


class Quota(NamedTuple):
    """A key's rate limit after a call it let through, as the RateLimit-* headers tell it."""

    limit: int  # requests allowed per window (RateLimit-Limit)
    remaining: int  # passes left in the current span (RateLimit-Remaining)
    reset: int  # whole seconds until a slot frees (RateLimit-Reset)
    window: int  # the window's length in seconds (RateLimit-Policy's w=)


class _Window(NamedTuple):
    """A window as `take` uses it, worked out once per window (bench "validate_key defaults
    ≤ 4× HMAC + write": no enum property read per call)."""

    name: str  # its name, the first field of a stored state
    slice_us: int  # one slice's length in microseconds


_WINDOWS = {w: _Window(w.value, w.seconds * _US // BUCKETS) for w in RateLimitWindow}


def _parse(state: str | None, window: str) -> tuple[int, list[int]] | None:
    """(newest slice index, counts oldest first) of a state written for `window`; None when
    absent or written for another window (the limit was changed: counting starts afresh)."""
    if not state:
        return None
    name, newest, counts = state.split(":")
    if name != window:
        return None
    return int(newest), [int(c) for c in counts.split(",")]


class _Written(NamedTuple):
    """A state `take` wrote, parsed: the next call in the same slice neither splits, parses nor
    joins it (bench "validate_key defaults ≤ 4× HMAC + write": a busy key's state holds up to
    61 slice counts)."""

    window: str  # the window's name
    newest: int  # the newest slice's index
    total: int  # the passes counted in all its slices
    last: int  # the newest slice's count
    head: str  # the state up to that count, e.g. "minute:123:4,5,"
    frees: int  # the slice index at which the oldest counted pass leaves the span
    parent: str | None = None  # the state this one was counted from in the same slice


_WRITTEN: dict[str, _Written] = {}  # state text -> its parse (a pure function of the text)
_MAX_WRITTEN = 4_096  # past this many states, the memo starts over


def _written(window: str, newest: int, counts: list[int]) -> str:
    """The state text of these counts (leading empty slices dropped), remembered parsed."""
    if counts[0] == 0:  # leading empty slices carry no information
        first = next((i for i, c in enumerate(counts) if c), len(counts) - 1)
        counts = counts[first:]
    head = f"{window}:{newest}:{''.join(f'{c},' for c in counts[:-1])}"
    state = head + str(counts[-1])
    if len(_WRITTEN) >= _MAX_WRITTEN:
        _WRITTEN.clear()
    oldest = newest - len(counts) + 1
    first = next((i for i, c in enumerate(counts) if c), 0)
    _WRITTEN[state] = _Written(
        window, newest, sum(counts), counts[-1], head, oldest + first + 1 + BUCKETS
    )
    return state


def take(
    state: str | None,  # the key's stored rate-limit state (None = no calls yet)
    limit: RateLimit,  # the key's limit
    now: datetime,  # the current time (UTC)
) -> Decision:
    """Count one call against the limit if it fits (ValueError when `state` is damaged)."""
    name, slice_us = _WINDOWS[limit.window]
    now_us = int(now.timestamp() * _US)
    current = now_us // slice_us
    requests = limit.requests
    known = _WRITTEN.get(state) if state else None
    if (
        known is not None
        and known.window == name
        and current <= known.newest  # the same slice (or a clock behind: counted as its)
        and known.total < requests
    ):
        last = known.last + 1
        # a busy key keeps two entries, its state and the one before: the async clients take
        # from the same state twice (a try on the event loop, then the write in a thread), and
        # the second take parsing afresh cost 44 µs at 61 slices (bench "10× validate_key,
        # defaults, async, MariaDB ≥ 10×" and "…, async, SQLite ≥ 20×")
        if known.parent is not None:
            _WRITTEN.pop(known.parent, None)
        taken, state = state, known.head + str(last)
        _WRITTEN[state] = _Written(
            name, known.newest, known.total + 1, last, known.head, known.frees, taken
        )
        return Decision(
            True,
            state,
            requests - known.total - 1,
            max(1, math.ceil((known.frees * slice_us - now_us) / _US)),
        )
    parsed = _parse(state, name)
    newest, counts = parsed if parsed is not None else (current, [0])
    if current > newest:
        counts.extend([0] * min(current - newest, BUCKETS + 1))
        if len(counts) > BUCKETS + 1:
            counts = counts[-(BUCKETS + 1) :]
    else:
        current = newest  # a clock behind another process's counts as theirs
        if len(counts) > BUCKETS + 1:
            counts = counts[-(BUCKETS + 1) :]
    total = sum(counts)
    if total >= requests:
        # the earliest slice index at which enough old passes have left the counted span
        dropped, k = total, 0
        while dropped >= requests:
            dropped -= counts[k]
            k += 1
        oldest = current - len(counts) + 1  # index of counts[0]
        frees_at = (oldest + k - 1 + 1 + BUCKETS) * slice_us
        wait = max(1, math.ceil((frees_at - now_us) / _US))
        return Decision(False, None, 0, wait)
    counts[-1] += 1
    oldest = current - len(counts) + 1
    first = 0
    while not counts[first]:  # the oldest slice still holding a pass (counts[-1] does)
        first += 1
    frees_at = (oldest + first + 1 + BUCKETS) * slice_us
    return Decision(
        True,
        _written(name, current, counts),
        requests - total - 1,
        max(1, math.ceil((frees_at - now_us) / _US)),
    )


def next_refill(
    interval: RefillInterval,  # daily or monthly
    after: datetime,  # the last refill (UTC)
) -> datetime:
    """The first refill boundary after `after`: next 00:00 UTC, or the next month's 1st."""
    day = after.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if interval is RefillInterval.daily:
        return day + timedelta(days=1)
    days = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1) + timedelta(days=days)


def spend(
    remaining: int,  # credits left as stored
    refill: Refill | None,  # the key's refill, if any
    refilled_at: datetime | None,  # when credits were last (re)set
    now: datetime,  # the current time (UTC)
) -> tuple[int | None, datetime | None, int | None]:
    """(credits left after spending one — None when none were left —, the refill time to store,
    seconds until the next refill or None)."""
    if refill is not None:
        since = refilled_at or now
        if next_refill(refill.interval, since) <= now:
            remaining, refilled_at = refill.amount, now
        refilled_at = refilled_at or now
        wait = max(1, math.ceil((next_refill(refill.interval, refilled_at) - now).total_seconds()))
    else:
        wait = None
    if remaining <= 0:
        return None, refilled_at, wait
    return remaining - 1, refilled_at, wait
