"""A new signing secret rolled out instance by instance (issue 22, defect 2), on SQLite and
PostgreSQL: two KeyIssuers on one database stand for an instance still on the old secret and
one already on the new secret (old one listed as previous). Nothing is rehashed until the new
secret is committed, so the old instance, and a roll-back, keep every key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from byok.issuing import InvalidKeyError, KeyIssuer

OLD = "rollout-old-signing-secret-0123456789"
NEW = "rollout-new-signing-secret-0123456789"


def pepper_of(issuer: KeyIssuer, key_id: str) -> str:
    """The `pepper` column of one key's row."""
    with issuer._guard("test read"):
        stmt = sa.text("SELECT pepper FROM issued_keys WHERE id = :id")
        return issuer.db.conn.execute(stmt, {"id": key_id}).scalar_one()


@pytest.fixture
def fleet(db_url: str) -> Iterator[dict[str, KeyIssuer]]:
    """Two instances on one database: one on the old secret, one rolled to the new one."""
    old = KeyIssuer(db_url, signing_secret=OLD, cache_ttl=0)
    new = KeyIssuer(db_url, signing_secret=NEW, previous_signing_secrets=[OLD], cache_ttl=0)
    yield {"old": old, "new": new, "url": db_url}  # type: ignore[dict-item]
    old.close()
    new.close()


def test_a_rolling_deploy_strands_no_instance_and_a_roll_back_keeps_every_key(fleet) -> None:
    old, new = fleet["old"], fleet["new"]
    org = old.create_organization("Acme")
    before = old.create_key(org.id)  # issued before the deploy
    assert new.validate_key(before.plaintext).use_count == 1  # the upgraded instance first
    assert old.validate_key(before.plaintext).use_count == 2  # the old one still knows it
    during = new.create_key(org.id)  # issued by an upgraded instance mid-deploy
    assert old.validate_key(during.plaintext).use_count == 1
    assert new.validate_key(during.plaintext).use_count == 2
    assert pepper_of(new, before.key.id) == pepper_of(new, during.key.id) == old.peppers.current
    status = new.signing_secret_status()
    assert (status.committed, status.current, status.older) == (old.peppers.current, 0, 2)

    new.close()  # roll back: every instance on the old secret only
    for made, uses in ((before, 3), (during, 3)):
        assert old.validate_key(made.plaintext).use_count == uses


def test_rehash_once_every_instance_runs_the_new_secret(fleet) -> None:
    old, new = fleet["old"], fleet["new"]
    org = old.create_organization("Acme")
    used = old.create_key(org.id)
    idle = old.create_key(org.id)
    old.close()  # the deploy is complete: no instance on the old secret alone

    status = new.adopt_signing_secret()  # `byok keys rehash`
    assert status.committed == new.peppers.current and status.holds_committed
    assert (status.current, status.older) == (0, 2)  # nothing moves before a key is used
    assert new.validate_key(used.plaintext).use_count == 1
    assert pepper_of(new, used.key.id) == new.peppers.current  # moved on its first use
    assert pepper_of(new, new.create_key(org.id).key.id) == new.peppers.current
    assert new.signing_secret_status()[2:] == (2, 1, 0, 0)

    only_new = KeyIssuer(fleet["url"], signing_secret=NEW, cache_ttl=0)
    assert only_new.validate_key(used.plaintext).use_count == 2
    with pytest.raises(InvalidKeyError):  # unused since: retire the old secret once older == 0
        only_new.validate_key(idle.plaintext)
    assert only_new.signing_secret_status().unknown == 1
    only_new.close()

    # a roll-back after the commit lists the new secret as previous: it keeps reading both
    back = KeyIssuer(fleet["url"], signing_secret=OLD, previous_signing_secrets=[NEW], cache_ttl=0)
    assert back.validate_key(used.plaintext).use_count == 3
    assert back.validate_key(idle.plaintext).use_count == 1
    assert pepper_of(back, idle.key.id) == new.peppers.current  # rehashed to the committed one
    back.close()


def test_an_instance_without_the_committed_secret_never_rehashes(fleet) -> None:
    old, new = fleet["old"], fleet["new"]
    org = old.create_organization("Acme")
    made = old.create_key(org.id)
    third = KeyIssuer(
        fleet["url"],
        signing_secret="rollout-third-secret-0123456789",
        previous_signing_secrets=[OLD],
    )
    new.adopt_signing_secret()
    assert not third.signing_secret_status().holds_committed
    assert third.validate_key(made.plaintext).use_count == 1
    assert pepper_of(third, made.key.id) == old.peppers.current  # left for the fleet to move
    assert new.validate_key(made.plaintext).use_count == 2
    assert pepper_of(new, made.key.id) == new.peppers.current
    third.close()


def test_byok_keys_rehash_commits_the_secret_and_check_only_shows(
    fleet, monkeypatch, capsys
) -> None:
    from byok.cli import main

    old, new, url = fleet["old"], fleet["new"], fleet["url"]
    made = old.create_key(old.create_organization("Acme").id)
    monkeypatch.setenv("BYOK_SIGNING_SECRET", NEW)
    monkeypatch.setenv("BYOK_SIGNING_SECRET_OLD1", OLD)
    assert main(["keys", "rehash", "--db", url, "--check"]) == 0
    out = capsys.readouterr().out
    assert "committed: an older signing secret" in out
    assert "keys under older secrets (rehashed on their next use): 1" in out
    new.validate_key(made.plaintext)
    assert pepper_of(new, made.key.id) == old.peppers.current  # --check changed nothing

    assert main(["keys", "rehash", "--db", url]) == 0
    assert "committed: this signing secret" in capsys.readouterr().out
    new.validate_key(made.plaintext)
    assert pepper_of(new, made.key.id) == new.peppers.current
    assert main(["keys", "rehash", "--db", url, "--check"]) == 0
    assert "keys under the current secret: 1" in capsys.readouterr().out


def test_racing_first_uses_after_the_commit_rehash_once_and_count_every_use(fleet) -> None:
    from concurrent.futures import ThreadPoolExecutor

    old, new, url = fleet["old"], fleet["new"], fleet["url"]
    made = old.create_key(old.create_organization("Acme").id)
    new.adopt_signing_secret()
    instances = [
        KeyIssuer(url, signing_secret=NEW, previous_signing_secrets=[OLD], cache_ttl=0)
        for _ in range(4)
    ]

    def use(issuer: KeyIssuer) -> None:
        for _ in range(10):
            issuer.validate_key(made.plaintext)

    with ThreadPoolExecutor(len(instances)) as pool:
        list(pool.map(use, instances))
    for issuer in instances:
        issuer.close()
    assert new.get_key(made.key.id).use_count == 40
    assert pepper_of(new, made.key.id) == new.peppers.current
    assert old.signing_secret_status().unknown == 1  # the old instance alone no longer knows it
