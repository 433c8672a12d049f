"""Bulk issuing: `create_keys` (one transaction, batched), `byok keys create --count/--out`, and
the validator's named fast-path shapes (a typed plan, the `try_cached` seam)."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from pathlib import Path

import pytest

from byok.cli import main
from byok.core.types import StorageError
from byok.issuing import (
    APIKeyClient,
    InvalidInputError,
    KeyIssuer,
    KeyMetadata,
    NotFoundError,
    RateLimit,
)
from byok.issuing.lifecycle import BULK_BATCH, MAX_BULK
from byok.issuing.limits import Plan
from tests.support import SECRET


def _counts(issuer: KeyIssuer) -> tuple[int, int]:
    """(keys, audit events) in the database."""
    t = issuer.tables
    with issuer._guard("count"):
        keys = t.execute(t.keys.table.select()).all()
        events = t.execute(t.audit.table.select()).all()
    return len(keys), len(events)


def test_create_keys_issues_unique_working_keys_in_order(db_url: str) -> None:
    issuer = KeyIssuer(db_url, signing_secret=SECRET, cache_ttl=0)
    org, _ = issuer.get_or_create_organization("Acme")
    meta = KeyMetadata(name="batch", scopes=["read"], rate_limit=RateLimit(5, "minute"))
    made = issuer.create_keys(org.id, 25, metadata=meta, actor="ops")
    assert len(made) == 25
    assert len({m.plaintext for m in made}) == 25 and len({m.key.id for m in made}) == 25
    assert issuer.get_key(made[-1].key.id) == made[-1].key  # as stored
    for m in made:
        assert m.key.metadata == meta and m.key.org_id == org.id
        assert issuer.validate_key(m.plaintext, required_scopes=["read"]).id == m.key.id
    listed = issuer.list_org_keys(org.id)
    assert {k.id for k in listed} == {m.key.id for m in made}
    events = issuer.list_audit_events(org.id, limit=100)
    assert len(events) == 25 and {e.actor for e in events} == {"ops"}
    assert all(m.plaintext not in repr(e) for e in events for m in made[:3])
    issuer.close()


def test_create_keys_from_specs_gives_each_key_its_own_settings(tmp_path: Path) -> None:
    issuer = KeyIssuer(f"sqlite:///{tmp_path / 'k.db'}", signing_secret=SECRET)
    org, _ = issuer.get_or_create_organization("Acme")
    project, _ = issuer.get_or_create_project(org.id, "v1")
    specs = [KeyMetadata(name=f"k{i}", remaining=i + 1) for i in range(3)]
    made = issuer.create_keys(org.id, specs=specs, project_id=project.id)
    assert [m.key.metadata.name for m in made] == ["k0", "k1", "k2"]
    assert [issuer.validate_key(m.plaintext).metadata.remaining for m in made] == [0, 1, 2]
    assert {m.key.project_id for m in made} == {project.id}


def test_a_failure_mid_batch_leaves_no_key_of_the_call(tmp_path: Path) -> None:
    """One transaction: a database error in the second batch undoes the first one too."""
    issuer = KeyIssuer(f"sqlite:///{tmp_path / 'k.db'}", signing_secret=SECRET)
    org, _ = issuer.get_or_create_organization("Acme")
    issuer.create_key(org.id)
    before = _counts(issuer)
    stop_at = BULK_BATCH + 100  # rows: inside the call's second batch
    with issuer._guard("trigger"):
        issuer.db.q(
            f"CREATE TRIGGER full BEFORE INSERT ON issued_keys "
            f"WHEN (SELECT count(*) FROM issued_keys) >= {stop_at} "
            f"BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    with pytest.raises(StorageError, match="disk full") as caught:
        issuer.create_keys(org.id, BULK_BATCH + 500)
    assert "sk_" not in str(caught.value)  # no key material in the message
    assert _counts(issuer) == before
    issuer.create_key(org.id)  # the connection is usable afterwards
    assert _counts(issuer) == (before[0] + 1, before[1] + 1)


@pytest.mark.parametrize(
    ("count", "specs", "metadata"),
    [
        (0, None, None),
        (-1, None, None),
        (MAX_BULK + 1, None, None),
        (10**15, None, None),  # refused before any list is built
        (True, None, None),
        ("3", None, None),
        (2.0, None, None),
        (None, None, None),  # neither
        (2, [KeyMetadata()], None),  # both
        (None, [], None),  # no key
        (None, "abc", None),
        (None, [KeyMetadata(), {"name": "x"}], None),
        (None, [KeyMetadata()], KeyMetadata()),  # metadata is for count
        (2, None, {"name": "x"}),
    ],
)
def test_bad_bulk_requests_are_typed_errors_and_write_nothing(
    tmp_path: Path, count, specs, metadata
) -> None:
    issuer = KeyIssuer(f"sqlite:///{tmp_path / 'k.db'}", signing_secret=SECRET)
    org, _ = issuer.get_or_create_organization("Acme")
    with pytest.raises(InvalidInputError):
        issuer.create_keys(org.id, count, specs=specs, metadata=metadata)
    assert _counts(issuer) == (0, 0)


def test_create_keys_for_an_unknown_organization_is_not_found(tmp_path: Path) -> None:
    issuer = KeyIssuer(f"sqlite:///{tmp_path / 'k.db'}", signing_secret=SECRET)
    with pytest.raises(NotFoundError):
        issuer.create_keys("00000000-0000-4000-8000-000000000000", 2)
    with pytest.raises(NotFoundError):
        issuer.create_keys("not-an-id", 2)


def test_the_async_client_issues_in_bulk(tmp_path: Path) -> None:
    async def run() -> None:
        client = APIKeyClient(f"sqlite:///{tmp_path / 'k.db'}", signing_secret=SECRET)
        org, _ = await client.get_or_create_organization("Acme")
        made = await client.create_keys(org.id, 3)
        assert [(await client.validate_key(m.plaintext)).id for m in made] == [
            m.key.id for m in made
        ]
        await client.aclose()

    asyncio.run(run())


# the CLI


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BYOK_SIGNING_SECRET", SECRET)
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    KeyIssuer(url, signing_secret=SECRET).close()
    return url


def test_cli_count_writes_a_0600_file_and_logs_no_key(
    cli_db: str, tmp_path: Path, capsys, caplog
) -> None:
    out = tmp_path / "issued.tsv"
    caplog.set_level(logging.DEBUG)
    args = ["keys", "create", "--db", cli_db, "--org", "Acme", "--create-missing"]
    assert main([*args, "--count", "30", "--out", str(out), "--scope", "read"]) == 0
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    lines = out.read_text().splitlines()
    pairs = [line.split("\t") for line in lines]
    assert len(pairs) == 30 and all(len(p) == 2 for p in pairs)
    said = capsys.readouterr()
    issuer = KeyIssuer(cli_db, signing_secret=SECRET)
    for key_id, plaintext in pairs:
        assert issuer.validate_key(plaintext, required_scopes=["read"]).id == key_id
        assert plaintext not in said.out and plaintext not in said.err
        assert plaintext not in caplog.text
    assert "issued 30 keys" in said.err
    # an existing file is never overwritten (it may hold other keys)
    assert main([*args, "--count", "2", "--out", str(out)]) == 2
    assert out.read_text().splitlines() == lines


def test_cli_count_prints_to_stdout_without_out(cli_db: str, capsys) -> None:
    args = ["keys", "create", "--db", cli_db, "--org", "Acme", "--create-missing"]
    assert main([*args, "--count", "3"]) == 0
    said = capsys.readouterr()
    pairs = [line.split("\t") for line in said.out.splitlines()]
    assert len(pairs) == 3
    issuer = KeyIssuer(cli_db, signing_secret=SECRET)
    assert {issuer.validate_key(p).id for _, p in pairs} == {i for i, _ in pairs}
    assert all(p not in said.err for _, p in pairs)


@pytest.mark.parametrize("count", ["0", "-5", "100000000"])
def test_cli_count_out_of_range_is_refused(cli_db: str, count: str, capsys) -> None:
    args = ["keys", "create", "--db", cli_db, "--org", "Acme", "--create-missing"]
    assert main([*args, "--count", count]) == 2
    assert "--count" in capsys.readouterr().err


# the validator's named shapes


def test_the_plan_is_a_typed_value(tmp_path: Path) -> None:
    issuer = KeyIssuer(f"sqlite:///{tmp_path / 'k.db'}", signing_secret=SECRET)
    org, _ = issuer.get_or_create_organization("Acme")
    meta = KeyMetadata(rate_limit=RateLimit(5, "minute"), remaining=3)
    key = issuer.create_key(org.id, metadata=meta)
    issuer.validate_key(key.plaintext)
    entry = issuer.cache.get(issuer.prepare(key.plaintext).key_hash)
    want = issuer.prepare(key.plaintext).want
    plan = issuer.validation._plan(entry, want, issuer.clock())
    assert isinstance(plan, Plan)
    assert plan.rem == 1 and plan.bump is True and plan.rl is not None
    assert Plan.kept(entry.row) == Plan(entry.row["rl_state"], 2, entry.row["refilled_at"], False)


def test_try_cached_answers_without_io_or_says_none(tmp_path: Path) -> None:
    issuer = KeyIssuer(f"sqlite:///{tmp_path / 'k.db'}", signing_secret=SECRET)
    org, _ = issuer.get_or_create_organization("Acme")
    key = issuer.create_key(org.id)
    read_only = issuer.prepare(key.plaintext, track_usage=False)
    assert issuer.try_cached(read_only) is None  # never seen: the database must answer
    assert issuer.answer(read_only).id == key.key.id
    assert issuer.try_cached(read_only).id == key.key.id  # now cached
    assert issuer.try_cached(issuer.prepare(key.plaintext)) is None  # counting needs a write
