"""The built-in provider registry: display name, placeholder, key format and where to get a key.

Apps override or extend it per call with `provider_config` ({provider: {field: value}}); a
partial entry keeps the defaults for the fields it leaves out (the reference raised KeyError).
Key patterns are deliberately lenient: they catch a key pasted into the wrong provider's field,
not every change a provider makes to its format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from functools import lru_cache
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

__all__ = [
    "BUILTIN_PROVIDERS",
    "ProviderInfo",
    "default_provider_info",
    "key_matches",
    "resolve_provider",
    "safe_url",
]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")  # a URL's scheme
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")  # control chars, whitespace, backslash
_URL_SAFE = "/:?#[]@!$&'()*+,;=%~-._"  # RFC 3986 reserved + unreserved + '%', kept as typed


def safe_url(
    url: str,  # a URL given by the app (form action, docs link, ...)
    param: str = "url",  # parameter name, for the error message
) -> str:
    """The URL if http(s) or relative, unsafe characters percent-encoded; else ValueError."""
    if not isinstance(url, str) or not url:
        raise ValueError(f"{param} must be a non-empty http(s) or relative URL")
    if _URL_FORBIDDEN.search(url):
        raise ValueError(f"{param} must not contain whitespace, control characters or '\\'")
    m = _SCHEME.match(url)
    if m and m.group(1).lower() not in ("http", "https"):
        raise ValueError(f"{param} must be an http(s) or relative URL, not {m.group(1)!r}:")
    return quote(url, safe=_URL_SAFE)


@dataclass(frozen=True)
class ProviderInfo:
    """How a provider is shown and how its keys look."""

    id: str  # registry name, e.g. "openai"
    name: str  # display name, e.g. "OpenAI"
    placeholder: str  # key input placeholder
    key_prefix: str | None = None  # how keys start, e.g. "sk-"
    key_hint: str | None = None  # format hint shown under the field
    pattern: str | None = None  # regex a well-formed key fully matches (lenient)
    docs_url: str | None = None  # where a user creates a key (http(s) or relative)

    def as_dict(self) -> dict[str, Any]:
        """A plain dict (reference keys: name, key_prefix, docs_url, placeholder; and ours)."""
        return asdict(self)

    def matches(
        self,
        key: str,  # a key as typed
    ) -> bool | None:
        """True/False when the key does/does not fit the pattern; None without a pattern."""
        if self.pattern is None:
            return None
        return _compiled(self.pattern).fullmatch(key.strip()) is not None


_FIELDS = tuple(f.name for f in fields(ProviderInfo) if f.name != "id")  # configurable fields


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _entry(
    ids: tuple[str, ...],
    name: str,
    placeholder: str,
    prefix: str | None,
    pattern: str,
    docs_url: str,
) -> list[ProviderInfo]:
    hint = f'Starts with "{prefix}"' if prefix else None
    return [ProviderInfo(i, name, placeholder, prefix, hint, pattern, docs_url) for i in ids]


_BUILTIN = [
    *_entry(
        ("openai",),
        "OpenAI",
        "sk-proj-...",
        "sk-",
        r"sk-(?!ant-|or-)[A-Za-z0-9_\-]{20,}",
        "https://platform.openai.com/api-keys",
    ),
    *_entry(
        ("anthropic",),
        "Anthropic",
        "sk-ant-...",
        "sk-ant-",
        r"sk-ant-[A-Za-z0-9_\-]{20,}",
        "https://console.anthropic.com/settings/keys",
    ),
    *_entry(
        ("google", "gemini"),
        "Google Gemini",
        "AIza...",
        "AIza",
        r"AIza[A-Za-z0-9_\-]{30,}",
        "https://aistudio.google.com/app/apikey",
    ),
    *_entry(
        ("mistral",),
        "Mistral AI",
        "Your Mistral API key",
        None,
        r"[A-Za-z0-9]{20,}",
        "https://console.mistral.ai/api-keys",
    ),
    *_entry(
        ("groq",),
        "Groq",
        "gsk_...",
        "gsk_",
        r"gsk_[A-Za-z0-9]{20,}",
        "https://console.groq.com/keys",
    ),
    *_entry(
        ("cohere",),
        "Cohere",
        "Your Cohere API key",
        None,
        r"[A-Za-z0-9]{20,}",
        "https://dashboard.cohere.com/api-keys",
    ),
    *_entry(
        ("openrouter",),
        "OpenRouter",
        "sk-or-v1-...",
        "sk-or-",
        r"sk-or-[A-Za-z0-9_\-]{20,}",
        "https://openrouter.ai/keys",
    ),
    *_entry(
        ("xai",),
        "xAI",
        "xai-...",
        "xai-",
        r"xai-[A-Za-z0-9_\-]{20,}",
        "https://console.x.ai",
    ),
    *_entry(
        ("deepseek",),
        "DeepSeek",
        "sk-...",
        "sk-",
        r"sk-(?!ant-|or-)[A-Za-z0-9_\-]{20,}",
        "https://platform.deepseek.com/api_keys",
    ),
    *_entry(
        ("together",),
        "Together AI",
        "Your Together API key",
        None,
        r"[A-Za-z0-9_\-]{32,}",
        "https://api.together.ai/settings/api-keys",
    ),
    *_entry(
        ("perplexity",),
        "Perplexity",
        "pplx-...",
        "pplx-",
        r"pplx-[A-Za-z0-9_\-]{20,}",
        "https://www.perplexity.ai/settings/api",
    ),
    *_entry(
        ("fireworks",),
        "Fireworks AI",
        "fw_...",
        "fw_",
        r"fw_[A-Za-z0-9_\-]{16,}",
        "https://fireworks.ai/account/api-keys",
    ),
    *_entry(
        ("huggingface",),
        "Hugging Face",
        "hf_...",
        "hf_",
        r"hf_[A-Za-z0-9]{20,}",
        "https://huggingface.co/settings/tokens",
    ),
    *_entry(
        ("replicate",),
        "Replicate",
        "r8_...",
        "r8_",
        r"r8_[A-Za-z0-9]{20,}",
        "https://replicate.com/account/api-tokens",
    ),
]

BUILTIN_PROVIDERS: Mapping[str, ProviderInfo] = MappingProxyType({p.id: p for p in _BUILTIN})
"""The built-in provider registry, read-only: provider id -> ProviderInfo."""


def default_provider_info(
    provider: str,  # a provider name not in the registry
) -> ProviderInfo:
    """Generated defaults: a title-cased name and a generic placeholder (reference behaviour)."""
    name = str(provider).replace("_", " ").replace("-", " ").strip().title() or str(provider)
    return ProviderInfo(str(provider), name, f"Enter your {name} API key")


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
        if v is not None and not isinstance(v, str):
            raise ValueError(f"provider_config field {k!r} must be a string or None")
        changes[k] = v
    if changes.get("docs_url") is not None:
        changes["docs_url"] = safe_url(changes["docs_url"], "docs_url")
    if changes.get("pattern") is not None:
        try:
            _compiled(changes["pattern"])
        except re.error as e:
            raise ValueError(f"provider_config pattern is not a valid regex: {e}") from None
    return replace(base, **changes) if changes else base


def resolve_provider(
    provider: str,  # provider name, e.g. "openai"
    provider_config: Mapping[str, Any] | None = None,  # overrides/extensions per provider
) -> ProviderInfo:
    """The provider's info: registry entry (or generated defaults) with the app's overrides."""
    base = BUILTIN_PROVIDERS.get(provider) or default_provider_info(provider)
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
