"""The ASGI fast path: `setup_byok(as_middleware=True)` / `BYOKMiddleware` in `fast_app(middleware=…)`
behaves as the beforeware does: routes answer, guards and key routes work, cross-site writes get
the very same 403, cleanup runs once per interval inside the session, other scopes pass untouched.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fasthtml.common import FastHTML, P, fast_app
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.testclient import TestClient

from byok.core.storage import BYOKManager
from byok.core.types import BYOKConfig
from byok.middleware import BYOKMiddleware, byok_middleware, setup_byok
from byok.middleware.asgi import _Gate
from byok.middleware.beforeware import SCOPE_KEY, CleanupBeforeware
from tests.test_beforeware import MARKER, Clock, add_guarded_routes
from tests.test_csrf import CROSS_SITE, EVIL, SAME_SITE
from tests.test_routes import OPENAI_KEY, ORIGIN, PREFIX, SECRET, Page, make_app

pytestmark = pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP")

MODES = ("beforeware", "middleware")  # how byok is installed in the test app


def build(mode: str, **kw: Any) -> tuple[FastHTML, BYOKManager]:
    """make_app's app, with byok as beforeware or as the ASGI middleware in fast_app(middleware=)."""
    if mode == "beforeware":
        app, manager, _ = make_app(**kw)
        return app, manager
    # Starlette builds the middleware on the first request: the manager is filled in below
    entry = Middleware(BYOKMiddleware, manager=None, user_id_func=kw.get("user_id_func"))
    app, manager, _ = make_app(beforeware=False, middleware=[entry], **kw)
    entry.kwargs["manager"] = manager
    return app, manager


def gate_of(app: FastHTML) -> _Gate:
    """The byok gate in the app's built middleware stack."""
    node, seen = app.middleware_stack, 0
    while not isinstance(node, _Gate):
        node, seen = node.app, seen + 1
        assert seen < 20, "no byok gate in the stack"
    return node


def _add_echo(app: FastHTML) -> None:
    @app.route("/echo", methods=["POST", "PUT", "DELETE"])
    def echo(req):
        return f"changed by {req.method}"


# --------------------------------------------------------------------------- setup


def test_setup_byok_default_is_unchanged_and_as_middleware_gives_a_middleware() -> None:
    before, _ = setup_byok(SECRET)
    assert len(before) == 1 and callable(before[0]) and not isinstance(before[0], Middleware)
    middleware, manager = setup_byok(SECRET, as_middleware=True)
    assert len(middleware) == 1 and middleware[0].cls is BYOKMiddleware
    assert middleware[0].kwargs["manager"] is manager
    assert byok_middleware(manager).cls is BYOKMiddleware


@pytest.mark.parametrize("use_fast_app", [True, False], ids=["fast_app", "FastHTML"])
def test_middleware_leaves_every_route_answering(use_fast_app: bool) -> None:
    middleware, manager = setup_byok(SECRET, as_middleware=True)
    kw: dict[str, Any] = {"middleware": middleware, "secret_key": SECRET}
    app = fast_app(**kw)[0] if use_fast_app else FastHTML(**kw)

    @app.get("/")
    def index():
        return P("home")

    @app.get("/hello/{name}")
    async def hello(name: str, req, session, n: int = 1):
        return P(f"hello {name} {n} {req.scope[SCOPE_KEY] is manager} {isinstance(session, dict)}")

    @app.post("/form")
    def form(title: str):
        return P(f"got {title}")

    client = TestClient(app)
    assert client.get("/").status_code == 200
    response = client.get("/hello/ada?n=3")
    assert response.status_code == 200 and "hello ada 3 True True" in response.text
    posted = client.post("/form", data={"title": "x"}, headers={"Origin": ORIGIN})
    assert posted.status_code == 200 and "got x" in posted.text
    assert client.get("/nope").status_code == 404
    assert app.state.byok is manager


def test_the_gate_sits_inside_fast_apps_session_middleware() -> None:
    app, _ = build("middleware")
    TestClient(app).get("/")
    names = []
    node = app.middleware_stack
    while node is not None and not isinstance(node, FastHTML) and len(names) < 20:
        names.append(type(node).__name__)
        node = getattr(node, "app", None)
    assert names.index("SessionMiddleware") < names.index("_Gate")
    assert names.index("BYOKMiddleware") < names.index("SessionMiddleware")


# --------------------------------------------------------------------------- guards and routes


@pytest.mark.parametrize("mode", MODES)
def test_guards_work_the_same_in_both_modes(mode: str) -> None:
    app, _ = build(mode)
    add_guarded_routes(app)
    tab = Page(app)
    missing = tab.client.get("/chat?q=hi")
    assert missing.status_code == 303
    assert missing.headers["location"] == f"{PREFIX}?next=/chat%3Fq%3Dhi"
    as_json = tab.client.get("/chat", headers={"Accept": "application/json"})
    assert as_json.status_code == 401 and as_json.json()["error"] == "api_key_required"
    assert tab.save("openai", OPENAI_KEY).status_code == 200
    ran = tab.client.get("/chat/gpt")
    assert ran.status_code == 200 and f"{MARKER} model=gpt provider=openai scope=True" in ran.text
    asked = tab.send("POST", "/ask", data={"question": "why"})
    assert asked.status_code == 200 and f"{MARKER} openai why" in asked.text


@pytest.mark.parametrize("mode", MODES)
def test_key_routes_store_list_and_delete_in_both_modes(mode: str) -> None:
    app, _ = build(mode)
    tab = Page(app)
    assert tab.save("openai", OPENAI_KEY).status_code == 200
    assert tab.stored() == ["openai"]
    assert OPENAI_KEY not in tab.client.get(PREFIX).text
    assert tab.send("DELETE", f"{PREFIX}/openai").status_code == 200
    assert tab.stored() == []


# --------------------------------------------------------------------------- CSRF


def _answers(mode: str, headers: dict[str, str], path: str) -> Any:
    app, _ = build(mode)
    _add_echo(app)
    return TestClient(app, base_url=ORIGIN).post(
        path, data={"api_key": OPENAI_KEY}, headers=headers
    )


@pytest.mark.parametrize("kind", ["page", "htmx", "json"])
@pytest.mark.parametrize("path", ["/echo", f"{PREFIX}/openai"])
def test_cross_site_refusal_is_the_beforewares_answer(kind: str, path: str) -> None:
    headers = {"Sec-Fetch-Site": "cross-site", "Origin": EVIL}
    if kind == "htmx":
        headers["HX-Request"] = "true"
    elif kind == "json":
        headers["Accept"] = "application/json"
    before = _answers("beforeware", headers, path)
    middleware = _answers("middleware", headers, path)
    assert before.status_code == middleware.status_code == 403
    assert middleware.text == before.text
    drop = {"content-length", "set-cookie"}
    assert {k: v for k, v in middleware.headers.items() if k not in drop} == {
        k: v for k, v in before.headers.items() if k not in drop
    }
    assert "cross-origin request refused" in middleware.text


@pytest.mark.parametrize("case", list(CROSS_SITE))
def test_middleware_refuses_every_cross_site_write(case: str) -> None:
    app, _ = build("middleware")
    _add_echo(app)
    client = TestClient(app, base_url=ORIGIN)
    for method in ("POST", "PUT", "DELETE"):
        response = client.request(method, "/echo", headers=CROSS_SITE[case])
        assert response.status_code == 403, (case, method)
        assert "changed by" not in response.text


@pytest.mark.parametrize("case", list(SAME_SITE))
def test_middleware_lets_same_site_writes_through(case: str) -> None:
    app, _ = build("middleware")
    _add_echo(app)
    response = TestClient(app, base_url=ORIGIN).post("/echo", headers=SAME_SITE[case])
    assert response.status_code == 200 and "changed by POST" in response.text


def test_cross_site_get_passes_and_stores_nothing() -> None:
    app, _ = build("middleware")
    client = TestClient(app, base_url=ORIGIN)
    response = client.get("/_stored", headers={"Sec-Fetch-Site": "cross-site", "Origin": EVIL})
    assert response.status_code == 200 and response.json() == {"providers": []}


# --------------------------------------------------------------------------- other scopes


class _Recorder:
    """An inner ASGI app that records the scopes it is called with."""

    def __init__(self) -> None:
        self.scopes: list[dict] = []

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        self.scopes.append(scope)


@pytest.mark.parametrize("kind", ["websocket", "lifespan"])
def test_websocket_and_lifespan_scopes_pass_untouched(kind: str) -> None:
    import asyncio

    manager = BYOKManager(SECRET)
    inner = _Recorder()
    middleware = BYOKMiddleware(inner, manager)
    scope = {"type": kind, "path": "/ws", "headers": [(b"origin", EVIL.encode())]}
    if kind == "websocket":
        scope["scheme"] = "ws"
    before = dict(scope)

    async def receive() -> dict:
        return {"type": f"{kind}.connect"}

    async def send(message: dict) -> None:
        raise AssertionError(f"the middleware answered a {kind} scope: {message}")

    asyncio.run(middleware(scope, receive, send))
    assert inner.scopes == [before] and inner.scopes[0] is scope
    assert SCOPE_KEY not in scope


def test_websocket_route_and_lifespan_work_in_an_app() -> None:
    middleware, _ = setup_byok(SECRET, as_middleware=True)
    started: list[bool] = []
    app, _ = fast_app(
        middleware=middleware,
        secret_key=SECRET,
        exts="ws",
        on_startup=[lambda: started.append(True)],
    )

    @app.ws("/ws")
    async def ws(msg: str, send):
        await send(P(f"echo {msg}"))

    with TestClient(app) as client:
        assert started == [True]
        with client.websocket_connect("/ws", headers={"Origin": EVIL}) as socket:
            socket.send_text('{"msg": "hi"}')
            assert "echo hi" in socket.receive_text()


# --------------------------------------------------------------------------- cleanup and skip


def test_cleanup_runs_once_per_interval_inside_the_session(monkeypatch) -> None:
    config = BYOKConfig(cleanup_interval=timedelta(minutes=10))
    manager = BYOKManager(SECRET, config=config)
    clock = Clock()
    app = FastHTML(middleware=[byok_middleware(manager)], secret_key=SECRET)
    calls: list[Any] = []
    real = manager.cleanup_expired
    monkeypatch.setattr(manager, "cleanup_expired", lambda r, u=None: calls.append(u) or real(r, u))

    @app.get("/")
    def index():
        return "ok"

    @app.get("/store")
    def store(req):
        manager.set_key(req, "openai", OPENAI_KEY)
        return "stored"

    client = TestClient(app)
    client.get("/")
    cleanup = next(p for p in gate_of(app).before.chain.parts if isinstance(p, CleanupBeforeware))
    cleanup.clock = clock
    for _ in range(10):
        client.get("/")
    assert calls == []  # no keys in the session yet
    client.get("/store")
    for _ in range(30):
        assert client.get("/").status_code == 200
    assert len(calls) == 1
    clock.now += 11 * 60
    for _ in range(5):
        client.get("/")
    assert len(calls) == 2 and cleanup.runs == 2


def test_skip_leaves_matching_paths_alone_and_guards_still_find_the_manager() -> None:
    middleware, manager = setup_byok(SECRET, as_middleware=True, skip=[r"/hook.*"])
    app = FastHTML(middleware=middleware, secret_key=SECRET)

    @app.post("/hook")
    def hook(req: Request):
        return f"hook {SCOPE_KEY in req.scope}"

    @app.post("/other")
    def other():
        return "other"

    client = TestClient(app, base_url=ORIGIN)
    cross = {"Sec-Fetch-Site": "cross-site", "Origin": EVIL}
    assert client.post("/other", headers=cross).status_code == 403
    skipped = client.post("/hook", headers=cross)
    assert skipped.status_code == 200 and skipped.text == "hook False"
    assert app.state.byok is manager
