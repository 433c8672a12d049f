"""The session entry's format: its names and the cells that hold one sealed key each. Read and
written by `SessionStorage` only (the cookie's byte budget is `budget.py`)."""

from __future__ import annotations

import base64
import binascii
import time
from datetime import UTC, datetime
from typing import Any, NamedTuple

from ..types import APIKey, Endpoint, StorageError

__all__ = [
    "CSRF_SESSION_KEY",
    "Cell",
    "cell_of",
    "decode_cell",
    "flag_default",
    "from_ts",
    "lone_cell",
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
    try:  # bench row "session get_key vs one AES-GCM open": a request is checked when it fails
        session = request.session
    except (AttributeError, AssertionError):
        if request is None or isinstance(request, str | bytes):  # not a request (never echoed)
            got = "None" if request is None else f"a {type(request).__name__}"
            raise StorageError(
                "session storage keeps keys in the request's session, but the request given is "
                f"{got}: pass the handler's request (`req`) as the first argument"
            ) from None
        raise StorageError("session storage needs Starlette's SessionMiddleware") from None
    if session.__class__ is not dict and not isinstance(session, dict):
        raise StorageError("request.session is not a dict")
    return session


def to_ts(dt: datetime | None) -> int | None:
    """Whole seconds since the epoch (compact for the cookie)."""
    return None if dt is None else int(dt.timestamp())


def from_ts(value: Any) -> datetime | None:
    """Inverse of `to_ts`."""
    return None if value is None else datetime.fromtimestamp(int(value), tz=UTC)


class Cell(NamedTuple):
    """One key's cell in the session entry, named. On the wire (the cookie's JSON) it is a list
    of its first four fields, or of all six when the key has an endpoint or is flagged default;
    cells written before labels and endpoints existed (four items) read the same."""

    token: str  # the sealed value, base64url without padding
    created: int  # when stored (epoch seconds)
    expires: int | None  # when it expires (epoch seconds), None = never
    written: int  # when this copy was written (epoch seconds): hybrid's cache age
    endpoint: str | None = None  # the endpoint's canonical JSON, None = none
    default: int = 0  # 1 = the provider's flagged default

    def wire(self) -> list:
        """The list the session holds: plain keys keep the short cell (cookie bytes count)."""
        return list(self) if self.endpoint is not None or self.default else list(self[:4])


_CELL = tuple.__new__  # a Cell from an iterable of its six fields (no call of Cell's __new__)


def cell_of(
    raw: Any,  # a cell as the session holds it (a list, from the cookie's JSON)
    provider: str,  # its provider (named in the error)
) -> Cell:
    """The cell named; StorageError when it is not a 4- or 6-item list."""
    if raw.__class__ is not list:
        raise malformed(provider)
    n = len(raw)
    if n == 6:  # bench row "session get_key vs one AES-GCM open": its length checked, the list
        return _CELL(Cell, raw)  # becomes the tuple directly (Cell._make checks it again)
    if n == 4:
        return Cell(raw[0], raw[1], raw[2], raw[3])
    raise malformed(provider)


Decoded = tuple[bytes, datetime | None, datetime | None, "Endpoint | None"]
# bench row "session get_key vs one AES-GCM open": a cell is decoded once, then found by its
# content (the cell itself: a changed cell is a new entry), not base64-decoded and parsed per read
_DECODED: dict[Cell, Decoded] = {}
_MAX_DECODED = 1024  # past this many cells, the memo starts over


def parse_cell(
    cell: Cell,  # a cell as read
) -> Decoded:
    """A cell's immutable fields decoded (sealed value, created, expires, endpoint), memoised by
    content: the cell a write produced, read back by the next request, decodes once
    (TypeError / ValueError / binascii.Error when malformed)."""
    found = _DECODED.get(cell)
    if found is None:
        token = cell.token
        value = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        found = value, from_ts(cell.created), from_ts(cell.expires), Endpoint.decode(cell.endpoint)
        remember_cell(cell, found)
    return found


_URLSAFE = bytes.maketrans(b"+/", b"-_")  # base64 to base64url (base64.urlsafe_b64encode's table)


def make_cell(
    key: APIKey,  # a sealed key and its metadata (its is_default flag is the cell's)
) -> tuple[Cell, Decoded]:
    """(the cell of `key`, what it decodes to): whole seconds, the sealed value base64url
    without padding."""
    value = key.encrypted_value
    value = value if value.__class__ is bytes else bytes(value)
    token = binascii.b2a_base64(value, newline=False).translate(_URLSAFE).rstrip(b"=").decode()
    created = key.created_at.replace(microsecond=0)
    expires = key.expires_at and key.expires_at.replace(microsecond=0)
    endpoint = key.endpoint.encode().decode() if key.endpoint else None
    stamps = int(created.timestamp()), expires and int(expires.timestamp()), int(time.time())
    # bench row "session set_key + get_key": the tuple made directly (Cell() is a Python call)
    cell = _CELL(Cell, (token, *stamps, endpoint or None, 1 if key.is_default else 0))
    return cell, (value, created, expires, key.endpoint)


def remember_cell(
    cell: Cell,  # a cell as the session holds it
    decoded: Decoded,  # what it decodes to (a write knows it without decoding)
) -> None:
    """Memoise a cell's decoded fields (the writer's shortcut, and parse_cell's)."""
    if len(_DECODED) >= _MAX_DECODED:
        _DECODED.clear()
    _DECODED[cell] = decoded


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
) -> tuple[str, Cell] | None:
    """(label, cell) of one key; label None = the provider's default: the cell flagged default,
    else the oldest, then by label (`pick_default`, without decoding a cell)."""
    if label is not None:
        raw = cells.get(slot_of(provider, label))
        return None if raw is None else (label, cell_of(raw, provider))
    # bench row "session get_key vs one AES-GCM open": the only key is the default, unranked
    if len(cells) == 1 and not flagged_only and provider in cells:
        return "", cell_of(cells[provider], provider)
    prefix, best, rank = provider + "#", None, None
    for slot, raw in cells.items():
        if slot != provider and not slot.startswith(prefix):
            continue
        cell = cell_of(raw, provider)
        mine = (cell.default != 1, cell.created, slot)
        try:
            if rank is None or mine < rank:
                best, rank = (slot[len(prefix) :], cell), mine
        except TypeError:  # a creation time that is not a number
            raise malformed(provider) from None
    if best is None or (flagged_only and rank[0]):
        return None
    return best


def lone_cell(
    owners: Any,  # the session entry's {owner: {slot: cell}} as read (malformed: None)
    owner: str,  # the owner's name in it ("" = the anonymous session)
    provider: str,  # provider name
) -> Decoded | None:
    """The decoded fields of the provider's key when it is the owner's only cell (so its
    default) and was decoded before; None otherwise (bench row "session get_key vs one AES-GCM
    open": the common read, without picking, decoding or a record)."""
    cells = owners.get(owner) if owners.__class__ is dict else None
    if cells.__class__ is not dict or len(cells) != 1:
        return None
    raw = cells.get(provider)
    if raw.__class__ is not list:
        return None
    n = len(raw)
    try:  # an unhashable item: malformed, and the full read says so
        if n == 6:
            return _DECODED.get(_CELL(Cell, raw))
        return _DECODED.get(Cell(raw[0], raw[1], raw[2], raw[3])) if n == 4 else None
    except TypeError:
        return None


def decode_cell(
    cell: Cell,  # a cell as read (`cell_of`)
    provider: str,  # its provider
    label: str,  # its label
    user_id: str | None,  # its owner
) -> APIKey:
    """A stored cell as a record; StorageError when malformed."""
    try:  # bench row "session get_key vs one AES-GCM open": the memo is asked here, not in a call
        found = _DECODED.get(cell)
        value, created, expires, endpoint = parse_cell(cell) if found is None else found
    except (TypeError, ValueError, binascii.Error, OverflowError, OSError, RecursionError):
        raise malformed(provider) from None
    return APIKey(provider, value, created, expires, user_id, label, endpoint, cell.default == 1)


def flag_default(
    cells: dict,  # one owner's {slot: cell}, changed in place
    provider: str,  # provider name
    label: str,  # the key that becomes the default
    cell: Cell,  # its cell
) -> Cell:
    """Flag one cell default and clear the flag of the provider's others; the flagged cell."""
    prefix, target = provider + "#", slot_of(provider, label)
    for slot, other in cells.items():  # values replaced in place: the dict keeps its size
        mine = slot == provider or slot.startswith(prefix)
        if mine and slot != target and other.__class__ is list and len(other) == 6:
            old = Cell._make(other)
            if old.default:
                cells[slot] = old._replace(default=0).wire()
    flagged = cell if cell.default == 1 else cell._replace(default=1)
    cells[target] = flagged.wire()
    return flagged
