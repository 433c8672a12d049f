"""apikeys-platform's own test suite (its `tests/sdk`) and its four examples, as byok behaviours.

Each test below makes the calls one of the reference's tests or examples makes, in the same
order, and expects the same results, on byok.issuing: every database of the `db_url` fixture
(a SQLite file and each server database), spelled as a reference user writes it
(`sqlite+aiosqlite://`, `postgresql+asyncpg://`, `mysql+aiomysql://`). The reference suite's own
`sqlite+aiosqlite:///:memory:` runs the basic flow here (and the client in test_issuing_shims).
The examples run as flows: `basic_flow.py` and `acme_integration.py` twice (they are meant to be
re-run on every deploy), `fastapi_integration.py` in FastAPI with `APIKeyDepends`, and
`examples/server/` as a FastAPI server under uvicorn on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from starlette.testclient import TestClient

from byok.issuing import (
    APIKey,
    APIKeyClient,
    APIKeyCreated,
    APIKeyDepends,
    KeyMetadata,
    KeyStatus,
    RateLimit,
    RateLimitWindow,
)
from byok.issuing.db.session import create_tables
from byok.issuing.exceptions import (
    AlreadyExistsError,
    APIKeyError,
    ExpiredKeyError,
    InsufficientScopeError,
    InvalidKeyError,
    QuotaError,
    RevokedKeyError,
)
from tests.support import SECRET

NIL = "00000000-0000-0000-0000-000000000000"  # the unknown id the reference's tests use
AS_WRITTEN = {  # scheme -> how a reference user spells it (its async drivers)
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "mysql": "mysql+aiomysql",
    "mariadb": "mysql+aiomysql",
}


def as_reference_user_writes(url: str) -> str:
    """A fixture's database URL with the async driver an apikeys-platform user names."""
    scheme, rest = url.split("://", 1)
    return f"{AS_WRITTEN[scheme.split('+', 1)[0]]}://{rest}"


@pytest.fixture
def url(db_url: str) -> str:
    """Every database of the `db_url` fixture, spelled as a reference user writes it."""
    return as_reference_user_writes(db_url)


def flow(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body (the reference's tests are async) on a fresh event loop."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


@pytest.fixture
def client(url: str) -> Iterator[APIKeyClient]:
    made = APIKeyClient(url, signing_secret=SECRET)
    yield made
    made.issuer.close()


@pytest.fixture
def org_and_project(client: APIKeyClient):
    async def make():
        org = await client.create_organization("Acme")
        return org, await client.create_project(str(org.id), "Backend")

    return asyncio.run(make())


@pytest.fixture
def org_project_product(client: APIKeyClient):
    async def make():
        org = await client.create_organization("Acme")
        project = await client.create_project(str(org.id), "Backend")
        product = await client.create_product(str(org.id), "Analytics")
        await client.add_product_to_project(str(product.id), str(project.id))
        return org, project, product

    return asyncio.run(make())


# --------------------------------------------------------------------------- tests/sdk/test_client.py


@flow
async def test_create_organization(client: APIKeyClient) -> None:
    org = await client.create_organization("Acme")
    assert org.name == "Acme" and org.id is not None and org.created_at is not None


@flow
async def test_use_organization_returns_an_equal_organization(client: APIKeyClient) -> None:
    org = await client.create_organization("Acme")
    assert await client.use_organization(str(org.id)) == org


@flow
async def test_use_organization_not_found(client: APIKeyClient) -> None:
    with pytest.raises(APIKeyError, match="not found"):
        await client.use_organization(NIL)


@flow
async def test_create_project_and_product(client: APIKeyClient) -> None:
    org = await client.create_organization("Acme")
    project = await client.create_project(str(org.id), "Backend")
    assert project.name == "Backend" and project.org_id == org.id
    product = await client.create_product(str(org.id), "Analytics")
    assert product.name == "Analytics" and product.org_id == org.id


@flow
async def test_project_and_product_of_an_unknown_org(client: APIKeyClient) -> None:
    with pytest.raises(APIKeyError, match="not found"):
        await client.create_project(NIL, "Backend")
    with pytest.raises(APIKeyError, match="not found"):
        await client.create_product(NIL, "Analytics")


@flow
async def test_link_products_to_a_project(client: APIKeyClient) -> None:
    org = await client.create_organization("Acme")
    project = await client.create_project(str(org.id), "Backend")
    analytics = await client.create_product(str(org.id), "Analytics")
    billing = await client.create_product(str(org.id), "Billing")
    await client.add_product_to_project(str(analytics.id), str(project.id))
    await client.add_product_to_project(str(billing.id), str(project.id))
    linked = await client.list_project_products(str(project.id))
    assert {p.id for p in linked} == {analytics.id, billing.id}
    with pytest.raises(APIKeyError, match="not found"):
        await client.add_product_to_project(str(analytics.id), NIL)
    with pytest.raises(APIKeyError, match="not found"):
        await client.add_product_to_project(NIL, str(project.id))


@flow
async def test_duplicates_raise_with_the_existing_id(client: APIKeyClient) -> None:
    org = await client.create_organization("Acme")
    with pytest.raises(AlreadyExistsError) as caught:
        await client.create_organization("Acme")
    assert caught.value.existing_id == str(org.id)
    project = await client.create_project(str(org.id), "Backend")
    with pytest.raises(AlreadyExistsError) as caught:
        await client.create_project(str(org.id), "Backend")
    assert caught.value.existing_id == str(project.id)
    product = await client.create_product(str(org.id), "Analytics")
    with pytest.raises(AlreadyExistsError) as caught:
        await client.create_product(str(org.id), "Analytics")
    assert caught.value.existing_id == str(product.id)


@flow
async def test_get_or_create(client: APIKeyClient) -> None:
    org, created = await client.get_or_create_organization("Acme")
    assert created is True and org.name == "Acme"
    again, created = await client.get_or_create_organization("Acme")
    assert created is False and again.id == org.id
    project = await client.create_project(str(org.id), "Backend")
    same, created = await client.get_or_create_project(str(org.id), "Backend")
    assert created is False and same.id == project.id


def test_an_empty_signing_secret_is_refused() -> None:
    with pytest.raises((ValueError, TypeError)):
        APIKeyClient(db_url="sqlite+aiosqlite:///:memory:", signing_secret="")


@flow
async def test_custom_prefix_and_environment(url: str) -> None:
    c = APIKeyClient(url, signing_secret=SECRET, key_prefix="myapp", environment="live")
    org = await c.create_organization("TestOrg")
    assert (await c.create_key(str(org.id))).plaintext.startswith("myapp_live_")


# --------------------------------------------------------------------------- tests/sdk/test_keys.py


@flow
async def test_project_and_product_scoped_keys(client: APIKeyClient, org_project_product) -> None:
    org, project, product = org_project_product
    created = await client.create_key(str(org.id), project_id=str(project.id))
    assert isinstance(created, APIKeyCreated) and created.plaintext.startswith("sk_")
    assert created.key.product_id is None and created.key.project_id == project.id
    scoped = await client.create_key(
        str(org.id), project_id=str(project.id), product_id=str(product.id)
    )
    assert scoped.key.product_id == product.id


@flow
async def test_key_with_metadata(client: APIKeyClient, org_and_project) -> None:
    org, project = org_and_project
    meta = KeyMetadata(scopes=["read", "write"], rate_limit=RateLimit(requests=500))
    created = await client.create_key(str(org.id), project_id=str(project.id), metadata=meta)
    assert created.key.metadata.scopes == ["read", "write"]
    assert created.key.metadata.rate_limit == RateLimit(requests=500)


@flow
async def test_verify_good_wrong_and_malformed_keys(client: APIKeyClient, org_and_project) -> None:
    org, project = org_and_project
    created = await client.create_key(str(org.id), project_id=str(project.id))
    assert (await client.verify_key(created.plaintext)).id == created.key.id
    with pytest.raises(InvalidKeyError):
        await client.verify_key("sk_wrongkey" + "X" * 34)
    with pytest.raises(InvalidKeyError):
        await client.verify_key("notakey")


@flow
async def test_verify_a_revoked_key(client: APIKeyClient, org_and_project) -> None:
    org, project = org_and_project
    created = await client.create_key(str(org.id), project_id=str(project.id))
    await client.revoke_key(str(created.key.id))
    with pytest.raises(RevokedKeyError):
        await client.verify_key(created.plaintext)


@pytest.mark.parametrize("ago", [timedelta(hours=1), timedelta(seconds=1)])
@flow
async def test_an_expired_key_is_expired_not_invalid(
    client: APIKeyClient, org_and_project, ago: timedelta
) -> None:
    org, project = org_and_project
    meta = KeyMetadata(expires_at=datetime.now(UTC) - ago)
    created = await client.create_key(str(org.id), project_id=str(project.id), metadata=meta)
    for _ in range(2):
        with pytest.raises(ExpiredKeyError) as caught:
            await client.verify_key(created.plaintext)
        assert not isinstance(caught.value, InvalidKeyError)
        assert caught.value.expired_at is not None


@flow
async def test_unknown_key_ids_are_not_found(client: APIKeyClient) -> None:
    for call in (
        client.revoke_key(NIL),
        client.delete_key(NIL),
        client.update_key(NIL, metadata=KeyMetadata()),
        client.get_key(NIL),
    ):
        with pytest.raises(APIKeyError, match="not found"):
            await call


@flow
async def test_get_list_and_no_plaintext_on_the_record(
    client: APIKeyClient, org_and_project
) -> None:
    org, project = org_and_project
    created = await client.create_key(str(org.id), project_id=str(project.id))
    assert (await client.get_key(str(created.key.id))).id == created.key.id
    await client.create_key(str(org.id), project_id=str(project.id))
    assert len(await client.list_project_keys(str(project.id))) == 2
    assert not hasattr(created.key, "plaintext")


@flow
async def test_usage_is_tracked_unless_opted_out(client: APIKeyClient, org_and_project) -> None:
    org, project = org_and_project
    created = await client.create_key(str(org.id), project_id=str(project.id))
    assert created.key.use_count == 0 and created.key.last_used_at is None
    await client.verify_key(created.plaintext)
    key = await client.get_key(str(created.key.id))
    assert key.use_count == 1 and key.last_used_at is not None
    await client.verify_key(created.plaintext)
    assert (await client.get_key(str(created.key.id))).use_count == 2
    quiet = await client.create_key(str(org.id), project_id=str(project.id))
    await client.verify_key(quiet.plaintext, track_usage=False)
    assert (await client.get_key(str(quiet.key.id))).use_count == 0


@flow
async def test_delete_and_status_filters(client: APIKeyClient, org_and_project) -> None:
    org, project = org_and_project
    gone = await client.create_key(str(org.id), project_id=str(project.id))
    await client.delete_key(str(gone.key.id))
    with pytest.raises(APIKeyError, match="not found"):
        await client.get_key(str(gone.key.id))
    active = await client.create_key(str(org.id), project_id=str(project.id))
    revoked = await client.create_key(str(org.id), project_id=str(project.id))
    await client.revoke_key(str(revoked.key.id))
    listed = await client.list_project_keys(str(project.id), status=KeyStatus.active)
    assert [k.id for k in listed] == [active.key.id]
    listed = await client.list_project_keys(str(project.id), status=KeyStatus.revoked)
    assert [k.id for k in listed] == [revoked.key.id]


@flow
async def test_update_key_metadata(client: APIKeyClient, org_and_project) -> None:
    org, project = org_and_project
    created = await client.create_key(str(org.id), project_id=str(project.id))
    new_meta = KeyMetadata(name="updated", scopes=["admin"])
    updated = await client.update_key(str(created.key.id), metadata=new_meta)
    assert (updated.metadata.name, updated.metadata.scopes) == ("updated", ["admin"])


@flow
async def test_required_scopes_and_the_older_alias(client: APIKeyClient, org_and_project) -> None:
    org, project = org_and_project
    meta = KeyMetadata(scopes=["read"])
    created = await client.create_key(str(org.id), project_id=str(project.id), metadata=meta)
    await client.validate_key(created.plaintext, required_scopes=["read"])
    with pytest.raises(InsufficientScopeError):
        await client.validate_key(created.plaintext, required_scopes=["read", "write"])
    await client.validate_key(created.plaintext, required_scope="read")


@flow
async def test_rate_limit_enforced_and_opt_out(client: APIKeyClient, org_and_project) -> None:
    org, project = org_and_project
    two = KeyMetadata(rate_limit=RateLimit(requests=2, window=RateLimitWindow.minute))
    created = await client.create_key(str(org.id), project_id=str(project.id), metadata=two)
    await client.validate_key(created.plaintext, track_usage=False)
    await client.validate_key(created.plaintext, track_usage=False)
    with pytest.raises(QuotaError) as caught:
        await client.validate_key(created.plaintext, track_usage=False)
    assert caught.value.retry_after_seconds is not None
    one = KeyMetadata(rate_limit=RateLimit(requests=1, window=RateLimitWindow.minute))
    free = await client.create_key(str(org.id), project_id=str(project.id), metadata=one)
    for _ in range(5):
        await client.validate_key(free.plaintext, check_rate_limit=False, track_usage=False)


# --------------------------------------------------------------------------- examples/basic_flow.py


async def basic_flow(url: str) -> dict[str, Any]:
    """basic_flow.py's calls, in its order; what it printed, as values."""
    seen: dict[str, Any] = {}
    await create_tables(url)
    client = APIKeyClient(url, signing_secret=SECRET, key_prefix="acme", environment="live")
    org, seen["org_created"] = await client.get_or_create_organization("Acme Corp")
    seen["org_id"] = org.id
    backend, _ = await client.get_or_create_project(str(org.id), "Backend")
    mobile, _ = await client.get_or_create_project(str(org.id), "Mobile")
    analytics, _ = await client.get_or_create_product(str(org.id), "Analytics")
    billing, _ = await client.get_or_create_product(str(org.id), "Billing")
    await client.add_product_to_project(str(analytics.id), str(backend.id))
    await client.add_product_to_project(str(billing.id), str(backend.id))
    await client.add_product_to_project(str(analytics.id), str(mobile.id))
    seen["org_key"] = (await client.create_key(str(org.id))).plaintext
    backend_key = await client.create_key(
        str(org.id),
        project_id=str(backend.id),
        metadata=KeyMetadata(
            name="Backend service key",
            scopes=["read", "write"],
            rate_limit=RateLimit(requests=100, window=RateLimitWindow.minute),
        ),
    )
    limit = backend_key.key.metadata.rate_limit
    seen["backend"] = (backend_key.key.metadata.scopes, limit.requests, limit.window.value)
    analytics_key = await client.create_key(
        str(org.id),
        project_id=str(backend.id),
        product_id=str(analytics.id),
        metadata=KeyMetadata(
            name="Temp analytics key",
            scopes=["read"],
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        ),
    )
    seen["expires"] = analytics_key.key.metadata.expires_at
    seen["use_counts"] = [
        (await client.verify_key(backend_key.plaintext)).use_count,
        (await client.verify_key(backend_key.plaintext)).use_count,
    ]
    small_key = await client.create_key(
        str(org.id),
        project_id=str(backend.id),
        metadata=KeyMetadata(rate_limit=RateLimit(requests=2, window=RateLimitWindow.minute)),
    )
    seen["demo"] = []
    for _ in range(3):
        try:
            await client.validate_key(small_key.plaintext, track_usage=False)
            seen["demo"].append("ok")
        except QuotaError as e:
            seen["demo"].append(e.retry_after_seconds)
    expired_key = await client.create_key(
        str(org.id),
        project_id=str(backend.id),
        metadata=KeyMetadata(expires_at=datetime.now(UTC) - timedelta(seconds=1)),
    )
    try:
        await client.verify_key(expired_key.plaintext)
    except ExpiredKeyError as e:
        seen["expired_at"] = e.expired_at
    updated = await client.update_key(
        str(analytics_key.key.id),
        metadata=KeyMetadata(name="Renewed analytics key", scopes=["read", "write"]),
    )
    seen["updated"] = (updated.metadata.name, updated.metadata.scopes)
    seen["revoked_at"] = (await client.revoke_key(str(backend_key.key.id))).revoked_at
    try:
        await client.verify_key(backend_key.plaintext)
    except RevokedKeyError:
        seen["revoked_refused"] = True
    await client.delete_key(str(small_key.key.id))
    all_keys = await client.list_project_keys(str(backend.id))
    active = await client.list_project_keys(str(backend.id), status=KeyStatus.active)
    revoked = await client.list_project_keys(str(backend.id), status=KeyStatus.revoked)
    seen["counts"] = (len(all_keys), len(active), len(revoked))
    seen["listing"] = sorted(
        (k.metadata.name or "(unnamed)", bool(k.revoked_at), k.use_count, bool(k.last_used_at))
        for k in all_keys
    )
    client.issuer.close()
    return seen


def _check_basic_flow(seen: dict[str, Any], run: int) -> None:
    assert seen["org_created"] is (run == 1)
    assert seen["org_key"].startswith("acme_live_")
    assert seen["backend"] == (["read", "write"], 100, "minute")
    assert timedelta(minutes=59) < seen["expires"] - datetime.now(UTC) <= timedelta(hours=1)
    assert seen["use_counts"] == [1, 2]
    assert seen["demo"][:2] == ["ok", "ok"] and 1 <= seen["demo"][2] <= 61
    assert seen["expired_at"] < datetime.now(UTC)
    assert seen["updated"] == ("Renewed analytics key", ["read", "write"])
    assert seen["revoked_at"] is not None and seen["revoked_refused"]
    assert seen["counts"] == (3 * run, run, run)  # the expired key is neither active nor revoked
    once = [
        ("(unnamed)", False, 0, False),
        ("Backend service key", True, 2, True),
        ("Renewed analytics key", False, 0, False),
    ]
    assert seen["listing"] == sorted(once * run)


def test_basic_flow_runs_and_reruns(url: str) -> None:
    first = asyncio.run(basic_flow(url))
    _check_basic_flow(first, run=1)
    second = asyncio.run(basic_flow(url))  # the reference's second run fails on the links
    _check_basic_flow(second, run=2)
    assert second["org_id"] == first["org_id"]


def test_basic_flow_on_the_reference_suites_in_memory_url() -> None:
    _check_basic_flow(asyncio.run(basic_flow("sqlite+aiosqlite:///:memory:")), run=1)


# --------------------------------------------------------------------------- examples/acme_integration.py


async def acme_integration(url: str) -> dict[str, Any]:
    """acme_integration.py's calls, in its order; what it printed, as values."""
    seen: dict[str, Any] = {}
    await create_tables(url)
    client = APIKeyClient(url, signing_secret=SECRET, key_prefix="acme", environment="live")
    org, seen["org_created"] = await client.get_or_create_organization("Acme Corp")
    product, _ = await client.get_or_create_product(str(org.id), "Acme App")
    project, _ = await client.get_or_create_project(str(org.id), "Acme API v1")
    await client.add_product_to_project(str(product.id), str(project.id))
    try:
        await client.create_organization("Acme Corp")
    except AlreadyExistsError as e:
        seen["duplicate_of"] = e.existing_id == str(org.id)
    alice = {"user_id": "u_alice", "email": "alice@example.com", "plan": "pro"}
    meta = KeyMetadata(
        name="Alice's production key",
        scopes=["read", "write"],
        rate_limit=RateLimit(requests=1000, window=RateLimitWindow.minute),
        custom=alice,
    )
    result = await client.create_key(
        str(org.id), project_id=str(project.id), product_id=str(product.id), metadata=meta
    )
    seen["plaintext"] = result.plaintext
    key = await client.validate_key(
        result.plaintext, product_id=str(product.id), required_scopes=["read"]
    )
    seen["who"] = (key.metadata.custom["user_id"], key.metadata.custom["plan"])
    seen["key"] = (key.metadata.name, key.use_count, key.last_used_at is not None)
    try:
        await client.validate_key(result.plaintext, required_scopes=["admin"])
    except InsufficientScopeError as e:
        seen["missing_scope"] = str(e)
    upgraded = KeyMetadata(
        name="Alice's production key",
        scopes=["read", "write", "admin"],
        rate_limit=RateLimit(requests=1000, window=RateLimitWindow.minute),
        custom=alice,
    )
    updated = await client.update_key(str(result.key.id), metadata=upgraded)
    seen["scopes"] = updated.metadata.scopes
    active = await client.list_project_keys(str(project.id), status=KeyStatus.active)
    seen["alice_keys"] = [k.id for k in active if k.metadata.custom.get("user_id") == "u_alice"]
    seen["key_id"] = result.key.id
    await client.revoke_key(str(result.key.id))
    try:
        await client.validate_key(result.plaintext)
    except RevokedKeyError:
        seen["revoked_refused"] = True
    client.issuer.close()
    return seen


def test_acme_integration_runs_and_reruns(url: str) -> None:
    for run in (1, 2):
        seen = asyncio.run(acme_integration(url))
        assert seen["org_created"] is (run == 1) and seen["duplicate_of"]
        assert seen["plaintext"].startswith("acme_live_")
        assert seen["who"] == ("u_alice", "pro")
        assert seen["key"] == ("Alice's production key", 1, True)
        assert "admin" in seen["missing_scope"]
        assert seen["scopes"] == ["read", "write", "admin"]
        assert seen["alice_keys"] == [seen["key_id"]]  # earlier runs' keys were revoked
        assert seen["revoked_refused"]


# --------------------------------------------------------------------------- examples/fastapi_integration.py


def fastapi_integration_app(url: str) -> FastAPI:
    """An app wired as fastapi_integration.py is: the client made in the lifespan, put on
    request.state by a middleware, routes guarded by three APIKeyDepends."""
    state: dict[str, APIKeyClient] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await create_tables(url)
        state["client"] = APIKeyClient(
            url, signing_secret=SECRET, key_prefix="demo", environment="dev"
        )
        yield
        state["client"].issuer.close()

    app = FastAPI(lifespan=lifespan)

    @app.middleware("http")
    async def attach(request: Request, call_next):
        request.state.apikeys_client = state["client"]
        return await call_next(request)

    authenticated = APIKeyDepends()
    read_data = APIKeyDepends(required_scopes=["read:data"])
    admin_only = APIKeyDepends(required_scopes=["admin"])

    @app.get("/setup")
    async def setup():
        client = state["client"]
        org, _ = await client.get_or_create_organization("Demo Org")
        project, _ = await client.get_or_create_project(str(org.id), "demo-project")
        read_key = await client.create_key(
            str(org.id),
            project_id=str(project.id),
            metadata=KeyMetadata(
                name="Read-only key",
                scopes=["read:data"],
                rate_limit=RateLimit(requests=10, window=RateLimitWindow.minute),
            ),
        )
        admin_key = await client.create_key(
            str(org.id),
            project_id=str(project.id),
            metadata=KeyMetadata(name="Admin key", scopes=["read:data", "admin"]),
        )
        return {"read_key": read_key.plaintext, "admin_key": admin_key.plaintext, "note": "-"}

    @app.get("/data")
    async def get_data(key: APIKey = Depends(read_data)):
        return {"message": "Here is your data", "key_id": str(key.id)}

    @app.get("/admin")
    async def admin_panel(key: APIKey = Depends(admin_only)):
        return {"message": "Welcome to the admin panel", "key_id": str(key.id)}

    @app.get("/me")
    async def me(key: APIKey = Depends(authenticated)):
        return {
            "key_id": str(key.id),
            "scopes": key.metadata.scopes,
            "use_count": key.use_count,
            "last_used_at": key.last_used_at,
            "rate_limit": key.metadata.rate_limit,
        }

    return app


def test_fastapi_integration_example(url: str) -> None:
    with TestClient(fastapi_integration_app(url)) as http:
        missing = http.get("/data")
        assert (missing.status_code, missing.json()) == (
            401,
            {"detail": "Missing X-API-Key header"},
        )
        keys = http.get("/setup").json()
        assert keys["read_key"].startswith("demo_dev_") and keys["admin_key"].startswith(
            "demo_dev_"
        )
        reader, admin = {"X-API-Key": keys["read_key"]}, {"X-API-Key": keys["admin_key"]}
        data = http.get("/data", headers=reader)
        assert data.status_code == 200 and data.json()["message"] == "Here is your data"
        assert http.get("/admin", headers=reader).status_code == 403
        assert http.get("/admin", headers=admin).json()["message"] == "Welcome to the admin panel"
        me = http.get("/me", headers=reader).json()
        assert me["scopes"] == ["read:data"] and me["use_count"] == 2
        assert me["rate_limit"] == {"requests": 10, "window": "minute"}
        assert datetime.fromisoformat(me["last_used_at"]) <= datetime.now(UTC)
        answers = [http.get("/data", headers=reader) for _ in range(9)]  # 10 per minute
        assert [a.status_code for a in answers] == [200] * 8 + [429]
        assert int(answers[-1].headers["Retry-After"]) >= 1
        assert http.get("/data", headers={"X-API-Key": "demo_dev_garbage"}).status_code == 401


# --------------------------------------------------------------------------- examples/server/


def test_example_server_over_http(url: str, live_server) -> None:
    env = {"DATABASE_URL": url, "SIGNING_SECRET": SECRET}
    base = live_server("tests.apikeys_server_app:app", env=env)
    with httpx.Client(base_url=base, timeout=30) as http:
        made = http.post("/api/orgs", json={"name": "Acme"})
        assert made.status_code == 201 and made.json()["created_at"].endswith("Z")
        org = made.json()["id"]
        assert http.post("/api/orgs", json={"name": "Acme"}).status_code == 409
        assert [o["id"] for o in http.get("/api/orgs").json()] == [org]
        assert http.get(f"/api/orgs/{org}").json()["name"] == "Acme"
        assert http.get(f"/api/orgs/{NIL}").status_code == 404
        assert http.get(f"/api/orgs/{NIL}/projects").status_code == 404
        project = http.post(f"/api/orgs/{org}/projects", json={"name": "Backend"}).json()
        assert project["org_id"] == org
        product = http.post(f"/api/orgs/{org}/products", json={"name": "Analytics"}).json()
        assert http.post(f"/api/orgs/{NIL}/products", json={"name": "X"}).status_code == 404
        link = f"/api/products/{product['id']}/projects/{project['id']}"
        assert http.post(link).status_code == 204
        assert http.get(f"/api/projects/{project['id']}/products").json() == [product]
        assert http.get(f"/api/orgs/{org}/projects").json() == [project]
        assert http.get(f"/api/orgs/{org}/products").json() == [product]

        body = {
            "org_id": org,
            "project_id": project["id"],
            "name": "k1",
            "scopes": ["read"],
            "rate_limit": {"requests": 5, "window": "minute"},
            "expires_at": "2030-01-01T00:00:00Z",
            "custom": {"user_id": "u_1"},
        }
        created = http.post("/api/keys", json=body)
        assert created.status_code == 201
        key, plaintext = created.json()["key"], created.json()["plaintext"]
        assert key["metadata"]["rate_limit"] == {"requests": 5, "window": "minute"}
        assert key["metadata"]["expires_at"] == "2030-01-01T00:00:00Z"
        assert key["project_id"] == project["id"] and key["use_count"] == 0
        assert plaintext not in str(key)
        bad = http.post("/api/keys", json={**body, "rate_limit": {"requests": 0}})
        assert bad.status_code == 422  # refused by byok's RateLimit, inside pydantic
        assert http.get(f"/api/orgs/{org}/keys?status=someday").status_code == 422

        verified = http.post("/api/keys/verify", json={"key": plaintext})
        assert verified.status_code == 200 and verified.json()["use_count"] == 1
        with_key = {"X-API-Key": plaintext}
        protected = http.get("/api/protected", headers=with_key)
        assert protected.status_code == 200 and protected.json()["use_count"] == 2
        assert http.get("/api/protected").status_code == 401
        renamed = http.patch(f"/api/keys/{key['id']}", json={"name": "renamed", "scopes": ["w"]})
        assert renamed.json()["metadata"]["name"] == "renamed"
        assert http.get("/api/protected", headers=with_key).status_code == 403
        assert http.patch(f"/api/keys/{NIL}", json={}).status_code == 404

        assert len(http.get(f"/api/orgs/{org}/keys").json()) == 1
        active = http.get(f"/api/projects/{project['id']}/keys", params={"status": "active"})
        assert [k["id"] for k in active.json()] == [key["id"]]
        revoked = http.post(f"/api/keys/{key['id']}/revoke")
        assert revoked.status_code == 200 and revoked.json()["revoked_at"].endswith("Z")
        assert http.post("/api/keys/verify", json={"key": plaintext}).status_code == 403
        listed = http.get(f"/api/projects/{project['id']}/keys", params={"status": "revoked"})
        assert len(listed.json()) == 1
        assert http.delete(f"/api/keys/{key['id']}").status_code == 204
        assert http.delete(f"/api/keys/{key['id']}").status_code == 404
        assert http.post("/api/keys/verify", json={"key": "sk_nope"}).status_code == 401

        past = {**body, "expires_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}
        old = http.post("/api/keys", json=past).json()["plaintext"]
        expired = http.post("/api/keys/verify", json={"key": old})
        assert expired.status_code == 401 and expired.json()["detail"].startswith(
            "Key has expired at "
        )
