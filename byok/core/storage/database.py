"""Sealed keys in a database table through fastsql: a SQLite file by default, PostgreSQL or
MySQL / MariaDB by URL.
The table's layout and statements live in `schema`; this module runs them, compiled, on the
DBAPI connection (`byok.core.compiled`), one guarded transaction per call."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from fastsql import Database

from ..compiled import Compiled, run
from ..database import Access, Guard, open_database, open_schema, to_iso
from ..dialects import dialect_of
from ..security import version_of
from ..types import APIKey, BYOKConfig, StorageError, ValidationError, utcnow
from ..validation import validate_user_id
from .backend import Backend
from .schema import IDENT, Statements, StoredRow, existing, migrate, record_of

__all__ = ["DatabaseStorage"]

log = logging.getLogger("byok")


class DatabaseStorage(Backend):
    """Sealed keys in a database table through fastsql: SQLite file by default, PostgreSQL or
    MySQL / MariaDB by URL.

    One row per (user_id, provider, label), the primary key, written with a real upsert; at most
    one row per (user_id, provider) is flagged the default. Every read commits, so a PostgreSQL
    connection never sits idle in a transaction. Thread-safe.
    """

    blocks = True  # network or disk I/O: async callers use the thread pool
    key_ttl = None  # kept across devices until the user or the app removes it
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
        if not IDENT.fullmatch(name):
            raise ValidationError(f"invalid table name {name!r}")
        if access not in ("create", "write", "read"):
            raise ValidationError(f"access must be 'create', 'write' or 'read', not {access!r}")
        self._lock = threading.RLock()
        self.db = db_url if isinstance(db_url, Database) else open_database(db_url, access)
        with self._guard("open"):
            if access == "create":
                self.table = open_schema(self.db, lambda: migrate(self.db, name))
            else:
                self.table = existing(self.db, name)
        self.dialect = dialect_of(self.db)
        self._sql = Statements(self.table.table, self.dialect, self.db.engine.dialect)
        self._errors = (sa.exc.DBAPIError, self.db.engine.dialect.loaded_dbapi.Error)
        self._swept: OrderedDict[str, float] = OrderedDict()  # owner -> last sweep (epoch s)

    @property
    def database(self) -> DatabaseStorage:
        """This storage (it is the database)."""
        return self

    def _guard(self, what: str) -> Guard:
        """Serialise access, end the transaction, and turn driver errors into StorageError."""
        return Guard(self._lock, self.db, what)

    def _connection(self) -> sa.Connection:
        """The connection this storage's statements run on (inside a guard)."""
        return self.db.conn

    def _run(self, stmt: Compiled, params: dict) -> Any:
        """Run a compiled statement (inside a guard); the driver's cursor."""
        return run(self._connection(), self.dialect, stmt, params)

    def _rows(self, stmt: Compiled, params: dict) -> list[StoredRow]:
        """Every row of a compiled read (inside a guard)."""
        return [StoredRow._make(r) for r in self._run(stmt, params).fetchall()]

    # KeyStorage

    def store(
        self,
        request: Any,  # unused (kept for the KeyStorage interface)
        key: APIKey,  # sealed key; key.user_id is required
    ) -> APIKey:
        """Insert or replace the row of (user_id, provider, label); a default clears the others'
        flags in the same statement (one statement on SQLite and PostgreSQL; on MySQL the
        upsert, then the flags, under a named lock: see `Dialect.serialised`)."""
        row = {
            "user_id": validate_user_id(key.user_id, required=True),
            "provider": key.provider,
            "label": key.label,
            "encrypted_value": key.encrypted_value,
            "key_version": version_of(key.encrypted_value),
            "created_at": to_iso(key.created_at),
            "expires_at": to_iso(key.expires_at),
            "updated_at": to_iso(utcnow()),
            "endpoint": key.endpoint.encode().decode() if key.endpoint else None,
            "is_default": int(key.is_default),
        }
        with self._guard("store"):
            for attempt in range(1, WRITE_ATTEMPTS + 1):
                try:
                    self._write(row, key.is_default)
                    break
                except self._errors as e:
                    # two saves moving a provider's default lock its rows in opposite orders:
                    # the database aborts one ("deadlock detected"), which is retried
                    if attempt == WRITE_ATTEMPTS or not self.dialect.retryable(e):
                        raise
                    self._connection().rollback()
        return key

    def _defaults_locked(self, user_id: str, provider: str) -> Any:
        """Hold the (table, provider, user) lock around statements that move the default, so
        they see every default committed before them (two moves at once leave exactly one);
        see `Dialect.serialised`."""
        # provider names hold no ':', so this names one (table, provider, user)
        lock = f"byok:{self.table.table.name}:{provider}:{user_id}"
        return self.dialect.serialised(self._connection(), lock)

    def _write(self, row: dict[str, Any], is_default: bool) -> None:
        """The upsert of one row (a default clears the provider's other flags with it)."""
        if not is_default:
            self._run(self._sql.upsert, row)
            return
        with self._defaults_locked(row["user_id"], row["provider"]):
            if self._sql.upsert_default is not None:  # one statement
                self._run(self._sql.upsert_default, {f"b_{k}": v for k, v in row.items()})
            else:  # the upsert, then the flags, same transaction: never two defaults
                self._run(self._sql.upsert, row)
                flag = {"u": row["user_id"], "p": row["provider"], "l": row["label"]}
                self._run(self._sql.flag, flag)

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
        return None if row is None else record_of(row)

    def _row(self, user_id: str, provider: str, label: str | None) -> StoredRow | None:
        """One row (inside a guard): by label, or the provider's default."""
        if label is None:
            found = self._run(self._sql.select_default, {"u": user_id, "p": provider}).fetchone()
        else:
            args = {"u": user_id, "p": provider, "l": label}
            found = self._run(self._sql.select_one, args).fetchone()
        return None if found is None else StoredRow._make(found)

    def records(
        self,
        request: Any,  # unused
        user_id: str | None = None,  # owner (required)
    ) -> list[APIKey]:
        """Every stored key record of this owner, sorted by provider and label."""
        user_id = validate_user_id(user_id, required=True)
        with self._guard("records"):
            return [record_of(r) for r in self._rows(self._sql.select_owner, {"u": user_id})]

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
                label = row.label
            self._run(self._sql.delete_one, {"u": user_id, "p": provider, "l": label})

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
            with self._defaults_locked(user_id, provider):
                self._run(self._sql.flag, {"u": user_id, "p": provider, "l": label})
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
            return sum(self._run(self._sql.delete_expired, p).rowcount for p in params)

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
            self._run(self._sql.delete_owner, {"u": user_id})

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

    def remove_expired(
        self,
        request: Any,  # unused
        user_id: str | None = None,  # owner; None = every user
    ) -> int:
        """Delete expired rows (compare-and-delete); how many."""
        return self.delete_expired(validate_user_id(user_id))

    def delete_expired(
        self,
        user_id: str | None = None,  # only this owner's keys; None = everyone's
        now: datetime | None = None,  # reference time (UTC), default now
    ) -> int:
        """Delete expired rows; returns how many. A row whose expiry is damaged is kept."""
        now = now or utcnow()
        query, args = self._sql.select_expired, {"now": to_iso(now)}
        if user_id is not None:
            query, args = self._sql.select_expired_of, {**args, "u": user_id}
        with self._guard("cleanup"):
            rows = self._rows(query, args)
            candidates = []
            for row in rows:  # text that merely sorts before "now" is not an expiry
                try:
                    candidates.append(record_of(row))
                except StorageError:
                    log.warning("byok cleanup kept a damaged row (provider %r)", row.provider)
        return self._discard(candidates, now)

    def stale(
        self,
        version: int,  # the current key version
        batch_size: int,  # rows per batch
        after: tuple[str, str, str] = ("", "", ""),  # keyset cursor: (user, provider, label) seen
    ) -> list[APIKey]:
        """The next batch of rows sealed with another key version, in primary-key order."""
        u, p, lbl = (*after, "")[:3]
        args = {"v": version, "u": u, "p": p, "l": lbl, "n": batch_size}
        with self._guard("scan"):
            return [record_of(r) for r in self._rows(self._sql.select_stale, args)]

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
                result = self._run(
                    self._sql.swap,
                    {
                        "u": key.user_id,
                        "p": key.provider,
                        "l": key.label,
                        "old": key.encrypted_value,
                        "new": new_value,
                        "v": version_of(new_value),
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


WRITE_ATTEMPTS = 3  # a save aborted by a deadlock or a serialization failure is tried again
