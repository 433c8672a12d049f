"""FastHTML beforeware for byok (the reference's names, working in a real app).

`setup_byok(secret)` returns `([beforeware], manager)` for `fast_app(before=…)`. The beforeware is
one async callable (no thread-pool hop, no decryption): it puts the manager on
`request.scope["byok"]`, refuses cross-site unsafe requests (Fetch Metadata / Origin, see
`byok.middleware.csrf`), refuses key routes over plain HTTP in production, and removes expired
keys at most once per interval per user. It returns None to let a request through and a Response
to answer it: FastHTML answers with whatever a `before` function returns.

Nothing depends on the beforeware running: guards (`byok.middleware.guards`) and key routes find
the manager on `app.state.byok` too and check what they need themselves, so a `skip` list cannot
open a hole. The answers live in `http`, the policy in `policy`, the request context in
`context`, the expired-key sweep in `cleanup`; their names are importable from here as before.
"""

from __future__ import annotations

import inspect
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fasthtml.common import Beforeware
from starlette.requests import Request

from byok.components.serving import AssetsBefore
from byok.components.variants import Severity
from byok.components.wiring import DEFAULT_BASE_URL
from byok.core.storage import BYOKManager
from byok.core.types import (
    BYOKConfig,
    SecurityWarning,
)

from .before import _Before
from .cleanup import CleanupBeforeware
from .context import (
    MANAGER_ATTR,
    SCOPE_KEY,
    Identity,
    UserIdFunc,
    app_manager,
    call_storage,
    check_user_id_func,
    find_manager,
    remember_identity,
    resolve_user_id,
)
from .csrf import SAFE_METHODS
from .guards import (
    INJECT_KEY,
    INJECT_PROVIDER,
    SCOPE_API_KEY,
    SCOPE_PROVIDER,
    MissingKeyResponse,
    require_any_api_key,
    require_api_key,
)
from .http import Answer, RequestKind, problem_response, refusal, request_kind, safe_next
from .policy import SecurityPolicy, policy_for, remember_policy, secure_session_cookie

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


class BYOKBeforeware(_Before):
    """Puts the manager on request.scope["byok"] (and app.state.byok); refuses cross-site writes."""

    def __init__(
        self,
        byok_manager: BYOKManager,  # the manager to expose
        policy: SecurityPolicy | None = None,  # CSRF settings (default: SecurityPolicy())
    ):
        super().__init__()
        self.manager = byok_manager
        setattr(self, MANAGER_ATTR, byok_manager)  # how find_manager sees it in app.before
        self.policy = policy or SecurityPolicy()
        self._app: Any = None

    def check(
        self,
        req: Request,  # the incoming request
    ) -> Answer | None:
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

    def check(
        self,
        req: Request,  # the incoming request
    ) -> Answer | None:
        """Refuse a protected path over plain HTTP in production; warn once in development."""
        policy = self.policy
        if policy.is_production:
            policy.harden(req.scope.get("app"))
            if policy.protects(req.scope.get("path", "/")):
                reason = policy.transport_refusal(req)
                if reason is not None:
                    return refusal(
                        req, 403, reason, code="insecure_transport", severity=Severity.CRITICAL
                    )
        elif not self._warned and policy.require_https and not policy.is_secure(req):
            self._warned = True
            warnings.warn(
                "byok: API keys travel over plain HTTP; fine for local development, never in "
                "production (set BYOK_ENV=production there to refuse it)",
                SecurityWarning,
                stacklevel=2,
            )
        return None


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
        checks = tuple(p.check if isinstance(p, _Before) else p for p in parts)  # no coroutine

        async def byok_before(req: Request) -> Answer | None:
            for check in checks:
                resp = check(req)
                if resp is not None and inspect.isawaitable(resp):
                    resp = await resp
                if resp is not None:
                    return resp
            return None

        byok_before.__signature__ = self.__signature__  # type: ignore[attr-defined]
        byok_before.chain = self  # type: ignore[attr-defined]
        self.function = byok_before

    def check(
        self,
        req: Request,  # the incoming request
    ) -> Awaitable[Answer | None]:
        """Run each part; the first answer (a Response) stops the chain."""
        return self.function(req)


def setup_byok(
    secret_key: str,  # application secret (≥ 16 bytes), also the session signing key is fine
    db: Any = None,  # database URL or fastsql Database: keys persist there
    user_id_func: UserIdFunc | None = None,  # request -> user id; None = req.scope["auth"]
    enable_security_checks: bool = True,  # HTTPS in production, session cookie hardening
    enable_cleanup: bool = True,  # remove expired keys once per interval per user
    config: BYOKConfig | None = None,  # manager configuration
    policy: SecurityPolicy | None = None,  # production, proxies, origins, CSRF (default: env)
    skip: Sequence[str]
    | None = None,  # FastHTML skip regexes (key routes still protect themselves)
    *,
    login_url: str | None = None,  # where a signed-out user is sent (with next=); None = a 401
) -> tuple[list[Any], BYOKManager]:
    """Complete setup for `fast_app(before=…)`: returns ([beforeware], manager).

    `user_id_func` and `login_url` are told once: the key routes, every guard and the issuing
    page use them unless given their own. Without a `user_id_func` the user id is
    `req.scope["auth"]` (FastHTML's convention)."""
    check_user_id_func(user_id_func, "setup_byok")
    if login_url is not None and not _is_login_url(login_url):
        raise ValueError(
            f"setup_byok: login_url must be a local path such as '/login' or an http(s) URL, "
            f"not {login_url!r}"
        )
    config = config or BYOKConfig()
    manager = BYOKManager(secret_key, db_url=db, config=config)
    if policy is None:
        policy = SecurityPolicy.of_config(config)
    remember_policy(manager, policy)  # mount_key_routes(app, manager) applies the same policy
    remember_identity(manager, Identity(user_id_func, login_url))  # routes and guards use it
    parts: list[Any] = [AssetsBefore(), BYOKBeforeware(manager, policy)]  # assets: /byok/
    if enable_security_checks:
        parts.append(SecurityCheckBeforeware(policy=policy))
    if enable_cleanup:
        parts.append(CleanupBeforeware(manager, user_id_func))
    before = BeforewareChain(*parts).function
    return [Beforeware(before, skip=list(skip)) if skip else before], manager


def _is_login_url(url: Any) -> bool:
    """A same-site path ("/login") or an absolute http(s) URL (an identity provider's page)."""
    if not isinstance(url, str):
        return False
    if url.startswith(("https://", "http://")):
        return len(url) <= 2048 and url.isprintable() and " " not in url
    return safe_next(url, default="") == url
