"""Where sealed keys live and the manager that ties storage to the keyring. Persistence only:
every cryptographic step is delegated to `byok.core.security`, every input check to
`byok.core.validation`.

`backend` is the interface every backend implements in full (with the traits the manager asks);
`session`, `database` (its table in `schema`) and `hybrid` are the backends; `manager` holds
`BYOKManager`, `rotation` the database's key rotation. Every name is importable from here, as
it was from the single module this package replaces.
"""

from ..database import Access
from ..types import KeyOverview, SavedKey
from ..validation import validate_api_key, validate_label, validate_provider, validate_user_id
from .backend import Backend, pick_default, with_defaults
from .database import DatabaseStorage
from .hybrid import CLOCK_SKEW, HybridStorage
from .manager import BYOKManager
from .rotation import RotationReport
from .schema import SCHEMA_VERSION
from .session import CSRF_SESSION_KEY, SessionStorage

__all__ = [
    "CLOCK_SKEW",
    "CSRF_SESSION_KEY",
    "SCHEMA_VERSION",
    "Access",
    "BYOKManager",
    "Backend",
    "DatabaseStorage",
    "HybridStorage",
    "KeyOverview",
    "RotationReport",
    "SavedKey",
    "SessionStorage",
    "pick_default",
    "validate_api_key",
    "validate_label",
    "validate_provider",
    "validate_user_id",
    "with_defaults",
]
