"""Request throughput with the beforeware: a trivial route, 3 stored keys, against the bare app.

Two instruments. The ASGI rows send each request straight into the app on one event loop (no
client, no socket): the app's own cost is all that is timed, so the beforeware's share is as large
as it can be, and the spread is about 1 %. The TestClient row is the anchors' method: Starlette's
TestClient starts a thread per request (a few ms), which dilutes any beforeware to almost nothing
and varies by ±10 % on a busy machine.

FastHTML itself costs about 12 µs per request for *any* `before` function (it parses the form and
resolves the parameters again), so even a no-op beforeware cannot reach 0.97× on the ASGI rows;
the "vs FastHTML's no-op before" row isolates byok's own work.

cjm-fasthtml-byok's `setup_byok` cannot run inside `fast_app` (every request answers 400: its
beforeware annotate `request: Any`, so FastHTML looks the request up as a form field, and two of
them return truthy values that would replace every response). Its row calls the same three objects
through adapters that FastHTML can call (sync, in the thread pool, as FastHTML runs sync `before`
functions), so their per-request work is what is measured.

The last rows are real HTTP: issued-key validations on PostgreSQL under uvicorn, loaded by wrk at
c = 1 and c = 16, against a no-auth route of the same app (bench/wrk.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
from collections.abc import Callable
from typing import Any

from fasthtml.common import FastHTML
from starlette.requests import Request
from starlette.testclient import TestClient

from bench import Row
from bench.wrk import pg_rows

__all__ = ["ASGIDriver", "rows"]

SECRET = "bench-secret-0123456789abcdef-0123456789"  # app secret and session signing key
PROVIDERS = ("openai", "anthropic", "google")  # the 3 stored keys
KEY = "sk-bench-" + "x" * 40  # a plausible API key
TC_BATCH = 10  # TestClient requests per timed call: its per-request cost varies a lot
RPS_BAR = 1 / 0.97  # time per request with the beforeware ≤ 1/0.97 × without (rps ≥ 0.97×)
NO_BAR = float("inf")  # a figure recorded for comparison, not judged
OWN_WORK_BAR = 1.05  # byok's own work ≤ 5 % of a request, over FastHTML's cheapest `before`


class ASGIDriver:
    """Calls an ASGI app with one GET request per call, on a private event loop."""

    def __init__(
        self,
        app: Any,  # the ASGI app
        path: str = "/",  # request path
        cookie: str | None = None,  # Cookie header value
    ):
        self.app = app
        self.loop = asyncio.new_event_loop()
        headers = [(b"host", b"testserver"), (b"accept", b"text/html")]
        if cookie:
            headers.append((b"cookie", cookie.encode()))
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": {},
        }
        self.status = 0

    async def _receive(self) -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def _send(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]

    async def _one(self) -> None:
        await self.app(dict(self.scope), self._receive, self._send)

    def __call__(self) -> int:
        """One request; returns its status."""
        if asyncio._get_running_loop() is None:
            self.loop.run_until_complete(self._one())
        else:  # called from inside a running loop (e.g. a test session): use a worker thread
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                pool.submit(self.loop.run_until_complete, self._one()).result()
        return self.status


def _trivial(app: FastHTML) -> None:
    @app.get("/")
    async def index() -> str:
        return "ok"


def _cookie(app: FastHTML) -> str:
    """Session cookie after the seed route stored the keys and one request went through `app`
    (a browser keeps what the beforeware wrote, e.g. the time of the last cleanup)."""
    client = TestClient(app)
    for path in ("/_seed", "/"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:200])
    value = client.cookies.get("session_")
    assert value, "the seed route did not set a session cookie"
    return f"session_={value}"


def _seed_route(app: FastHTML, store: Callable[[Any], None]) -> None:
    @app.get("/_seed")
    def seed(req: Request) -> str:
        store(req)
        return "seeded"


class _Apps:
    """One side's apps, sharing a session cookie that holds 3 stored keys."""

    def __init__(self, before: list[Any], store: Callable[[Any], None]):
        self.with_bw = FastHTML(before=before, secret_key=SECRET, default_hdrs=False)
        self.bare = FastHTML(secret_key=SECRET, default_hdrs=False)
        for app in (self.with_bw, self.bare):
            _trivial(app)
            _seed_route(app, store)
        self.cookie = _cookie(self.with_bw)

    def client(self, app: FastHTML) -> Callable[[], int]:
        """TestClient GET / requests (the anchors' method), `TC_BATCH` per call (µs are per call)."""
        client = TestClient(app)
        name, _, value = self.cookie.partition("=")
        client.cookies.set(name, value)

        def call() -> int:
            for _ in range(TC_BATCH):
                response = client.get("/")
                assert response.status_code == 200, response.status_code
            return response.status_code

        call()
        return call

    def asgi(self, app: FastHTML) -> ASGIDriver:
        """One GET / straight into the ASGI app per call."""
        driver = ASGIDriver(app, cookie=self.cookie)
        assert driver() == 200
        return driver


def _ours() -> _Apps:
    """byok: setup_byok's beforeware (manager, CSRF, HTTPS check, cleanup)."""
    import warnings

    from byok.core.types import SecurityWarning
    from byok.middleware import setup_byok

    warnings.simplefilter("ignore", SecurityWarning)  # plain HTTP in development: expected here
    before, manager = setup_byok(SECRET)

    def store(req: Any) -> None:
        for p in PROVIDERS:
            manager.set_key(req, p, KEY)

    return _Apps(before, store)


def _reference() -> _Apps:
    """cjm-fasthtml-byok: its three beforeware objects through callable adapters."""
    from cjm_fasthtml_byok.middleware.beforeware import setup_byok as ref_setup

    handlers, manager = ref_setup(SECRET)

    def adapt(f: Callable[..., Any]) -> Callable[..., None]:
        def before(req, sess):  # unannotated: FastHTML injects the request and the session
            f(req, sess)  # the reference's work; its truthy return value is dropped

        return before

    def store(req: Any) -> None:
        for p in PROVIDERS:
            manager.set_key(req, p, KEY)

    return _Apps([adapt(h) for h in handlers], store)


async def _noop_before(req: Request) -> None:
    """A `before` function that does nothing: FastHTML's own cost of having one."""
    return None


# its signature ready-made, as byok's beforeware has it: FastHTML re-reads it on every request
_noop_before.__signature__ = inspect.signature(_noop_before, eval_str=True)  # type: ignore[attr-defined]


def rows() -> list[Row]:
    """Throughput rows: straight ASGI calls (precise) and TestClient (the anchors' method)."""
    ours, ref = _ours(), _reference()
    floor = FastHTML(before=[_noop_before], secret_key=SECRET, default_hdrs=False)
    _trivial(floor)
    ours_asgi, ref_asgi = ours.asgi(ours.with_bw), ref.asgi(ref.with_bw)
    return [
        Row(
            "TestClient 10× GET / + 3 keys: byok beforeware vs none (anchors' method, rps ≥ 0.97×)",
            ours.client(ours.with_bw),
            ours.client(ours.bare),
            RPS_BAR,
        ),
        Row(
            "ASGI GET / + 3 keys: byok beforeware vs none (strict; no bar)",
            ours_asgi,
            ours.asgi(ours.bare),
            NO_BAR,
        ),
        Row(
            "ASGI GET / + 3 keys: byok beforeware vs FastHTML's no-op before (byok's own work)",
            ours_asgi,
            ours.asgi(floor),
            OWN_WORK_BAR,
        ),
        Row(
            "ASGI GET / + 3 keys: cjm beforeware vs none (reference; no bar)",
            ref_asgi,
            ref.asgi(ref.bare),
            NO_BAR,
        ),
        Row("ASGI GET / + 3 keys: byok beforeware vs cjm's", ours_asgi, ref_asgi, 1.0),
        *pg_rows(),  # issued keys over real HTTP (wrk) on PostgreSQL: bench/wrk.py
    ]
