"""`uv run python -m bench [--quick] [--json PATH] [-k TEXT] [--check] [--storybook]`: run every
bench module (`--storybook`: then the gallery against Storybook 9 in Chromium, bench.gallery_browser;
it needs npm)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import math
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import FULL, QUICK, Measurement, Row, Timing, measure

MODULES = (
    "core",
    "components",
    "issued_ui",
    "http",
    "gallery",
    "issuing",
    "issuing_floors",
)  # bench/<name>.py, each with rows() -> list[Row]


def collect(
    names: tuple[str, ...] = MODULES,  # bench module names, in display order
) -> tuple[list[tuple[str, Row]], list[str]]:
    """Rows of every bench module present, tagged with the module name; plus load errors."""
    rows: list[tuple[str, Row]] = []
    errors: list[str] = []
    for name in names:
        module_name = f"bench.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue  # not written yet
        try:
            module = importlib.import_module(module_name)
            rows.extend((name, Row(*row)) for row in module.rows())
        except Exception as e:  # one broken module must not hide the others' figures
            errors.append(f"{module_name}: {type(e).__name__}: {e}")
    return rows, errors


def _us(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.1f}" if value < 10_000 else f"{value:,.0f}"


def _spread(value: float | None) -> str:
    return "" if value is None else f"±{value * 100:.0f}%"


def verdict(m: Measurement) -> str:
    """PASS / FAIL / n/a / ERROR for the table."""
    if m.error:
        return "ERROR"
    return {True: "pass", False: "FAIL", None: "n/a"}[m.passed]


def table(results: list[tuple[str, Measurement]]) -> str:
    """The results as an aligned text table."""
    header = ("module", "label", "ours µs", "", "reference µs", "", "ratio", "bar", "result")
    lines = [header]
    for module, m in results:
        ratio = "—" if m.ratio is None else f"{m.ratio:.3g}×"
        lines.append(
            (
                module,
                m.label,
                _us(m.ours_us),
                _spread(m.ours_spread),
                _us(m.reference_us),
                _spread(m.reference_spread),
                ratio,
                "—" if math.isinf(m.bar) else f"≤ {m.bar:.3g}×",
                verdict(m) + (f"  {m.error}" if m.error else ""),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    numeric = {2, 3, 4, 5, 6, 7}
    out = []
    for n, line in enumerate(lines):
        cells = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(line[:-1])
        ]
        out.append("  ".join([*cells, line[-1]]).rstrip())
        if n == 0:
            out.append("-" * len(out[0]))
    return "\n".join(out)


def header() -> str:
    """One line naming what was compared, on what."""
    from importlib.metadata import PackageNotFoundError, version

    def v(dist: str) -> str:
        try:
            return version(dist)
        except PackageNotFoundError:
            return "missing"

    return (
        f"byok {v('byok')} vs cjm-fasthtml-byok {v('cjm-fasthtml-byok')} — Python "
        f"{platform.python_version()}, cryptography {v('cryptography')}, {platform.machine()}\n"
    )


def to_json(
    results: list[tuple[str, Measurement]],  # measured rows
    errors: list[str],  # module load errors
    timing: Timing,  # how they were measured
) -> dict:
    """A JSON-safe record of the run, with enough context to compare runs."""
    import cryptography

    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cryptography": cryptography.__version__,
        "timing": timing._asdict(),
        "rows": [
            {
                "module": module,
                "label": m.label,
                "ours_us": m.ours_us,
                "reference_us": m.reference_us,
                "ours_spread": m.ours_spread,
                "reference_spread": m.reference_spread,
                "ratio": m.ratio,
                "bar": None if math.isinf(m.bar) else m.bar,
                "passed": m.passed,
                "error": m.error,
            }
            for module, m in results
        ],
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print the table; the exit code is 1 on errors (or fails with --check)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few short repeats (a smoke run)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    parser.add_argument("-k", metavar="TEXT", help="only rows whose label contains TEXT")
    parser.add_argument("--check", action="store_true", help="exit 1 when a row misses its bar")
    parser.add_argument("--scale", action="store_true", help="also the 1M-key rows (slow)")
    parser.add_argument(
        "--storybook",
        action="store_true",
        help="also time the gallery against a Storybook 9 build in Chromium (needs npm)",
    )
    args = parser.parse_args(argv)
    if args.scale:
        os.environ["BYOK_BENCH_SCALE"] = "1"  # read by bench/issuing_floors.py
    timing = QUICK if args.quick else FULL

    rows, errors = collect()
    if args.k:
        rows = [(mod, r) for mod, r in rows if args.k.lower() in r.label.lower()]
    results: list[tuple[str, Measurement]] = []
    for module, row in rows:
        print(f"  timing {module}: {row.label} …", file=sys.stderr, flush=True)
        results.append((module, measure(row, timing)))

    print(header())
    print(table(results))
    for error in errors:
        print(f"ERROR loading {error}")
    failed = sum(1 for _, m in results if m.passed is False)
    broken = sum(1 for _, m in results if m.error) + len(errors)
    print(
        f"\n{len(results)} rows: {failed} missed the bar, {broken} errors ({'quick' if args.quick else 'full'} timing)."
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(to_json(results, errors, timing), indent=2) + "\n")
    if args.storybook:
        from bench.gallery_browser import main as versus

        print()
        failed += versus(["--runs", "5"] if args.quick else [])
    return 1 if broken or (args.check and failed) else 0


if __name__ == "__main__":
    sys.exit(main())
