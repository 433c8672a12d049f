"""Issue 22, defect 6: no `byok` command creates a database by mistake. A mistyped --db
(`sqlite:///typo.db`) used to make an empty database for every `byok keys` command; now each
refuses a missing SQLite file, or a database without the issued-key tables, with a message
naming it, and creates nothing. `byok keys create --create-db` is the one way to set one up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from byok.cli import main
from byok.core.database import create_engine
from byok.issuing import KeyIssuer, looks_like_issued_key
from tests.support import SECRET

APP_SECRET = "cli-db-test-app-secret-0123456789"
KEY_ID = "00000000-0000-4000-8000-000000000000"  # well formed, never issued
COMMANDS = {  # every command that takes --db, with the arguments it needs besides --db
    "keys create": ["keys", "create", "--org", "Acme", "--create-missing"],
    "keys list": ["keys", "list", "--org", "Acme"],
    "keys revoke": ["keys", "revoke", KEY_ID],
    "keys roll": ["keys", "roll", KEY_ID],
    "rotate": ["rotate"],
    "doctor": ["doctor"],
}


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYOK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("BYOK_SECRET", APP_SECRET)


def _run(command: str, db: str) -> int:
    args = COMMANDS[command]
    at = 2 if args[0] == "keys" else 1
    return main([*args[:at], "--db", db, *args[at:]])


def _tables(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


@pytest.mark.parametrize("command", COMMANDS)
def test_a_missing_sqlite_file_is_refused_by_name_and_not_created(
    command: str, tmp_path: Path, capsys: Any
) -> None:
    typo = tmp_path / "typo.db"
    code = _run(command, f"sqlite:///{typo}")
    said = capsys.readouterr()
    err = said.err + said.out  # doctor reports on stdout
    assert code != 0 and str(typo) in err, err
    assert "Traceback" not in err
    assert not typo.exists()
    if command == "keys create":
        assert "--create-db" in err  # says how to create one


@pytest.mark.parametrize("command", ["keys create", "keys list", "keys revoke", "keys roll"])
def test_a_database_without_the_issued_key_tables_is_refused_and_left_alone(
    command: str, db_url: str, capsys: Any
) -> None:
    """An existing database (SQLite file or PostgreSQL) that is not the keys database: refused,
    no table made in it."""
    if db_url.startswith("sqlite"):
        path = Path(db_url.removeprefix("sqlite:///"))
        engine = sa.create_engine(db_url)
        with engine.begin() as conn:  # the app's own database, say
            conn.execute(sa.text("CREATE TABLE orders (id INTEGER PRIMARY KEY)"))
        engine.dispose()
        assert path.exists()
    before = _tables(db_url)
    assert _run(command, db_url) == 2
    err = capsys.readouterr().err
    assert "no issued keys" in err and "issued_keys" in err
    if not db_url.startswith("sqlite"):
        assert db_url not in err  # a URL may carry a password: not repeated
    assert _tables(db_url) == before


def test_create_db_sets_up_a_new_database_and_the_others_then_work(
    tmp_path: Path, capsys: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    args = ["keys", "create", "--db", url, "--org", "Acme", "--create-missing", "--create-db"]
    assert main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert looks_like_issued_key(out[-1])
    assert main(["keys", "list", "--db", url, "--org", "Acme"]) == 0
    assert "active" in capsys.readouterr().out
    issuer = KeyIssuer(url, signing_secret=SECRET)
    try:
        assert issuer.validate_key(out[-1]).metadata.scopes == []
    finally:
        issuer.close()
    assert main(args) == 0  # --create-db on an existing database only adds a key


def test_create_db_creates_the_tables_in_an_empty_database(db_url: str, capsys: Any) -> None:
    args = ["keys", "create", "--db", db_url, "--org", "Acme", "--create-missing", "--create-db"]
    assert main(args) == 0
    assert looks_like_issued_key(capsys.readouterr().out.splitlines()[-1])
    assert "issued_keys" in _tables(db_url)


def test_an_in_memory_database_is_refused(capsys: Any) -> None:
    for url in ("sqlite://", "sqlite:///:memory:"):
        args = ["keys", "create", "--db", url, "--org", "A", "--create-missing", "--create-db"]
        assert main(args) == 2
        assert "in-memory" in capsys.readouterr().err
