"""The `byok` command line: rotate and doctor, against a real SQLite file."""

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from byok.cli import main
from byok.core.database import create_engine
from byok.core.storage import BYOKManager
from byok.core.types import BYOKConfig, StorageBackend
from tests.support.storage import FakeRequest as Req

OLD, NEW = "old-secret-" + "a" * 24, "new-secret-" + "b" * 24


@pytest.fixture
def filled(tmp_path):
    """A SQLite file with 250 keys sealed under version 1."""
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    m = BYOKManager(OLD, db_url=url)
    for i in range(250):
        m.set_key(Req(), "openai", f"sk-canary-{i:05d}-xyz", user_id=f"user{i}")
    m.database.close()
    return url


def _new_manager(url):
    cfg = BYOKConfig(storage_backend=StorageBackend.DATABASE, key_version=2, previous_keys={1: OLD})
    return BYOKManager(NEW, db_url=url, config=cfg)


def test_rotate_rewraps_every_row_and_loses_none(filled, monkeypatch, capsys):
    monkeypatch.setenv("BYOK_SECRET", NEW)
    monkeypatch.setenv("BYOK_SECRET_V1", OLD)
    assert (
        main(["rotate", "--db", filled, "--key-version", "2", "--batch-size", "40", "--quiet"]) == 0
    )
    out = capsys.readouterr().out
    assert "250 stored keys to re-encrypt" in out and "rewrapped 250" in out
    m = _new_manager(filled)
    assert m.stale_count() == 0
    assert [m.get_key(Req(), "openai", f"user{i}") for i in range(250)] == [
        f"sk-canary-{i:05d}-xyz" for i in range(250)
    ]
    # with version 1 retired, the new secret alone reads everything
    retired = BYOKConfig(
        storage_backend=StorageBackend.DATABASE, key_version=2, min_decrypt_version=2
    )
    assert BYOKManager(NEW, db_url=filled, config=retired).get_key(Req(), "openai", "user7") == (
        "sk-canary-00007-xyz"
    )


def test_rotate_dry_run_changes_nothing(filled, monkeypatch, capsys):
    monkeypatch.setenv("BYOK_SECRET", NEW)
    monkeypatch.setenv("BYOK_SECRET_V1", OLD)
    assert main(["rotate", "--db", filled, "--key-version", "2", "--dry-run"]) == 0
    assert _new_manager(filled).stale_count() == 250


def test_rotate_without_old_secret_fails_and_keeps_rows(filled, monkeypatch, capsys):
    monkeypatch.setenv("BYOK_SECRET", NEW)
    monkeypatch.delenv("BYOK_SECRET_V1", raising=False)
    assert main(["rotate", "--db", filled, "--key-version", "2", "--quiet"]) == 1
    assert "none of 50 stored keys opens with the secrets given" in capsys.readouterr().err
    assert _new_manager(filled).stale_count() == 250  # refused before touching a row
    assert _new_manager(filled).get_key(Req(), "openai", "user3") == "sk-canary-00003-xyz"


def test_rotate_with_a_mistyped_old_secret_is_refused(filled, monkeypatch, capsys):
    monkeypatch.setenv("BYOK_SECRET", NEW)
    monkeypatch.setenv("BYOK_SECRET_V1", OLD + "-typo")
    for extra in ([], ["--dry-run"]):
        assert main(["rotate", "--db", filled, "--key-version", "2", "--quiet", *extra]) == 1
        assert "refusing to rotate" in capsys.readouterr().err
    assert _new_manager(filled).stale_count() == 250


def _tables(url: str) -> list[str]:
    """The tables of a database, read with SQLAlchemy directly."""
    engine = create_engine(url)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_doctor_and_rotate_on_a_mistyped_database_create_nothing(db_url, monkeypatch, capsys):
    monkeypatch.setenv("BYOK_SECRET", NEW)
    wrong = db_url + "_typo" if db_url.startswith("postgresql") else db_url
    assert main(["doctor", "--db", wrong]) == 1
    assert "[fail] database:" in capsys.readouterr().out
    assert main(["rotate", "--db", wrong, "--quiet"]) == 2
    assert "byok:" in capsys.readouterr().err
    if db_url.startswith("sqlite"):
        assert not Path(db_url.removeprefix("sqlite:///")).exists()  # no file made
    else:
        assert _tables(db_url) == []  # the database is reachable: still no table made in it


def test_doctor_and_rotate_refuse_a_database_without_the_key_table(db_url, monkeypatch, capsys):
    monkeypatch.setenv("BYOK_SECRET", NEW)
    engine = create_engine(db_url)
    with engine.begin() as conn:  # somebody else's database
        conn.execute(sa.text("CREATE TABLE orders (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    assert main(["doctor", "--db", db_url]) == 1
    assert "no byok key table 'user_api_keys'" in capsys.readouterr().out
    assert main(["rotate", "--db", db_url, "--quiet"]) == 2
    assert "no byok key table" in capsys.readouterr().err
    assert _tables(db_url) == ["orders"]


def test_doctor_and_rotate_fail_on_an_empty_key_table(db_url, monkeypatch, capsys):
    monkeypatch.setenv("BYOK_SECRET", NEW)
    BYOKManager(OLD, db_url=db_url).database.close()  # the app made the table, no key yet
    assert main(["doctor", "--db", db_url]) == 1
    assert "0 keys: is --db the right database?" in capsys.readouterr().out
    assert main(["rotate", "--db", db_url, "--quiet"]) == 1
    assert "holds no keys" in capsys.readouterr().err
    assert main(["doctor", "--db", db_url, "--allow-empty"]) == 0
    assert main(["rotate", "--db", db_url, "--quiet", "--allow-empty"]) == 0


def test_doctor_fails_when_the_secret_opens_no_stored_key(filled, monkeypatch, capsys):
    monkeypatch.setenv("BYOK_SECRET", NEW)  # the app's secret is OLD: mistyped here
    assert main(["doctor", "--db", filled]) == 1
    assert "[fail] 0 of 50 sampled keys open with the configured secrets" in capsys.readouterr().out
    monkeypatch.setenv("BYOK_SECRET", OLD)
    assert main(["doctor", "--db", filled]) == 0
    assert "[  ok] 50 of 50 sampled keys open" in capsys.readouterr().out


def test_doctor_reports_stale_keys_and_never_prints_secrets(filled, monkeypatch, capsys):
    monkeypatch.setenv("BYOK_SECRET", NEW)
    monkeypatch.setenv("BYOK_SECRET_V1", OLD)
    assert main(["doctor", "--db", filled, "--key-version", "2"]) == 0
    out = capsys.readouterr().out
    assert "250 keys under older key versions" in out
    assert NEW not in out and OLD not in out and "sk-canary" not in out


def test_doctor_fails_without_a_secret(monkeypatch, capsys):
    monkeypatch.delenv("BYOK_SECRET", raising=False)
    assert main(["doctor"]) == 1
    assert "[fail] BYOK_SECRET is missing" in capsys.readouterr().out


def test_doctor_production_setting(monkeypatch, capsys):
    monkeypatch.setenv("BYOK_SECRET", NEW)
    monkeypatch.setenv("BYOK_ENV", "production")
    assert main(["doctor"]) == 0
    assert "[  ok] production mode" in capsys.readouterr().out


def test_bad_database_url_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setenv("BYOK_SECRET", NEW)
    assert main(["rotate", "--db", "not-a-url", "--quiet"]) == 2
    assert "db_url must be a database URL" in capsys.readouterr().err


def test_console_script_is_installed():
    out = subprocess.run(
        [sys.executable, "-m", "byok.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "rotate" in out and "doctor" in out


def test_doctor_and_rotate_on_schema_2_labelled_keys_with_endpoints(db_url, monkeypatch, capsys):
    """A version-1 table is left alone (the app migrates it on its next start); on the
    version-2 table doctor opens labelled keys bound to their endpoints and rotate rewraps them."""
    from tests.support.storage import SECRET, V1_ROWS, tables_v1_meta, v2_manager, write_v1

    write_v1(db_url)
    monkeypatch.setenv("BYOK_SECRET", SECRET)
    monkeypatch.setenv("BYOK_SECRET_V1", SECRET)
    assert main(["doctor", "--db", db_url, "--key-version", "2"]) == 1
    assert "schema version 1" in capsys.readouterr().out
    assert main(["rotate", "--db", db_url, "--key-version", "2", "--quiet"]) == 2
    assert "start the app once" in capsys.readouterr().err
    assert tables_v1_meta(db_url) == "1"  # neither tool migrated anything
    app = v2_manager(db_url)  # the app's next start migrates
    endpoint = {"base_url": "https://llm.example.com/v1"}
    app.set_key(None, "openai-compatible", "sk-work-compat-0001", user_id="u1", label="work",
                endpoint=endpoint)  # fmt: skip
    app.set_key(None, "openai", "sk-second-openai-01", user_id="u1", label="spare")
    app.database.close()
    assert tables_v1_meta(db_url) == "2"
    total = len(V1_ROWS) + 2
    assert main(["doctor", "--db", db_url, "--key-version", "2"]) == 0
    out = capsys.readouterr().out
    assert f"[  ok] {total} of {total} sampled keys open" in out and "[fail]" not in out
    assert main(["rotate", "--db", db_url, "--key-version", "2", "--quiet"]) == 0
    ring = BYOKConfig(storage_backend=StorageBackend.DATABASE, key_version=2, min_decrypt_version=2)
    rotated = BYOKManager(SECRET, db_url=db_url, config=ring)
    try:
        assert rotated.stale_count() == 0
        creds = rotated.get_credentials(None, "openai-compatible", "u1", label="work")
        assert creds.api_key == "sk-work-compat-0001"
        assert creds.endpoint.base_url == "https://llm.example.com/v1"
        assert rotated.get_key(None, "openai", "u1", label="spare") == "sk-second-openai-01"
        for user, provider, plain, *_ in V1_ROWS:
            assert rotated.get_key(None, provider, user) == plain
    finally:
        rotated.database.close()


def test_doctor_reports_the_issuing_database(tmp_path, monkeypatch, capsys):
    """`byok doctor --issuing-db` checks the issued-key database and its signing secret."""
    from byok.issuing import KeyIssuer, KeyMetadata

    monkeypatch.setenv("BYOK_SECRET", "doctor-secret-0123456789abcdef")
    secret = "doctor-signing-secret-0123456789"
    url = f"sqlite:///{tmp_path}/issued.db"
    issuer = KeyIssuer(url, signing_secret=secret)
    org, _ = issuer.get_or_create_organization("Acme")
    keys = [issuer.create_key(org.id, metadata=KeyMetadata(name=f"k{i}")) for i in range(3)]
    issuer.revoke_key(keys[0].key.id)
    issuer.close()

    monkeypatch.delenv("BYOK_SIGNING_SECRET", raising=False)
    assert main(["doctor", "--issuing-db", url]) == 1  # no signing secret
    out = capsys.readouterr().out
    assert "[fail] BYOK_SIGNING_SECRET is missing" in out
    assert "[  ok] issuing database reachable: 3 issued keys (1 revoked)" in out

    monkeypatch.setenv("BYOK_SIGNING_SECRET", secret)
    assert main(["doctor", "--issuing-db", url]) == 0
    out = capsys.readouterr().out
    assert "issuing database reachable: 3 issued keys (1 revoked)" in out and secret not in out

    wrong = f"sqlite:///{tmp_path}/typo.db"
    assert main(["doctor", "--issuing-db", wrong]) == 1
    assert "[fail] issuing database: no SQLite database at" in capsys.readouterr().out
    assert not (tmp_path / "typo.db").exists()  # nothing created


def test_cli_page_shows_the_help_whole(monkeypatch):
    """docs/cli.md shows `byok --help` and `byok doctor`'s usage as the parser prints them."""
    from byok.cli import parser

    monkeypatch.setenv("COLUMNS", "100")
    page = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text()
    p = parser()
    assert f"$ byok --help\n{p.format_help().rstrip()}\n```" in page
    doctor = p._subparsers._group_actions[0].choices["doctor"]
    assert f"```text\n{doctor.format_usage().strip()}\n```" in page
    assert "checks a deployment," not in p.format_help().splitlines()[2]  # not cut off
