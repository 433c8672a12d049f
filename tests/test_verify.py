"""byok.verify: every registry provider's check, run through the production code path against a
real server on 127.0.0.1 (tests/fake_providers.py) answering as the providers do. Loopback is
reached only because each test's OutboundPolicy allows 127.0.0.1/32 explicitly."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from byok.core.endpoints import Endpoint
from byok.core.providers import BUILTIN_PROVIDERS, KeyCheck, resolve_provider
from byok.outbound import OutboundPolicy
from byok.verify import CheckResult, KeyVerifier, Outcome
from tests.fake_providers import FakeProviders

LOOPBACK = ["127.0.0.1/32"]  # the test's explicit allowlist
PROVIDERS = sorted(BUILTIN_PROVIDERS)
SECRET = "K3yMaterial0123456789abcdef"  # the part of every test key that must never leak

# key kind -> (outcome, HTTP status seen or None)
EXPECTED = {
    "valid": (Outcome.VALID, 200),
    "invalid": (Outcome.REJECTED, None),  # 401, or 400 API_KEY_INVALID for Gemini
    "forbidden": (Outcome.REJECTED, 403),
    "ratelimit": (Outcome.RATE_LIMITED, 429),
    "slow": (Outcome.UNREACHABLE, None),
    "trickle": (Outcome.UNREACHABLE, None),
    "error": (Outcome.UNEXPECTED, 500),
    "down": (Outcome.UNREACHABLE, 503),
    "huge": (Outcome.UNEXPECTED, None),
    "flood": (Outcome.UNEXPECTED, None),
    "redirect": (Outcome.UNEXPECTED, 302),
    "html": (Outcome.UNEXPECTED, 200),
    "missing": (Outcome.UNEXPECTED, 404),
}


def verifier_for(server: FakeProviders, provider: str, timeout: float = 0.5) -> KeyVerifier:
    """A verifier whose registry base URL for `provider` is the local server."""
    config = {provider: {"api_base": f"{server.url}/{provider}"}}
    return KeyVerifier(config, outbound=OutboundPolicy(allow_networks=LOOPBACK, timeout=timeout))


def run(server: FakeProviders, provider: str, kind: str, timeout: float = 0.5) -> CheckResult:
    info = resolve_provider(provider)
    server.shape = info.check.expect
    server.gemini = info.check.invalid_marker == "API_KEY_INVALID"
    key = f"{kind}-{SECRET}"
    if info.api_base is None:  # Azure, OpenAI-compatible: the key's own endpoint
        endpoint = Endpoint(base_url=f"{server.url}/{provider}", api_version="2024-10-21")
        return KeyVerifier(outbound=OutboundPolicy(allow_networks=LOOPBACK, timeout=timeout)).check(
            provider, key, endpoint
        )
    return verifier_for(server, provider, timeout).check(provider, key)


def test_every_provider_has_a_documented_check() -> None:
    for pid, info in BUILTIN_PROVIDERS.items():
        assert isinstance(info.check, KeyCheck), pid
        assert info.check.source.startswith("https://"), pid
        assert info.check.describe().startswith("GET /"), pid
        assert info.api_base or info.endpoint_required, pid


@pytest.mark.parametrize("kind", sorted(EXPECTED))
@pytest.mark.parametrize("provider", PROVIDERS)
def test_outcomes(fake_providers: FakeProviders, provider: str, kind: str) -> None:
    result = run(fake_providers, provider, kind)
    outcome, status = EXPECTED[kind]
    assert result.outcome is outcome, result
    if status is not None:
        assert result.status == status
    assert SECRET not in result.message  # the provider's 401 text quotes the key: never repeated
    assert (result.message and not result.message[0].islower()) or result.message.startswith("xAI")
    if kind == "ratelimit":
        assert result.retry_after == 7 and "7 s" in result.message
    if kind in ("slow", "trickle"):
        assert "did not answer within 0.5 s" in result.message


@pytest.mark.parametrize("provider", PROVIDERS)
def test_request_is_the_registry_check_with_the_key_in_a_header(
    fake_providers: FakeProviders, provider: str
) -> None:
    assert run(fake_providers, provider, "valid").ok
    (seen,) = fake_providers.seen
    check = resolve_provider(provider).check
    expected_url, _ = check.request(
        f"{fake_providers.url}/{provider}", "KEY", Endpoint(api_version="2024-10-21")
    )
    want = urlsplit(expected_url)
    assert seen.method == "GET"
    assert seen.path == want.path + (f"?{want.query}" if want.query else "")
    assert SECRET not in seen.path  # never in the URL
    header = check.header.lower()
    assert seen.headers[header] == f"{check.prefix}valid-{SECRET}"
    for name, value in check.headers:
        assert seen.headers[name.lower()] == value
    leaked = [h for h, v in seen.headers.items() if SECRET in v and h != header]
    assert leaked == []


def test_named_requests_match_the_issue() -> None:
    """The requests the providers document (and the issue names), spelled out."""

    def request(provider: str, endpoint: Endpoint | None = None) -> tuple[str, dict]:
        info = resolve_provider(provider)
        base = endpoint.base_url if endpoint else info.api_base
        return info.check.request(base, "KEY", endpoint)

    url, headers = request("openai")
    assert url == "https://api.openai.com/v1/models" and headers["Authorization"] == "Bearer KEY"
    url, headers = request("anthropic")
    assert url == "https://api.anthropic.com/v1/models?limit=1"
    assert headers["x-api-key"] == "KEY" and headers["anthropic-version"] == "2023-06-01"
    url, headers = request("google")
    assert url == "https://generativelanguage.googleapis.com/v1beta/models?pageSize=1"
    assert headers["x-goog-api-key"] == "KEY" and "KEY" not in url
    url, headers = request("openrouter")
    assert url == "https://openrouter.ai/api/v1/key" and headers["Authorization"] == "Bearer KEY"
    azure = Endpoint("https://res.openai.azure.com", "gpt-4o", "2024-10-21")
    url, headers = request("azure", azure)
    assert url == "https://res.openai.azure.com/openai/models?api-version=2024-10-21"
    assert headers["api-key"] == "KEY" and "Authorization" not in headers


def test_custom_endpoint_is_where_the_check_goes(fake_providers: FakeProviders) -> None:
    verifier = KeyVerifier(outbound=OutboundPolicy(allow_networks=LOOPBACK))
    endpoint = Endpoint(base_url=f"{fake_providers.url}/proxy/v1")
    assert verifier.check("openai", f"valid-{SECRET}", endpoint).ok
    assert fake_providers.seen[0].path == "/proxy/v1/models"
    result = verifier.check("openai", f"html-{SECRET}", endpoint)
    assert result.outcome is Outcome.UNEXPECTED and "base URL" in result.message


def test_azure_api_version_comes_from_the_key(fake_providers: FakeProviders) -> None:
    verifier = KeyVerifier(outbound=OutboundPolicy(allow_networks=LOOPBACK))
    endpoint = Endpoint(f"{fake_providers.url}/az", "gpt-4o", "2025-04-01-preview")
    assert verifier.check("azure", f"valid-{SECRET}", endpoint).ok
    assert fake_providers.seen[0].path == "/az/openai/models?api-version=2025-04-01-preview"
    assert verifier.check("azure", f"valid-{SECRET}", Endpoint(f"{fake_providers.url}/az")).ok
    assert fake_providers.seen[1].path == "/az/openai/models?api-version=2024-10-21"


def test_without_the_allowlist_loopback_is_blocked_and_nothing_is_sent(
    fake_providers: FakeProviders,
) -> None:
    verifier = KeyVerifier({"openai": {"api_base": fake_providers.url}})  # default policy
    result = verifier.check("openai", f"valid-{SECRET}")
    assert result.outcome is Outcome.BLOCKED and "loopback" in result.message
    assert fake_providers.seen == []


def test_a_required_endpoint_missing_is_explained() -> None:
    result = KeyVerifier().check("azure", "k" * 32)
    assert result.outcome is Outcome.UNEXPECTED and "base URL" in result.message


def test_unknown_provider_is_unsupported() -> None:
    result = KeyVerifier().check("acme", "k" * 32)
    assert result.outcome is Outcome.UNSUPPORTED and "Acme" in result.message


def test_unreachable_port_is_unreachable() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    verifier = KeyVerifier(
        {"openai": {"api_base": f"http://127.0.0.1:{port}"}},
        outbound=OutboundPolicy(allow_networks=LOOPBACK),
    )
    result = verifier.check("openai", f"valid-{SECRET}")
    assert result.outcome is Outcome.UNREACHABLE and "refused" in result.message


def test_slow_answer_is_cut_at_the_deadline(fake_providers: FakeProviders) -> None:
    """A body sent a byte at a time (each read in time) is cut at the total deadline: the
    verifier hangs up before the server has sent it all (seen by the server, not by a clock)."""
    import time

    result = run(fake_providers, "openai", "trickle", timeout=0.3)
    assert result.outcome is Outcome.UNREACHABLE
    waited = 0
    while not fake_providers.trickled and waited < 600:  # the server's handler finishing
        time.sleep(0.05)
        waited += 1
    assert fake_providers.trickled and fake_providers.trickled[0] < 40  # not the whole answer


def test_async_call_runs_off_the_loop(fake_providers: FakeProviders) -> None:
    verifier = verifier_for(fake_providers, "mistral")
    fake_providers.shape = "data"
    with ThreadPoolExecutor(1) as pool:  # own thread: Playwright's sync API may hold this loop
        result = pool.submit(asyncio.run, verifier("mistral", f"valid-{SECRET}")).result()
    assert result.ok


def test_key_never_logged(fake_providers: FakeProviders, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for kind in ("valid", "invalid", "error", "redirect"):
        run(fake_providers, "openai", kind)
    assert "byok key check provider=openai" in caplog.text
    assert SECRET not in caplog.text
