"""Every database URL an apikeys-platform or SQLAlchemy user writes opens the same database in
both halves of byok (the key vault and issued keys): async drivers' spellings included, the
driver replaced by byok's own in one place (`byok.core.database.engine_url`). A URL byok cannot
serve is a clear error naming its scheme, never repeating a password."""

from __future__ import annotations

import asyncio

import pytest

import byok.issuing as issuing
from byok import BYOKManager
from byok.core.types import ValidationError
from tests.support import SECRET

PASSWORD = "hunter2-Sup3rSecret"  # a password written in refused URLs: never shown

SPELLINGS = {  # the scheme a fixture URL starts with -> the other spellings of the same server
    "sqlite": ["sqlite", "sqlite+aiosqlite", "sqlite+pysqlite"],
    "postgresql": ["postgresql", "postgres", "postgresql+asyncpg", "postgresql+psycopg"],
    "mysql": ["mysql", "mysql+pymysql", "mysql+aiomysql", "mariadb", "mariadb+pymysql"],
}


def spellings(db_url: str) -> list[str]:
    """The fixture's URL written as each spelling a user may have."""
    scheme, rest = db_url.split("://", 1)
    return [f"{other}://{rest}" for other in SPELLINGS[scheme]]


def test_every_spelling_opens_the_key_vault(db_url: str) -> None:
    for n, url in enumerate(spellings(db_url)):
        manager = BYOKManager(SECRET, db_url=url)
        manager.set_key(None, "openai", f"sk-proj-{n:04d}abcdefghijklmnop", user_id="u1")
        manager.database.close()
    reader = BYOKManager(SECRET, db_url=db_url)
    assert reader.get_key(None, "openai", user_id="u1") == f"sk-proj-{n:04d}abcdefghijklmnop"


def test_every_spelling_opens_issued_keys(db_url: str) -> None:
    plaintexts = []
    for url in spellings(db_url):
        issuer = issuing.KeyIssuer(url, signing_secret=SECRET)
        org, _ = issuer.get_or_create_organization("Acme")  # one organization for every spelling
        plaintexts.append(issuer.create_key(org.id).plaintext)
        issuer.close()
    issuer = issuing.KeyIssuer(db_url, signing_secret=SECRET)
    assert [issuer.validate_key(p).org_id for p in plaintexts] == [org.id] * len(plaintexts)


def test_the_async_client_takes_its_own_urls(db_url: str) -> None:
    async def round_trip(url: str) -> str:
        await issuing.create_tables(url)
        client = issuing.APIKeyClient(url, signing_secret=SECRET)
        org, _ = await client.get_or_create_organization("Async")
        created = await client.create_key(org.id)
        return (await client.validate_key(created.plaintext)).id

    for url in spellings(db_url):
        assert asyncio.run(round_trip(url))


def test_an_in_memory_sqlite_url_serves_issued_keys() -> None:
    issuer = issuing.KeyIssuer("sqlite:///:memory:", signing_secret=SECRET)
    org = issuer.create_organization("Memory")
    assert issuer.validate_key(issuer.create_key(org.id).plaintext).org_id == org.id


@pytest.mark.parametrize(
    "url",
    [
        f"oracle+cx_oracle://scott:{PASSWORD}@db.example/orcl",
        f"mssql+pyodbc://sa:{PASSWORD}@db.example/keys",
        f"http://admin:{PASSWORD}@db.example/keys",
    ],
)
def test_a_url_byok_cannot_serve_names_its_scheme_and_what_to_use(url: str) -> None:
    scheme = url.split("://", 1)[0]
    for open_it in (
        lambda: BYOKManager(SECRET, db_url=url),
        lambda: issuing.KeyIssuer(url, signing_secret=SECRET),
        lambda: asyncio.run(issuing.create_tables(url)),
    ):
        with pytest.raises(ValidationError) as caught:
            open_it()
        message = str(caught.value)
        assert repr(scheme) in message
        assert "postgresql://" in message and "mysql://" in message
        assert PASSWORD not in message
    with pytest.raises(issuing.InvalidInputError):  # issuing's own error type
        issuing.KeyIssuer(url, signing_secret=SECRET)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://u:{PASSWORD}@127.0.0.1:notaport/db",  # unparsable: no URL echoed
        f"user:{PASSWORD}@127.0.0.1/db",  # no scheme at all
        f"{PASSWORD}@weird:scheme://x",  # a "scheme" that is not one is not repeated either
    ],
)
def test_a_malformed_url_is_refused_without_its_password(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        BYOKManager(SECRET, db_url=url)
    assert PASSWORD not in str(caught.value)


def test_an_open_database_never_shows_its_password(pg_url: str) -> None:
    rest = pg_url.split("://", 1)[1]
    user, host = rest.split("@", 1)
    manager = BYOKManager(SECRET, db_url=f"postgres://{user}:{PASSWORD}@{host}")
    assert PASSWORD not in repr(manager.database.db)
