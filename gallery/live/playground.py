"""The playground: a real BYOKManager on SQLite behind the key dashboard — add a key, see its card,
test it, delete it, watch the toasts.

The key routes are the project's own (`byok.routes.mount_key_routes`, CSRF token included) at the
default /api/keys, so the forms of the stories work too. The Test button runs byok's built-in
check (`byok.verify.KeyVerifier`): one zero-token request to the provider, through the SSRF
guard. $BYOK_GALLERY_PROVIDER_URL sends every check to another base URL instead (a local mock of
the providers, a proxy), and $BYOK_GALLERY_ALLOW_NETWORKS lists the private networks the checks
may reach (e.g. 127.0.0.1/32 for a mock on this machine); nothing private is reached otherwise.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastcore.xml import FT
from fasthtml.common import H1, Code, Div, P
from starlette.requests import Request
from starlette.responses import Response

from byok.components import DEFAULT_BASE_URL, KeyManagerDashboard
from byok.core.storage import BYOKManager
from byok.core.types import BYOKConfig, StorageBackend
from byok.issuing.routes import NO_STORE
from byok.middleware.csrf import csrf_token
from byok.outbound import OutboundPolicy
from byok.routes import KeyRoutes, mount_key_routes
from byok.verify import KeyVerifier

__all__ = [
    "KEYS_URL",
    "PROVIDERS",
    "Playground",
    "data_dir",
    "default_db_url",
    "default_verifier",
]

log = logging.getLogger(__name__)

PROVIDERS = ("openai", "anthropic", "google", "mistral", "groq")  # cards on the playground
KEYS_URL = DEFAULT_BASE_URL  # the default key routes: story forms post here and really work
DB_ENV = "BYOK_GALLERY_DB"  # database URL override
SECRET_ENV = "BYOK_GALLERY_SECRET"  # app secret override
SESSION_USER = "playground_user"  # session entry holding this browser's playground user id
PROVIDER_URL_ENV = "BYOK_GALLERY_PROVIDER_URL"  # one base URL for every playground check
ALLOW_ENV = "BYOK_GALLERY_ALLOW_NETWORKS"  # comma-separated CIDRs the checks may reach


def data_dir() -> Path | None:
    """The gallery's folder in the user's data directory (created), or None when unwritable."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    folder = base / "byok-gallery"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def default_db_url() -> str:
    """$BYOK_GALLERY_DB, else a SQLite file in the data directory, else ./byok_gallery.db."""
    if os.environ.get(DB_ENV):
        return os.environ[DB_ENV]
    folder = data_dir()
    return f"sqlite:///{folder / 'gallery.db'}" if folder else "sqlite:///byok_gallery.db"


def default_secret() -> str:
    """$BYOK_GALLERY_SECRET, else a random secret kept (0600) in the data directory."""
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    folder = data_dir()
    if folder is None:
        log.warning("no writable data directory: playground keys will not survive a restart")
        return secrets.token_urlsafe(32)
    path = folder / "secret"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def default_verifier() -> KeyVerifier:
    """The built-in checks, pointed at $BYOK_GALLERY_PROVIDER_URL when it is set, allowed into
    the networks of $BYOK_GALLERY_ALLOW_NETWORKS (none by default)."""
    base = os.environ.get(PROVIDER_URL_ENV, "").strip().rstrip("/")
    config = {p: {"api_base": f"{base}/{p}"} for p in PROVIDERS} if base else None
    networks = [n.strip() for n in os.environ.get(ALLOW_ENV, "").split(",") if n.strip()]
    return KeyVerifier(config, outbound=OutboundPolicy(allow_networks=networks))


class Playground:
    """The playground's manager, its user ids (one per browser session) and its routes."""

    def __init__(
        self,
        manager: BYOKManager,  # the real manager (database storage)
        secret_key: str,  # the app secret (sessions and the manager)
        db_url: str,  # where the keys live, shown on the page
        verifier: KeyVerifier | None = None,  # the Test button's checks (default_verifier())
    ) -> None:
        self.manager = manager
        self.secret_key = secret_key
        self.db_url = db_url
        self.verifier = verifier or default_verifier()
        self.sections: list[Callable[[Request], FT]] = []  # more sections (e.g. issue keys)

    @classmethod
    def create(
        cls,
        db_url: str | None = None,  # database URL (default: default_db_url())
        secret_key: str | None = None,  # app secret (default: default_secret())
        verifier: KeyVerifier | None = None,  # the Test button's checks (default_verifier())
    ) -> Playground:
        """A playground on SQLite (or the given database)."""
        db_url = db_url or default_db_url()
        secret_key = secret_key or default_secret()
        config = BYOKConfig(storage_backend=StorageBackend.DATABASE, require_https=False)
        manager = BYOKManager(secret_key, db_url=db_url, config=config)
        return cls(manager, secret_key, db_url, verifier)

    def user_id(
        self,
        req: Request,  # the request (its session holds the id)
    ) -> str:
        """This browser's playground user (a random id kept in the session)."""
        uid = req.session.get(SESSION_USER)
        if not isinstance(uid, str) or not uid.startswith("playground-"):
            uid = f"playground-{secrets.token_hex(8)}"
            req.session[SESSION_USER] = uid
        return uid

    def main(
        self,
        req: Request,  # the request
    ) -> FT:
        """The playground's #main content: a short explanation and the live dashboard."""
        return Div(
            H1("Playground", cls="text-2xl font-bold"),
            P(
                "A real ",
                Code("BYOKManager"),
                " on SQLite: keys are sealed with AES-256-GCM and stored in the database; "
                "only masked copies come back. The Test button asks the provider whether the key "
                "works (one request that spends no tokens; the key travels in a header only, "
                "through byok's SSRF guard).",
                cls="text-base-content/80 mt-1 max-w-3xl",
            ),
            self.dashboard(req),
            *(section(req) for section in self.sections),
            cls="flex flex-col gap-4",
        )

    def dashboard(
        self,
        req: Request,  # the request
    ) -> FT:
        """This browser's dashboard: one card per playground provider, Test buttons on."""
        return KeyManagerDashboard(
            req,
            PROVIDERS,
            self.manager,
            self.user_id(req),
            base_url=KEYS_URL,
            enable_test=True,
            csrf_token=csrf_token(req),
            title="Your playground keys",
            allow_labels=True,
        )

    def mount(
        self,
        app: Any,  # the gallery's FastHTML app
        page: Callable[..., Response],  # renders (req, title, main) as a page or a fragment
    ) -> KeyRoutes:
        """Add /playground, and the project's key routes (byok.routes) under KEYS_URL."""

        @app.get("/playground")
        def playground(req: Request):
            # no-store: the page comes to hold a key shown once (the back/forward cache skips it)
            return page(req, "Playground", self.main(req), headers=NO_STORE)

        return mount_key_routes(
            app,
            self.manager,
            prefix=KEYS_URL,
            providers=PROVIDERS,
            user_id_func=self.user_id,
            verifier=self.verifier,
            labels=True,  # several labelled keys per provider
            title="Your playground keys",
            serve_script=False,  # the gallery serves byok.js with its other assets
        )
