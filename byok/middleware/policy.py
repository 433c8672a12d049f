"""What byok enforces on the web: `SecurityPolicy` (production mode, HTTPS, trusted proxies and
origins, CSRF), the policy `setup_byok` gave each manager, and `RouteGate`, the checks every byok
route makes for itself as a FastHTML per-route `before`.

The HTTPS decision is made in one place, `SecurityPolicy.transport_refusal`: the beforeware asks
it for protected paths, the routes for every request. `SecurityPolicy.harden(app)` is the other
half in production: the app's session cookie made Secure and SameSite, once per app.
"""

from __future__ import annotations

import ipaddress
import os
import re
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection

from byok.components.variants import Severity
from byok.components.wiring import DEFAULT_BASE_URL
from byok.core.security import check_https
from byok.core.security import is_production as _env_is_production
from byok.core.types import BYOKConfig, ValidationError

from .context import find_manager
from .csrf import (
    SAFE_METHODS,
    check_csrf_token,
    csrf_token,
    normalize_origins,
    origin_refusal,
    same_origin_proof,
)
from .http import Answer, refusal

__all__ = [
    "ORIGINS_ENV",
    "PROXIES_ENV",
    "RouteGate",
    "SecurityPolicy",
    "policy_for",
    "remember_policy",
    "secure_session_cookie",
]

PROXIES_ENV = "BYOK_TRUSTED_PROXIES"  # comma-separated proxy addresses / networks
ORIGINS_ENV = "BYOK_TRUSTED_ORIGINS"  # comma-separated extra origins allowed to post
_STALE_FORM = "This form has expired or did not come from this site: reload the page and try again"


def _env_list(name: str) -> tuple[str, ...]:
    """A comma-separated environment variable as a tuple of stripped, non-empty items."""
    return tuple(p.strip() for p in os.environ.get(name, "").split(",") if p.strip())


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
    _hardened: Any = field(init=False, repr=False, compare=False, default=None)

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

    @classmethod
    def of_config(
        cls,
        config: BYOKConfig,  # a manager's configuration (is_production, require_https)
    ) -> SecurityPolicy:
        """The policy a BYOKConfig asks for (the rest from the environment)."""
        return cls(is_production=config.is_production, require_https=config.require_https)

    @property
    def refuses_plain_http(self) -> bool:
        """True when key material must never travel over plain HTTP (production, HTTPS required)."""
        return bool(self.require_https and self.is_production)

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
        """Why key material must not travel on this request, or None (the one HTTPS decision)."""
        if not self.refuses_plain_http or self.is_secure(request):
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

    def harden(
        self,
        app: Any,  # the FastHTML / Starlette app serving the routes
    ) -> None:
        """In production, make the app's session cookie Secure and SameSite (once per app)."""
        if self.is_production and app is not None and app is not self._hardened:
            secure_session_cookie(app)
            self._hardened = app

    def check(
        self,
        request: HTTPConnection,  # a request to a byok route
        data: Mapping[str, Any] | None,  # its parsed body (None for safe methods)
    ) -> Answer | None:
        """The refusal for this request, or None: HTTPS in production; on writes the origin check
        and proof of this site (the browser's same-origin headers, else the per-session token)."""
        reason = self.transport_refusal(request)
        if reason is not None:
            return refusal(
                request, 403, reason, code="insecure_transport", severity=Severity.CRITICAL
            )
        if request.scope["method"] in SAFE_METHODS:
            return None
        reason = self.origin_refusal(request)
        if reason is not None:
            return refusal(request, 403, reason, code="csrf")
        if self.csrf and not (same_origin_proof(request) or check_csrf_token(request, data)):
            return refusal(request, 403, _STALE_FORM, code="csrf_token")
        return None


_SLASHES = re.compile(r"[/\\]+")


def _norm_path(path: str) -> str:
    """A path reduced for prefix matching: decoded, lower-case, single slashes, no trailing '/'."""
    for _ in range(3):  # undo double encoding too (%252E -> %2E -> .)
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    return _SLASHES.sub("/", path).lower().rstrip("/") or "/"


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


_POLICIES: weakref.WeakKeyDictionary[Any, SecurityPolicy] = weakref.WeakKeyDictionary()


def remember_policy(
    manager: Any,  # a BYOKManager, typically setup_byok's
    policy: SecurityPolicy,  # the policy its routes apply
) -> None:
    """Record the policy `setup_byok` was given, for routes mounted with that manager."""
    _POLICIES[manager] = policy


def policy_for(
    manager: Any,  # a BYOKManager, typically from setup_byok, or None
) -> SecurityPolicy:
    """The policy setup_byok gave this manager, else one from its config (and the environment)."""
    if manager is not None and manager in _POLICIES:
        return _POLICIES[manager]
    return SecurityPolicy.of_config(manager.config if manager is not None else BYOKConfig())


class RouteGate:
    """The checks a byok route makes for itself, whatever the beforeware's `skip` list: a FastHTML
    per-route `before` (`app.route(..., before=gate)`) answering `SecurityPolicy.check`'s refusal.

    With no policy given it is the one setup_byok gave the app's manager, found on the first
    request (the production decision is the one setup_byok was given, wherever routes mount)."""

    def __init__(
        self,
        policy: SecurityPolicy | None = None,  # HTTPS / origins / CSRF; None = setup_byok's
        manager: Any = None,  # the routes' manager; None = the request's (find_manager)
    ):
        self.policy = policy  # the policy in force (None until the app's manager is known)
        self.manager = manager

    def policy_of(
        self,
        request: HTTPConnection,  # a request to the routes
    ) -> SecurityPolicy:
        """The policy in force (resolved once, from the app's manager when none was given)."""
        if self.policy is None:
            manager = find_manager(request, self.manager)
            if manager is None:  # no manager: the route refuses the request anyway
                return policy_for(None)
            self.policy = policy_for(manager)
            self.policy.harden(request.scope.get("app"))
        return self.policy

    def token(
        self,
        request: HTTPConnection,  # the request whose session holds the token
    ) -> str | None:
        """The session's CSRF token for the forms a route renders (None with csrf=False)."""
        return csrf_token(request) if self.policy_of(request).csrf else None

    async def __call__(
        self,
        req: HTTPConnection,  # the incoming request (FastHTML fills it)
        data: dict,  # its parsed body (FastHTML fills it)
    ) -> Answer | None:
        """The refusal, or None to let the handler run."""
        return self.policy_of(req).check(req, data)
