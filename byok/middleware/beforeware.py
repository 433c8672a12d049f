"""FastHTML beforeware and route guards for byok (the reference's names, working in a real app).

`setup_byok(secret)` returns `([beforeware], manager)` for `fast_app(before=…)`. The beforeware is
one async callable (no thread-pool hop, no decryption): it puts the manager on
`request.scope["byok"]`, refuses cross-site unsafe requests (Fetch Metadata / Origin, see
`byok.middleware.csrf`), refuses key routes over plain HTTP in production, and removes expired
keys at most once per interval per user. It returns None to let a request through and a Response
to answer it: FastHTML answers with whatever a `before` function returns.

`@require_api_key("openai")` (under `@rt`) decrypts the key once and hands it to the handler as its
`api_key` parameter; without a key a page is redirected to the settings URL (`?next=`), an htmx
request gets `HX-Redirect` (or an inline key form) and a JSON request a 401 with a JSON body.

Nothing here depends on the beforeware running: guards and key routes find the manager on
`app.state.byok` too and check what they need themselves, so a `skip` list cannot open a hole.
"""

from __future__ import annotations

import functools
import inspect
import ipaddress
import logging
import os
import re
import time
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from fasthtml.common import Beforeware, FtResponse, Main, Title
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from byok.components.alerts import SecurityAlert
from byok.components.variants import Severity
from byok.components.wiring import DEFAULT_BASE_URL, PROBLEM_HEADER, TOAST_CONTAINER_ID, key_url
from byok.core.security import check_https
from byok.core.security import is_production as _env_is_production
from byok.core.storage import BYOKManager, validate_provider
from byok.core.types import (
    BYOKConfig,
    EncryptionError,
    SecurityWarning,
    StorageBackend,
    StorageError,
    ValidationError,
)

from .csrf import SAFE_METHODS, csrf_token, normalize_origins, origin_refusal

__all__ = [
    "INJECT_KEY",
    "INJECT_PROVIDER",
    "SCOPE_API_KEY",
    "SCOPE_KEY",
    "SCOPE_PROVIDER",
    "BYOKBeforeware",
    "BeforewareChain",
    "CleanupBeforeware",
    "MissingKeyResponse",
    "RequestKind",
    "SecurityCheckBeforeware",
    "SecurityPolicy",
    "app_manager",
    "call_storage",
    "create_byok_beforeware",
    "find_manager",
    "policy_for",
    "problem_response",
    "refusal",
    "request_kind",
    "require_any_api_key",
    "require_api_key",
    "resolve_user_id",
    "safe_next",
    "secure_session_cookie",
    "setup_byok",
]

log = logging.getLogger("byok")

SCOPE_KEY = "byok"  # request.scope entry holding the BYOKManager
SCOPE_API_KEY = "byok_api_key"  # request.scope entry holding the key a guard decrypted
SCOPE_PROVIDER = "byok_provider"  # request.scope entry holding that key's provider
INJECT_KEY = "api_key"  # a guarded handler's parameter that receives the decrypted key
INJECT_PROVIDER = "key_provider"  # a guarded handler's parameter that receives its provider
PROXIES_ENV = "BYOK_TRUSTED_PROXIES"  # comma-separated proxy addresses / networks
ORIGINS_ENV = "BYOK_TRUSTED_ORIGINS"  # comma-separated extra origins allowed to post

UserIdFunc = Callable[[Request], Any]  # request -> user id (str/int/None), sync or async


def _env_list(name: str) -> tuple[str, ...]:
    """A comma-separated environment variable as a tuple of stripped, non-empty items."""
    return tuple(p.strip() for p in os.environ.get(name, "").split(",") if p.strip())


# --- request kinds and responses -------------------------------------------------------------


class RequestKind(StrEnum):
    """What answer a request expects."""

    PAGE = "page"  # a browser navigation: HTML page, redirects
    HTMX = "htmx"  # an htmx request (HX-Request header): fragments, HX-* headers
    JSON = "json"  # an API client (Accept: application/json without text/html)


class MissingKeyResponse(StrEnum):
    """How a guard answers an htmx request that lacks the key."""

    REDIRECT = "redirect"  # HX-Redirect to the settings URL (with next=)
    FORM = "form"  # an inline key form fragment, swapped where the request targeted


def request_kind(
    request: HTTPConnection,  # the incoming request
) -> RequestKind:
    """Whether the request wants a page, an htmx fragment or JSON."""
    headers = request.headers
    if "hx-request" in headers:
        return RequestKind.HTMX
    accept = headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        return RequestKind.JSON
    return RequestKind.PAGE


def problem_response(
    request: HTTPConnection,  # the request being answered
    status: int,  # HTTP status (4xx / 503), never 500
    fragment: Any,  # what a person sees: an Alert, SecurityAlert or Toast
    code: str,  # machine-readable reason for JSON clients, e.g. "csrf"
    detail: str,  # the same reason in words (no secrets)
    title: str = "Request refused",  # page title for a full-page answer
) -> Response | FtResponse:
    """A problem answered the way the request expects: JSON, an htmx toast or a full page."""
    kind = request_kind(request)
    if kind is RequestKind.JSON:
        return JSONResponse({"error": code, "detail": detail}, status_code=status)
    if kind is RequestKind.HTMX:  # byok.js swaps it into the ToastContainer, not the target
        headers = {
            "HX-Retarget": f"#{TOAST_CONTAINER_ID}",
            "HX-Reswap": "afterbegin",
            PROBLEM_HEADER: code,
        }
        return FtResponse(fragment, status_code=status, headers=headers)
    return FtResponse((Title(title), Main(fragment, cls="p-6")), status_code=status)


def refusal(
    request: HTTPConnection,  # the refused request
    status: int,  # HTTP status, e.g. 403
    message: str,  # what went wrong, for the user (no secrets)
    code: str = "forbidden",  # machine-readable reason for JSON clients
    severity: Severity = Severity.HIGH,  # how the SecurityAlert is coloured
) -> Response | FtResponse:
    """A security refusal: JSON, or a SecurityAlert (toast for htmx, page otherwise)."""
    return problem_response(
        request, status, SecurityAlert(message, severity=severity), code, message
    )


_SAFE_NEXT = re.compile(r"/(?![/\\])[^\x00-\x1f\x7f\\]*")  # a local path, never "//" or "/\"


def safe_next(
    target: str | None,  # a would-be `next=` value
    default: str = "/",  # used when `target` is not a same-origin path
) -> str:
    """`target` when it is a same-origin absolute path (no scheme, host or '//'), else `default`."""
    if not isinstance(target, str) or len(target) > 2048 or not _SAFE_NEXT.fullmatch(target):
        return default
    try:
        parts = urlsplit(target)
    except ValueError:
        return default
    if parts.scheme or parts.netloc:
        return default
    return target


def _with_next(url: str, target: str) -> str:
    """`url` with `next=<target>` appended (URL-encoded)."""
    return f"{url}{'&' if '?' in url else '?'}next={quote(target, safe='/')}"


def _next_of(request: HTTPConnection) -> str:
    """Where the user was: the page (HX-Current-URL, same host only) or the request's own path."""
    current = request.headers.get("hx-current-url")
    if current:
        try:
            parts = urlsplit(current)
        except ValueError:  # e.g. "http://[x": not a URL, ignore it
            parts = None
        if parts is not None and parts.netloc.lower() == request.headers.get("host", "").lower():
            return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
    query = request.scope.get("query_string", b"").decode("latin-1")
    return safe_next(request.scope.get("path", "/") + (f"?{query}" if query else ""))


# --- policy ----------------------------------------------------------------------------------


@dataclass
class SecurityPolicy:
    """What byok enforces: production mode, HTTPS, trusted proxies and origins, CSRF."""

    is_production: bool | None = None  # None = env BYOK_ENV / ENVIRONMENT (resolved once)
    require_https: bool = True  # refuse key routes over plain HTTP in production
    trusted_proxies: Sequence[str] | None = (
        None  # X-Forwarded-Proto believed from these; None = env
    )
    trusted_origins: Sequence[str] | None = None  # other origins allowed to post; None = env
    csrf: bool = True  # refuse cross-site unsafe requests (Fetch Metadata / Origin)
    protected_paths: Sequence[str] = (
        DEFAULT_BASE_URL,
    )  # path prefixes that need HTTPS in production
    _origins: frozenset[str] = field(init=False, repr=False)
    _prefixes: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.is_production = _env_is_production(self.is_production)
        if self.trusted_proxies is None:
            self.trusted_proxies = _env_list(PROXIES_ENV)
        self.trusted_proxies = tuple(self.trusted_proxies)
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValidationError(
                    f"trusted proxy {proxy!r} is not an IP address or network"
                ) from None
        if self.trusted_origins is None:
            self.trusted_origins = _env_list(ORIGINS_ENV)
        self._origins = normalize_origins(self.trusted_origins)
        self._prefixes = tuple(_norm_path(p) for p in self.protected_paths)

    def is_secure(
        self,
        request: HTTPConnection,  # the incoming request
    ) -> bool:
        """True over HTTPS (X-Forwarded-Proto counts only from a trusted proxy)."""
        if request.scope.get("scheme") in ("https", "wss"):
            return True
        return bool(self.trusted_proxies) and check_https(request, self.trusted_proxies)

    def transport_refusal(
        self,
        request: HTTPConnection,  # a request to a key route
    ) -> str | None:
        """Why key material must not travel on this request, or None."""
        if not self.require_https or not self.is_production or self.is_secure(request):
            return None
        return "API keys are only accepted over HTTPS: this connection is plain HTTP"

    def origin_refusal(
        self,
        request: HTTPConnection,  # the incoming request
    ) -> str | None:
        """Why this unsafe request looks cross-site, or None (always None with csrf=False)."""
        return origin_refusal(request, self._origins) if self.csrf else None

    def protects(
        self,
        path: str,  # a request path (as routed: percent-decoded)
    ) -> bool:
        """True when `path` is under a protected prefix, whatever its case, slashes or encoding."""
        norm = _norm_path(path)
        return any(norm == p or norm.startswith(p + "/") for p in self._prefixes)


_SLASHES = re.compile(r"[/\\]+")


def _norm_path(path: str) -> str:
    """A path reduced for prefix matching: decoded, lower-case, single slashes, no trailing '/'."""
    for _ in range(3):  # undo double encoding too (%252E -> %2E -> .)
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    return _SLASHES.sub("/", path).lower().rstrip("/") or "/"


# --- manager and user lookup -----------------------------------------------------------------


def find_manager(
    request: HTTPConnection,  # the incoming request
    manager: BYOKManager | None = None,  # an explicit manager wins
) -> BYOKManager | None:
    """The manager: explicit, else request.scope["byok"], else the app's (see `app_manager`)."""
    if manager is not None:
        return manager
    found = request.scope.get(SCOPE_KEY)
    if found is not None:
        return found
    return app_manager(request.scope.get("app"))


def app_manager(
    app: Any,  # a FastHTML / Starlette app
) -> BYOKManager | None:
    """The app's manager: app.state.byok, else the one in its byok beforeware (`setup_byok`'s),
    found in `app.before` even when no request has run it yet (a skipped path, a restart)."""
    state = getattr(app, "state", None)
    found = getattr(state, "byok", None)
    if found is not None or state is None:
        return found
    before = getattr(app, "before", None) or ()
    for item in before if isinstance(before, list | tuple) else (before,):
        call = getattr(item, "f", item)  # a fasthtml Beforeware wraps the callable
        parts = getattr(getattr(call, "chain", None), "parts", (call,))
        for part in parts:
            if isinstance(part, BYOKBeforeware):
                state.byok = part.manager
                return part.manager
    return None


async def resolve_user_id(
    request: HTTPConnection,  # the incoming request
    user_id_func: UserIdFunc | None,  # request -> user id, sync or async; None = no user
) -> Any:
    """The user id for this request (awaiting an async `user_id_func`)."""
    if user_id_func is None:
        return None
    result = user_id_func(request)
    if inspect.isawaitable(result):
        result = await result
    return result


async def call_storage(manager: BYOKManager, fn: Callable[..., Any], *args: Any) -> Any:
    """Run a manager call: inline for session storage (µs), in the thread pool for a database."""
    if manager.backend is StorageBackend.SESSION:
        return fn(*args)
    return await run_in_threadpool(fn, *args)


# --- beforeware ------------------------------------------------------------------------------


class _Before:
    """Base of byok's beforeware: an async callable taking the request, with a cached signature."""

    def __init__(self) -> None:
        # FastHTML inspects a before function's signature on every request: give it one ready
        self.__signature__ = inspect.signature(self.__call__, eval_str=True)

    async def __call__(
        self,
        req: Request,  # the incoming request
    ) -> Response | FtResponse | None:
        raise NotImplementedError


class BYOKBeforeware(_Before):
    """Puts the manager on request.scope["byok"] (and app.state.byok); refuses cross-site writes."""

    def __init__(
        self,
        byok_manager: BYOKManager,  # the manager to expose
        policy: SecurityPolicy | None = None,  # CSRF settings (default: SecurityPolicy())
    ):
        super().__init__()
        self.manager = byok_manager
        self.policy = policy or SecurityPolicy()
        self._app: Any = None

    async def __call__(
        self,
        req: Request,  # the incoming request
    ) -> Response | FtResponse | None:
        """Expose the manager; refuse an unsafe cross-site request with 403."""
        scope = req.scope
        scope[SCOPE_KEY] = self.manager
        app = scope.get("app")
        if app is not self._app:  # once per app: let guards find it when this is skipped
            state = getattr(app, "state", None)
            if state is not None and getattr(state, "byok", None) is None:
                state.byok = self.manager
            self._app = app
        if scope["method"] not in SAFE_METHODS:
            reason = self.policy.origin_refusal(req)
            if reason is not None:
                return refusal(req, 403, reason, code="csrf")
        return None


def create_byok_beforeware(
    byok_manager: BYOKManager,  # the BYOK manager instance
    policy: SecurityPolicy | None = None,  # CSRF settings (default: SecurityPolicy())
) -> BYOKBeforeware:
    """The main beforeware: manager on request.scope["byok"], cross-site writes refused."""
    return BYOKBeforeware(byok_manager, policy)


def secure_session_cookie(
    app: Any,  # a FastHTML / Starlette app
) -> bool:
    """Make the app's session cookie Secure and SameSite (lax unless strict); True if changed."""
    changed = False
    for mw in getattr(app, "user_middleware", ()):
        if getattr(mw, "cls", None) is SessionMiddleware:
            kwargs = mw.kwargs
            if not kwargs.get("https_only"):
                kwargs["https_only"], changed = True, True
            if kwargs.get("same_site", "lax") not in ("lax", "strict"):
                kwargs["same_site"], changed = "lax", True
    node, seen = getattr(app, "middleware_stack", None), 0
    while node is not None and seen < 64:  # an already built stack: patch the live instance
        if isinstance(node, SessionMiddleware):
            flags = node.security_flags.replace("samesite=none", "samesite=lax")
            if "; secure" not in flags:
                flags += "; secure"
            changed = changed or flags != node.security_flags
            node.security_flags = flags
        node, seen = getattr(node, "app", None), seen + 1
    return changed


class SecurityCheckBeforeware(_Before):
    """Production: key routes refuse plain HTTP (403) and the session cookie is made Secure.
    Development: one SecurityWarning on the first plain-HTTP request."""

    def __init__(
        self,
        require_https: bool = True,  # whether HTTPS is required in production
        is_production: bool | None = None,  # None = env BYOK_ENV / ENVIRONMENT
        trusted_proxies: Sequence[str] | None = None,  # proxies whose X-Forwarded-Proto counts
        protected_paths: Sequence[str] = (DEFAULT_BASE_URL,),  # prefixes refused over HTTP
        policy: SecurityPolicy | None = None,  # a ready policy (overrides the arguments above)
    ):
        super().__init__()
        self.policy = policy or SecurityPolicy(
            is_production=is_production,
            require_https=require_https,
            trusted_proxies=trusted_proxies,
            protected_paths=protected_paths,
        )
        self.require_https = self.policy.require_https
        self.is_production = self.policy.is_production
        self._warned = False
        self._hardened: Any = None

    async def __call__(
        self,
        req: Request,  # the incoming request
    ) -> Response | FtResponse | None:
        """Refuse a protected path over plain HTTP in production; warn once in development."""
        policy = self.policy
        if policy.is_production:
            app = req.scope.get("app")
            if app is not self._hardened:
                secure_session_cookie(app)
                self._hardened = app
        if not policy.require_https or policy.is_secure(req):
            return None
        if policy.is_production:
            if policy.protects(req.scope.get("path", "/")):
                message = policy.transport_refusal(req) or "HTTPS required"
                return refusal(
                    req, 403, message, code="insecure_transport", severity=Severity.CRITICAL
                )
            return None
        if not self._warned:
            self._warned = True
            warnings.warn(
                "byok: API keys travel over plain HTTP; fine for local development, never in "
                "production (set BYOK_ENV=production there to refuse it)",
                SecurityWarning,
                stacklevel=2,
            )
        return None


class CleanupBeforeware(_Before):
    """Removes expired keys at most once per `config.cleanup_interval` per user."""

    def __init__(
        self,
        byok_manager: BYOKManager,  # the manager whose keys are cleaned
        user_id_func: UserIdFunc | None = None,  # request -> user id, sync or async
        interval: timedelta | None = None,  # None = byok_manager.config.cleanup_interval
        clock: Callable[[], float] = time.time,  # seconds since the epoch (tests move it)
        max_users: int = 10_000,  # users remembered per process (database storage)
    ):
        super().__init__()
        self.byok = byok_manager
        self.user_id_func = user_id_func
        self.interval = (interval or byok_manager.config.cleanup_interval).total_seconds()
        self.clock = clock
        self.max_users = max_users
        self._last: OrderedDict[str, float] = OrderedDict()
        self._entry = f"{byok_manager.config.session_key_prefix}keys"
        self.runs = 0  # cleanups started (for tests and monitoring)

    async def __call__(
        self,
        req: Request,  # the incoming request
    ) -> None:
        """Run the owner's cleanup when it is due; never blocks or fails the request."""
        manager = self.byok
        if not manager.config.auto_cleanup:
            return None
        try:
            if manager.backend is StorageBackend.SESSION:
                self._session_cleanup(req)
                return None
            user_id = await resolve_user_id(req, self.user_id_func)
            if user_id is not None and self._due(str(user_id)):
                self.runs += 1
                await run_in_threadpool(manager.cleanup_expired, None, user_id)
        except (StorageError, ValidationError) as e:
            log.warning("byok cleanup skipped: %s", e)
        return None

    def _session_cleanup(self, req: Request) -> None:
        """Every owner's expired keys in this session, at most once per interval (the stamp is
        a number inside byok's entry, within the cookie budget: no user id, no growth)."""
        session = req.scope.get("session")
        if not session or self._entry not in session:
            return  # no stored keys: nothing to clean, and no cookie to write
        storage, now = self.byok.storage, int(self.clock())
        last = storage.cleaned_at(req)
        if last is not None and 0 <= now - last < self.interval:
            return
        self.runs += 1
        for owner in storage.owners(req):
            self.byok.cleanup_expired(req, owner)
        storage.mark_cleaned(req, now)  # no room: skipped, and the next request tries again

    def _due(self, owner: str) -> bool:
        """True (and remembered) when this user's cleanup is due."""
        now = self.clock()
        last = self._last.get(owner)
        if last is not None and 0 <= now - last < self.interval:
            return False
        self._last[owner] = now
        self._last.move_to_end(owner)
        while len(self._last) > self.max_users:
            self._last.popitem(last=False)
        return True


class BeforewareChain(_Before):
    """Several byok beforeware run as one FastHTML `before` (one parameter lookup per request).

    `chain.function` is the same chain as a plain coroutine function: FastHTML checks and calls
    a function faster than a callable object, so `setup_byok` hands out that one."""

    def __init__(
        self,
        *parts: Callable[[Request], Awaitable[Any]],  # byok beforeware, run in order
    ):
        super().__init__()
        self.parts = parts
        calls = tuple(parts)

        async def byok_before(req: Request) -> Response | FtResponse | None:
            for call in calls:
                resp = await call(req)
                if resp is not None:
                    return resp
            return None

        byok_before.__signature__ = self.__signature__  # type: ignore[attr-defined]
        byok_before.chain = self  # type: ignore[attr-defined]
        self.function = byok_before

    async def __call__(
        self,
        req: Request,  # the incoming request
    ) -> Response | FtResponse | None:
        """Run each part; the first answer (a Response) stops the chain."""
        return await self.function(req)


_POLICIES: weakref.WeakKeyDictionary[BYOKManager, SecurityPolicy] = weakref.WeakKeyDictionary()


def policy_for(
    manager: BYOKManager | None,  # a manager, typically from setup_byok
) -> SecurityPolicy:
    """The policy setup_byok gave this manager, else one from its config (and the environment)."""
    if manager is not None and manager in _POLICIES:
        return _POLICIES[manager]
    config = manager.config if manager is not None else BYOKConfig()
    return SecurityPolicy(is_production=config.is_production, require_https=config.require_https)


def setup_byok(
    secret_key: str,  # application secret (≥ 16 bytes), also the session signing key is fine
    db: Any = None,  # database URL or fastsql Database: keys persist there
    user_id_func: UserIdFunc | None = None,  # request -> user id (required with a database)
    enable_security_checks: bool = True,  # HTTPS in production, session cookie hardening
    enable_cleanup: bool = True,  # remove expired keys once per interval per user
    config: BYOKConfig | None = None,  # manager configuration
    policy: SecurityPolicy | None = None,  # production, proxies, origins, CSRF (default: env)
    skip: Sequence[str]
    | None = None,  # FastHTML skip regexes (key routes still protect themselves)
) -> tuple[list[Any], BYOKManager]:
    """Complete setup for `fast_app(before=…)`: returns ([beforeware], manager)."""
    config = config or BYOKConfig()
    manager = BYOKManager(secret_key, db_url=db, config=config)
    if policy is None:
        policy = SecurityPolicy(
            is_production=config.is_production, require_https=config.require_https
        )
    _POLICIES[manager] = policy  # mount_key_routes(app, manager) applies the same policy
    parts: list[Any] = [BYOKBeforeware(manager, policy)]
    if enable_security_checks:
        parts.append(SecurityCheckBeforeware(policy=policy))
    if enable_cleanup:
        parts.append(CleanupBeforeware(manager, user_id_func))
    before = BeforewareChain(*parts).function
    return [Beforeware(before, skip=list(skip)) if skip else before], manager


# --- guards ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GuardOptions:
    providers: tuple[str, ...]
    user_id_func: UserIdFunc | None
    settings_url: str
    htmx: MissingKeyResponse
    keys_url: str
    manager: BYOKManager | None


def _is_request_param(name: str, param: inspect.Parameter) -> bool:
    """True when FastHTML fills this parameter with the request (same rules as fasthtml)."""
    anno = param.annotation
    if anno is inspect.Parameter.empty:
        return "request".startswith(name.lower())
    return isinstance(anno, type) and issubclass(anno, HTTPConnection)


_REQ = "byok_request_"  # parameter added to a guarded handler that does not take the request


class _Plan:
    """How a guarded handler is called: its visible signature and the parameters byok fills."""

    def __init__(
        self,
        func: Callable[..., Any],  # the handler
        injected: tuple[str, ...] = (INJECT_KEY, INJECT_PROVIDER),  # parameters the guard fills
    ):
        try:
            sig = inspect.signature(func, eval_str=True)
        except (NameError, TypeError):  # unresolvable string annotations: keep them as they are
            sig = inspect.signature(func)
        params = dict(sig.parameters)
        self.injected = {n for n in injected if params.pop(n, None) is not None}  # ones it takes
        self.wants_key = INJECT_KEY in self.injected
        self.wants_provider = INJECT_PROVIDER in self.injected
        self.request_name = next((n for n, p in params.items() if _is_request_param(n, p)), None)
        self.added_request = self.request_name is None
        visible = list(params.values())
        if self.added_request:
            self.request_name = _REQ
            extra = inspect.Parameter(_REQ, inspect.Parameter.KEYWORD_ONLY, annotation=Request)
            at = next(
                (i for i, p in enumerate(visible) if p.kind is inspect.Parameter.VAR_KEYWORD),
                len(visible),
            )
            visible.insert(at, extra)
        self.signature = sig.replace(parameters=visible)
        self.is_async = inspect.iscoroutinefunction(func)


def _missing_key(
    request: HTTPConnection,
    opts: _GuardOptions,
    detail: str,
) -> Response | FtResponse:
    """The answer when no usable key is stored: redirect, HX-Redirect / inline form, or JSON 401."""
    target = _with_next(opts.settings_url, _next_of(request))
    kind = request_kind(request)
    if kind is RequestKind.JSON:
        body = {
            "error": "api_key_required",
            "detail": detail,
            "providers": list(opts.providers),
            "settings_url": target,
        }
        return JSONResponse(body, status_code=401)
    if kind is RequestKind.HTMX:
        if opts.htmx is MissingKeyResponse.FORM:
            return FtResponse(_inline_form(request, opts), status_code=200)
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _inline_form(request: HTTPConnection, opts: _GuardOptions) -> Any:
    """A key form for the missing provider(s), posting to the key routes with the CSRF token."""
    from byok.components import forms

    token = csrf_token(request) if isinstance(request.scope.get("session"), dict) else None
    if len(opts.providers) == 1:
        provider = opts.providers[0]
        return forms.KeyInputForm(
            provider, action=key_url(opts.keys_url, provider), csrf_token=token
        )
    return forms.MultiProviderKeyForm(list(opts.providers), action=opts.keys_url, csrf_token=token)


async def _lookup(
    request: Request,
    opts: _GuardOptions,
) -> tuple[str, str] | Response | FtResponse:
    """(provider, decrypted key) for the first provider with a live key, or the answer without."""
    manager = find_manager(request, opts.manager)
    if manager is None:
        log.error(
            "byok guard on %s: no manager (use setup_byok or pass manager=)", request.url.path
        )
        return refusal(request, 503, "API key storage is not configured", code="not_configured")
    user_id = await resolve_user_id(request, opts.user_id_func)
    unreadable = False
    for provider in opts.providers:
        try:
            key = await call_storage(manager, manager.get_key, request, provider, user_id)
        except ValidationError:  # e.g. no user id with database storage: not signed in
            return _missing_key(request, opts, "sign in to use your API keys")
        except EncryptionError:
            unreadable = True
            continue
        except StorageError:
            log.warning("byok guard: key storage unavailable", exc_info=True)
            return refusal(
                request, 503, "API key storage is unavailable; try again", code="storage"
            )
        if key is not None:
            return provider, key
    if unreadable:
        return _missing_key(request, opts, "a stored API key could not be read: enter it again")
    return _missing_key(request, opts, f"an API key for {' or '.join(opts.providers)} is required")


def _guard(opts: _GuardOptions) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        plan = _Plan(func)

        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            request = kwargs.pop(_REQ) if plan.added_request else kwargs.get(plan.request_name)
            if not isinstance(request, HTTPConnection):
                raise RuntimeError("a guarded handler must be called by FastHTML (no request)")
            found = await _lookup(request, opts)
            if not isinstance(found, tuple):
                return found
            provider, key = found
            request.scope[SCOPE_API_KEY] = key
            request.scope[SCOPE_PROVIDER] = provider
            if plan.wants_key:
                kwargs[INJECT_KEY] = key
            if plan.wants_provider:
                kwargs[INJECT_PROVIDER] = provider
            if plan.is_async:
                return await func(*args, **kwargs)
            return await run_in_threadpool(func, *args, **kwargs)

        wrapper.__signature__ = plan.signature  # type: ignore[attr-defined]
        return wrapper

    return decorator


def require_api_key(
    provider: str,  # provider whose key the route needs, e.g. "openai"
    user_id_func: UserIdFunc | None = None,  # request -> user id, sync or async
    settings_url: str = DEFAULT_BASE_URL,  # where a page without the key is sent (with next=)
    htmx: MissingKeyResponse = MissingKeyResponse.REDIRECT,  # htmx answer without the key
    keys_url: str = DEFAULT_BASE_URL,  # where the inline form posts (htmx=FORM)
    manager: BYOKManager | None = None,  # None = request.scope["byok"] / app.state.byok
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator (under `@rt`): the handler runs only with a live key, given as `api_key`."""
    validate_provider(provider)
    return _guard(
        _GuardOptions(
            (provider,), user_id_func, settings_url, MissingKeyResponse(htmx), keys_url, manager
        )
    )


def require_any_api_key(
    providers: Iterable[str],  # acceptable providers, in order of preference
    user_id_func: UserIdFunc | None = None,  # request -> user id, sync or async
    settings_url: str = DEFAULT_BASE_URL,  # where a page without a key is sent (with next=)
    htmx: MissingKeyResponse = MissingKeyResponse.REDIRECT,  # htmx answer without a key
    keys_url: str = DEFAULT_BASE_URL,  # where the inline form posts (htmx=FORM)
    manager: BYOKManager | None = None,  # None = request.scope["byok"] / app.state.byok
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: the handler runs with the first provider that has a key (`api_key`, `key_provider`)."""
    names = tuple(validate_provider(p) for p in providers)
    if not names:
        raise ValidationError("require_any_api_key needs at least one provider")
    return _guard(
        _GuardOptions(
            names, user_id_func, settings_url, MissingKeyResponse(htmx), keys_url, manager
        )
    )
