"""What the key forms send, parsed in one place: `KeyInputForm` / `MultiProviderKeyForm` fields
(the key, its label, the custom endpoint, "make default", "add another") into a `KeySubmission`
that saves itself through `BYOKManager.set_key`, or a ValidationError saying what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from byok.components.fields import INTENT_FIELD, LABEL_FIELD, MAKE_DEFAULT_FIELD
from byok.core.endpoints import ENDPOINT_FIELDS, Endpoint, validate_endpoint
from byok.core.providers import ProviderInfo
from byok.core.storage import BYOKManager, validate_api_key, validate_label
from byok.core.types import SavedKey, ValidationError
from byok.utils.helpers import article

__all__ = ["KEY_FIELD", "KeySubmission", "label_from", "parse_key_form"]

KEY_FIELD = "api_key"  # form field carrying the key (the components' field name)


@dataclass(frozen=True)
class KeySubmission:
    """A key form, validated: what `set_key` is given (no secret beyond `key` itself)."""

    key: str  # the key, validated (length, characters, the provider's format)
    label: str | None  # which of the provider's keys; None = the default one
    endpoint: Endpoint | None  # the custom endpoint, checked against the registry
    make_default: bool  # make this key the provider's default
    adding: bool  # "Add another key": must not replace a key stored under its label

    def save(
        self,
        manager: BYOKManager,  # where the key goes
        request: Any,  # the request (its session for session storage)
        provider: str,  # whose key
        user_id: Any,  # its owner
    ) -> SavedKey:
        """Store it (blocking: one read and one write on a database, one more read to refuse
        replacing a key when adding)."""
        if self.adding and manager.get_key_info(request, provider, user_id, label=self.label):
            raise ValidationError(f"A key labelled {self.label!r} is already stored")
        return manager.set_key(
            request,
            provider,
            self.key,
            user_id,
            label=self.label,
            endpoint=self.endpoint,
            make_default=self.make_default,
        )


def label_from(
    data: Mapping[str, Any] | None,  # the parsed body
    query: Mapping[str, Any],  # the query parameters
) -> str | None:
    """The `label` of the body or the query (None when neither names one), validated."""
    raw = (data or {}).get(LABEL_FIELD)
    if raw is None:
        raw = query.get(LABEL_FIELD)
    if raw is not None and not isinstance(raw, str):
        raise ValidationError("Send one label, as text")
    return validate_label(raw)


def parse_key_form(
    data: Mapping[str, Any],  # the parsed body (form fields or JSON)
    query: Mapping[str, Any],  # the query parameters (a key there is refused)
    info: ProviderInfo,  # the provider's registry entry (pattern, endpoint fields)
    *,
    max_length: int,  # longest key accepted (the manager's config)
    check_format: bool,  # refuse keys that do not fit the provider's known pattern
    labels: bool,  # the app keeps several labelled keys per provider
    custom_endpoints: bool,  # users may set the optional endpoint fields too
) -> KeySubmission:
    """The form as a KeySubmission, or ValidationError (the message is for the user)."""
    if KEY_FIELD in query:
        raise ValidationError("API keys must be sent in the form body, never in the URL")
    raw = data.get(KEY_FIELD)
    if raw is None:
        raise ValidationError("Enter an API key")
    if not isinstance(raw, str):
        raise ValidationError("Send exactly one API key as text")
    key = validate_api_key(raw, max_length)
    if check_format and info.matches(key) is False:
        hint = f" ({info.key_hint})" if info.key_hint else ""
        raise ValidationError(
            f"This does not look like {article(info.name)} {info.name} API key{hint}"
        )
    label = label_from(data, query)
    if label and not labels:
        raise ValidationError("This app keeps one key per provider (no labels)")
    values = {f: data.get(f) for f in ENDPOINT_FIELDS if data.get(f) is not None}
    if any(not isinstance(v, str) for v in values.values()):
        raise ValidationError("Send each endpoint field once, as text")
    allowed = info.endpoint if (info.endpoint_required or custom_endpoints) else ()
    endpoint = validate_endpoint(values, allowed, info.endpoint_required)
    adding = data.get(INTENT_FIELD) == "add"
    if adding and not label:
        raise ValidationError("Give the new key a label (e.g. work, personal)")
    make_default = labels and data.get(MAKE_DEFAULT_FIELD) in ("1", "on", "true", True)
    return KeySubmission(key, label if labels else None, endpoint, make_default, adding)
