"""Beforeware, route guards, CSRF defences and body limits for FastHTML apps: `beforeware` (the
beforeware and `setup_byok`), `http` (the answers), `policy` (`SecurityPolicy`, `RouteGate`),
`guards` (`require_*`), `context` (`find_manager`), `csrf` and `limits`."""

from .beforeware import (
    BeforewareChain,
    BYOKBeforeware,
    CleanupBeforeware,
    SecurityCheckBeforeware,
    create_byok_beforeware,
    setup_byok,
)
from .context import app_manager, find_manager
from .csrf import check_csrf_token, csrf_headers, csrf_token, origin_refusal
from .guards import MissingKeyResponse, guard, require_any_api_key, require_api_key
from .http import CheckedRouter, Refused, RequestKind, request_kind, safe_next
from .limits import BodyLimit
from .policy import RouteGate, SecurityPolicy, secure_session_cookie

__all__ = [
    "BYOKBeforeware",
    "BeforewareChain",
    "BodyLimit",
    "CheckedRouter",
    "CleanupBeforeware",
    "MissingKeyResponse",
    "Refused",
    "RequestKind",
    "RouteGate",
    "SecurityCheckBeforeware",
    "SecurityPolicy",
    "app_manager",
    "check_csrf_token",
    "create_byok_beforeware",
    "csrf_headers",
    "csrf_token",
    "find_manager",
    "guard",
    "origin_refusal",
    "request_kind",
    "require_any_api_key",
    "require_api_key",
    "safe_next",
    "secure_session_cookie",
    "setup_byok",
]
