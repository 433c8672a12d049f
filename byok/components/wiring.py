"""The HTMX contract between the byok components and the key routes: ids, URLs, header names.

Routes (byok.routes) and components both import these, so an id or URL is spelled in one place.
See the module docstring of `byok.components.forms` for the whole request/response contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote, unquote

from ._html import path_segment, safe_url, slugify

__all__ = [
    "CREATE_FORM_ID",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "DASHBOARD_HEADER",
    "DASHBOARD_ID",
    "DEFAULT_BASE_URL",
    "ISSUED_BASE_URL",
    "ISSUED_DIALOG_ID",
    "ISSUED_REVEAL_ID",
    "ISSUED_TABLE_ID",
    "MULTI_VALIDATION_ID",
    "PROBLEM_HEADER",
    "SUMMARY_ID",
    "TARGETS_HEADER",
    "TOAST_CONTAINER_ID",
    "card_id",
    "dashboard_header_value",
    "default_url",
    "form_validation_id",
    "input_id",
    "issued_key_url",
    "issued_validation_id",
    "issued_view_url",
    "key_url",
    "parse_dashboard_header",
    "parse_targets_header",
    "test_slot_id",
    "test_url",
    "validation_id",
]

DEFAULT_BASE_URL = "/api/keys"  # where the key routes live unless configured
TOAST_CONTAINER_ID = "toast-container"  # ToastContainer's default id; oob_toast targets it
CSRF_HEADER = "X-CSRF-Token"  # header carrying the CSRF token on htmx requests (hx-headers)
CSRF_FIELD = "csrf_token"  # form field carrying it on plain (non-htmx) form posts
DASHBOARD_ID = "byok-dashboard"  # KeyManagerDashboard's (and DashboardSkeleton's) id
SUMMARY_ID = "byok-dashboard-summary"  # the dashboard's key count; routes refresh it out of band
# sent (through the dashboard's hx-headers) by every htmx request from inside a dashboard: the
# providers it shows, so a save / delete answer can refresh its summary out of band
DASHBOARD_HEADER = "BYOK-Dashboard"
"""Request header naming the providers a dashboard shows (sent by its htmx requests)."""
_DASHBOARD_HEADER_MAX = 2048  # longer lists are not sent (no refresh) rather than overflow limits
MULTI_VALIDATION_ID = "byok-validation-multi"  # MultiProviderKeyForm's result slot (its target)
# marks an htmx error answer (4xx / 503) that byok.js lets htmx swap (htmx 2 swaps only 2xx);
# its value is the machine-readable reason ("invalid", "csrf_token", "storage", ...)
PROBLEM_HEADER = "BYOK-Problem"
"""Response header marking an htmx error answer byok.js swaps; its value is the reason."""
# sent by byok.js with every request from a key form: the ids of the out-of-band targets the page
# has (the ToastContainer, the cards), so a standalone form's answer sends only parts that land
TARGETS_HEADER = "BYOK-Targets"
"""Request header listing (space-separated) the byok out-of-band targets present on the page."""


def card_id(
    provider: str,  # provider name
) -> str:
    """Id of the provider's KeyManagementCard (save and delete swap it, outerHTML)."""
    return f"byok-card-{slugify(provider)}"


def validation_id(
    provider: str,  # provider name
) -> str:
    """Id of the ValidationMessage slot beside the provider's key field."""
    return f"byok-validation-{slugify(provider)}"


def form_validation_id(
    provider: str,  # provider name
) -> str:
    """Id of a standalone KeyInputForm's message slot (its hx-target; apart from a card's slot)."""
    return f"{validation_id(provider)}--form"


def test_slot_id(
    provider: str,  # provider name
    label: str | None = None,  # a labelled key (its own slot); None = the provider's default
) -> str:
    """Id of the slot where a "test key" result (KeyTestResult) is swapped in."""
    return f"byok-test-{slugify(provider)}" + (f"--{slugify(label)}" if label else "")


test_slot_id.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def input_id(
    provider: str,  # provider name
    scope: str = "form",  # which form it belongs to: "form", "card" or "inline"
) -> str:
    """Id of a provider's key input (labels and the show/hide toggle point at it)."""
    return f"byok-input-{scope}-{slugify(provider)}"


def _labelled(url: str, label: str | None) -> str:
    """The URL naming one labelled key (?label=…); unlabelled keys need no query."""
    return url if label is None else f"{url}?label={quote(label, safe='')}"


def key_url(
    base_url: str,  # where the key routes live, e.g. "/api/keys" (http(s) or relative)
    provider: str,  # provider name (percent-encoded into one path segment)
    label: str | None = None,  # one key by label (?label=…, "" = unlabelled); None = the default
) -> str:
    """The provider's key URL: POST saves, DELETE removes (f"{base_url}/{provider}")."""
    return _labelled(
        f"{safe_url(base_url, 'base_url').rstrip('/')}/{path_segment(provider)}", label
    )


def test_url(
    base_url: str,  # where the key routes live
    provider: str,  # provider name
    label: str | None = None,  # a labelled key; None = the provider's default
) -> str:
    """The provider's "test key" URL (POST), f"{base_url}/{provider}/test"."""
    return _labelled(f"{key_url(base_url, provider)}/test", label)


def default_url(
    base_url: str,  # where the key routes live
    provider: str,  # provider name
    label: str,  # the key to make the default ("" = the unlabelled one)
) -> str:
    """POST here makes a labelled key the provider's default, f"{base_url}/{provider}/default"."""
    return f"{key_url(base_url, provider)}/default?label={quote(label, safe='')}"


test_url.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def dashboard_header_value(
    providers: Sequence[str],  # the providers a dashboard shows, in order
) -> str | None:
    """DASHBOARD_HEADER's value: the names percent-encoded, comma-separated (None if too long)."""
    value = ",".join(quote(str(p), safe="") for p in providers)
    return value if value and len(value) <= _DASHBOARD_HEADER_MAX else None


def parse_dashboard_header(
    value: str | None,  # the DASHBOARD_HEADER of a request, if any
) -> list[str] | None:
    """The providers a dashboard shows (distinct, in order), or None without a usable header."""
    if not value or len(value) > _DASHBOARD_HEADER_MAX:
        return None
    names = [unquote(part) for part in value.split(",")]
    if not all(names):
        return None
    return list(dict.fromkeys(names))


def parse_targets_header(
    value: str | None,  # the TARGETS_HEADER of a request, if any
) -> frozenset[str] | None:
    """The ids the page says it has, or None without a usable header (then every part is sent)."""
    if value is None or len(value) > _DASHBOARD_HEADER_MAX:
        return None
    return frozenset(value.split())


# --- issued keys: the page of byok.issuing.routes.mount_issuing_routes ------------------------

ISSUED_BASE_URL = "/account/api-keys"  # where the issued-key routes live unless configured
ISSUED_TABLE_ID = "byok-issued-keys"  # IssuedKeyTable; row actions and filters swap it (outerHTML)
ISSUED_REVEAL_ID = "byok-issued-reveal"  # slot the create / roll answers fill (IssuedKeyReveal)
ISSUED_DIALOG_ID = "byok-issued-dialog"  # slot a RollKeyDialog is loaded into
CREATE_FORM_ID = "byok-create-key-form"  # CreateKeyForm; a 422 answer replaces it (outerHTML)


def issued_validation_id(
    field: str,  # a CreateKeyForm field: "name", "scopes", "expires", "rate_limit", "environment"
) -> str:
    """Id of the ValidationMessage slot beside one CreateKeyForm field."""
    return f"byok-issued-validation-{slugify(field)}"


def issued_key_url(
    base_url: str,  # where the issued-key routes live, e.g. "/account/api-keys"
    key_id: str,  # the key's id (percent-encoded into one path segment)
    action: str | None = None,  # "roll", "revoke", "delete" or "usage"; None = the key itself
) -> str:
    """A key's URL: f"{base_url}/{key_id}" (DELETE), or f"{base_url}/{key_id}/{action}"."""
    url = f"{safe_url(base_url, 'base_url').rstrip('/')}/{path_segment(key_id)}"
    return url if action is None else f"{url}/{path_segment(action)}"


def issued_view_url(
    url: str,  # a URL of the issued-key routes (already safe)
    status: str,  # the table's status filter value
    page: int,  # the table's page (1-based)
) -> str:
    """`url` with the table's view in its query, so the answer re-renders the same view."""
    return f"{url}?status={quote(str(status), safe='')}&page={int(page)}"
