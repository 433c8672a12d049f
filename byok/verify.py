"""Built-in key checks: one zero-token request per provider (the registry's `KeyCheck`), sent
through the SSRF guard (`byok.outbound`), read into an `Outcome` a user understands.

`KeyVerifier().check("openai", key)` asks ``GET https://api.openai.com/v1/models`` with the
key in the ``Authorization`` header; a key with a custom endpoint (`Endpoint`) is checked there
instead. The key is only ever in a header: never in the URL, a log line or a message, and a
provider's error text (which may quote the key) is never repeated.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from byok.core.endpoints import Endpoint
from byok.core.providers import KeyCheck, ProviderInfo, resolve_provider
from byok.outbound import (
    Answer,
    BlockedURLError,
    OutboundError,
    OutboundPolicy,
    OutboundTimeout,
    TooLargeError,
    UnreachableError,
)

__all__ = ["CheckResult", "KeyVerifier", "Outcome"]

log = logging.getLogger("byok")

_UNAVAILABLE = frozenset({502, 503, 504})  # the provider is down or overloaded: try later


class Outcome(StrEnum):
    """What a key check found."""

    VALID = "valid"  # the provider accepted the key
    REJECTED = "rejected"  # the provider refused it (401 / 403, Gemini's API_KEY_INVALID)
    RATE_LIMITED = "rate_limited"  # the provider said "too many requests" (429)
    UNREACHABLE = "unreachable"  # no answer: DNS, refused connection, TLS, timeout, 502-504
    UNEXPECTED = "unexpected"  # an answer that is not the provider's (wrong URL, 500, too big)
    BLOCKED = "blocked"  # the SSRF guard refused the address: nothing was sent
    UNSUPPORTED = "unsupported"  # byok knows no check for this provider


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one key check, with a message for the user."""

    outcome: Outcome  # what was found
    message: str  # one sentence a user understands (never the key)
    status: int | None = None  # the HTTP status, when there was an answer
    retry_after: int | None = None  # seconds to wait, when the provider said (429)

    @property
    def ok(self) -> bool:
        """True when the key works."""
        return self.outcome is Outcome.VALID


def _retry_after(answer: Answer) -> int | None:
    """Seconds from a Retry-After header given in seconds (dates are ignored)."""
    value = answer.headers.get("retry-after", "").strip()
    if not (value.isascii() and value.isdigit() and len(value) <= 5):  # no "²", no 5000 digits
        return None
    return int(value) if int(value) < 86_400 else None


def _looks_right(check: KeyCheck, answer: Answer) -> bool:
    """Whether a 2xx answer is what this provider's API sends (not a web page or a proxy's)."""
    data = answer.json()
    if check.expect is None:
        return isinstance(data, dict | list)
    if check.expect == "[]":
        return isinstance(data, list)
    return isinstance(data, dict) and check.expect in data


def _judge(info: ProviderInfo, check: KeyCheck, answer: Answer, custom: bool) -> CheckResult:
    """The outcome an answer means, for this provider's check."""
    status, name = answer.status, info.name
    where = "this base URL" if custom else f"{name}'s API"
    if 200 <= status < 300:
        if _looks_right(check, answer):
            return CheckResult(Outcome.VALID, f"{name} accepted this key", status)
        return CheckResult(
            Outcome.UNEXPECTED,
            f"The answer from {where} does not look like {name}'s: check the base URL",
            status,
        )
    if status in (401, 403) or (
        status == 400 and check.invalid_marker and check.invalid_marker.encode() in answer.body
    ):
        return CheckResult(Outcome.REJECTED, f"{name} rejected this key (HTTP {status})", status)
    if status == 429:
        wait = _retry_after(answer)
        later = f"try again in {wait} s" if wait is not None else "try again in a minute"
        return CheckResult(
            Outcome.RATE_LIMITED, f"{name} is limiting requests for this key: {later}", status, wait
        )
    if status in _UNAVAILABLE:
        return CheckResult(
            Outcome.UNREACHABLE,
            f"{name} is unavailable right now (HTTP {status}); try again later",
            status,
        )
    if 300 <= status < 400:
        return CheckResult(
            Outcome.UNEXPECTED,
            f"{where.capitalize()} answered with a redirect, which byok does not follow: "
            "enter the final address as the base URL",
            status,
        )
    if status == 404:
        return CheckResult(
            Outcome.UNEXPECTED, f"{where.capitalize()} has no {check.path}: check the URL", status
        )
    if status >= 500:
        return CheckResult(
            Outcome.UNEXPECTED,
            f"{name} had an internal error (HTTP {status}); try again later",
            status,
        )
    return CheckResult(
        Outcome.UNEXPECTED, f"{name} gave an unexpected answer (HTTP {status})", status
    )


def _failure(info: ProviderInfo, error: OutboundError, timeout: float) -> CheckResult:
    """The outcome of a request that got no usable answer (the error text names no secret)."""
    if isinstance(error, BlockedURLError):
        return CheckResult(Outcome.BLOCKED, f"This address is not allowed: {error}")
    if isinstance(error, OutboundTimeout):
        return CheckResult(
            Outcome.UNREACHABLE, f"{info.name} did not answer within {timeout:g} s; try again"
        )
    if isinstance(error, UnreachableError):
        return CheckResult(Outcome.UNREACHABLE, f"{info.name} could not be reached: {error}")
    if isinstance(error, TooLargeError):
        return CheckResult(Outcome.UNEXPECTED, f"The answer was too large: {error}")
    return CheckResult(Outcome.UNEXPECTED, f"The key could not be checked: {error}")


class KeyVerifier:
    """Checks keys against their providers with the registry's zero-token requests."""

    def __init__(
        self,
        provider_config: Mapping[str, Any] | None = None,  # registry overrides (api_base, check)
        *,
        outbound: OutboundPolicy | None = None,  # the SSRF guard and limits; None = defaults
    ):
        self.provider_config = provider_config
        self.outbound = outbound or OutboundPolicy()

    def check(
        self,
        provider: str,  # provider name, e.g. "openai"
        api_key: str,  # the key to check (sent in a header only)
        endpoint: Endpoint | None = None,  # the key's custom endpoint, if it has one
    ) -> CheckResult:
        """Ask the provider whether the key works (blocking; at most outbound.timeout)."""
        info = resolve_provider(provider, self.provider_config)
        if info.check is None:
            return CheckResult(Outcome.UNSUPPORTED, f"byok cannot test {info.name} keys")
        base = endpoint.base_url if endpoint and endpoint.base_url else info.api_base
        if not base:
            return CheckResult(
                Outcome.UNEXPECTED, f"Enter the base URL of your {info.name} endpoint first"
            )
        url, headers = info.check.request(base, api_key, endpoint)
        try:
            answer = self.outbound.fetch("GET", url, headers)
        except OutboundError as e:
            result = _failure(info, e, self.outbound.timeout)
        else:
            result = _judge(info, info.check, answer, bool(endpoint and endpoint.base_url))
        log.info("byok key check provider=%s outcome=%s", provider, result.outcome.value)
        return result

    async def __call__(
        self,
        provider: str,  # provider name
        api_key: str,  # the key
        endpoint: Endpoint | None = None,  # the key's custom endpoint
    ) -> CheckResult:
        """`check` in a worker thread, so the event loop never waits on the network."""
        return await asyncio.to_thread(self.check, provider, api_key, endpoint)
