"""The test infrastructure itself: PostgreSQL, per-test databases, Chromium, live server, snapshots."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from byok.core.database import create_engine
from tests.conftest import HTMLSnapshot, LiveServer, unavailable

PAGE = b"<!doctype html><html><head><title>byok infra</title></head><body><h1>it works</h1></body></html>"


async def tiny_app(scope: dict, receive, send) -> None:
    """A minimal ASGI app for the live-server and browser tests."""
    if scope["type"] == "lifespan":
        await receive()  # lifespan.startup
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        await send({"type": "lifespan.shutdown.complete"})
        return
    status = 200 if scope["path"] == "/" else 404
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/html")],
        }
    )
    await send({"type": "http.response.body", "body": PAGE if status == 200 else b"not found"})


@pytest.mark.postgres
def test_pg_fixture_gives_a_working_server(pg_url: str) -> None:
    import psycopg

    assert pg_url.startswith("postgresql://postgres@127.0.0.1:")
    assert pg_url.endswith("/byok_test")
    with psycopg.connect(pg_url) as conn:
        version = conn.execute("SELECT version()").fetchone()[0]
        db = conn.execute("SELECT current_database()").fetchone()[0]
    assert version.startswith("PostgreSQL ")
    assert db == "byok_test"


def test_mariadb_fixture_gives_a_working_server(mariadb_url: str, request) -> None:
    import pymysql

    assert request.node.get_closest_marker("mariadb") is not None  # set from the fixture used
    parts = urlsplit(mariadb_url)
    assert parts.scheme == "mysql" and parts.hostname == "127.0.0.1" and parts.path == "/byok_test"
    assert parts.username == "byok" and parts.password  # a real user with a password, not root
    conn = pymysql.connect(
        host=parts.hostname, port=parts.port, user=parts.username, password=parts.password,
        database="byok_test",
    )  # fmt: skip
    with conn, conn.cursor() as cur:
        cur.execute("SELECT VERSION(), CURRENT_USER()")
        version, user = cur.fetchone()
    assert "MariaDB" in version
    assert user == "byok@127.0.0.1"


def test_db_url_is_fresh_and_writable(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            names = sa.inspect(conn).get_table_names()
            assert names == []  # every test starts from an empty database
            conn.execute(sa.text("CREATE TABLE t (k VARCHAR(10) PRIMARY KEY, v INTEGER)"))
            conn.execute(sa.text("INSERT INTO t VALUES ('a', 1), ('b', 2)"))
        with engine.connect() as conn:
            total = conn.execute(sa.text("SELECT SUM(v) FROM t")).scalar_one()
        assert total == 3
        assert engine.dialect.name in {"sqlite", "postgresql", "mysql"}
    finally:
        engine.dispose()


def test_db_url_kinds(db_url: str, request: pytest.FixtureRequest) -> None:
    kind = request.node.callspec.params["db_url"]
    expected = {"sqlite": "sqlite:///", "postgres": "postgresql://", "mariadb": "mysql://"}[kind]
    assert db_url.startswith(expected)
    if kind in ("postgres", "mariadb"):
        assert request.node.get_closest_marker(kind) is not None


def test_live_server_serves_and_404s(live_server: LiveServer) -> None:
    import httpx

    base = live_server("tests.test_infra:tiny_app")
    assert base.startswith("http://127.0.0.1:")
    assert httpx.get(base + "/").text == PAGE.decode()
    assert httpx.get(base + "/nope").status_code == 404


def test_live_server_reports_a_broken_app(live_server: LiveServer) -> None:
    with pytest.raises(RuntimeError, match="exited"):
        live_server("tests.no_such_module:app", timeout=20)


@pytest.mark.browser
def test_chromium_loads_a_live_page(page, live_server: LiveServer) -> None:
    base = live_server("tests.test_infra:tiny_app")
    page.goto(base + "/")
    assert page.title() == "byok infra"
    assert page.get_by_role("heading", level=1).inner_text() == "it works"
    assert "Chrome" in page.evaluate("navigator.userAgent")


def test_html_snapshot_extension_writes_text_html() -> None:
    ext = HTMLSnapshot()
    assert ext.file_extension == "html"
    markup = '<div class="alert">héllo</div>\n'
    assert ext.serialize(markup) == markup


def test_html_snapshot_fixture(html_snapshot) -> None:
    assert html_snapshot == "<p>snapshot fixture</p>\n"


@pytest.mark.parametrize(
    ("ci", "outcome"),
    [
        ("true", pytest.fail.Exception),
        ("", pytest.skip.Exception),
        ("false", pytest.skip.Exception),
    ],
)
def test_missing_service_fails_in_ci_and_skips_locally(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="no database here"):
        unavailable("no database here")


def _readme_block(heading: str) -> str:
    """The first python block under a README heading."""
    import re

    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    code = re.search(rf"{re.escape(heading)}\n+```python\n(.*?)```", readme, re.S)
    assert code is not None, f"README lost its example under {heading!r}"
    return code.group(1)


def _load_readme_app(code: str, name: str, tmp_path, monkeypatch: pytest.MonkeyPatch):
    """Import a README example as a module, with APP_SECRET set."""
    import importlib
    import sys

    (tmp_path / f"{name}.py").write_text(code)
    monkeypatch.setenv("APP_SECRET", "readme-example-secret-0123456789")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return importlib.import_module(name)


def test_readme_quick_example_runs(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """The README's quick example as written: the guard redirects, the dashboard answers."""
    from starlette.testclient import TestClient

    mod = _load_readme_app(_readme_block("## Quick example"), "readme_quick", tmp_path, monkeypatch)
    from byok.core.types import SecurityWarning

    client = TestClient(mod.app, follow_redirects=False)
    with pytest.warns(SecurityWarning, match="plain HTTP"):  # development over http: warned once
        missing = client.get("/chat")
    assert missing.status_code in (302, 303, 307)
    assert missing.headers["location"].startswith("/api/keys?next=")
    dashboard = client.get("/api/keys")
    assert dashboard.status_code == 200
    assert "openai" in dashboard.text.lower()


def test_readme_manager_example_runs(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """The README's manager example as written: guarded route, 422 on bad input, masked key."""
    import base64

    from starlette.testclient import TestClient

    code = _readme_block("### Using the manager directly")
    mod = _load_readme_app(code, "readme_manager", tmp_path, monkeypatch)
    key = "sk-proj-readme0123456789abcdefghijkl"
    client = TestClient(mod.app, follow_redirects=False)
    assert client.get("/chat").headers["location"] == "/settings"
    assert client.post("/settings", data={"key": " "}).status_code == 422
    assert client.post("/settings", data={"key": key}).headers["location"] == "/chat"
    page = client.get("/chat")
    assert page.status_code == 200
    assert "Using your OpenAI key" in page.text
    assert key not in page.text
    cookie = client.cookies["session_"]
    payload = base64.b64decode(
        cookie.split(".")[0] + "=="
    ).decode()  # Starlette: signed, not encrypted
    assert "byok_" in payload  # the sealed key is in there…
    assert key not in payload  # …but never the key itself
