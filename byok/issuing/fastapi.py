"""`APIKeyDepends`: apikeys-platform's FastAPI dependency, with the same name, arguments and answers.

It reads `X-API-Key`, validates it with the `APIKeyClient` an app put on
`request.state.apikeys_client`, and turns a refusal into an `HTTPException`: 401 (no key, an
invalid or expired key), 403 (revoked, missing scopes), 429 with `Retry-After` (rate limit or
credits). The exception is Starlette's, which FastAPI answers as `{"detail": …}` JSON and a plain
Starlette app as text, so this module imports without FastAPI installed
(`pip install "byok-fasthtml[fastapi]"` brings FastAPI itself).

byok's own guards for FastHTML (and FastAPI) routes are `require_scopes` and
`issued_key_beforeware` in `byok.issuing.guard`.
"""

# no `from __future__ import annotations`: FastAPI reads `__call__`'s annotations as objects

from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.requests import Request

from .errors import (
    ExpiredKeyError,
    InsufficientScopeError,
    InvalidKeyError,
    QuotaError,
    RevokedKeyError,
)
from .models import APIKey

__all__ = ["APIKeyDepends"]

HEADER = "X-API-Key"  # the request header holding the key


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
            raise HTTPException(status_code=401, detail=f"Missing {HEADER} header")
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
            raise HTTPException(status_code=401, detail=f"{e}{when}") from None
        except InvalidKeyError as e:
            raise HTTPException(status_code=401, detail=str(e)) from None
        except (RevokedKeyError, InsufficientScopeError) as e:
            raise HTTPException(status_code=403, detail=str(e)) from None
        except QuotaError as e:
            wait = e.retry_after_seconds
            headers = {} if wait is None else {"Retry-After": str(wait)}
            raise HTTPException(status_code=429, detail=str(e), headers=headers) from None
