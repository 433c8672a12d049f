"""The validator's per-call shortcuts keep every answer: a row read again unchanged is its last
answer and a changed one is read afresh (on every database), the rate-limit state a call wrote
is remembered parsed and decides as a fresh parse does, and a write on SQLite's driver that
fails is rolled back whole and reported as a StorageError."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from byok.core.types import StorageError
from byok.issuing import KeyIssuer, KeyMetadata, RateLimit, RevokedKeyError, limits
from byok.issuing.errors import InsufficientScopeError
from tests.support import SECRET


def test_an_unchanged_row_is_its_last_answer_and_a_changed_one_is_read_again(
    db_url: str,
) -> None:
    reader = KeyIssuer(db_url, signing_secret=SECRET, cache_ttl=0)  # reads the row every call
    writer = KeyIssuer(db_url, signing_secret=SECRET)  # another instance on the same database
    org, _ = writer.get_or_create_organization("Acme")
    made = writer.create_key(org.id, metadata=KeyMetadata(scopes=["read"]))
    first = reader.validate_key(made.plaintext, track_usage=False)
    again = reader.validate_key(made.plaintext, track_usage=False)
    if db_url.startswith("sqlite"):  # SQLite's driver path reuses the unchanged row's answer
        assert again is first
    assert again == first
    writer.update_key(made.key.id, metadata=KeyMetadata(scopes=["write"]))
    with pytest.raises(InsufficientScopeError):  # the new scopes, not the remembered ones
        reader.validate_key(made.plaintext, required_scopes=["read"], track_usage=False)
    assert reader.validate_key(made.plaintext, track_usage=False).metadata.scopes == ["write"]
    writer.revoke_key(made.key.id)
    with pytest.raises(RevokedKeyError):
        reader.validate_key(made.plaintext, track_usage=False)
    reader.close()
    writer.close()


def test_a_spend_answers_the_exact_count_after_another_instance_counted_the_key(
    db_url: str,
) -> None:
    """A counted use without limits leaves the row's version as it is: a spend from a row read
    before it must still answer (and store) the counts after both, not the ones it read."""
    mine = KeyIssuer(db_url, signing_secret=SECRET)  # keeps the row it wrote in its cache
    other = KeyIssuer(db_url, signing_secret=SECRET)  # another instance on the same database
    org, _ = mine.get_or_create_organization("Acme")
    made = mine.create_key(org.id, metadata=KeyMetadata(rate_limit=RateLimit(100, "minute")))
    assert mine.validate_key(made.plaintext).use_count == 1
    other.verify_key(made.plaintext)  # counted, no rate limit: the version stays
    other.verify_key(made.plaintext)
    assert mine.validate_key(made.plaintext).use_count == 4
    assert mine.validate_key(made.plaintext).use_count == 5
    assert other.get_key(made.key.id).use_count == 5
    assert [d.count for d in other.key_usage(made.key.id, days=1)] == [5]
    mine.close()
    other.close()


def test_a_remembered_rate_limit_state_decides_as_a_fresh_parse() -> None:
    rng = random.Random(7)
    for requests, window in ((3, "second"), (50, "minute"), (10**6, "minute"), (7, "hour")):
        limit = RateLimit(requests, window)
        now, state = datetime(2026, 12, 7, tzinfo=UTC), None
        for _ in range(400):
            now += timedelta(seconds=rng.expovariate(60 / limit.window.seconds))
            if rng.random() < 0.05:  # another process's clock, a little behind
                now -= timedelta(seconds=rng.random())
            remembered = limits.take(state, limit, now)
            limits._WRITTEN.clear()  # the same state, parsed from its text
            fresh = limits.take(state, limit, now)
            assert remembered == fresh
            state = fresh.state if fresh.passed else state


def test_a_failed_counted_write_on_sqlite_rolls_back_whole(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    issuer = KeyIssuer(f"sqlite:///{path}", signing_secret=SECRET)
    org, _ = issuer.get_or_create_organization("Acme")
    made = issuer.create_key(org.id, metadata=KeyMetadata(rate_limit=RateLimit(100, "minute")))
    assert issuer.validate_key(made.plaintext).use_count == 1
    other = sqlite3.connect(path)  # a rule outside byok refuses every update of a key
    other.execute(
        "CREATE TRIGGER refuse BEFORE UPDATE ON issued_keys BEGIN SELECT RAISE(ABORT, 'refused'); END"
    )
    other.commit()
    with pytest.raises(StorageError, match="validate failed: refused"):
        issuer.validate_key(made.plaintext)
    assert not issuer.db.conn.connection.driver_connection.in_transaction  # nothing left open
    other.execute("DROP TRIGGER refuse")
    other.commit()
    other.close()
    after = issuer.validate_key(made.plaintext)
    assert after.use_count == 2  # the refused call counted nothing
    assert issuer.key_usage(made.key.id, days=1)[-1].count == 2
    issuer.close()
