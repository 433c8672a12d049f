"""Issue 22, defect 9: a bad user id from the app (its `user_id_func`, or the issuing page's
`owner`) is the app's bug, but never a 500. Every key route, both key guards and every issuing
route answer 503 (`user_id` / `owner`) with the reason logged once per request (never the value,
never a key), and nothing is stored, changed or deleted. Through the real app (TestClient).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fasthtml.common import fast_app
from starlette.requests import Request
from starlette.testclient import TestClient

from byok.issuing import KeyIssuer, KeyOwner, mount_issuing_routes
from byok.middleware import SecurityPolicy, require_any_api_key, require_api_key, setup_byok
from byok.middleware.csrf import csrf_token
from byok.routes import mount_key_routes
from tests.support import SECRET

pytestmark = pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP")

ORIGIN = "http://testserver"
PREFIX = "/api/keys"
KEY = "sk-proj-" + "Zq7Xw3Vb" * 5  # an OpenAI-shaped key
WHO = "x-who"  # request header naming which value the app's function returns
BAD: dict[str, Any] = {  # what a buggy app returns as the user id
    "empty": "",
    "false": False,
    "long": "u" * 300,
    "surrogate": "\ud800",
    "object": object(),
}


def _user(req: Request) -> Any:
    """The app's user id: alice, unless the test asks for a bad value."""
    name = req.headers.get(WHO)
    return "alice" if name is None else BAD[name]


async def _async_user(req: Request) -> Any:
    return _user(req)


def _verifier(provider: str, api_key: str) -> bool:
    return True


def _key_app(db: str | None, func: Any) -> tuple[Any, Any]:
    """setup_byok + every key route (labels, test) + both guards, on `db` (None: session)."""
    policy = SecurityPolicy(is_production=False)
    before, manager = setup_byok(SECRET, db=db, user_id_func=func, policy=policy)
    app, rt = fast_app(before=before, secret_key=SECRET)
    mount_key_routes(
        app, manager, providers=["openai"], user_id_func=func, verifier=_verifier, labels=True
    )

    @rt("/token")
    def token(req: Request) -> str:
        return csrf_token(req)

    @rt("/one")
    @require_api_key("openai", user_id_func=func)
    def one(api_key: str) -> str:
        return "ran"

    @rt("/any")
    @require_any_api_key(["openai"], user_id_func=func)
    def any_(api_key: str) -> str:
        return "ran"

    return app, manager


KEY_ROUTES = [  # (method, path, form data)
    ("get", PREFIX, None),
    ("post", PREFIX, {"provider": "openai", "api_key": KEY}),
    ("post", f"{PREFIX}/openai", {"api_key": KEY, "label": "work"}),
    ("delete", f"{PREFIX}/openai", None),
    ("post", f"{PREFIX}/openai/default?label=work", {}),
    ("post", f"{PREFIX}/openai/test", {}),
    ("get", "/one", None),
    ("get", "/any", None),
]
KINDS = {  # the three kinds of request the routes answer differently
    "htmx": {"HX-Request": "true"},
    "page": {},
    "json": {"Accept": "application/json"},
}


@pytest.fixture(scope="module", params=["database", "session", "async"])
def key_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, Any]]:
    """The app with alice's key stored, and a same-origin client holding the CSRF token (one
    per module and storage: a refused request changes nothing, which each test checks)."""
    tmp_path = tmp_path_factory.mktemp("keys")
    db = None if request.param == "session" else f"sqlite:///{tmp_path / 'keys.db'}"
    func = _async_user if request.param == "async" else _user
    app, manager = _key_app(db, func)
    client = TestClient(app, base_url=ORIGIN, follow_redirects=False, raise_server_exceptions=False)
    token = client.get("/token").text
    client.headers.update(
        {"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin", "X-CSRF-Token": token}
    )
    r = client.post(
        f"{PREFIX}/openai", data={"api_key": KEY, "label": "work"}, headers=KINDS["htmx"]
    )
    assert r.status_code == 200, r.text[:300]
    assert client.get("/one").text == "ran"
    yield client, manager


def _bad_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR and r.name == "byok"]


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("method", "path", "data"), KEY_ROUTES)
def test_a_bad_user_id_is_a_logged_503_on_every_key_route_and_guard(
    key_app: tuple[TestClient, Any],
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    data: dict | None,
    kind: str,
    bad: str,
) -> None:
    client, _ = key_app
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="byok"):
        r = client.request(method, path, data=data, headers={WHO: bad, **KINDS[kind]})
    assert r.status_code == 503, (r.status_code, r.text[:300])
    if kind == "json":
        assert r.json()["error"] == "user_id"
    else:
        assert "could not identify your account" in r.text
    if kind == "htmx":
        assert r.headers["BYOK-Problem"] == "user_id"
    logged = _bad_logs(caplog)
    assert len(logged) == 1, [x.getMessage() for x in caplog.records]  # once, with the reason
    text = "\n".join(x.getMessage() for x in caplog.records)
    assert "user_id_func" in text and ("printable" in text or "str or int" in text)
    assert KEY not in text and "u" * 300 not in text and "\ud800" not in text
    # nothing written or deleted: alice's key is still the one there
    assert client.get("/one").text == "ran"


# --------------------------------------------------------------------------- the issuing page

ISSUING = "/account/api-keys"
BAD_OWNERS: dict[str, Any] = {
    **BAD,
    "long actor": "actor",  # a KeyOwner whose actor is 300 characters
    "surrogate actor": "surrogate-actor",
    "bad project": "project",
}


@pytest.fixture(scope="module")
def issuing(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, KeyIssuer, str, str]]:
    """An issuing page whose owner is alice's organization unless a bad value is asked for."""
    tmp_path = tmp_path_factory.mktemp("issued")
    issuer = KeyIssuer(f"sqlite:///{tmp_path / 'issued.db'}", signing_secret=SECRET, cache_ttl=0)
    org = issuer.get_or_create_organization("alice")[0].id

    def owner(req: Request) -> Any:
        name = req.headers.get(WHO)
        special = {
            "long actor": KeyOwner(org, actor="a" * 300),
            "surrogate actor": KeyOwner(org, actor="\ud800"),
            "bad project": KeyOwner(org, project_id="not-a-uuid"),
        }
        if name is None:
            return KeyOwner(org, actor="alice")
        return special.get(name, BAD.get(name))

    app, rt = fast_app(secret_key=SECRET)
    mount_issuing_routes(
        app, issuer, owner=owner, scopes=["read"], policy=SecurityPolicy(is_production=False)
    )

    @rt("/token")
    def token(req: Request) -> str:
        return csrf_token(req)

    client = TestClient(app, base_url=ORIGIN, follow_redirects=False, raise_server_exceptions=False)
    client.headers.update(
        {
            "Origin": ORIGIN,
            "Sec-Fetch-Site": "same-origin",
            "X-CSRF-Token": client.get("/token").text,
        }
    )
    made = issuer.create_key(org)
    yield client, issuer, org, made.key.id
    issuer.close()


ISSUING_ROUTES = [
    ("get", ISSUING, None),
    ("post", ISSUING, {"name": "k", "scopes": "read", "expires": "never"}),
    ("get", f"{ISSUING}/{{key}}/roll", None),
    ("post", f"{ISSUING}/{{key}}/roll", {"grace": "0"}),
    ("post", f"{ISSUING}/{{key}}/revoke", {}),
    ("delete", f"{ISSUING}/{{key}}", None),
    ("post", f"{ISSUING}/{{key}}/delete", {}),
    ("get", f"{ISSUING}/{{key}}/usage", None),
]


@pytest.mark.parametrize("bad", BAD_OWNERS)
@pytest.mark.parametrize(("method", "path", "data"), ISSUING_ROUTES)
def test_a_bad_owner_is_a_logged_503_on_every_issuing_route(
    issuing: tuple[TestClient, KeyIssuer, str, str],
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    data: dict | None,
    bad: str,
) -> None:
    client, issuer, org, kid = issuing
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="byok"):
        r = client.request(
            method, path.replace("{key}", kid), data=data, headers={WHO: bad, "HX-Request": "true"}
        )
    assert r.status_code == 503, (r.status_code, r.text[:300])
    assert r.headers["BYOK-Problem"] == "owner"
    assert len(_bad_logs(caplog)) == 1
    text = "\n".join(x.getMessage() for x in caplog.records)
    assert "a" * 300 not in text and "\ud800" not in text
    keys = issuer.list_org_keys(org)  # nothing created, rolled, revoked or deleted
    assert [k.id for k in keys] == [kid] and keys[0].revoked_at is None


def test_nobody_signed_in_is_still_401_and_not_logged(
    issuing: tuple[TestClient, KeyIssuer, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    client, *_ = issuing
    with caplog.at_level(logging.WARNING, logger="byok"):
        r = client.get(ISSUING, headers={WHO: "none", "HX-Request": "true"})
    assert r.status_code == 401 and r.headers["BYOK-Problem"] == "sign_in"
    assert _bad_logs(caplog) == []
