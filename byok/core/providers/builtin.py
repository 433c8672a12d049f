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
    *ids: str,  # the provider's registry names (an alias shares the row)
    name: str,  # display name
    placeholder: str,  # the key field's placeholder
    check: KeyCheck,  # the zero-token key check
    prefix: str | None = None,  # how keys start (also the format hint)
    pattern: str | None = None,  # regex a well-formed key fully matches
    docs_url: str | None = None,  # where a user creates a key
    api_base: str | None = None,  # the API's default base URL; None: the user gives one
    endpoint: tuple[str, ...] = (),  # custom-endpoint fields a user may set
    endpoint_required: bool = False,  # a user must give a base URL
) -> list[ProviderInfo]:
    """One registry row: a ProviderInfo per id."""
    hint = f'Starts with "{prefix}"' if prefix else None
    return [
        ProviderInfo(
            id=i,
            name=name,
            placeholder=placeholder,
            key_prefix=prefix,
            key_hint=hint,
            pattern=pattern,
            docs_url=docs_url,
            api_base=api_base,
            check=check,
            endpoint=endpoint,
            endpoint_required=endpoint_required,
        )
        for i in ids
    ]


_BASE_URL = ("base_url",)  # a user may point the key at a proxy or a regional API
_MODELS = "/models"  # the OpenAI-style model list, the usual zero-token check

_BUILTIN = [
    *_entry(
        "openai",
        name="OpenAI",
        placeholder="sk-proj-...",
        prefix="sk-",
        pattern=r"sk-(?!ant-|or-)[A-Za-z0-9_\-]{20,}",
        docs_url="https://platform.openai.com/api-keys",
        api_base="https://api.openai.com/v1",
        check=KeyCheck(_MODELS, "https://platform.openai.com/docs/api-reference/models/list"),
        endpoint=_BASE_URL,
    ),
    *_entry(
        "azure",
        name="Azure OpenAI",
        placeholder="Your Azure OpenAI key",
        pattern=r"[A-Za-z0-9]{32,}",
        docs_url="https://portal.azure.com/#view/Microsoft_Azure_ProjectOxford/CognitiveServicesHub",
        check=KeyCheck(
            "/openai/models",
            "https://learn.microsoft.com/en-us/rest/api/azureopenai/models/list",
            header="api-key",
            prefix="",
            api_version="2024-10-21",
        ),
        endpoint=ENDPOINT_FIELDS,
        endpoint_required=True,
    ),
    *_entry(
        "openai-compatible",
        name="OpenAI-compatible",
        placeholder="The server's API key",
        # any printable key: local servers often accept anything
        pattern=r"[!-~]+",
        check=KeyCheck(_MODELS, "https://platform.openai.com/docs/api-reference/models/list"),
        endpoint=_BASE_URL,
        endpoint_required=True,
    ),
    *_entry(
        "anthropic",
        name="Anthropic",
        placeholder="sk-ant-...",
        prefix="sk-ant-",
        pattern=r"sk-ant-[A-Za-z0-9_\-]{20,}",
        docs_url="https://console.anthropic.com/settings/keys",
        api_base="https://api.anthropic.com",
        check=KeyCheck(
            "/v1/models",
            "https://docs.anthropic.com/en/api/models-list",
            header="x-api-key",
            prefix="",
            query=(("limit", "1"),),
            headers=(("anthropic-version", "2023-06-01"),),
        ),
        endpoint=_BASE_URL,
    ),
    *_entry(
        "google",
        "gemini",
        name="Google Gemini",
        placeholder="AIza...",
        prefix="AIza",
        pattern=r"AIza[A-Za-z0-9_\-]{30,}",
        docs_url="https://aistudio.google.com/app/apikey",
        api_base="https://generativelanguage.googleapis.com",
        check=KeyCheck(
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
        "mistral",
        name="Mistral AI",
        placeholder="Your Mistral API key",
        pattern=r"[A-Za-z0-9]{20,}",
        docs_url="https://console.mistral.ai/api-keys",
        api_base="https://api.mistral.ai/v1",
        check=KeyCheck(
            _MODELS, "https://docs.mistral.ai/api/#tag/models/operation/list_models_v1_models_get"
        ),
    ),
    *_entry(
        "groq",
        name="Groq",
        placeholder="gsk_...",
        prefix="gsk_",
        pattern=r"gsk_[A-Za-z0-9]{20,}",
        docs_url="https://console.groq.com/keys",
        api_base="https://api.groq.com/openai/v1",
        check=KeyCheck(_MODELS, "https://console.groq.com/docs/api-reference#models-list"),
    ),
    *_entry(
        "cohere",
        name="Cohere",
        placeholder="Your Cohere API key",
        pattern=r"[A-Za-z0-9]{20,}",
        docs_url="https://dashboard.cohere.com/api-keys",
        api_base="https://api.cohere.com",
        check=KeyCheck(
            "/v1/models",
            "https://docs.cohere.com/reference/list-models",
            query=(("page_size", "1"),),
            expect="models",
        ),
    ),
    *_entry(
        "openrouter",
        name="OpenRouter",
        placeholder="sk-or-v1-...",
        prefix="sk-or-",
        pattern=r"sk-or-[A-Za-z0-9_\-]{20,}",
        docs_url="https://openrouter.ai/keys",
        api_base="https://openrouter.ai/api/v1",
        # its model list answers without a key; this one describes the key itself
        check=KeyCheck("/key", "https://openrouter.ai/docs/api-reference/api-keys/get-current-key"),
    ),
    *_entry(
        "xai",
        name="xAI",
        placeholder="xai-...",
        prefix="xai-",
        pattern=r"xai-[A-Za-z0-9_\-]{20,}",
        docs_url="https://console.x.ai",
        api_base="https://api.x.ai/v1",
        check=KeyCheck(_MODELS, "https://docs.x.ai/docs/api-reference#list-models"),
    ),
    *_entry(
        "deepseek",
        name="DeepSeek",
        placeholder="sk-...",
        prefix="sk-",
        pattern=r"sk-(?!ant-|or-)[A-Za-z0-9_\-]{20,}",
        docs_url="https://platform.deepseek.com/api_keys",
        api_base="https://api.deepseek.com",
        check=KeyCheck(_MODELS, "https://api-docs.deepseek.com/api/list-models"),
    ),
    *_entry(
        "together",
        name="Together AI",
        placeholder="Your Together API key",
        pattern=r"[A-Za-z0-9_\-]{32,}",
        docs_url="https://api.together.ai/settings/api-keys",
        api_base="https://api.together.xyz/v1",
        check=KeyCheck(_MODELS, "https://docs.together.ai/reference/models-1", expect="[]"),
    ),
    *_entry(
        "perplexity",
        name="Perplexity",
        placeholder="pplx-...",
        prefix="pplx-",
        pattern=r"pplx-[A-Za-z0-9_\-]{20,}",
        docs_url="https://www.perplexity.ai/settings/api",
        api_base="https://api.perplexity.ai",
        check=KeyCheck(
            "/router/v1/models",
            "https://docs.perplexity.ai/api-reference/gateway-models-get",
            expect=None,
        ),
    ),
    *_entry(
        "fireworks",
        name="Fireworks AI",
        placeholder="fw_...",
        prefix="fw_",
        pattern=r"fw_[A-Za-z0-9_\-]{16,}",
        docs_url="https://fireworks.ai/account/api-keys",
        api_base="https://api.fireworks.ai/inference/v1",
        check=KeyCheck(_MODELS, "https://docs.fireworks.ai/tools-sdks/openai-compatibility"),
    ),
    *_entry(
        "huggingface",
        name="Hugging Face",
        placeholder="hf_...",
        prefix="hf_",
        pattern=r"hf_[A-Za-z0-9]{20,}",
        docs_url="https://huggingface.co/settings/tokens",
        api_base="https://huggingface.co",
        check=KeyCheck(
            "/api/whoami-v2",
            "https://huggingface.co/docs/hub/api#get-apiwhoami-v2",
            expect="name",
        ),
    ),
    *_entry(
        "replicate",
        name="Replicate",
        placeholder="r8_...",
        prefix="r8_",
        pattern=r"r8_[A-Za-z0-9]{20,}",
        docs_url="https://replicate.com/account/api-tokens",
        api_base="https://api.replicate.com/v1",
        check=KeyCheck(
            "/account", "https://replicate.com/docs/reference/http#accounts.get", expect="username"
        ),
    ),
]

BUILTIN_PROVIDERS: Mapping[str, ProviderInfo] = MappingProxyType({p.id: p for p in _BUILTIN})
"""The built-in provider registry, read-only: provider id -> ProviderInfo."""
