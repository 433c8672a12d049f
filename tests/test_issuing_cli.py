"""`byok keys create | list | revoke | roll`: the secret from the environment, the plaintext
printed once, typed errors as exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from byok.cli import main
from byok.issuing import ExpiredKeyError, KeyIssuer, RevokedKeyError, looks_like_issued_key
from tests.support import SECRET


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BYOK_SIGNING_SECRET", SECRET)
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    KeyIssuer(url, signing_secret=SECRET).close()  # an existing database (the app made it)
    return url


def _create(db: str, capsys, *extra: str) -> tuple[str, str]:
    args = ["keys", "create", "--db", db, "--org", "Acme", "--create-missing", *extra]
    assert main(args) == 0
    out = capsys.readouterr().out.splitlines()
    keys = [line for line in out if looks_like_issued_key(line)]
    assert len(keys) == 1 and out[-1] == keys[0]  # printed once, alone on its line
    key_id = out[0].split()[1]
    return key_id, keys[0]


def test_create_prints_the_key_once_and_it_works(db: str, capsys) -> None:
    key_id, plaintext = _create(
        db,
        capsys,
        "--project",
        "v1",
        "--product",
        "api",
        "--name",
        "ops",
        "--scope",
        "read",
        "--rate-limit",
        "5/minute",
        "--expires-in",
        "30d",
        "--actor",
        "alice",
    )
    issuer = KeyIssuer(db, signing_secret=SECRET)
    key = issuer.validate_key(plaintext, required_scopes=["read"])
    assert key.id == key_id and key.metadata.rate_limit.requests == 5
    assert key.metadata.expires_at is not None and key.project_id and key.product_id
    assert issuer.list_audit_events(key.org_id)[0].actor == "alice"


def test_list_shows_keys_without_their_plaintext(db: str, capsys) -> None:
    key_id, plaintext = _create(db, capsys, "--name", "listed")
    assert main(["keys", "list", "--db", db, "--org", "Acme"]) == 0
    out = capsys.readouterr().out
    assert key_id in out and "listed" in out and "active" in out
    assert plaintext not in out and plaintext[3:15] not in out


def test_revoke_and_roll(db: str, capsys) -> None:
    first_id, first = _create(db, capsys)
    assert main(["keys", "roll", "--db", db, first_id, "--grace", "1h"]) == 0
    out = capsys.readouterr().out.splitlines()
    second = out[-1]
    assert looks_like_issued_key(second) and second != first and "works until" in out[0]
    issuer = KeyIssuer(db, signing_secret=SECRET, cache_ttl=0)
    issuer.validate_key(first)  # within its grace
    assert main(["keys", "revoke", "--db", db, first_id]) == 0
    with pytest.raises(RevokedKeyError):
        issuer.validate_key(first)
    second_id = issuer.validate_key(second).id
    assert main(["keys", "roll", "--db", db, second_id]) == 0  # no grace: the old one stops now
    with pytest.raises(ExpiredKeyError):
        issuer.validate_key(second)


def test_a_key_in_its_grace_period_is_not_rolled_twice(db: str, capsys) -> None:
    first_id, _ = _create(db, capsys)
    assert main(["keys", "roll", "--db", db, first_id, "--grace", "1h"]) == 0
    capsys.readouterr()
    assert main(["keys", "roll", "--db", db, first_id, "--grace", "1h"]) == 2
    assert "already rolled" in capsys.readouterr().err
    issuer = KeyIssuer(db, signing_secret=SECRET, cache_ttl=0)
    assert len(issuer.list_org_keys(issuer.get_key(first_id).org_id)) == 2
    issuer.close()


def test_errors_are_exit_status_2_with_a_message(db: str, capsys, monkeypatch) -> None:
    assert main(["keys", "list", "--db", db, "--org", "Nobody"]) == 2
    assert "no organization 'Nobody'" in capsys.readouterr().err
    assert main(["keys", "revoke", "--db", db, "not-an-id"]) == 2
    monkeypatch.delenv("BYOK_SIGNING_SECRET")
    assert main(["keys", "list", "--db", db, "--org", "Acme"]) == 2
    assert "BYOK_SIGNING_SECRET" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["keys", "create", "--db", db, "--org", "A", "--rate-limit", "0/minute"])


def test_old_secrets_come_from_the_environment(db: str, capsys, monkeypatch) -> None:
    _, plaintext = _create(db, capsys)
    monkeypatch.setenv("BYOK_SIGNING_SECRET", "a-brand-new-signing-secret-0123")
    monkeypatch.setenv("BYOK_SIGNING_SECRET_OLD1", SECRET)
    _create(db, capsys)  # works with the rotated secret
    issuer = KeyIssuer(
        db, signing_secret="a-brand-new-signing-secret-0123", previous_signing_secrets=[SECRET]
    )
    assert issuer.validate_key(plaintext).use_count == 1
