"""The built-in provider registry: each provider's display name, placeholder, key format, where
to get a key, the API's base URL, the zero-token `KeyCheck` (with its source), and which
custom-endpoint fields a user may give. Key patterns are deliberately lenient: they catch a key
pasted into the wrong provider's field, not every change a provider makes to its format."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ..types import ENDPOINT_FIELDS
from .info import KeyCheck, ProviderInfo

__all__ = ["BUILTIN_PROVIDERS"]


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
