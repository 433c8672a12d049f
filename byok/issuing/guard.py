"""Issued keys guarding a FastHTML API: `@require_scopes(client, "read")` on a route, or
`issued_key_beforeware(client, prefix="/api/")` for every route under a prefix.

The key is read from `Authorization: Bearer …` or `X-API-Key`. A refusal is JSON and never
echoes the key: 401 with `WWW-Authenticate` (missing, invalid or expired key), 403 (revoked, or
missing scopes: the body names them), 429 with `Retry-After`, 503 when the database is
unavailable. Every refusal carries a request id (`X-Request-Id` and the body's `request_id`) and
the app's `docs_url` when given (the body's `docs_url`, a `Link: <…>; rel="help"` header). Every
answer for a key whose rate limit was counted, the handler's own and the 429, carries
`RateLimit-Limit`, `-Remaining`, `-Reset` and `-Policy` (see answers.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response

from ..core.types import StorageError
from ..middleware.guards import guard  # the machinery require_api_key is built on
from .answers import (
    REQUEST_ID_HEADER,
    check_docs_url,
    quota_headers,
    request_id,
    with_headers,
)
from .client import APIKeyClient
from .engine import KeyIssuer
from .errors import (
    APIKeyError,
    CreditsExhaustedError,
    ExpiredKeyError,
    InsufficientScopeError,
    InvalidKeyError,
    QuotaError,
    RevokedKeyError,
)
from .models import APIKey
from .validation import Admitted, Prepared, Staged

__all__ = [
    "ISSUED_KEY",
    "SCOPE_ISSUED_KEY",
    "issued_key_beforeware",
    "issued_key_of",
    "key_problem",
    "presented_key",
    "require_scopes",
]

log = logging.getLogger("byok")

ISSUED_KEY = "issued_key"  # a guarded handler's parameter that receives the APIKey
SCOPE_ISSUED_KEY = "byok_issued_key"  # request.scope entry holding the validated APIKey
SCOPE_QUOTA = "byok_issued_quota"  # request.scope entry holding its rate limit after the call
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6750 scope-token (ASCII)
_REALM = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,100}")  # a realm quoted as it is


def presented_key(
    request: HTTPConnection,  # the incoming request
) -> str | None:
    """The key a client sent: `Authorization: Bearer <key>`, else `X-API-Key`; None when neither."""
    # bench "HTTP wrk, PostgreSQL, read-only validate_key": one pass over the raw headers (the
    # first of each name, as Headers.get; ASGI names are lowercase), no KeyError per miss
    auth = api = None
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            auth = value if auth is None else auth
        elif name == b"x-api-key":
            api = value if api is None else api
    if auth is not None:
        scheme, _, token = auth.decode("latin-1").strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return (api.decode("latin-1").strip() or None) if api is not None else None


def _challenge(realm: str, error: str | None = None, **extra: str) -> str:
    """A `WWW-Authenticate: Bearer …` value (RFC 6750)."""
    parts = [f'realm="{realm}"']
    if error:
        parts.append(f'error="{error}"')
    parts += [f'{k}="{v}"' for k, v in extra.items()]
    return "Bearer " + ", ".join(parts)


def key_problem(
    exc: APIKeyError | StorageError | None,  # why the key was refused; None = no key sent
    realm: str = "api",  # the realm named in WWW-Authenticate
    *,
    request_id: str | None = None,  # the refused request's id (None: a new one)
    docs_url: str | None = None,  # where the app documents these errors (body + Link header)
) -> JSONResponse:
    """The JSON answer for a refused key (never containing the key), with a request id."""
    headers: dict[str, str] = {}
    body: dict[str, Any]
    if exc is None:
        status, body = 401, {"error": "missing_key", "detail": "an API key is required"}
        headers["WWW-Authenticate"] = _challenge(realm)
    elif isinstance(exc, ExpiredKeyError):
        status, body = 401, {"error": "expired_key", "detail": "the API key has expired"}
        if exc.expired_at is not None:
            body["expired_at"] = exc.expired_at.isoformat()
        headers["WWW-Authenticate"] = _challenge(
            realm, "invalid_token", error_description="The API key has expired"
        )
    elif isinstance(exc, RevokedKeyError):
        status, body = 403, {"error": "revoked_key", "detail": "the API key has been revoked"}
    elif isinstance(exc, InsufficientScopeError):
        status = 403
        body = {"error": "insufficient_scope", "detail": str(exc)}
        if exc.missing_scopes:
            body["missing_scopes"] = exc.missing_scopes
            # only scopes a header can carry (scopes may be any printable text): the body
            # names them all; a non-ASCII one in a header would fail to encode (a 500)
            named = " ".join(s for s in exc.missing_scopes if _SCOPE_TOKEN.fullmatch(s))
            extra = {"scope": named} if named else {}
            headers["WWW-Authenticate"] = _challenge(realm, "insufficient_scope", **extra)
    elif isinstance(exc, QuotaError):
        status = 429
        credits = isinstance(exc, CreditsExhaustedError)
        body = {
            "error": "credits_exhausted" if credits else "rate_limited",
            "detail": str(exc),
            "retry_after_seconds": exc.retry_after_seconds,
        }
        if exc.retry_after_seconds is not None:
            headers["Retry-After"] = str(exc.retry_after_seconds)
            headers["RateLimit-Reset"] = str(exc.retry_after_seconds)
        if exc.limit is not None:
            headers["RateLimit-Limit"] = str(exc.limit)
            headers["RateLimit-Policy"] = f"{exc.limit};w={exc.window_seconds}"
        headers["RateLimit-Remaining"] = "0"
    elif isinstance(exc, StorageError):
        status, body = 503, {"error": "unavailable", "detail": "key validation is unavailable"}
        headers["Retry-After"] = "5"
    else:  # InvalidKeyError and any other key error
        status, body = 401, {"error": "invalid_key", "detail": "the API key is not valid"}
        headers["WWW-Authenticate"] = _challenge(realm, "invalid_token")
    rid = request_id or _new_request_id(None)
    body["request_id"] = headers[REQUEST_ID_HEADER] = rid
    if docs_url is not None:
        body["docs_url"] = docs_url
        headers["Link"] = f'<{docs_url}>; rel="help"'
    return JSONResponse(body, status_code=status, headers=headers)


_new_request_id = request_id  # (key_problem's parameter hides the function's name)


def _client(client_or_issuer: APIKeyClient | KeyIssuer) -> APIKeyClient:
    if isinstance(client_or_issuer, APIKeyClient):
        return client_or_issuer
    if isinstance(client_or_issuer, KeyIssuer):
        return APIKeyClient.of(client_or_issuer)
    raise TypeError("require_scopes needs an APIKeyClient or a KeyIssuer")


def _checker(
    client_or_issuer: APIKeyClient | KeyIssuer,
    scopes: tuple[str, ...],
    filters: dict[str, Any],
    realm: str,
    docs_url: str | None,
) -> Callable[[HTTPConnection], Any]:
    """request -> {"issued_key": the APIKey}, or the refusal Response, or a coroutine giving
    one when I/O is needed (a `guard` check); the key's rate limit after the call goes to
    request.scope[SCOPE_QUOTA]."""
    client = _client(client_or_issuer)
    if not isinstance(realm, str) or not _REALM.fullmatch(realm):
        raise ValueError("realm must be 1-100 ASCII characters without quotes or backslashes")
    for s in scopes:
        if not isinstance(s, str) or not s:
            raise TypeError("scopes are non-empty strings")
    docs = check_docs_url(docs_url)
    validation = client.issuer.validation
    combiner = validation.combiner
    want = validation.wanted(required_scopes=scopes, **filters)  # checked once, here

    def refuse(request: HTTPConnection, e: APIKeyError | StorageError) -> Response:
        if isinstance(e, StorageError):
            log.warning("byok issued-key guard: database unavailable (%s)", e)
        elif not isinstance(e, InvalidKeyError | QuotaError):
            log.info("byok issued-key refused on %s: %s", request.url.path, type(e).__name__)
        return key_problem(e, realm, request_id=request_id(request), docs_url=docs)

    def admitted(request: HTTPConnection, found: Admitted) -> dict[str, APIKey]:
        request.scope[SCOPE_ISSUED_KEY] = found.key
        request.scope[SCOPE_QUOTA] = found.quota
        return {ISSUED_KEY: found.key}

    async def settle(
        request: HTTPConnection, prepared: Prepared, staged: Staged | None
    ) -> dict[str, APIKey] | Response:
        try:
            # bench "HTTP wrk, PostgreSQL, counted validate_key … c = 16": a staged use awaits
            # its batch here (client.settle's first part, without its coroutine)
            found = None
            if staged is not None:
                found = validation.settle(staged, await combiner.count(staged.params))
            if found is None:
                found = await client.settle(prepared, None)
        except (APIKeyError, StorageError) as e:
            return refuse(request, e)
        return admitted(request, found)

    def check(request: HTTPConnection) -> dict[str, APIKey] | Response | Awaitable[Any]:
        key = presented_key(request)
        if key is None:
            return key_problem(None, realm, request_id=request_id(request), docs_url=docs)
        try:
            prepared = validation.prepare_for(key, want)
            staged = validation.try_stage(prepared)
        except (APIKeyError, StorageError) as e:
            return refuse(request, e)
        if type(staged) is Admitted:  # bench "HTTP wrk, PostgreSQL, read-only validate_key":
            return admitted(request, staged)  # answered on the loop, no coroutine
        return settle(request, prepared, staged)

    return check


def _quota_of(request: HTTPConnection) -> dict[str, str]:
    quota = request.scope.get(SCOPE_QUOTA)
    return {} if quota is None else quota_headers(quota)


def _with_quota(request: HTTPConnection, result: Any) -> Any:
    """The handler's answer with the key's RateLimit-* headers (when its limit was counted)."""
    quota = request.scope.get(SCOPE_QUOTA)
    return result if quota is None else with_headers(request, result, quota_headers(quota))


def require_scopes(
    client_or_issuer: APIKeyClient | KeyIssuer,  # the engine that validates
    *scopes: str,  # scopes the key must carry, e.g. "read"
    product_id: str | None = None,  # the key must be valid for this product
    project_id: str | None = None,  # … for this project
    org_id: str | None = None,  # … and belong to this organization
    check_rate_limit: bool = True,  # enforce the key's rate limit and credits
    track_usage: bool = True,  # count the use
    realm: str = "api",  # named in WWW-Authenticate
    docs_url: str | None = None,  # where your API's errors are documented (in every refusal)
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator (under `@rt`): the handler runs only for a valid issued key with these scopes;
    a handler with an `issued_key` parameter receives the APIKey. Its answer carries the key's
    RateLimit-* headers when the key has a rate limit (and check_rate_limit is on)."""
    filters = {
        "product_id": product_id,
        "project_id": project_id,
        "org_id": org_id,
        "check_rate_limit": check_rate_limit,
        "track_usage": track_usage,
    }
    check = _checker(client_or_issuer, scopes, filters, realm, docs_url)
    return guard(check, (ISSUED_KEY,), after=_with_quota)


def issued_key_beforeware(
    client_or_issuer: APIKeyClient | KeyIssuer,  # the engine that validates
    *scopes: str,  # scopes every key under the prefix must carry
    prefix: str = "/api/",  # the paths guarded (by prefix)
    product_id: str | None = None,  # keys must be valid for this product
    project_id: str | None = None,  # … for this project
    org_id: str | None = None,  # … and belong to this organization
    skip: tuple[str, ...] = (),  # exact paths under the prefix left open (e.g. a health check)
    realm: str = "api",  # named in WWW-Authenticate
    docs_url: str | None = None,  # where your API's errors are documented (in every refusal)
) -> Callable[[Request], Any]:
    """A FastHTML `before` function guarding every path under `prefix`; handlers read the key
    with `issued_key_of(request)`. A handler's FT, dict or text answer gets the key's RateLimit-*
    headers (through FastHTML's `req.injects`); one returning a Response sets its own."""
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise TypeError("prefix must be a path such as '/api/'")
    filters = {"product_id": product_id, "project_id": project_id, "org_id": org_id}
    check = _checker(client_or_issuer, scopes, filters, realm, docs_url)
    open_paths = frozenset(skip)

    async def issued_key_before(req: Request) -> Response | None:
        path = req.url.path
        if not path.startswith(prefix) or path in open_paths:
            return None
        found = check(req)
        if not isinstance(found, dict | Response):
            found = await found
        if isinstance(found, Response):
            return found
        with_headers(req, None, _quota_of(req))  # (through FastHTML's req.injects)
        return None

    return issued_key_before


def issued_key_of(
    request: HTTPConnection,  # a request a guard let through
) -> APIKey | None:
    """The APIKey validated for this request by require_scopes or the beforeware."""
    return request.scope.get(SCOPE_ISSUED_KEY)
