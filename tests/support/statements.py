"""Counting the SQL statements an engine runs, for the tests that pin a route's or a manager call's
cost: SQLAlchemy's cursor events, plus the compiled statements byok runs straight on the DBAPI
connection (`Dialect.run`), which those events never see."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from byok.core.dialects import Dialect, MySQL

_INSERT = re.compile(r"\bINSERT\b", re.I)


def verb(
    statement: str,  # one SQL statement as sent to the driver
) -> str:
    """The statement's kind: its first word, with the default-save locks as LOCK / UNLOCK and
    PostgreSQL's `WITH saved AS (INSERT … ON CONFLICT) UPDATE …` save as INSERT."""
    if "pg_advisory_xact_lock" in statement or "GET_LOCK" in statement:  # default-save lock
        return "LOCK"
    if "RELEASE_LOCK" in statement:  # MySQL's, let go after the commit
        return "UNLOCK"
    first = statement.split(None, 1)[0].upper()
    return "INSERT" if first == "WITH" and _INSERT.search(statement) else first


class StatementLog:
    """The verbs of the SQL statements an engine ran since the last `take()`."""

    def __init__(
        self,
        engine: sa.Engine,  # the engine whose statements are counted
        monkeypatch: pytest.MonkeyPatch,  # undoes the compiled-statement hook after the test
    ):
        self.seen: list[str] = []
        sa.event.listen(engine, "before_cursor_execute", self._record)
        for kind in (Dialect, MySQL):  # compiled statements, run on the DBAPI connection
            monkeypatch.setattr(kind, "run", self._counted(kind.run))

    def _counted(self, run: Any) -> Any:
        def counted(dialect: Any, driver_conn: Any, sql: str, params: Any) -> Any:
            self.seen.append(verb(sql))
            return run(dialect, driver_conn, sql, params)

        return counted

    def _record(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        self.seen.append(verb(statement))

    def take(self) -> list[str]:
        """The verbs since the last call, e.g. ["SELECT", "INSERT"]."""
        seen, self.seen = self.seen, []
        return seen
