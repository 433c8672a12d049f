"""The statement that counts one batch of counted validations (combine.py), per kind of server
database: what it sends and how each row's counters after it are learnt.

- `Returning` (PostgreSQL): one UPDATE … FROM json_to_recordset(…) RETURNING for all the keys,
  its own transaction; a key alone, the single-row statement of `Tables.counted`.
- `Matched` (MySQL / MariaDB: neither has RETURNING nor UPDATE … FROM a set of values): one
  compare-and-swap per key, all in one query and one transaction (one round trip, one commit),
  each matching only while the row's `use_count` is still the one read, so its counters after it
  follow from the read (as `Tables.spend_today`); the rows in key order, so two batches lock
  them in the same order and never deadlock each other.

A call is sent on the event loop's connection (its `sql` and `params`), or run in a pool thread
(its `run`: a database given as is, MySQL over TLS). Its `found` reads the database's answer: by key id, the (use_count, usage_count, prev_day,
prev_count) of each row counted; a row left out matched nothing (its version, day or count
changed since the read: `admit` takes it again).
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from ..core.dialects import Dialect
from .store import Tables

__all__ = ["Matched", "Returning", "batches_for"]


class ReturningCall(NamedTuple):
    """PostgreSQL's statement for one batch, as the driver takes it."""

    sql: str  # the driver's SQL
    params: Any  # its parameters
    alone: str | None  # the key id when it is one key's single-row statement (rows without id)

    def run(self, driver_conn: Any, dialect: Dialect) -> list:  # a pool thread's connection
        """Run it in a pool thread (a database given as is); the rows it returned."""
        return dialect.run_alone_rows(driver_conn, self.sql, self.params)

    def found(
        self,
        rows: list,  # the rows the statement returned
    ) -> dict[str, tuple]:
        """By key id, the counters of each row counted."""
        if self.alone is not None:
            return {self.alone: tuple(rows[0])} if rows else {}
        return {r[0]: tuple(r[1:]) for r in rows}


class Returning:
    """PostgreSQL's batches: the rows counted say their counters themselves."""

    def __init__(self, t: Tables):  # the issuer's tables (`t.batch` compiled)
        self.t = t

    def stage(self, params: dict, row: dict) -> None:
        """Nothing to add to a staged use's parameters: the statement returns the counters."""

    def call(
        self,
        rows: list[dict],  # each one key's `store.BATCH` values (distinct keys)
    ) -> ReturningCall:
        """The statement that counts `rows` as one transaction, and its parameters."""
        t = self.t
        # bench "… counted validate_key …, c = 1": one use alone runs the single-row statement
        if len(rows) == 1 and rows[0]["n"] == 1:
            (params,) = rows
            single = t.alone[t.spend_tracked if params["bump"] else t.count_use]
            return ReturningCall(single.sql, single.params(params), params["kid"])
        # one text parameter, dumped in C (psycopg's arrays cost more than the statement)
        return ReturningCall(t.batch.sql, t.batch.params({"rows": json.dumps(rows)}), None)


class MatchedCall(NamedTuple):
    """MySQL's statements for one batch: one per row, in key order, their values inlined."""

    statements: list[str]  # each row's compare-and-swap
    rows: list[dict]  # the batch's rows, in the order of their statements

    @property
    def sql(self) -> str:
        """The query on a loop's connection (in autocommit): one transaction, one round trip."""
        if len(self.statements) == 1:
            return self.statements[0]
        return ";".join(["START TRANSACTION", *self.statements, "COMMIT"])

    params = None  # (the values are in the statements)

    def run(self, driver_conn: Any, dialect: Dialect) -> list:  # a pool thread's connection
        """Run them in a pool thread (TLS, or a database given as is: perhaps without several
        statements per query), one after the other, then commit; each one's (rows matched,)."""
        cursor = driver_conn.cursor()
        try:
            answers = []
            for statement in self.statements:
                cursor.execute(statement)
                answers.append((cursor.rowcount,))
            driver_conn.commit()
        except BaseException:
            driver_conn.rollback()
            raise
        return answers

    def found(
        self,
        answers: list,  # one (rows matched,) per statement (on the loop, START's and COMMIT's too)
    ) -> dict[str, tuple]:
        """By key id, the counters of each row its statement matched."""
        n = len(self.rows)
        matched = answers[1 : n + 1] if len(answers) > n else answers
        return {
            r["kid"]: (r["uses"] + r["n"], r["usage"] + r["n"], r["prev_day"], r["prev_count"])
            for r, (m,) in zip(self.rows, matched, strict=True)
            if m == 1
        }


class Matched:
    """MySQL's batches: a row counted is one its compare-and-swap matched."""

    def __init__(self, t: Tables):  # the issuer's tables
        self.t = t

    def stage(
        self,
        params: dict,  # a staged use's `store.BATCH` values
        row: dict,  # the key's row as read (counting today)
    ) -> None:
        """Add the counts read, which the statement compares and its answer follows from."""
        params["uses"], params["usage"] = row["use_count"], row["usage_count"]
        params["prev_day"], params["prev_count"] = row["prev_day"], row["prev_count"]

    def call(
        self,
        rows: list[dict],  # each one key's `store.BATCH` values and its `stage` additions
    ) -> MatchedCall:
        """The query that counts `rows` as one transaction (one statement alone is its own)."""
        ordered = sorted(rows, key=lambda r: r["kid"])
        return MatchedCall([self._statement(r) for r in ordered], ordered)

    def _statement(self, r: dict) -> str:  # one row's values
        """One row's compare-and-swap, its values inlined (a spend is one use: `n` is 1)."""
        t = self.t
        fast = t.spend_today if r["bump"] else t.count_today
        return t.dialect.inline(fast.sql, fast.params(r))


def batches_for(
    t: Tables,  # an issuer's tables
) -> Returning | Matched | None:
    """How the database counts batches; None where it takes no batches (SQLite: direct.py)."""
    if t.dialect.update_from_arrays:
        return Returning(t)
    if t.dialect.multi_statements:
        return Matched(t)
    return None
