"""A spawned process's work for test_key_checks (kept apart so spawning imports little)."""

from __future__ import annotations

from byok.core.database import create_engine
from byok.core.ratelimit import DatabaseRateLimit


def hammer(db_url: str, start: float, hits: int, limit: int) -> int:
    """`hits` hits on one shared bucket at a fixed time; how many were allowed."""
    engine = create_engine(db_url)
    counter = DatabaseRateLimit(engine, limit, 60.0, clock=lambda: start)
    allowed = sum(counter.hit("test:user:shared") is None for _ in range(hits))
    engine.dispose()
    return allowed
