"""The FastHTML guard of issued keys: require_scopes on sync and async handlers, the beforeware
for a path prefix, and the JSON refusals (401/403/429/503) with their headers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fasthtml.common import fast_app
from starlette.testclient import TestClient

from byok.issuing import (
    APIKey,
    APIKeyClient,
    KeyIssuer,
    KeyMetadata,
    RateLimit,
    issued_key_beforeware,
    issued_key_of,
    key_problem,
    require_scopes,
)
from tests.support import SECRET


@pytest.fixture
def issuer(tmp_path: Path) -> KeyIssuer:
    return KeyIssuer(f"sqlite:///{tmp_path / 'keys.db'}", signing_secret=SECRET)


@pytest.fixture
def org(issuer: KeyIssuer):
    return issuer.create_organization("Acme")


@pytest.fixture
def app_client(issuer: KeyIssuer) -> TestClient:
    app, rt = fast_app(secret_key="app-session-secret-0123456789")
    client = APIKeyClient.of(issuer)

    @rt("/sync")
    @require_scopes(issuer, "read")
    def sync_route(issued_key: APIKey):
        return {"user": issued_key.metadata.custom.get("user"), "uses": issued_key.use_count}

    @rt("/async")
    @require_scopes(client, "read", "write")
    async def async_route(request, q: str = ""):
        return {"key_id": issued_key_of(request).id, "q": q}

    return TestClient(app)


def _key(issuer: KeyIssuer, org, **meta) -> str:
    return issuer.create_key(org.id, metadata=KeyMetadata(**meta)).plaintext


def test_bearer_and_x_api_key_both_work(app_client: TestClient, issuer: KeyIssuer, org) -> None:
    key = _key(issuer, org, scopes=["read"], custom={"user": "u1"})
    r = app_client.get("/sync", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and r.json() == {"user": "u1", "uses": 1}
    r = app_client.get("/sync", headers={"X-API-Key": key})
    assert r.json()["uses"] == 2
    r = app_client.get("/sync", headers={"Authorization": f"bearer   {key}  "})
    assert r.json()["uses"] == 3


def test_async_handlers_keep_their_own_parameters(
    app_client: TestClient, issuer: KeyIssuer, org
) -> None:
    made = issuer.create_key(org.id, metadata=KeyMetadata(scopes=["read", "write"]))
    r = app_client.get("/async?q=hello", headers={"X-API-Key": made.plaintext})
    assert r.status_code == 200 and r.json() == {"key_id": made.key.id, "q": "hello"}


def _refused(r, status: int, error: str, key: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["error"] == error
    if key is not None:
        assert key not in r.text and key[3:20] not in json.dumps(dict(r.headers))
    return body


def test_missing_and_invalid_keys_are_401_with_a_challenge(
    app_client: TestClient, issuer, org
) -> None:
    r = app_client.get("/sync")
    _refused(r, 401, "missing_key")
    assert r.headers["www-authenticate"] == 'Bearer realm="api"'
    key = _key(issuer, org, scopes=["read"])
    typo = key[:-1] + ("x" if key[-1] != "x" else "y")
    for sent in (typo, "garbage", "x" * 5000, issuer.format.generate()):
        r = app_client.get("/sync", headers={"X-API-Key": sent})
        _refused(r, 401, "invalid_key", sent)
        assert 'error="invalid_token"' in r.headers["www-authenticate"]
    r = app_client.get("/sync", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    _refused(r, 401, "missing_key")


def test_expired_is_401_and_revoked_is_403(app_client: TestClient, issuer: KeyIssuer, org) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    expired = _key(issuer, org, scopes=["read"], expires_at=past)
    body = _refused(
        app_client.get("/sync", headers={"X-API-Key": expired}), 401, "expired_key", expired
    )
    assert datetime.fromisoformat(body["expired_at"]) == past
    made = issuer.create_key(org.id, metadata=KeyMetadata(scopes=["read"]))
    assert app_client.get("/sync", headers={"X-API-Key": made.plaintext}).status_code == 200
    issuer.revoke_key(made.key.id)
    r = app_client.get("/sync", headers={"X-API-Key": made.plaintext})
    _refused(r, 403, "revoked_key", made.plaintext)


def test_missing_scopes_are_403_and_named(app_client: TestClient, issuer: KeyIssuer, org) -> None:
    key = _key(issuer, org, scopes=["read"])
    r = app_client.get("/async", headers={"X-API-Key": key})
    body = _refused(r, 403, "insufficient_scope", key)
    assert body["missing_scopes"] == ["write"]
    assert 'scope="write"' in r.headers["www-authenticate"]


def test_rate_limited_is_429_with_headers(app_client: TestClient, issuer: KeyIssuer, org) -> None:
    key = _key(issuer, org, scopes=["read"], rate_limit=RateLimit(2, "minute"))
    for _ in range(2):
        assert app_client.get("/sync", headers={"X-API-Key": key}).status_code == 200
    r = app_client.get("/sync", headers={"X-API-Key": key})
    body = _refused(r, 429, "rate_limited", key)
    assert 1 <= int(r.headers["retry-after"]) == body["retry_after_seconds"] <= 61
    assert r.headers["ratelimit-limit"] == "2" and r.headers["ratelimit-remaining"] == "0"
    assert r.headers["ratelimit-reset"] == r.headers["retry-after"]
    assert r.headers["ratelimit-policy"] == "2;w=60"


def test_credits_exhausted_is_429(app_client: TestClient, issuer: KeyIssuer, org) -> None:
    key = _key(issuer, org, scopes=["read"], remaining=1)
    assert app_client.get("/sync", headers={"X-API-Key": key}).status_code == 200
    r = app_client.get("/sync", headers={"X-API-Key": key})
    _refused(r, 429, "credits_exhausted", key)
    assert "retry-after" not in r.headers  # never refilled


def test_database_down_is_503(app_client: TestClient, issuer: KeyIssuer, org) -> None:
    key = _key(issuer, org, scopes=["read"])
    issuer.cache.clear()
    issuer.close()
    r = app_client.get("/sync", headers={"X-API-Key": key})
    _refused(r, 503, "unavailable", key)


def test_product_and_project_bound_guards(issuer: KeyIssuer, org) -> None:
    product = issuer.create_product(org.id, "api")
    other = issuer.create_product(org.id, "other")
    app, rt = fast_app()

    @rt("/p")
    @require_scopes(issuer, product_id=product.id)
    def p():
        return "ok"

    client = TestClient(app)
    good = issuer.create_key(org.id, product_id=product.id).plaintext
    bad = issuer.create_key(org.id, product_id=other.id).plaintext
    assert client.get("/p", headers={"X-API-Key": good}).text == "ok"
    _refused(client.get("/p", headers={"X-API-Key": bad}), 403, "insufficient_scope", bad)


def test_the_beforeware_guards_a_prefix(issuer: KeyIssuer, org) -> None:
    before = issued_key_beforeware(issuer, "read", prefix="/api/", skip=("/api/health",))
    app, rt = fast_app(before=before)

    @rt("/api/me")
    def me(request):
        return {"key": issued_key_of(request).id}

    @rt("/api/health")
    def health():
        return "up"

    @rt("/")
    def home():
        return "home"

    client = TestClient(app)
    made = issuer.create_key(org.id, metadata=KeyMetadata(scopes=["read"]))
    assert client.get("/").status_code == 200 and client.get("/api/health").text == "up"
    _refused(client.get("/api/me"), 401, "missing_key")
    r = client.get("/api/me", headers={"Authorization": f"Bearer {made.plaintext}"})
    assert r.json() == {"key": made.key.id}
    no_read = _key(issuer, org)
    _refused(client.get("/api/me", headers={"X-API-Key": no_read}), 403, "insufficient_scope")


def test_the_guard_refuses_bad_configuration(issuer: KeyIssuer) -> None:
    with pytest.raises(TypeError):
        require_scopes("not an issuer", "read")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        require_scopes(issuer, "")
    with pytest.raises(TypeError):
        issued_key_beforeware(issuer, prefix="api")


@pytest.mark.parametrize(
    ("required", "in_header"),
    [
        (("read", "données:lire"), 'scope="read"'),  # the ASCII one named, the other not
        (("ключ",), None),  # Cyrillic: no scope attribute at all
        (("a→b", "naïve"), None),
        (('x"y', "a\\b"), None),  # would break the quoted string
    ],
    ids=["accented", "cyrillic", "arrow", "quote-backslash"],
)
def test_a_scope_no_header_can_carry_is_named_in_the_body(
    issuer: KeyIssuer, org, required: tuple[str, ...], in_header: str | None
) -> None:
    """Scopes may be any printable text; the 403's WWW-Authenticate names only RFC 6750 scope
    tokens (a non-ASCII one there was a 500), the body names every missing scope."""
    app, rt = fast_app(secret_key="app-session-secret-0123456789")

    @rt("/notes")
    @require_scopes(issuer, *required)
    def notes(issued_key: APIKey):
        return {"ok": True}

    key = _key(issuer, org, scopes=["other"])
    r = TestClient(app).get("/notes", headers={"X-API-Key": key})
    body = _refused(r, 403, "insufficient_scope", key)
    assert body["missing_scopes"] == list(required)
    challenge = r.headers["www-authenticate"]
    assert challenge.isascii() and challenge.startswith('Bearer realm="api", error=')
    assert (in_header in challenge) if in_header else "scope=" not in challenge


@pytest.mark.parametrize("realm", ["", 'a"b', "a\\b", "données", "a\nb", "x" * 101])
def test_a_realm_no_header_can_carry_is_refused_at_setup(issuer: KeyIssuer, realm: str) -> None:
    with pytest.raises(ValueError, match="realm"):
        require_scopes(issuer, "read", realm=realm)
    with pytest.raises(ValueError, match="realm"):
        issued_key_beforeware(issuer, "read", realm=realm)


# --- what API consumers expect: RateLimit-* on every answer, a request id, docs_url ----------


def _headers_app(issuer: KeyIssuer, **kw) -> TestClient:
    """Handlers answering each way FastHTML knows: a dict, FT, a Response, an FtResponse."""
    from fasthtml.common import FtResponse, P
    from starlette.responses import PlainTextResponse

    app, rt = fast_app(secret_key="app-session-secret-0123456789")

    @rt("/dict")
    @require_scopes(issuer, "read", **kw)
    def as_dict():
        return {"ok": True}

    @rt("/ft")
    @require_scopes(APIKeyClient.of(issuer), "read", **kw)
    async def as_ft():
        return P("ok")

    @rt("/response")
    @require_scopes(issuer, "read", **kw)
    def as_response():
        return PlainTextResponse("ok", headers={"X-Own": "kept"})

    @rt("/ftresponse")
    @require_scopes(issuer, "read", **kw)
    def as_ftresponse():
        return FtResponse(P("made"), status_code=201)

    return TestClient(app)


def test_every_answer_for_a_rate_limited_key_carries_ratelimit_headers(
    issuer: KeyIssuer, org
) -> None:
    client = _headers_app(issuer)
    key = _key(issuer, org, scopes=["read"], rate_limit=RateLimit(5, "minute"))
    auth = {"Authorization": f"Bearer {key}"}
    remaining = []
    for path, status, body in [
        ("/dict", 200, '{"ok":true}'),  # still JSON
        ("/ft", 200, "<p>ok</p>"),  # still HTML
        ("/response", 200, "ok"),
        ("/ftresponse", 201, "<p>made</p>"),
    ]:
        r = client.get(path, headers=auth)
        assert r.status_code == status and body in r.text, path
        assert r.headers["RateLimit-Limit"] == "5", path
        assert r.headers["RateLimit-Policy"] == "5;w=60", path
        assert 1 <= int(r.headers["RateLimit-Reset"]) <= 61, path  # a window and a slice
        remaining.append(int(r.headers["RateLimit-Remaining"]))
    assert remaining == [4, 3, 2, 1]
    assert client.get("/response", headers=auth).headers["X-Own"] == "kept"
    refused = client.get("/dict", headers=auth)
    assert refused.status_code == 429 and refused.headers["RateLimit-Remaining"] == "0"
    plain = _key(issuer, org, scopes=["read"])  # no rate limit: no RateLimit-* headers
    r = client.get("/dict", headers={"Authorization": f"Bearer {plain}"})
    assert r.status_code == 200 and "RateLimit-Limit" not in r.headers


def test_the_beforeware_answers_carry_ratelimit_headers(issuer: KeyIssuer, org) -> None:
    app, rt = fast_app(before=issued_key_beforeware(issuer, "read", prefix="/api/"))

    @rt("/api/notes")
    def notes():
        return {"notes": []}

    key = _key(issuer, org, scopes=["read"], rate_limit=RateLimit(3, "hour"))
    r = TestClient(app).get("/api/notes", headers={"X-API-Key": key})
    assert r.status_code == 200 and r.json() == {"notes": []}
    assert (r.headers["RateLimit-Limit"], r.headers["RateLimit-Remaining"]) == ("3", "2")
    assert r.headers["RateLimit-Policy"] == "3;w=3600"


def test_every_refusal_carries_a_request_id(issuer: KeyIssuer, org) -> None:
    client = _headers_app(issuer)
    limited = _key(issuer, org, scopes=["read"], rate_limit=RateLimit(1, "minute"))
    client.get("/dict", headers={"X-API-Key": limited})
    refusals = [
        {},  # 401 missing
        {"X-API-Key": "sk_nope"},  # 401 invalid
        {"X-API-Key": _key(issuer, org, scopes=["write"])},  # 403 scope
        {"X-API-Key": limited},  # 429
    ]
    for sent in refusals:
        echoed = client.get("/dict", headers={**sent, "X-Request-Id": "req-42.a:b"})
        assert echoed.status_code in (401, 403, 429)
        assert echoed.headers["X-Request-Id"] == "req-42.a:b" == echoed.json()["request_id"]
        made = client.get("/dict", headers=sent)
        rid = made.headers["X-Request-Id"]
        assert len(rid) == 32 and int(rid, 16) >= 0 and made.json()["request_id"] == rid
    for insane in ["a" * 129, "has space", "<script>", "-leading", "é"]:
        r = client.get("/dict", headers={"X-Request-Id": insane.encode()})
        assert r.headers["X-Request-Id"] != insane and len(r.headers["X-Request-Id"]) == 32
    assert len(key_problem(None).headers["X-Request-Id"]) == 32  # called on its own


def test_docs_url_is_in_every_refusal(issuer: KeyIssuer, org) -> None:
    docs = "https://example.com/docs/errors#keys"
    client = _headers_app(issuer, docs_url=docs)
    r = client.get("/dict")
    assert r.status_code == 401 and r.json()["docs_url"] == docs
    assert r.headers["Link"] == f'<{docs}>; rel="help"'
    r = client.get("/ft", headers={"X-API-Key": _key(issuer, org, scopes=["other"])})
    assert r.status_code == 403 and r.json()["docs_url"] == docs
    assert "docs_url" not in _headers_app(issuer).get("/dict").json()
    before = issued_key_beforeware(issuer, prefix="/api/", docs_url="/docs/api")
    app, rt = fast_app(before=before)
    rt("/api/x")(lambda: "open")
    assert TestClient(app).get("/api/x").json()["docs_url"] == "/docs/api"


@pytest.mark.parametrize(
    "bad", ["//evil.example", "javascript:alert(1)", "https://a b", 'https://x/"', "", 42]
)
def test_a_bad_docs_url_is_refused_at_setup(issuer: KeyIssuer, bad) -> None:
    with pytest.raises(ValueError, match="docs_url"):
        require_scopes(issuer, "read", docs_url=bad)
    with pytest.raises(ValueError, match="docs_url"):
        issued_key_beforeware(issuer, docs_url=bad)
