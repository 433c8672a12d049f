"""`KeyRoutes`: the key routes' handlers (dashboard, save, delete, default, test) over the parts
they hold; `mount_key_routes` (byok.routes) builds one and adds its routes to the app."""

from __future__ import annotations

import functools
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from byok.components import AlertKind
from byok.components.wiring import MULTI_VALIDATION_ID
from byok.core.providers import resolve_provider
from byok.core.storage import BYOKManager
from byok.core.types import (
    APIKey,
    EncryptionError,
    KeyNotFoundError,
    SessionFullError,
    StorageError,
    ValidationError,
)
from byok.middleware.context import (
    UserIdError,
    call_storage,
    find_manager,
    identity_of,
    resolve_user_id,
)
from byok.middleware.http import (
    Refused,
    RequestKind,
    request_kind,
    sign_in,
)
from byok.middleware.policy import RouteGate, SecurityPolicy

from .answers import KeyAnswers, dashboard_row
from .form import label_from, parse_key_form
from .keytest import KeyTester
from .settings import KeyRouteSettings

__all__ = ["KeyRoutes"]

log = logging.getLogger("byok")

PROVIDER_FIELD = "provider"  # form field naming the provider (MultiProviderKeyForm)
USER_ID_PROBLEM = "Your API keys are unavailable: this site could not identify your account"


class KeyRoutes:
    """The key routes of one app: their handlers, over the parts they hold (see
    `mount_key_routes`): the frozen `settings`, the `gate` (HTTPS, origin, CSRF), the `answers`
    (what each route draws) and the `tester` (the Test button; None without a test route)."""

    def __init__(
        self,
        settings: KeyRouteSettings,  # prefix, providers, title, labels, … (frozen)
        *,
        manager: BYOKManager | None = None,  # None = app.state.byok / request.scope["byok"]
        policy: SecurityPolicy | None = None,  # HTTPS, origins, CSRF; None = the app manager's
        tester: KeyTester | None = None,  # runs the Test button's check; None = no test route
    ):
        self.settings = settings
        self.manager = manager
        self.gate = RouteGate(policy, manager)  # HTTPS, origin and CSRF checks (per route)
        self.answers = KeyAnswers(settings, self.gate, enable_test=tester is not None)
        self.tester = tester

    @property
    def policy(self) -> SecurityPolicy | None:
        """The policy in force: the one given, else setup_byok's once the manager is known."""
        return self.gate.policy

    async def known_provider(
        self,
        req: Request,  # the incoming request (FastHTML fills it)
    ) -> Any:
        """Per-route check: a `{provider}` this app does not offer is a 404."""
        name = req.path_params.get("provider")
        if name is None or name in self.settings.providers:
            return None
        return self.answers.problem(
            req, 404, "unknown_provider", "Unknown API key provider"
        ).response

    async def _context(self, req: Request) -> tuple[BYOKManager, Any]:
        """(manager, user id); refused when there is no manager or no user."""
        manager = find_manager(req, self.manager)
        if manager is None:
            raise self.answers.problem(
                req, 503, "not_configured", "API key storage is not configured"
            )
        try:
            user_id = await resolve_user_id(req, self.settings.user_id_func, manager)
        except UserIdError:  # the app's bug, logged: never a 500
            raise self.answers.problem(req, 503, "user_id", USER_ID_PROBLEM) from None
        if user_id is None and manager.needs_user:  # signed out: to the app's sign-in page
            login_url = identity_of(req, manager).login_url
            detail = "Sign in to manage your API keys"
            s = self.settings
            raise Refused(sign_in(req, login_url, detail, s.title, s.layout))
        return manager, user_id

    def _name(self, provider: str) -> str:
        return resolve_provider(provider, self.settings.provider_config).name

    # --- handlers (each behind the router's checks) ---------------------------------------------

    async def dashboard(
        self,
        req: Request,  # the incoming request
    ) -> Any:
        """GET {prefix}: the dashboard (page, htmx fragment, or a JSON summary): one read."""
        manager, user_id = await self._context(req)
        kind = request_kind(req)
        try:
            overview = await call_storage(
                manager, manager.overview, req, self.settings.providers, user_id
            )
        except (StorageError, ValidationError):
            log.warning("byok dashboard failed", exc_info=True)
            if kind is RequestKind.JSON:
                raise self.answers.problem(
                    req, 503, "storage", "API key storage is unavailable"
                ) from None
            overview = None
        if kind is RequestKind.JSON:
            rows = [dashboard_row(p, overview.get(p)) for p in self.settings.providers]
            return JSONResponse({"providers": rows})
        if overview is None:  # the dashboard reads again, and shows its own error alert
            board = await call_storage(
                manager, functools.partial(self.answers.board, req, manager, user_id)
            )
        else:
            board = self.answers.board(req, manager, user_id, keys=overview)
        if kind is RequestKind.HTMX:
            return board
        return self.answers.page(req, board)

    async def save(
        self,
        req: Request,  # the incoming request
        data: dict,  # its parsed body (form fields or JSON)
    ) -> Any:
        """POST {prefix}/{provider}: store the key; the card + a toast, or 422 / 4xx."""
        provider = req.path_params["provider"]
        return await self._save(
            req, data, provider, self.answers.slot_of(req, provider), multi=False
        )

    async def save_any(
        self,
        req: Request,  # the incoming request
        data: dict,  # its parsed body (form fields or JSON)
    ) -> Any:
        """POST {prefix}: store the key of the provider chosen in MultiProviderKeyForm."""
        provider = data.get(PROVIDER_FIELD)
        if not isinstance(provider, str) or provider not in self.settings.providers:
            raise self.answers.invalid(
                req, MULTI_VALIDATION_ID, "Choose a provider from the list", False
            )
        return await self._save(req, data, provider, MULTI_VALIDATION_ID, multi=True)

    async def _save(self, req: Request, data: Any, provider: str, slot: str, *, multi: bool) -> Any:
        """The save shared by both forms: one `set_key` in one thread-pool trip, the answer drawn
        from the SavedKey it returns (no second read); refused with the 422 / 503 answer."""
        manager, user_id = await self._context(req)
        s = self.settings
        try:
            form = parse_key_form(
                data,
                req.query_params,
                resolve_provider(provider, s.provider_config),
                max_length=manager.config.max_key_length,
                check_format=s.check_format,
                labels=s.labels,
                custom_endpoints=s.custom_endpoints,
            )
            saved = await call_storage(manager, form.save, manager, req, provider, user_id)
            keys = saved.keys  # the card and the count from it (a malformed entry: the 503)
        except ValidationError as e:
            raise self.answers.invalid(req, slot, str(e), not multi) from None
        except SessionFullError:
            message = "Your browser session cannot hold another key this long: remove a key first"
            raise self.answers.invalid(req, slot, message, not multi) from None
        except (StorageError, EncryptionError):
            log.warning("byok save failed for provider %s", provider, exc_info=True)
            raise self.answers.problem(
                req, 503, "storage", "Your key could not be saved; try again later"
            ) from None
        expires = saved.record.expires_at
        body = {
            "provider": provider,
            "stored": True,
            "masked": saved.masked,
            "expires_at": expires.isoformat() if expires else None,
        }
        which = f" ({saved.record.label})" if saved.record.label else ""
        verb = "updated" if saved.replaced else "saved"
        toast = f"{self._name(provider)} key{which} {verb}: {saved.masked}"
        where = (manager, user_id, keys)  # no second read
        return self.answers.written(req, body, where, provider, toast, multi=multi)

    async def delete(
        self,
        req: Request,  # the incoming request
        data: dict,  # its parsed body (form fields or JSON)
    ) -> Any:
        """DELETE {prefix}/{provider}[?label=…]: remove the key; the card + a toast."""
        return await self._change(req, data, "removed", "Your key could not be removed; try again")

    async def make_default(
        self,
        req: Request,  # the incoming request
        data: dict,  # its parsed body (form fields or JSON)
    ) -> Any:
        """POST {prefix}/{provider}/default?label=…: make that key the default; the card."""
        return await self._change(req, data, "is now the default", "API key storage is unavailable")

    async def _change(self, req: Request, data: Any, done: str, failed: str) -> Any:
        """Delete or make default: the write and a read of the owner's keys (for the card and
        the count) in one thread-pool trip."""
        provider = req.path_params["provider"]
        manager, user_id = await self._context(req)
        deleting = req.scope["method"] == "DELETE"

        def write(label: str | None) -> list[APIKey] | None:
            if deleting:
                manager.delete_key(req, provider, user_id, label=label)
            else:
                manager.set_default(req, provider, label, user_id)
            try:
                return manager.list_keys(req, user_id)
            except StorageError:  # written: only the card is missing
                log.warning("byok: the %s card could not be read back", provider, exc_info=True)
                return None

        try:
            label = label_from(data, req.query_params)
            if label is None and not deleting:
                raise ValidationError("Name the key to make the default")
            keys = await call_storage(manager, write, label)
        except ValidationError as e:
            raise self.answers.problem(req, 422, "invalid", str(e)) from None
        except KeyNotFoundError:
            raise self.answers.problem(
                req, 404, "unknown_key", "That key is no longer stored"
            ) from None
        except StorageError:
            log.warning("byok: %s failed for provider %s", done, provider, exc_info=True)
            raise self.answers.problem(req, 503, "storage", failed) from None
        body: dict[str, Any] = {"provider": provider, "label": label, "default": True}
        if deleting:
            body = {"provider": provider} | ({"label": label} if label is not None else {})
            body["stored"] = keys is not None and any(k.provider == provider for k in keys)
        which = f" ({label})" if label else ""
        toast = f"{self._name(provider)} key{which} {done}"
        alert = AlertKind.INFO if deleting else AlertKind.SUCCESS
        return self.answers.written(req, body, (manager, user_id, keys), provider, toast, alert)

    async def test(
        self,
        req: Request,  # the incoming request
        data: dict,  # its parsed body (form fields or JSON)
    ) -> Any:
        """POST {prefix}/{provider}/test: check the key; a KeyTestResult (429 when over the limit)."""
        manager, user_id = await self._context(req)
        label_of = functools.partial(label_from, data, req.query_params)
        tester = self.tester  # the route is mounted only with one
        return await tester.answer_test(
            req, manager, user_id, req.path_params["provider"], label_of
        )
