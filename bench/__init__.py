"""Side-by-side benchmarks of byok against cjm-fasthtml-byok 0.0.3: `uv run python -m bench`.

A bench module (`bench/core.py`, `bench/components.py`, `bench/http.py`) exposes
`rows() -> list[Row]`; `python -m bench` times every row, ours and the reference interleaved in
one run, and prints the medians, their ratio and the bar it must meet.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["Measurement", "Row", "Timing", "measure", "per_call_times"]


class Row(NamedTuple):
    """One benchmark: our callable against the reference's, with the ratio it must stay under."""

    label: str  # what is measured, e.g. "session set_key + get_key"
    ours: Callable[[], object]  # byok's side, called with no arguments
    reference: Callable[[], object] | None  # cjm-fasthtml-byok's side; None = no counterpart
    bar: float  # pass when median(ours) / median(reference) <= bar; math.inf = no bar
    cpu: bool = False  # time this process's CPU (time.process_time), not the wall clock: rows
    # against the machine's floors, whose figures must not depend on what else the machine runs
    budget_s: float | None = None  # seconds: `ours` runs once, on the wall clock, against this
    # fixed budget instead of a reference (a bulk build too slow to repeat); `reference` is None


class Timing(NamedTuple):
    """How hard to measure: repeats per side and the minimum time of one repeat."""

    repeats: int  # timed repeats per side (ours and reference alternate)
    target_s: float  # each repeat runs the callable enough times to last at least this long
    warmup_s: float  # untimed calls before calibrating


FULL = Timing(repeats=21, target_s=0.02, warmup_s=0.05)  # default run
QUICK = Timing(repeats=5, target_s=0.005, warmup_s=0.01)  # `--quick`: a smoke run


@dataclass
class Measurement:
    """The outcome of one row: medians in microseconds per call, and the verdict."""

    label: str  # the row's label
    bar: float  # the row's bar
    ours_us: float | None = None  # median µs per call of ours
    reference_us: float | None = None  # median µs per call of the reference
    ours_spread: float | None = None  # median absolute deviation / median, ours
    reference_spread: float | None = None  # median absolute deviation / median, reference
    error: str | None = None  # why the row could not be measured

    @property
    def ratio(self) -> float | None:
        """median(ours) / median(reference), or None without both."""
        if self.ours_us is None or not self.reference_us:
            return None
        return self.ours_us / self.reference_us

    @property
    def passed(self) -> bool | None:
        """True when the ratio meets the bar; None when there is nothing to compare."""
        ratio = self.ratio
        if ratio is None or math.isinf(self.bar):  # bar=inf: shown for information only
            return None
        return ratio <= self.bar


def _calibrate(
    timer: timeit.Timer,  # the timer of one callable
    timing: Timing,  # how long a repeat must last
) -> int:
    """The number of calls per repeat so that one repeat lasts at least `timing.target_s`."""
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= timing.target_s:
            return number
        # grow towards the target in one or two steps, never more than 10x at once
        factor = timing.target_s / elapsed * 1.2 if elapsed > 0 else 10.0
        number = max(number + 1, int(number * min(10.0, factor)))


def _warm(
    fn: Callable[[], object],  # the callable to warm up
    seconds: float,  # how long to keep calling it
) -> None:
    """Call `fn` untimed for a while (imports, caches, JIT-free but allocator-warm)."""
    deadline = timeit.default_timer() + seconds
    fn()
    while timeit.default_timer() < deadline:
        fn()


def per_call_times(
    sides: list[Callable[[], object]],  # the callables to time against each other
    timing: Timing,  # repeats and repeat length
    clock: Callable[[], float] = timeit.default_timer,  # the clock (time.process_time: CPU)
) -> list[list[float]]:
    """Per-call seconds of each side, one value per repeat, the sides interleaved repeat by repeat."""
    timers = [timeit.Timer(fn, timer=clock) for fn in sides]
    for fn in sides:
        _warm(fn, timing.warmup_s)
    numbers = [_calibrate(t, timing) for t in timers]
    samples: list[list[float]] = [[] for _ in sides]
    gc.collect()
    for i in range(timing.repeats):
        # alternate which side goes first, so drift (thermal, caches) hits both alike
        order = range(len(sides)) if i % 2 == 0 else reversed(range(len(sides)))
        for j in order:
            samples[j].append(timers[j].timeit(numbers[j]) / numbers[j])
    return samples


def _spread(values: list[float]) -> float:
    """Median absolute deviation relative to the median (0.02 = ±2 %)."""
    mid = statistics.median(values)
    return statistics.median(abs(v - mid) for v in values) / mid if mid else 0.0


def measure(
    row: Row,  # the benchmark
    timing: Timing = FULL,  # how hard to measure
) -> Measurement:
    """Time one row (ours and the reference interleaved) and judge it against its bar."""
    result = Measurement(row.label, row.bar)
    if row.budget_s is not None:
        return _once(row, result)
    sides = [row.ours] + ([row.reference] if row.reference is not None else [])
    try:
        samples = per_call_times(
            sides, timing, time.process_time if row.cpu else timeit.default_timer
        )
    except Exception as e:  # a broken row is reported, not fatal to the run
        result.error = f"{type(e).__name__}: {e}"
        return result
    result.ours_us = statistics.median(samples[0]) * 1e6
    result.ours_spread = _spread(samples[0])
    if len(samples) > 1:
        result.reference_us = statistics.median(samples[1]) * 1e6
        result.reference_spread = _spread(samples[1])
    return result


def _once(
    row: Row,  # a row with a budget
    result: Measurement,  # its measurement, filled in
) -> Measurement:
    """Time `row.ours` once on the wall clock against `row.budget_s`."""
    start = timeit.default_timer()
    try:
        row.ours()
    except Exception as e:  # a broken row is reported, not fatal to the run
        result.error = f"{type(e).__name__}: {e}"
        return result
    result.ours_us = (timeit.default_timer() - start) * 1e6
    result.reference_us = row.budget_s * 1e6
    return result
