"""What a provider is: `ProviderInfo` (how it is shown, how its keys look), `KeyCheck` (the one
zero-token request that tells whether a key works) and `safe_url`, the check every URL an app
gives (a docs link, a form action) goes through."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

from ..types import Endpoint

__all__ = ["KeyCheck", "ProviderInfo", "safe_url"]

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
    return _checked_url(url, param)


@lru_cache(maxsize=1024)  # an app's URLs are few and every card renders them again
def _checked_url(url: str, param: str) -> str:
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


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
