"""Errors of the issued-key engine: apikeys-platform's names and attributes, under byok's base.

No message ever carries key material: a key is named by its id, never by its text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..core.types import BYOKException, ValidationError

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
    "RolledKeyError",
]


class APIKeyError(BYOKException):
    """Base of every issued-key error (catch-all)."""


class InvalidKeyError(APIKeyError):
    """The key is malformed, mistyped (bad checksum) or unknown."""


class ExpiredKeyError(APIKeyError):
    """The key was found but is past its expiry (`expired_at`)."""

    def __init__(
        self,
        message: str = "Key has expired",  # what happened
        expired_at: datetime | None = None,  # when the key stopped working (UTC)
    ):
        super().__init__(message)
        self.expired_at = expired_at


class RevokedKeyError(APIKeyError):
    """The key was found but has been revoked."""


class RolledKeyError(APIKeyError):
    """The key was already rolled (`rolled_to` replaced it): it is retired, not rolled again."""

    def __init__(
        self,
        message: str,  # what happened
        rolled_to: str | None = None,  # id of the key that replaced it
    ):
        super().__init__(message)
        self.rolled_to = rolled_to


class QuotaError(APIKeyError):
    """The key's rate limit is spent; try again after `retry_after_seconds`."""

    def __init__(
        self,
        message: str = "Rate limit exceeded",  # what happened
        retry_after_seconds: int | None = None,  # whole seconds until a call will pass
        *,
        limit: int | None = None,  # requests allowed per window
        window_seconds: int | None = None,  # the window's length
    ):
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
        self.limit = limit
        self.window_seconds = window_seconds


class CreditsExhaustedError(QuotaError):
    """The key has no credits (`remaining`) left; `retry_after_seconds` is the next refill, or
    None when it is never refilled."""


class InsufficientScopeError(APIKeyError):
    """The key is valid but not for this organization, project or product, or lacks scopes."""

    def __init__(
        self,
        message: str,  # what is missing
        missing_scopes: Sequence[str] = (),  # the required scopes the key lacks
    ):
        super().__init__(message)
        self.missing_scopes = list(missing_scopes)


class AlreadyExistsError(APIKeyError):
    """A name collision on create_*; `existing_id` is the conflicting record."""

    def __init__(
        self,
        message: str,  # what collided
        existing_id: str | None = None,  # id of the record already there
    ):
        super().__init__(message)
        self.existing_id = existing_id


class NotFoundError(APIKeyError):
    """No organization, project, product or key has this id (or the id is malformed)."""


class InvalidInputError(APIKeyError, ValidationError):
    """Bad input (a name, scope, limit, date, prefix or secret); nothing was changed."""
