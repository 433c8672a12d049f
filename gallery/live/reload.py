"""Hot reload for `gallery --reload`: a change to a story or a component shows in the open page
within a second, with no server restart.

A thread stats the watched folders' Python files (and guides' Markdown) every 0.1 s. On a change it imports the story
packages afresh (and every component module the stories use, from the same folders), swaps the
registry, and bumps a version. Each page carries the version it was rendered at
(`<meta name="gallery-reload">`); gallery.js long-polls `/__reload` and reloads the page when the
version moves. A change that does not import or render (a syntax error, a story its component
refuses) keeps the last good stories, prints the traceback and shows it on the open page until
the next good change. Modules outside the watched folders (byok.routes, the playground) keep
what they imported at start: restart the gallery after changing those.
"""

from __future__ import annotations

import asyncio
import inspect
import secrets
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..model.registry import registry, reload_stories, story_packages

__all__ = ["POLL_URL", "Reloader", "reload_error", "watched_folders"]

POLL_URL = "/__reload"  # the long-poll endpoint gallery.js calls
INTERVAL = 0.1  # seconds between two looks at the files
HOLD = 20.0  # seconds a long-poll waits for a change before answering anyway
_GALLERY = str(Path(__file__).parents[1]) + "/"  # the gallery's own frames (registry, reload)


def watched_folders() -> tuple[Path, ...]:
    """The folders of the story packages and of the modules defining the stories' components."""
    folders: dict[Path, None] = {}
    for package in story_packages():
        module = sys.modules.get(package)
        for entry in getattr(module, "__path__", None) or [getattr(module, "__file__", "")]:
            if entry:
                path = Path(entry).resolve()
                folders[path if path.is_dir() else path.parent] = None
    for story in registry():
        source = inspect.getsourcefile(story.component)
        if source:
            folders[Path(source).resolve().parent] = None
    # a folder inside another is watched by it already
    roots = sorted(folders, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for f in roots:
        if not any(f.is_relative_to(k) for k in kept):
            kept.append(f)
    return tuple(kept)


def _is_machinery(frame: traceback.FrameSummary) -> bool:
    """A frame of Python's import system or of the gallery's own loading: noise to the reader."""
    name = frame.filename
    return name.startswith("<frozen ") or "/importlib/" in name or name.startswith(_GALLERY)


def reload_error(
    exc: BaseException,  # what the reload raised
    folders: tuple[Path, ...],  # the watched folders: the developer's own files
) -> str:
    """The error as a developer reads it: their file, line and the message first, then the
    traceback without the import machinery's frames."""
    while exc.__cause__ is not None:  # the registry's StoriesError wraps what the file raised
        exc = exc.__cause__
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not _is_machinery(f)]
    where: tuple[str, int | None] | None = None
    if isinstance(exc, SyntaxError) and exc.filename:  # the broken line is not a frame
        where = (exc.filename, exc.lineno)
    else:
        own = [f for f in frames if any(Path(f.filename).is_relative_to(d) for d in folders)]
        last = (own or frames)[-1:]
        where = (last[0].filename, last[0].lineno) if last else None
    lines = traceback.format_exception_only(type(exc), exc)
    message = lines[-1].strip()  # "SyntaxError: '[' was never closed"
    head = f"{where[0]}, line {where[1]}: {message}" if where else message
    detail = "".join(traceback.format_list(frames)) + "".join(lines)
    return f"{head}\n\n{detail.rstrip()}"


class Reloader:
    """Watches folders of Python (and guide Markdown) files; reloads the stories (and the
    guides) when one changes."""

    def __init__(
        self,
        folders: tuple[Path, ...],  # folders whose *.py and *.md files are watched (recursively)
    ) -> None:
        self.folders = folders
        self.boot = secrets.token_hex(4)  # tells a restarted server from this one
        self.count = 0  # good reloads so far
        self.error: str | None = None  # the last failed reload's traceback, until a good one
        self.errors = 0  # failed reloads so far
        self._seen = self._stat()
        self._lock = threading.Lock()

    @classmethod
    def for_registry(cls) -> Reloader:
        """A reloader watching what the current registry was loaded from."""
        return cls(watched_folders())

    @property
    def state(self) -> str:
        """What a page was rendered at: changes on every reload, good or failed."""
        return f"{self.boot}-{self.count}-{self.errors}"

    def _stat(self) -> dict[Path, int]:
        out: dict[Path, int] = {}
        for folder in self.folders:
            for path in (*folder.rglob("*.py"), *folder.rglob("*.md")):  # stories, guides
                try:
                    out[path] = path.stat().st_mtime_ns
                except OSError:  # removed between listing and stat
                    continue
        return out

    def check(self) -> bool:
        """Reload when a watched file changed since the last look; True when something changed."""
        with self._lock:
            now = self._stat()
            if now == self._seen:
                return False
            self._seen = now
            try:
                reload_stories(self.folders)
            except Exception as e:  # shown on the page and in the console, the old stories stay
                self.error = reload_error(e, self.folders)
                self.errors += 1
                print(
                    f"gallery: reload failed, keeping the last good stories\n{self.error}",
                    file=sys.stderr,
                )
            else:
                self.error = None
                self.count += 1
                print(f"gallery: reloaded {len(registry())} stories", file=sys.stderr)
            return True

    def _run(self) -> None:
        while True:
            time.sleep(INTERVAL)
            try:
                self.check()
            except Exception:  # never let the watcher die
                traceback.print_exc()

    def start(self) -> None:
        """Watch in a daemon thread."""
        threading.Thread(target=self._run, name="gallery-reload", daemon=True).start()

    async def poll(self, request: Request) -> JSONResponse:
        """Answer when the state differs from the page's (?s=), or after HOLD seconds."""
        seen = request.query_params.get("s", "")
        deadline = time.monotonic() + HOLD
        while self.state == seen and time.monotonic() < deadline:
            if await request.is_disconnected():
                break
            await asyncio.sleep(0.05)
        version = f"{self.boot}-{self.count}"
        return JSONResponse(
            {"state": self.state, "version": version, "error": self.error},
            headers={"Cache-Control": "no-store"},
        )

    def mount(
        self,
        app: Any,  # the gallery app
    ) -> None:
        """Serve the long-poll, mark every page with the state, and start watching."""
        app.router.routes.insert(0, Route(POLL_URL, self.poll, methods=["GET"]))
        app.state.gallery_reloader = self
        self.start()
