"""Keys your app issues to its own users: scoped, expiring, revocable, rate-limited, counted.

Every name of apikeys-platform 0.2.0 is here with the same signatures (`from apikeys import …`
→ `from byok.issuing import …`): `APIKeyClient` and `create_tables` are async as there. Under
them is `KeyIssuer`, the synchronous engine with the same methods as plain calls. Its module
paths are here too: `apikeys.exceptions` → `byok.issuing.exceptions`, `apikeys.db.session` →
`byok.issuing.db.session`, `apikeys.fastapi` → `byok.issuing.fastapi` (`APIKeyDepends`).
"""

from .client import APIKeyClient, create_tables
from .engine import KeyIssuer
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
    RolledKeyError,
)
from .fastapi import APIKeyDepends
from .guard import (
    ISSUED_KEY,
    SCOPE_ISSUED_KEY,
    issued_key_beforeware,
    issued_key_of,
    key_problem,
    presented_key,
    require_scopes,
)
from .importer import ImportReport, import_apikeys
from .keys import ISSUED_KEY_PATTERN, ISSUED_KEY_REGEX, KeyFormat, looks_like_issued_key
from .models import (
    APIKey,
    APIKeyCreated,
    AuditAction,
    AuditEvent,
    KeyMetadata,
    KeyStatus,
    Organization,
    Product,
    Project,
    RateLimit,
    RateLimitWindow,
    Refill,
    RefillInterval,
    UsageDay,
)
from .policy import KeyPolicy, TooManyKeysError
from .rollout import SecretStatus
from .routes import IssuingRoutes, KeyOwner, OwnerFunc, mount_issuing_routes

__all__ = [
    "ISSUED_KEY",
    "ISSUED_KEY_PATTERN",
    "ISSUED_KEY_REGEX",
    "SCOPE_ISSUED_KEY",
    "APIKey",
    "APIKeyClient",
    "APIKeyCreated",
    "APIKeyDepends",
    "APIKeyError",
    "AlreadyExistsError",
    "AuditAction",
    "AuditEvent",
    "CreditsExhaustedError",
    "ExpiredKeyError",
    "ImportReport",
    "InsufficientScopeError",
    "InvalidInputError",
    "InvalidKeyError",
    "IssuingRoutes",
    "KeyFormat",
    "KeyIssuer",
    "KeyMetadata",
    "KeyOwner",
    "KeyPolicy",
    "KeyStatus",
    "NotFoundError",
    "Organization",
    "OwnerFunc",
    "Product",
    "Project",
    "QuotaError",
    "RateLimit",
    "RateLimitWindow",
    "Refill",
    "RefillInterval",
    "RevokedKeyError",
    "RolledKeyError",
    "SecretStatus",
    "TooManyKeysError",
    "UsageDay",
    "create_tables",
    "import_apikeys",
    "issued_key_beforeware",
    "issued_key_of",
    "key_problem",
    "looks_like_issued_key",
    "mount_issuing_routes",
    "presented_key",
    "require_scopes",
]
