"""Which hash an issued key's row holds, and when it moves: signing secrets rolled out safely.

A row's `pepper` names the scheme that made its `key_hash`: a pepper of a signing secret, or
"apikeys" for a key imported from apikeys-platform. The database records in `byok_meta` the
*committed* pepper (`issuing:pepper`): the one every instance of the app holds. New keys are
hashed under it, and a row is rehashed only towards it, on a validation (only then is the
plaintext at hand), by an instance that holds it.

So during a rolling deploy of a new secret (new instances: new secret + the old one listed as
previous; old instances: the old one), nothing is rewritten: the committed pepper is still the
old one, every instance reads every row, and a roll-back loses nothing. Once every instance runs
the new secret, `adopt` (`byok keys rehash`) commits it: from then on new keys use it and used
keys move to it. The old secret may be retired when `status().older` (and `.legacy`) is 0.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import NamedTuple

import sqlalchemy as sa

from ..core.compiled import Compiled
from ..core.database import ByokMeta, Guard
from .keys import Peppers, is_legacy_key
from .store import Tables

__all__ = ["MARKER", "Rollout", "SecretStatus"]

MARKER = "issuing:pepper"  # byok_meta entry: the committed pepper's id


class SecretStatus(NamedTuple):
    """Where a database stands in a signing-secret rollout, seen from one issuer."""

    committed: str  # id of the committed pepper (new keys are hashed under it)
    holds_committed: bool  # whether this issuer has the committed secret (else it never rehashes)
    current: int  # keys hashed under this issuer's signing_secret
    older: int  # keys under one of its previous_signing_secrets (move on their next use)
    legacy: int  # keys imported from apikeys-platform, not yet used (move on their next use)
    unknown: int  # keys under a secret this issuer does not have: they fail here


class Rollout:
    """The hashing policy of one issuer: which pepper new hashes use, how a row is found by any
    hash it may hold, and when a found row is rehashed."""

    def __init__(
        self,
        peppers: Peppers,  # the issuer's signing secrets
        tables: Tables,  # its tables
        guard: Callable[[str], Guard],  # its guarded operation (lock + transaction)
        ttl: float,  # seconds the committed pepper is trusted in process (the cache's ttl)
    ):
        self.peppers, self.tables, self.guard, self.ttl = peppers, tables, guard, ttl
        self._committed: tuple[str, float] | None = None  # (id, monotonic time read)
        self.meta = tables.db.create(ByokMeta, pk="name", name="byok_meta")  # the marker's home
        m, k = self.meta.table, tables.keys.table
        dialect = tables.db.engine.dialect
        self._read_marker = Compiled(sa.select(m.c.value).where(m.c.name == MARKER), dialect)
        self._by_hashes = functools.cache(
            lambda n: Compiled(
                sa.select(k).where(k.c.key_hash.in_([sa.bindparam(f"h{i}") for i in range(n)])),
                dialect,
            )
        )
        # A database without a marker: this instance's secret, or (when it lists older ones) the
        # one before it: the one the instances not yet upgraded hash with.
        ids = peppers.ids
        with guard("record signing secret"):
            tables.insert_ignore(
                self.meta, {"name": MARKER, "value": ids[1] if len(ids) > 1 else ids[0]}, ["name"]
            )

    def committed(self) -> str:
        """The committed pepper's id (read inside the caller's guard; trusted for ttl)."""
        known = self._committed
        if known is not None and time.monotonic() - known[1] < self.ttl:
            return known[0]
        row = self.tables.run(self._read_marker, {}).fetchone()
        value = row[0] if row else self.peppers.current
        self._committed = (value, time.monotonic())
        return value

    def _target(self) -> int:
        """Index of the pepper new hashes use: the committed one when held, else the current."""
        committed = self.committed()
        return self.peppers.ids.index(committed) if committed in self.peppers.ids else 0

    def issue(
        self,
        plaintext: str,  # a new key
    ) -> tuple[str, str]:
        """(hash, pepper id) of a new key's row."""
        with self.guard("read signing secret"):
            target = self._target()
        return self.peppers.hash(plaintext, target), self.peppers.ids[target]

    def issuing(self) -> Callable[[str], tuple[str, str]]:
        """`issue` for many keys at once: the committed pepper is read once."""
        with self.guard("read signing secret"):
            target = self._target()
        pepper, hash_ = self.peppers.ids[target], self.peppers.hash
        return lambda plaintext: (hash_(plaintext, target), pepper)

    def hot(
        self,
        key: str,  # a parsed key
    ) -> bool:
        """Whether the key's row can hold only its hash under the current pepper (one signing
        secret, an issued key): found by that hash alone, nothing to settle."""
        return len(self.peppers.ids) == 1 and not is_legacy_key(key)

    def find(
        self,
        key: str,  # a parsed key
        key_hash: str,  # its hash under the current pepper
    ) -> dict | None:
        """The key's row by any hash it may hold: one indexed lookup (inside the caller's
        guard); None when there is none."""
        t, peppers = self.tables, self.peppers
        if self.hot(key):
            return self.matched(t.row(t.key_by_hash, {"h": key_hash}), key_hash)
        candidates = peppers.candidates(key)
        hashes = [h for hs in candidates.values() for h in hs]
        row = t.row(self._by_hashes(len(hashes)), {f"h{i}": h for i, h in enumerate(hashes)})
        if row is None:
            return None
        made = candidates.get(row["pepper"], ())
        matched = [peppers.equal(row["key_hash"], h) for h in made]  # constant time, each
        return row if any(matched) else None

    def matched(
        self,
        row: dict | None,  # the row found by the key's hash under the current pepper
        key_hash: str,  # that hash
    ) -> dict | None:
        """The row when it holds this hash under the current pepper (compared in constant
        time), else None."""
        if row is None or row["pepper"] != self.peppers.current:
            return None
        return row if self.peppers.equal(row["key_hash"], key_hash) else None

    def settle(
        self,
        key: str,  # the parsed key
        row: dict,  # its row, as found
    ) -> dict:
        """The row, rehashed first to the committed pepper when it is under another scheme and
        this issuer holds that pepper (inside the caller's guard)."""
        if len(self.peppers.ids) == 1 and row["pepper"] == self.peppers.current:
            return row  # the only pepper this issuer can move a row to
        committed = self.committed()
        if row["pepper"] == committed or committed not in self.peppers.ids:
            return row
        target = self.peppers.ids.index(committed)
        t = self.tables
        t.execute(
            t.rehash,
            {
                "kid": row["id"],
                "v": row["version"],
                "nv": row["version"] + 1,
                "h": self.peppers.hash(key, target),
                "pepper": committed,
            },
        )  # no row changed: another writer got there first; read what it left
        fresh = t.row(t.key_by_id, {"id": row["id"]})
        return row if fresh is None else fresh

    def adopt(self) -> SecretStatus:
        """Commit this issuer's signing secret: every instance runs it now. New keys are hashed
        under it and keys under older secrets move to it on their next use."""
        with self.guard("commit signing secret"):
            self.meta.upsert(name=MARKER, value=self.peppers.current)
        self._committed = None
        return self.status()

    def status(self) -> SecretStatus:
        """How many keys each scheme holds, and which pepper is committed."""
        k = self.tables.keys.table
        with self.guard("signing secret status"):
            committed = self.committed()
            counts = self.tables.execute(
                sa.select(k.c.pepper, sa.func.count()).group_by(k.c.pepper)
            ).all()
        by_rank = [0] * (len(self.peppers.ids) + 2)
        for pepper, n in counts:
            by_rank[self.peppers.rank(pepper)] += n
        return SecretStatus(
            committed,
            committed in self.peppers.ids,
            by_rank[0],
            sum(by_rank[1:-2]),
            by_rank[-2],
            by_rank[-1],
        )
