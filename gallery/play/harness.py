"""Stories' plays in pytest: the same runner as the Interactions panel (play.js, in the story's
canvas), driven by Playwright in Chromium against a live gallery.

```python
import pytest
from byok_gallery.testing import assert_play_passes, gallery_server, play_params

@pytest.fixture(scope="session")
def gallery():
    with gallery_server("myapp.stories") as url:  # the gallery on a free 127.0.0.1 port
        yield url

@pytest.mark.parametrize("story", play_params("myapp.stories"))
def test_play(story, page, gallery):  # `page`: pytest-playwright's fixture
    assert_play_passes(story, page, gallery)
```
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from ..model.registry import Story, load

__all__ = [
    "PlayResult",
    "StepResult",
    "assert_play_passes",
    "gallery_server",
    "play_params",
    "run_play",
]

SCREENSHOTS = Path("test-results") / "plays"  # where a failing play's screenshot is saved
_PACKAGE = __name__.split(".")[0]  # "gallery" in a checkout, "byok_gallery" installed


class StepResult(NamedTuple):
    """One step of a run, as play.js reported it."""

    label: str  # what the step does, e.g. 'click button "Save"'
    status: str  # passed, failed or skipped
    ms: int  # how long it took
    requests: tuple[tuple[str, str, Any], ...]  # (method, path, status) of the htmx requests
    error: str | None  # why it failed


class PlayResult(NamedTuple):
    """A whole run: passed, and each step."""

    passed: bool  # every step passed
    steps: tuple[StepResult, ...]  # in order

    @property
    def failed(self) -> StepResult | None:
        """The step that failed, or None."""
        return next((s for s in self.steps if s.status == "failed"), None)


def play_params(
    *packages: str,  # story packages, e.g. "myapp.stories" (none: byok's own)
) -> list[Any]:
    """Every story of the packages that has a play, as a pytest param whose id is its slug."""
    import pytest

    return [pytest.param(s, id=s.slug) for s in load(*packages) if s.play]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def gallery_server(
    *packages: str,  # story packages to serve (none: byok's own)
    startup: float = 120.0,  # seconds to wait for it to answer (imports are slow on a busy CI)
    env: Mapping[str, str] | None = None,  # extra environment, e.g. BYOK_GALLERY_PROVIDER_URL
) -> Iterator[str]:
    """The gallery for these packages in a child process on a free 127.0.0.1 port, with a
    throwaway database; yields its base URL and stops it on exit."""
    folder = Path(tempfile.mkdtemp(prefix="byok-gallery-plays-"))
    port = _free_port()
    cmd = [sys.executable, "-m", _PACKAGE, "--port", str(port)]
    cmd += ["--db", f"sqlite:///{folder / 'gallery.db'}"]
    for p in packages:
        cmd += ["--stories", p]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),  # the tests' own imports
        "BYOK_GALLERY_SECRET": secrets.token_urlsafe(32),
        **(env or {}),
    }
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the gallery exited: {_tail(folder)}")
            try:
                with urllib.request.urlopen(base + "/index.json", timeout=1):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the gallery did not start: {_tail(folder)}") from None
                time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


def _tail(folder: Path) -> str:
    return (folder / "server.log").read_text(errors="replace")[-3000:]


def run_play(
    story: Story,  # a story with a play
    page: Any,  # a Playwright Page (sync API)
    base_url: str,  # the live gallery, e.g. gallery_server's URL
) -> PlayResult:
    """Open the story's canvas (a fresh sandbox) and run its play with play.js."""
    if not story.play:
        raise ValueError(f"story {story.slug!r} has no play")
    page.goto(f"{base_url.rstrip('/')}/story/{story.slug}/canvas", wait_until="load")
    page.wait_for_function("() => window.byokPlay && window.htmx")
    out = page.evaluate("steps => window.byokPlay.run(steps)", [s.to_json() for s in story.play])
    steps = tuple(
        StepResult(
            s["label"],
            s["status"],
            int(s.get("ms") or 0),
            tuple((r["method"], r["path"], r["status"]) for r in s.get("requests", [])),
            s.get("error"),
        )
        for s in out["steps"]
    )
    return PlayResult(bool(out["passed"]), steps)


def assert_play_passes(
    story: Story,  # a story with a play (from play_params)
    page: Any,  # a Playwright Page (pytest-playwright's `page` fixture)
    base_url: str,  # the live gallery
    screenshots: Path = SCREENSHOTS,  # where a failure's screenshot is saved
) -> PlayResult:
    """Run the story's play; on a failure save a screenshot and fail with the step and why."""
    result = run_play(story, page, base_url)
    failed = result.failed
    if result.passed and failed is None:
        return result
    screenshots.mkdir(parents=True, exist_ok=True)
    shot = screenshots / f"{story.slug}.png"
    page.screenshot(path=str(shot), full_page=True)
    number = result.steps.index(failed) + 1 if failed else 0
    lines = [f"play of {story.slug} failed at step {number}: {failed.label if failed else '?'}"]
    lines.append(f"  {failed.error if failed else 'no step failed, the run did not finish'}")
    for i, s in enumerate(result.steps, 1):
        reqs = ", ".join(f"{m} {p} → {st}" for m, p, st in s.requests)
        lines.append(f"  {i}. [{s.status}] {s.label}" + (f"  ({reqs})" if reqs else ""))
    lines.append(f"  screenshot: {shot.resolve()}")
    raise AssertionError("\n".join(lines))
