"""Validation of issued keys (a part of `KeyIssuer`, which documents validate_key).

In order: the key's format and checksum (no query when malformed), one indexed lookup by hash
(or none, from the verified-key cache), revoked, expired, tenancy, scopes, then one atomic write:
rate limit, credits, use_count, last_used_at and the day's usage together. The write is a
compare-and-swap on the row's version, retried from a fresh read when another writer got there
first, and after a few misses taken under a row lock, so it always finishes.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from ..core.compiled import Compiled
from ..core.database import from_iso, to_iso
from ..core.types import StorageError
from . import limits, lineage, records, wants
from .batches import batches_for
from .cache import Entry, VerifiedCache
from .combine import Combiner
from .context import Context
from .errors import (
    CreditsExhaustedError,
    ExpiredKeyError,
    InsufficientScopeError,
    InvalidKeyError,
    QuotaError,
    RevokedKeyError,
)
from .keys import KeyFormat, Peppers
from .limits import Plan
from .models import APIKey, KeyMetadata
from .rollout import Rollout
from .tenancy import Tenancy
from .usage import Usage
from .wants import Want

__all__ = ["Admitted", "NeedsDatabase", "Prepared", "Staged", "Validation"]

OPTIMISTIC_ATTEMPTS = 4  # compare-and-swap tries before taking the row lock


class NeedsDatabase(Exception):
    """Internal signal of `answer(io=False)`: this validation needs the database. Callers use
    the seam `try_cached` (None instead of this exception) rather than catching it."""


class Prepared(NamedTuple):
    """A parsed validation request (see KeyIssuer.prepare)."""

    key: str  # the well-formed key
    key_hash: str  # its hash under the current pepper
    want: Want  # what is asked of it


class Staged(NamedTuple):
    """A counted use checked and planned on a cached row, waiting for its batch (`stage`)."""

    entry: Entry  # the key's row as read
    plan: Plan  # the counters to write
    now: datetime  # the validation's time
    params: dict  # its values in the batch (`store.BATCH`)
    key_hash: str  # where the cache keeps it


class Admitted(NamedTuple):
    """A validated key and, when its rate limit was counted, what is left of it."""

    key: APIKey  # the key's record
    quota: limits.Quota | None  # the rate limit after this call; None when none was counted


class Validation:
    """Validates keys: reads through the verified-key cache, checks, and writes the counters."""

    def __init__(
        self,
        ctx: Context,  # the issuer's database, tables, lock and clock
        *,
        tenancy: Tenancy,  # answers which organization a project or product belongs to
        usage: Usage,  # prunes old usage rows once a day
        cache: VerifiedCache,  # keys verified lately, by hash
        format: KeyFormat,  # parses a presented key
        peppers: Peppers,  # hashes it
        rollout: Rollout,  # finds its row by any hash and rehashes it
    ):
        self.ctx, self.tenancy, self.usage, self.cache = ctx, tenancy, usage, cache
        self.format, self.peppers, self.rollout = format, peppers, rollout
        # concurrent counted uses of one event loop share a statement (PostgreSQL)
        self.batches = batches_for(ctx.tables)  # how its database counts batches (None: SQLite)
        self.combiner = None if self.batches is None else Combiner(ctx, self.batches)

    def prepare(self, plaintext_key: str, **want: Any) -> Prepared:
        """See KeyIssuer.prepare."""
        key = self.format.parse(plaintext_key)
        return Prepared(key, self.peppers.hash(key), wants.wanted(want))

    def wanted(self, **want: Any) -> Want:
        """validate_key's keyword arguments checked once (InvalidInputError when malformed), for
        `prepare_for`: a guard checks its arguments when it is built, not per request."""
        return Want.of(**want)

    def prepare_for(
        self,
        plaintext_key: str,  # the key a client sent
        want: Want,  # what is asked of it (`wanted`)
    ) -> Prepared:
        """`prepare` with arguments checked already (bench "HTTP wrk, PostgreSQL, read-only
        validate_key": no keyword dict built and looked up per request)."""
        key = self.format.parse(plaintext_key)
        return Prepared(key, self.peppers.hash(key), want)

    def try_cached(self, prepared: Prepared) -> APIKey | None:
        """See KeyIssuer.try_cached."""
        # bench "read-only (no usage, no limit), async": a cached answer never leaves the loop
        try:
            return self.answer(prepared, io=False)
        except NeedsDatabase:
            return None

    def answer(self, prepared: Prepared, *, io: bool) -> APIKey:
        """See KeyIssuer.answer."""
        return self.admit(prepared, io=io).key

    def admit(self, prepared: Prepared, *, io: bool) -> Admitted:
        """See KeyIssuer.admit."""
        key, key_hash, want = prepared
        for _ in range(OPTIMISTIC_ATTEMPTS):
            entry = self.cache.get(key_hash)  # bench "validate_key read-only": no query
            if entry is None:
                if not io:
                    raise NeedsDatabase
                entry = self._load(key, key_hash)
            now = self.ctx.clock()
            self._check(entry.key, want, now, io=io)
            drawn = want.limit and entry.row["rolled_to"] is not None  # spends its successor's
            plan = None if drawn else self._plan(entry, want, now)
            if plan is None and not drawn:
                return Admitted(entry.key, None)
            if not io:
                raise NeedsDatabase
            if drawn:
                done, quota = self._draw(entry, want, now)
            elif (direct := self.ctx.direct) is not None:  # SQLite: see direct.py
                with direct.write("validate"):
                    done, quota = self._apply(entry, plan, want, now, direct.run), plan.quota
            else:
                with self.ctx.guard("validate"):
                    done, quota = self._apply(entry, plan, want, now, alone=True), plan.quota
            if done is not None:
                self.cache.put(key_hash, done)
                return Admitted(done.key, quota)
            self.cache.drop(entry.key.id)  # another writer changed the row: read it again
        return self._validate_locked(key, key_hash, want)

    def try_stage(self, prepared: Prepared) -> Admitted | Staged | None:
        """`stage`, None instead of NeedsDatabase: the seam the async face and the guards call
        on the event loop (an APIKeyError still says why a key is refused)."""
        try:
            return self.stage(prepared)
        except NeedsDatabase:
            return None

    def stage(self, prepared: Prepared) -> Admitted | Staged:
        """`admit(io=False)` up to its write: the answer when none is needed, else the counted
        use for a batch (combine.py); NeedsDatabase for a read, or a write no batch takes (a
        day to turn, a rolled key, an uncounted spend, a database without batches)."""
        _, key_hash, want = prepared
        entry = self.cache.get(key_hash)
        if entry is None:
            raise NeedsDatabase
        now, row = self.ctx.clock(), entry.row
        self._check(entry.key, want, now, io=False)
        drawn = want.limit and row["rolled_to"] is not None
        plan = None if drawn else self._plan(entry, want, now)
        if plan is None and not drawn:
            return Admitted(entry.key, None)
        if drawn or not want.track or self.batches is None:
            raise NeedsDatabase
        params = _params(row, plan, now)
        if row["usage_day"] != params["day"]:
            raise NeedsDatabase
        params["bump"] = plan.bump
        return Staged(entry, plan, now, params, key_hash)

    def settle(
        self,
        staged: Staged,  # a use `stage` made
        counted: tuple | None,  # its row's (use_count, usage_count, …) after the batch; None:
        # the row had changed (version or day): nothing was written
    ) -> Admitted | None:
        """A staged use after its batch: admitted, or None (its cached row dropped, so `admit`
        reads it again)."""
        entry = staged.entry
        if counted is None:
            self.cache.drop(entry.key.id)
            return None
        counters = {"usage_day": staged.params["day"], "usage_count": counted[1]}
        done = _counted(
            entry, staged.plan, staged.params, staged.now, counted[0], counters, track=True
        )
        self.cache.put(staged.key_hash, done)
        return Admitted(done.key, staged.plan.quota)

    def _validate_locked(self, key: str, key_hash: str, want: Want) -> Admitted:
        """The last resort under contention: lock the row, read, decide and write at once."""
        entry = self._load(key, key_hash)  # also rehashes; the row may be gone meanwhile
        t = self.ctx.tables
        with self.ctx.guard("validate"):
            t.run(t.lock_row, {"kid": entry.key.id})
            row = t.row(t.key_by_id, {"id": entry.key.id})
            if row is None:
                raise InvalidKeyError("Key not found")
            entry = _entry(row)
            now = self.ctx.clock()
            self._check(entry.key, want, now, io=True)
            if want.limit and row["rolled_to"] is not None:
                done, quota = self._draw(entry, want, now, locked=True)
            else:
                plan = self._plan(entry, want, now)
                done = entry if plan is None else self._apply(entry, plan, want, now)
                quota = None if plan is None else plan.quota
        if done is None:  # cannot happen while the row is locked
            raise StorageError("issued key changed while locked")
        self.cache.put(key_hash, done)
        return Admitted(done.key, quota)

    def _load(self, key: str, key_hash: str) -> Entry:
        """Read the key's row by any hash it may hold (one indexed lookup); rehash it when the
        rollout says so (see rollout.py)."""
        if self.ctx.direct is not None and self.rollout.hot(key):
            return self._read(key_hash)
        with self.ctx.guard("lookup"):
            row = self.rollout.find(key, key_hash)
            if row is None:
                raise InvalidKeyError("Key not found")
            row = self.rollout.settle(key, row)
        entry = _entry(row)
        self.cache.put(key_hash, entry)
        return entry

    def _read(self, key_hash: str) -> Entry:
        """`_load` on SQLite for a key under the current pepper: one read on the driver, and
        the row read last time by this hash reused when it is unchanged (bench "validate_key
        read-only, cache_ttl=0 ≤ 4× HMAC + read")."""
        t = self.ctx.tables
        raw, description = self.ctx.direct.fetch(t.key_by_hash, {"h": key_hash}, "lookup")
        if raw is None:
            raise InvalidKeyError("Key not found")
        known = self.cache.parsed(key_hash)
        if known is not None and known.raw == raw:
            entry = Entry(known.entry.row, known.entry.key, time.monotonic())
        else:
            row = dict(zip((d[0] for d in description), raw, strict=True))
            if self.rollout.matched(row, key_hash) is None:
                raise InvalidKeyError("Key not found")
            entry = _entry(row)
            self.cache.keep(key_hash, raw, entry)
        self.cache.put(key_hash, entry)
        return entry

    def _check(self, key: APIKey, want: Want, now: datetime, *, io: bool) -> None:
        """Revoked, expired, tenancy and scopes; raises the error a client should see."""
        if key.revoked_at is not None:
            raise RevokedKeyError("Key has been revoked")
        exp = key.metadata.expires_at
        if exp is not None and exp <= now:
            raise ExpiredKeyError("Key has expired", expired_at=exp)
        if want.org_id is not None and key.org_id != want.org_id:
            raise InsufficientScopeError("Key does not belong to this organization")
        if want.project_id is not None and not self._fits(key, "project", want.project_id, io):
            raise InsufficientScopeError("Key is not authorized for this project")
        if want.product_id is not None and not self._fits(key, "product", want.product_id, io):
            raise InsufficientScopeError("Key is not authorized for this product")
        if not want.scopes:  # bench "HTTP wrk, PostgreSQL, read-only": no list per request
            return
        missing = [s for s in want.scopes if s not in key.metadata.scopes]
        if missing:
            raise InsufficientScopeError(
                f"Key lacks the required scope(s): {', '.join(missing)}", missing
            )

    def _fits(self, key: APIKey, kind: str, wanted: str, io: bool) -> bool:
        """Whether the key may be used for this project or product (of its own organization)."""
        scoped = key.project_id if kind == "project" else key.product_id
        if scoped is not None:
            return scoped == wanted
        org = self.tenancy.owner(kind, wanted, query=io)
        if org is None and not io and wanted:
            raise NeedsDatabase
        if org != key.org_id:
            return False
        if kind == "product" and key.project_id is not None:
            linked = self.tenancy.linked(key.project_id, wanted, query=io)
            if linked is None:
                raise NeedsDatabase
            return linked
        return True

    def _plan(self, entry: Entry, want: Want, now: datetime) -> Plan | None:
        """The counters after this call (QuotaError when a limit refuses it); None: no write."""
        if not want.limit and not want.track:  # bench "HTTP wrk, PostgreSQL, read-only"
            return None
        row, meta = entry.row, entry.key.metadata
        rl, rem, refilled = row["rl_state"], row["remaining"], row["refilled_at"]
        bump, quota = False, None
        if want.limit and meta.rate_limit is not None:
            try:
                decision = limits.take(rl, meta.rate_limit, now)
            except ValueError:
                raise StorageError(f"damaged rate-limit state of key {entry.key.id}") from None
            if not decision.passed:
                raise QuotaError(
                    "Rate limit exceeded",
                    retry_after_seconds=decision.retry_after,
                    limit=meta.rate_limit.requests,
                    window_seconds=meta.rate_limit.window.seconds,
                )
            rl, bump = decision.state, True
            window = meta.rate_limit.window.seconds
            quota = limits.Quota(
                meta.rate_limit.requests, decision.remaining, decision.retry_after, window
            )
        if want.limit and rem is not None:
            left, at, wait = limits.spend(rem, meta.refill, from_iso(refilled), now)
            if left is None:
                raise CreditsExhaustedError("No credits left", retry_after_seconds=wait)
            rem, refilled, bump = left, to_iso(at), True
        if not bump and not want.track:
            return None
        return Plan(rl, rem, refilled, bump, quota)

    def _apply(
        self,
        entry: Entry,  # the key's row as read
        plan: Plan,  # the counters to write
        want: Want,  # the request
        now: datetime,  # the validation's time
        run: Callable[[Compiled, dict], Any] | None = None,  # runs the compare-and-swap
        *,
        alone: bool = False,  # the write is its guard's whole transaction
    ) -> Entry | None:
        """Write the plan if the row is still the one read (inside a guard, or a Direct write
        with its `run`); None on conflict."""
        t, row = self.ctx.tables, entry.row
        params = _params(row, plan, now)
        if want.track:
            day = params["day"]
            stmt = t.spend_tracked if plan.bump else t.count_use
            counted = t.counted(stmt, params, row, run, alone=alone)
            if counted is None:
                return None
            use_count, usage_count, prev_day, prev_count = counted
            if usage_count == 1 and prev_day is not None and prev_count:  # the day turned
                t.run(t.add_day, {"kid": row["id"], "day": prev_day, "n": prev_count})
                self.usage.prune_daily(now)
            counters = {"usage_day": day, "usage_count": usage_count}
        elif (run or t.run)(t.spend_untracked, params).rowcount != 1:
            return None
        else:
            use_count, counters = row["use_count"], {}
        return _counted(entry, plan, params, now, use_count, counters, track=want.track)

    def _draw(
        self, entry: Entry, want: Want, now: datetime, *, locked: bool = False
    ) -> tuple[Entry | None, limits.Quota | None]:
        """A rolled key spends its lineage head's budget, counts on its own row (None: a
        conflict); with the head's quota after the call."""
        txn = (lambda: contextlib.nullcontext()) if locked else (lambda: self.ctx.guard("validate"))
        with txn():
            found = lineage.head(self.ctx.tables, entry.row, lock=locked)
        source = entry if found is None else _entry(found)  # no head: the successor was deleted
        plan = self._plan(source, want, now) or Plan.kept(source.row)
        try:
            with txn():  # its own row first, then the head's: every writer locks in that order
                own = plan if found is None else Plan.kept(entry.row)  # its own counters
                if (done := self._apply(entry, own, want, now)) is None:
                    raise lineage.Conflict
                if found is not None and plan.bump:
                    lineage.spend_head(self.ctx.tables, found, plan)
        except lineage.Conflict:
            if locked:
                raise StorageError("issued key changed while locked") from None
            return None, None
        done.key = done.key if found is None else lineage.shown(done.key, plan.rem)
        return done, plan.quota


def _params(
    row: Any,  # the key's row as read (its version is the one compared)
    plan: Plan,  # the counters to write
    now: datetime,  # the validation's time
) -> dict:
    """The compare-and-swap's parameters (`store.BATCH` but for `bump`)."""
    # bench "validate_key defaults ≤ 4× HMAC + write": a UTC time's text read as is, its day
    # cut from it, one parameter dict
    stamp = now.isoformat(timespec="microseconds") if now.tzinfo is UTC else to_iso(now)
    return {
        "kid": row["id"],
        "v": row["version"],
        "nv": row["version"] + (1 if plan.bump else 0),
        "now": stamp,
        "rl": plan.rl,
        "rem": plan.rem,
        "refilled": plan.refilled,
        "day": stamp[:10] if now.tzinfo is UTC else now.date().isoformat(),
    }


def _counted(
    entry: Entry,  # the key's Entry as read
    plan: Plan,  # the counters written
    params: dict,  # the compare-and-swap's parameters (`_params`)
    now: datetime,  # the validation's time
    use_count: int,  # the row's use_count after the write
    counters: dict,  # its usage_day and usage_count after it (none when uncounted)
    *,
    track: bool,  # the use was counted
) -> Entry:
    """The key's Entry after a successful compare-and-swap."""
    row = entry.row
    new_row = {
        **row,
        "version": params["nv"],
        "rl_state": plan.rl,
        "remaining": plan.rem,
        "refilled_at": plan.refilled,
        "use_count": use_count,
        "last_used_at": params["now"] if track else row["last_used_at"],
        **counters,
    }
    return _entry(new_row, entry, now if track and now.tzinfo is UTC else None)


def _entry(
    row: Any,  # a key's row (a dict of its own when `previous` is given: kept, not copied)
    previous: Entry | None = None,  # the Entry it was counted from
    used: datetime | None = None,  # its last_used_at as written now (UTC), when it was counted
) -> Entry:
    """An Entry of a row; the parsed metadata is reused when only counters changed (bench
    "validate_key defaults ≤ 4× HMAC + write": no JSON parse after a counted use)."""
    if previous is None or previous.row["metadata"] != row["metadata"]:
        row = dict(row)
        return Entry(row, records.api_key(row), time.monotonic())
    old = previous.key
    meta = old.metadata
    if meta.remaining != row["remaining"]:
        meta = KeyMetadata.from_json(row["metadata"], row["remaining"])
    key = APIKey(
        old.id,
        old.org_id,
        old.project_id,
        old.product_id,
        old.key_prefix,
        meta,
        old.revoked_at,
        old.created_at,
        from_iso(row["last_used_at"]) if used is None else used,
        row["use_count"],
        old.rolled_to,
    )
    return Entry(row, key, time.monotonic())
