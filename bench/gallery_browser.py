"""The gallery against Storybook 9 in Chromium: `uv run python -m bench.gallery_browser [--runs N]
[--before PATH]` (or `uv run python -m bench --storybook`). Needs npm (Storybook is installed
into a cache folder and built once, see bench/storybook.py) and /usr/bin/chromium.

Both show the same stories (Storybook's are generated from the HTML snapshots and styled by the
same byok.css). Each run opens a fresh browser context (a cold cache) per side, the sides in
turn (the order alternates), and times, from inside the page (the moment the parent page's
animation frame sees the story's markup in the canvas, styled):
  - cold load: navigation start -> the canvas shows the first story;
  - switch to a small story, then to the dashboard story: a sidebar link's click -> the canvas
    shows it;
  - control change: a text control's input event -> the canvas shows the new value.
Medians over the runs; the ratio is byok ÷ Storybook, with the issue's bars. `--before PATH`
adds a gallery served from another checkout (e.g. main), measured in the same runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from bench.servers import free_port, process_server
from bench.storybook import CONTROL, ROOT, build, serve, story_ids

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]
START = "alert--info-filled"  # the cold load's story
SMALL = "alert--error-soft"  # the small story switched to
DASHBOARD = "key-manager-dashboard--three-keys-of-six"  # the big one
CHANGES = 3  # control changes timed per run
# cold visits per side by default: one cold load on a 2-core machine varies by a quarter either
# way (quartiles of 60 loads: 192-249 ms around 223), so the median needs more than a handful
RUNS = 15


class Metric(NamedTuple):
    """A row of the table: what is timed and the bar byok ÷ Storybook must meet."""

    key: str  # the samples' key
    label: str  # the row's label
    bar: float | None  # pass when the ratio is at or below it; None = information only


METRICS = (
    Metric("cold", "cold load, canvas visible", 0.2),
    Metric("small", "switch to a small story", None),
    Metric("dashboard", "switch to the dashboard story", 1.0),
    Metric("control", "control change -> canvas updated", 1.0),
)

# In the top page only: __bench.until(slug, text, t0) resolves with the ms from t0 to the first
# animation frame in which the canvas shows the story (and `text`), styled by byok.css.
PROBE = """(() => {
  if (window.top !== window) return;
  const side = %(side)s;
  const styled = d => [...d.styleSheets].some(s => {
    try { return Boolean(s.href && s.href.includes("byok") && s.cssRules.length); }
    catch (e) { return false; } });
  const shown = (slug, text) => {
    const f = document.getElementById(side.frame);
    const d = f && f.contentDocument;
    if (!d || !d.body) return false;
    const el = side.storybook
      ? (d.body.classList.contains("sb-show-main") ? d.querySelector(`[data-bench-story="${slug}"]`) : null)
      : (d.body.dataset.story === slug ? d.getElementById("story-root") : null);
    if (!el || !el.firstElementChild || el.getBoundingClientRect().height <= 0 || !styled(d)) return false;
    return text === null || el.textContent.includes(text);
  };
  const showing = () => {
    const f = document.getElementById(side.frame);
    const d = f && f.contentDocument;
    return d && d.body ? `${d.body.dataset.story || "(no story)"}, ${d.readyState}` : "(no canvas)";
  };
  window.__bench = {
    // never hangs: a canvas that does not show the story in 20 s fails the run, saying what it shows
    until: (slug, text, t0) => new Promise((resolve, reject) => {
      const limit = performance.now() + 20000;
      const tick = () => {
        if (shown(slug, text)) resolve(performance.now() - t0);
        else if (performance.now() > limit) reject(new Error(`the canvas did not show ${slug} (${text}) in 20 s; it shows ${showing()}`));
        else requestAnimationFrame(tick);
      };
      tick();
    }),
  };
  window.__benchCold = window.__bench.until(side.cold, null, 0);
})()"""
CLICK = """async ([selector, slug]) => {
  const link = document.querySelector(selector);
  const t0 = performance.now();
  link.click();
  return await window.__bench.until(slug, null, t0);
}"""
TYPE = """async ([selector, slug, value]) => {
  const el = document.querySelector(selector);
  const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), "value").set;
  const t0 = performance.now();
  setter.call(el, value);  // as typing does (React's controlled inputs see it too)
  el.dispatchEvent(new Event("input", {bubbles: true}));
  return await window.__bench.until(slug, value, t0);
}"""


@dataclass
class Side:
    """One contender: how its pages are addressed and driven."""

    name: str  # the column's name
    base: str  # its server's URL
    ids: dict[str, str] | None = None  # Storybook: gallery slug -> story id; None: the gallery

    @property
    def storybook(self) -> bool:
        """True for Storybook."""
        return self.ids is not None

    def url(self, slug: str) -> str:
        """A story's page."""
        if self.ids is not None:
            return f"{self.base}/?path=/story/{self.ids[slug]}"
        return f"{self.base}/story/{slug}"

    def link(self, slug: str) -> str:
        """The sidebar link of a story."""
        if self.ids is not None:
            return f'a[id="{self.ids[slug]}"]'
        return f'#story-tree a[href="/story/{slug}"]'

    def probe(self, cold: str) -> str:
        """The init script (the canvas watcher) for this side."""
        frame = "storybook-preview-iframe" if self.storybook else "canvas-frame"
        side = {"frame": frame, "storybook": self.storybook, "cold": cold}
        return PROBE % {"side": json.dumps(side)}

    @property
    def control(self) -> str:
        """The control's input element."""
        if self.storybook:
            return f"#control-{CONTROL.arg}"
        return f'#controls-form [name="{CONTROL.arg}"]'


@contextmanager
def gallery(root: Path, tmp: Path) -> Iterator[str]:
    """The gallery of the checkout at `root`, served on a free port; yields its base URL."""
    port = free_port()
    folder = tmp / f"gallery-{port}"
    folder.mkdir()
    env = {**os.environ, "XDG_DATA_HOME": str(folder), "PYTHONPATH": str(root)}
    cmd = [sys.executable, "-m", "gallery", "--port", str(port)]
    cmd += ["--db", f"sqlite:///{folder / 'gallery.db'}"]
    with process_server(cmd, port, ready="/index.json", cwd=root, env=env) as base:
        yield base


def _open_group(page, side: Side, slug: str) -> None:
    """Make a story's sidebar link clickable (untimed): its group or component expanded."""
    if side.storybook:
        if page.locator(side.link(slug)).count() == 0:
            component = side.ids[slug].rsplit("--", 1)[0]
            page.locator(f'[data-item-id="{component}"]').click()  # also opens its first story
            page.wait_for_selector(side.link(slug), state="attached")
        return
    page.eval_on_selector(side.link(slug), "a => { a.closest('details').open = true; }")


def one_run(browser, side: Side, run: int) -> dict[str, list[float]]:
    """One cold visit of a side: every metric once (the control change CHANGES times)."""
    out: dict[str, list[float]] = {}
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = ctx.new_page()
        page.add_init_script(side.probe(START))
        page.goto(side.url(START), wait_until="commit")
        out["cold"] = [page.evaluate("window.__benchCold")]
        if side.storybook:
            page.wait_for_selector(side.link(START), state="attached")
        _open_group(page, side, DASHBOARD)  # Storybook: shows its first dashboard story
        page.wait_for_timeout(300)
        _open_group(page, side, SMALL)
        out["small"] = [page.evaluate(CLICK, [side.link(SMALL), SMALL])]
        out["dashboard"] = [page.evaluate(CLICK, [side.link(DASHBOARD), DASHBOARD])]
        # the control story (untimed), then its text control changed CHANGES times
        if side.storybook:
            _open_group(page, side, CONTROL.slug)
            page.evaluate(CLICK, [side.link(CONTROL.slug), CONTROL.slug])
        else:
            page.goto(side.url(CONTROL.slug) + "?tab=controls", wait_until="commit")
            page.evaluate("slug => window.__bench.until(slug, null, 0)", CONTROL.slug)
        page.wait_for_selector(side.control)
        page.wait_for_timeout(300)
        out["control"] = [
            page.evaluate(TYPE, [side.control, CONTROL.slug, f"Bench {run}-{i}"])
            for i in range(CHANGES)
        ]
    finally:
        ctx.close()
    return out


def measure(
    runs: int,  # cold visits per side
    before: Path | None = None,  # another checkout's gallery, measured alongside
) -> dict[str, dict[str, list[float]]]:
    """side name -> metric -> samples (ms)."""
    from playwright.sync_api import sync_playwright

    from gallery.ui.assets import locate

    out = build(locate().files()["byok.css"])
    ids = story_ids(out)
    samples: dict[str, dict[str, list[float]]] = {}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="byok-sb-")))
        sides = [Side("byok", stack.enter_context(gallery(ROOT, tmp)))]
        if before is not None:
            sides.append(Side("byok before", stack.enter_context(gallery(before, tmp))))
        sides.append(Side("Storybook 9", stack.enter_context(serve(out, free_port())), ids))
        pw = stack.enter_context(sync_playwright())
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        stack.callback(browser.close)
        for run in range(runs + 1):  # run 0 warms the servers and caches: not counted
            order = sides if run % 2 else list(reversed(sides))
            for side in order:
                got = one_run(browser, side, run)
                print(f"  run {run} {side.name}: {json.dumps(got)}", file=sys.stderr, flush=True)
                if run == 0:
                    continue
                for key, values in got.items():
                    samples.setdefault(side.name, {}).setdefault(key, []).extend(values)
    return samples


def table(samples: dict[str, dict[str, list[float]]]) -> str:
    """Medians per side and metric, each byok side's ratio to Storybook, the bars."""
    names = list(samples)
    reference = "Storybook 9"
    ours = [n for n in names if n != reference]
    head = ["", *[f"{n} ms" for n in names], *[f"{n} ÷ SB" for n in ours], "bar", "result"]
    rows = [head]
    for m in METRICS:
        med = {n: statistics.median(samples[n][m.key]) for n in names}
        ratios = {n: med[n] / med[reference] for n in ours}
        verdict = "—" if m.bar is None else ("pass" if ratios["byok"] <= m.bar else "FAIL")
        rows.append(
            [
                m.label,
                *[f"{med[n]:,.0f}" for n in names],
                *[f"{ratios[n]:.2f}×" for n in ours],
                "—" if m.bar is None else f"≤ {m.bar:g}×",
                verdict,
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table; exit 1 when a bar is missed."""
    parser = argparse.ArgumentParser(prog="python -m bench.gallery_browser", description=__doc__)
    parser.add_argument(
        "--runs",
        type=int,
        default=RUNS,
        help=f"cold visits per side (default {RUNS})",
    )
    parser.add_argument("--before", type=Path, help="also measure the gallery of this checkout")
    parser.add_argument("--json", type=Path, help="also write the samples here")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    samples = measure(args.runs, args.before)
    print(
        f"byok gallery vs Storybook 9.1.20 (html-vite), Chromium, {args.runs} runs, medians; "
        f"load average {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
        f"({os.cpu_count()} CPUs)"
    )
    print(table(samples))
    if args.json:
        args.json.write_text(json.dumps(samples, indent=2) + "\n")
    ratios_ok = all(
        m.bar is None
        or statistics.median(samples["byok"][m.key])
        <= m.bar * statistics.median(samples["Storybook 9"][m.key])
        for m in METRICS
    )
    return 0 if ratios_ok else 1


if __name__ == "__main__":
    sys.exit(main())
