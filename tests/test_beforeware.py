"""setup_byok, the guards, the security and cleanup beforeware in real FastHTML apps, and the
skip-list bypass matrix (0 bypasses)."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fasthtml.common import Beforeware, FastHTML, P, fast_app
from fastsql import Database
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.testclient import TestClient

import byok.core.types as core_types
from byok.core.storage import BYOKManager
from byok.core.types import BYOKConfig, SecurityWarning, StorageBackend, StorageError
from byok.middleware import (
    BeforewareChain,
    CleanupBeforeware,
    MissingKeyResponse,
    SecurityCheckBeforeware,
    SecurityPolicy,
    create_byok_beforeware,
    require_any_api_key,
    require_api_key,
    safe_next,
    setup_byok,
)
from byok.middleware.beforeware import SCOPE_API_KEY, SCOPE_KEY, SCOPE_PROVIDER
from tests.support import examples
from tests.support.routes import (
    ANTHROPIC_KEY,
    OPENAI_KEY,
    ORIGIN,
    PREFIX,
    SECRET,
    Page,
    make_app,
)

pytestmark = pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP")

MARKER = "guarded handler ran"  # text only a guarded handler's answer contains


def add_guarded_routes(app: FastHTML, **guard_kw: Any) -> None:
    """Routes behind the guards: sync and async, with request, query, path and session params."""

    @app.get("/chat")
    @require_api_key("openai", **guard_kw)
    def chat(api_key: str, q: str = "none", sess=None):
        return P(f"{MARKER} len={len(api_key)} q={q} sess={type(sess).__name__}")

    @app.get("/chat/{model}")
    @require_api_key("openai", **guard_kw)
    async def chat_model(req: Request, model: str, api_key: str, key_provider: str):
        scope_ok = req.scope[SCOPE_API_KEY] == api_key and req.scope[SCOPE_PROVIDER] == key_provider
        return P(f"{MARKER} model={model} provider={key_provider} scope={scope_ok}")

    @app.post("/ask")
    @require_any_api_key(["anthropic", "openai"], **guard_kw)
    async def ask(question: str, api_key: str, key_provider: str):
        return P(f"{MARKER} {key_provider} {question}")

    @app.get("/bare")
    @require_api_key("openai", **guard_kw)
    def bare(api_key: str):
        return P(MARKER)


@pytest.fixture
def guarded() -> tuple[Page, BYOKManager]:
    app, manager, _ = make_app()
    add_guarded_routes(app)
    return Page(app), manager


# --------------------------------------------------------------------------- setup_byok


@pytest.mark.parametrize("use_fast_app", [True, False], ids=["fast_app", "FastHTML"])
def test_setup_byok_leaves_every_route_answering(use_fast_app: bool) -> None:
    before, manager = setup_byok(SECRET)
    kw: dict[str, Any] = {"before": before, "secret_key": SECRET}
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


def test_the_reference_answered_400_where_we_answer_200() -> None:
    from cjm_fasthtml_byok.middleware.beforeware import setup_byok as reference_setup

    for setup, expected in ((reference_setup, 400), (setup_byok, 200)):
        app = fast_app(before=setup(SECRET)[0], secret_key=SECRET)[0]

        @app.get("/")
        def index():
            return P("home")

        assert TestClient(app).get("/").status_code == expected


def test_db_is_honoured_as_url_and_as_database(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    _, by_url = setup_byok(SECRET, db=url)
    assert by_url.backend is StorageBackend.DATABASE
    by_url.set_key(None, "openai", OPENAI_KEY, user_id="u1")
    assert BYOKManager(SECRET, db_url=url).get_key(None, "openai", "u1") == OPENAI_KEY
    _, by_db = setup_byok(SECRET, db=Database(f"sqlite:///{tmp_path / 'b.db'}"))
    assert by_db.backend is StorageBackend.DATABASE
    by_db.set_key(None, "openai", OPENAI_KEY, user_id="u1")
    assert by_db.database.db.q("select count(*) as n from user_api_keys")[0]["n"] == 1


def test_beforeware_is_async_and_never_hops_to_a_thread(monkeypatch) -> None:
    import fasthtml.core

    before, _ = setup_byok(SECRET)
    hops: list[Any] = []
    real = fasthtml.core.run_in_threadpool

    async def counting(f, *a, **k):
        hops.append(f)
        return await real(f, *a, **k)

    monkeypatch.setattr(fasthtml.core, "run_in_threadpool", counting)
    app = fast_app(before=before, secret_key=SECRET)[0]

    @app.get("/")
    async def index():
        return "ok"

    client = TestClient(app)
    for _ in range(5):
        assert client.get("/").status_code == 200
        assert client.post("/", headers={"Origin": ORIGIN}).status_code in (200, 405)
    assert hops == []


def test_no_decryption_unless_a_handler_asks(guarded, monkeypatch) -> None:
    page, manager = guarded
    for provider, key in (("openai", OPENAI_KEY), ("anthropic", ANTHROPIC_KEY)):
        assert page.save(provider, key).status_code == 200
    opened: list[int] = []
    retrieved: list[str] = []
    real_open, real_retrieve = manager.keyring.open, manager.storage.retrieve
    monkeypatch.setattr(manager.keyring, "open", lambda *a: opened.append(1) or real_open(*a))
    monkeypatch.setattr(
        manager.storage,
        "retrieve",
        lambda r, p, u=None, label=None: retrieved.append(p) or real_retrieve(r, p, u, label),
    )
    for _ in range(10):
        assert page.client.get("/_stored").status_code == 200
    assert opened == []  # listing reads records, never decrypts
    retrieved.clear()
    assert MARKER in page.client.get("/chat").text
    assert opened == [1] and retrieved == ["openai"]  # one lookup, one decryption


# --------------------------------------------------------------------------- guards


def test_guard_page_request_redirects_with_encoded_next(guarded) -> None:
    page, _ = guarded
    from urllib.parse import parse_qs, urlsplit

    response = page.client.get("/chat?q=a b&x=1")
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == PREFIX and location.query.startswith("next=/chat%3F")
    assert parse_qs(location.query)["next"] == ["/chat?q=a%20b&x=1"]  # the URL as requested
    assert MARKER not in response.text


def test_guard_settings_url_with_query_and_htmx_redirect() -> None:
    app, _, _ = make_app()
    add_guarded_routes(app, settings_url="/settings?tab=keys")
    page = Page(app)
    assert page.client.get("/bare").headers["location"] == "/settings?tab=keys&next=/bare"
    hx = page.client.get(
        "/bare", headers={"HX-Request": "true", "HX-Current-URL": f"{ORIGIN}/page?a=1"}
    )
    assert hx.status_code == 401
    assert hx.headers["HX-Redirect"] == "/settings?tab=keys&next=/page%3Fa%3D1"
    foreign = page.client.get(
        "/bare", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"}
    )
    assert foreign.headers["HX-Redirect"] == "/settings?tab=keys&next=/bare"


def test_guard_json_gets_401_body(guarded) -> None:
    page, _ = guarded
    response = page.client.post(
        "/ask", data={"question": "hi"}, headers={"Accept": "application/json", "Origin": ORIGIN}
    )
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "api_key_required"
    assert body["providers"] == ["anthropic", "openai"]
    assert body["settings_url"].startswith(f"{PREFIX}?next=")


def test_guard_inline_form_for_htmx() -> None:
    app, _, _ = make_app()
    add_guarded_routes(app, htmx=MissingKeyResponse.FORM)
    page = Page(app)
    single = page.client.get("/bare", headers={"HX-Request": "true"})
    assert single.status_code == 200 and MARKER not in single.text
    assert 'name="api_key"' in single.text and f"{PREFIX}/openai" in single.text
    assert "csrf_token" in single.text
    multi = page.client.post(
        "/ask", data={"question": "q"}, headers={"HX-Request": "true", "Origin": ORIGIN}
    )
    assert multi.status_code == 200 and 'name="provider"' in multi.text


def test_guard_gives_the_handler_its_key_and_keeps_fasthtml_injection(guarded) -> None:
    page, _ = guarded
    page.save("openai", OPENAI_KEY)
    text = page.client.get("/chat?q=hello").text
    assert f"{MARKER} len={len(OPENAI_KEY)} q=hello sess=" in text
    assert "model=gpt provider=openai scope=True" in page.client.get("/chat/gpt").text
    answer = page.client.post("/ask", data={"question": "why"}, headers={"Origin": ORIGIN})
    assert "openai why" in answer.text
    page.save("anthropic", ANTHROPIC_KEY)
    answer = page.client.post("/ask", data={"question": "why"}, headers={"Origin": ORIGIN})
    assert "anthropic why" in answer.text  # the first provider in order wins
    assert OPENAI_KEY not in text


def test_guard_signature_hides_injected_params() -> None:
    import inspect

    @require_api_key("openai")
    async def handler(req: Request, api_key: str, key_provider: str, n: int = 2):
        """Doc."""

    params = inspect.signature(handler).parameters
    assert list(params) == ["req", "n"]
    assert handler.__name__ == "handler" and handler.__doc__ == "Doc."

    @require_api_key("openai")
    def no_request(api_key: str, **rest):
        pass

    params = inspect.signature(no_request).parameters
    assert next(iter(params)) == "byok_request_" and list(params)[-1] == "rest"


def test_guard_rejects_bad_configuration() -> None:
    with pytest.raises(ValueError):
        require_api_key("Not A Provider")
    with pytest.raises(ValueError):
        require_any_api_key([])


def test_guard_treats_expired_and_unreadable_keys_as_missing(guarded, monkeypatch) -> None:
    page, manager = guarded
    page.save("openai", OPENAI_KEY)
    assert MARKER in page.client.get("/chat").text
    manager.keyring = BYOKManager("a-different-secret-0123456789ab").keyring
    unreadable = page.client.get("/bare", headers={"Accept": "application/json"})
    assert unreadable.status_code == 401 and "could not be read" in unreadable.json()["detail"]
    manager.keyring = BYOKManager(SECRET).keyring
    assert MARKER in page.client.get("/chat").text
    later = datetime.now(UTC) + timedelta(days=2)
    monkeypatch.setattr(core_types, "utcnow", lambda: later)
    assert page.client.get("/chat").status_code == 303


def test_guard_storage_failure_is_503(guarded, monkeypatch) -> None:
    page, manager = guarded

    def down(*a: Any, **k: Any) -> None:
        raise StorageError("down")

    monkeypatch.setattr(manager, "get_key", down)
    response = page.client.get("/chat", headers={"Accept": "application/json"})
    assert response.status_code == 503 and response.json()["error"] == "storage"


def test_guard_database_without_user_is_401_and_users_are_separate(tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'g.db'}"

    def user_of(req: Any) -> str | None:
        return req.headers.get("x-user")

    async def async_user_of(req: Any) -> str | None:
        return req.headers.get("x-user")

    app, manager, _ = make_app(db=db, user_id_func=user_of)
    add_guarded_routes(app, user_id_func=async_user_of)
    client = TestClient(app, follow_redirects=False)
    manager.set_key(None, "openai", OPENAI_KEY, user_id="alice")
    assert client.get("/bare", headers={"Accept": "application/json"}).status_code == 401
    assert MARKER in client.get("/bare", headers={"X-User": "alice"}).text
    assert client.get("/bare", headers={"X-User": "bob"}).status_code == 303


def test_guard_without_beforeware_uses_explicit_manager_or_refuses() -> None:
    manager = BYOKManager(SECRET)
    app = FastHTML(secret_key=SECRET)

    @app.get("/with")
    @require_api_key("openai", manager=manager)
    def with_manager(api_key: str):
        return P(MARKER)

    @app.get("/without")
    @require_api_key("openai")
    def without(api_key: str):
        return P(MARKER)

    client = TestClient(app, follow_redirects=False)
    assert client.get("/with").status_code == 303
    refused = client.get("/without", headers={"Accept": "application/json"})
    assert refused.status_code == 503 and refused.json()["error"] == "not_configured"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/chat", "/chat"),
        ("/chat?a=1&b=%2F", "/chat?a=1&b=%2F"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("chat", "/"),
        ("/a\r\nLocation: x", "/"),
        ("", "/"),
        (None, "/"),
        ("/" + "a" * 3000, "/"),
    ],
)
def test_safe_next(target: Any, expected: str) -> None:
    assert safe_next(target) == expected


# --------------------------------------------------------------------------- security checks


def test_production_refuses_key_routes_over_http_with_a_security_alert() -> None:
    app, _, _ = make_app(policy=SecurityPolicy(is_production=True))
    add_guarded_routes(app)
    plain = TestClient(app, base_url="http://testserver")
    page = plain.get(PREFIX)
    assert page.status_code == 403
    assert "HTTPS" in page.text and 'role="alert"' in page.text
    as_json = plain.get(PREFIX, headers={"Accept": "application/json"})
    assert as_json.status_code == 403 and as_json.json()["error"] == "insecure_transport"
    assert plain.post(f"{PREFIX}/openai", data={"api_key": OPENAI_KEY}).status_code == 403
    assert plain.get("/_stored").status_code == 200  # other routes are not key routes
    secure = Page(app, base_url="https://testserver")
    assert secure.save("openai", OPENAI_KEY).status_code == 200


def test_production_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("BYOK_ENV", "production")
    assert SecurityPolicy().is_production is True
    monkeypatch.setenv("BYOK_ENV", "development")
    assert SecurityPolicy().is_production is False
    monkeypatch.delenv("BYOK_ENV")
    monkeypatch.setenv("ENVIRONMENT", "prod")
    assert SecurityPolicy().is_production is True
    assert SecurityPolicy(is_production=False).is_production is False  # a setting wins


def test_forwarded_proto_trusted_only_from_configured_proxies() -> None:
    policy = SecurityPolicy(is_production=True, trusted_proxies=["10.0.0.0/8"])
    app, _, _ = make_app(policy=policy)
    https = {"X-Forwarded-Proto": "https"}
    from_proxy = TestClient(app, client=("10.1.2.3", 5000))
    assert from_proxy.get(PREFIX, headers=https).status_code == 200
    assert from_proxy.get(PREFIX).status_code == 403
    from_elsewhere = TestClient(app, client=("203.0.113.9", 5000))
    assert from_elsewhere.get(PREFIX, headers=https).status_code == 403


def test_forwarded_proto_never_trusted_without_proxies() -> None:
    app, _, _ = make_app(policy=SecurityPolicy(is_production=True, trusted_proxies=[]))
    client = TestClient(app, client=("127.0.0.1", 5000))
    assert client.get(PREFIX, headers={"X-Forwarded-Proto": "https"}).status_code == 403


@pytest.mark.parametrize("via", ["beforeware", "mount"])
def test_production_session_cookie_is_secure_httponly_samesite(via: str) -> None:
    policy = SecurityPolicy(is_production=True)
    app, _, _ = make_app(
        policy=policy, beforeware=via == "beforeware", mount=via == "mount", same_site="none"
    )
    page = Page(app, base_url="https://testserver")
    if via == "beforeware":

        @app.get("/touch")
        def touch(session):
            session["x"] = 1
            return "ok"

        response = page.client.get("/touch")
    else:
        response = page.client.get(PREFIX)
    cookie = response.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_development_session_cookie_unchanged_and_warned_once() -> None:
    app, _, _ = make_app(policy=SecurityPolicy(is_production=False))
    client = TestClient(app)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cookies = [client.get(PREFIX).headers.get("set-cookie") for _ in range(5)]
    mine = [w for w in caught if issubclass(w.category, SecurityWarning)]
    assert len(mine) == 1 and "plain HTTP" in str(mine[0].message)
    cookie = cookies[0]  # the first answer created the session (CSRF token)
    assert cookie is not None and "httponly" in cookie.lower() and "secure" not in cookie.lower()


def test_no_warning_over_https() -> None:
    app, _, _ = make_app(policy=SecurityPolicy(is_production=False))
    client = TestClient(app, base_url="https://testserver")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.get(PREFIX)
    assert not [w for w in caught if issubclass(w.category, SecurityWarning)]


# --------------------------------------------------------------------------- cleanup


class Clock:
    """A settable clock for CleanupBeforeware."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _cleanup_app(manager: BYOKManager, cleanup: CleanupBeforeware) -> FastHTML:
    app = FastHTML(before=[create_byok_beforeware(manager), cleanup], secret_key=SECRET)

    @app.get("/")
    def index():
        return "ok"

    @app.get("/store")
    def store(req):
        manager.set_key(req, "openai", OPENAI_KEY, user_id=req.headers.get("x-user"))
        return "stored"

    return app


def test_cleanup_runs_once_per_interval_per_session(monkeypatch) -> None:
    manager = BYOKManager(SECRET, config=BYOKConfig(cleanup_interval=timedelta(minutes=10)))
    clock = Clock()
    cleanup = CleanupBeforeware(manager, clock=clock)
    calls: list[Any] = []
    real = manager.sweep
    monkeypatch.setattr(
        manager, "sweep", lambda r, u=None, **kw: calls.append(u) or real(r, u, **kw)
    )
    client = TestClient(_cleanup_app(manager, cleanup))
    for _ in range(20):
        client.get("/")
    assert calls == []  # no keys in the session: nothing to clean, no cookie written
    client.get("/store")
    for _ in range(50):
        client.get("/")
    assert len(calls) == 1
    clock.now += 9 * 60
    client.get("/")
    assert len(calls) == 1
    clock.now += 2 * 60
    for _ in range(10):
        client.get("/")
    assert len(calls) == 2 and cleanup.runs == 2


def test_cleanup_removes_expired_keys(monkeypatch) -> None:
    manager = BYOKManager(SECRET)
    clock = Clock()
    client = TestClient(_cleanup_app(manager, CleanupBeforeware(manager, clock=clock)))
    client.get("/store")
    later = datetime.now(UTC) + timedelta(days=2)
    monkeypatch.setattr(core_types, "utcnow", lambda: later)
    clock.now += 3600
    removed: list[int] = []
    real = manager.sweep
    monkeypatch.setattr(
        manager, "sweep", lambda r, u=None, **kw: removed.append(real(r, u, **kw)) or removed[-1]
    )
    client.get("/")
    assert removed == [1]


def test_cleanup_per_user_with_a_database(tmp_path, monkeypatch) -> None:
    manager = BYOKManager(SECRET, db_url=f"sqlite:///{tmp_path / 'c.db'}")
    clock = Clock()
    cleanup = CleanupBeforeware(
        manager, user_id_func=lambda r: r.headers.get("x-user"), clock=clock, max_users=2
    )
    calls: list[Any] = []
    monkeypatch.setattr(manager, "sweep", lambda r, u=None, **kw: calls.append(u) or 0)
    client = TestClient(_cleanup_app(manager, cleanup))
    for user in ["a", "b", "a", "b", "a"] * 10:
        client.get("/", headers={"X-User": user})
    client.get("/")  # no user: nothing to clean
    assert sorted(calls) == ["a", "b"]
    client.get("/", headers={"X-User": "c"})  # a third user evicts the oldest memory ("a")
    client.get("/", headers={"X-User": "a"})
    assert calls == ["a", "b", "c", "a"]
    clock.now += manager.config.cleanup_interval.total_seconds() + 1
    client.get("/", headers={"X-User": "c"})
    assert calls[-1] == "c" and len(calls) == 5


def test_cleanup_disabled_and_failing_cleanup_never_breaks_requests(monkeypatch) -> None:
    manager = BYOKManager(SECRET, config=BYOKConfig(auto_cleanup=False))
    client = TestClient(_cleanup_app(manager, CleanupBeforeware(manager)))
    client.get("/store")
    monkeypatch.setattr(manager, "sweep", lambda *a, **kw: pytest.fail("cleanup ran"))
    assert client.get("/").status_code == 200
    manager.config.auto_cleanup = True

    def broken(*a: Any, **kw: Any) -> int:
        raise StorageError("down")

    monkeypatch.setattr(manager, "sweep", broken)
    assert client.get("/").status_code == 200


def test_cleanup_asks_once_per_session_content_and_never_without_a_cookie(monkeypatch) -> None:
    """The hot path is a header check: a session seen not due is not asked again for a tenth of
    the interval while its cookie stays the same, and no cookie means no stored keys."""
    manager = BYOKManager(SECRET, config=BYOKConfig(cleanup_interval=timedelta(minutes=10)))
    clock = Clock()
    cleanup = CleanupBeforeware(manager, clock=clock)
    asked: list[Any] = []
    real = manager.sweep_due
    monkeypatch.setattr(manager, "sweep_due", lambda *a, **kw: asked.append(1) or real(*a, **kw))
    client = TestClient(_cleanup_app(manager, cleanup))
    client.get("/store")
    assert cleanup.runs == 0 and asked == []  # no cookie yet: no stored keys to clean
    for _ in range(30):
        assert client.get("/").status_code == 200
    # the first cookie was due (swept, its stamp changed the cookie); the new one asked once
    assert len(asked) == 2 and cleanup.runs == 1
    assert "cookie" not in client.get("/").headers.get("vary", "").lower()  # session untouched
    clock.now += 61  # past a tenth of the interval: asked again, still not due
    client.get("/")
    client.get("/")
    assert len(asked) == 3 and cleanup.runs == 1
    clock.now += 10 * 60
    client.get("/")
    assert cleanup.runs == 2
    client.cookies.clear()
    before = len(asked)
    for _ in range(5):
        client.get("/")
    assert len(asked) == before  # no cookie: not even asked


def test_find_manager_is_one_rule_for_requests_and_stand_ins() -> None:
    from byok.middleware.context import find_manager

    given, scoped, stated = (BYOKManager(SECRET) for _ in range(3))
    before, from_setup = setup_byok(SECRET)

    class Stand:  # what a component may be handed instead of a Starlette request
        def __init__(self, scope: Any):
            self.scope = scope

    app = FastHTML(before=before, secret_key=SECRET)
    assert find_manager(Stand({"byok": scoped}), given) is given  # an explicit manager wins
    assert find_manager(Stand({"byok": scoped, "app": app})) is scoped  # then the beforeware's
    assert find_manager(Stand({"app": app})) is from_setup  # then the app's setup_byok chain
    assert app.state.byok is from_setup  # remembered on app.state
    app.state.byok = stated
    assert find_manager(Stand({"app": app})) is stated
    assert find_manager(None) is None and find_manager(object()) is None
    assert find_manager(Stand("not a mapping")) is None and find_manager(None, given) is given


def test_reference_style_composition_still_works() -> None:
    manager = BYOKManager(SECRET)
    before = [
        create_byok_beforeware(manager),
        SecurityCheckBeforeware(),
        CleanupBeforeware(manager),
    ]
    app = fast_app(before=before, secret_key=SECRET)[0]

    @app.get("/")
    def index(req):
        return P(f"manager {req.scope[SCOPE_KEY] is manager}")

    assert "manager True" in TestClient(app).get("/").text
    assert isinstance(setup_byok(SECRET)[0][0].chain, BeforewareChain)


# --------------------------------------------------------------------------- skip lists

SKIPS = [  # the kind of skip lists FastHTML apps write, some of them careless
    r"/favicon\.ico",
    r"/static/.*",
    r".*\.css",
    r".*\.js",
    r"(?i)/API/.*",
    r".*/",
    r"//.*",
    r"/login",
]


def _variants(path: str) -> list[str]:
    """Spellings of `path` a skip list might match while the router still reaches a handler."""
    head, _, last = path.rpartition("/")
    return [
        path,
        path + ".css",
        path + ".js",
        path + "%2Ecss",
        path + "%2ejs",
        f"{head}/{last[:1]}%2E{last[1:]}" if last else path,
        path + "%2F",
        path + "/",
        path + "//",
        "/" + path,
        path.replace("/", "//"),
        path.upper(),
        path.title(),
        f"{head}/{last.upper()}",
        f"/static/..{path}",
        f"/static/%2E%2E{path}",
        path + "%252Ecss",
        path + ";.css",
        path + "%00.css",
        path + "?x=.css",
        path + "#.css",
    ]


BYPASSES: list[str] = []  # filled by the matrix, read by the report
ATTEMPTS: list[int] = [0]


def _attempt(description: str, bypassed: bool) -> None:
    ATTEMPTS[0] += 1
    if bypassed:
        BYPASSES.append(description)


def test_skip_lists_never_open_a_hole() -> None:
    prod = SecurityPolicy(is_production=True)
    app, _, _ = make_app(skip=SKIPS, policy=prod)
    add_guarded_routes(app)

    # 1. guarded routes: without a key, the handler must never run
    plain = TestClient(app, base_url="https://testserver", follow_redirects=False)
    for path in ("/chat", "/chat/gpt", "/bare"):
        for variant in _variants(path):
            for headers in ({}, {"HX-Request": "true"}, {"Accept": "application/json"}):
                r = plain.get(variant, headers=headers)
                _attempt(f"guard GET {variant} {headers}", MARKER in r.text)
    for variant in _variants("/ask"):
        r = plain.post(variant, data={"question": "q"}, headers={"Origin": "https://testserver"})
        _attempt(f"guard POST {variant}", MARKER in r.text)

    # 2. key routes: cross-site writes (even with a valid token) and writes no browser vouches
    # for without the token never store
    page = Page(app, base_url="https://testserver")
    token = page.token()
    attacks = [
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site", "X-CSRF-Token": token},
        {"Origin": "https://evil.example", "X-CSRF-Token": token},
        {},  # no browser header, no token
        {"Sec-Fetch-Site": "none", "X-CSRF-Token": "forged"},
        {"Referer": "https://testserver/page", "X-CSRF-Token": "forged"},
    ]
    for target in (f"{PREFIX}/openai", PREFIX):
        for variant in _variants(target):
            for headers in attacks:
                for method in ("POST", "PUT", "PATCH"):
                    r = page.client.request(
                        method,
                        variant,
                        data={"api_key": OPENAI_KEY, "provider": "openai"},
                        headers={"HX-Request": "true", **headers},
                    )
                    _attempt(f"{method} {variant} {headers}", 200 <= r.status_code < 300)
    for variant in _variants(f"{PREFIX}/openai"):
        for headers in attacks:
            r = page.client.request("DELETE", variant, headers=headers)
            _attempt(f"DELETE {variant} {headers}", 200 <= r.status_code < 300)
    assert page.stored() == []

    # 3. production over plain HTTP: key routes refuse whatever the spelling
    http = Page(app, base_url="http://testserver")
    for target in (PREFIX, f"{PREFIX}/openai"):
        for variant in _variants(target):
            r = http.client.get(variant)
            _attempt(f"http GET {variant}", r.status_code == 200 and "byok-dashboard" in r.text)
            r = http.client.post(
                variant, data={"api_key": OPENAI_KEY}, headers={"Origin": "http://testserver"}
            )
            _attempt(f"http POST {variant}", 200 <= r.status_code < 300)

    assert ATTEMPTS[0] >= 500
    assert BYPASSES == [], BYPASSES[:5]


def test_the_matrix_finds_holes_in_a_beforeware_only_guard() -> None:
    """Control: the same skip list in front of a guard that lives only in a beforeware leaks."""
    manager = BYOKManager(SECRET)

    def naive_guard(req, sess):
        if not manager.has_key(req, "openai"):
            return P("no key", id="refused")

    app = FastHTML(before=Beforeware(naive_guard, skip=SKIPS), secret_key=SECRET)

    @app.get("/chat/{model}")
    def chat(model: str):
        return P(MARKER)

    client = TestClient(app, follow_redirects=False)
    leaks = [v for v in _variants("/chat/gpt") if MARKER in client.get(v).text]
    assert "/chat/gpt.css" in leaks and "/chat/gpt/" not in leaks


def test_mount_applies_the_policy_setup_byok_gave_the_manager() -> None:
    from byok.routes import mount_key_routes

    before, manager = setup_byok(SECRET, policy=SecurityPolicy(is_production=True))
    app = fast_app(before=Beforeware(before[0], skip=[r"/api/.*"]), secret_key=SECRET)[0]
    mount_key_routes(app, manager, providers=["openai"])  # no policy passed
    assert TestClient(app).get(PREFIX).status_code == 403  # beforeware skipped, routes refuse
    configured = BYOKManager(SECRET, config=BYOKConfig(is_production=True))
    other = FastHTML(secret_key=SECRET)
    mount_key_routes(other, configured, providers=["openai"])
    assert TestClient(other).get(PREFIX).status_code == 403
    assert TestClient(other, base_url="https://testserver").get(PREFIX).status_code == 200


def test_odd_headers_and_settings_never_500() -> None:
    with pytest.raises(ValueError):
        SecurityPolicy(trusted_proxies=["not-an-ip"])
    app, _, _ = make_app()
    add_guarded_routes(app)
    client = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    for value in ("http://[x", "::::", "http://testserver:99999/", "\x7f", ""):
        hx = client.get("/bare", headers={"HX-Request": "true", "HX-Current-URL": value})
        assert hx.status_code == 401 and hx.headers["HX-Redirect"].startswith(f"{PREFIX}?next=/")
    for origin in ("http://[x", "http://a:b:c", "null", "\x7f"):
        assert client.post("/ask", headers={"Origin": origin}).status_code == 403
        assert client.post("/ask", headers={"Referer": origin}).status_code == 403


HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40
) | st.sampled_from(
    ["http://[x", "null", ORIGIN, "https://evil.example", "same-origin", "cross-site"]
)


HEADER_EXAMPLES = examples(500)  # random header sets (500 in the deep profile)


def test_random_browser_headers_never_500() -> None:
    app, _, _ = make_app()
    add_guarded_routes(app)
    client = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    names = ["Origin", "Referer", "Sec-Fetch-Site", "HX-Current-URL", "Accept", "X-CSRF-Token"]
    targets = [("GET", "/bare"), ("POST", "/ask"), ("POST", f"{PREFIX}/openai"), ("GET", PREFIX)]
    seen: list[int] = []

    @settings(max_examples=HEADER_EXAMPLES, deadline=None, derandomize=True, database=None)
    @given(
        headers=st.dictionaries(st.sampled_from(names), HEADER_TEXT, max_size=6),
        htmx=st.booleans(),
        target=st.sampled_from(targets),
    )
    def run(headers: dict[str, str], htmx: bool, target: tuple[str, str]) -> None:
        if htmx:
            headers = {**headers, "HX-Request": "true"}
        method, path = target
        response = client.request(method, path, headers=headers, data={"question": "q"})
        seen.append(response.status_code)
        assert response.status_code < 500, (headers, response.text[:200])
        assert MARKER not in response.text  # never the guarded handler: no key is stored

    run()
    assert len(seen) >= HEADER_EXAMPLES and {303, 401, 403} <= set(seen)
