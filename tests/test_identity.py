"""Issue 21, item 3: the user's identity told once. `setup_byok(user_id_func=…)` reaches the key
routes, every guard and the issuing page; with no function anywhere `req.scope["auth"]`
(FastHTML's convention) is the user id; `setup_byok(login_url=…)` sends a signed-out user there
with `next=` (303, or `HX-Redirect` for htmx; JSON keeps its 401); per-user storage with no way
to know the user is a logged 503, never a "Sign in" shown to a signed-in user; a user_id_func or
login_url that cannot work is refused at setup. Real app, real SQLite (TestClient).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fasthtml.common import fast_app
from starlette.requests import Request
from starlette.testclient import TestClient

from byok.issuing import KeyIssuer, mount_issuing_routes
from byok.middleware import SecurityPolicy, require_any_api_key, require_api_key, setup_byok
from byok.middleware.csrf import csrf_token
from byok.routes import mount_key_routes
from tests.support import SECRET

pytestmark = pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP")

ORIGIN = "http://testserver"
KEYS = "/api/keys"
ISSUED = "/account/api-keys"
USER = "x-user"  # request header naming the signed-in user (none: signed out)
KEY = "sk-proj-" + "Zq7Xw3Vb" * 5  # an OpenAI-shaped key
HTMX = {"HX-Request": "true"}
JSON = {"Accept": "application/json"}


def _user(req: Request) -> str | None:
    return req.headers.get(USER)


def _auth_before(req: Request) -> None:
    """The app's own beforeware, FastHTML's way: the signed-in user on req.scope['auth']."""
    req.scope["auth"] = req.headers.get(USER)


@pytest.fixture
def build(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """make_app on this test's directory; the issuers closed after the test."""
    issuers: list[KeyIssuer] = []
    yield lambda **kw: make_app(tmp_path, issuers, **kw)
    for issuer in issuers:
        issuer.close()


def make_app(
    tmp_path: Path,
    issuers: list[KeyIssuer],  # the issuers made, closed by the caller
    *,
    user_id_func: Callable[[Any], Any] | None = None,  # told to setup_byok only
    scope_auth: bool = False,  # the app sets req.scope['auth'] in its own beforeware
    login_url: str | None = None,  # setup_byok's login_url
    issuing: bool = True,  # mount the issuing page too
) -> Any:
    """setup_byok on SQLite + the key routes, two guards and the issuing page, none of them
    given a user_id_func or an owner."""
    before, _ = setup_byok(
        SECRET,
        db=f"sqlite:///{tmp_path / 'keys.db'}",
        user_id_func=user_id_func,
        policy=SecurityPolicy(is_production=False),
        **({"login_url": login_url} if login_url else {}),
    )
    app, rt = fast_app(before=[_auth_before, *before] if scope_auth else before, secret_key=SECRET)
    mount_key_routes(app, providers=["openai"], verifier=False)
    if issuing:
        issuer = KeyIssuer(f"sqlite:///{tmp_path / 'issued.db'}", signing_secret=SECRET)
        issuers.append(issuer)
        mount_issuing_routes(app, issuer, scopes={"read": "Read your notes"})

    @rt("/token")
    def token(req: Request) -> str:
        return csrf_token(req)

    @rt("/chat")
    @require_api_key("openai")
    def chat(api_key: str) -> str:
        return f"ran with {api_key[:7]}"

    @rt("/any")
    @require_any_api_key(["openai"])
    def any_(api_key: str) -> str:
        return "ran"

    return app


def client(app: Any, user: str | None) -> TestClient:
    """A same-origin tab of `user` (None: signed out) holding the session's CSRF token."""
    c = TestClient(app, base_url=ORIGIN, follow_redirects=False, raise_server_exceptions=False)
    if user is not None:
        c.headers[USER] = user
    c.headers.update({"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"})
    c.headers["X-CSRF-Token"] = c.get("/token").text
    return c


@pytest.fixture(params=["setup_byok", "scope_auth"])
def told_once(request: pytest.FixtureRequest, build: Callable[..., Any]) -> Callable[..., Any]:
    """An app whose user is told once: to setup_byok, or by FastHTML's req.scope['auth']."""
    if request.param == "setup_byok":
        return functools.partial(build, user_id_func=_user)
    return functools.partial(build, scope_auth=True)


def test_the_user_told_once_reaches_the_key_routes_and_the_guards(told_once):
    app = told_once(issuing=False)
    alice, bob = client(app, "alice"), client(app, "bob")
    r = alice.post(f"{KEYS}/openai", data={"api_key": KEY}, headers=HTMX)
    assert r.status_code == 200, r.text[:300]
    assert alice.get(KEYS, headers=JSON).json()["providers"][0]["stored"] is True
    assert bob.get(KEYS, headers=JSON).json()["providers"][0]["stored"] is False  # alice's own
    assert alice.get("/chat").text == "ran with sk-proj"  # the guards know alice
    assert alice.get("/any").text == "ran"
    missing = bob.get("/chat")  # bob has no key: sent to the dashboard, not told to sign in
    assert missing.status_code == 303 and missing.headers["location"] == f"{KEYS}?next=/chat"


def test_the_user_told_once_reaches_the_issuing_page(told_once):
    app = told_once()
    alice, bob = client(app, "alice"), client(app, "bob")
    data = {"name": "Alice's laptop", "scopes": ["read"], "expires": "never"}
    created = alice.post(ISSUED, data=data, headers=HTMX)
    assert created.status_code == 200, created.text[:300]
    listed = alice.get(ISSUED, headers=JSON).json()["keys"]
    assert [k["name"] for k in listed] == ["Alice's laptop"]
    assert bob.get(ISSUED, headers=JSON).json()["keys"] == []  # each user their own keys
    assert client(app, "alice").get(ISSUED, headers=JSON).json()["keys"] == listed  # kept


def test_a_function_given_to_one_place_still_wins_there(build):
    app = build(user_id_func=_user, issuing=False)
    alice = client(app, "alice")
    assert alice.post(f"{KEYS}/openai", data={"api_key": KEY}, headers=HTMX).status_code == 200

    @app.get("/as-bob")
    @require_api_key("openai", user_id_func=lambda req: "bob")
    def as_bob(api_key: str) -> str:
        return "ran"

    assert alice.get("/as-bob").status_code == 303  # bob (its own function) has no key


SIGNED_OUT = [  # (path, where next= points) of each page that needs the user
    ("/chat", "/chat"),
    (KEYS, KEYS),
    (ISSUED, ISSUED),
]


@pytest.mark.parametrize(("path", "back"), SIGNED_OUT)
def test_a_signed_out_user_is_sent_to_the_login_url_with_next(build, path, back):
    app = build(scope_auth=True, login_url="/login")
    nobody = client(app, None)
    page = nobody.get(path)
    assert page.status_code == 303
    assert page.headers["location"] == f"/login?next={back}"
    current = {**HTMX, "HX-Current-URL": f"{ORIGIN}/notes?page=2"}
    htmx = nobody.get(path, headers=current)  # htmx: the page the user is on comes back
    assert htmx.headers["HX-Redirect"] == "/login?next=/notes%3Fpage%3D2"
    api = nobody.get(path, headers=JSON)  # API clients keep the 401 problem
    assert api.status_code == 401
    assert "location" not in api.headers and "HX-Redirect" not in api.headers


def test_writes_of_a_signed_out_user_go_to_login_and_store_nothing(build):
    app = build(scope_auth=True, login_url="/login")
    nobody = client(app, None)
    r = nobody.post(f"{KEYS}/openai", data={"api_key": KEY}, headers=HTMX)
    assert r.headers["HX-Redirect"].startswith("/login?next=")
    assert client(app, "alice").get(KEYS, headers=JSON).json()["providers"][0]["stored"] is False


def test_without_a_login_url_signed_out_is_still_the_401(build):
    app = build(scope_auth=True)
    nobody = client(app, None)
    assert nobody.get(KEYS).status_code == 401
    assert nobody.get(ISSUED).status_code == 401


def test_per_user_storage_with_no_way_to_know_the_user_is_a_logged_503(
    build, caplog: pytest.LogCaptureFixture
):
    """No user_id_func anywhere and no req.scope['auth']: the app's setup error, said loudly
    (503 + the fix in the log), never "Sign in" to a signed-in user nor a login loop."""
    app = build(login_url="/login")
    alice = client(app, "alice")
    caplog.set_level(logging.ERROR, logger="byok")
    for path in (KEYS, "/chat", ISSUED):
        r = alice.get(path, headers=JSON)
        assert r.status_code == 503, (path, r.status_code)
        assert r.json()["error"] in ("user_id", "owner")
        assert alice.get(path).status_code == 503  # a page too: no redirect to /login
    logged = [r.getMessage() for r in caplog.records if r.name == "byok"]
    assert logged and all("user_id_func" in m and "scope['auth']" in m for m in logged)


def test_session_storage_needs_no_user():
    """Session storage keeps working for an app that knows no users (no 503, no login)."""
    before, _ = setup_byok(SECRET, policy=SecurityPolicy(is_production=False), login_url="/in")
    app, rt = fast_app(before=before, secret_key=SECRET)
    mount_key_routes(app, providers=["openai"], verifier=False)
    rt("/token")(csrf_token)
    tab = client(app, None)
    assert tab.post(f"{KEYS}/openai", data={"api_key": KEY}, headers=HTMX).status_code == 200
    assert tab.get(KEYS, headers=JSON).json()["providers"][0]["stored"] is True


@pytest.mark.parametrize(
    "setup",
    [
        lambda: setup_byok(SECRET, user_id_func="alice"),
        lambda: require_api_key("openai", user_id_func=42),
        lambda: require_any_api_key(["openai"], user_id_func="alice"),
        lambda: mount_key_routes(fast_app()[0], user_id_func="alice"),
    ],
    ids=["setup_byok", "require_api_key", "require_any_api_key", "mount_key_routes"],
)
def test_a_user_id_func_that_is_not_a_function_fails_at_setup(setup):
    with pytest.raises(TypeError, match="user_id_func must be a function of the request"):
        setup()


@pytest.mark.parametrize("url", ["login", "//evil.example/login", "javascript:alert(1)", 3])
def test_a_login_url_that_cannot_work_fails_at_setup(url):
    with pytest.raises(ValueError, match="login_url"):
        setup_byok(SECRET, login_url=url)


def test_a_login_url_may_be_an_identity_providers_page(build):
    app = build(scope_auth=True, login_url="https://id.example.com/in")
    r = client(app, None).get("/chat")
    assert r.headers["location"] == "https://id.example.com/in?next=/chat"
