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
take `?label=…` (absent = the provider's default key).

(+ count): a request sent from inside a dashboard (its `BYOK-Dashboard` header) also gets the
dashboard's key count, `dashboard_summary(...)`, out of band.

The HTMX contract (ids, targets, 422 with `ValidationMessage` and `HX-Retarget`, error toasts
marked with the `BYOK-Problem` header that byok.js swaps) is the one in
`byok.components.forms`. Every route checks for itself what it needs, so no beforeware `skip`
list can open a hole: HTTPS in production, the Fetch Metadata / Origin check and the per-session
CSRF token on every write. Bad input is a 4xx and nothing is stored; a storage failure is a 503
with an alert; no route answers 500 for anything a user sends.

The test route uses the built-in checks (`byok.verify.KeyVerifier`, through the SSRF guard)
unless the app passes its own verifier, and is rate-limited per user (`test_limit`).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from fasthtml.common import A, FtResponse, Main, Title
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse

from byok.components import (
    Alert,
    AlertKind,
    KeyManagerDashboard,
    KeyTestResult,
    Severity,
    TestState,
    Toast,
    ValidationMessage,
    byok_script,
    dashboard_summary,
    oob_toast,
    serve_byok_js,
)
from byok.components.dashboard import provider_card
from byok.components.fields import INTENT_FIELD, LABEL_FIELD, MAKE_DEFAULT_FIELD
from byok.components.wiring import (
    DASHBOARD_HEADER,
    DEFAULT_BASE_URL,
    MULTI_VALIDATION_ID,
    PROBLEM_HEADER,
    parse_dashboard_header,
    validation_id,
)
from byok.core.endpoints import ENDPOINT_FIELDS, Endpoint, validate_endpoint
from byok.core.providers import BUILTIN_PROVIDERS, resolve_provider
from byok.core.ratelimit import DatabaseRateLimit, MemoryRateLimit, RateLimit
from byok.core.security import mask_key
from byok.core.storage import BYOKManager, validate_api_key, validate_label, validate_provider
from byok.core.types import (
    EncryptionError,
    KeyNotFoundError,
    SessionFullError,
    StorageBackend,
    StorageError,
    ValidationError,
)
from byok.middleware.beforeware import (
    RequestKind,
    SecurityPolicy,
    UserIdFunc,
    app_manager,
    call_storage,
    find_manager,
    policy_for,
    problem_response,
    refusal,
    request_kind,
    resolve_user_id,
    safe_next,
    secure_session_cookie,
)
from byok.middleware.csrf import SAFE_METHODS, check_csrf_token, csrf_token
from byok.middleware.limits import BodyLimit
from byok.outbound import OutboundPolicy
from byok.utils.helpers import article
from byok.verify import CheckResult, KeyVerifier, Outcome

__all__ = ["KEY_FIELD", "KeyRoutes", "Verifier", "mount_key_routes"]

log = logging.getLogger("byok")

KEY_FIELD = "api_key"  # form field carrying the key (the components' field name)
PROVIDER_FIELD = "provider"  # form field naming the provider (MultiProviderKeyForm)

Verifier = Callable[..., Awaitable[bool | str | CheckResult] | bool | str | CheckResult]
"""`verifier(provider, api_key)`: True = the key works; False or a message = rejected; or a
`CheckResult`. A verifier that takes an `endpoint` keyword also receives the key's endpoint."""

TEST_LIMIT = (10, 60.0)  # key tests per user: 10 per minute


@dataclass
class _Saved:
    provider: str
    masked: str
    created_at: Any
    expires_at: Any
    replaced: bool
    label: str = ""


class _Refusal(Exception):
    """Stops a handler early; `response` is its answer (turned back by `_answering`)."""

    def __init__(self, response: Any):
        super().__init__()
        self.response = response


def _answering(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """The handler as a route: a `_Refusal` it raises becomes its response."""

    @functools.wraps(handler)  # keeps the signature FastHTML reads the parameters from
    async def route(*args: Any, **kwargs: Any) -> Any:
        try:
            return await handler(*args, **kwargs)
        except _Refusal as refused:
            return refused.response

    return route


class KeyRoutes:
    """The key routes of one app: their settings and handlers (see `mount_key_routes`)."""

    def __init__(
        self,
        manager: BYOKManager | None,  # None = app.state.byok / request.scope["byok"]
        prefix: str,  # where the routes live, e.g. "/api/keys"
        providers: Sequence[str],  # providers offered, in order
        user_id_func: UserIdFunc | None,  # request -> user id, sync or async
        verifier: Verifier | Literal[False],  # tests a key; False = no test route
        provider_config: Mapping[str, Any] | None,  # display overrides per provider
        policy: SecurityPolicy | None,  # HTTPS, origins, CSRF; None = the app manager's
        title: str,  # dashboard heading and page title
        verify_timeout: float,  # seconds the verifier may take
        check_format: bool,  # refuse keys that do not fit the provider's pattern
        test_limit: RateLimit | None = None,  # key tests per user; None = no limit
        labels: bool = False,  # the forms take a label: several keys per provider
        custom_endpoints: bool = False,  # users may set the optional endpoints the registry allows
    ):
        self.manager = manager
        self.prefix = prefix
        self.providers = tuple(providers)
        self._known = frozenset(self.providers)
        self.user_id_func = user_id_func
        self.verifier = verifier
        self.provider_config = provider_config
        self.policy = policy
        self.title = title
        self.verify_timeout = verify_timeout
        self.check_format = check_format
        self.test_limit = test_limit
        self.labels = labels
        self.custom_endpoints = custom_endpoints
        self._with_endpoint = _takes_endpoint(verifier)

    # --- checks: each passes or raises _Refusal with the answer -------------------------------

    def _resolve_policy(self, req: Request) -> SecurityPolicy:
        """The policy, once the app's manager is known: setup_byok's, so the production decision
        is the one setup_byok was given (code or environment), wherever the routes are mounted."""
        if self.policy is None:
            manager = find_manager(req, self.manager)
            if manager is None:
                return policy_for(None)  # no manager: _context refuses the request anyway
            self.policy = policy_for(manager)
            if self.policy.is_production:
                secure_session_cookie(req.scope.get("app"))
        return self.policy

    def _gate(self, req: Request, data: Mapping[str, Any] | None) -> None:
        """HTTPS in production; on writes the origin check and the CSRF token."""
        policy = self._resolve_policy(req)
        reason = policy.transport_refusal(req)
        if reason is not None:
            raise _Refusal(
                refusal(req, 403, reason, code="insecure_transport", severity=Severity.CRITICAL)
            )
        if req.scope["method"] in SAFE_METHODS:
            return
        reason = policy.origin_refusal(req)
        if reason is not None:
            raise _Refusal(refusal(req, 403, reason, code="csrf"))
        if policy.csrf and not check_csrf_token(req, data):
            raise _Refusal(
                refusal(
                    req,
                    403,
                    "This form has expired or did not come from this site: reload the page and try again",
                    code="csrf_token",
                )
            )

    def _problem(self, req: Request, status: int, code: str, detail: str) -> _Refusal:
        """A non-security problem (unknown provider, storage down, not signed in), to raise."""
        fragment = (
            Toast(detail, AlertKind.ERROR, duration=0)
            if request_kind(req) is RequestKind.HTMX
            else Alert(detail, AlertKind.ERROR, title="Something went wrong")
        )
        return _Refusal(problem_response(req, status, fragment, code, detail, title=self.title))

    async def _context(self, req: Request) -> tuple[BYOKManager, Any]:
        """(manager, user id); refused when there is no manager or no user."""
        manager = find_manager(req, self.manager)
        if manager is None:
            raise self._problem(req, 503, "not_configured", "API key storage is not configured")
        user_id = await resolve_user_id(req, self.user_id_func)
        if user_id is None and manager.backend is not StorageBackend.SESSION:
            raise self._problem(req, 401, "sign_in", "Sign in to manage your API keys")
        return manager, user_id

    def _provider(self, req: Request) -> str:
        """The provider named in the URL if this app offers it; refused (404) otherwise."""
        name = req.path_params.get("provider")
        if isinstance(name, str) and name in self._known:
            return name
        raise self._problem(req, 404, "unknown_provider", "Unknown API key provider")

    def _invalid(self, req: Request, slot: str, message: str, retarget: bool) -> _Refusal:
        """422: a ValidationMessage in the form's slot; the typed key is never sent back."""
        kind = request_kind(req)
        if kind is RequestKind.JSON:
            return _Refusal(JSONResponse({"error": "invalid", "detail": message}, status_code=422))
        msg = ValidationMessage(message, is_valid=False, id=slot)
        if kind is RequestKind.HTMX:  # PROBLEM_HEADER: byok.js lets htmx swap it
            headers = {PROBLEM_HEADER: "invalid"}
            if retarget:
                headers |= {"HX-Retarget": f"#{slot}", "HX-Reswap": "outerHTML"}
            return _Refusal(FtResponse(msg, status_code=422, headers=headers))
        page = (Title(self.title), Main(msg, A("Back to your API keys", href=self.prefix)))
        return _Refusal(FtResponse(page, status_code=422))

    # --- shared steps ------------------------------------------------------------------------

    def _key_from(self, data: Mapping[str, Any], req: Request) -> str:
        """The typed key from the body (never the URL), or ValidationError."""
        if KEY_FIELD in req.query_params:
            raise ValidationError("API keys must be sent in the form body, never in the URL")
        raw = data.get(KEY_FIELD)
        if raw is None:
            raise ValidationError("Enter an API key")
        if not isinstance(raw, str):
            raise ValidationError("Send exactly one API key as text")
        return raw

    def _endpoint_from(self, data: Mapping[str, Any], info: Any) -> Endpoint | None:
        """The custom endpoint fields of the form, validated against the registry."""
        values = {f: data.get(f) for f in ENDPOINT_FIELDS if data.get(f) is not None}
        if any(not isinstance(v, str) for v in values.values()):
            raise ValidationError("Send each endpoint field once, as text")
        allowed = info.endpoint if (info.endpoint_required or self.custom_endpoints) else ()
        return validate_endpoint(values, allowed, info.endpoint_required)

    async def _store(
        self, req: Request, manager: BYOKManager, user_id: Any, provider: str, raw: str, data: Any
    ) -> _Saved:
        """Validate (length, characters, the provider's format, label, endpoint) and store."""
        key = validate_api_key(raw, manager.config.max_key_length)
        info = resolve_provider(provider, self.provider_config)
        if self.check_format and info.matches(key) is False:
            hint = f" ({info.key_hint})" if info.key_hint else ""
            raise ValidationError(
                f"This does not look like {article(info.name)} {info.name} API key{hint}"
            )
        label = _label_from(data, req) if self.labels else None
        if label is None and _label_from(data, req):
            raise ValidationError("This app keeps one key per provider (no labels)")
        endpoint = self._endpoint_from(data, info)
        make_default = self.labels and data.get(MAKE_DEFAULT_FIELD) in ("1", "on", "true", True)
        before = await call_storage(
            manager, functools.partial(manager.get_key_info, label=label), req, provider, user_id
        )
        if data.get(INTENT_FIELD) == "add":  # "Add another key": never replaces one
            if not label:
                raise ValidationError("Give the new key a label (e.g. work, personal)")
            if before is not None:
                raise ValidationError(f"A key labelled {label!r} is already stored")
        store = functools.partial(
            manager.set_key, label=label, endpoint=endpoint, make_default=make_default
        )
        await call_storage(manager, store, req, provider, key, user_id)
        saved_label = label if label is not None else (before.label if before else "")
        record = await call_storage(
            manager,
            functools.partial(manager.get_key_info, label=saved_label),
            req,
            provider,
            user_id,
        )
        return _Saved(
            provider,
            mask_key(key),
            record.created_at if record else None,
            record.expires_at if record else None,
            before is not None,
            saved_label,
        )

    async def _save(
        self,
        req: Request,
        data: Mapping[str, Any],
        provider: str,
        slot: str,
        retarget: bool,
        manager: BYOKManager,
        user_id: Any,
    ) -> _Saved:
        """The save shared by both forms; refused with the 422 / 503 answer."""
        try:
            raw = self._key_from(data, req)
            return await self._store(req, manager, user_id, provider, raw, data)
        except ValidationError as e:
            raise self._invalid(req, slot, str(e), retarget) from None
        except SessionFullError:
            raise self._invalid(
                req,
                slot,
                "Your browser session cannot hold another key this long: remove a key first",
                retarget,
            ) from None
        except (StorageError, EncryptionError):
            log.warning("byok save failed for provider %s", provider, exc_info=True)
            raise self._problem(
                req, 503, "storage", "Your key could not be saved; try again later"
            ) from None

    async def _written(
        self,
        req: Request,
        manager: BYOKManager,
        user_id: Any,
        json_body: dict[str, Any],
        fragments: Callable[[], Awaitable[tuple[Any, ...]]],
    ) -> Any:
        """After a write: JSON, back to the dashboard (plain form), or the htmx fragments + count."""
        kind = request_kind(req)
        if kind is RequestKind.JSON:
            return JSONResponse(json_body)
        if kind is RequestKind.PAGE:
            return RedirectResponse(self.prefix, status_code=303)
        return (*(await fragments()), await self._summary(req, manager, user_id))

    async def _summary(self, req: Request, manager: BYOKManager, user_id: Any) -> Any:
        """The key count of the dashboard that sent the request, out of band (else None)."""
        shown = parse_dashboard_header(req.headers.get(DASHBOARD_HEADER))
        if shown is None:  # not sent from inside a dashboard: nothing to refresh
            return None
        try:
            stored = set(await call_storage(manager, manager.list_providers, req, user_id))
        except (StorageError, ValidationError):
            log.warning("byok: the dashboard summary could not be counted", exc_info=True)
            return None  # the write itself succeeded; the count refreshes on the next load
        return dashboard_summary(sum(p in stored for p in shown), len(shown), oob=True)

    async def _card(self, req: Request, manager: BYOKManager, user_id: Any, provider: str) -> Any:
        """The provider's card as stored now: its default key, masked, and its other keys."""
        token = csrf_token(req) if self._resolve_policy(req).csrf else None
        card = functools.partial(
            provider_card,
            base_url=self.prefix,
            provider_config=self.provider_config,
            enable_test=self.verifier is not False,
            allow_labels=self.labels,
            custom_endpoint=self.custom_endpoints,
            csrf_token=token,
        )
        try:
            return await call_storage(manager, card, req, manager, provider, user_id)
        except (StorageError, ValidationError):
            log.warning("byok: the %s card could not be read back", provider, exc_info=True)
            raise self._problem(req, 503, "storage", "API key storage is unavailable") from None

    def _name(self, provider: str) -> str:
        return resolve_provider(provider, self.provider_config).name

    def _saved_json(self, saved: _Saved) -> dict[str, Any]:
        return {
            "provider": saved.provider,
            "stored": True,
            "masked": saved.masked,
            "expires_at": saved.expires_at.isoformat() if saved.expires_at else None,
        }

    def _toast_text(self, saved: _Saved) -> str:
        verb = "updated" if saved.replaced else "saved"
        which = f" ({saved.label})" if saved.label else ""
        return f"{self._name(saved.provider)} key{which} {verb}: {saved.masked}"

    async def _rows(self, req: Request, manager: BYOKManager, user_id: Any) -> list[dict]:
        """The dashboard as JSON rows: each provider, stored or not, and its expiry."""
        try:
            records = await call_storage(manager, manager.list_keys, req, user_id)
        except (StorageError, ValidationError):
            raise self._problem(req, 503, "storage", "API key storage is unavailable") from None
        stored = {r.provider: r for r in records}
        return [
            {
                "provider": p,
                "stored": p in stored,
                "expires_at": stored[p].expires_at.isoformat()
                if p in stored and stored[p].expires_at
                else None,
            }
            for p in self.providers
        ]

    def _board(self, req: Request, manager: BYOKManager, user_id: Any, token: str | None) -> Any:
        return KeyManagerDashboard(
            req,
            self.providers,
            manager,
            user_id,
            base_url=self.prefix,
            provider_config=self.provider_config,
            title=self.title,
            enable_test=self.verifier is not False,
            csrf_token=token,
            allow_labels=self.labels,
            custom_endpoint=self.custom_endpoints,
        )

    # --- handlers (registered through `_answering`) ---------------------------------------------

    async def dashboard(
        self,
        req: Request,  # the incoming request
    ) -> Any:
        """GET {prefix}: the dashboard (page, htmx fragment, or a JSON summary)."""
        self._gate(req, None)
        manager, user_id = await self._context(req)
        kind = request_kind(req)
        if kind is RequestKind.JSON:
            return JSONResponse({"providers": await self._rows(req, manager, user_id)})
        token = csrf_token(req) if self._resolve_policy(req).csrf else None
        try:
            if manager.backend is StorageBackend.SESSION:
                board = self._board(req, manager, user_id, token)
            else:
                board = await run_in_threadpool(self._board, req, manager, user_id, token)
        except (StorageError, ValidationError, EncryptionError):
            log.warning("byok dashboard failed", exc_info=True)
            raise self._problem(req, 503, "storage", "API key storage is unavailable") from None
        if kind is RequestKind.HTMX:
            return board
        target = req.query_params.get("next")
        back = safe_next(target, default="") if target else ""
        return (
            Title(self.title),
            Main(board, A("Continue", href=back, cls="link") if back else None),
            byok_script(),
        )

    async def save(
        self,
        req: Request,  # the incoming request
        data: dict,  # its parsed body (form fields or JSON)
    ) -> Any:
        """POST {prefix}/{provider}: store the key; the card + a toast, or 422 / 4xx."""
        self._gate(req, data)
        provider = self._provider(req)
        manager, user_id = await self._context(req)
        slot = validation_id(provider)
        saved = await self._save(req, data, provider, slot, True, manager, user_id)

        async def fragments() -> tuple[Any, ...]:
            card = await self._card(req, manager, user_id, provider)
            return card, oob_toast(self._toast_text(saved), AlertKind.SUCCESS)

        return await self._written(req, manager, user_id, self._saved_json(saved), fragments)

    async def save_any(
        self,
        req: Request,  # the incoming request
        data: dict,  # its parsed body (form fields or JSON)
    ) -> Any:
        """POST {prefix}: store the key of the provider chosen in MultiProviderKeyForm."""
        self._gate(req, data)
        provider = data.get(PROVIDER_FIELD)
        if not isinstance(provider, str) or provider not in self._known:
            raise self._invalid(req, MULTI_VALIDATION_ID, "Choose a provider from the list", False)
        manager, user_id = await self._context(req)
        saved = await self._save(req, data, provider, MULTI_VALIDATION_ID, False, manager, user_id)

        async def fragments() -> tuple[Any, ...]:
            card = await self._card(req, manager, user_id, provider)
            card.attrs["hx-swap-oob"] = "true"  # refresh the card when it is on the page
            text = self._toast_text(saved)
            return (
                ValidationMessage(text, is_valid=True, id=MULTI_VALIDATION_ID),
                card,
                oob_toast(text, AlertKind.SUCCESS),
            )

        return await self._written(req, manager, user_id, self._saved_json(saved), fragments)

    async def delete(
        self,
        req: Request,  # the incoming request
        data: dict,  # its parsed body (form fields or JSON)
    ) -> Any:
        """DELETE {prefix}/{provider}[?label=…]: remove the key; the card + a toast."""
        self._gate(req, data)
        provider = self._provider(req)
        manager, user_id = await self._context(req)
        try:
            label = _label_from(data, req)
            remove = functools.partial(manager.delete_key, label=label)
            await call_storage(manager, remove, req, provider, user_id)
        except ValidationError as e:
            raise self._problem(req, 422, "invalid", str(e)) from None
        except StorageError:
            log.warning("byok delete failed for provider %s", provider, exc_info=True)
            raise self._problem(
                req, 503, "storage", "Your key could not be removed; try again"
            ) from None
        which = f" ({label})" if label else ""

        async def fragments() -> tuple[Any, ...]:
            card = await self._card(req, manager, user_id, provider)
            return card, oob_toast(f"{self._name(provider)} key{which} removed", AlertKind.INFO)

        body: dict[str, Any] = {"provider": provider}
        if label is not None:
            body["label"] = label
        try:
            body["stored"] = await call_storage(manager, manager.has_key, req, provider, user_id)
        except StorageError:
            body["stored"] = False
        return await self._written(req, manager, user_id, body, fragments)

    async def make_default(
        self,
        req: Request,  # the incoming request
        data: dict,  # its parsed body (form fields or JSON)
    ) -> Any:
        """POST {prefix}/{provider}/default?label=…: make that key the default; the card."""
        self._gate(req, data)
        provider = self._provider(req)
        manager, user_id = await self._context(req)
        try:
            label = _label_from(data, req)
            if label is None:
                raise ValidationError("Name the key to make the default")
            await call_storage(manager, manager.set_default, req, provider, label, user_id)
        except ValidationError as e:
            raise self._problem(req, 422, "invalid", str(e)) from None
        except KeyNotFoundError:
            raise self._problem(req, 404, "unknown_key", "That key is no longer stored") from None
        except StorageError:
            raise self._problem(req, 503, "storage", "API key storage is unavailable") from None
        which = f" ({label})" if label else ""

        async def fragments() -> tuple[Any, ...]:
            card = await self._card(req, manager, user_id, provider)
            text = f"{self._name(provider)} key{which} is now the default"
            return card, oob_toast(text, AlertKind.SUCCESS)

        body = {"provider": provider, "label": label, "default": True}
        return await self._written(req, manager, user_id, body, fragments)

    async def test(
        self,
        req: Request,  # the incoming request
        data: dict,  # its parsed body (form fields or JSON)
    ) -> Any:
        """POST {prefix}/{provider}/test: check the key; a KeyTestResult (429 when over the limit)."""
        self._gate(req, data)
        provider = self._provider(req)
        manager, user_id = await self._context(req)
        wait = await self._limited(req, manager, user_id)
        if wait is not None:
            state = TestState.RATE_LIMITED
            message = f"Too many key tests: try again in {wait} s"
        else:
            state, message = await self._verify(req, manager, user_id, provider, data)
        if request_kind(req) is RequestKind.JSON:
            body = {"provider": provider, "state": state.value, "detail": message}
            return JSONResponse(body, status_code=429 if wait else 200, headers=_retry(wait))
        if wait is not None:  # PROBLEM_HEADER: byok.js lets htmx swap it into the test slot
            headers = {PROBLEM_HEADER: "rate_limited", **_retry(wait)}
            return FtResponse(KeyTestResult(state, message), status_code=429, headers=headers)
        return KeyTestResult(state, message)

    async def _limited(self, req: Request, manager: BYOKManager, user_id: Any) -> int | None:
        """Seconds this user must wait before testing again, or None."""
        if self.test_limit is None:
            return None
        owner = f"user:{user_id}" if user_id is not None else None
        try:
            if owner is None:  # anonymous: this browser session's id
                owner = f"session:{manager._sessions.session_id(req)}"
                return self.test_limit.hit(f"test:{owner}")
            return await run_in_threadpool(self.test_limit.hit, f"test:{owner}")
        except StorageError:
            log.warning("byok: the key-test rate limit could not be counted", exc_info=True)
            return None  # the limit is a brake, not a lock: a counting failure never blocks

    async def _verify(
        self, req: Request, manager: BYOKManager, user_id: Any, provider: str, data: Any
    ) -> tuple[TestState, str | None]:
        """Decrypt the key (with its endpoint) and run the verifier with a timeout."""
        try:
            opened = functools.partial(manager.get_credentials, label=_label_from(data, req))
            creds = await call_storage(manager, opened, req, provider, user_id)
        except EncryptionError:
            return TestState.ERROR, "The stored key cannot be read: enter it again"
        except ValidationError as e:
            return TestState.ERROR, str(e)
        except StorageError:
            return TestState.ERROR, "API key storage is unavailable"
        if creds is None:
            return TestState.ERROR, "No key stored"
        extra = {"endpoint": creds.endpoint} if self._with_endpoint else {}
        try:
            result = await asyncio.wait_for(
                _run_verifier(self.verifier, provider, creds.api_key, **extra),
                self.verify_timeout,
            )
        except TimeoutError:
            return TestState.UNREACHABLE, "The provider did not answer in time"
        except Exception as e:  # the app's verifier failed: report it, never a 500
            log.warning("byok verifier failed for %s: %s", provider, type(e).__name__)
            return TestState.ERROR, None
        return _test_state(result)


def _label_from(data: Mapping[str, Any] | None, req: Request) -> str | None:
    """The `label` of the body or the query (None when neither names one), validated."""
    raw = (data or {}).get(LABEL_FIELD)
    if raw is None:
        raw = req.query_params.get(LABEL_FIELD)
    if raw is not None and not isinstance(raw, str):
        raise ValidationError("Send one label, as text")
    return validate_label(raw)


def _retry(wait: int | None) -> dict[str, str]:
    return {"Retry-After": str(wait)} if wait is not None else {}


_OUTCOME_STATE = {  # built-in outcomes -> what the card shows
    Outcome.VALID: TestState.VALID,
    Outcome.REJECTED: TestState.REJECTED,
    Outcome.RATE_LIMITED: TestState.RATE_LIMITED,
    Outcome.UNREACHABLE: TestState.UNREACHABLE,
    Outcome.UNEXPECTED: TestState.UNEXPECTED,
    Outcome.BLOCKED: TestState.BLOCKED,
    Outcome.UNSUPPORTED: TestState.ERROR,
}


def _test_state(result: Any) -> tuple[TestState, str | None]:
    """A verifier's answer (CheckResult, True, False or a message) as (state, message)."""
    if isinstance(result, CheckResult):
        return _OUTCOME_STATE[result.outcome], result.message
    if result is True:
        return TestState.VALID, None
    if isinstance(result, str) and result:
        return TestState.REJECTED, result
    return TestState.REJECTED, None


def _takes_endpoint(verifier: Any) -> bool:
    """Whether the verifier accepts an `endpoint` keyword (it is then given the key's)."""
    try:
        params = inspect.signature(verifier).parameters
    except (TypeError, ValueError):
        return False
    return "endpoint" in params


def _default_limit(manager: BYOKManager | None, limit: tuple[int, float]) -> RateLimit:
    """Counters in the manager's database when it has one (shared by every process)."""
    count, window = limit
    database = manager.database if manager is not None else None
    if database is None:
        return MemoryRateLimit(count, window)
    return DatabaseRateLimit(database.db.engine, count, window)


_VERIFIER_THREADS = ThreadPoolExecutor(8, "byok-verifier")  # sync verifiers; never the loop's


async def _run_verifier(verifier: Any, provider: str, key: str, **extra: Any) -> Any:
    """The verifier's answer: a coroutine function is awaited, a sync one runs in byok's own
    threads (a blocking `requests.get` never holds the event loop, and stalled verifiers never
    take the threads storage calls use); the caller's timeout covers both. `extra` carries the
    key's endpoint to a verifier that takes one."""
    method = type(verifier).__call__  # an object with an async __call__ counts as async
    if inspect.iscoroutinefunction(verifier) or inspect.iscoroutinefunction(method):
        return await verifier(provider, key, **extra)
    call = functools.partial(verifier, provider, key, **extra)
    result = await asyncio.get_running_loop().run_in_executor(_VERIFIER_THREADS, call)
    return await result if inspect.isawaitable(result) else result


def mount_key_routes(
    app: Any,  # the FastHTML app
    manager: BYOKManager | None = None,  # the manager (default: app.state.byok, set by setup_byok)
    prefix: str = DEFAULT_BASE_URL,  # where the routes live
    providers: Sequence[str] | None = None,  # providers offered (default: the built-in registry)
    user_id_func: UserIdFunc | None = None,  # request -> user id (required with a database)
    verifier: Verifier
    | Literal[False]
    | None = None,  # (provider, key) -> True | False | "why" | CheckResult; None = built-in
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
    test_limit: tuple[int, float]
    | RateLimit
    | None = TEST_LIMIT,  # key tests per user: (count, seconds), a RateLimit, or None
) -> KeyRoutes:
    """Add the dashboard, save, delete and test routes under `prefix`; returns their settings.

    Without a `verifier` the test route runs the built-in zero-token checks (`KeyVerifier`);
    `verifier=False` leaves the test route (and the Test buttons) out."""
    if not isinstance(prefix, str) or not prefix.startswith("/") or prefix.startswith("//"):
        raise ValueError("prefix must be an absolute path such as '/api/keys'")
    prefix = prefix.rstrip("/") or "/"
    names = [
        validate_provider(p) for p in (providers if providers is not None else BUILTIN_PROVIDERS)
    ]
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
    if policy is not None and policy.is_production:
        secure_session_cookie(app)
    if verifier is None:
        verifier = KeyVerifier(provider_config, outbound=outbound)
    if isinstance(test_limit, tuple):
        test_limit = _default_limit(known, test_limit)
    routes = KeyRoutes(
        manager,
        prefix,
        names,
        user_id_func,
        verifier,
        provider_config,
        policy,
        title,
        verify_timeout,
        check_format,
        test_limit,
        labels,
        custom_endpoints,
    )
    base = "" if prefix == "/" else prefix
    handlers = [
        (prefix, "get", "byok_dashboard", routes.dashboard),
        (prefix, "post", "byok_save_any", routes.save_any),
        (f"{base}/{{provider}}", "post", "byok_save", routes.save),
        (f"{base}/{{provider}}", "delete", "byok_delete", routes.delete),
    ]
    if verifier is not False:
        handlers.append((f"{base}/{{provider}}/test", "post", "byok_test", routes.test))
    if labels:
        handlers.append(
            (f"{base}/{{provider}}/default", "post", "byok_default", routes.make_default)
        )
    for path, method, name, handler in handlers:
        app.route(path, methods=[method], name=name)(_answering(handler))
    if serve_script and not any(getattr(r, "name", None) == "byok_js" for r in app.routes):
        serve_byok_js(app)
    return routes
