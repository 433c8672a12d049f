"""`APIKeyDepends` (apikeys-platform's FastAPI dependency) in FastAPI and in a plain Starlette
app, importable without FastAPI; and byok's own `require_scopes` guarding FastAPI routes."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import Depends, FastAPI, Request
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from byok.issuing import (
    APIKey,
    APIKeyClient,
    APIKeyDepends,
    KeyIssuer,
    KeyMetadata,
    RateLimit,
    Refill,
    require_scopes,
)
from tests.support import SECRET


@pytest.fixture
def issuer(tmp_path: Path) -> KeyIssuer:
    return KeyIssuer(f"sqlite:///{tmp_path / 'keys.db'}", signing_secret=SECRET, cache_ttl=0)


@pytest.fixture
def org(issuer: KeyIssuer):
    return issuer.create_organization("Acme")


def _key(issuer: KeyIssuer, org, **meta) -> str:
    return issuer.create_key(org.id, metadata=KeyMetadata(**meta)).plaintext


def fastapi_app(issuer: KeyIssuer, **depends) -> FastAPI:
    """A FastAPI app with the client on request.state (as the reference's examples do)."""
    app = FastAPI()
    client = APIKeyClient.of(issuer)
    guard = APIKeyDepends(**depends)

    @app.middleware("http")
    async def attach(request: Request, call_next):
        request.state.apikeys_client = client
        return await call_next(request)

    @app.get("/data")
    async def data(key: APIKey = Depends(guard)):
        return {"key_id": key.id, "uses": key.use_count}

    return app


def test_fastapi_answers_each_refusal_as_the_reference_does(issuer: KeyIssuer, org) -> None:
    http = TestClient(fastapi_app(issuer, required_scopes=["read"]))
    assert http.get("/data").status_code == 401
    assert http.get("/data").json() == {"detail": "Missing X-API-Key header"}

    good = _key(issuer, org, scopes=["read"], rate_limit=RateLimit(2))
    first = http.get("/data", headers={"X-API-Key": good})
    assert first.status_code == 200 and first.json()["uses"] == 1
    assert http.get("/data", headers={"X-API-Key": good}).status_code == 200
    limited = http.get("/data", headers={"X-API-Key": good})
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 61  # whole seconds, rounded up
    assert good not in limited.text

    bad = http.get("/data", headers={"X-API-Key": "sk_" + "x" * 40})
    assert bad.status_code == 401 and "detail" in bad.json()

    unscoped = http.get("/data", headers={"X-API-Key": _key(issuer, org, scopes=["write"])})
    assert unscoped.status_code == 403

    revoked = issuer.create_key(org.id, metadata=KeyMetadata(scopes=["read"]))
    issuer.revoke_key(revoked.key.id)
    assert http.get("/data", headers={"X-API-Key": revoked.plaintext}).status_code == 403

    past = datetime.now(UTC) - timedelta(minutes=1)
    expired = http.get(
        "/data", headers={"X-API-Key": _key(issuer, org, scopes=["read"], expires_at=past)}
    )
    assert expired.status_code == 401
    assert "expired at " + past.isoformat()[:16] in expired.json()["detail"]


def test_no_credits_left_is_429_too(issuer: KeyIssuer, org) -> None:
    http = TestClient(fastapi_app(issuer))
    key = _key(issuer, org, remaining=1, refill=Refill(1))
    assert http.get("/data", headers={"X-API-Key": key}).status_code == 200
    spent = http.get("/data", headers={"X-API-Key": key})
    assert spent.status_code == 429 and int(spent.headers["Retry-After"]) >= 1


def test_org_and_product_filters_and_the_older_required_scope(issuer: KeyIssuer, org) -> None:
    other = issuer.create_organization("Other")
    product = issuer.create_product(org.id, "Maps")
    http = TestClient(
        fastapi_app(issuer, org_id=org.id, product_id=product.id, required_scope="read")
    )
    ok = issuer.create_key(org.id, product_id=product.id, metadata=KeyMetadata(scopes=["read"]))
    assert http.get("/data", headers={"X-API-Key": ok.plaintext}).status_code == 200
    elsewhere = issuer.create_key(other.id, metadata=KeyMetadata(scopes=["read"]))
    assert http.get("/data", headers={"X-API-Key": elsewhere.plaintext}).status_code == 403
    unscoped = issuer.create_key(org.id, product_id=product.id)
    assert http.get("/data", headers={"X-API-Key": unscoped.plaintext}).status_code == 403


def test_a_custom_state_attribute_and_a_missing_client(issuer: KeyIssuer, org) -> None:
    key = _key(issuer, org)
    app = FastAPI()
    client = APIKeyClient.of(issuer)

    @app.middleware("http")
    async def attach(request: Request, call_next):
        request.state.keys = client
        return await call_next(request)

    @app.get("/custom")
    async def custom(key: APIKey = Depends(APIKeyDepends(state_attr="keys"))):
        return {"id": key.id}

    @app.get("/unwired")
    async def unwired(key: APIKey = Depends(APIKeyDepends())):
        return {"id": key.id}

    http = TestClient(app, raise_server_exceptions=True)
    assert http.get("/custom", headers={"X-API-Key": key}).status_code == 200
    with pytest.raises(RuntimeError, match=r"request\.state\.apikeys_client"):
        http.get("/unwired", headers={"X-API-Key": key})


def test_plain_starlette_answers_the_same_statuses(issuer: KeyIssuer, org) -> None:
    client = APIKeyClient.of(issuer)
    needs_read = APIKeyDepends(required_scopes=["read"])

    async def data(request):
        request.state.apikeys_client = client
        key = await needs_read(request)
        return JSONResponse({"key_id": key.id})

    http = TestClient(Starlette(routes=[Route("/data", data)]))
    assert http.get("/data").status_code == 401
    good = _key(issuer, org, scopes=["read"], rate_limit=RateLimit(1))
    assert http.get("/data", headers={"X-API-Key": good}).status_code == 200
    limited = http.get("/data", headers={"X-API-Key": good})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    unscoped = _key(issuer, org)
    assert http.get("/data", headers={"X-API-Key": unscoped}).status_code == 403


def test_importable_without_fastapi() -> None:
    code = (
        "import asyncio, sys\n"
        "sys.modules['fastapi'] = None\n"  # any `import fastapi` now fails
        "from starlette.exceptions import HTTPException\n"
        "from starlette.requests import Request\n"
        "from byok.issuing import APIKeyDepends\n"
        "from byok.issuing.fastapi import APIKeyDepends as again\n"
        "assert APIKeyDepends is again\n"
        "try:\n"
        "    asyncio.run(APIKeyDepends()(Request({'type': 'http', 'headers': []})))\n"
        "except HTTPException as e:\n"
        "    print(type(e).__module__, e.status_code)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["starlette.exceptions", "401"]


def test_in_a_fastapi_app_the_refusal_is_fastapis_own_exception(issuer: KeyIssuer) -> None:
    import asyncio

    import fastapi

    request = Request({"type": "http", "headers": []})
    with pytest.raises(fastapi.HTTPException) as caught:  # handlers registered for it match
        asyncio.run(APIKeyDepends()(request))
    assert caught.value.status_code == 401


def test_the_reference_signature() -> None:
    import inspect

    from apikeys.fastapi import APIKeyDepends as Theirs

    theirs = inspect.signature(Theirs.__init__).parameters
    mine = inspect.signature(APIKeyDepends.__init__).parameters
    assert list(mine) == list(theirs)
    for name, p in theirs.items():
        assert mine[name].kind == p.kind
        assert mine[name].default == p.default or (p.default == [] and mine[name].default == ())
    assert list(inspect.signature(APIKeyDepends.__call__).parameters) == ["self", "request"]


def test_require_scopes_guards_fastapi_routes(issuer: KeyIssuer, org) -> None:
    app = FastAPI()

    @app.get("/reports")
    @require_scopes(issuer, "reports:read")
    async def reports(issued_key: APIKey, q: str = ""):
        return {"user": issued_key.metadata.custom.get("user"), "q": q}

    @app.get("/plain")
    @require_scopes(issuer)
    def plain(request: Request):
        return {"path": request.url.path}

    http = TestClient(app)
    key = _key(issuer, org, scopes=["reports:read"], custom={"user": "u_1"})
    answer = http.get("/reports?q=x", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200 and answer.json() == {"user": "u_1", "q": "x"}
    assert http.get("/reports", headers={"X-API-Key": key}).status_code == 200
    assert http.get("/reports").status_code == 401
    assert http.get("/reports", headers={"X-API-Key": _key(issuer, org)}).status_code == 403
    assert http.get("/plain", headers={"X-API-Key": key}).json() == {"path": "/plain"}
    schema = http.get("/openapi.json").json()["paths"]["/reports"]["get"]
    names = {p["name"] for p in schema.get("parameters", [])}
    assert names == {"q"}  # the injected key and the request are not query parameters


def test_depends_refusals_carry_a_request_id_and_the_429_its_limit(issuer: KeyIssuer, org) -> None:
    http = TestClient(fastapi_app(issuer, required_scopes=["read"]))
    echoed = http.get("/data", headers={"X-Request-Id": "trace-7"})
    assert echoed.status_code == 401 and echoed.headers["X-Request-Id"] == "trace-7"
    assert echoed.json() == {"detail": "Missing X-API-Key header"}  # the reference's body
    made = http.get("/data", headers={"X-Request-Id": "bad id\t"})
    assert len(made.headers["X-Request-Id"]) == 32
    good = _key(issuer, org, scopes=["read"], rate_limit=RateLimit(1, "hour"))
    assert http.get("/data", headers={"X-API-Key": good}).status_code == 200
    limited = http.get("/data", headers={"X-API-Key": good})
    assert limited.status_code == 429 and len(limited.headers["X-Request-Id"]) == 32
    assert limited.headers["RateLimit-Limit"] == "1"
    assert limited.headers["RateLimit-Policy"] == "1;w=3600"
    assert limited.headers["RateLimit-Remaining"] == "0"


def test_require_scopes_on_fastapi_keeps_json_and_heads_a_response(issuer: KeyIssuer, org) -> None:
    app = FastAPI()

    @app.get("/json")
    @require_scopes(issuer, "read", docs_url="https://example.com/errors")
    async def as_json():
        return {"ok": True}

    @app.get("/response")
    @require_scopes(issuer, "read")
    def as_response():
        return JSONResponse({"ok": True})

    http = TestClient(app)
    key = _key(issuer, org, scopes=["read"], rate_limit=RateLimit(5, "minute"))
    plain = http.get("/json", headers={"X-API-Key": key})
    assert plain.status_code == 200 and plain.json() == {"ok": True}  # not a list with headers
    headed = http.get("/response", headers={"X-API-Key": key})
    assert headed.json() == {"ok": True} and headed.headers["RateLimit-Remaining"] == "3"
    refused = http.get("/json", headers={"X-Request-Id": "r-1"})
    assert refused.json()["request_id"] == "r-1" == refused.headers["X-Request-Id"]
    assert refused.json()["docs_url"] == "https://example.com/errors"
