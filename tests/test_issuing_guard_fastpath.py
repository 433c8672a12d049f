"""The guards' per-request fast path: a check may answer without a coroutine (the issued-key guard
does for a cached validation), a guard's arguments are checked once when it is built, and the key
is read from the raw headers as Starlette's `Headers.get` would."""

from __future__ import annotations

from pathlib import Path

import pytest
from fasthtml.common import fast_app
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse
from starlette.testclient import TestClient

from byok.issuing import APIKeyClient, KeyIssuer, presented_key, require_scopes
from byok.issuing.errors import InvalidInputError
from byok.issuing.models import MAX_SCOPE
from byok.middleware.guards import guard
from tests.support import SECRET


def test_guard_takes_a_check_that_answers_at_once() -> None:
    """A plain function may be a guard's check: its dict reaches the handler, its answer is sent."""
    app, rt = fast_app()

    def check(request: HTTPConnection) -> dict | JSONResponse:
        if request.headers.get("x-pass") == "yes":
            return {"who": "alice"}
        return JSONResponse({"error": "no"}, status_code=403)

    @rt("/g")
    @guard(check, ("who",))
    async def handler(who: str) -> dict:
        return {"who": who}

    client = TestClient(app)
    assert client.get("/g", headers={"x-pass": "yes"}).json() == {"who": "alice"}
    refused = client.get("/g")
    assert refused.status_code == 403
    assert refused.json() == {"error": "no"}


def test_require_scopes_checks_its_scopes_when_built(tmp_path: Path) -> None:
    """A scope no key can carry is the app's mistake, told at once: not a 401 on every request."""
    issuer = KeyIssuer(f"sqlite:///{tmp_path / 'keys.db'}", signing_secret=SECRET)
    try:
        with pytest.raises(InvalidInputError):
            require_scopes(APIKeyClient.of(issuer), "s" * (MAX_SCOPE + 1))
    finally:
        issuer.close()


def _request(*headers: tuple[str, str]) -> Request:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw})


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ((), None),
        ((("Authorization", "Bearer abc"),), "abc"),
        ((("Authorization", "  bearer   abc  "),), "abc"),
        ((("Authorization", "Bearer "), ("X-API-Key", " k1 ")), "k1"),
        ((("Authorization", "Basic dXNlcg=="), ("X-API-Key", "k1")), "k1"),
        ((("X-API-Key", "k1"), ("X-API-Key", "k2")), "k1"),  # the first, as Headers.get
        ((("Authorization", "Bearer a"), ("Authorization", "Bearer b")), "a"),
        ((("X-API-Key", "   "),), None),
        ((("Authorization", "Bearer é"),), "é"),  # latin-1, as Starlette decodes it
    ],
)
def test_presented_key_reads_headers_as_starlette_does(
    headers: tuple[tuple[str, str], ...], expected: str | None
) -> None:
    """The key found is the one Starlette's Headers would give, for every shape sent."""
    request = _request(*headers)
    assert presented_key(request) == expected
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        assert expected == token.strip()
    else:
        assert expected == (request.headers.get("x-api-key", "").strip() or None)
