"""Defects found by the adversarial review (issue 9), each reproduced through a real app:
the cookie budget, the production decision, guards on skipped paths, damaged rows, the
verifier and hostile bodies. Storage-level ones are in test_hardening.py.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
from fasthtml.common import fast_app
from starlette.requests import Request
from starlette.testclient import TestClient

from byok.core.types import BYOKConfig, SessionFullError
from byok.middleware import SecurityPolicy, require_api_key, setup_byok
from byok.middleware.csrf import CSRF_SESSION_KEY
from byok.routes import mount_key_routes
from tests.support.routes import OPENAI_KEY, ORIGIN, PREFIX, SECRET, Page, make_app
from tests.support.storage import session_cookie

pytestmark = pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP")
LIMIT = 4096  # bytes of a Set-Cookie header browsers keep
FILLER = [f"p{i:02d}" for i in range(40)]  # providers without a known key format


def _user(req: Request) -> str | None:
    """The signed-in user: the X-User header (percent-encoded), None = anonymous."""
    user = req.headers.get("x-user")
    return None if user is None else unquote(user)


def _cookie_sizes(response: httpx.Response) -> list[int]:
    return [len(h) for h in response.headers.get_list("set-cookie")]


# --------------------------------------------------------------------------- 2: cookie budget


@pytest.fixture
def filled() -> Iterator[tuple[TestClient, Any]]:
    """A session filled to the limit anonymously, before any CSRF token or cleanup stamp."""
    before, manager = setup_byok(
        SECRET, user_id_func=_user, policy=SecurityPolicy(is_production=False)
    )
    app, rt = fast_app(before=before, secret_key=SECRET)
    mount_key_routes(app, manager, providers=FILLER, user_id_func=_user)

    @rt("/fill")
    def fill(req: Request) -> str:
        stored = 0
        for provider in FILLER:  # big keys first, then smaller ones into what room is left
            for length in (180, 40, 8, 1):
                try:
                    manager.set_key(req, provider, "k" * length + provider, user_id=_user(req))
                except SessionFullError:
                    continue
                stored += 1
                break
        return str(stored)

    @rt("/page")
    def page(req: Request) -> str:
        return "ok"

    client = TestClient(app, base_url=ORIGIN, follow_redirects=False)
    response = client.get("/fill")
    assert 4 < int(response.text) < len(FILLER)  # full before running out of providers (a
    # provider's first key is its flagged default: a 6-item cell, so fewer fit than before labels)
    assert max(_cookie_sizes(response)) <= LIMIT
    yield client, manager


def test_byok_writes_never_push_the_cookie_past_4096_bytes(filled):
    client, _ = filled
    users = [None, "u" * 95, "é" * 255, "用户" * 120, "x" * 255]
    for user in users * 2:  # sign-ins, cleanup stamps and CSRF tokens, twice over
        headers = {} if user is None else {"X-User": quote(user)}
        for path in ("/page", PREFIX):
            response = client.get(path, headers={**headers, "HX-Request": "true"})
            assert response.status_code == 200
            assert all(size <= LIMIT for size in _cookie_sizes(response)), (path, user)


def test_the_csrf_token_and_cleanup_stamp_fit_in_a_full_session(filled):
    client, _ = filled
    response = client.get(PREFIX, headers={"HX-Request": "true"})  # writes the CSRF token
    header = session_cookie(response)
    assert header is not None and len(header) <= LIMIT
    session = _session_of(client)
    assert len(session[CSRF_SESSION_KEY]) == 43  # room was kept for it: it is stored
    assert isinstance(session["byok_keys"]["c"], int)  # and for the cleanup stamp
    assert "byok_cleanup" not in session


def test_no_user_id_in_the_session_outside_the_key_entry(filled):
    client, _ = filled
    long_user = "u" * 95
    client.get("/page", headers={"X-User": long_user})
    session = _session_of(client)
    outside = {k: v for k, v in session.items() if k != "byok_keys"}
    assert long_user not in json.dumps(outside)
    assert long_user not in json.dumps({k: v for k, v in session["byok_keys"].items() if k != "k"})


def _session_of(client: TestClient) -> dict:
    """The session a client's cookie carries (the signature is not checked here)."""
    from base64 import b64decode

    value = client.cookies.get("session_")
    return json.loads(b64decode(value.rsplit(".", 2)[0] + "=="))


# --------------------------------------------------------------------------- 4: one production decision


@pytest.mark.parametrize(
    "production",
    [
        {"policy": SecurityPolicy(is_production=True)},
        {"config": BYOKConfig(is_production=True)},
    ],
    ids=["policy", "config"],
)
def test_key_routes_at_a_custom_prefix_refuse_http_when_production_is_set_in_code(
    production: dict[str, Any], monkeypatch: pytest.MonkeyPatch
):
    for name in ("BYOK_ENV", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)  # the environment says: development
    before, _ = setup_byok(SECRET, **production)
    app, _ = fast_app(before=before, secret_key=SECRET)
    routes = mount_key_routes(app, prefix="/settings/keys", providers=["openai"])  # no manager
    plain = TestClient(app, base_url=ORIGIN, follow_redirects=False)
    json_headers = {"Accept": "application/json", "Origin": ORIGIN}
    for method, path in (("get", "/settings/keys"), ("post", "/settings/keys/openai")):
        response = plain.request(method, path, headers=json_headers, data={"api_key": OPENAI_KEY})
        assert response.status_code == 403, (method, response.text)
        assert response.json()["error"] == "insecure_transport"
    assert routes.policy is not None and routes.policy.is_production
    secure = Page(app, base_url="https://testserver")
    response = secure.client.get("/settings/keys", headers={"Accept": "application/json"})
    assert response.status_code == 200


# --------------------------------------------------------------------------- 10: guards on skipped paths


@pytest.mark.parametrize("skip", [[".*"], ["/guarded"]], ids=["all", "guarded"])
def test_a_guard_on_a_skipped_path_finds_setup_byoks_manager_after_a_restart(skip: list[str]):
    before, manager = setup_byok(SECRET, policy=SecurityPolicy(is_production=False), skip=skip)
    app, rt = fast_app(before=before, secret_key=SECRET)
    mount_key_routes(app, providers=["openai"])  # no manager either

    @rt("/guarded")
    @require_api_key("openai")
    def guarded(api_key: str) -> str:
        return f"key of {len(api_key)} characters"

    page = Page(app)  # a fresh process: no request has run the beforeware yet
    response = page.client.get("/guarded")
    assert response.status_code == 303  # no key yet: to the settings page, not a 503
    assert response.headers["location"].startswith(PREFIX)
    saved = page.client.post(
        f"{PREFIX}/openai", data={"api_key": OPENAI_KEY}, headers=page.headers()
    )
    assert saved.status_code == 200, saved.text
    response = page.client.get("/guarded")
    assert response.status_code == 200 and response.text.endswith(f"{len(OPENAI_KEY)} characters")
    assert app.state.byok is manager


# --------------------------------------------------------------------------- 6: damaged rows over HTTP


def test_a_damaged_row_answers_503_on_the_dashboard_the_summary_and_the_guard(tmp_path):
    db = f"sqlite:///{tmp_path / 'keys.db'}"
    app, manager, _ = make_app(db=db, user_id_func=lambda req: "u1")

    @app.get("/guarded")
    @require_api_key("openai", user_id_func=lambda req: "u1")
    def guarded(api_key: str) -> str:
        return "ran"

    manager.set_key(None, "openai", OPENAI_KEY, user_id="u1")
    with manager.database._guard("damage"):  # SQLite lets an INTEGER sit in the BLOB column
        manager.database.db.q('UPDATE "user_api_keys" SET encrypted_value = 1000000000')
    client = TestClient(app, base_url=ORIGIN, raise_server_exceptions=False)
    for headers in ({}, {"HX-Request": "true"}):  # the dashboard says so in its own alert
        response = client.get(PREFIX, headers=headers)
        assert response.status_code == 200 and "Your keys cannot be shown" in response.text
    for path, headers in (
        (PREFIX, {"Accept": "application/json"}),
        ("/guarded", {}),
        ("/guarded", {"Accept": "application/json"}),
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 503, (path, headers, response.status_code)
    assert manager.database.count() == 1  # kept, for someone to look at
    manager.database.close()


# --------------------------------------------------------------------------- 3: sync verifiers


def _verifier_app(verifier: Any, timeout: float) -> tuple[Any, Page]:
    """A test app whose test route runs `verifier`, with the OpenAI key saved by a tab."""
    policy = SecurityPolicy(is_production=False)
    app, _, _ = make_app(mount=False, policy=policy)
    mount_key_routes(app, providers=["openai"], verifier=verifier, verify_timeout=timeout)
    page = Page(app)
    saved = page.client.post(
        f"{PREFIX}/openai", data={"api_key": OPENAI_KEY}, headers=page.headers()
    )
    assert saved.status_code == 200
    return app, page


async def _test_while(app: Any, page: Page, other: str) -> tuple[dict, httpx.Response]:
    """POST the test route and, while it runs, GET `other` on the same event loop."""
    transport = httpx.ASGITransport(app=app)
    headers = {**page.headers(htmx=False), "Accept": "application/json"}
    async with httpx.AsyncClient(
        transport=transport, base_url=ORIGIN, cookies={"session_": page.client.cookies["session_"]}
    ) as client:
        test = asyncio.create_task(client.post(f"{PREFIX}/openai/test", headers=headers))
        await asyncio.sleep(0.05)  # the test request is in its verifier now
        unrelated = await client.get(other)
        return (await test).json(), unrelated


def _in_own_loop(coro: Any) -> Any:
    """Run a coroutine on a fresh event loop in its own thread (Playwright's sync API may hold
    this thread's loop when the browser tests ran first)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_a_sync_verifier_runs_off_the_event_loop():
    released = threading.Event()

    def blocking_verifier(provider: str, api_key: str) -> bool:  # as a requests.get would
        return released.wait(timeout=5)  # True once /release ran: the loop was free

    app, page = _verifier_app(blocking_verifier, timeout=10)

    @app.get("/release")
    def release() -> str:
        released.set()
        return "released"

    result, unrelated = _in_own_loop(_test_while(app, page, "/release"))
    assert unrelated.text == "released"
    assert result == {"provider": "openai", "state": "valid", "detail": None}


def test_a_sync_verifier_is_held_to_verify_timeout():
    never = threading.Event()
    app, page = _verifier_app(lambda provider, api_key: never.wait(timeout=5), timeout=0.2)
    try:
        result, unrelated = _in_own_loop(_test_while(app, page, PREFIX))
    finally:
        never.set()  # let the abandoned thread finish
    assert unrelated.status_code == 200
    assert result["state"] == "unreachable" and "in time" in result["detail"]  # issue 14's state


# --------------------------------------------------------------------------- 7: hostile bodies

DEEP = ["[" * 1000, '{"a":' * 1000, '{"api_key": ' + "[" * 1000, '["a\\"[[[", ' + "[" * 5000]


@pytest.mark.parametrize("body", DEEP, ids=["arrays", "objects", "in-a-field", "after-a-string"])
def test_deeply_nested_json_answers_400_on_every_key_route(body: str):
    app, _, _ = make_app()
    page = Page(app, raise_server_exceptions=False)
    json_headers = {**page.headers(htmx=False), "Content-Type": "application/json"}
    for method, path in (
        ("post", PREFIX),
        ("post", f"{PREFIX}/openai"),
        ("delete", f"{PREFIX}/openai"),
        ("post", f"{PREFIX}/openai/test"),
        ("get", PREFIX),
    ):
        for accept in ("application/json", "text/html"):
            response = page.client.request(
                method, path, content=body, headers={**json_headers, "Accept": accept}
            )
            assert response.status_code == 400, (method, path, response.status_code)
    htmx = page.client.post(
        f"{PREFIX}/openai", content=body, headers={**json_headers, "HX-Request": "true"}
    )
    assert htmx.status_code == 400 and htmx.headers["BYOK-Problem"] == "body_too_deep"


def test_oversized_bodies_answer_413_and_ordinary_json_still_saves():
    app, _, _ = make_app()
    page = Page(app, raise_server_exceptions=False)
    headers = {**page.headers(htmx=False), "Accept": "application/json"}
    big = {"api_key": OPENAI_KEY, "pad": "x" * 70_000}
    response = page.client.post(f"{PREFIX}/openai", json=big, headers=headers)
    assert response.status_code == 413 and response.json()["error"] == "body_too_large"
    nested_ok = {"api_key": OPENAI_KEY, "meta": [[[["fine"]]]], "text": "[[[[" * 50}
    response = page.client.post(f"{PREFIX}/openai", json=nested_ok, headers=headers)
    assert response.status_code == 200 and response.json()["stored"] is True


def test_an_app_protects_its_own_routes_with_body_limit():
    from byok.middleware import BodyLimit

    def client(protected: bool) -> TestClient:
        app, _, _ = make_app()
        if protected:
            app.add_middleware(BodyLimit, paths=["/"])  # the documented recipe

        @app.post("/app/echo")
        def echo(data: dict) -> dict:
            return {"fields": sorted(data)}

        return TestClient(app, base_url=ORIGIN, raise_server_exceptions=False)

    deep = {"content": "[" * 1000, "headers": {"Content-Type": "application/json"}}
    assert client(protected=False).post("/app/echo", **deep).status_code == 500  # FastHTML's
    protected = client(protected=True)
    assert protected.post("/app/echo", **deep).status_code == 400
    assert protected.post("/app/echo", json={"a": 1}).json() == {"fields": ["a"]}


@pytest.mark.parametrize(
    ("body", "deep"),
    [
        (b"[[[[", True),
        (b"[[[]]]", False),
        (b'["[[[[[[[[[[[[["]', False),  # brackets inside a string do not nest
        (b'["\\"[[[[[[[", [[[[]]]]', True),  # an escaped quote does not end the string
        (b'["\\\\", [[[]]]]', True),  # an escaped backslash does: the brackets count
        (b'{"a": {"b": {"c": 1}}}', False),
        (b"not json at all [[[[", True),
    ],
)
def test_json_depth_scan(body: bytes, deep: bool):
    from byok.middleware.limits import json_too_deep

    assert json_too_deep(body, 3) is deep
