"""byok's HTMX component kit on daisyUI 5: alerts, toasts, key forms, cards and the dashboard.

`COMPONENTS` lists every public component (what the gallery must cover); variant axes are the
enums of `byok.components.variants`; the HTMX contract with the key routes is documented in
`byok.components.forms` and spelled in `byok.components.wiring`.
"""

from __future__ import annotations

from .alerts import (
    Alert,
    AlertStack,
    KeyStatusNotification,
    SecurityAlert,
    Toast,
    ToastContainer,
    ValidationMessage,
    oob_toast,
)
from .assets import BYOK_JS_PATH, BYOK_JS_URL, byok_js, byok_script, serve_byok_js
from .cards import EXPIRING_WITHIN, KeyManagementCard, KeyTestResult
from .dashboard import DashboardSkeleton, KeyManagerDashboard, dashboard_summary
from .forms import InlineKeyInput, KeyInputForm, MultiProviderKeyForm
from .icons import ErrorIcon, InfoIcon, SuccessIcon, WarningIcon
from .variants import (
    AlertKind,
    AlertStyle,
    FieldType,
    FormMethod,
    IconSize,
    KeyState,
    KeyStatus,
    Severity,
    StackSpacing,
    TestState,
    ToastAlign,
    ToastPosition,
)
from .wiring import (
    CSRF_FIELD,
    CSRF_HEADER,
    DASHBOARD_HEADER,
    DASHBOARD_ID,
    DEFAULT_BASE_URL,
    MULTI_VALIDATION_ID,
    PROBLEM_HEADER,
    SUMMARY_ID,
    TOAST_CONTAINER_ID,
    card_id,
    input_id,
    key_url,
    test_slot_id,
    test_url,
    validation_id,
)

COMPONENTS = (  # every public component, in gallery order
    InfoIcon,
    SuccessIcon,
    WarningIcon,
    ErrorIcon,
    Alert,
    SecurityAlert,
    KeyStatusNotification,
    ToastContainer,
    Toast,
    ValidationMessage,
    AlertStack,
    KeyInputForm,
    MultiProviderKeyForm,
    KeyManagementCard,
    KeyTestResult,
    KeyManagerDashboard,
    DashboardSkeleton,
    InlineKeyInput,
)

VARIANTS = (  # every variant axis (str-Enums; plain strings are accepted too)
    AlertKind,
    AlertStyle,
    FieldType,
    FormMethod,
    IconSize,
    KeyState,
    KeyStatus,
    Severity,
    StackSpacing,
    TestState,
    ToastAlign,
    ToastPosition,
)

__all__ = [
    "BYOK_JS_PATH",
    "BYOK_JS_URL",
    "COMPONENTS",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "DASHBOARD_HEADER",
    "DASHBOARD_ID",
    "DEFAULT_BASE_URL",
    "EXPIRING_WITHIN",
    "MULTI_VALIDATION_ID",
    "PROBLEM_HEADER",
    "SUMMARY_ID",
    "TOAST_CONTAINER_ID",
    "VARIANTS",
    "Alert",
    "AlertKind",
    "AlertStack",
    "AlertStyle",
    "DashboardSkeleton",
    "ErrorIcon",
    "FieldType",
    "FormMethod",
    "IconSize",
    "InfoIcon",
    "InlineKeyInput",
    "KeyInputForm",
    "KeyManagementCard",
    "KeyManagerDashboard",
    "KeyState",
    "KeyStatus",
    "KeyStatusNotification",
    "KeyTestResult",
    "MultiProviderKeyForm",
    "SecurityAlert",
    "Severity",
    "StackSpacing",
    "SuccessIcon",
    "TestState",
    "Toast",
    "ToastAlign",
    "ToastContainer",
    "ToastPosition",
    "ValidationMessage",
    "WarningIcon",
    "byok_js",
    "byok_script",
    "card_id",
    "dashboard_summary",
    "input_id",
    "key_url",
    "oob_toast",
    "serve_byok_js",
    "test_slot_id",
    "test_url",
    "validation_id",
]
