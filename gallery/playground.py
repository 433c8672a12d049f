"""The playground: a real BYOKManager on SQLite behind the key dashboard — add a key, see its card,
test it, delete it, watch the toasts.

Key routes: the project's own `byok.routes` when it provides a mount function, else the small
fallback below (same HTMX contract, see `byok.components.forms`). The key test is an offline
stand-in: it checks the key's format against the provider registry and never calls a provider.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastcore.xml import FT, to_xml
from fasthtml.common import H1, Code, Div, P
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from byok.components import (
    DEFAULT_BASE_URL,
    MULTI_VALIDATION_ID,
    AlertKind,
    KeyManagementCard,
    KeyManagerDashboard,
    KeyState,
    KeyTestResult,
    TestState,
    ValidationMessage,
    key_url,
    oob_toast,
    test_url,
    validation_id,
)
from byok.core.providers import key_matches, resolve_provider
from byok.core.storage import BYOKManager
from byok.core.types import (
    BYOKConfig,
    EncryptionError,
    StorageBackend,
    StorageError,
    ValidationError,
)

__all__ = [
    "KEYS_URL",
    "PROVIDERS",
    "Playground",
    "data_dir",
    "default_db_url",
]

log = logging.getLogger(__name__)

PROVIDERS = ("openai", "anthropic", "google", "mistral", "groq")  # cards on the playground
KEYS_URL = DEFAULT_BASE_URL  # the default key routes: story forms post here and really work
DB_ENV = "BYOK_GALLERY_DB"  # database URL override
SECRET_ENV = "BYOK_GALLERY_SECRET"  # app secret override
SESSION_USER = "playground_user"  # session entry holding this browser's playground user id
KEY_FIELD = "api_key"  # the form field carrying the key (the components' contract)


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


def verify_key(
    provider: str,  # provider name
    key: str,  # the decrypted key
) -> TestState:
    """Offline stand-in for a provider call: VALID when the key fits the provider's format."""
    return TestState.REJECTED if key_matches(provider, key) is False else TestState.VALID


class Playground:
    """The playground's manager, its user ids (one per browser session) and its routes."""

    def __init__(
        self,
        manager: BYOKManager,  # the real manager (database storage)
        secret_key: str,  # the app secret (sessions and the manager)
        db_url: str,  # where the keys live, shown on the page
    ) -> None:
        self.manager = manager
        self.secret_key = secret_key
        self.db_url = db_url

    @classmethod
    def create(
        cls,
        db_url: str | None = None,  # database URL (default: default_db_url())
        secret_key: str | None = None,  # app secret (default: default_secret())
    ) -> Playground:
        """A playground on SQLite (or the given database)."""
        db_url = db_url or default_db_url()
        secret_key = secret_key or default_secret()
        config = BYOKConfig(storage_backend=StorageBackend.DATABASE, require_https=False)
        return cls(BYOKManager(secret_key, db_url=db_url, config=config), secret_key, db_url)

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
                "only masked copies come back. The Test button checks the key's format offline "
                "(it never calls the provider). Try ",
                Code("sk-proj-" + "a" * 24),
                " for OpenAI.",
                cls="text-base-content/80 mt-1 max-w-3xl",
            ),
            self.dashboard(req),
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
            title="Your playground keys",
        )

    # --- the fallback key routes (same contract as byok.routes) ---

    def card(
        self,
        req: Request,  # the request
        provider: str,  # provider name
    ) -> FT:
        """The provider's card as stored now (empty, stored or unreadable)."""
        uid = self.user_id(req)
        url = key_url(KEYS_URL, provider)
        status = record = masked = None
        try:
            record = self.manager.get_key_info(req, provider, uid)
            if record is not None:
                masked = self.manager.get_masked_key(req, provider, uid)
        except (EncryptionError, StorageError):
            status = KeyState.UNREADABLE
        return KeyManagementCard(
            provider,
            record is not None or status is not None,
            masked,
            record.created_at if record else None,
            record.expires_at if record else None,
            delete_action=url,
            update_action=url,
            test_url=test_url(KEYS_URL, provider),
            status=status,
        )

    def mount(
        self,
        app: Any,  # the gallery's FastHTML app
        page: Callable[..., Response],  # renders (req, title, main) as a page or a fragment
    ) -> None:
        """Add /playground and its key routes to the app."""

        @app.get("/playground")
        def playground(req: Request):
            return page(req, "Playground", self.main(req))

        def known(provider: str) -> bool:
            return provider in PROVIDERS

        def cross_site(req: Request) -> bool:
            return req.headers.get("sec-fetch-site", "same-origin") == "cross-site"

        def fragment(*parts: Any, status: int = 200, **headers: str) -> HTMLResponse:
            return HTMLResponse(to_xml(parts), status_code=status, headers=headers)

        def store(req: Request, provider: str, key: object) -> str:
            """Validate and store; the toast text on success, ValidationError otherwise."""
            name = resolve_provider(provider).name
            if not isinstance(key, str):
                raise ValidationError("enter a key")
            if key_matches(provider, key) is False:
                raise ValidationError(f"this does not look like a {name} key")
            existed = self.manager.has_key(req, provider, self.user_id(req))
            self.manager.set_key(req, provider, key, self.user_id(req))
            return f"{name} key {'updated' if existed else 'saved'}"

        @app.get(KEYS_URL)
        def dashboard(req: Request):
            return fragment(self.dashboard(req))

        @app.post(KEYS_URL)
        async def save_any(req: Request):
            if cross_site(req):
                return Response("cross-site request refused", status_code=403)
            form = await req.form()
            provider = form.get("provider")
            try:
                if not isinstance(provider, str) or not known(provider):
                    raise ValidationError("choose one of the listed providers")
                toast = store(req, provider, form.get(KEY_FIELD))
            except ValidationError as e:
                return fragment(ValidationMessage(str(e), id=MULTI_VALIDATION_ID), status=422)
            return fragment(
                ValidationMessage(toast, is_valid=True, id=MULTI_VALIDATION_ID),
                oob_toast(toast, AlertKind.SUCCESS),
            )

        @app.post(KEYS_URL + "/{provider}")
        async def save(req: Request, provider: str):
            if not known(provider):
                return Response("unknown provider", status_code=404)
            if cross_site(req):
                return Response("cross-site request refused", status_code=403)
            form = await req.form()
            try:
                toast = store(req, provider, form.get(KEY_FIELD))
            except ValidationError as e:
                slot = validation_id(provider)
                return fragment(
                    ValidationMessage(str(e), id=slot),
                    status=422,
                    **{"HX-Retarget": f"#{slot}", "HX-Reswap": "outerHTML"},
                )
            return fragment(self.card(req, provider), oob_toast(toast, AlertKind.SUCCESS))

        @app.delete(KEYS_URL + "/{provider}")
        def delete(req: Request, provider: str):
            if not known(provider):
                return Response("unknown provider", status_code=404)
            if cross_site(req):
                return Response("cross-site request refused", status_code=403)
            self.manager.delete_key(req, provider, self.user_id(req))
            name = resolve_provider(provider).name
            return fragment(self.card(req, provider), oob_toast(f"{name} key deleted"))

        @app.post(KEYS_URL + "/{provider}/test")
        def test(req: Request, provider: str):
            if not known(provider):
                return Response("unknown provider", status_code=404)
            if cross_site(req):
                return Response("cross-site request refused", status_code=403)
            try:
                key = self.manager.get_key(req, provider, self.user_id(req))
            except EncryptionError:
                return fragment(KeyTestResult(TestState.ERROR, "Stored key is unreadable"))
            if key is None:
                return fragment(KeyTestResult(TestState.ERROR, "No key stored"))
            return fragment(KeyTestResult(verify_key(provider, key)))
