"""Usage per UTC day: a key's history, and pruning what is older than MAX_USAGE_DAYS (a part of
`KeyIssuer`, which documents each method). Today's count lives in the key's own row (validation
writes it there); earlier days are rows of `issued_key_usage`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from ..core.bounds import EARLIEST, bounded_int
from .context import Context
from .errors import InvalidInputError
from .models import UsageDay
from .tenancy import Tenancy

__all__ = ["MAX_USAGE_DAYS", "Usage"]

MAX_USAGE_DAYS = 400  # longest usage history kept and returned, in days


class Usage:
    """Reads and prunes usage per day; remembers the day it last pruned in this process."""

    def __init__(
        self,
        ctx: Context,  # the issuer's database, tables, lock and clock
        tenancy: Tenancy,  # finds a key's row by id
    ):
        self.ctx, self.tenancy = ctx, tenancy
        self._pruned_on: date | None = None  # the day this process last pruned

    def key_usage(self, key_id: str, *, days: int) -> list[UsageDay]:
        """See KeyIssuer.key_usage."""
        if not isinstance(days, int) or isinstance(days, bool) or not 0 < days <= MAX_USAGE_DAYS:
            raise InvalidInputError(f"days must be 1-{MAX_USAGE_DAYS}")
        t = self.ctx.tables
        row = self.tenancy.row(t.keys, key_id, "Key")
        today = self.ctx.clock().date()
        first = today - timedelta(days=days - 1)
        u = t.usage.table
        stmt = sa.select(u.c.day, u.c.count).where(
            u.c.key_id == row["id"], u.c.day >= first.isoformat()
        )
        with self.ctx.guard("usage"):
            counts = dict(t.execute(stmt).all())
        if row["usage_day"] is not None:  # the day being counted in the key's own row
            counts[row["usage_day"]] = counts.get(row["usage_day"], 0) + row["usage_count"]
        span = (first + timedelta(days=i) for i in range(days))
        return [UsageDay(d, counts.get(d.isoformat(), 0)) for d in span]

    def prune_usage(self, keep_days: int) -> int:
        """See KeyIssuer.prune_usage."""
        bounded_int(keep_days, "keep_days", low=1, error=InvalidInputError)
        today = self.ctx.clock().date()
        days = min(keep_days, (today - EARLIEST.date()).days)  # more than were stored: keep all
        with self.ctx.guard("prune usage"):
            return self._prune(today - timedelta(days=days))

    def _prune(self, cutoff: date) -> int:
        u = self.ctx.tables.usage.table
        return self.ctx.tables.execute(u.delete().where(u.c.day < cutoff.isoformat())).rowcount

    def prune_daily(
        self,
        now: datetime,  # the validation's time
    ) -> None:
        """Inside a write: drop usage rows older than MAX_USAGE_DAYS, once a day per process."""
        today = now.date()
        if self._pruned_on != today:
            self._pruned_on = today
            self._prune(today - timedelta(days=MAX_USAGE_DAYS))
