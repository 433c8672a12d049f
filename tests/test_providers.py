"""byok.core.providers: the built-in registry, overrides with partial entries, key patterns, URLs."""

from __future__ import annotations

import re

import pytest

from byok.core.providers import (
    BUILTIN_PROVIDERS,
    ProviderInfo,
    default_provider_info,
    key_matches,
    resolve_provider,
    safe_url,
)
from byok.core.types import PROVIDER_PATTERN

NAMED = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "google": "Google Gemini",
    "gemini": "Google Gemini",
    "mistral": "Mistral AI",
    "groq": "Groq",
    "cohere": "Cohere",
    "openrouter": "OpenRouter",
    "xai": "xAI",
    "deepseek": "DeepSeek",
    "together": "Together AI",
}

SAMPLES = {  # provider -> (a well-formed key, a key of another provider)
    "openai": ("sk-proj-" + "a1B2" * 12, "sk-ant-api03-" + "x" * 40),
    "anthropic": ("sk-ant-api03-" + "x" * 40, "sk-proj-" + "a1B2" * 12),
    "google": ("AIza" + "Sy" + "b" * 33, "gsk_" + "c" * 40),
    "groq": ("gsk_" + "c" * 40, "AIza" + "b" * 35),
    "openrouter": ("sk-or-v1-" + "f" * 64, "xai-" + "d" * 40),
    "xai": ("xai-" + "d" * 40, "sk-or-v1-" + "f" * 64),
    "deepseek": ("sk-" + "e" * 32, "sk-ant-" + "e" * 32),
    "huggingface": ("hf_" + "G" * 34, "r8_" + "h" * 30),
    "replicate": ("r8_" + "h" * 30, "hf_" + "G" * 34),
    "perplexity": ("pplx-" + "i" * 40, "fw_" + "j" * 24),
    "fireworks": ("fw_" + "j" * 24, "pplx-" + "i" * 40),
}


def test_registry_has_the_named_providers_with_complete_entries() -> None:
    assert len(BUILTIN_PROVIDERS) >= 12
    for pid, name in NAMED.items():
        assert BUILTIN_PROVIDERS[pid].name == name
    for pid, info in BUILTIN_PROVIDERS.items():
        assert info.id == pid and PROVIDER_PATTERN.fullmatch(pid)
        assert info.placeholder and info.pattern
        if pid != "openai-compatible":  # a kind of server, no one vendor's key page
            assert info.docs_url and info.docs_url.startswith("https://")
            assert safe_url(info.docs_url) == info.docs_url
        re.compile(info.pattern)
        if info.key_prefix:
            assert info.key_hint == f'Starts with "{info.key_prefix}"'
    with pytest.raises(TypeError):
        BUILTIN_PROVIDERS["x"] = BUILTIN_PROVIDERS["openai"]  # type: ignore[index]


@pytest.mark.parametrize("provider", sorted(SAMPLES))
def test_patterns_tell_providers_apart(provider: str) -> None:
    good, other = SAMPLES[provider]
    assert key_matches(provider, good) is True
    assert key_matches(provider, f"  {good}\n") is True  # surrounding whitespace is not the key
    assert key_matches(provider, other) is False
    assert key_matches(provider, "") is False


def test_unknown_provider_gets_reference_style_defaults() -> None:
    info = resolve_provider("my_custom-llm")
    assert info == default_provider_info("my_custom-llm")
    assert info.name == "My Custom Llm" and info.placeholder == "Enter your My Custom Llm API key"
    assert info.pattern is None and info.docs_url is None
    assert key_matches("my_custom-llm", "anything") is None


def test_partial_override_keeps_the_other_defaults() -> None:
    info = resolve_provider("openai", {"openai": {"name": "OpenAI (team)"}})
    base = BUILTIN_PROVIDERS["openai"]
    assert info.name == "OpenAI (team)"
    assert (info.placeholder, info.pattern, info.docs_url) == (
        base.placeholder,
        base.pattern,
        base.docs_url,
    )
    assert resolve_provider("openai", {"anthropic": {"name": "x"}}) is base
    assert resolve_provider("openai", {"openai": {"name": None}}).name == "OpenAI"
    assert resolve_provider("openai", {"openai": {"docs_url": None}}).docs_url is None


def test_extension_entries_and_provider_info_values() -> None:
    config = {"acme": {"name": "Acme AI", "pattern": r"acme_[a-z]{8}", "docs_url": "/help/acme"}}
    info = resolve_provider("acme", config)
    assert (info.name, info.docs_url) == ("Acme AI", "/help/acme")
    assert info.placeholder == "Enter your Acme API key"  # default for the missing field
    assert key_matches("acme", "acme_abcdefgh", config) is True
    assert key_matches("acme", "acme_ABC", config) is False
    whole = ProviderInfo("acme", "Acme", "acme_...")
    assert resolve_provider("acme", {"acme": whole}) is whole
    assert info.as_dict()["name"] == "Acme AI" and {
        "name",
        "key_prefix",
        "docs_url",
        "placeholder",
    } <= set(info.as_dict())


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"openai": {"nmae": "typo"}}, "nmae"),
        ({"openai": {"docs_url": "javascript:alert(1)"}}, "docs_url"),
        ({"openai": {"pattern": "(unclosed"}}, "regex"),
        ({"openai": {"name": 42}}, "string"),
        ({"openai": "OpenAI"}, "dict"),
        (["openai"], "provider_config"),
    ],
)
def test_bad_provider_config_is_a_clear_value_error(config: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        resolve_provider("openai", config)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/api/keys", "/api/keys"),
        ("https://example.com/a?b=1#c", "https://example.com/a?b=1#c"),
        ("HTTP://EXAMPLE.COM", "HTTP://EXAMPLE.COM"),
        ("relative/path", "relative/path"),
        ("/a/ü", "/a/%C3%BC"),
        ("/a/<b>", "/a/%3Cb%3E"),
        ('/a/"b"', "/a/%22b%22"),
        ("/a/%2F", "/a/%2F"),
    ],
)
def test_safe_url_accepts_http_and_relative(url: str, expected: str) -> None:
    assert safe_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:x",
        "data:text/html,x",
        "vbscript:x",
        "file:///etc/passwd",
        " /a",
        "java\tscript:x",
        "/a b",
        "/a\\b",
        "",
        "\x00/a",
        None,
    ],
)
def test_safe_url_refuses_everything_else(url: object) -> None:
    with pytest.raises(ValueError, match="action"):
        safe_url(url, "action")  # type: ignore[arg-type]


def test_registry_rows_name_every_field() -> None:
    """Each row of the built-in registry reads as keywords: only its ids are positional."""
    import ast
    from pathlib import Path

    import byok.core.providers.builtin as builtin

    tree = ast.parse(Path(builtin.__file__).read_text(encoding="utf-8"))
    rows = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "_entry"
    ]
    assert len(rows) >= 16
    for row in rows:
        assert all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in row.args)
        assert {k.arg for k in row.keywords} >= {"name", "placeholder", "check"}
