"""The statement that counts one batch of counted validations (combine.py), per kind of server
database: what it sends and how each row's counters after it are learnt.

- `returning` (PostgreSQL): one UPDATE … FROM json_to_recordset(…) RETURNING for all the keys,
  its own transaction; a key alone, the single-row statement of `Tables.counted`.
- `matched` (MySQL / MariaDB: neither has RETURNING nor UPDATE … FROM a set of values): per
  key the same compare-and-swap as one row of PostgreSQL's statement, then the read of the
  row's counters (its lock is held to the commit: they are this update's), all in one query and
  one transaction (one round trip, one commit); the rows in key order, so two batches lock them
  in the same order and never deadlock each other.

A call is sent on the event loop's connection (its `sql` and `params`), or run in a pool
thread (its `run`: a database given as is, MySQL over TLS). Its `found` reads the database's
answer: by key id, the (use_count, usage_count, prev_day, prev_count) of each row counted; a
row left out matched nothing (its version or day changed since the read: `admit` takes it
again).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, NamedTuple

from ..core.dialects import Dialect
from .store import Tables

__all__ = ["Batches", "MatchedCall", "ReturningCall", "batches_for"]


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


def returning(
    t: Tables,  # the issuer's tables (`t.batch` compiled)
    rows: list[dict],  # each one key's `store.BATCH` values (distinct keys)
) -> ReturningCall:
    """PostgreSQL's statement that counts `rows` as one transaction, and its parameters: the
    rows counted say their counters themselves."""
    # bench "… counted validate_key …, c = 1": one use alone runs the single-row statement
    if len(rows) == 1 and rows[0]["n"] == 1:
        (params,) = rows
        single = t.alone[t.spend_tracked if params["bump"] else t.count_use]
        return ReturningCall(single.sql, single.params(params), params["kid"])
    # one text parameter, dumped in C (psycopg's arrays cost more than the statement)
    return ReturningCall(t.batch.sql, t.batch.params({"rows": json.dumps(rows)}), None)


class MatchedCall(NamedTuple):
    """MySQL's statements for one batch: per row, in key order, its UPDATE and the read of its
    counters after it, their values inlined."""

    statements: list[tuple[str, str]]  # each row's UPDATE and read
    rows: list[dict]  # the batch's rows, in the order of their statements

    @property
    def sql(self) -> str:
        """The query on a loop's connection (in autocommit): one transaction, one round trip."""
        each = [s for pair in self.statements for s in pair]
        return ";".join(["START TRANSACTION", *each, "COMMIT"])

    params = None  # (the values are in the statements)

    def run(self, driver_conn: Any, dialect: Dialect) -> list:  # a pool thread's connection
        """Run them in a pool thread (TLS, or a database given as is: perhaps without several
        statements per query), one after the other, then commit; the answers as on the loop."""
        cursor = driver_conn.cursor()
        try:
            answers: list = [(0,)]  # (where the loop's START TRANSACTION answers)
            for update, read in self.statements:
                cursor.execute(update)
                answers.append((cursor.rowcount,))
                cursor.execute(read)
                answers.append(list(cursor.fetchall()))
            driver_conn.commit()
        except BaseException:
            driver_conn.rollback()
            raise
        return answers

    def found(
        self,
        answers: list,  # the START's, then per row its UPDATE's (rows matched,) and its read's rows
    ) -> dict[str, tuple]:
        """By key id, the counters of each row its UPDATE matched."""
        n = len(self.rows)
        updates, reads = answers[1 : 2 * n : 2], answers[2 : 2 * n + 1 : 2]
        return {
            r["kid"]: tuple(read[0])
            for r, (matched,), read in zip(self.rows, updates, reads, strict=True)
            if matched == 1
        }


def matched(
    t: Tables,  # the issuer's tables
    rows: list[dict],  # each one key's `store.BATCH` values (distinct keys)
) -> MatchedCall:
    """MySQL's query that counts `rows` as one transaction: each row's UPDATE, then its
    counters read back under its lock."""
    inline = t.dialect.inline
    ordered = sorted(rows, key=lambda r: r["kid"])
    pairs = [
        (
            inline(t.batch_row.sql, t.batch_row.params(r)),
            inline(t.read_back.sql, t.read_back.params({"kid": r["kid"]})),
        )
        for r in ordered
    ]
    return MatchedCall(pairs, ordered)


Batches = Callable[[list[dict]], ReturningCall | MatchedCall]  # a batch's rows -> its call


def batches_for(
    t: Tables,  # an issuer's tables
) -> Batches | None:
    """How the database counts a batch; None where it takes no batches (SQLite: direct.py)."""
    if t.dialect.update_from_arrays:
        return functools.partial(returning, t)
    if t.dialect.multi_statements:
        return functools.partial(matched, t)
    return None
