"""`KeyIssuer` is a facade: one class in one file over parts that own their state, all given the
same shared Context (database, tables, lock, clock), with the public attributes callers use."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from pathlib import Path

import pytest

from byok.issuing import KeyIssuer, KeyMetadata
from byok.issuing.context import Context

SECRET = "issuing-facade-signing-secret-0123456789"


@pytest.fixture
def issuer(tmp_path: Path) -> KeyIssuer:
    made = KeyIssuer(f"sqlite:///{tmp_path / 'keys.db'}", signing_secret=SECRET)
    yield made
    made.close()


def test_the_issuer_is_one_class_in_one_file() -> None:
    assert KeyIssuer.__mro__ == (KeyIssuer, object)  # no base classes split over files
    methods = [f for n, f in inspect.getmembers(KeyIssuer, inspect.isfunction) if n[0] != "_"]
    assert len(methods) > 30
    assert {f.__module__ for f in methods} == {"byok.issuing.engine"}
    assert all(f.__doc__ for f in methods)


def test_every_part_is_given_the_one_context(issuer: KeyIssuer) -> None:
    ctx = issuer.context
    assert isinstance(ctx, Context)
    parts = [issuer.tenancy, issuer.lifecycle, issuer.usage, issuer.validation]
    assert all(part.ctx is ctx for part in parts)
    assert issuer.lifecycle.tenancy is issuer.validation.tenancy is issuer.tenancy
    assert issuer.lifecycle.cache is issuer.validation.cache is issuer.cache
    assert issuer.rollout.tables is ctx.tables and issuer.rollout.peppers is issuer.peppers
    assert (issuer.db, issuer.tables, issuer.clock) == (ctx.db, ctx.tables, ctx.clock)


def test_the_clock_given_is_the_one_every_part_reads(tmp_path: Path) -> None:
    at = datetime(2031, 3, 4, 5, 6, tzinfo=UTC)
    issuer = KeyIssuer(f"sqlite:///{tmp_path / 'keys.db'}", signing_secret=SECRET, clock=lambda: at)
    try:
        org = issuer.create_organization("Acme")
        made = issuer.create_key(org.id, metadata=KeyMetadata(name="k"))
        used = issuer.validate_key(made.plaintext)
        assert (org.created_at, made.key.created_at, used.last_used_at) == (at, at, at)
        assert issuer.key_usage(made.key.id, days=1)[0].day == at.date()
    finally:
        issuer.close()


def test_a_guarded_operation_is_still_at_hand(issuer: KeyIssuer) -> None:
    import sqlalchemy as sa

    issuer.create_organization("Acme")
    with issuer._guard("test read"):  # tests and tools read rows inside the issuer's lock
        count = issuer.db.conn.execute(sa.text("SELECT count(*) FROM issued_organizations"))
        assert count.scalar() == 1
