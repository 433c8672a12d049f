"""CSRF defences: Fetch Metadata / Origin checks for every unsafe request, and a per-session token.

Two layers, after the OWASP CSRF cheat sheet:

1. `origin_refusal` refuses a state-changing request (POST, PUT, PATCH, DELETE, …) that a browser
   marks as coming from another site: `Sec-Fetch-Site: cross-site` (or `same-site`: a sibling
   subdomain is another origin), or, from browsers that do not send Fetch Metadata, an `Origin`
   (else `Referer`) whose host is not this request's host. Origins listed in `trusted_origins`
   pass. A request with none of these headers is not browser-initiated cross-site traffic
   (webhooks, scripts) and passes this layer.
2. The key routes (`SecurityPolicy.check`) need positive proof that a write comes from this
   site: either `same_origin_proof` — the browser itself says so, `Sec-Fetch-Site: same-origin`,
   or, from a browser without Fetch Metadata, an `Origin` equal to this host (headers no page can
   set or forge) — or the per-session token of `check_csrf_token`, sent by htmx in the
   `X-CSRF-Token` header (`hx-headers`, see `csrf_headers`) or by a plain form in the
   `csrf_token` field, compared with the copy kept in the signed session. So a form pasted into
   any page of the app saves without carrying the token, and a request without any browser header
   (or from a trusted other origin) still cannot change keys without the token.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from byok.components.wiring import CSRF_FIELD, CSRF_HEADER
from byok.core.context import find_manager
from byok.core.security import random_token, tokens_equal
from byok.core.storage import CSRF_SESSION_KEY
from byok.core.storage.budget import CookieBudget
from byok.core.types import BYOKConfig

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "CSRF_SESSION_KEY",
    "SAFE_METHODS",
    "FetchSite",
    "check_csrf_token",
    "csrf_headers",
    "csrf_token",
    "normalize_origin",
    "normalize_origins",
    "origin_refusal",
    "same_origin_proof",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})  # methods that must not change state
_TOKEN_BYTES = 32  # 256-bit tokens
log = logging.getLogger("byok")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


class FetchSite(StrEnum):
    """Values of the `Sec-Fetch-Site` request header."""

    SAME_ORIGIN = "same-origin"  # the page itself
    SAME_SITE = "same-site"  # a sibling subdomain: another origin
    CROSS_SITE = "cross-site"  # another site
    NONE = "none"  # typed URL, bookmark: user-initiated


def _host_port(
    netloc: str,  # "host", "host:port" or "[v6]:port"
    scheme: str | None,  # scheme, to drop its default port; None = drop 80 and 443
) -> str:
    """Lower-case host with the scheme's default port removed."""
    netloc = netloc.strip().lower().rsplit("@", 1)[-1]
    host, sep, port = netloc.rpartition(":")
    if not sep or "]" in port:  # no port (or an IPv6 literal without one)
        return netloc
    defaults = {_DEFAULT_PORTS[scheme]} if scheme in _DEFAULT_PORTS else {"80", "443"}
    return host if port in defaults else netloc


def normalize_origin(
    value: str,  # an origin or URL, e.g. "https://app.example.com:443/path"
) -> str | None:
    """The origin's host[:port] without default port, lower-case; None when it has no host."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return _host_port(parts.netloc, parts.scheme)


def normalize_origins(
    trusted_origins: Iterable[str],  # origins allowed besides this host
) -> frozenset[str]:
    """Normalised origins (host[:port]) for `origin_refusal`; bare hosts are accepted too."""
    out = set()
    for value in trusted_origins:
        norm = normalize_origin(value) if "://" in value else _host_port(value, None)
        if norm:
            out.add(norm)
    return frozenset(out)


def origin_refusal(
    request: HTTPConnection,  # the incoming request
    trusted_origins: frozenset[str] | Iterable[str] = frozenset(),  # other origins allowed
) -> str | None:
    """Why this unsafe request looks cross-site (a short reason), or None when it may proceed."""
    if request.scope.get("method", "GET") in SAFE_METHODS:
        return None
    if not isinstance(trusted_origins, frozenset):
        trusted_origins = normalize_origins(trusted_origins)
    headers = request.headers
    origin = headers.get("origin")
    site = headers.get("sec-fetch-site")
    if site is not None:
        site = site.strip().lower()
        if site in (FetchSite.SAME_ORIGIN.value, FetchSite.NONE.value):
            return None
        if site in (FetchSite.CROSS_SITE.value, FetchSite.SAME_SITE.value):
            if origin and normalize_origin(origin) in trusted_origins:
                return None
            return f"cross-origin request refused (Sec-Fetch-Site: {site})"
        # an unknown value: judge by Origin / Referer below
    host = _host_port(headers.get("host", ""), None)
    if origin is not None:
        norm = normalize_origin(origin)  # "null" (sandboxed, privacy redirects) gives None
        if norm is not None and (norm == host or norm in trusted_origins):
            return None
        return "cross-origin request refused (Origin does not match this host)"
    referer = headers.get("referer")
    if referer is not None:
        norm = normalize_origin(referer)
        if norm is not None and (norm == host or norm in trusted_origins):
            return None
        return "cross-origin request refused (Referer does not match this host)"
    return None


def same_origin_proof(
    request: HTTPConnection,  # an unsafe request that passed `origin_refusal`
) -> bool:
    """True when the browser vouches that the request comes from this very origin:
    `Sec-Fetch-Site: same-origin`, or, without Fetch Metadata, an `Origin` equal to this host."""
    headers = request.headers
    site = headers.get("sec-fetch-site")
    if site is not None:  # the browser's own word (no page can set it): only same-origin is proof
        return site.strip().lower() == FetchSite.SAME_ORIGIN.value
    origin = headers.get("origin")  # a browser without Fetch Metadata: its Origin must be ours
    host = _host_port(headers.get("host", ""), None)
    return origin is not None and bool(host) and normalize_origin(origin) == host


def _session(
    request: HTTPConnection,  # a request behind SessionMiddleware
) -> dict | None:
    """The session dict, or None without SessionMiddleware."""
    session = request.scope.get("session")
    return session if isinstance(session, dict) else None


def csrf_token(
    request: HTTPConnection,  # a request behind SessionMiddleware
) -> str:
    """This session's CSRF token, created (and stored in the session) on first use."""
    session = _session(request)
    if session is None:
        raise RuntimeError("CSRF tokens need Starlette's SessionMiddleware (fast_app adds it)")
    token = session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = random_token(_TOKEN_BYTES)
        if _budget(request).fits({**session, CSRF_SESSION_KEY: token}):
            session[CSRF_SESSION_KEY] = token
        else:  # a cookie over the limit is dropped by the browser, with the app's own writes
            log.warning("byok: no room for a CSRF token in the session cookie; forms will fail")
    return token


def _budget(request: HTTPConnection) -> CookieBudget:
    """The cookie budget of the app's manager (`find_manager`), else the default config's."""
    config = getattr(find_manager(request), "config", None)
    return CookieBudget(config if isinstance(config, BYOKConfig) else BYOKConfig())


def csrf_headers(
    request: HTTPConnection,  # a request behind SessionMiddleware
) -> str:
    """The `hx-headers` JSON carrying this session's token, e.g. for a page's `<body>`."""
    return json.dumps({CSRF_HEADER: csrf_token(request)})


def check_csrf_token(
    request: HTTPConnection,  # the incoming request
    data: Mapping[str, Any] | None = None,  # its parsed form (for the `csrf_token` field)
) -> bool:
    """True when the request carries this session's token (header or form field)."""
    session = _session(request)
    expected = session.get(CSRF_SESSION_KEY) if session is not None else None
    if not isinstance(expected, str) or not expected:
        return False
    sent: Any = request.headers.get(CSRF_HEADER)
    if sent is None and data is not None:
        sent = data.get(CSRF_FIELD)
    return isinstance(sent, str) and tokens_equal(sent, expected)
