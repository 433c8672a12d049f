"""First paint in Chromium, side by side: `uv run python -m bench.paint [--runs N] [--json PATH]`.

Two gallery servers run at once: "before" compiles its styles in the browser (`--assets browser`:
daisyUI's 1.2 MB stylesheet, its themes and Tailwind's in-browser compiler from node_modules),
"after" serves the prebuilt byok.css (the default). Each run opens a fresh browser context (a
cold cache) on each server in turn and records, per page: first contentful paint, the load
event, the moment the page is styled (a card has its daisyUI radius) and the bytes of the
styles it loaded (stylesheets and the in-browser compiler). Medians are printed per page.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from bench.servers import free_port, process_server

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]
PAGES = {
    "index": "/",
    "story": "/story/key-manager-dashboard--three-keys-of-six",
}
# what the page reports once loaded: paint timings, load, bytes of the styles it loaded
PROBE = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const styles = performance.getEntriesByType('resource').filter(r =>
      r.initiatorType === 'link' && r.name.endsWith('.css') || r.name.endsWith('/tailwind.js'));
  return {fcp: fcp ? fcp.startTime : null, load: nav.loadEventEnd, ttfb: nav.responseStart,
          html: nav.responseEnd, dom: nav.domInteractive,
          bytes: styles.reduce((n, r) => n + r.encodedBodySize, 0),
          styled: window.__styledAt || null};
}"""
# records when the first card or stat gets a border radius (styles applied), from the start
STYLED = """(() => {
  const done = () => {
    const el = document.querySelector('.card, .stats');
    if (el && getComputedStyle(el).borderTopLeftRadius !== '0px') {
      window.__styledAt = performance.now(); return true; }
    return false;
  };
  const tick = () => { if (!done()) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
})()"""


@contextmanager
def _gallery(assets: str, tmp: Path):
    """A gallery server (`--assets ASSETS`) on a free port; yields its base URL."""
    port = free_port()
    env = {**os.environ, "XDG_DATA_HOME": str(tmp / assets)}
    cmd = [sys.executable, "-m", "gallery", "--port", str(port), "--assets", assets]
    cmd += ["--db", f"sqlite:///{tmp / (assets + '.db')}"]
    with process_server(cmd, port, cwd=ROOT, env=env) as base:
        yield base


def measure(runs: int = 9) -> dict[str, dict[str, dict[str, float]]]:
    """side -> page -> metric -> median, over `runs` cold loads per page and side."""
    from playwright.sync_api import sync_playwright

    samples: dict[str, dict[str, dict[str, list[float]]]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="byok-paint-") as tmp,
        _gallery("browser", Path(tmp)) as before,
        _gallery("prebuilt", Path(tmp)) as after,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        sides = {"before (in-browser Tailwind)": before, "after (byok.css)": after}
        for run in range(runs + 1):  # the first run warms the servers, not counted
            for side, base in sides.items():
                for page_name, path in PAGES.items():
                    context = browser.new_context()  # a cold cache every time
                    page = context.new_page()
                    page.add_init_script(STYLED)
                    page.goto(base + path, wait_until="load")
                    page.wait_for_function("window.__styledAt > 0", timeout=10_000)
                    got = page.evaluate(PROBE)
                    context.close()
                    if run == 0:
                        continue
                    slot = samples.setdefault(side, {}).setdefault(page_name, {})
                    for k, v in got.items():
                        if v is not None:
                            slot.setdefault(k, []).append(float(v))
        browser.close()
    return {
        side: {p: {k: statistics.median(v) for k, v in m.items()} for p, m in pages.items()}
        for side, pages in samples.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.paint", description=__doc__)
    parser.add_argument("--runs", type=int, default=9, help="cold loads per page and side")
    parser.add_argument("--json", help="also write the medians to this file")
    args = parser.parse_args(argv)
    result = measure(args.runs)
    print(
        f"{'side':30} {'page':6} {'FCP ms':>7} {'styled':>7} {'load':>7} {'TTFB':>6} "
        f"{'HTML':>6} {'DOM':>6} {'style bytes':>12}"
    )
    for side, pages in result.items():
        for page, m in pages.items():
            ms = [m.get(k, 0) for k in ("fcp", "styled", "load", "ttfb", "html", "dom")]
            print(
                f"{side:30} {page:6} {ms[0]:7.0f} {ms[1]:7.0f} {ms[2]:7.0f} {ms[3]:6.0f} "
                f"{ms[4]:6.0f} {ms[5]:6.0f} {m.get('bytes', 0):12,.0f}"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
