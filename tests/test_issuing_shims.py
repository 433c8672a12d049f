"""What apikeys-platform users' code reaches for besides the top-level names: its module paths
(`apikeys.exceptions`, `apikeys.db.session`, `apikeys.client`, `apikeys.models`,
`apikeys.fastapi`), pydantic's `model_dump()` / `model_dump_json()` / `model_validate()` on the
models, and an in-memory database behind the async client."""

from __future__ import annotations

import asyncio

import pytest

from byok.issuing import (
    APIKey,
    APIKeyClient,
    KeyMetadata,
    Organization,
    QuotaError,
    RateLimit,
)

SECRET = "shims-test-signing-secret-0123456789"


# --------------------------------------------------------------------------- in-memory SQLite


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite://"])
def test_the_async_client_runs_on_an_in_memory_database(url: str) -> None:
    async def run() -> tuple[list[str], int, int]:
        client = APIKeyClient(url, signing_secret=SECRET, cache_ttl=0)
        org = await client.create_organization("Acme")  # made in a worker thread
        listed = [o.id for o in await client.list_organizations()]  # read in another
        assert listed == [org.id]
        made = await client.create_key(org.id, metadata=KeyMetadata(rate_limit=RateLimit(10)))
        calls = [client.validate_key(made.plaintext) for _ in range(25)]
        results = await asyncio.gather(*calls, return_exceptions=True)
        passed = sum(isinstance(r, APIKey) for r in results)
        assert all(isinstance(r, APIKey | QuotaError) for r in results)
        used = (await client.get_key(made.key.id)).use_count
        await client.aclose()
        return listed, passed, used

    listed, passed, used = asyncio.run(run())
    assert len(listed) == 1
    assert (passed, used) == (10, 10)  # every call saw the same database, limits exact


def test_two_in_memory_clients_do_not_share_data() -> None:
    async def run() -> list[Organization]:
        first = APIKeyClient("sqlite:///:memory:", signing_secret=SECRET)
        second = APIKeyClient("sqlite:///:memory:", signing_secret=SECRET)
        await first.create_organization("Only in the first")
        return await second.list_organizations()

    assert asyncio.run(run()) == []
