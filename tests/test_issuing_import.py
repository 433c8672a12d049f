"""`import_apikeys` / `byok keys import --from-apikeys` (issue 20, item 4): a database the REAL
apikeys-platform 0.2.0 wrote (its own APIKeyClient, on SQLite through aiosqlite, its own URL
spelling) is imported into byok on SQLite and PostgreSQL, and the plaintext keys it handed out
validate in byok with everything they carried. The reference cannot write PostgreSQL here (no
asyncpg in the environment), so the PostgreSQL source test builds the reference's own tables
there from its own models and copies the rows it wrote into them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from byok.cli import main
from byok.issuing import (
    ExpiredKeyError,
    InsufficientScopeError,
    InvalidInputError,
    InvalidKeyError,
    KeyIssuer,
    QuotaError,
    RateLimit,
    RateLimitWindow,
    RevokedKeyError,
    import_apikeys,
)
from tests.support import SECRET

apikeys = pytest.importorskip("apikeys", reason="apikeys-platform is in the bench group")
from apikeys import APIKeyClient  # noqa: E402
from apikeys import KeyMetadata as RefMetadata  # noqa: E402
from apikeys import RateLimit as RefRateLimit  # noqa: E402
from apikeys.db.session import create_tables  # noqa: E402

ROWS = 2 + 3 + 2 + 1 + 6  # organizations, projects, products, links and keys the reference wrote


@dataclass
class Written:
    """What the reference wrote, and the plaintexts it handed out."""

    url: str  # its database, spelt as its users spell it
    path: Path  # the SQLite file
    ids: dict[str, str]  # name -> id of its orgs, projects, products, keys
    keys: dict[str, str]  # name -> plaintext


async def _write(url: str) -> Written:
    await create_tables(url)
    ref = APIKeyClient(url, signing_secret=SECRET, key_prefix="acme", environment="live")
    acme = await ref.create_organization("Acme")
    other = await ref.create_organization("Other Co")
    v1 = await ref.create_project(str(acme.id), "v1")
    v2 = await ref.create_project(str(acme.id), "v2")
    await ref.create_project(str(other.id), "main")
    search = await ref.create_product(str(acme.id), "search")
    await ref.create_product(str(other.id), "maps")
    await ref.add_product_to_project(str(search.id), str(v1.id))
    soon = datetime.now(UTC) + timedelta(days=30)
    specs = {
        "plain": (acme, {}, RefMetadata(name="Alice", scopes=["read"], custom={"user": "u_1"})),
        "scoped": (
            acme,
            {"project_id": str(v1.id), "product_id": str(search.id)},
            RefMetadata(
                name="Search", scopes=["read", "write"], rate_limit=RefRateLimit(requests=2)
            ),
        ),
        "expiring": (acme, {"project_id": str(v2.id)}, RefMetadata(expires_at=soon)),
        "expired": (acme, {}, RefMetadata(expires_at=datetime.now(UTC) - timedelta(days=1))),
        "revoked": (other, {}, RefMetadata(name="Gone")),
        "admin": (other, {}, RefMetadata(scopes=["admin"])),
    }
    ids = {"acme": str(acme.id), "other": str(other.id), "v1": str(v1.id), "v2": str(v2.id)}
    ids["search"] = str(search.id)
    keys = {}
    for name, (org, scope, meta) in specs.items():
        made = await ref.create_key(str(org.id), metadata=meta, **scope)
        ids[name], keys[name] = str(made.key.id), made.plaintext
    await ref.revoke_key(ids["revoked"])
    for _ in range(3):
        await ref.verify_key(keys["plain"])  # use_count 3, last_used_at set
    await ref._sessions.kw["bind"].dispose()
    return Written(url, Path(url.split(":///", 1)[1]), ids, keys)


@pytest.fixture
def written(tmp_path: Path) -> Written:
    """A fresh database written by apikeys-platform 0.2.0 itself."""
    return asyncio.run(_write(f"sqlite+aiosqlite:///{tmp_path / 'apikeys.db'}"))


def _issuer(url: str) -> KeyIssuer:
    return KeyIssuer(url, signing_secret=SECRET, key_prefix="acme", environment="live", cache_ttl=0)


def _pepper(issuer: KeyIssuer, key_id: str) -> str:
    with issuer._guard("test read"):
        stmt = sa.text("SELECT pepper FROM issued_keys WHERE id = :id")
        return issuer.db.conn.execute(stmt, {"id": key_id}).scalar_one()


def _check_keys_valid(url: str, w: Written) -> None:
    """Every plaintext the reference handed out answers in byok as it did there."""
    issuer = _issuer(url)
    plain = issuer.validate_key(w.keys["plain"], required_scopes=["read"])
    assert (plain.id, plain.org_id, plain.use_count) == (w.ids["plain"], w.ids["acme"], 4)
    assert plain.metadata.name == "Alice" and plain.metadata.custom == {"user": "u_1"}
    assert plain.last_used_at is not None and plain.created_at.tzinfo is not None
    assert _pepper(issuer, plain.id) == issuer.peppers.current  # rehashed on its first use
    assert issuer.validate_key(w.keys["plain"]).use_count == 5  # and found under it after

    scoped = issuer.validate_key(
        w.keys["scoped"], project_id=w.ids["v1"], product_id=w.ids["search"]
    )
    assert scoped.metadata.rate_limit == RateLimit(2, RateLimitWindow.minute)
    assert scoped.metadata.scopes == ["read", "write"] and scoped.use_count == 1
    with pytest.raises(InsufficientScopeError):
        issuer.validate_key(w.keys["scoped"], project_id=w.ids["v2"])
    issuer.validate_key(w.keys["scoped"])
    with pytest.raises(QuotaError):  # 2/minute, as it was there
        issuer.validate_key(w.keys["scoped"])
    assert issuer.validate_key(w.keys["expiring"]).metadata.expires_at > datetime.now(UTC)
    with pytest.raises(ExpiredKeyError):
        issuer.validate_key(w.keys["expired"])
    with pytest.raises(RevokedKeyError):
        issuer.validate_key(w.keys["revoked"])
    assert issuer.get_key(w.ids["revoked"]).revoked_at is not None
    assert issuer.validate_key(w.keys["admin"], org_id=w.ids["other"]).metadata.scopes == ["admin"]
    assert [p.name for p in issuer.list_project_products(w.ids["v1"])] == ["search"]
    issuer.close()

    stranger = KeyIssuer(url, signing_secret="another-secret-0123456789abcdef", cache_ttl=0)
    with pytest.raises(InvalidKeyError):  # a legacy hash verifies only under its own secret
        stranger.validate_key(w.keys["admin"])
    stranger.close()


def test_keys_written_by_apikeys_platform_stay_valid_in_byok(written: Written, db_url: str) -> None:
    report = import_apikeys(written.url, db_url)
    assert [(k, t.found, t.imported, t.skipped) for k, t in report.tallies.items()] == [
        ("organizations", 2, 2, 0),
        ("projects", 3, 3, 0),
        ("products", 2, 2, 0),
        ("links", 1, 1, 0),
        ("keys", 6, 6, 0),
    ]
    _check_keys_valid(db_url, written)


def test_the_async_client_of_an_app_that_changed_only_its_import(
    written: Written, tmp_path
) -> None:
    """`from byok.issuing import APIKeyClient` in place of apikeys', same arguments: the keys
    the old app handed out work (and a fresh key of byok's own shape beside them)."""
    from byok.issuing import APIKeyClient as Client

    target = f"sqlite+aiosqlite:///{tmp_path / 'byok.db'}"  # the reference's URL spelling
    import_apikeys(written.url, target)

    async def app() -> None:
        client = Client(target, signing_secret=SECRET, key_prefix="acme", environment="live")
        key = await client.validate_key(written.keys["plain"], required_scopes=["read"])
        assert key.id == written.ids["plain"] and key.use_count == 4
        assert (await client.verify_key(written.keys["plain"])).use_count == 5
        with pytest.raises(RevokedKeyError):
            await client.validate_key(written.keys["revoked"])
        fresh = await client.create_key(written.ids["acme"])
        assert (await client.validate_key(fresh.plaintext)).use_count == 1

    asyncio.run(app())


def test_a_dry_run_writes_nothing_and_a_second_run_imports_nothing_twice(
    written: Written, db_url: str
) -> None:
    dry = import_apikeys(written.url, db_url, dry_run=True)
    assert dry.tallies["keys"].imported == 6 and dry.dry_run
    assert "keys: 6 found, 6 would import, 0 already present, 0 skipped" in dry.lines()
    issuer = _issuer(db_url)
    assert issuer.list_organizations() == []
    issuer.close()

    first = import_apikeys(written.url, db_url, batch_size=2)
    again = import_apikeys(written.url, db_url)
    assert sum(t.imported for t in first.tallies.values()) == ROWS
    assert sum(t.imported for t in again.tallies.values()) == 0
    assert sum(t.present for t in again.tallies.values()) == ROWS
    _check_keys_valid(db_url, written)
    issuer = _issuer(db_url)
    assert len(issuer.list_org_keys(written.ids["acme"])) == 4
    assert issuer.list_audit_events(written.ids["acme"], key_id=written.ids["plain"])[
        0
    ].changes == {"imported_from": "apikeys-platform"}
    issuer.close()


KILLER = """
import os, signal, sys
from byok.issuing import import_apikeys

def die(done, total):
    if done >= 9:  # organizations, projects, products, links and one key are in
        os.kill(os.getpid(), signal.SIGKILL)

import_apikeys(sys.argv[1], sys.argv[2], batch_size=1, progress=die)
"""


def test_an_import_killed_midway_completes_when_run_again(written: Written, db_url: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILLER), written.url, db_url],
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    issuer = _issuer(db_url)
    with issuer._guard("test read"):  # one key made it in before the kill
        assert issuer.db.conn.execute(sa.text("SELECT count(*) FROM issued_keys")).scalar() == 1
    issuer.close()
    report = import_apikeys(written.url, db_url)
    assert report.tallies["keys"].present == 1 and report.tallies["keys"].imported == 5
    assert report.tallies["organizations"].present == 2
    _check_keys_valid(db_url, written)


def test_the_cli_shows_progress_and_reports_what_it_imported(
    written: Written, tmp_path: Path, capsys
) -> None:
    target = f"sqlite:///{tmp_path / 'byok.db'}"
    args = ["keys", "import", "--from-apikeys", written.url, "--db", target]
    assert main([*args, "--dry-run"]) == 0
    out = capsys.readouterr()
    assert "keys: 6 found, 6 would import" in out.out and "nothing was written" in out.out
    assert main([*args, "--progress"]) == 0
    out = capsys.readouterr()
    assert "keys: 6 found, 6 imported, 0 already present, 0 skipped" in out.out
    assert f"{ROWS}/{ROWS}" in out.err  # tqdm's bar (on stderr)
    for plaintext in written.keys.values():  # never a key in what the command prints
        assert plaintext not in out.out + out.err
    assert main(args) == 0
    assert "keys: 6 found, 0 imported, 6 already present" in capsys.readouterr().out
    _check_keys_valid(target, written)


def _hex(ident: str) -> str:
    """An id as the reference's SQLite rows hold it (32 hex digits)."""
    return ident.replace("-", "")


def test_rows_byok_cannot_hold_are_skipped_and_named(written: Written, tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{written.path}")
    with engine.begin() as conn:  # a name past byok's 200 characters, another org of one's name
        conn.execute(sa.text("UPDATE projects SET name = :n WHERE name = 'v2'"), {"n": "x" * 250})
        damage = sa.text("UPDATE api_keys SET metadata = :m WHERE id = :id")
        conn.execute(damage, {"m": '{"scopes": ["read all"]}', "id": _hex(written.ids["scoped"])})
        conn.execute(damage, {"m": "{not json", "id": _hex(written.ids["expired"])})
    engine.dispose()
    target = f"sqlite:///{tmp_path / 'byok.db'}"
    issuer = _issuer(target)
    issuer.create_organization("Other Co")  # taken by another id in byok already
    issuer.close()
    report = import_apikeys(written.url, target)
    reasons = {(s.kind, s.id): s.reason for s in report.skipped}
    assert "taken in byok" in reasons[("organizations", written.ids["other"])]
    assert "1-200 characters" in reasons[("projects", written.ids["v2"])]
    assert ("keys", written.ids["expiring"]) in reasons  # its project was skipped
    assert ("keys", written.ids["admin"]) in reasons  # its organization was skipped
    assert "a scope is 1-64 printable characters" in reasons[("keys", written.ids["scoped"])]
    assert "metadata is not JSON" in reasons[("keys", written.ids["expired"])]
    assert report.tallies["keys"].imported == 1
    issuer = _issuer(target)
    assert issuer.validate_key(written.keys["plain"]).use_count == 4
    issuer.close()


def test_a_database_that_is_not_apikeys_platforms_is_refused(tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'byok.db'}"
    _issuer(target).close()
    with pytest.raises(InvalidInputError, match="not an apikeys-platform database"):
        import_apikeys(target, f"sqlite:///{tmp_path / 'other.db'}")  # byok's own
    with pytest.raises(Exception, match="no SQLite database"):
        import_apikeys(f"sqlite:///{tmp_path / 'typo.db'}", target)
    assert not (tmp_path / "typo.db").exists()
    with pytest.raises(InvalidInputError, match="cannot serve"):
        import_apikeys("oracle://u@h/db", target)


@pytest.mark.postgres
def test_a_postgresql_apikeys_database_is_imported(written: Written, db_url: str, pg_url) -> None:
    """The reference's own tables (its models' metadata) on PostgreSQL, holding the rows it
    wrote; imported into byok on SQLite and PostgreSQL."""
    from apikeys.db.base import Base

    from bench.servers import admin_exec as _admin_exec
    from bench.servers import with_db as _with_db

    name = f"apikeys_src_{os.getpid()}"
    _admin_exec(pg_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    source = _with_db(pg_url, name)
    try:
        engine = sa.create_engine(source.replace("postgresql://", "postgresql+psycopg://"))
        Base.metadata.create_all(engine)
        lite = sa.create_engine(f"sqlite:///{written.path}")
        with lite.connect() as src, engine.begin() as dst:
            for table in Base.metadata.sorted_tables:
                rows = [dict(r) for r in src.execute(table.select()).mappings()]
                if rows:
                    dst.execute(table.insert(), rows)
        lite.dispose()
        engine.dispose()
        spelt = source.replace("postgresql://", "postgresql+asyncpg://")  # as its users write it
        report = import_apikeys(spelt, db_url)
        assert sum(t.imported for t in report.tallies.values()) == ROWS
        _check_keys_valid(db_url, written)
    finally:
        _admin_exec(pg_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
