"""Beforeware, route guards, CSRF defences and body limits for FastHTML apps (see `beforeware`,
`csrf` and `limits`)."""

from .beforeware import (
    BeforewareChain,
    BYOKBeforeware,
    CleanupBeforeware,
    MissingKeyResponse,
    RequestKind,
    SecurityCheckBeforeware,
    SecurityPolicy,
    app_manager,
    create_byok_beforeware,
    find_manager,
    request_kind,
    require_any_api_key,
    require_api_key,
    safe_next,
    secure_session_cookie,
    setup_byok,
)
from .csrf import check_csrf_token, csrf_headers, csrf_token, origin_refusal
from .limits import BodyLimit

__all__ = [
    "BYOKBeforeware",
    "BeforewareChain",
    "BodyLimit",
    "CleanupBeforeware",
    "MissingKeyResponse",
    "RequestKind",
    "SecurityCheckBeforeware",
    "SecurityPolicy",
    "app_manager",
    "check_csrf_token",
    "create_byok_beforeware",
    "csrf_headers",
    "csrf_token",
    "find_manager",
    "origin_refusal",
    "request_kind",
    "require_any_api_key",
    "require_api_key",
    "safe_next",
    "secure_session_cookie",
    "setup_byok",
]
