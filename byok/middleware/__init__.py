"""Beforeware, route guards and CSRF defences for FastHTML apps (see `beforeware` and `csrf`)."""

from .beforeware import (
    BeforewareChain,
    BYOKBeforeware,
    CleanupBeforeware,
    MissingKeyResponse,
    RequestKind,
    SecurityCheckBeforeware,
    SecurityPolicy,
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

__all__ = [
    "BYOKBeforeware",
    "BeforewareChain",
    "CleanupBeforeware",
    "MissingKeyResponse",
    "RequestKind",
    "SecurityCheckBeforeware",
    "SecurityPolicy",
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
