"""The database an operator's `byok keys …` command names: it must exist and hold the
issued-key tables (a mistyped --db fails with a message naming it), unless `keys create
--create-db` sets a new one up; and `count_issued_keys` for `byok doctor`."""

from __future__ import annotations

import argparse
import os

import sqlalchemy as sa
from fastsql import Database

from . import store
from .errors import InvalidInputError

__all__ = ["count_issued_keys", "open_issued_db"]

_KEYS_TABLE = "issued_keys"  # the issued-key table (byok.issuing.store): its absence = no keys


def _sqlite_file(url: str) -> str | None:
    """The file a sqlite URL names ("" for an in-memory database); None for other URLs."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return None  # not a URL: store.open_db names the problem
    if parsed.get_backend_name() != "sqlite":
        return None
    path = parsed.database or ""
    if path.startswith("file:"):  # a sqlite URI: file:path?mode=…
        path = path.removeprefix("file:").split("?", 1)[0]
    return "" if path == ":memory:" else path


def open_issued_db(args: argparse.Namespace) -> Database:
    """The database --db names. It must exist and hold the issued-key tables, unless this is
    `keys create --create-db` (which may create the SQLite file and the tables)."""
    create = getattr(args, "create_db", False)
    path = _sqlite_file(args.db)
    hint = (
        "; add --create-db to set up a new database"
        if hasattr(args, "create_db")
        else "; `byok keys create --create-db …` sets up a new database"
    )
    if path == "":
        raise InvalidInputError("an in-memory SQLite database forgets its keys when byok exits")
    if path is not None and not create and not os.path.isfile(path):
        raise InvalidInputError(f"no SQLite database at {path!r}: is --db right?{hint}")
    db = store.open_db(args.db)
    if not create and not sa.inspect(db.engine).has_table(_KEYS_TABLE):
        where = repr(path) if path is not None else "the database --db names"
        db.close()
        db.engine.dispose()
        raise InvalidInputError(
            f"no issued keys in {where} (no {_KEYS_TABLE} table): is --db right?{hint}"
        )
    return db


def count_issued_keys(
    url: str,  # the issued-key database's URL (it must exist and hold the tables)
) -> tuple[int, int]:
    """(keys, revoked keys) in an existing issued-key database; InvalidInputError otherwise."""
    db = open_issued_db(argparse.Namespace(db=url))
    try:
        keys = sa.table(_KEYS_TABLE, sa.column("revoked_at"))
        with db.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(keys)).scalar_one()
            revoked = conn.execute(
                sa.select(sa.func.count()).select_from(keys).where(keys.c.revoked_at.is_not(None))
            ).scalar_one()
        return int(total), int(revoked)
    finally:
        db.close()
        db.engine.dispose()
