"""Custom endpoints: where a stored key is used when not at its provider's default API.

An `Endpoint` (a base URL, and for Azure a deployment and an API version) is stored beside the
sealed key and bound to it: its canonical bytes are part of the key's associated data, so an
endpoint changed in the database or the cookie makes the key fail to open instead of sending it
somewhere else. It is shown to the user, never secret. Validation here is syntax only; whether
byok may connect to the address is the SSRF guard's decision at request time (`byok.outbound`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .types import ENDPOINT_FIELDS, Endpoint, ValidationError

__all__ = ["ENDPOINT_FIELDS", "MAX_BASE_URL_LENGTH", "Endpoint", "validate_endpoint"]

MAX_BASE_URL_LENGTH = 2048  # longest base URL accepted
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")  # whitespace, control characters, backslash
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # an Azure deployment name
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")  # e.g. 2024-10-21, 2025-04-01-preview
_LABELS = {
    "base_url": "Base URL",
    "deployment": "Deployment",
    "api_version": "API version",
}


def field_label(
    name: str,  # one of ENDPOINT_FIELDS
) -> str:
    """The field's label in forms ("Base URL", "Deployment", "API version")."""
    return _LABELS[name]


def _base_url(value: str) -> str:
    """A base URL: absolute http(s), a host, no credentials, query or fragment."""
    if len(value) > MAX_BASE_URL_LENGTH:
        raise ValidationError(
            f"The base URL is too long (at most {MAX_BASE_URL_LENGTH} characters)"
        )
    if _URL_FORBIDDEN.search(value):
        raise ValidationError("The base URL may not contain spaces, control characters or '\\'")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        raise ValidationError("The base URL is not a valid URL (check the host and port)") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValidationError("The base URL must start with https:// (or http://)")
    if "@" in parts.netloc:
        raise ValidationError("The base URL may not contain a user name or password")
    if not parts.hostname:
        raise ValidationError("The base URL needs a host, e.g. https://api.example.com/v1")
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise ValidationError("The base URL may not have a query (?…) or fragment (#…)")
    return value.rstrip("/")


def validate_endpoint(
    values: Mapping[str, Any] | Endpoint | None,  # {field: text} from a form, or an Endpoint
    allowed: tuple[str, ...] = ENDPOINT_FIELDS,  # fields this provider accepts (the registry)
    required: bool = False,  # whether this provider needs a base URL
) -> Endpoint | None:
    """A validated Endpoint (blank fields dropped), None when empty; else ValidationError."""
    if values is None and not required:
        return None
    if isinstance(values, Endpoint):
        values = values.to_dict()
    values = dict(values or {})
    unknown = [k for k in values if k not in ENDPOINT_FIELDS]
    if unknown:
        raise ValidationError(f"unknown endpoint field(s): {', '.join(sorted(unknown))}")
    clean: dict[str, str] = {}
    for name, raw in values.items():
        if raw is None:
            continue
        if not isinstance(raw, str):
            raise ValidationError(f"{_LABELS[name]} must be text")
        text = raw.strip()
        if not text:
            continue
        if name not in allowed:
            raise ValidationError(f"This provider does not take a custom {_LABELS[name].lower()}")
        if name == "base_url":
            clean[name] = _base_url(text)
        elif not (_NAME if name == "deployment" else _VERSION).fullmatch(text):
            raise ValidationError(
                f"{_LABELS[name]} may only use letters, digits, '.', '-' and '_' "
                f"(at most {64 if name == 'deployment' else 32} characters)"
            )
        else:
            clean[name] = text
    if required and "base_url" not in clean:
        raise ValidationError("This provider needs a base URL (the address of its API)")
    return Endpoint(**clean) if clean else None
