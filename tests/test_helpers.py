"""byok.utils.helpers: the reference's helpers, timezone-aware, over the real manager."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from byok.core.storage import BYOKManager
from byok.utils.helpers import (
    format_expiration,
    format_key_age,
    format_provider_name,
    get_env_key,
    get_key_summary,
    get_provider_info,
    import_from_env,
    to_utc,
)
from tests.support import SECRET

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OPENAI_KEY = "sk-proj-" + "Zz9" * 16


def request() -> SimpleNamespace:
    return SimpleNamespace(session={}, scope={})


def test_provider_info_dicts_with_defaults() -> None:
    info = get_provider_info("openai")
    assert info["name"] == "OpenAI" and info["docs_url"].startswith("https://")
    assert {"name", "key_prefix", "docs_url", "placeholder"} <= set(info)
    assert (
        get_provider_info("acme", {"acme": {"docs_url": "/acme"}})["placeholder"]
        == "Enter your Acme API key"
    )
    assert format_provider_name("google") == "Google Gemini"
    assert format_provider_name("my-llm") == "My Llm"
    assert format_provider_name("openai", {"openai": {"name": "Work OpenAI"}}) == "Work OpenAI"


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (timedelta(seconds=10), "just now"),
        (timedelta(seconds=-30), "just now"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=59), "59 minutes ago"),
        (timedelta(hours=1), "1 hour ago"),
        (timedelta(hours=23, minutes=59), "23 hours ago"),
        (timedelta(days=1), "1 day ago"),
        (timedelta(days=29), "29 days ago"),
        (timedelta(days=30), "1 month ago"),
        (timedelta(days=95), "3 months ago"),
    ],
)
def test_format_key_age(age: timedelta, text: str) -> None:
    assert format_key_age(NOW - age, now=NOW) == text


@pytest.mark.parametrize(
    ("left", "text"),
    [
        (None, "Never"),
        (timedelta(0), "Expired"),
        (timedelta(days=-3), "Expired"),
        (timedelta(seconds=20), "Expires in 1 minute"),
        (timedelta(minutes=45), "Expires in 45 minutes"),
        (timedelta(hours=5), "Expires in 5 hours"),
        (timedelta(days=1), "Expires in 1 day"),
        (timedelta(days=3, hours=2), "Expires in 3 days"),
        (timedelta(days=61), "Expires in 2 months"),
    ],
)
def test_format_expiration(left: timedelta | None, text: str) -> None:
    assert format_expiration(None if left is None else NOW + left, now=NOW) == text


JST = timedelta(hours=9)  # Tokyo's offset


def test_naive_times_are_local_and_other_zones_are_compared_in_utc(local_zone) -> None:
    local_zone("Asia/Tokyo")  # UTC+9: a naive time is read as Tokyo time
    naive = datetime(2026, 3, 1, 19, 0)  # 10:00 UTC: two hours before NOW
    assert format_key_age(naive, now=NOW) == "2 hours ago"
    paris = timezone(timedelta(hours=1))
    assert format_key_age(datetime(2026, 3, 1, 12, 0, tzinfo=paris), now=NOW) == "1 hour ago"
    assert (
        format_expiration(datetime(2026, 3, 2, 0, 0), now=NOW.replace(tzinfo=None) + JST)
        == "Expires in 3 hours"
    )
    # the reference's own example: an expiry an hour ago in local time reads as expired
    assert format_expiration(datetime.now() - timedelta(hours=1)) == "Expired"
    assert format_expiration(datetime.now() + timedelta(hours=5, minutes=1)) == "Expires in 5 hours"
    assert to_utc(naive) == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert format_key_age(datetime.now(UTC) - timedelta(days=2)) == "2 days ago"  # default now


def test_key_summary_masks_and_flags_unreadable_keys() -> None:
    req = request()
    manager = BYOKManager(SECRET)
    manager.set_key(req, "openai", OPENAI_KEY)
    manager.set_key(req, "groq", "gsk_" + "q" * 40, ttl=timedelta(hours=3))
    summary = get_key_summary(manager, req)
    assert summary["count"] == 2
    by = {k["provider"]: k for k in summary["keys"]}
    assert by["openai"]["display_name"] == "OpenAI"
    assert by["openai"]["masked_key"] == manager.get_masked_key(req, "openai")
    assert OPENAI_KEY not in repr(summary) and OPENAI_KEY[8:20] not in repr(summary)
    assert len(by["openai"]["fingerprint"]) == 16
    assert by["groq"]["expires"] in ("Expires in 2 hours", "Expires in 3 hours")
    assert by["openai"]["created"] == "just now" and not by["openai"]["unreadable"]
    stranger = BYOKManager("a-different-app-secret-0123456789")  # cannot decrypt these keys
    unreadable = get_key_summary(stranger, req)
    assert unreadable["count"] == 2 and all(k["unreadable"] for k in unreadable["keys"])
    assert all(k["masked_key"] == "N/A" for k in unreadable["keys"])


def test_env_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEY_OPENAI", f"  {OPENAI_KEY}\n")
    monkeypatch.setenv("API_KEY_MY_LLM", "k" * 30)
    monkeypatch.setenv("API_KEY_EMPTY", "   ")
    monkeypatch.setenv("BYOK_ANTHROPIC", "sk-ant-" + "a" * 30)
    assert get_env_key("openai") == OPENAI_KEY
    assert get_env_key("my-llm") == "k" * 30
    assert get_env_key("empty") is None and get_env_key("missing") is None
    assert get_env_key("anthropic", env_prefix="BYOK_") == "sk-ant-" + "a" * 30


def test_import_from_env_stores_valid_keys_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEY_OPENAI", OPENAI_KEY)
    monkeypatch.setenv("API_KEY_GROQ", "has spaces in it")  # refused by the manager
    monkeypatch.delenv("API_KEY_MISTRAL", raising=False)
    req = request()
    manager = BYOKManager(SECRET)
    result = import_from_env(manager, req, ["openai", "groq", "mistral", "Bad Name"])
    assert result == {"openai": True, "groq": False, "mistral": False, "Bad Name": False}
    assert manager.get_key(req, "openai") == OPENAI_KEY
    assert manager.list_providers(req) == ["openai"]


def test_article_goes_by_sound_not_spelling() -> None:
    from byok.utils.helpers import article

    an = ["OpenAI", "Anthropic", "OpenRouter", "info", "error", "API", "SDK", "hour", "Acme AI"]
    a = ["Google", "Mistral", "Groq", "Cohere", "user", "unique", "GPU", "one", "warning", ""]
    assert [article(w) for w in an] == ["an"] * len(an)
    assert [article(w) for w in a] == ["a"] * len(a)
