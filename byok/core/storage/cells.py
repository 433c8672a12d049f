"""The session entry's format: its names and the cells that hold one sealed key each. Read and
written by `SessionStorage` only (the cookie's byte budget is `budget.py`)."""

from __future__ import annotations

import base64
import binascii
import time
from datetime import UTC, datetime
from typing import Any

from ..types import APIKey, Endpoint, StorageError

__all__ = [
    "CSRF_SESSION_KEY",
    "decode_cell",
    "flag_default",
    "from_ts",
    "make_cell",
    "parse_cell",
    "pick_cell",
    "remember_cell",
    "session_of",
    "slot_of",
    "to_ts",
    "unslot",
]

CSRF_SESSION_KEY = "byok_csrf"  # session entry holding the CSRF token (byok.middleware.csrf)
CSRF_TOKEN_CHARS = 43  # random_token(32)
STAMP = "c"  # key of the last cleanup's time (epoch seconds) inside the session entry
OLD_STAMP = "byok_cleanup"  # where byok ≤ 0.1 kept it (with the user id): removed on write


def session_of(
    request: Any,  # a Starlette request (or anything with a dict `.session`)
) -> dict:
    """The request's session dict, or StorageError when there is none."""
    if request is None or isinstance(request, str | bytes):  # not a request (never echoed)
        got = "None" if request is None else f"a {type(request).__name__}"
        raise StorageError(
            f"session storage keeps keys in the request's session, but the request given is {got}:"
            " pass the handler's request (`req`) as the first argument"
        )
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


_URLSAFE = bytes.maketrans(b"+/", b"-_")  # base64 to base64url (base64.urlsafe_b64encode's table)


def make_cell(
    key: APIKey,  # a sealed key and its metadata
) -> tuple[list, tuple, Decoded]:
    """(the cell of `key` (not flagged default), its content as `parse_cell` takes it, what that
    decodes to): whole seconds, the sealed value base64url without padding."""
    value = key.encrypted_value
    value = value if value.__class__ is bytes else bytes(value)
    token = binascii.b2a_base64(value, newline=False).translate(_URLSAFE).rstrip(b"=").decode()
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


def pick_cell(
    cells: dict,  # one owner's {slot: cell}
    provider: str,  # provider name
    label: str | None,  # which key; None = the provider's default
    flagged_only: bool = False,  # True: only a cell flagged default is the default
) -> tuple[str, list] | None:
    """(label, cell) of one key; label None = the provider's default: the cell flagged default,
    else the oldest, then by label (`pick_default`, without decoding a cell)."""
    if label is not None:
        raw = cells.get(slot_of(provider, label))
        return None if raw is None else (label, raw)
    if len(cells) == 1 and not flagged_only and provider in cells:  # the only key: the default
        raw = cells[provider]
        if raw.__class__ is not list or len(raw) not in (4, 6):
            raise malformed(provider)
        return "", raw
    prefix, best, rank = provider + "#", None, None
    for slot, raw in cells.items():
        if slot != provider and not slot.startswith(prefix):
            continue
        if raw.__class__ is not list or len(raw) not in (4, 6):
            raise malformed(provider)
        mine = (not (len(raw) == 6 and raw[5] == 1), raw[1], slot)
        try:
            if rank is None or mine < rank:
                best, rank = (slot[len(prefix) :], raw), mine
        except TypeError:  # a creation time that is not a number
            raise malformed(provider) from None
    if best is None or (flagged_only and rank[0]):
        return None
    return best


def decode_cell(
    raw: Any,  # a cell as the session holds it
    provider: str,  # its provider
    label: str,  # its label
    user_id: str | None,  # its owner
) -> APIKey:
    """A stored cell as a record; StorageError when malformed."""
    if raw.__class__ is not list or len(raw) not in (4, 6):
        raise malformed(provider)
    six = len(raw) == 6
    try:
        value, created, expires, endpoint = parse_cell(
            raw[0], raw[1], raw[2], raw[4] if six else None
        )
    except (TypeError, ValueError, binascii.Error, OverflowError, OSError, RecursionError):
        raise malformed(provider) from None
    return APIKey(provider, value, created, expires, user_id, label, endpoint, six and raw[5] == 1)


def flag_default(
    cells: dict,  # one owner's {slot: cell}, changed in place
    provider: str,  # provider name
    label: str,  # the key that becomes the default
    cell: list,  # its cell
) -> None:
    """Flag one cell default and clear the flag of the provider's others."""
    prefix = provider + "#"
    for slot, other in list(cells.items()):
        mine = slot == provider or slot.startswith(prefix)
        if mine and isinstance(other, list) and len(other) == 6 and other[5]:
            cells[slot] = [*other[:5], 0]
    cells[slot_of(provider, label)] = [*cell[:4], cell[4] if len(cell) == 6 else None, 1]
