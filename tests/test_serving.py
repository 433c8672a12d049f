"""Styling in one argument: `fast_app(hdrs=front_end().headers())` with FastHTML's defaults left
on, and byok's assets served as soon as any byok set-up or route is mounted (no `.serve(app)`)."""

from __future__ import annotations

import warnings

import pytest
from fasthtml.common import FastHTML, P, fast_app
from starlette.requests import Request
from starlette.testclient import TestClient

import byok.components as bc
from byok.components import serving
from byok.components.serving import SHIPPED, serve_assets
from byok.core.storage import BYOKManager
from byok.issuing import KeyIssuer, mount_issuing_routes
from byok.middleware import setup_byok
from byok.routes import mount_key_routes

SECRET = "serving-test-secret-0123456789abcdef"


def asset_routes(app) -> int:
    return sum(1 for r in app.router.routes if getattr(r, "name", None) == "byok_assets")


def assert_served(client: TestClient) -> None:
    css = client.get("/byok/byok.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert css.content == bc.BYOK_CSS_PATH.read_bytes()
    assert client.get("/byok/byok-full.css").content == bc.BYOK_FULL_CSS_PATH.read_bytes()
    assert client.get("/byok/byok.js").content == bc.BYOK_JS_PATH.read_bytes()
    htmx = client.get("/byok/htmx.js")
    assert htmx.status_code == 200 and "javascript" in htmx.headers["content-type"]
    # run only when the page has no htmx yet: fast_app's default headers load their own first
    assert htmx.text.startswith("if(typeof window.htmx==='undefined'){")
    assert bc.HTMX_PATH.read_text(encoding="utf-8") in htmx.text
    assert client.get("/byok/package.json").status_code == 404  # only the shipped files
    assert client.get("/byok/../pyproject.toml").status_code == 404


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # plain-HTTP test client, routes mounted late
        yield


def test_setup_byok_alone_serves_the_assets_to_a_page_with_the_defaults_left_on() -> None:
    before, _ = setup_byok(SECRET)
    app, rt = fast_app(before=before, secret_key=SECRET, hdrs=bc.front_end().headers())

    @rt("/")
    def get():
        return P("shop")

    client = TestClient(app)
    assert_served(client)  # the very first request is an asset: answered by the beforeware
    page = client.get("/").text
    assert "pico" in page and 'href="/byok/byok.css"' in page  # defaults on, byok's link too
    assert asset_routes(app) == 1
    client.get("/")
    assert asset_routes(app) == 1  # registered once


def test_the_beforeware_scans_an_apps_routes_once_not_per_request(monkeypatch) -> None:
    before, _ = setup_byok(SECRET)
    app, rt = fast_app(before=before, secret_key=SECRET, hdrs=bc.front_end().headers())
    rt("/")(lambda: P("shop"))
    scans = []
    real = serving.serve_assets
    monkeypatch.setattr(serving, "serve_assets", lambda a, *r: scans.append(a) or real(a, *r))
    client = TestClient(app)
    for _ in range(3):
        assert client.get("/").status_code == 200
    assert scans == [app]  # the route table of a busy app is not walked on every request


def test_a_request_that_is_no_asset_is_not_parsed_for_one() -> None:
    """The beforeware reads the scope's path: a page request builds no URL object for it (the
    per-request cost behind bench row "ASGI GET / + 3 keys … (byok's own work)")."""
    before, _ = setup_byok(SECRET)
    app = FastHTML(before=before, secret_key=SECRET, default_hdrs=False)

    @app.get("/")
    def page(req: Request) -> str:
        return "url built" if "_url" in vars(req) else "no url"

    client = TestClient(app)
    assert [client.get("/").text for _ in range(2)] == ["no url", "no url"]
    assert_served(client)  # asset requests are still answered


def test_the_asset_route_goes_after_the_apps_routes_but_before_a_catch_all() -> None:
    """The asset route is inserted before the first route that would answer an asset (fast_app's
    static route), not first: the app's own routes above it are matched without trying it."""
    before, _ = setup_byok(SECRET)
    app, rt = fast_app(before=before, secret_key=SECRET, hdrs=bc.front_end().headers())
    rt("/")(lambda: P("shop"))
    TestClient(app).get("/")  # the first request puts the asset route in place
    names = [getattr(r, "name", None) for r in app.router.routes]
    static = next(i for i, r in enumerate(app.router.routes) if "{fname:path}" in r.path)
    assert names.index("byok_assets") < static  # fast_app's static route does not shadow it

    plain = FastHTML(before=before, secret_key=SECRET, default_hdrs=False)
    plain.get("/")(lambda: "home")
    plain.get("/about")(lambda: "about")
    client = TestClient(plain)
    assert client.get("/").text == "home"
    names = [getattr(r, "name", None) for r in plain.router.routes]
    assert names[-1] == "byok_assets" and len(names) == 3  # after the app's own routes
    assert_served(client)
    assert client.get("/about").text == "about"


@pytest.mark.parametrize("setup", [False, True])
def test_mount_key_routes_serves_the_assets_once(setup: bool) -> None:
    before, manager = setup_byok(SECRET) if setup else (None, BYOKManager(SECRET))
    app, _ = fast_app(before=before, secret_key=SECRET, hdrs=bc.front_end().headers())
    mount_key_routes(app, manager, providers=["openai"])
    assert asset_routes(app) == 1
    serve_assets(app)
    assert asset_routes(app) == 1  # idempotent
    assert_served(TestClient(app))


def test_mount_issuing_routes_serves_the_assets(tmp_path) -> None:
    issuer = KeyIssuer(f"sqlite:///{tmp_path}/keys.db", signing_secret=SECRET)
    app, _ = fast_app(secret_key=SECRET, hdrs=bc.front_end().headers())
    mount_issuing_routes(app, issuer, owner=lambda req: None, scopes=["read"])
    assert asset_routes(app) == 1
    assert_served(TestClient(app))


def test_an_explicit_serve_is_not_doubled() -> None:
    app, _ = fast_app(secret_key=SECRET, pico=False, default_hdrs=False)
    bc.front_end().serve(app)
    serve_assets(app)
    assert asset_routes(app) == 1
    assert TestClient(app).get("/byok/byok.css").status_code == 200
    assert set(SHIPPED) == {"byok.css", "byok-full.css", "htmx.js", "byok.js"}


def test_front_end_full_links_every_daisyui_component_and_theme() -> None:
    full = bc.front_end(daisyui="full")
    assert isinstance(full, bc.Prebuilt) and full.stylesheet == bc.BYOK_FULL_CSS_PATH
    links = [h.attrs.get("href") for h in full.headers() if h.tag == "link"]
    assert links == ["/byok/byok-full.css"]
    assert bc.front_end(daisyui="full") is full  # one per process
    assert bc.front_end().stylesheet == bc.BYOK_CSS_PATH
    with pytest.raises(ValueError, match="'byok' or 'full'"):
        bc.front_end(daisyui="everything")  # type: ignore[arg-type]


def run_docs_block(path: str, starts: str, tmp_path, monkeypatch) -> dict:
    """Run the docs example of `path` whose code starts with `starts`; its namespace."""
    from tests.test_docs import DOC_ENV, ROOT, extract

    (block,) = [b for b in extract(ROOT / path) if starts in b.code]
    monkeypatch.chdir(tmp_path)
    for name, value in DOC_ENV.items():
        monkeypatch.setenv(name, value)
    namespace: dict = {"__name__": "__docs_example__"}
    exec(compile(block.code, path, "exec"), namespace)
    return namespace


@pytest.mark.parametrize(
    ("path", "starts", "page"),
    [
        ("README.md", "mount_key_routes(app, byok", "/api/keys"),
        ("docs/issuing.md", 'mount_issuing_routes(app, issuer, "/account/api-keys"', None),
    ],
)
def test_the_docs_first_examples_render_styled(path, starts, page, tmp_path, monkeypatch) -> None:
    """README's quick example and issuing.md's six lines: the page links byok.css and the app
    serves it (it was a 404 with no `.serve(app)`)."""
    app = run_docs_block(path, starts, tmp_path, monkeypatch)["app"]
    client = TestClient(app, base_url="https://testserver")
    if page is not None:
        html = client.get(page).text
        assert 'href="/byok/byok.css"' in html and 'src="/byok/htmx.js"' in html
    assert_served(client)
