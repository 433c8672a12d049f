"""byok: bring-your-own-key toolkit for FastHTML.

Encrypted key storage (session, database, hybrid), route guards and key-management routes, and
an HTMX component kit on daisyUI 5. Every public name of cjm-fasthtml-byok 0.0.3 is here under
the same module path (`cjm_fasthtml_byok.X` -> `byok.X`); the most used ones are re-exported.
"""

from .components import (
    Alert,
    AlertStack,
    ErrorIcon,
    InfoIcon,
    InlineKeyInput,
    KeyInputForm,
    KeyManagementCard,
    KeyManagerDashboard,
    KeyStatusNotification,
    MultiProviderKeyForm,
    SecurityAlert,
    SuccessIcon,
    Toast,
    ToastContainer,
    ValidationMessage,
    WarningIcon,
)
from .core.security import (
    KeyEncryptor,
    Keyring,
    check_https,
    generate_encryption_key,
    get_key_fingerprint,
    get_or_create_app_key,
    mask_key,
    validate_environment,
)
from .core.storage import BYOKManager, DatabaseStorage, HybridStorage, SessionStorage
from .core.types import (
    APIKey,
    BYOKConfig,
    BYOKException,
    EncryptionError,
    KeyEvent,
    KeyNotFoundError,
    KeyStorage,
    SecurityWarning,
    SessionFullError,
    StorageBackend,
    StorageError,
    ValidationError,
)
from .middleware import (
    CleanupBeforeware,
    SecurityCheckBeforeware,
    create_byok_beforeware,
    require_any_api_key,
    require_api_key,
    setup_byok,
)
from .routes import mount_key_routes

__version__ = "0.1.0"

__all__ = [
    "APIKey",
    "Alert",
    "AlertStack",
    "BYOKConfig",
    "BYOKException",
    "BYOKManager",
    "CleanupBeforeware",
    "DatabaseStorage",
    "EncryptionError",
    "ErrorIcon",
    "HybridStorage",
    "InfoIcon",
    "InlineKeyInput",
    "KeyEncryptor",
    "KeyEvent",
    "KeyInputForm",
    "KeyManagementCard",
    "KeyManagerDashboard",
    "KeyNotFoundError",
    "KeyStatusNotification",
    "KeyStorage",
    "Keyring",
    "MultiProviderKeyForm",
    "SecurityAlert",
    "SecurityCheckBeforeware",
    "SecurityWarning",
    "SessionFullError",
    "SessionStorage",
    "StorageBackend",
    "StorageError",
    "SuccessIcon",
    "Toast",
    "ToastContainer",
    "ValidationError",
    "ValidationMessage",
    "WarningIcon",
    "__version__",
    "check_https",
    "create_byok_beforeware",
    "generate_encryption_key",
    "get_key_fingerprint",
    "get_or_create_app_key",
    "mask_key",
    "mount_key_routes",
    "require_any_api_key",
    "require_api_key",
    "setup_byok",
    "validate_environment",
]
