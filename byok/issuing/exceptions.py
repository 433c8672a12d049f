"""apikeys-platform's `apikeys.exceptions` path: `from byok.issuing.exceptions import …` finds
the same error names (they live in `byok.issuing.errors`, with byok's additions)."""

from .errors import (
    AlreadyExistsError,
    APIKeyError,
    CreditsExhaustedError,
    ExpiredKeyError,
    InsufficientScopeError,
    InvalidInputError,
    InvalidKeyError,
    NotFoundError,
    QuotaError,
    RevokedKeyError,
)

__all__ = [
    "APIKeyError",
    "AlreadyExistsError",
    "CreditsExhaustedError",
    "ExpiredKeyError",
    "InsufficientScopeError",
    "InvalidInputError",
    "InvalidKeyError",
    "NotFoundError",
    "QuotaError",
    "RevokedKeyError",
]
