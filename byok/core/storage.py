"""Where sealed keys live (session, database, hybrid) and the manager that ties storage to the
keyring. Persistence only: every cryptographic step is delegated to `byok.core.security`.

Data flows one way: `BYOKManager` validates input, seals with the keyring (bound to owner and
provider), and hands an `APIKey` (ciphertext + metadata) to a storage backend.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastsql import Database
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .database import (
    Access,
    Guard,
    from_iso,
    open_database,
    open_schema,
    record_schema_version,
    schema_version,
    to_iso,
)
from .endpoints import validate_endpoint
from .security import Keyring, bind, mask_key, random_token
from .types import (
    LABEL_PATTERN,
    MAX_USER_ID_LENGTH,
    PROVIDER_PATTERN,
    APIKey,
    BYOKConfig,
    Credentials,
    EncryptionError,
    Endpoint,
    EventKind,
    KeyEvent,
    KeyNotFoundError,
    KeyOverview,
    SavedKey,
    SessionFullError,
    StorageBackend,
    StorageError,
    UserAPIKey,
    ValidationError,
    utcnow,
)

__all__ = [
    "CSRF_SESSION_KEY",
    "SCHEMA_VERSION",
    "BYOKManager",
    "DatabaseStorage",
    "HybridStorage",
    "KeyOverview",
    "RotationReport",
    "SavedKey",
    "SessionStorage",
    "pick_default",
    "validate_api_key",
    "validate_label",
    "validate_provider",
    "validate_user_id",
]

log = logging.getLogger("byok")

SCHEMA_VERSION = 2  # version of the database layout this code writes (2: labels, endpoints)
_KEY_COLUMNS = "user_id, provider, encrypted_value, key_version, created_at, expires_at, updated_at"
_KEY_CHARS = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces or control characters
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")  # SQL table names we accept
_SIGNATURE_BYTES = 35  # itsdangerous TimestampSigner: ".<timestamp>.<signature>"
_ATTRIBUTE_BYTES = 100  # headroom for "; path=/; Max-Age=…; httponly; samesite=lax; secure"
CLOCK_SKEW = timedelta(seconds=5)  # hybrid: how far in the future a cache copy may be written
CSRF_SESSION_KEY = "byok_csrf"  # session entry holding the CSRF token (byok.middleware.csrf)
_CSRF_TOKEN_CHARS = 43  # random_token(32)
_STAMP = "c"  # key of the last cleanup's time (epoch seconds) inside the session entry
_OLD_STAMP = "byok_cleanup"  # where byok ≤ 0.1 kept it (with the user id): removed on write


# --- validation ------------------------------------------------------------------------------


def validate_provider(
    provider: Any,  # a provider name
) -> str:
    """The provider name, or ValidationError when it does not match PROVIDER_PATTERN."""
    if not isinstance(provider, str) or not PROVIDER_PATTERN.fullmatch(provider):
        # masked: a provider argument that fails is sometimes the API key (arguments swapped)
        shown = repr(mask_key(provider)) if isinstance(provider, str) else type(provider).__name__
        raise ValidationError(
            f"invalid provider name {shown}: use 1-64 lowercase letters, digits, '-' or '_'"
        )
    return provider


def validate_api_key(
    api_key: Any,  # the key as typed by a user
    max_length: int,  # longest key accepted
) -> str:
    """The key with surrounding whitespace removed, or ValidationError (the key is never echoed)."""
    if not isinstance(api_key, str):
        raise ValidationError(f"API key must be a string, not {type(api_key).__name__}")
    key = api_key.strip()
    if not key:
        raise ValidationError("API key is empty")
    if len(key) > max_length:
        raise ValidationError(f"API key is too long ({len(key)} characters; at most {max_length})")
    if not _KEY_CHARS.fullmatch(key):
        raise ValidationError(
            "API key may only contain printable ASCII characters (no spaces or control characters)"
        )
    return key


def validate_user_id(
    user_id: Any,  # a user id: str or int, or None
    required: bool = False,  # whether None is an error (database storage)
) -> str | None:
    """The user id as text, or ValidationError."""
    if user_id is None:
        if required:
            raise ValidationError("a user_id is required for database and hybrid storage")
        return None
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        if user_id.bit_length() > 4 * MAX_USER_ID_LENGTH:  # str() of a huge int is slow, or fails
            raise ValidationError(f"user_id must be 1-{MAX_USER_ID_LENGTH} printable characters")
        user_id = str(user_id)
    if not isinstance(user_id, str):
        raise ValidationError(f"user_id must be str or int, not {type(user_id).__name__}")
    if not user_id or len(user_id) > MAX_USER_ID_LENGTH or not user_id.isprintable():
        raise ValidationError(f"user_id must be 1-{MAX_USER_ID_LENGTH} printable characters")
    return user_id


def validate_label(
    label: Any,  # a key label as typed (None = "the provider's default key")
) -> str | None:
    """The label with surrounding spaces removed ("" = unlabelled), None kept; else
    ValidationError: 1-32 letters, digits, spaces, '.', '-' or '_'."""
    if label is None:
        return None
    if not isinstance(label, str):
        raise ValidationError(f"label must be text, not {type(label).__name__}")
    label = label.strip()
    if label and not LABEL_PATTERN.fullmatch(label):
        raise ValidationError(
            "A label is 1-32 letters, digits, spaces, '.', '-' or '_' (e.g. 'work', 'personal')"
        )
    return label


def _session(
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


# --- session ---------------------------------------------------------------------------------


def _ts(dt: datetime | None) -> int | None:
    """Whole seconds since the epoch (compact for the cookie)."""
    return None if dt is None else int(dt.timestamp())


def _from_ts(value: Any) -> datetime | None:
    """Inverse of `_ts`."""
    return None if value is None else datetime.fromtimestamp(int(value), tz=UTC)


def pick_default(
    records: Iterable[APIKey],  # one provider's keys
    flagged_only: bool = False,  # True: only a key flagged default counts (hybrid's cache)
) -> APIKey | None:
    """The provider's default key: the one flagged default, else the oldest (then by label)."""
    found = min(records, key=lambda r: (not r.is_default, r.created_at, r.label), default=None)
    return None if found is None or (flagged_only and not found.is_default) else found


def _same_copy(
    stored: APIKey,  # the copy stored now
    read: APIKey,  # the copy read earlier
) -> bool:
    """True when both are the same sealed copy (value and expiry; the nonce makes each seal
    unique), whatever flags were set on the read copy since."""
    return stored.encrypted_value == read.encrypted_value and stored.expires_at == read.expires_at


def _with_defaults(
    keys: list[APIKey],  # live records, sorted by provider and label
) -> list[APIKey]:
    """The same records, each provider's default (see `pick_default`) flagged, the others not."""
    by_provider: dict[str, list[APIKey]] = {}
    for k in keys:
        by_provider.setdefault(k.provider, []).append(k)
    for group in by_provider.values():
        chosen = pick_default(group)
        for k in group:
            k.is_default = k is chosen
    return keys


def _slot(provider: str, label: str) -> str:
    """A key's name in the session entry: the provider, or "provider#label" for a labelled key."""
    return f"{provider}#{label}" if label else provider


def _unslot(slot: str) -> tuple[str, str]:
    provider, _, label = slot.partition("#")
    return provider, label


class SessionStorage:
    """Sealed keys in the session cookie: one namespaced entry, partitioned per user, budgeted.

    Layout of ``session[f"{prefix}keys"]``: ``{"sid": <random id>, "c": <last cleanup>, "k":
    {<user or "">: {<slot>: [<sealed, base64url>, <created>, <expires or null>, <written>(,
    <endpoint JSON or null>, <1 if default>)]}}}``; a slot is the provider, or
    ``provider#label`` for a labelled key. An entry written before labels existed (4-item cells,
    provider slots) is read as is. Every byte byok writes to the session counts against
    `config.cookie_limit`: room for the CSRF token and the cleanup stamp is kept before they are
    written.
    """

    blocks = False  # microseconds of work on the request's own session: run inline
    needs_user = False  # keys belong to the session (a user id only partitions them)

    def __init__(
        self,
        config: BYOKConfig,  # reads session_key_prefix, cookie_limit, session_cookie
        namespace: str = "keys",  # suffix of the session entry (hybrid uses "cache")
        flagged_default: bool = False,  # only a flagged key is the default (hybrid's cache)
    ):
        self.config = config
        self.namespace = namespace
        self.name = f"{config.session_key_prefix}{namespace}"
        self.flagged_default = flagged_default

    def _owners(self, request: Any) -> dict[str, dict]:
        """The entry's {owner: {slot: cell}} (read only); malformed parts read as empty and
        the next write replaces them (the entry is byok's own namespace)."""
        entry = _session(request).get(self.name)
        owners = entry.get("k") if isinstance(entry, dict) else None
        if not isinstance(owners, dict):
            return {}
        return {o: v for o, v in owners.items() if isinstance(v, dict)}

    def _entry(self, request: Any) -> dict:
        """A copy of this storage's session entry (copied, so writes reassign and get saved)."""
        entry = _session(request).get(self.name)
        base = entry if isinstance(entry, dict) else {}
        return {**base, "k": {o: dict(v) for o, v in self._owners(request).items()}}

    def _save(
        self,
        request: Any,  # a request with a session
        entry: dict,  # the new value of this storage's entry
        grows: bool = True,  # False for removals: they may always be written
    ) -> None:
        """Reassign the entry (Starlette only saves reassigned keys), within the cookie budget."""
        session = _session(request)
        entry["k"] = {o: v for o, v in entry["k"].items() if v}
        size = self.cookie_size(self._projected(session, entry)) if grows else 0
        if size > self.config.cookie_limit:
            raise SessionFullError(
                f"storing this key would make the session cookie {size} bytes, over the "
                f"{self.config.cookie_limit}-byte limit browsers accept; remove a key or use "
                "database storage"
            )
        session.pop(_OLD_STAMP, None)
        session[self.name] = entry

    def _projected(self, session: dict, entry: dict) -> dict:
        """The session with `entry`, and room kept for what byok writes later on its own: the
        CSRF token and the cleanup stamp count against the budget before they exist."""
        out = {k: v for k, v in session.items() if k != _OLD_STAMP}
        out[self.name] = (
            entry
            if _STAMP in entry or self.namespace != "keys"
            else {
                **entry,
                _STAMP: 10**10,
            }
        )
        out.setdefault(CSRF_SESSION_KEY, "x" * _CSRF_TOKEN_CHARS)
        return out

    def fits(
        self,
        session: dict,  # a session dict about to be written
    ) -> bool:
        """True when this session's cookie stays within `config.cookie_limit`."""
        return self.cookie_size(session) <= self.config.cookie_limit

    def cookie_size(
        self,
        session: dict,  # a session dict as Starlette would serialise it
    ) -> int:
        """Projected Set-Cookie size: name, base64 JSON, signature and attribute headroom."""
        body = len(json.dumps(session).encode())
        return (
            len(self.config.session_cookie)
            + 1
            + 4 * ((body + 2) // 3)
            + _SIGNATURE_BYTES
            + _ATTRIBUTE_BYTES
        )

    def session_id(
        self,
        request: Any,  # a request with a session
    ) -> str:
        """This session's random id (created on first use); binds anonymous keys to the session."""
        session = _session(request)
        entry = session.get(self.name)
        if isinstance(entry, dict) and isinstance(entry.get("sid"), str):
            return entry["sid"]
        entry = self._entry(request)
        entry["sid"] = random_token(12)
        self._save(request, entry)
        return entry["sid"]

    def store(
        self,
        request: Any,  # a request with a session
        key: APIKey,  # the sealed key and its metadata
    ) -> APIKey:
        """Store or replace a key (SessionFullError if the cookie would pass its limit); returns
        it as it reads back (the cookie keeps whole seconds)."""
        entry = self._entry(request)
        owner = entry["k"].setdefault(key.user_id or "", {})
        token = base64.urlsafe_b64encode(key.encrypted_value).rstrip(b"=").decode()
        cell: list = [token, _ts(key.created_at), _ts(key.expires_at), _ts(utcnow())]
        if key.endpoint:  # plain keys keep the short cell
            cell += [key.endpoint.encode().decode(), 0]
        owner[_slot(key.provider, key.label)] = cell
        if key.is_default:  # one default per provider
            self._flag(owner, key.provider, key.label, cell)
        self._save(request, entry)
        return replace(key, created_at=_from_ts(cell[1]), expires_at=_from_ts(cell[2]))

    def written_at(
        self,
        request: Any,  # a request with a session
        provider: str,  # provider name
        user_id: str | None = None,  # owner (None = the anonymous session)
        label: str | None = None,  # which key; None = the provider's default
    ) -> datetime | None:
        """When this session copy was written (hybrid's cache age)."""
        found = self._find(request, provider, user_id, label)
        return None if found is None else found[1]

    def _cells(self, request: Any, user_id: str | None) -> dict:
        entry = _session(request).get(self.name)
        owners = entry.get("k") if isinstance(entry, dict) else None
        cells = owners.get(user_id or "") if isinstance(owners, dict) else None
        return cells if isinstance(cells, dict) else {}

    def _find(
        self, request: Any, provider: str, user_id: str | None, label: str | None
    ) -> tuple[APIKey, datetime | None] | None:
        """(record, when written) of one key; label None = the provider's default."""
        cells = self._cells(request, user_id)
        if label is not None:
            raw = cells.get(_slot(provider, label))
            return None if raw is None else self._decode(raw, provider, label, user_id)
        found = [
            self._decode(raw, provider, _unslot(slot)[1], user_id)
            for slot, raw in cells.items()
            if _unslot(slot)[0] == provider
        ]
        best = pick_default((r for r, _ in found), self.flagged_default)
        return next((f for f in found if f[0] is best), None)

    @staticmethod
    def _decode(
        raw: Any, provider: str, label: str, user_id: str | None
    ) -> tuple[APIKey, datetime | None]:
        """A stored cell as (record, when it was written); StorageError when malformed."""
        if not (isinstance(raw, list) and len(raw) in (4, 6)):
            raise StorageError(f"malformed session entry for provider {provider!r}")
        try:
            token = raw[0] + "=" * (-len(raw[0]) % 4)
            value = base64.urlsafe_b64decode(token)
            endpoint = Endpoint.decode(raw[4]) if len(raw) == 6 else None
            default = len(raw) == 6 and raw[5] == 1
            key = APIKey(
                provider,
                value,
                _from_ts(raw[1]),
                _from_ts(raw[2]),
                user_id,
                label,
                endpoint,
                default,
            )
            return key, _from_ts(raw[3])
        except (TypeError, ValueError, binascii.Error, OverflowError, OSError):
            raise StorageError(f"malformed session entry for provider {provider!r}") from None

    def retrieve(
        self,
        request: Any,  # a request with a session
        provider: str,  # provider name
        user_id: str | None = None,  # owner (None = the anonymous session)
        label: str | None = None,  # which key; None = the provider's default
    ) -> APIKey | None:
        """The stored key record (expired or not), or None."""
        found = self._find(request, provider, user_id, label)
        return None if found is None else found[0]

    def records(
        self,
        request: Any,  # a request with a session
        user_id: str | None = None,  # owner
    ) -> list[APIKey]:
        """Every stored key record of this owner, sorted by provider and label."""
        cells = self._owners(request).get(user_id or "", {})
        slots = sorted(cells, key=_unslot)
        return [self._decode(cells[s], *_unslot(s), user_id)[0] for s in slots]

    def delete(
        self,
        request: Any,  # a request with a session
        provider: str,  # provider name
        user_id: str | None = None,  # owner
        label: str | None = None,  # which key; None = the provider's default
    ) -> None:
        """Remove one key (no error when absent)."""
        found = self._find(request, provider, user_id, label)
        if found is None:
            return
        entry = self._entry(request)
        entry["k"].get(user_id or "", {}).pop(_slot(provider, found[0].label), None)
        self._save(request, entry, grows=False)

    def discard(
        self,
        request: Any,  # a request with a session
        key: APIKey,  # an expired copy as it was read
    ) -> bool:
        """Remove `key` only if it is still the stored copy of its (owner, provider, label):
        compare-and-delete on the sealed value and the expiry; True if removed."""
        found = self._find(request, key.provider, key.user_id, key.label)
        if found is None or not _same_copy(found[0], key):
            return False
        self.delete(request, key.provider, key.user_id, key.label)
        return True

    def owners(
        self,
        request: Any,  # a request with a session
    ) -> list[str | None]:
        """Every owner with a key in this session (None = the anonymous session)."""
        return [o or None for o in self._owners(request)]

    def cleaned_at(
        self,
        request: Any,  # a request with a session
    ) -> int | None:
        """When expired keys were last removed from this session (epoch seconds), or None."""
        entry = _session(request).get(self.name)
        stamp = entry.get(_STAMP) if isinstance(entry, dict) else None
        return stamp if isinstance(stamp, int) and not isinstance(stamp, bool) else None

    def sweep_due(
        self,
        request: Any,  # a request (with a session, or none: nothing is due)
        user_id: str | None,  # unused: the stamp covers every owner of the session
        interval: float,  # seconds between two cleanups
        now: float,  # epoch seconds
    ) -> bool:
        """True when this session holds keys and was not cleaned within `interval` (no I/O)."""
        try:
            entry = _session(request).get(self.name)
        except StorageError:
            return False
        if not isinstance(entry, dict):
            return False  # no stored keys: nothing to clean, and no cookie to write
        last = self.cleaned_at(request)
        return last is None or not 0 <= now - last < interval

    def sweep(
        self,
        request: Any,  # a request with a session
        user_id: str | None,  # unused: every owner of the session is swept
        now: float,  # epoch seconds, stamped in the session
    ) -> int:
        """Remove every owner's expired keys from this session, then stamp it; how many."""
        expired = [
            k for o in self.owners(request) for k in self.records(request, o) if k.is_expired
        ]
        removed = sum(self.discard(request, k) for k in expired)
        self.mark_cleaned(request, int(now))  # no room: skipped, the next request tries again
        return removed

    def mark_cleaned(
        self,
        request: Any,  # a request with a session
        when: int,  # epoch seconds
    ) -> bool:
        """Record a cleanup (a number, no user id); False when the cookie has no room for it."""
        entry = self._entry(request)
        entry[_STAMP] = int(when)
        try:
            self._save(request, entry)
        except SessionFullError:
            return False
        return True

    def set_default(
        self,
        request: Any,  # a request with a session
        provider: str,  # provider name
        label: str,  # the key that becomes the default
        user_id: str | None = None,  # owner
    ) -> bool:
        """Make one key the provider's default; False when it is not stored."""
        entry = self._entry(request)
        cells = entry["k"].get(user_id or "", {})
        cell = cells.get(_slot(provider, label))
        if cell is None:
            return False
        self._decode(cell, provider, label, user_id)  # StorageError when malformed
        self._flag(cells, provider, label, cell)
        self._save(request, entry)
        return True

    @staticmethod
    def _flag(cells: dict, provider: str, label: str, cell: list) -> None:
        """Flag one cell default and clear the flag of the provider's others (in place)."""
        for slot, other in list(cells.items()):
            if _unslot(slot)[0] == provider and isinstance(other, list) and len(other) == 6:
                cells[slot] = [*other[:5], 0]
        cells[_slot(provider, label)] = [*cell[:4], cell[4] if len(cell) == 6 else None, 1]

    def list_providers(
        self,
        request: Any,  # a request with a session
        user_id: str | None = None,  # owner
    ) -> list[str]:
        """Providers with a stored key (expired included; the manager filters), sorted."""
        return sorted({_unslot(s)[0] for s in self._owners(request).get(user_id or "", {})})

    def clear_all(
        self,
        request: Any,  # a request with a session
        user_id: str | None = None,  # owner
    ) -> None:
        """Remove every key of this owner."""
        entry = self._entry(request)
        if entry["k"].pop(user_id or "", None) is not None:
            self._save(request, entry, grows=False)


# --- database --------------------------------------------------------------------------------


class DatabaseStorage:
    """Sealed keys in a database table through fastsql: SQLite file by default, PostgreSQL by URL.

    One row per (user_id, provider, label), the primary key, written with a real upsert; at most
    one row per (user_id, provider) is flagged the default. Every read commits, so a PostgreSQL
    connection never sits idle in a transaction. Thread-safe.
    """

    blocks = True  # network or disk I/O: async callers use the thread pool
    needs_user = True  # rows belong to a user id
    max_swept = 10_000  # owners whose last sweep is remembered (in memory, per process)

    def __init__(
        self,
        config: BYOKConfig,  # reads db_table_name
        db_url: str | Database = "sqlite:///byok_keys.db",  # URL, or an open fastsql Database
        access: Access = "create",  # "create": make / upgrade the schema; "write" / "read":
        # an existing byok table only (StorageError otherwise), "read" opening it read-only
    ):
        self.config = config
        name = config.db_table_name
        if not _IDENT.fullmatch(name):
            raise ValidationError(f"invalid table name {name!r}")
        if access not in ("create", "write", "read"):
            raise ValidationError(f"access must be 'create', 'write' or 'read', not {access!r}")
        self._lock = threading.RLock()
        self.db = db_url if isinstance(db_url, Database) else open_database(db_url, access)
        with self._guard("open"):
            if access == "create":
                self.table = open_schema(self.db, lambda: self._migrate(name))
            else:
                self.table = self._existing(name)
        t = self.table.table  # the hot read, compiled once: 4x faster than building it per call
        mine = (t.c.user_id == sa.bindparam("u"), t.c.provider == sa.bindparam("p"))
        self._select_one = sa.select(t).where(*mine, t.c.label == sa.bindparam("l"))
        self._select_default = (  # the flagged default, else the oldest key (pick_default)
            sa.select(t).where(*mine).order_by(t.c.is_default.desc(), t.c.created_at, t.c.label)
        ).limit(1)
        self._flag = (  # exactly one default per (user, provider), in one statement
            t.update()
            .where(*mine)
            .values(is_default=sa.case((t.c.label == sa.bindparam("l"), 1), else_=0))
        )
        self._swap = (  # rotation's compare-and-swap of one sealed value
            t.update()
            .where(
                *mine, t.c.label == sa.bindparam("l"), t.c.encrypted_value == sa.bindparam("old")
            )
            .values(encrypted_value=sa.bindparam("new"), key_version=sa.bindparam("v"))
        )
        self._delete_expired = t.delete().where(  # compare-and-delete of one expired row
            *mine,
            t.c.label == sa.bindparam("l"),
            t.c.encrypted_value == sa.bindparam("v"),
            t.c.expires_at == sa.bindparam("e"),
        )
        self._upsert, self._upsert_default = _upsert_statements(t, self.db.engine.dialect.name)
        self._swept: OrderedDict[str, float] = OrderedDict()  # owner -> last sweep (epoch s)

    # connection hygiene

    def _guard(self, what: str) -> Guard:
        """Serialise access, end the transaction, and turn driver errors into StorageError."""
        return Guard(self._lock, self.db, what)

    def _migrate(self, name: str):
        """Create or upgrade the table; the schema version is recorded in byok_meta."""
        version = schema_version(self.db, name, SCHEMA_VERSION)
        if version == 1:
            self._set_aside_v1(name)
        table = self.db.create(
            UserAPIKey,
            pk=["user_id", "provider", "label"],
            name=name,
            not_null={
                "user_id",
                "provider",
                "label",
                "encrypted_value",
                "key_version",
                "created_at",
                "updated_at",
                "is_default",
            },
        )
        self._copy_v1(name)  # also finishes an upgrade a crash interrupted
        if version < SCHEMA_VERSION:
            self.db.q(f'CREATE INDEX IF NOT EXISTS "{name}_version" ON "{name}" (key_version)')
            self.db.q(f'CREATE INDEX IF NOT EXISTS "{name}_expires" ON "{name}" (expires_at)')
            self.db.conn.commit()
            record_schema_version(self.db, name, SCHEMA_VERSION)
        return table

    def _set_aside_v1(self, name: str) -> None:
        """Schema 1 -> 2, step 1: rename the version-1 table (primary key user, provider) so the
        version-2 table (primary key user, provider, label) can be created in its place."""
        inspector = sa.inspect(self.db.engine)
        if name not in inspector.get_table_names():
            return
        if "label" in {c["name"] for c in inspector.get_columns(name)}:
            return  # already version 2 (another process got here first)
        self.db.q(f'DROP INDEX IF EXISTS "{name}_version"')
        self.db.q(f'DROP INDEX IF EXISTS "{name}_expires"')
        self.db.q(f'ALTER TABLE "{name}" RENAME TO "{name}_v1"')
        self.db.conn.commit()

    def _copy_v1(self, name: str) -> None:
        """Schema 1 -> 2, step 2: copy every version-1 row (unlabelled, the provider's default,
        no endpoint) into the new table, then drop the old one. Rerunnable: rows already copied
        are skipped, so an upgrade a crash interrupted completes on the next start."""
        old = f"{name}_v1"
        if old not in sa.inspect(self.db.engine).get_table_names():
            return
        self.db.q(
            f'INSERT INTO "{name}" ({_KEY_COLUMNS}, label, endpoint, is_default) '
            f"SELECT {_KEY_COLUMNS}, '', NULL, 1 FROM \"{old}\" WHERE 1 = 1 ON CONFLICT DO NOTHING"
        )
        self.db.q(f'DROP TABLE "{old}"')
        self.db.conn.commit()

    def _existing(self, name: str):
        """The table as it is, never created or migrated (tools pointed at a database)."""
        tables = set(sa.inspect(self.db.engine).get_table_names())
        if name not in tables or "byok_meta" not in tables:
            raise StorageError(
                f"this database has no byok key table {name!r}: is the database URL right?"
            )
        rows = self.db.q("SELECT value FROM byok_meta WHERE name = :n", n=f"schema:{name}")
        try:
            version = int(rows[0]["value"]) if rows else 0
        except (TypeError, ValueError):
            raise StorageError(f"unreadable schema version of table {name}") from None
        if version != SCHEMA_VERSION:
            raise StorageError(
                f"table {name} has schema version {version}, this byok uses {SCHEMA_VERSION}: "
                "start the app once with this byok (it migrates), or use the matching byok"
            )
        return self.db.table(name)

    @staticmethod
    def _record(row: Any) -> APIKey:
        """A row as an APIKey; StorageError when a value was damaged outside byok (kept)."""
        value = row["encrypted_value"]
        try:
            if not isinstance(value, bytes | bytearray | memoryview):  # SQLite: any type fits
                raise TypeError(f"encrypted_value is {type(value).__name__}, not bytes")
            created = from_iso(row["created_at"])
            if created is None:
                raise TypeError("created_at is empty")
            if not isinstance(row["label"], str):
                raise TypeError(f"label is {type(row['label']).__name__}, not text")
            return APIKey(
                provider=row["provider"],
                encrypted_value=bytes(value),
                created_at=created,
                expires_at=from_iso(row["expires_at"]),
                user_id=row["user_id"],
                label=row["label"],
                endpoint=Endpoint.decode(row["endpoint"]),
                is_default=bool(row["is_default"]),
            )
        except (TypeError, ValueError, OverflowError, RecursionError) as e:
            reason = type(e).__name__
            raise StorageError(
                f"malformed row for provider {row['provider']!r} ({reason})"
            ) from None

    # KeyStorage

    def store(
        self,
        request: Any,  # unused (kept for the KeyStorage interface)
        key: APIKey,  # sealed key; key.user_id is required
    ) -> APIKey:
        """Insert or replace the row of (user_id, provider, label); a default clears the others'
        flags in the same statement (one statement on SQLite and PostgreSQL)."""
        row = {
            "user_id": validate_user_id(key.user_id, required=True),
            "provider": key.provider,
            "label": key.label,
            "encrypted_value": key.encrypted_value,
            "key_version": int.from_bytes(key.encrypted_value[1:3], "big"),
            "created_at": to_iso(key.created_at),
            "expires_at": to_iso(key.expires_at),
            "updated_at": to_iso(utcnow()),
            "endpoint": key.endpoint.encode().decode() if key.endpoint else None,
            "is_default": int(key.is_default),
        }
        with self._guard("store"):
            if self._upsert is None:  # another dialect: fastsql's portable upsert, then the flags
                self.table.upsert(**row)
                if key.is_default:  # same transaction: never two defaults
                    self.db.execute(
                        self._flag, {"u": row["user_id"], "p": key.provider, "l": key.label}
                    )
            else:
                self.db.execute(self._upsert_default if key.is_default else self._upsert, row)
        return key

    def retrieve(
        self,
        request: Any,  # unused
        provider: str,  # provider name
        user_id: str | None = None,  # owner (required)
        label: str | None = None,  # which key; None = the provider's default
    ) -> APIKey | None:
        """The stored key record (expired or not), or None."""
        user_id = validate_user_id(user_id, required=True)
        with self._guard("retrieve"):
            row = self._row(user_id, provider, label)
        return None if row is None else self._record(row)

    def _row(self, user_id: str, provider: str, label: str | None) -> Any:
        """One row (inside a guard): by label, or the provider's default."""
        args = {"u": user_id, "p": provider, "l": label}
        query = self._select_default if label is None else self._select_one
        return self.db.execute(query, args).mappings().first()

    def records(
        self,
        request: Any,  # unused
        user_id: str | None = None,  # owner (required)
    ) -> list[APIKey]:
        """Every stored key record of this owner, sorted by provider and label."""
        user_id = validate_user_id(user_id, required=True)
        with self._guard("records"):
            rows = self.table.rows_where("user_id = :u", {"u": user_id}, order_by="provider, label")
            return [self._record(r) for r in rows]

    def delete(
        self,
        request: Any,  # unused
        provider: str,  # provider name
        user_id: str | None = None,  # owner (required)
        label: str | None = None,  # which key; None = the provider's default
    ) -> None:
        """Remove one key (no error when absent)."""
        user_id = validate_user_id(user_id, required=True)
        with self._guard("delete"):
            if label is None:
                row = self._row(user_id, provider, None)
                if row is None:
                    return
                label = row["label"]
            self.table.delete_where(
                "user_id = :u AND provider = :p AND label = :l",
                {"u": user_id, "p": provider, "l": label},
            )

    def set_default(
        self,
        request: Any,  # unused
        provider: str,  # provider name
        label: str,  # the key that becomes the default
        user_id: str | None = None,  # owner (required)
    ) -> bool:
        """Make one key the provider's default (one statement); False when it is not stored."""
        user_id = validate_user_id(user_id, required=True)
        with self._guard("set_default"):
            if self._row(user_id, provider, label) is None:
                return False
            self.db.execute(self._flag, {"u": user_id, "p": provider, "l": label})
            return True

    def discard(
        self,
        request: Any,  # unused
        key: APIKey,  # an expired row as it was read
    ) -> bool:
        """Delete the row only if it still holds this value and has expired; True if deleted.

        The check is in the statement, so a key saved since the row was read is never removed.
        """
        return self._discard([key], utcnow()) == 1

    def _discard(self, keys: list[APIKey], now: datetime) -> int:
        """Compare-and-delete expired rows (same owner, provider and label, same value, same
        expiry, expiry passed)."""
        expired = [k for k in keys if k.expires_at is not None and k.expires_at <= now]
        if not expired:
            return 0
        params = [
            {
                "u": k.user_id,
                "p": k.provider,
                "l": k.label,
                "v": k.encrypted_value,
                "e": to_iso(k.expires_at),
            }
            for k in expired
        ]
        with self._guard("cleanup"):
            return sum(self.db.execute(self._delete_expired, p).rowcount for p in params)

    def list_providers(
        self,
        request: Any,  # unused
        user_id: str | None = None,  # owner (required)
    ) -> list[str]:
        """Providers with a stored key (expired included; the manager filters), sorted."""
        return sorted({r.provider for r in self.records(request, user_id)})

    def clear_all(
        self,
        request: Any,  # unused
        user_id: str | None = None,  # owner (required)
    ) -> None:
        """Remove every key of this owner."""
        user_id = validate_user_id(user_id, required=True)
        with self._guard("clear"):
            self.table.delete_where("user_id = :u", {"u": user_id})

    # maintenance

    def sweep_due(
        self,
        request: Any,  # unused
        user_id: str | None,  # owner (None: no one's sweep is due)
        interval: float,  # seconds between two sweeps of one owner
        now: float,  # epoch seconds
    ) -> bool:
        """True, at most once per `interval` per owner, when the owner's sweep is due; the
        claim is taken here, in this process's memory (no I/O)."""
        if user_id is None:
            return False
        with self._lock:
            last = self._swept.get(user_id)
            if last is not None and 0 <= now - last < interval:
                return False
            self._stamp(user_id, now)
            return True

    def _stamp(self, user_id: str, now: float) -> None:
        """Remember an owner's sweep (the oldest forgotten past `max_swept` owners)."""
        self._swept[user_id] = now
        self._swept.move_to_end(user_id)
        while len(self._swept) > self.max_swept:
            self._swept.popitem(last=False)

    def sweep(
        self,
        request: Any,  # unused
        user_id: str | None,  # owner; None = every user
        now: float,  # epoch seconds (remembered as this owner's last sweep)
    ) -> int:
        """Delete the owner's expired rows; how many."""
        if user_id is not None:
            with self._lock:
                self._stamp(user_id, now)
        return self.delete_expired(user_id)

    def delete_expired(
        self,
        user_id: str | None = None,  # only this owner's keys; None = everyone's
        now: datetime | None = None,  # reference time (UTC), default now
    ) -> int:
        """Delete expired rows; returns how many. A row whose expiry is damaged is kept."""
        now = now or utcnow()
        where, args = "expires_at IS NOT NULL AND expires_at <= :now", {"now": to_iso(now)}
        if user_id is not None:
            where, args = f"{where} AND user_id = :u", {**args, "u": user_id}
        with self._guard("cleanup"):
            rows = self.table.rows_where(where, args)
            candidates = []
            for row in rows:  # text that merely sorts before "now" is not an expiry
                try:
                    candidates.append(self._record(row))
                except StorageError:
                    log.warning("byok cleanup kept a damaged row (provider %r)", row["provider"])
        return self._discard(candidates, now)

    def stale(
        self,
        version: int,  # the current key version
        batch_size: int,  # rows per batch
        after: tuple[str, str, str] = ("", "", ""),  # keyset cursor: (user, provider, label) seen
    ) -> list[APIKey]:
        """The next batch of rows sealed with another key version, in primary-key order."""
        where = (
            "key_version <> :v AND (user_id > :u OR (user_id = :u AND (provider > :p OR "
            "(provider = :p AND label > :l))))"
        )
        u, p, lbl = (*after, "")[:3]
        with self._guard("scan"):
            rows = self.table.rows_where(
                where,
                {"v": version, "u": u, "p": p, "l": lbl},
                order_by="user_id, provider, label",
                limit=batch_size,
            )
            return [self._record(r) for r in rows]

    def replace_value(
        self,
        key: APIKey,  # the row as read (its encrypted_value is the expected current value)
        new_value: bytes,  # the rewrapped value
    ) -> bool:
        """Compare-and-swap the sealed value; False when the row changed meanwhile."""
        return self.replace_values([(key, new_value)]) == 1

    def replace_values(
        self,
        changes: list[tuple[APIKey, bytes]],  # (row as read, its rewrapped value) pairs
    ) -> int:
        """Compare-and-swap many sealed values in one transaction; returns how many were replaced.

        A row rewritten meanwhile (its value is no longer the one read) is left alone.
        """
        with self._guard("rewrap"):
            replaced = 0
            for key, new_value in changes:
                result = self.db.execute(
                    self._swap,
                    {
                        "u": key.user_id,
                        "p": key.provider,
                        "l": key.label,
                        "old": key.encrypted_value,
                        "new": new_value,
                        "v": int.from_bytes(new_value[1:3], "big"),
                    },
                )
                replaced += result.rowcount
        return replaced

    def count_stale(
        self,
        version: int,  # the current key version
    ) -> int:
        """Rows sealed with another key version."""
        with self._guard("count"):
            return self.table.count_where("key_version <> :v", {"v": version})

    def count(self) -> int:
        """Number of stored rows."""
        with self._guard("count"):
            return self.table.count

    def close(self) -> None:
        """Close the connection and the engine's pool."""
        with self._lock:
            self.db.close()
            self.db.engine.dispose()


def _upsert_statements(
    table: sa.Table,  # the key table
    dialect: str,  # the engine's dialect name
) -> tuple[sa.Insert | None, sa.Insert | None]:
    """(plain, default) INSERT … ON CONFLICT (user_id, provider, label) DO UPDATE, built once
    (fastsql rebuilds it on every call); (None, None) for dialects without it.

    `default` writes a default key and, in the same statement, clears the flag of the
    provider's other flagged rows: it inserts them again as they are (read by the statement
    itself, so nothing deleted is brought back) with is_default 0, and the conflict updates them.
    """
    insert = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}.get(dialect)
    if insert is None:
        return None, None
    t, keys = table, ("user_id", "provider", "label")
    names = [c.name for c in t.columns]

    def on_conflict(stmt: Any) -> sa.Insert:
        update = {n: stmt.excluded[n] for n in names if n not in keys}
        return stmt.on_conflict_do_update(index_elements=list(keys), set_=update)

    new = sa.select(*(sa.cast(sa.bindparam(n), t.c[n].type).label(n) for n in names))
    demoted = sa.select(
        *(sa.cast(sa.literal(0), t.c[n].type) if n == "is_default" else t.c[n] for n in names)
    ).where(
        t.c.user_id == sa.bindparam("user_id"),
        t.c.provider == sa.bindparam("provider"),
        t.c.label != sa.bindparam("label"),
        t.c.is_default != 0,
    )
    default = on_conflict(insert(t).from_select(names, sa.union_all(new, demoted)))
    return on_conflict(insert(t)), default


# --- hybrid ----------------------------------------------------------------------------------


class HybridStorage:
    """Database for persistence, a per-user session copy as a short-lived cache.

    A cached copy is trusted for `config.hybrid_cache_ttl`; after that the database is asked
    again, so a key deleted elsewhere disappears from every session within that time. The cache
    knows a provider's default only once the database named it (a flagged cell).
    """

    blocks = True  # the database is asked: async callers use the thread pool
    needs_user = True  # rows belong to a user id

    def __init__(
        self,
        config: BYOKConfig,  # configuration
        db_url: str | Database | None = None,  # database URL or fastsql Database
    ):
        self.config = config
        self.session = SessionStorage(config, namespace="cache", flagged_default=True)
        self.database = DatabaseStorage(config, db_url or "sqlite:///byok_keys.db")

    def _cache(self, request: Any, key: APIKey) -> None:
        try:
            self.session.store(request, key)
        except SessionFullError:
            self.session.delete(
                request, key.provider, key.user_id, key.label
            )  # the database has it

    def _forget(self, request: Any, provider: str, user_id: str | None) -> None:
        """Drop every cached key of a provider (its default may have moved)."""
        for record in self.session.records(request, user_id):
            if record.provider == provider:
                self.session.delete(request, provider, user_id, record.label)

    def store(
        self,
        request: Any,  # a request with a session
        key: APIKey,  # sealed key; user_id required
    ) -> APIKey:
        """Write to the database, then cache in the session; returns it as the database has it."""
        stored = self.database.store(request, key)
        self._cache(request, key)
        return stored

    def retrieve(
        self,
        request: Any,  # a request with a session
        provider: str,  # provider name
        user_id: str | None = None,  # owner (required)
        label: str | None = None,  # which key; None = the provider's default
    ) -> APIKey | None:
        """The fresh session copy, else the database row (re-cached).

        A copy is fresh when written less than `hybrid_cache_ttl` ago (one written in the future,
        past a small clock-skew tolerance, is not) and unexpired: an expired copy is only a
        stale copy, the database decides whether the key expired.
        """
        user_id = validate_user_id(user_id, required=True)
        found = self.session._find(request, provider, user_id, label)
        if found is not None:
            copy, written = found
            age = utcnow() - written if written is not None else None
            if (
                age is not None
                and -CLOCK_SKEW <= age < self.config.hybrid_cache_ttl
                and not copy.is_expired
            ):
                return copy
        return self.refresh(request, provider, user_id, label)

    def refresh(
        self,
        request: Any,  # a request with a session
        provider: str,  # provider name
        user_id: str | None = None,  # owner (required)
        label: str | None = None,  # which key; None = the provider's default
    ) -> APIKey | None:
        """The database row, bypassing the session copy (which is replaced or removed)."""
        user_id = validate_user_id(user_id, required=True)
        key = self.database.retrieve(request, provider, user_id, label)
        if key is None or key.is_expired:
            if label is None:
                self._forget(request, provider, user_id)
            else:
                self.session.delete(request, provider, user_id, label)
        else:
            if label is None:  # the database chose it: the cache may call it the default
                key.is_default = True
            self._cache(request, key)
        return key

    def records(
        self,
        request: Any,  # unused
        user_id: str | None = None,  # owner (required)
    ) -> list[APIKey]:
        """Every stored key record of this owner (from the database)."""
        return self.database.records(request, user_id)

    def discard(
        self,
        request: Any,  # a request with a session
        key: APIKey,  # an expired database row as it was read
    ) -> bool:
        """Compare-and-delete the expired row; the session copy of its label goes either way
        (it is a cache)."""
        self.session.delete(request, key.provider, key.user_id, key.label)
        return self.database.discard(request, key)

    def delete(
        self,
        request: Any,  # a request with a session
        provider: str,  # provider name
        user_id: str | None = None,  # owner (required)
        label: str | None = None,  # which key; None = the provider's default
    ) -> None:
        """Remove from both."""
        self.database.delete(request, provider, user_id, label)
        self._forget(request, provider, user_id)

    def set_default(
        self,
        request: Any,  # a request with a session
        provider: str,  # provider name
        label: str,  # the key that becomes the default
        user_id: str | None = None,  # owner (required)
    ) -> bool:
        """Make one key the default (in the database; the cache forgets the provider)."""
        done = self.database.set_default(request, provider, label, user_id)
        self._forget(request, provider, user_id)
        return done

    def sweep_due(
        self,
        request: Any,  # unused
        user_id: str | None,  # owner
        interval: float,  # seconds between two sweeps of one owner
        now: float,  # epoch seconds
    ) -> bool:
        """The database's answer (the session copies are a cache: they expire with it)."""
        return self.database.sweep_due(request, user_id, interval, now)

    def sweep(
        self,
        request: Any,  # unused
        user_id: str | None,  # owner; None = every user
        now: float,  # epoch seconds
    ) -> int:
        """Delete the owner's expired rows (from the database); how many."""
        return self.database.sweep(request, user_id, now)

    def list_providers(
        self,
        request: Any,  # unused
        user_id: str | None = None,  # owner (required)
    ) -> list[str]:
        """Providers with a stored key (from the database)."""
        return self.database.list_providers(request, user_id)

    def clear_all(
        self,
        request: Any,  # a request with a session
        user_id: str | None = None,  # owner (required)
    ) -> None:
        """Remove every key of this owner from both."""
        self.database.clear_all(request, user_id)
        self.session.clear_all(request, user_id)


# --- manager ---------------------------------------------------------------------------------


@dataclass
class RotationReport:
    """What a rotation did."""

    rewrapped: int = 0  # rows re-encrypted under the newest key
    changed: int = 0  # rows skipped because they were rewritten meanwhile (already current)
    failed: int = 0  # rows that could not be decrypted (left untouched, reported)


class BYOKManager:
    """Validates, seals and stores API keys; the one object an app talks to."""

    def __init__(
        self,
        secret_key: str | bytes,  # the app secret (≥ 16 bytes); keys are derived from it by HKDF
        db_url: str
        | Database
        | DatabaseStorage
        | None = None,  # database URL or fastsql Database (or DatabaseStorage): implies a database
        config: BYOKConfig | None = None,  # configuration (defaults if None)
    ):
        config = config or BYOKConfig()
        if db_url is not None and config.storage_backend is StorageBackend.SESSION:
            # a database given is a database used (on a copy: the caller's config is not changed)
            config = replace(config, storage_backend=StorageBackend.DATABASE)
        self.config = config
        self.keyring = Keyring.from_config(secret_key, config)
        self.backend = config.storage_backend
        self._sessions = SessionStorage(config)  # also owns the anonymous session id
        if self.backend is StorageBackend.SESSION:
            self.storage: Any = self._sessions
        elif self.backend is StorageBackend.DATABASE:
            self.storage = (
                db_url
                if isinstance(db_url, DatabaseStorage)
                else DatabaseStorage(config, db_url or "sqlite:///byok_keys.db")
            )
        elif self.backend is StorageBackend.HYBRID:
            self.storage = HybridStorage(config, db_url)
        else:
            raise ValidationError(f"unknown storage backend {self.backend!r}")
        self._needs_user = self.needs_user

    @property
    def blocks(self) -> bool:
        """True when storage calls do I/O (database, hybrid): async callers run them in the
        thread pool; False for session storage (microseconds: run them inline)."""
        return self.storage.blocks

    @property
    def needs_user(self) -> bool:
        """True when keys belong to a user id (database, hybrid); session storage needs none."""
        return self.storage.needs_user

    # helpers

    def _owner(self, request: Any, user_id: str | None) -> str:
        """Associated-data owner: the user, or this session's random id."""
        if user_id is not None:
            return f"user:{user_id}"
        return f"session:{self._sessions.session_id(request)}"

    def _args(self, provider: Any, user_id: Any) -> tuple[str, str | None]:
        return validate_provider(provider), validate_user_id(user_id, required=self._needs_user)

    def _emit(
        self,
        kind: EventKind,  # what happened
        provider: str,  # which provider
        user_id: str | None,  # whose key
        key: str | None = None,  # the plaintext, only to mask and fingerprint it here
        detail: str | None = None,  # extra context (never secret)
    ) -> None:
        """Log the event (masked) and call the hook; a failing hook never breaks the operation."""
        level = logging.WARNING if kind is EventKind.DECRYPT_FAILURE else logging.INFO
        if self.config.on_event is None and not log.isEnabledFor(level):
            return  # nobody listens: skip masking and fingerprinting
        masked = mask_key(key) if key else None
        fp = self.keyring.fingerprint(key) if key else None
        event = KeyEvent(kind, provider, user_id, masked, fp, detail)
        log.log(
            level,
            "byok %s provider=%s user=%s key=%s fp=%s %s",
            kind.value,
            provider,
            user_id,
            masked,
            fp,
            detail or "",
        )
        if self.config.on_event is not None:
            try:
                self.config.on_event(event)
            except Exception:
                log.exception("byok on_event hook failed for %s", kind.value)

    def _live(self, request: Any, key: APIKey | None) -> APIKey | None:
        """The key, or None when expired (then removed if auto_cleanup: only the copy read, so
        a key saved meanwhile, from another device or process, is never removed)."""
        if key is None or not key.is_expired:
            return key
        if self.config.auto_cleanup and self.storage.discard(request, key):
            self._emit(EventKind.EXPIRE, key.provider, key.user_id)
        return None

    def _aad(self, request: Any, user_id: str | None, record: APIKey) -> bytes:
        """The associated data of a record: owner, provider and its endpoint."""
        endpoint = record.endpoint.encode() if record.endpoint else b""
        return bind(self._owner(request, user_id), record.provider, endpoint)

    def _unreadable(self, provider: str, user_id: str | None) -> EncryptionError:
        """Report a key that fails to decrypt (it is kept, never deleted) and make its error."""
        self._emit(EventKind.DECRYPT_FAILURE, provider, user_id, detail="kept, not deleted")
        return EncryptionError(
            f"the stored {provider} key cannot be decrypted (was the app secret changed? "
            "list the old one in config.previous_keys); it was kept"
        )

    def _open_from_database(
        self, request: Any, record: APIKey, label: str | None
    ) -> tuple[str, APIKey] | None:
        """Hybrid: a session copy that fails to open (e.g. sealed with a key retired since) is
        dropped and the database row opened instead; None when the row is gone or expired."""
        fresh = self._live(
            request, self.storage.refresh(request, record.provider, record.user_id, label)
        )
        if fresh is None:
            return None
        try:
            return self.keyring.open(
                fresh.encrypted_value, self._aad(request, fresh.user_id, fresh)
            ), fresh
        except EncryptionError:
            raise self._unreadable(record.provider, record.user_id) from None

    def _open(
        self, request: Any, provider: Any, user_id: Any, label: Any
    ) -> tuple[str, APIKey] | None:
        """(plaintext, record) of one live key, None when absent or expired."""
        provider, user_id = self._args(provider, user_id)
        label = validate_label(label)
        record = self._live(request, self.storage.retrieve(request, provider, user_id, label))
        if record is None:
            return None
        aad = self._aad(request, user_id, record)
        try:
            key = self.keyring.open(record.encrypted_value, aad)
        except EncryptionError:
            if self.backend is StorageBackend.HYBRID:  # the session copy may be outdated
                return self._open_from_database(request, record, label)
            raise self._unreadable(provider, user_id) from None
        if self.backend is StorageBackend.SESSION and self.keyring.needs_rewrap(
            record.encrypted_value
        ):
            record.encrypted_value = self.keyring.seal(key, aad)  # lazy rotation of the cookie
            with contextlib.suppress(SessionFullError):  # a read never fails for lack of room
                self.storage.store(request, record)
        return key, record

    # reference API

    def set_key(
        self,
        request: Any,  # the request (its session for session storage)
        provider: str,  # provider name, e.g. 'openai'
        api_key: str,  # the key (surrounding whitespace is removed)
        user_id: str | None = None,  # owner; required for database and hybrid storage
        ttl: timedelta | None = None,  # lifetime; None = config.default_ttl
        *,
        label: str | None = None,  # which of the provider's keys; None = the default one
        endpoint: Any = None,  # custom Endpoint (or {field: text}); bound to the ciphertext
        make_default: bool = False,  # make this key the provider's default
    ) -> SavedKey:
        """Validate, seal (bound to owner, provider and endpoint) and store a key; returns it as
        stored with the owner's keys after the save (on a database: one read, one write)."""
        provider, user_id = self._args(provider, user_id)
        label = validate_label(label)
        key = validate_api_key(api_key, self.config.max_key_length)
        endpoint = validate_endpoint(endpoint)
        if ttl is None:
            ttl = self.config.default_ttl
        elif not isinstance(ttl, timedelta) or ttl <= timedelta(0):
            raise ValidationError("ttl must be a positive timedelta")
        now = utcnow()
        try:
            expires = now + ttl if ttl is not None else None
        except OverflowError:
            raise ValidationError("ttl is too long") from None
        records = self.storage.records(request, user_id)  # the one read
        default = pick_default(r for r in records if r.provider == provider)
        if label is None:
            label = default.label if default is not None else ""
        # the first key of a provider, and a replaced default, are flagged: the default is stable
        is_default = make_default or default is None or default.label == label
        record = APIKey(provider, b"", now, expires, user_id, label, endpoint, is_default)
        record.encrypted_value = self.keyring.seal(key, self._aad(request, user_id, record))
        record = self.storage.store(request, record)  # the one write
        self._emit(
            EventKind.SET, provider, user_id, key, detail=f"label={label}" if label else None
        )
        mine = (record.provider, record.label)
        replaced = any((r.provider, r.label) == mine for r in records)
        others = [r for r in records if (r.provider, r.label) != mine]
        if is_default:  # the store cleared the provider's other flags
            others = [replace(r, is_default=False) if r.provider == provider else r for r in others]
        after = sorted([*others, replace(record)], key=lambda r: (r.provider, r.label))
        live = _with_defaults([r for r in after if not r.is_expired])
        return SavedKey(record, mask_key(key), replaced, tuple(live))

    def get_key(
        self,
        request: Any,  # the request
        provider: str,  # provider name
        user_id: str | None = None,  # owner
        *,
        label: str | None = None,  # which of the provider's keys; None = the default one
    ) -> str | None:
        """The decrypted key, None when absent or expired; EncryptionError when unreadable."""
        opened = self._open(request, provider, user_id, label)
        return None if opened is None else opened[0]

    def get_credentials(
        self,
        request: Any,  # the request
        provider: str,  # provider name
        user_id: str | None = None,  # owner
        *,
        label: str | None = None,  # which of the provider's keys; None = the default one
    ) -> Credentials | None:
        """The decrypted key with its label and custom endpoint (what a call to the provider
        needs), None when absent or expired; the endpoint is authenticated with the key."""
        opened = self._open(request, provider, user_id, label)
        if opened is None:
            return None
        key, record = opened
        return Credentials(record.provider, key, record.label, record.endpoint)

    def delete_key(
        self,
        request: Any,  # the request
        provider: str,  # provider name
        user_id: str | None = None,  # owner
        *,
        label: str | None = None,  # which of the provider's keys; None = the default one
    ) -> None:
        """Delete a key (no error when absent); the oldest remaining one becomes the default."""
        provider, user_id = self._args(provider, user_id)
        label = validate_label(label)
        self.storage.delete(request, provider, user_id, label)
        self._emit(EventKind.DELETE, provider, user_id, detail=f"label={label}" if label else None)

    def set_default(
        self,
        request: Any,  # the request
        provider: str,  # provider name
        label: str,  # the key that becomes the default ("" = the unlabelled one)
        user_id: str | None = None,  # owner
    ) -> None:
        """Make one of the provider's keys its default; KeyNotFoundError when it is not stored."""
        provider, user_id = self._args(provider, user_id)
        label = validate_label(label)
        if label is None:
            raise ValidationError("name the key to make the default (its label, '' if none)")
        if not self.storage.set_default(request, provider, label, user_id):
            raise KeyNotFoundError(f"no {provider} key labelled {label!r} is stored")

    def list_providers(
        self,
        request: Any,  # the request
        user_id: str | None = None,  # owner
    ) -> list[str]:
        """Providers with a live (unexpired) key, sorted."""
        return sorted({k.provider for k in self.list_keys(request, user_id)})

    def clear_keys(
        self,
        request: Any,  # the request
        user_id: str | None = None,  # owner
    ) -> None:
        """Delete every key of this owner."""
        user_id = validate_user_id(user_id, required=self._needs_user)
        self.storage.clear_all(request, user_id)
        self._emit(EventKind.CLEAR, "*", user_id)

    def has_key(
        self,
        request: Any,  # the request
        provider: str,  # provider name
        user_id: str | None = None,  # owner
        *,
        label: str | None = None,  # which of the provider's keys; None = the default one
    ) -> bool:
        """True when a live key is stored (no decryption)."""
        return self.get_key_info(request, provider, user_id, label=label) is not None

    # byok additions

    def get_key_info(
        self,
        request: Any,  # the request
        provider: str,  # provider name
        user_id: str | None = None,  # owner
        *,
        label: str | None = None,  # which of the provider's keys; None = the default one
    ) -> APIKey | None:
        """The live key's record (ciphertext, dates, label, endpoint), without decrypting it."""
        provider, user_id = self._args(provider, user_id)
        label = validate_label(label)
        return self._live(request, self.storage.retrieve(request, provider, user_id, label))

    def get_masked_key(
        self,
        request: Any,  # the request
        provider: str,  # provider name
        user_id: str | None = None,  # owner
        *,
        label: str | None = None,  # which of the provider's keys; None = the default one
    ) -> str | None:
        """The key masked for display (e.g. 'sk-p...wxyz'), or None."""
        key = self.get_key(request, provider, user_id, label=label)
        return None if key is None else mask_key(key)

    def list_keys(
        self,
        request: Any,  # the request
        user_id: str | None = None,  # owner
    ) -> list[APIKey]:
        """Records of every live key of this owner, sorted by provider and label; each
        provider's default (the one get_key returns unlabelled) has is_default set."""
        user_id = validate_user_id(user_id, required=self._needs_user)
        return _with_defaults(
            [k for k in self.storage.records(request, user_id) if self._live(request, k)]
        )

    def overview(
        self,
        request: Any,  # the request (its session for session storage)
        providers: Iterable[str],  # the providers asked about, e.g. the dashboard's
        user_id: str | None = None,  # owner; required for database and hybrid storage
        *,
        keys: Iterable[APIKey] | None = None,  # the owner's records (e.g. SavedKey.keys): no read
    ) -> dict[str, KeyOverview]:
        """provider -> what its card shows, for each of `providers` with a live key: one storage
        read (none with `keys=`), decryption only to mask; an undecryptable key is unreadable."""
        user_id = validate_user_id(user_id, required=self._needs_user)
        wanted = [validate_provider(p) for p in providers]
        found = self.storage.records(request, user_id) if keys is None else keys
        groups: dict[str, list[APIKey]] = {}
        for k in found:
            if not k.is_expired:
                groups.setdefault(k.provider, []).append(k)
        out: dict[str, KeyOverview] = {}
        for provider in wanted:
            group = sorted(groups.get(provider, ()), key=lambda k: k.label)
            if provider in out or not group:
                continue
            chosen = pick_default(group)
            others = tuple(self._card(request, k) for k in group if k is not chosen)
            out[provider] = replace(self._card(request, chosen), others=others)
        return out

    def _card(self, request: Any, key: APIKey) -> KeyOverview:
        """One key as a card shows it: masked (decrypted only for that), or unreadable."""
        try:
            masked = mask_key(
                self.keyring.open(key.encrypted_value, self._aad(request, key.user_id, key))
            )
        except EncryptionError:
            self._emit(EventKind.DECRYPT_FAILURE, key.provider, key.user_id, detail="overview")
            masked = None
        return KeyOverview(
            masked, key.created_at, key.expires_at, masked is None, key.label, key.endpoint
        )

    def sweep_due(
        self,
        request: Any,  # the request
        user_id: str | None = None,  # owner (database and hybrid sweep per user)
        *,
        interval: timedelta | None = None,  # None = config.cleanup_interval
        now: float | None = None,  # epoch seconds; None = now
    ) -> bool:
        """Whether an expiry sweep is due for this session / owner (no I/O; False when
        config.auto_cleanup is off). The session keeps its stamp in the session, a database
        per owner in this process's memory."""
        if not self.config.auto_cleanup:
            return False
        seconds = (interval or self.config.cleanup_interval).total_seconds()
        when = time.time() if now is None else now
        return self.storage.sweep_due(request, validate_user_id(user_id), seconds, when)

    def sweep(
        self,
        request: Any,  # the request
        user_id: str | None = None,  # owner; None with a database = every user
        *,
        now: float | None = None,  # epoch seconds; None = now
    ) -> int:
        """Run the expiry sweep and stamp it; returns how many keys were removed (session: every
        owner in the session; database and hybrid: this owner's rows)."""
        when = time.time() if now is None else now
        return self.storage.sweep(request, validate_user_id(user_id), when)

    def cleanup_expired(
        self,
        request: Any,  # the request (session storage) or None (database: every user)
        user_id: str | None = None,  # owner; None with a database = all users
    ) -> int:
        """Remove expired keys; returns how many."""
        if self.backend is StorageBackend.SESSION:
            user_id = validate_user_id(user_id)
            expired = [k for k in self.storage.records(request, user_id) if k.is_expired]
            return sum(self.storage.discard(request, k) for k in expired)
        user_id = validate_user_id(user_id)
        database = (
            self.storage if self.backend is StorageBackend.DATABASE else self.storage.database
        )
        return database.delete_expired(user_id)

    @property
    def database(self) -> DatabaseStorage | None:
        """The database storage, when keys persist in one."""
        if self.backend is StorageBackend.DATABASE:
            return self.storage
        return self.storage.database if self.backend is StorageBackend.HYBRID else None

    def rotate_keys(
        self,
        batch_size: int = 500,  # rows per batch (each batch commits)
        progress: Callable[[int], None] | None = None,  # called with rows handled per batch
    ) -> RotationReport:
        """Re-encrypt every database row under the newest key. Resumable: run it again after a crash."""
        database = self.database
        if database is None:
            raise StorageError("rotation needs database storage; session keys rotate when read")
        report = RotationReport()
        for batch in self._batches(database, batch_size):
            changes = []
            for key in batch:
                aad = self._aad(None, key.user_id, key)  # a row's owner is always a user
                try:
                    changes.append((key, self.keyring.rewrap(key.encrypted_value, aad)))
                except EncryptionError:
                    report.failed += 1
                    self._emit(
                        EventKind.DECRYPT_FAILURE, key.provider, key.user_id, detail="rotation"
                    )
            replaced = database.replace_values(changes)  # one transaction per batch
            report.rewrapped += replaced
            report.changed += len(changes) - replaced
            if progress is not None:
                progress(len(batch))
        detail = f"rewrapped={report.rewrapped} changed={report.changed} failed={report.failed}"
        self._emit(EventKind.ROTATE, "*", None, detail=detail)
        return report

    def _batches(self, database: DatabaseStorage, batch_size: int) -> Iterator[list[APIKey]]:
        """Batches of rows not yet under the newest key, by keyset pagination."""
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValidationError("batch_size must be a positive integer")
        cursor = ("", "", "")
        while batch := database.stale(self.keyring.version, batch_size, cursor):
            yield batch
            cursor = (batch[-1].user_id or "", batch[-1].provider, batch[-1].label)

    def opens(
        self,
        key: APIKey,  # a database record (owner user_id, provider, endpoint, sealed value)
    ) -> bool:
        """True when this manager's secrets open the record (nothing is decrypted for show)."""
        try:
            self.keyring.open(key.encrypted_value, self._aad(None, key.user_id, key))
        except EncryptionError:
            return False
        return True

    def stale_count(self) -> int:
        """Database rows not yet under the newest key."""
        database = self.database
        return 0 if database is None else database.count_stale(self.keyring.version)
