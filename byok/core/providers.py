"""The built-in provider registry: display name, placeholder, key format, where to get a key, the
API's base URL, the zero-token request that checks a key (`KeyCheck`, with its source), and
which custom-endpoint fields a user may give.

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
from urllib.parse import quote, urlencode

from .types import ENDPOINT_FIELDS, Endpoint

__all__ = [
    "BUILTIN_PROVIDERS",
    "KeyCheck",
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
class KeyCheck:
    """The one cheap request that tells whether a key works, spending no tokens."""

    path: str  # appended to the base URL, e.g. "/models"
    source: str  # the provider's documentation of this request
    header: str = "Authorization"  # header carrying the key (never the URL)
    prefix: str = "Bearer "  # text before the key in that header
    query: tuple[tuple[str, str], ...] = ()  # fixed query parameters, e.g. (("limit", "1"),)
    headers: tuple[tuple[str, str], ...] = ()  # fixed extra headers, e.g. anthropic-version
    expect: str | None = "data"  # JSON member a valid answer has; "[]" = a JSON list; None = any
    invalid_marker: str | None = None  # text in a 400 answer meaning "bad key" (Gemini)
    api_version: str | None = None  # default api-version query parameter (Azure; per key)

    def request(
        self,
        base_url: str,  # the API's base URL (the key's endpoint or the registry's)
        api_key: str,  # the key, placed in `header` only
        endpoint: Endpoint | None = None,  # the key's endpoint (its api_version, for Azure)
    ) -> tuple[str, dict[str, str]]:
        """(URL, headers) of the check; the key appears in the headers only."""
        query = list(self.query)
        version = self.api_version and (
            (endpoint.api_version if endpoint else None) or self.api_version
        )
        if version:  # only checks that take an api-version (Azure) send one
            query.append(("api-version", version))
        url = base_url.rstrip("/") + self.path + (f"?{urlencode(query)}" if query else "")
        headers = {self.header: f"{self.prefix}{api_key}", **dict(self.headers)}
        return url, {"Accept": "application/json", "User-Agent": "byok-key-check", **headers}

    def describe(self) -> str:
        """The request in one line, e.g. 'GET /v1/models?limit=1 (key in x-api-key)'."""
        query = list(self.query) + ([("api-version", self.api_version)] if self.api_version else [])
        shown = self.path + (f"?{urlencode(query)}" if query else "")
        how = "Bearer token" if self.prefix.strip() == "Bearer" else f"key in {self.header}"
        extra = "".join(f", {k}: {v}" for k, v in self.headers)
        return f"GET {shown} ({how}{extra})"


@dataclass(frozen=True)
class ProviderInfo:
    """How a provider is shown, how its keys look, and how a key is checked."""

    id: str  # registry name, e.g. "openai"
    name: str  # display name, e.g. "OpenAI"
    placeholder: str  # key input placeholder
    key_prefix: str | None = None  # how keys start, e.g. "sk-"
    key_hint: str | None = None  # format hint shown under the field
    pattern: str | None = None  # regex a well-formed key fully matches (lenient)
    docs_url: str | None = None  # where a user creates a key (http(s) or relative)
    api_base: str | None = None  # the API's default base URL; None = the user must give one
    check: KeyCheck | None = None  # the zero-token key check; None = byok cannot test keys
    endpoint: tuple[str, ...] = ()  # custom-endpoint fields a user may set (ENDPOINT_FIELDS)
    endpoint_required: bool = False  # whether a user must give a base URL (Azure, compatible)

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
    pattern: str | None,
    docs_url: str | None,
    api_base: str | None,
    check: KeyCheck,
    endpoint: tuple[str, ...] = (),
    endpoint_required: bool = False,
) -> list[ProviderInfo]:
    hint = f'Starts with "{prefix}"' if prefix else None
    return [
        ProviderInfo(
            i,
            name,
            placeholder,
            prefix,
            hint,
            pattern,
            docs_url,
            api_base,
            check,
            endpoint,
            endpoint_required,
        )
        for i in ids
    ]


_BASE_URL = ("base_url",)  # a user may point the key at a proxy or a regional API
_MODELS = "/models"  # the OpenAI-style model list, the usual zero-token check

_BUILTIN = [
    *_entry(
        ("openai",),
        "OpenAI",
        "sk-proj-...",
        "sk-",
        r"sk-(?!ant-|or-)[A-Za-z0-9_\-]{20,}",
        "https://platform.openai.com/api-keys",
        "https://api.openai.com/v1",
        KeyCheck(_MODELS, "https://platform.openai.com/docs/api-reference/models/list"),
        _BASE_URL,
    ),
    *_entry(
        ("azure",),
        "Azure OpenAI",
        "Your Azure OpenAI key",
        None,
        r"[A-Za-z0-9]{32,}",
        "https://portal.azure.com/#view/Microsoft_Azure_ProjectOxford/CognitiveServicesHub",
        None,
        KeyCheck(
            "/openai/models",
            "https://learn.microsoft.com/en-us/rest/api/azureopenai/models/list",
            header="api-key",
            prefix="",
            api_version="2024-10-21",
        ),
        ENDPOINT_FIELDS,
        True,
    ),
    *_entry(
        ("openai-compatible",),
        "OpenAI-compatible",
        "The server's API key",
        None,
        r"[!-~]+",  # any printable key: local servers often accept anything
        None,
        None,
        KeyCheck(_MODELS, "https://platform.openai.com/docs/api-reference/models/list"),
        _BASE_URL,
        True,
    ),
    *_entry(
        ("anthropic",),
        "Anthropic",
        "sk-ant-...",
        "sk-ant-",
        r"sk-ant-[A-Za-z0-9_\-]{20,}",
        "https://console.anthropic.com/settings/keys",
        "https://api.anthropic.com",
        KeyCheck(
            "/v1/models",
            "https://docs.anthropic.com/en/api/models-list",
            header="x-api-key",
            prefix="",
            query=(("limit", "1"),),
            headers=(("anthropic-version", "2023-06-01"),),
        ),
        _BASE_URL,
    ),
    *_entry(
        ("google", "gemini"),
        "Google Gemini",
        "AIza...",
        "AIza",
        r"AIza[A-Za-z0-9_\-]{30,}",
        "https://aistudio.google.com/app/apikey",
        "https://generativelanguage.googleapis.com",
        KeyCheck(
            "/v1beta/models",
            "https://ai.google.dev/api/models#method:-models.list",
            header="x-goog-api-key",
            prefix="",
            query=(("pageSize", "1"),),
            expect="models",
            invalid_marker="API_KEY_INVALID",
        ),
    ),
    *_entry(
        ("mistral",),
        "Mistral AI",
        "Your Mistral API key",
        None,
        r"[A-Za-z0-9]{20,}",
        "https://console.mistral.ai/api-keys",
        "https://api.mistral.ai/v1",
        KeyCheck(
            _MODELS, "https://docs.mistral.ai/api/#tag/models/operation/list_models_v1_models_get"
        ),
    ),
    *_entry(
        ("groq",),
        "Groq",
        "gsk_...",
        "gsk_",
        r"gsk_[A-Za-z0-9]{20,}",
        "https://console.groq.com/keys",
        "https://api.groq.com/openai/v1",
        KeyCheck(_MODELS, "https://console.groq.com/docs/api-reference#models-list"),
    ),
    *_entry(
        ("cohere",),
        "Cohere",
        "Your Cohere API key",
        None,
        r"[A-Za-z0-9]{20,}",
        "https://dashboard.cohere.com/api-keys",
        "https://api.cohere.com",
        KeyCheck(
            "/v1/models",
            "https://docs.cohere.com/reference/list-models",
            query=(("page_size", "1"),),
            expect="models",
        ),
    ),
    *_entry(
        ("openrouter",),
        "OpenRouter",
        "sk-or-v1-...",
        "sk-or-",
        r"sk-or-[A-Za-z0-9_\-]{20,}",
        "https://openrouter.ai/keys",
        "https://openrouter.ai/api/v1",
        # its model list answers without a key; this one describes the key itself
        KeyCheck("/key", "https://openrouter.ai/docs/api-reference/api-keys/get-current-key"),
    ),
    *_entry(
        ("xai",),
        "xAI",
        "xai-...",
        "xai-",
        r"xai-[A-Za-z0-9_\-]{20,}",
        "https://console.x.ai",
        "https://api.x.ai/v1",
        KeyCheck(_MODELS, "https://docs.x.ai/docs/api-reference#list-models"),
    ),
    *_entry(
        ("deepseek",),
        "DeepSeek",
        "sk-...",
        "sk-",
        r"sk-(?!ant-|or-)[A-Za-z0-9_\-]{20,}",
        "https://platform.deepseek.com/api_keys",
        "https://api.deepseek.com",
        KeyCheck(_MODELS, "https://api-docs.deepseek.com/api/list-models"),
    ),
    *_entry(
        ("together",),
        "Together AI",
        "Your Together API key",
        None,
        r"[A-Za-z0-9_\-]{32,}",
        "https://api.together.ai/settings/api-keys",
        "https://api.together.xyz/v1",
        KeyCheck(_MODELS, "https://docs.together.ai/reference/models-1", expect="[]"),
    ),
    *_entry(
        ("perplexity",),
        "Perplexity",
        "pplx-...",
        "pplx-",
        r"pplx-[A-Za-z0-9_\-]{20,}",
        "https://www.perplexity.ai/settings/api",
        "https://api.perplexity.ai",
        KeyCheck(
            "/router/v1/models",
            "https://docs.perplexity.ai/api-reference/gateway-models-get",
            expect=None,
        ),
    ),
    *_entry(
        ("fireworks",),
        "Fireworks AI",
        "fw_...",
        "fw_",
        r"fw_[A-Za-z0-9_\-]{16,}",
        "https://fireworks.ai/account/api-keys",
        "https://api.fireworks.ai/inference/v1",
        KeyCheck(_MODELS, "https://docs.fireworks.ai/tools-sdks/openai-compatibility"),
    ),
    *_entry(
        ("huggingface",),
        "Hugging Face",
        "hf_...",
        "hf_",
        r"hf_[A-Za-z0-9]{20,}",
        "https://huggingface.co/settings/tokens",
        "https://huggingface.co",
        KeyCheck(
            "/api/whoami-v2",
            "https://huggingface.co/docs/hub/api#get-apiwhoami-v2",
            expect="name",
        ),
    ),
    *_entry(
        ("replicate",),
        "Replicate",
        "r8_...",
        "r8_",
        r"r8_[A-Za-z0-9]{20,}",
        "https://replicate.com/account/api-tokens",
        "https://api.replicate.com/v1",
        KeyCheck(
            "/account", "https://replicate.com/docs/reference/http#accounts.get", expect="username"
        ),
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
            _compiled(v)
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
