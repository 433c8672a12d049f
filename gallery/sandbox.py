"""Per-story sandboxes: what a story's forms talk to inside the canvas, never the playground.

Each canvas load opens a sandbox (a random token, so a reload starts empty) and its htmx requests
to the key routes (/api/keys...) are sent to `SANDBOX_URL` + the same path with the token in the
`Gallery-Sandbox` header (canvas.js does the rewrite, so the component's HTML stays the story's).
The routes are byok's own (`mount_key_routes`: CSRF, validation, toasts, BYOK-Problem answers) on a
BYOKManager of their own: a throwaway SQLite file, one owner per sandbox; the oldest sandboxes are
cleared when there are more than `MAX_SANDBOXES`.
"""

from __future__ import annotations

import atexit
import re
import secrets
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from starlette.requests import Request

from byok.core.storage import BYOKManager
from byok.core.types import BYOKConfig, StorageBackend
from byok.routes import KeyRoutes, mount_key_routes

from .playground import KEYS_URL, verify

__all__ = ["HEADER", "MAX_SANDBOXES", "SANDBOX_URL", "Sandboxes"]

SANDBOX_URL = "/sandbox"  # prefix of the sandbox's key routes: /sandbox/api/keys/...
HEADER = "Gallery-Sandbox"  # request header naming the sandbox (set by canvas.js)
MAX_SANDBOXES = 512  # sandboxes kept at once; the oldest is cleared beyond this
_TOKEN = re.compile(r"[0-9a-f]{24}")


class Sandboxes:
    """The open sandboxes (token -> story slug) and the key routes they share."""

    def __init__(
        self,
        secret_key: str,  # the app secret (the sandbox manager derives its keys from it)
        folder: Path | None = None,  # where the throwaway database lives (default: a temp dir)
    ) -> None:
        self._own = folder is None
        self.folder = (
            Path(tempfile.mkdtemp(prefix="byok-gallery-sandbox-")) if folder is None else folder
        )
        config = BYOKConfig(storage_backend=StorageBackend.DATABASE, require_https=False)
        self.db_url = f"sqlite:///{self.folder / 'sandbox.db'}"
        self.manager = BYOKManager(secret_key, db_url=self.db_url, config=config)
        self._open: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        if self._own:
            atexit.register(self.close)

    def open(
        self,
        slug: str,  # the story the canvas shows
    ) -> str:
        """A new, empty sandbox for one canvas load; returns its token."""
        token = secrets.token_hex(12)
        with self._lock:
            self._open[token] = slug
            evicted = []
            while len(self._open) > MAX_SANDBOXES:
                evicted.append(self._open.popitem(last=False)[0])
        for old in evicted:
            self.manager.clear_keys(None, _owner(old))
        return token

    def __len__(self) -> int:
        return len(self._open)

    def user_id(
        self,
        req: Request,  # a request to the sandbox routes
    ) -> str | None:
        """The sandbox's owner id, from the Gallery-Sandbox header (None when unknown)."""
        token = req.headers.get(HEADER, "")
        if not _TOKEN.fullmatch(token) or token not in self._open:
            return None
        return _owner(token)

    def mount(
        self,
        app: Any,  # the gallery's FastHTML app
    ) -> KeyRoutes:
        """byok's key routes under SANDBOX_URL + KEYS_URL, on the sandbox manager."""
        return mount_key_routes(
            app,
            self.manager,
            prefix=SANDBOX_URL + KEYS_URL,
            user_id_func=self.user_id,
            verifier=verify,
            title="Sandbox keys",
            serve_script=False,
        )

    def close(self) -> None:
        """Remove the throwaway database (at exit)."""
        self.manager.storage.close()
        if self._own:
            shutil.rmtree(self.folder, ignore_errors=True)


def _owner(token: str) -> str:
    return f"sandbox-{token}"
