"""Data, configuration, errors and limits shared by byok's core and UI. No I/O here."""

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from enum import Enum, StrEnum
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "ENDPOINT_FIELDS",
    "LABEL_PATTERN",
    "MAX_KEY_LENGTH",
    "MAX_USER_ID_LENGTH",
    "MIN_SECRET_LENGTH",
    "PROVIDER_PATTERN",
    "SESSION_TTL",
    "APIKey",
    "BYOKConfig",
    "BYOKException",
    "Credentials",
    "EncryptionError",
    "Endpoint",
    "EventKind",
    "KeyEvent",
    "KeyLifetime",
    "KeyNotFoundError",
    "KeyOverview",
    "KeyStorage",
    "SavedKey",
    "SecurityWarning",
    "SessionFullError",
    "StorageBackend",
    "StorageError",
    "UserAPIKey",
    "ValidationError",
    "as_utc",
    "utcnow",
]

MAX_KEY_LENGTH = 1024  # longest API key accepted, in characters (printable ASCII)
MAX_USER_ID_LENGTH = 255  # longest user id accepted, in characters
MIN_SECRET_LENGTH = 16  # shortest app secret accepted, in bytes (UTF-8)
PROVIDER_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # provider names, fullmatch
LABEL_PATTERN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 ._-]{0,30}[A-Za-z0-9._-])?")  # key labels


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(
    dt: datetime,  # aware, or naive = this machine's local time (what `datetime.now()` gives)
) -> datetime:
    """The same instant in UTC; a naive datetime is read as local time, as Python does."""
    if not isinstance(dt, datetime):
        raise ValidationError(f"expected a datetime, not {type(dt).__name__}")
    return dt if dt.tzinfo is UTC else dt.astimezone(UTC)


def _aware(dt: datetime | None) -> datetime | None:
    return None if dt is None else as_utc(dt)


class StorageBackend(Enum):
    """Where API keys are kept."""

    SESSION = "session"  # in the signed session cookie (ciphertext only)
    DATABASE = "database"  # in a database table (SQLite file, PostgreSQL or MySQL / MariaDB)
    HYBRID = "hybrid"  # database for persistence, session as a per-user cache


@dataclass(frozen=True)
class Endpoint:
    """A key's custom endpoint; every field optional (None = the provider's default)."""

    base_url: str | None = None  # the API's base URL, e.g. "https://my-resource.openai.azure.com"
    deployment: str | None = None  # Azure OpenAI deployment name
    api_version: str | None = None  # Azure OpenAI api-version, e.g. "2024-10-21"

    def __bool__(self) -> bool:
        return any(getattr(self, f) for f in ENDPOINT_FIELDS)

    def to_dict(self) -> dict[str, str]:
        """The fields that are set (JSON-safe)."""
        return {k: v for k, v in asdict(self).items() if v}

    def encode(self) -> bytes:
        """Canonical bytes (sorted compact JSON): stored, and bound into the key's AAD."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def decode(
        cls,
        raw: str | bytes | None,  # what `encode` wrote (None or empty = no endpoint)
    ) -> "Endpoint | None":
        """The endpoint `encode` wrote; ValueError when the text was damaged."""
        if not raw:
            return None
        data = json.loads(raw)
        if not isinstance(data, dict) or not set(data) <= set(ENDPOINT_FIELDS):
            raise ValueError("not an endpoint")
        if not all(isinstance(v, str) for v in data.values()):
            raise ValueError("not an endpoint")
        return cls(**data) or None

    def describe(self) -> str:
        """One line for a card: 'https://x.openai.azure.com · deployment gpt-4o · 2024-10-21'."""
        parts = [self.base_url or "default URL"]
        if self.deployment:
            parts.append(f"deployment {self.deployment}")
        if self.api_version:
            parts.append(f"API version {self.api_version}")
        return " · ".join(parts)


ENDPOINT_FIELDS = tuple(f.name for f in fields(Endpoint))  # base_url, deployment, api_version


@dataclass
class APIKey:
    """An encrypted API key with its metadata."""

    provider: str  # provider name, e.g. 'openai', 'anthropic', 'google'
    encrypted_value: bytes  # sealed key (see byok.core.security.Keyring)
    created_at: datetime = field(default_factory=utcnow)  # when it was stored (naive = local)
    expires_at: datetime | None = None  # when it stops being usable (naive = local), None = never
    user_id: str | None = None  # owner, required for database storage
    label: str = ""  # which of the provider's keys ("" = unlabelled), e.g. "work"
    endpoint: Endpoint | None = None  # its custom endpoint, bound to the ciphertext
    is_default: bool = False  # the provider's default key (the one get_key returns unlabelled)

    def __post_init__(self) -> None:
        # UTC already (what byok's storage reads) costs two class and two attribute tests (bench
        # row "session get_key vs one AES-GCM open": a record is made on every read)
        created, expires = self.created_at, self.expires_at
        if created.__class__ is not datetime or created.tzinfo is not UTC:
            self.created_at = _aware(created)  # type: ignore[assignment]
        if expires is not None and (expires.__class__ is not datetime or expires.tzinfo is not UTC):
            self.expires_at = _aware(expires)

    @property
    def is_expired(self) -> bool:
        """True once `expires_at` has passed."""
        return self.expires_at is not None and utcnow() >= self.expires_at

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (the ciphertext as hex)."""
        return {
            "provider": self.provider,
            "encrypted_value": self.encrypted_value.hex(),
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "user_id": self.user_id,
            "label": self.label,
            "endpoint": self.endpoint.to_dict() if self.endpoint else None,
            "is_default": self.is_default,
        }

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],  # a dict made by `to_dict`
    ) -> "APIKey":
        """Rebuild an APIKey from `to_dict` output (older dicts without labels included)."""
        try:
            expires = data.get("expires_at")
            endpoint = data.get("endpoint")
            return cls(
                provider=data["provider"],
                encrypted_value=bytes.fromhex(data["encrypted_value"]),
                created_at=datetime.fromisoformat(data["created_at"]),
                expires_at=datetime.fromisoformat(expires) if expires else None,
                user_id=data.get("user_id"),
                label=data.get("label") or "",
                endpoint=Endpoint(**endpoint) if endpoint else None,
                is_default=bool(data.get("is_default", False)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise StorageError(f"malformed APIKey data: {type(e).__name__}") from None


@dataclass(frozen=True)
class KeyOverview:
    """What a dashboard card shows of one stored key: its masked value and dates, no secret."""

    masked_key: str | None = None  # the key masked for display (None when unreadable)
    created_at: datetime | None = None  # when it was stored
    expires_at: datetime | None = None  # when it expires (None = never)
    unreadable: bool = False  # stored but it cannot be decrypted (re-enter it)
    label: str = ""  # which of the provider's keys ("" = unlabelled)
    endpoint: Any = None  # its custom Endpoint, shown (None = the provider's own API)
    others: tuple["KeyOverview", ...] = ()  # the provider's other (non-default) keys


@dataclass(frozen=True)
class SavedKey:
    """What `BYOKManager.set_key` returns: the key as stored and what changed (no plaintext)."""

    record: APIKey  # the key as stored (dates, label, endpoint, is_default)
    masked: str  # its value masked for display
    replaced: bool  # it replaced a key stored under the same provider and label
    after: Callable[[], list[APIKey]] = field(repr=False, compare=False)  # makes `keys`

    @cached_property
    def keys(self) -> tuple[APIKey, ...]:
        """Every live key of this owner after the save, sorted, each provider's default flagged
        (from what the save read and wrote: no further storage read; built on first use)."""
        return tuple(self.after())


@runtime_checkable
class KeyStorage(Protocol):
    """What a storage backend provides (all take the request; user_id where it matters)."""

    def store(self, request: Any, key: APIKey) -> None:
        """Store (insert or replace) a key (one per provider and label)."""
        ...

    def retrieve(self, request: Any, provider: str, user_id: str | None = None) -> APIKey | None:
        """The stored key for `provider` (its default; byok's backends take `label=` too)."""
        ...

    def delete(self, request: Any, provider: str, user_id: str | None = None) -> None:
        """Remove the key for `provider` (its default; byok's backends take `label=` too)."""
        ...

    def list_providers(self, request: Any, user_id: str | None = None) -> list[str]:
        """Providers with a stored key, sorted."""
        ...

    def clear_all(self, request: Any, user_id: str | None = None) -> None:
        """Remove every key of this owner."""
        ...


class EventKind(StrEnum):
    """What happened to a key (for logs and the event hook)."""

    SET = "set"
    DELETE = "delete"
    CLEAR = "clear"
    ROTATE = "rotate"
    EXPIRE = "expire"
    DECRYPT_FAILURE = "decrypt_failure"


@dataclass(frozen=True)
class KeyEvent:
    """A key event; carries a masked key and a keyed fingerprint, never the key."""

    kind: EventKind  # what happened
    provider: str  # which provider
    user_id: str | None = None  # whose key, when known
    masked: str | None = None  # masked key, e.g. 'sk-…wxyz'
    fingerprint: str | None = None  # HMAC fingerprint of the key
    detail: str | None = None  # short extra context (never secret)


class KeyLifetime(Enum):
    """A key lifetime left to the storage backend (`BYOKConfig.default_ttl`'s default)."""

    BY_STORAGE = "by-storage"  # session keys expire after 24 h; database (and hybrid) keys never


SESSION_TTL = timedelta(hours=24)  # a session key's lifetime unless the app chooses one


@dataclass
class BYOKConfig:
    """Configuration of the BYOK system (reference names and defaults, plus byok's own)."""

    storage_backend: StorageBackend = StorageBackend.SESSION  # where keys live
    encryption_key: bytes | None = None  # raw 32-byte key; None = derive from the app secret
    # key lifetime (None = never expires); BY_STORAGE: session 24 h, database and hybrid never
    default_ttl: timedelta | KeyLifetime | None = KeyLifetime.BY_STORAGE
    session_key_prefix: str = "byok_"  # the session entry is named f"{prefix}keys"
    db_table_name: str = "user_api_keys"  # database table name
    auto_cleanup: bool = True  # remove expired keys when they are read / by the cleanup beforeware
    require_https: bool = True  # refuse key routes over plain HTTP in production
    # --- byok additions ---
    key_version: int = 1  # version of the current secret / encryption_key
    previous_keys: Mapping[int, str | bytes] = field(default_factory=dict)  # older versions
    min_decrypt_version: int = 1  # ciphertexts older than this are refused (retired keys)
    max_key_length: int = MAX_KEY_LENGTH  # longest API key accepted
    cookie_limit: int = 4096  # byte budget of the whole Set-Cookie value
    session_cookie: str = "session_"  # name of the app's session cookie (for the budget)
    hybrid_cache_ttl: timedelta = timedelta(minutes=5)  # how long hybrid trusts its session copy
    cleanup_interval: timedelta = timedelta(minutes=10)  # cleanup beforeware: per user, at most
    is_production: bool | None = None  # None = read BYOK_ENV / ENVIRONMENT
    on_event: Callable[[KeyEvent], None] | None = None  # hook for key events (masked only)


@dataclass
class UserAPIKey:
    """Database row of a stored key (the fastsql schema, version 2; ciphertext only)."""

    user_id: str  # owner (primary key, with provider and label)
    provider: str  # provider name (primary key, with user_id and label)
    label: str  # which of the provider's keys, "" = unlabelled (primary key; schema 2)
    encrypted_value: bytes  # sealed key (its associated data includes the endpoint)
    key_version: int  # keyring version that sealed it (indexed, for rotation)
    created_at: str  # when it was stored: ISO 8601, UTC, microseconds
    expires_at: str | None  # when it expires: ISO 8601, UTC, microseconds; None = never
    updated_at: str  # last write: ISO 8601, UTC, microseconds
    endpoint: str | None  # the custom endpoint, canonical JSON (shown, not secret; schema 2)
    is_default: int  # 1 for the provider's chosen default key, else 0 (schema 2)


@dataclass(frozen=True)
class Credentials:
    """A decrypted key with what an app needs to call the provider with it."""

    provider: str  # provider name
    api_key: str = field(repr=False)  # the plaintext key (never in repr)
    label: str = ""  # which of the provider's keys
    endpoint: Any = None  # its custom Endpoint, or None for the provider's default API


class BYOKException(Exception):
    """Base of every byok error."""


class EncryptionError(BYOKException):
    """A value could not be sealed or opened (wrong key, owner, provider or malformed)."""


class StorageError(BYOKException):
    """A storage operation failed."""


class SessionFullError(StorageError):
    """Storing this key would push the session cookie past the browsers' limit."""


class KeyNotFoundError(BYOKException):
    """The requested key is not stored."""


class ValidationError(BYOKException, ValueError):
    """Bad input (key, provider, user id, secret or configuration); nothing was stored."""


class SecurityWarning(BYOKException, UserWarning):
    """A security concern; a real Warning, usable with warnings.warn."""
