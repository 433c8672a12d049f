"""A provider's info for one call: the registry's entry (or generated defaults) with the app's
`provider_config` overrides, each field checked; a partial entry keeps the defaults for the fields
it leaves out (the reference raised KeyError)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any

from ..types import ENDPOINT_FIELDS
from .builtin import BUILTIN_PROVIDERS
from .info import KeyCheck, ProviderInfo, safe_url
from .names import registered_provider

__all__ = ["default_provider_info", "key_matches", "resolve_provider"]

_FIELDS = tuple(f.name for f in fields(ProviderInfo) if f.name != "id")  # configurable fields


def default_provider_info(
    provider: str,  # a provider name not in the registry
) -> ProviderInfo:
    """Generated defaults: a title-cased name and a generic placeholder (reference behaviour)."""
    name = str(provider).replace("_", " ").replace("-", " ").strip().title() or str(provider)
    return ProviderInfo(str(provider), name, f"Enter your {name} API key")


_TYPED = {  # provider_config fields that are not plain strings: (accepted type, what it is)
    "check": (KeyCheck, "a KeyCheck or None"),
    "endpoint": (tuple, "a tuple of endpoint field names"),
    "endpoint_required": (bool, "True or False"),
}


def _field_value(k: str, v: Any) -> Any:
    """One provider_config value, checked: strings (URLs, regexes) or the typed fields."""
    kind, what = _TYPED.get(k, (str, "a string or None"))
    if v is None and k not in ("endpoint", "endpoint_required"):
        return None
    if isinstance(v, list) and kind is tuple:
        v = tuple(v)
    if not isinstance(v, kind):
        raise ValueError(f"provider_config field {k!r} must be {what}")
    if k == "endpoint" and not set(v) <= set(ENDPOINT_FIELDS):
        raise ValueError(f"provider_config endpoint fields must be among {ENDPOINT_FIELDS}")
    if k == "docs_url":
        return safe_url(v, "docs_url")
    if k == "api_base" and not v.lower().startswith(("http://", "https://")):
        raise ValueError("provider_config api_base must be an absolute http(s) URL")
    if k == "pattern":
        try:
            re.compile(v)
        except re.error as e:
            raise ValueError(f"provider_config pattern is not a valid regex: {e}") from None
    return v


def _override(base: ProviderInfo, entry: Any, provider: str) -> ProviderInfo:
    """`base` with the fields of a provider_config entry (a Mapping or a ProviderInfo)."""
    if isinstance(entry, ProviderInfo):
        return entry
    if not isinstance(entry, Mapping):
        raise ValueError(f"provider_config[{provider[:40]!r}] must be a dict or ProviderInfo")
    unknown = [k for k in entry if k not in _FIELDS]
    if unknown:
        raise ValueError(
            f"unknown provider_config field(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(_FIELDS)}"
        )
    changes: dict[str, Any] = {}
    for k, v in entry.items():
        if v is None and k in ("name", "placeholder"):
            continue  # keep the default rather than showing nothing
        changes[k] = _field_value(k, v)
    return replace(base, **changes) if changes else base


def resolve_provider(
    provider: str,  # provider name, e.g. "openai"
    provider_config: Mapping[str, Any] | None = None,  # overrides/extensions per provider
) -> ProviderInfo:
    """The provider's info: registry entry (or generated defaults) with the app's overrides."""
    base = (
        BUILTIN_PROVIDERS.get(provider)
        or registered_provider(provider)
        or default_provider_info(provider)
    )
    if provider_config:
        if not isinstance(provider_config, Mapping):
            raise ValueError("provider_config must be a dict of provider name -> settings")
        entry = provider_config.get(provider)
        if entry is not None:
            return _override(base, entry, provider)
    return base


def key_matches(
    provider: str,  # provider name
    key: str,  # the key as typed
    provider_config: Mapping[str, Any] | None = None,  # overrides/extensions per provider
) -> bool | None:
    """Whether the key looks like one of this provider's; None when its format is unknown."""
    return resolve_provider(provider, provider_config).matches(key)
