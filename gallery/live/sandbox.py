"""Per-story sandboxes: what a story's forms talk to inside the canvas, never the playground.

Each canvas load opens a sandbox (a random token, so a reload starts afresh, holding only the
story's `Seed`: stored keys, and issued keys made by the sandbox's issuer at fixed times before
`DEMO_NOW`, the sandbox issuer's frozen clock) and its htmx requests
to the key routes (/api/keys...) and the issued-key routes (/account/api-keys...) are sent to
`SANDBOX_URL` + the same path with the token in the `Gallery-Sandbox` header (canvas.js does the
rewrite, so the component's HTML stays the story's). The routes are byok's own
(`mount_key_routes`, `mount_issuing_routes`: CSRF, validation, toasts, BYOK-Problem answers) on a
BYOKManager and a KeyIssuer of their own: a throwaway SQLite file, one owner (organization) per
sandbox; the oldest sandboxes are cleared when there are more than `MAX_SANDBOXES`. A seeded
issued key standing for a story's record answers to that record's id in the sandbox's paths
(`SeededPaths`), so the story's own Roll / Revoke / Delete buttons act on it.
"""

from __future__ import annotations

import atexit
import hashlib
import re
import secrets
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from byok.components import ISSUED_BASE_URL, scope_list
from byok.core.storage import BYOKManager
from byok.core.types import BYOKConfig, StorageBackend
from byok.issuing import KeyIssuer, KeyOwner, mount_issuing_routes
from byok.middleware import SecurityPolicy
from byok.routes import KeyRoutes, mount_key_routes
from byok.verify import KeyVerifier

from ..model.registry import registry
from ..model.seeds import SeedClock, plant_issued
from .issuing_playground import SCOPES
from .playground import KEYS_URL

__all__ = ["HEADER", "MAX_SANDBOXES", "SANDBOXED", "SANDBOX_URL", "Sandboxes", "SeededPaths"]

SANDBOX_URL = "/sandbox"  # prefix of the sandbox's key routes: /sandbox/api/keys/...
HEADER = "Gallery-Sandbox"  # request header naming the sandbox (set by canvas.js)
MAX_SANDBOXES = 512  # sandboxes kept at once; the oldest is cleared beyond this
SANDBOXED = (KEYS_URL, ISSUED_BASE_URL)  # the story paths canvas.js sends to the sandbox
_TOKEN = re.compile(r"[0-9a-f]{24}")


class Sandboxes:
    """The open sandboxes (token -> story slug) and the key routes they share."""

    def __init__(
        self,
        secret_key: str,  # the app secret (the sandbox manager derives its keys from it)
        folder: Path | None = None,  # where the throwaway database lives (default: a temp dir)
        verifier: KeyVerifier | None = None,  # the Test button's checks (the playground's)
    ) -> None:
        self.verifier = verifier
        self._own = folder is None
        self.folder = (
            Path(tempfile.mkdtemp(prefix="byok-gallery-sandbox-")) if folder is None else folder
        )
        config = BYOKConfig(storage_backend=StorageBackend.DATABASE, require_https=False)
        self.db_url = f"sqlite:///{self.folder / 'sandbox.db'}"
        self.manager = BYOKManager(secret_key, db_url=self.db_url, config=config)
        signing = hashlib.sha256(f"byok-gallery-sandbox:{secret_key}".encode()).hexdigest()
        self.clock = SeedClock()  # frozen at DEMO_NOW: the sandbox's answers are the same each run
        self.issuer = KeyIssuer(
            self.db_url,
            signing_secret=signing,
            key_prefix="demo",
            environment="test",
            clock=self.clock,
        )
        self._orgs: dict[str, str] = {}  # sandbox token -> its organization id
        self._seeded: dict[str, dict[str, str]] = {}  # token -> story's key id -> issued key id
        self._open: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        if self._own:
            atexit.register(self.close)

    def open(
        self,
        slug: str,  # the story the canvas shows
    ) -> str:
        """A new sandbox for one canvas load, holding the story's seed; returns its token."""
        token = secrets.token_hex(12)
        with self._lock:
            self._open[token] = slug
            evicted = []
            while len(self._open) > MAX_SANDBOXES:
                evicted.append(self._open.popitem(last=False)[0])
        for old in evicted:
            self.manager.clear_keys(None, _owner(old))
            self._seeded.pop(old, None)
            org = self._orgs.pop(old, None)
            if org is not None:
                for key in self.issuer.list_org_keys(org):
                    self.issuer.delete_key(key.id)
        story = registry().get(slug)
        if story is not None and story.seed is not None:
            for provider, key in story.seed.keys.items():
                self.manager.set_key(None, provider, key, _owner(token))
            if story.seed.issued:
                ids = plant_issued(
                    self.issuer,
                    self.clock,
                    self.org(token),
                    story.seed.issued,
                    actor=_owner(token),
                )
                self._seeded[token] = {
                    s.story_id: kid
                    for s, kid in zip(story.seed.issued, ids, strict=True)
                    if s.story_id
                }
        return token

    def seeded(
        self,
        token: str,  # a sandbox token
    ) -> dict[str, str]:
        """The sandbox's seeded issued keys: the story's key id -> the issued key's id."""
        return dict(self._seeded.get(token, {}))

    def org(
        self,
        token: str,  # a sandbox token
    ) -> str:
        """The sandbox's organization id (created on first use)."""
        org = self._orgs.get(token)
        if org is None:
            org = self._orgs[token] = self.issuer.get_or_create_organization(_owner(token))[0].id
        return org

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

    def key_owner(
        self,
        req: Request,  # a request to the sandbox's issued-key routes
    ) -> KeyOwner | None:
        """The sandbox's organization (created on first use); None for an unknown sandbox."""
        owner = self.user_id(req)
        if owner is None:
            return None
        return KeyOwner(self.org(owner.removeprefix("sandbox-")), actor=owner)

    def mount(
        self,
        app: Any,  # the gallery's FastHTML app
    ) -> KeyRoutes:
        """byok's key routes under SANDBOX_URL + KEYS_URL, on the sandbox manager, and the
        issued-key routes under SANDBOX_URL + ISSUED_BASE_URL, on the sandbox issuer (the
        scopes the stories offer)."""
        offered = dict(scope_list(SCOPES))
        for story in registry():
            if isinstance(story.args.get("scopes"), dict | list | tuple):
                offered |= dict(scope_list(story.args["scopes"]))
        app.add_middleware(SeededPaths, sandboxes=self)
        mount_issuing_routes(
            app,
            self.issuer,
            SANDBOX_URL + ISSUED_BASE_URL,
            owner=self.key_owner,
            scopes=offered,
            policy=SecurityPolicy(is_production=False),
            title="Sandbox API keys",
            serve_script=False,
        )
        return mount_key_routes(
            app,
            self.manager,
            prefix=SANDBOX_URL + KEYS_URL,
            user_id_func=self.user_id,
            verifier=self.verifier,
            custom_endpoints=True,  # the stories' optional base URL fields save
            labels=True,  # the labelled-keys story adds a labelled key
            title="Sandbox keys",
            serve_script=False,
        )

    def close(self) -> None:
        """Remove the throwaway database (at exit)."""
        self.manager.storage.close()
        self.issuer.close()
        if self._own:
            shutil.rmtree(self.folder, ignore_errors=True)


def _owner(token: str) -> str:
    return f"sandbox-{token}"


class SeededPaths:
    """ASGI middleware: a sandbox request naming a story's key id is sent to the key seeded for
    it (`/sandbox/account/api-keys/<story id>/revoke` -> `.../<issued id>/revoke`)."""

    def __init__(
        self,
        app: ASGIApp,  # the gallery app
        sandboxes: Sandboxes,  # whose seeded keys are looked up
    ) -> None:
        self.app = app
        self.sandboxes = sandboxes
        self.prefix = SANDBOX_URL + ISSUED_BASE_URL + "/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith(self.prefix):
            key_id, _, rest = path[len(self.prefix) :].partition("/")
            token = dict(scope["headers"]).get(HEADER.lower().encode(), b"").decode("latin-1")
            issued = self.sandboxes.seeded(token).get(key_id) if _TOKEN.fullmatch(token) else None
            if issued is not None:
                new = self.prefix + issued + ("/" + rest if rest else "")
                scope = {**scope, "path": new, "raw_path": new.encode()}
        await self.app(scope, receive, send)
