"""Sealed keys in the session cookie: one namespaced entry, partitioned per owner, within the
cookie's byte budget. The entry's layout, its cleanup stamp and the CSRF token's room are known
here only."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ..security import random_token
from ..types import SESSION_TTL, APIKey, BYOKConfig, SessionFullError, StorageError
from .backend import Backend, Peeked, Saved, same_copy, with_defaults
from .budget import CookieBudget
from .cells import (
    CSRF_SESSION_KEY,
    OLD_STAMP,
    STAMP,
    Cell,
    cell_of,
    decode_cell,
    flag_default,
    from_ts,
    lone_cell,
    make_cell,
    malformed,
    pick_cell,
    remember_cell,
    session_of,
    slot_of,
    unslot,
)

__all__ = ["CSRF_SESSION_KEY", "SessionStorage"]


class SessionStorage(Backend):
    """Sealed keys in the session cookie: one namespaced entry, partitioned per user, budgeted.

    Layout of ``session[f"{prefix}keys"]``: ``{"sid": <random id>, "c": <last cleanup>, "k":
    {<user or "">: {<slot>: <cell>}}}``; a slot is the provider, or ``provider#label`` for a
    labelled key; a cell is a `Cell` as a list (``[<sealed, base64url>, <created>, <expires or
    null>, <written>(, <endpoint JSON or null>, <1 if default>)]``). An entry written before labels existed (4-item cells,
    provider slots) is read as is. Every byte byok writes to the session counts against
    `config.cookie_limit`: room for the CSRF token and the cleanup stamp is kept before they are
    written.
    """

    blocks = False  # microseconds of work on the request's own session: run inline
    key_ttl = SESSION_TTL  # a session ends; its keys expire with a day
    needs_user = False  # keys belong to the session (a user id only partitions them)
    rewrap_on_read = True  # no table to rotate: a key read under an old version is resealed

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
        self.budget = CookieBudget(config)

    def _owners(self, request: Any, entry: Any = None) -> dict[str, dict]:
        """The entry's {owner: {slot: cell}} (a new dict; `entry` = the entry already read);
        malformed parts read as empty and the next write replaces them (byok's own namespace)."""
        entry = session_of(request).get(self.name) if entry is None else entry
        owners = entry.get("k") if isinstance(entry, dict) else None
        if not isinstance(owners, dict):
            return {}
        return {o: v for o, v in owners.items() if isinstance(v, dict)}

    def _entry(self, request: Any) -> dict:
        """A copy of this storage's session entry (copied, so writes reassign and get saved)."""
        entry = session_of(request).get(self.name)
        base = entry if isinstance(entry, dict) else {}
        return {**base, "k": {o: dict(v) for o, v in self._owners(request, base).items()}}

    def _edit(self, request: Any, user_id: str | None) -> tuple[dict, dict]:
        """(a new entry, a copy of this owner's cells in it): a write changes only the copies,
        so a refused write (SessionFullError) leaves the session as it was."""
        entry = session_of(request).get(self.name)
        base = entry if isinstance(entry, dict) else {}
        owners = self._owners(request, base)
        owners[user_id or ""] = cells = dict(owners.get(user_id or "", ()))
        return {**base, "k": owners}, cells

    def _save(
        self,
        request: Any,  # a request with a session
        entry: dict,  # the new value of this storage's entry
        grows: bool = True,  # False for removals: they may always be written
    ) -> None:
        """Reassign the entry (Starlette only saves reassigned keys), within the cookie budget."""
        session = session_of(request)
        entry["k"] = {o: v for o, v in entry["k"].items() if v}
        if grows:  # the cleanup stamp is kept room for in the keys' entry only
            stamp_room = STAMP not in entry and self.namespace == "keys"
            self.budget.check(session, self.name, entry, stamp_room=stamp_room)
        session.pop(OLD_STAMP, None)
        session[self.name] = entry

    def fits(
        self,
        session: dict,  # a session dict about to be written
    ) -> bool:
        """True when this session's cookie stays within `config.cookie_limit`."""
        return self.budget.fits(session)

    def cookie_size(
        self,
        session: dict,  # a session dict as Starlette would serialise it
    ) -> int:
        """Projected Set-Cookie size: name, base64 JSON, signature and attribute headroom."""
        return self.budget.size(session)

    def session_id(
        self,
        request: Any,  # a request with a session
    ) -> str:
        """This session's random id (created on first use); binds anonymous keys to the session."""
        entry = session_of(request).get(self.name)
        sid = entry.get("sid") if entry.__class__ is dict else None
        if sid.__class__ is str:
            return sid
        entry = self._entry(request)
        entry["sid"] = random_token(12)
        self._save(request, entry)
        return entry["sid"]

    def owner(
        self,
        request: Any,  # a request with a session
        user_id: str | None,  # the key's owner (validated); None = this session
    ) -> str:
        """Who a key is sealed for: the user, else this session's random id."""
        if user_id is not None:
            return "user:" + user_id
        entry = session_of(request).get(self.name)  # bench row "session get_key vs one AES-GCM
        sid = entry.get("sid") if entry.__class__ is dict else None  # open": the id read inline
        return "session:" + (sid if sid.__class__ is str else self.session_id(request))

    def store(
        self,
        request: Any,  # a request with a session
        key: APIKey,  # the sealed key and its metadata
    ) -> APIKey:
        """Store or replace a key (SessionFullError if the cookie would pass its limit); returns
        it as it reads back (the cookie keeps whole seconds)."""
        entry, cells = self._edit(request, key.user_id)
        stored = self._put(cells, key, replace(key))
        self._save(request, entry)
        return stored

    def save(
        self,
        request: Any,  # a request with a session
        key: APIKey,  # the sealed key (its label and default flag are decided here)
        label: str | None,  # its label; None = the provider's default's ("" when it has none)
        make_default: bool,  # flag it default even when the provider has another default
    ) -> Saved:
        """`Backend.save` on the cells themselves: the default is found without decoding a
        cell, and the owner's keys after the save are decoded only when asked for."""
        entry, cells = self._edit(request, key.user_id)
        picked = pick_cell(cells, key.provider, None)
        key.label = (picked[0] if picked else "") if label is None else label
        key.is_default = make_default or picked is None or picked[0] == key.label
        replaced = slot_of(key.provider, key.label) in cells
        self._put(cells, key, key)
        self._save(request, entry)
        return Saved(key, replaced, lambda: with_defaults(self._live(cells, key.user_id)))

    def _put(self, cells: dict, key: APIKey, out: APIKey) -> APIKey:
        """Write `key`'s cell into `cells` (a default clears the provider's other flags) and
        memoise its decoding; `out` (key or a copy) becomes the record as it reads back."""
        cell, decoded = make_cell(key)
        if key.is_default:  # one default per provider
            flag_default(cells, key.provider, key.label, cell)
        else:
            cells[slot_of(key.provider, key.label)] = cell.wire()
        # bench row "session set_key + get_key": the next read of this cell decodes nothing
        remember_cell(cell, decoded)
        out.encrypted_value, out.created_at, out.expires_at = decoded[:3]
        return out

    def written_at(
        self,
        request: Any,  # a request with a session
        provider: str,  # provider name
        user_id: str | None = None,  # owner (None = the anonymous session)
        label: str | None = None,  # which key; None = the provider's default
    ) -> datetime | None:
        """When this session copy was written (hybrid's cache age)."""
        found = self.find(request, provider, user_id, label)
        return None if found is None else found[1]

    def _cells(self, request: Any, user_id: str | None) -> dict:
        entry = session_of(request).get(self.name)
        owners = entry.get("k") if isinstance(entry, dict) else None
        cells = owners.get(user_id or "") if isinstance(owners, dict) else None
        return cells if isinstance(cells, dict) else {}

    def _pick_in(self, cells: dict, provider: str, label: str | None) -> tuple[str, Cell] | None:
        """`pick_cell` as this storage reads a default (hybrid's cache: only a flagged one)."""
        return pick_cell(cells, provider, label, self.flagged_default)

    def find(
        self, request: Any, provider: str, user_id: str | None, label: str | None
    ) -> tuple[APIKey, datetime | None] | None:
        """(record, when written) of one key; label None = the provider's default."""
        picked = self._pick_in(self._cells(request, user_id), provider, label)
        if picked is None:
            return None
        key = decode_cell(picked[1], provider, picked[0], user_id)
        try:
            return key, from_ts(picked[1].written)
        except (TypeError, ValueError, OverflowError, OSError):
            raise malformed(provider) from None

    def peek(
        self,
        request: Any,  # a request with a session
        provider: str,  # provider name (validated)
        user_id: str | None,  # owner (validated)
        label: str | None,  # which key; None = the provider's default
    ) -> Peeked | None:
        """`Backend.peek`: the owner's lone default, decoded before (see Backend.peek)."""
        entry = session_of(request).get(self.name)
        if label is not None or self.flagged_default or entry.__class__ is not dict:
            return None
        found = lone_cell(entry.get("k"), user_id or "", provider)
        sid = entry.get("sid")
        if found is None or (user_id is None and sid.__class__ is not str):
            return None  # a session without its id yet: the full read creates it
        owner = "session:" + sid if user_id is None else "user:" + user_id
        return Peeked(found[0], found[2], found[3], owner)

    def retrieve(
        self,
        request: Any,  # a request with a session
        provider: str,  # provider name
        user_id: str | None = None,  # owner (None = the anonymous session)
        label: str | None = None,  # which key; None = the provider's default
    ) -> APIKey | None:
        """The stored key record (expired or not), or None."""
        picked = pick_cell(self._cells(request, user_id), provider, label, self.flagged_default)
        return None if picked is None else decode_cell(picked[1], provider, picked[0], user_id)

    def records(
        self,
        request: Any,  # a request with a session
        user_id: str | None = None,  # owner
    ) -> list[APIKey]:
        """Every stored key record of this owner, sorted by provider and label."""
        return self._records(self._owners(request).get(user_id or "", {}), user_id)

    def _records(self, cells: dict, user_id: str | None) -> list[APIKey]:
        """The records of one owner's cells, sorted by provider and label."""
        records = []
        for slot in sorted(cells, key=unslot):
            provider, label = unslot(slot)
            records.append(decode_cell(cell_of(cells[slot], provider), provider, label, user_id))
        return records

    def _live(self, cells: dict, user_id: str | None) -> list[APIKey]:
        """The unexpired records of one owner's cells, sorted."""
        return [k for k in self._records(cells, user_id) if not k.is_expired]

    def delete(
        self,
        request: Any,  # a request with a session
        provider: str,  # provider name
        user_id: str | None = None,  # owner
        label: str | None = None,  # which key; None = the provider's default
    ) -> None:
        """Remove one key (no error when absent)."""
        picked = self._pick_in(self._cells(request, user_id), provider, label)
        if picked is None:
            return
        entry, cells = self._edit(request, user_id)
        cells.pop(slot_of(provider, picked[0]), None)
        self._save(request, entry, grows=False)

    def discard(
        self,
        request: Any,  # a request with a session
        key: APIKey,  # an expired copy as it was read
    ) -> bool:
        """Remove `key` only if it is still the stored copy of its (owner, provider, label):
        compare-and-delete on the sealed value and the expiry; True if removed."""
        found = self.find(request, key.provider, key.user_id, key.label)
        if found is None or not same_copy(found[0], key):
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
        entry = session_of(request).get(self.name)
        stamp = entry.get(STAMP) if isinstance(entry, dict) else None
        return stamp if isinstance(stamp, int) and not isinstance(stamp, bool) else None

    def remove_expired(
        self,
        request: Any,  # a request with a session
        user_id: str | None = None,  # owner
    ) -> int:
        """Remove this owner's expired keys (compare-and-delete); how many."""
        return sum(self.discard(request, k) for k in self.records(request, user_id) if k.is_expired)

    def sweep_due(
        self,
        request: Any,  # a request (with a session, or none: nothing is due)
        user_id: str | None,  # unused: the stamp covers every owner of the session
        interval: float,  # seconds between two cleanups
        now: float,  # epoch seconds
    ) -> bool:
        """True when this session holds keys and was not cleaned within `interval` (no I/O)."""
        try:
            entry = session_of(request).get(self.name)
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
        removed = sum(self.remove_expired(request, o) for o in self.owners(request))
        self.mark_cleaned(request, int(now))  # no room: skipped, the next request tries again
        return removed

    def mark_cleaned(
        self,
        request: Any,  # a request with a session
        when: int,  # epoch seconds
    ) -> bool:
        """Record a cleanup (a number, no user id); False when the cookie has no room for it."""
        entry = self._entry(request)
        entry[STAMP] = int(when)
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
        entry, cells = self._edit(request, user_id)
        raw = cells.get(slot_of(provider, label))
        if raw is None:
            return False
        cell = cell_of(raw, provider)
        decode_cell(cell, provider, label, user_id)  # StorageError when malformed
        flag_default(cells, provider, label, cell)
        self._save(request, entry)
        return True

    def list_providers(
        self,
        request: Any,  # a request with a session
        user_id: str | None = None,  # owner
    ) -> list[str]:
        """Providers with a stored key (expired included; the manager filters), sorted."""
        return sorted({unslot(s)[0] for s in self._cells(request, user_id)})

    def clear_all(
        self,
        request: Any,  # a request with a session
        user_id: str | None = None,  # owner
    ) -> None:
        """Remove every key of this owner."""
        entry = self._entry(request)
        if entry["k"].pop(user_id or "", None) is not None:
            self._save(request, entry, grows=False)
