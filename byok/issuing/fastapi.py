"""`APIKeyDepends`: apikeys-platform's FastAPI dependency, with the same name, arguments and answers.

It reads `X-API-Key`, validates it with the `APIKeyClient` an app put on
`request.state.apikeys_client`, and turns a refusal into an `HTTPException`: 401 (no key, an
invalid or expired key), 403 (revoked, missing scopes), 429 with `Retry-After` (rate limit or
credits; a rate limit's `RateLimit-*` headers too). Every refusal carries an `X-Request-Id` (the
client's when sane, else a new one); the body keeps the reference's `{"detail": "…"}`. The exception is FastAPI's `HTTPException` in a FastAPI app (so handlers registered for
it match), else Starlette's, of which FastAPI's is a subclass: a plain Starlette app answers it
too. This module never imports FastAPI (`pip install "byok-fasthtml[fastapi]"` brings it).

byok's own guards for FastHTML (and FastAPI) routes are `require_scopes` and
`issued_key_beforeware` in `byok.issuing.guard`.
"""

# no `from __future__ import annotations`: FastAPI reads `__call__`'s annotations as objects

import sys
from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.requests import Request

from .answers import REQUEST_ID_HEADER, quota_headers, request_id
from .errors import (
    ExpiredKeyError,
    InsufficientScopeError,
    InvalidKeyError,
    QuotaError,
    RevokedKeyError,
)
from .limits import Quota
from .models import APIKey

__all__ = ["APIKeyDepends"]

HEADER = "X-API-Key"  # the request header holding the key


def _refusal(
    request: Request,  # the refused request (its X-Request-Id is echoed)
    status: int,  # the HTTP status
    detail: str,  # the answer's detail (never the key)
    headers: dict[str, str] | None = None,  # e.g. Retry-After
) -> HTTPException:
    """FastAPI's HTTPException when the app runs on FastAPI (already imported), else Starlette's."""
    cls = getattr(sys.modules.get("fastapi"), "HTTPException", HTTPException)
    headers = {**(headers or {}), REQUEST_ID_HEADER: request_id(request)}
    return cls(status_code=status, detail=detail, headers=headers)


class APIKeyDepends:
    """A dependency (`key: APIKey = Depends(APIKeyDepends(required_scopes=["read"]))`) that
    answers the validated APIKey, or raises HTTPException 401/403/429."""

    def __init__(
        self,
        *,
        required_scopes: Sequence[str] = (),  # scopes the key must all carry
        required_scope: str | None = None,  # one more required scope (apikeys' older spelling)
        org_id: str | None = None,  # the key must belong to this organization
        product_id: str | None = None,  # the key must be valid for this product
        state_attr: str = "apikeys_client",  # the request.state attribute holding the client
    ) -> None:
        self.required_scopes = list(required_scopes)
        self.required_scope = required_scope
        self.org_id = org_id
        self.product_id = product_id
        self.state_attr = state_attr

    async def __call__(self, request: Request) -> APIKey:
        """The key of this request, validated (rate limit and usage counted)."""
        raw = request.headers.get(HEADER)
        if not raw:
            raise _refusal(request, 401, f"Missing {HEADER} header")
        client = getattr(request.state, self.state_attr, None)
        if client is None:  # the app's wiring, not the caller's input
            raise RuntimeError(
                f"APIKeyClient not found on request.state.{self.state_attr}: set it in a "
                "middleware or the lifespan (request.state.apikeys_client = client)"
            )
        try:
            return await client.validate_key(
                raw,
                org_id=self.org_id,
                product_id=self.product_id,
                required_scopes=self.required_scopes,
                required_scope=self.required_scope,
            )
        except ExpiredKeyError as e:
            when = "" if e.expired_at is None else f" (expired at {e.expired_at.isoformat()})"
            raise _refusal(request, 401, f"{e}{when}") from None
        except InvalidKeyError as e:
            raise _refusal(request, 401, str(e)) from None
        except (RevokedKeyError, InsufficientScopeError) as e:
            raise _refusal(request, 403, str(e)) from None
        except QuotaError as e:
            wait = e.retry_after_seconds
            headers = {} if wait is None else {"Retry-After": str(wait)}
            if e.limit is not None and e.window_seconds is not None and wait is not None:
                headers.update(quota_headers(Quota(e.limit, 0, wait, e.window_seconds)))
            raise _refusal(request, 429, str(e), headers) from None
