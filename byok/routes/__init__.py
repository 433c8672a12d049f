"""The key-management routes, mounted under a prefix: dashboard, save, delete and test.

`mount_key_routes(app, manager, prefix="/api/keys", providers=[...])` adds:

| method | path | answer |
|---|---|---|
| GET | `{prefix}` | the `KeyManagerDashboard` page (a fragment for htmx, a summary for JSON) |
| POST | `{prefix}` | save from `MultiProviderKeyForm` (`provider` + `api_key`) |
| POST | `{prefix}/{provider}` | save: the provider's card + an out-of-band toast (+ count) |
| DELETE | `{prefix}/{provider}` | delete: the provider's card + an out-of-band toast (+ count) |
| POST | `{prefix}/{provider}/default` | with `labels=True`: make `?label=…` the default; the card |
| POST | `{prefix}/{provider}/test` | check the key (built-in or the app's verifier): a `KeyTestResult` |

Saves take an optional `label` (with `labels=True`; `intent=add` refuses to replace a key) and
the endpoint fields the registry allows (`base_url`, `deployment`, `api_version`: always for
providers that need them, with `custom_endpoints=True` for the optional ones); delete and test
take `?label=…` (absent = the provider's default key). (+ count): a request sent from inside a
dashboard (its `BYOK-Dashboard` header) also gets the dashboard's key count out of band.

The routes are FastHTML's own: a `CheckedRouter` (an `APIRouter`) whose routes first run, as
per-route `before` checks, the `RouteGate` (HTTPS in production, the Fetch Metadata / Origin check
and the per-session CSRF token on every write) and the unknown-provider 404, so no beforeware
`skip` list can open a hole. The HTMX contract (ids, targets, 422 with `ValidationMessage` and
`HX-Retarget`, error toasts marked `BYOK-Problem`) is the one in `byok.components.forms`. Bad
input is a 4xx and nothing is stored; a storage failure is a 503; never a 500.

Storage per request: a save is one `set_key` trip (card and count drawn from its `SavedKey`), the
dashboard one `overview` read, a delete or new default the write and one read, in one trip.
`KeyRoutes` holds its parts (no mixins): frozen `settings`, `answers`, the `keytest` tester.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse

from byok.components import AlertKind, serve_byok_js
from byok.components.serving import serve_assets
from byok.components.wiring import DEFAULT_BASE_URL, MULTI_VALIDATION_ID
from byok.core.providers import BUILTIN_PROVIDERS, check_offered, resolve_provider
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
    UserIdFunc,
    app_manager,
    call_storage,
    check_user_id_func,
    find_manager,
    identity_of,
    resolve_user_id,
)
from byok.middleware.http import (
    CheckedRouter,
    Layout,
    Refused,
    RequestKind,
    request_kind,
    sign_in,
)
from byok.middleware.limits import BodyLimit
from byok.middleware.policy import RouteGate, SecurityPolicy, policy_for
from byok.outbound import OutboundPolicy
from byok.verify import KeyVerifier

from .answers import KeyAnswers, dashboard_row
from .form import KEY_FIELD, label_from, parse_key_form
from .keytest import TEST_LIMIT, KeyTester, TestLimit, Verifier, default_limit
from .settings import KeyRouteSettings

__all__ = [
    "KEY_FIELD",
    "KeyAnswers",
    "KeyRouteSettings",
    "KeyRoutes",
    "KeyTester",
    "Verifier",
    "mount_key_routes",
]

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


def mount_key_routes(
    app: Any,  # the FastHTML app
    manager: BYOKManager | None = None,  # the manager (default: app.state.byok, set by setup_byok)
    prefix: str = DEFAULT_BASE_URL,  # where the routes live
    providers: Sequence[str] | None = None,  # providers offered (default: the built-in registry)
    user_id_func: UserIdFunc | None = None,  # request -> user id; None = setup_byok's, else auth
    verifier: Verifier | Literal[False] | None = None,  # (provider, key) -> ok?; None = built-in
    provider_config: Mapping[str, Any] | None = None,  # display/registry overrides per provider
    policy: SecurityPolicy | None = None,  # HTTPS / origins / CSRF; None = setup_byok's for manager
    title: str = "API keys",  # dashboard heading and page title
    verify_timeout: float = 10.0,  # seconds the verifier may take
    check_format: bool = True,  # refuse keys that do not fit the provider's known pattern
    serve_script: bool = True,  # also serve byok.js (the dashboard page loads it)
    *,
    labels: bool = False,  # several labelled keys per provider (forms take a label; default route)
    custom_endpoints: bool = False,  # users may give the optional endpoints the registry allows
    outbound: OutboundPolicy | None = None,  # the built-in checks' SSRF guard (allowlists, timeout)
    test_limit: TestLimit = TEST_LIMIT,  # key tests per user: (count, seconds), a RateLimit, or None
    layout: Layout | None = None,  # the app's shell around each full page: layout(*c, title=)
) -> KeyRoutes:
    """Add the dashboard, save, delete and test routes under `prefix`; returns the `KeyRoutes`
    (their frozen `settings` and the parts they hold).

    Without a `verifier` the test route runs the built-in zero-token checks (`KeyVerifier`);
    `verifier=False` leaves the test route (and the Test buttons) out. `layout(*content,
    title=...)` wraps each full page (never an htmx fragment nor JSON) in the app's shell."""
    if not isinstance(prefix, str) or not prefix.startswith("/") or prefix.startswith("//"):
        raise ValueError("prefix must be an absolute path such as '/api/keys'")
    prefix = prefix.rstrip("/") or "/"
    offered = providers if providers is not None else BUILTIN_PROVIDERS
    names = check_offered(offered, provider_config, where="mount_key_routes")  # typos refused
    check_user_id_func(user_id_func, "mount_key_routes")
    if not names:
        raise ValidationError("mount_key_routes needs at least one provider")
    if manager is not None and getattr(app.state, "byok", None) is None:
        app.state.byok = manager
    try:  # FastHTML parses bodies before any check: cap them first (413 / 400, never a 500)
        app.add_middleware(BodyLimit, paths=[prefix])
    except RuntimeError:  # the app is already serving: its middleware is fixed
        log.warning("byok: mount_key_routes after the app started: bodies are not limited")
    known = manager or app_manager(app)  # setup_byok's, from the app's beforeware
    if policy is None and known is not None:
        policy = policy_for(known)
    if policy is not None:
        policy.harden(app)
    if verifier is None:
        verifier = KeyVerifier(provider_config, outbound=outbound)
    settings = KeyRouteSettings(
        prefix,
        tuple(names),
        title=title,
        provider_config=provider_config,
        user_id_func=user_id_func,
        check_format=check_format,
        labels=labels,
        custom_endpoints=custom_endpoints,
        verify_timeout=verify_timeout,
        layout=layout,
    )
    tester = None
    if verifier is not False:
        limit = default_limit(known, test_limit) if isinstance(test_limit, tuple) else test_limit
        tester = KeyTester(verifier, verify_timeout, limit)
    routes = KeyRoutes(settings, manager=manager, policy=policy, tester=tester)
    one = f"{'' if prefix == '/' else prefix}/{{provider}}"
    router = CheckedRouter(routes.gate, routes.known_provider)
    router(prefix, methods=["get"], name="byok_dashboard")(routes.dashboard)
    router(prefix, methods=["post"], name="byok_save_any")(routes.save_any)
    router(one, methods=["post"], name="byok_save")(routes.save)
    router(one, methods=["delete"], name="byok_delete")(routes.delete)
    if tester is not None:
        router(f"{one}/test", methods=["post"], name="byok_test")(routes.test)
    if labels:
        router(f"{one}/default", methods=["post"], name="byok_default")(routes.make_default)
    router.to_app(app)
    if serve_script and not any(getattr(r, "name", None) == "byok_js" for r in app.routes):
        serve_byok_js(app)
    serve_assets(app)  # byok.css, htmx, byok.js under /byok/ (once): no `.serve(app)` needed
    return routes
