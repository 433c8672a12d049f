"""The session cookie's byte budget: the size of the cookie Starlette's SessionMiddleware will
write for a session, measured without building it, against `config.cookie_limit` (browsers drop
a cookie over 4,096 bytes, and every entry of the session with it)."""

from __future__ import annotations

import json
from json.encoder import JSONEncoder, c_make_encoder, encode_basestring_ascii
from typing import Any

from ..types import BYOKConfig, SessionFullError
from .cells import CSRF_SESSION_KEY, CSRF_TOKEN_CHARS, OLD_STAMP, STAMP

__all__ = ["CookieBudget", "json_length"]

SIGNATURE_BYTES = 35  # itsdangerous TimestampSigner: ".<timestamp>.<signature>"
ATTRIBUTE_BYTES = 100  # headroom for "; path=/; Max-Age=…; httponly; samesite=lax; secure"

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


class CookieBudget:
    """How many bytes a session's cookie takes, and whether a write keeps it within the limit."""

    def __init__(
        self,
        config: BYOKConfig,  # reads cookie_limit and session_cookie (the cookie's name)
    ):
        self.limit = config.cookie_limit
        self.overhead = len(config.session_cookie) + 1 + SIGNATURE_BYTES + ATTRIBUTE_BYTES

    def size(
        self,
        session: dict,  # a session dict as Starlette would serialise it
    ) -> int:
        """Projected Set-Cookie size: name, base64 JSON, signature and attribute headroom."""
        return self.overhead + 4 * ((json_length(session) + 2) // 3)

    def fits(
        self,
        session: dict,  # a session dict about to be written
    ) -> bool:
        """True when this session's cookie stays within the limit."""
        return self.size(session) <= self.limit

    def check(
        self,
        session: dict,  # the request's session, before the write
        name: str,  # the session entry written
        entry: dict,  # its new value
        *,
        stamp_room: bool,  # keep room for the cleanup stamp the entry does not hold yet
    ) -> None:
        """SessionFullError when the session with `entry` would not fit. Room is kept for what
        byok writes later on its own (the CSRF token, the cleanup stamp), so they never fail."""
        projected = dict(session)
        projected.pop(OLD_STAMP, None)  # removed by the write
        projected[name] = {**entry, STAMP: 10**10} if stamp_room else entry
        projected.setdefault(CSRF_SESSION_KEY, "x" * CSRF_TOKEN_CHARS)
        size = self.size(projected)
        if size > self.limit:
            raise SessionFullError(
                f"storing this key would make the session cookie {size} bytes, over the "
                f"{self.limit}-byte limit browsers accept; remove a key or use database storage"
            )
