"""The session entry's format: its names, the cells that hold one sealed key each, and the
byte costs of a cookie. Read and written by `SessionStorage` only."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from json.encoder import JSONEncoder, c_make_encoder, encode_basestring_ascii
from typing import Any

from ..types import APIKey, Endpoint, StorageError

__all__ = [
    "CSRF_SESSION_KEY",
    "from_ts",
    "json_length",
    "make_cell",
    "parse_cell",
    "remember_cell",
    "session_of",
    "slot_of",
    "to_ts",
    "unslot",
]

CSRF_SESSION_KEY = "byok_csrf"  # session entry holding the CSRF token (byok.middleware.csrf)
CSRF_TOKEN_CHARS = 43  # random_token(32)
SIGNATURE_BYTES = 35  # itsdangerous TimestampSigner: ".<timestamp>.<signature>"
ATTRIBUTE_BYTES = 100  # headroom for "; path=/; Max-Age=…; httponly; samesite=lax; secure"
STAMP = "c"  # key of the last cleanup's time (epoch seconds) inside the session entry
OLD_STAMP = "byok_cleanup"  # where byok ≤ 0.1 kept it (with the user id): removed on write


# json.dumps's own C encoder, called directly: its chunks are counted, never joined (the Python
# layers of json.dumps cost as much as the encoding of a small session)
_CHUNKS = (
    c_make_encoder(None, JSONEncoder().default, encode_basestring_ascii, None, ": ", ", ",
                   False, False, True)
    if c_make_encoder is not None
    else None
)  # fmt: skip


def json_length(
    data: Any,  # what Starlette's SessionMiddleware serialises (json.dumps, default options)
) -> int:
    """len(json.dumps(data)), without building the text; the output is ASCII (json.dumps
    escapes everything else), so characters are bytes."""
    if _CHUNKS is None:
        return len(json.dumps(data))
    return sum(map(len, _CHUNKS(data, 0)))


def session_of(
    request: Any,  # a Starlette request (or anything with a dict `.session`)
) -> dict:
    """The request's session dict, or StorageError when there is none."""
    try:
        session = request.session
    except (AttributeError, AssertionError):
        raise StorageError("session storage needs Starlette's SessionMiddleware") from None
    if not isinstance(session, dict):
        raise StorageError("request.session is not a dict")
    return session


def to_ts(dt: datetime | None) -> int | None:
    """Whole seconds since the epoch (compact for the cookie)."""
    return None if dt is None else int(dt.timestamp())


def from_ts(value: Any) -> datetime | None:
    """Inverse of `to_ts`."""
    return None if value is None else datetime.fromtimestamp(int(value), tz=UTC)


Decoded = tuple[bytes, datetime | None, datetime | None, "Endpoint | None"]
_DECODED: dict[tuple, Decoded] = {}  # cell content -> its decoded fields (immutable values)
_MAX_DECODED = 1024  # past this many cells, the memo starts over


def parse_cell(
    token: str,  # the sealed value, base64url without padding
    created: int,  # when stored (epoch seconds)
    expires: int | None,  # when it expires (epoch seconds), None = never
    endpoint: str | None,  # the endpoint's canonical JSON, None = none
) -> Decoded:
    """A cell's immutable fields decoded, memoised by content: the cell a write produced, read
    back by the next request, decodes once (TypeError / ValueError / binascii.Error when
    malformed)."""
    content = (token, created, expires, endpoint)
    found = _DECODED.get(content)
    if found is None:
        value = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        found = value, from_ts(created), from_ts(expires), Endpoint.decode(endpoint)
        remember_cell(content, found)
    return found


def make_cell(
    key: APIKey,  # a sealed key and its metadata
) -> tuple[list, tuple, Decoded]:
    """(the cell of `key` (not flagged default), its content as `parse_cell` takes it, what that
    decodes to): whole seconds, the sealed value base64url without padding."""
    value = bytes(key.encrypted_value)
    token = base64.urlsafe_b64encode(value).rstrip(b"=").decode()
    created = key.created_at.replace(microsecond=0)
    expires = key.expires_at and key.expires_at.replace(microsecond=0)
    cell: list = [token, int(created.timestamp()), expires and int(expires.timestamp()),
                  int(time.time())]  # fmt: skip
    endpoint = key.endpoint.encode().decode() if key.endpoint else None
    if endpoint:  # plain keys keep the short cell
        cell += [endpoint, 0]
    return cell, (token, cell[1], cell[2], endpoint), (value, created, expires, key.endpoint)


def remember_cell(
    content: tuple,  # (token, created, expires, endpoint JSON) as the cell holds them
    decoded: Decoded,  # what they decode to (a write knows it without decoding)
) -> None:
    """Memoise a cell's decoded fields (the writer's shortcut, and parse_cell's)."""
    if len(_DECODED) >= _MAX_DECODED:
        _DECODED.clear()
    _DECODED[content] = decoded


def malformed(provider: str) -> StorageError:
    """The error of a cell byok cannot read."""
    return StorageError(f"malformed session entry for provider {provider!r}")


def slot_of(provider: str, label: str) -> str:
    """A key's name in the session entry: the provider, or "provider#label" for a labelled key."""
    return f"{provider}#{label}" if label else provider


def unslot(slot: str) -> tuple[str, str]:
    """(provider, label) of a slot."""
    provider, _, label = slot.partition("#")
    return provider, label
