"""Which provider names an app means: the built-in registry, the providers the app registered
(`register_provider`, process-wide) and those a call's `provider_config` describes. A name that
is none of these but close to one of them is a typo (`"opneai"`): a `ValidationError` (a
ValueError) naming the closest known names. A name far from every known one is a provider of the
app's own and keeps working with generated defaults, as before."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from ..types import ValidationError
from ..validation import validate_provider
from .builtin import BUILTIN_PROVIDERS
from .info import ProviderInfo

__all__ = [
    "check_offered",
    "check_provider",
    "refuse_typo",
    "register_provider",
    "registered_provider",
]

_REGISTERED: dict[str, ProviderInfo] = {}  # providers the app registered, by name
_CUTOFF = 0.75  # difflib similarity from which an unknown name is taken for a typo


def register_provider(
    provider: str,  # the provider's name, e.g. "openai-eu"
    **fields: Any,  # ProviderInfo fields, as in a provider_config entry (name, placeholder, ...)
) -> ProviderInfo:
    """Make a provider of the app's own known process-wide (call it before the guards that name
    it are decorated); its fields become its defaults wherever byok shows it."""
    from .resolve import resolve_provider  # resolve reads this registry

    name = validate_provider(provider)
    if name in BUILTIN_PROVIDERS:
        raise ValidationError(
            f"{name!r} is built in: change how it is shown with provider_config instead"
        )
    _REGISTERED.pop(name, None)
    info = resolve_provider(name, {name: fields} if fields else None)
    _REGISTERED[name] = info
    return info


def registered_provider(
    provider: str,  # a provider name
) -> ProviderInfo | None:
    """The info an app registered for this provider, or None."""
    return _REGISTERED.get(provider)


def check_provider(
    provider: Any,  # the provider name as given
    provider_config: Mapping[str, Any] | None = None,  # the call's overrides/extensions
    *,
    where: str,  # what was called, for the message, e.g. "require_api_key"
) -> str:
    """The provider name, or ValidationError when it is malformed or a likely typo of a known one."""
    name = validate_provider(provider)
    refuse_typo(name, provider_config, where=where)
    return name


def refuse_typo(
    provider: Any,  # the provider name as given (anything that is not a str is left alone)
    provider_config: Mapping[str, Any] | None = None,  # the call's overrides/extensions
    *,
    where: str,  # what was called, for the message, e.g. "KeyInputForm"
) -> None:
    """ValidationError (a ValueError) when `provider` is unknown but close to known names."""
    if not isinstance(provider, str):
        return
    configured = provider_config if isinstance(provider_config, Mapping) else {}
    if provider in BUILTIN_PROVIDERS or provider in _REGISTERED or provider in configured:
        return
    known = [*BUILTIN_PROVIDERS, *_REGISTERED, *(k for k in configured if isinstance(k, str))]
    close = difflib.get_close_matches(provider, known, n=3, cutoff=_CUTOFF)
    if close:
        shown = repr(provider[:64])
        raise ValidationError(
            f"{where}: unknown provider {shown}; did you mean "
            f"{' or '.join(map(repr, close))}? (a provider of your own: "
            f"register_provider({shown}) first, or describe it in provider_config)"
        )


def check_offered(
    providers: Iterable[Any],  # the providers a set of routes offers
    provider_config: Mapping[str, Any] | None,  # the routes' overrides/extensions
    *,
    where: str,  # what was called, for the message, e.g. "mount_key_routes"
) -> list[str]:
    """Each name checked; those of the app's own that `provider_config` describes are registered
    (so `set_key`, which has no provider_config, accepts them too)."""
    names = [check_provider(p, provider_config, where=where) for p in providers]
    for name in names:
        if name not in BUILTIN_PROVIDERS and provider_config and name in provider_config:
            register_provider(name)
    return names
