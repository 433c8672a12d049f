"""The issued-key tables (fastsql, on the shared plumbing of `byok.core.database`) and the
statements the engine runs, compiled once. No decisions here: the engine makes them.

Tables: `issued_organizations`, `issued_projects`, `issued_products`,
`issued_project_products` (links), `issued_keys` (hash, settings, counters, today's usage and
rate-limit state in one row, so a success is one UPDATE and a key's counters go with it),
`issued_key_usage` (successes per key of earlier UTC days) and `issued_audit`, whose rows are
laid out in records.py. Their layout version is recorded in `byok_meta` as `schema:issuing`.
"""

import functools
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from fastsql import Database

from ..core.compiled import Compiled
from ..core.database import (
    engine_url,
    ensure_index,
    open_database,
    open_schema,
    record_schema_version,
    schema_version,
)
from ..core.dialects import dialect_of
from ..core.types import ValidationError
from .errors import InvalidInputError, NotFoundError
from .records import (
    INDEXES,
    LENGTHS,
    AuditRow,
    KeyRow,
    LinkRow,
    OrgRow,
    ProductRow,
    ProjectRow,
    UsageRow,
)

__all__ = ["BATCH", "SCHEMA_VERSION", "Tables"]

SCHEMA_VERSION = 2  # layout of the issuing tables this code writes (2: lineage_id, rolled_to)
SCHEMA_NAME = "issuing"  # its entry in byok_meta
# a batch row's keys: a compare-and-swap's parameters, and `n` uses counted (plain counts add up)
BATCH = ("kid", "v", "nv", "now", "day", "bump", "rl", "rem", "refilled", "n")


def _batch_types(
    k: sa.Table,  # issued_keys
) -> tuple:
    """The types of `BATCH`'s values, in its order."""
    c = k.c
    kinds = (c.id, c.version, c.version, c.last_used_at, c.usage_day)
    limits = (c.rl_state, c.remaining, c.refilled_at, c.use_count)
    return (*(x.type for x in kinds), sa.Boolean(), *(x.type for x in limits))


def open_db(
    url: Any,  # a database URL given by a caller (see byok.core.database.engine_url)
) -> Database:
    """The database at `url`; InvalidInputError, before a driver is loaded, for a URL byok
    cannot serve."""
    try:
        engine_url(url)
    except ValidationError as e:
        raise InvalidInputError(str(e)) from None
    return open_database(url)


class Tables:
    """The issuing tables of one database and the engine's compiled statements."""

    def __init__(
        self,
        db: Database,  # an open fastsql Database (see byok.core.database.open_database)
    ):
        self.db = db
        self.dialect = dialect_of(db)
        open_schema(db, self._migrate)
        o, p, r, k = (self.orgs.table, self.projects.table, self.products.table, self.keys.table)
        u = self.usage.table
        b = sa.bindparam
        fast = functools.partial(Compiled, dialect=db.engine.dialect)
        # bench "validate_key uncached read-only ≤ 4× HMAC + read": one compiled indexed read
        self.key_by_hash = fast(sa.select(k).where(k.c.key_hash == b("h")))
        self.key_by_id = fast(sa.select(k).where(k.c.id == b("id")))
        self.org_of = {
            "project": sa.select(p.c.org_id).where(p.c.id == b("id")),
            "product": sa.select(r.c.org_id).where(r.c.id == b("id")),
        }
        self.org_exists = sa.select(o.c.id).where(o.c.id == b("id"))
        links = self.links.table
        self.linked = sa.select(links.c.project_id).where(
            links.c.project_id == b("project"), links.c.product_id == b("product")
        )
        cas = k.update().where(k.c.id == b("kid"), k.c.version == b("v"))
        counters = {
            "rl_state": b("rl"),
            "remaining": b("rem"),
            "refilled_at": b("refilled"),
            "version": b("nv"),
        }
        same_day = k.c.usage_day == b("day")
        counted = {  # one success: a turned day is kept in prev_*. In this order: MySQL's SET
            # sees the columns set before it (SQLite's and PostgreSQL's see the old row)
            "use_count": k.c.use_count + 1,
            "last_used_at": b("now"),
            "prev_count": sa.case((same_day, k.c.prev_count), else_=k.c.usage_count),
            "prev_day": sa.case((same_day, k.c.prev_day), else_=k.c.usage_day),
            "usage_count": sa.case((same_day, k.c.usage_count + 1), else_=1),
            "usage_day": b("day"),
        }
        turned = (k.c.use_count, k.c.usage_count, k.c.prev_day, k.c.prev_count)
        # where UPDATE … RETURNING is missing (MySQL), the row is read back after the update
        # (its lock is held to the commit, so it is this update's row)
        back = (lambda stmt: stmt.returning(*turned)) if self.dialect.update_returning else None
        self.read_back = None if back else fast(sa.select(*turned).where(k.c.id == b("kid")))
        back = back or (lambda stmt: stmt)
        self.spend_tracked = fast(back(cas.ordered_values(*counted.items(), *counters.items())))
        self.spend_untracked = fast(cas.values(**counters))
        self.count_use = fast(back(cas.ordered_values(*counted.items())))
        # the same two on a row already counting today (no day turns: no usage row to move),
        # each a whole transaction, committed alone (`counted`)
        today = cas.where(same_day)
        self.alone = {
            self.spend_tracked: fast(
                back(today.ordered_values(*counted.items(), *counters.items()))
            ),
            self.count_use: fast(back(today.ordered_values(*counted.items()))),
        }
        # bench "HTTP wrk, PostgreSQL, counted validate_key … c = 16": many keys' counted uses
        # in one statement (combine.py); each row matches only on its version and today
        self.batch = fast(self._batch(k, turned)) if self.dialect.update_from_arrays else None
        # a spend on a row counting today whose use_count is still the one read (nothing
        # counted it since, not even a count that leaves the version: its usage_count and prev_*
        # are the read ones too): the counts after it are known without reading them back.
        # bench "validate_key defaults ≤ 4× HMAC + write": no RETURNING (SQLite's costs ~4 µs
        # here, ~12 µs in the validator's loop); MySQL's sync validations: no read back
        one = sa.literal_column("1")
        self.spend_today = fast(
            cas.where(k.c.use_count == b("uses"), same_day).values(
                use_count=k.c.use_count + one,
                last_used_at=b("now"),
                usage_count=k.c.usage_count + one,
                **counters,
            )
        )
        # MySQL's batches (batches.py `matched`): `batch`'s UPDATE for one row (then `read_back`)
        bound = {n: b(n, type_=t) for n, t in zip(BATCH, _batch_types(k), strict=True)}
        self.batch_row = fast(
            k.update()
            .where(k.c.id == b("kid"), k.c.version == b("v"), same_day)
            .values(**_counting(k, bound))
        )
        self.lock_row = fast(k.update().where(k.c.id == b("kid")).values(version=k.c.version))
        self.lineage_head = sa.select(k).where(k.c.lineage_id == b("lin"), k.c.rolled_to.is_(None))
        self.rehash = cas.values(key_hash=b("h"), pepper=b("pepper"), version=b("nv"))
        ins = self.dialect.insert(u).values(key_id=b("kid"), day=b("day"), count=b("n"))
        add = self.dialect.upsert(
            ins, ["key_id", "day"], lambda new: {"count": u.c.count + new.count}
        )
        self.add_day = fast(add)

    def _batch(self, k: sa.Table, turned: tuple) -> Any:
        """`spend_tracked` / `count_use` on a row already counting today, for many keys at once:
        their parameters bound as one JSON array of objects (`BATCH` their keys), the key's id
        first in each returned row; a row whose `bump` is false keeps its limits (as
        `count_use`)."""
        # one text parameter, dumped in C (psycopg's arrays cost more than the statement)
        rows = sa.func.json_to_recordset(sa.cast(sa.bindparam("rows"), sa.JSON))
        typed = [sa.column(n, t) for n, t in zip(BATCH, _batch_types(k), strict=True)]
        b = rows.table_valued(*typed, name="b").render_derived(with_types=True)
        return (
            k.update()
            .where(k.c.id == b.c.kid, k.c.version == b.c.v, k.c.usage_day == b.c.day)
            .values(**_counting(k, b.c))
            .returning(k.c.id, *turned)
        )

    def _migrate(self) -> None:
        db = self.db
        version = schema_version(db, SCHEMA_NAME, SCHEMA_VERSION)
        named = {"id", "org_id", "name", "created_at"}
        create = functools.partial(self.dialect.create_table, db, lengths=LENGTHS)
        self.orgs = create(OrgRow, pk="id", name="issued_organizations", not_null=named)
        self.projects = create(ProjectRow, pk="id", name="issued_projects", not_null=named)
        self.products = create(ProductRow, pk="id", name="issued_products", not_null=named)
        self.links = create(
            LinkRow,
            pk=["project_id", "product_id"],
            name="issued_project_products",
            not_null={"project_id", "product_id", "created_at"},
        )
        self.keys = create(
            KeyRow,
            pk="id",
            name="issued_keys",
            not_null={"org_id", "key_prefix", "key_hash", "pepper", "metadata", "created_at"}
            | {"updated_at", "use_count", "usage_count", "version"},
        )
        self.usage = create(
            UsageRow, pk=["key_id", "day"], name="issued_key_usage", not_null={"count"}
        )
        self.audit = create(
            AuditRow, pk="seq", name="issued_audit", not_null={"at", "org_id", "key_id", "action"}
        )
        if version < 1:
            for table, name, columns, unique in INDEXES:
                ensure_index(db, getattr(self, table).table, name, *columns, unique=unique)
            db.conn.commit()
        if version < 2:
            self._add_lineage()
            record_schema_version(db, SCHEMA_NAME, SCHEMA_VERSION)

    def _add_lineage(self) -> None:
        """Schema 1 -> 2: the roll lineage columns (a table made by this code has them)."""
        db = self.db
        have = {c["name"] for c in sa.inspect(db.engine).get_columns("issued_keys")}
        kind = self.dialect.string(LENGTHS["lineage_id"]).compile(dialect=db.engine.dialect)
        for column in ("lineage_id", "rolled_to"):
            if column not in have:
                db.q(f"ALTER TABLE issued_keys ADD COLUMN {column} {kind}")
        ensure_index(db, self.keys.table, "issued_key_lineage", "lineage_id")
        db.conn.commit()

    def execute(self, stmt: Any, params: dict | list | None = None) -> Any:
        """Run a statement on the connection (inside the caller's Guard)."""
        return self.db.conn.execute(stmt, params)

    def run(self, fast: Compiled, params: dict) -> Any:
        """Run a compiled statement on the DBAPI connection (inside the caller's Guard); the
        cursor."""
        conn = self.db.conn
        if not conn.in_transaction():
            conn.begin()  # so that the Guard's commit reaches the driver
        return self.dialect.run(conn.connection.driver_connection, fast.sql, fast.params(params))

    def run_many(self, fast: Compiled, rows: list[dict]) -> None:
        """Run a compiled statement once per row in one driver call (executemany, inside the
        caller's Guard)."""
        conn = self.db.conn
        if not conn.in_transaction():
            conn.begin()  # so that the Guard's commit reaches the driver
        driver = conn.connection.driver_connection
        self.dialect.run_many(driver, fast.sql, [fast.params(r) for r in rows])

    def rows(self, fast: Compiled, params: dict) -> list[dict]:
        """Every row of a compiled query, as dicts."""
        cursor = self.run(fast, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]

    def counted(
        self,
        fast: Compiled,  # `spend_tracked` or `count_use`
        params: dict,  # its parameters
        row: dict,  # the key's row as read (its version is the one compared)
        run: Callable[[Compiled, dict], Any] | None = None,  # runs it (default: `run`)
        *,
        alone: bool = False,  # the statement is its Guard's whole transaction
    ) -> tuple | None:
        """Run a compare-and-swap that counts a use; the key's (use_count, usage_count,
        prev_day, prev_count) after it, None when the row changed."""
        today = fast is self.spend_tracked and row["usage_day"] == params["day"]
        if today and (run is not None or self.read_back is not None):  # SQLite Direct; MySQL
            return self._spent_today(params, row, run)
        if self.read_back is None:  # UPDATE … RETURNING
            if run is not None:  # SQLite's Direct write
                return run(fast, params).fetchone()
            conn = self.db.conn
            if alone and row["usage_day"] == params["day"] and not conn.in_transaction():
                # bench "HTTP wrk, PostgreSQL, counted validate_key": one statement, committed
                # alone (on PostgreSQL one round trip); a day turned since the read matches none
                single = self.alone[fast]
                driver = conn.connection.driver_connection
                return self.dialect.run_alone(driver, single.sql, single.params(params))
            return self.run(fast, params).fetchone()
        if self.run(fast, params).rowcount != 1:  # no RETURNING (MySQL)
            return None
        return self.run(self.read_back, {"kid": params["kid"]}).fetchone()

    def _spent_today(
        self,
        params: dict,  # `spend_tracked`'s parameters
        row: dict,  # the key's row as read, counting today
        run: Callable[[Compiled, dict], Any] | None,  # SQLite's Direct write, else None
    ) -> tuple | None:
        """`counted` for a spend on a row counting today, by `spend_today`: the counts after it
        follow from the row read (None when another writer changed it)."""
        params["uses"] = row["use_count"]
        today = self.spend_today
        if run is not None:
            matched = run(today, params).rowcount
        elif (conn := self.db.conn).in_transaction():
            matched = self.run(today, params).rowcount
        else:  # MySQL's sync validations: the statement and its COMMIT in one round trip
            driver = conn.connection.driver_connection
            matched = self.dialect.run_committed(driver, today.sql, today.params(params))
        return _after(row) if matched == 1 else None

    def row(self, fast: Compiled, params: dict) -> dict | None:
        """The first row of a compiled query, as a dict (None when there is none)."""
        cursor = self.run(fast, params)
        found = cursor.fetchone()
        if found is None:
            return None
        return dict(zip((d[0] for d in cursor.description), found, strict=True))

    def locked_key(
        self,
        kid: str,  # a canonical key id
    ) -> Any:
        """Lock a key's row and read it (inside the caller's Guard); NotFoundError when none."""
        self.run(self.lock_row, {"kid": kid})
        row = self.row(self.key_by_id, {"id": kid})
        if row is None:
            raise NotFoundError(f"Key {kid!r} not found")
        return row

    def insert_ignore(
        self,
        table: Any,  # a fastsql table
        row: dict,  # the full row
        keys: list[str],  # the unique columns that may conflict
    ) -> bool:
        """INSERT … ON CONFLICT DO NOTHING; True when the row was inserted."""
        return self.dialect.insert_ignore(self.db.conn, table.table, row, keys)


def _counting(
    k: sa.Table,  # issued_keys
    v: Any,  # a batch row's values by `BATCH` name (its columns, or bound parameters)
) -> dict:
    """What a batch row's UPDATE sets: `n` uses counted, and the limits only where `bump` (a
    plain count leaves them as they are)."""
    kept = {
        column: sa.case((v["bump"], v[name]), else_=k.c[column])
        for column, name in (("rl_state", "rl"), ("remaining", "rem"), ("refilled_at", "refilled"))
    }
    return {
        "use_count": k.c.use_count + v["n"],
        "last_used_at": v["now"],
        "usage_count": k.c.usage_count + v["n"],
        "version": v["nv"],
        **kept,
    }


def _after(
    row: dict,  # a key's row as read, counting today
) -> tuple:
    """`Tables.counted`'s answer for one more use of `row` on its own day."""
    return row["use_count"] + 1, row["usage_count"] + 1, row["prev_day"], row["prev_count"]
