"""Issue 21, item 8: the mounted pages take the app's layout. `mount_key_routes(…, layout=fn)`
and `mount_issuing_routes(…, layout=fn)` wrap each full page (the page, a refusal shown as a
page) in the app's own shell, called `fn(*content, title=...)`; htmx fragments and JSON are never
wrapped. Real app, real SQLite (TestClient).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fasthtml.common import A, Footer, Main, Nav, Title, fast_app
from starlette.testclient import TestClient

from byok.issuing import KeyIssuer, mount_issuing_routes
from byok.middleware import SecurityPolicy, setup_byok
from byok.routes import mount_key_routes
from tests.support import SECRET

pytestmark = pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP")

KEYS = "/settings/keys"
ISSUED = "/account/api-keys"
USER = "x-user"  # request header naming the signed-in user (none: signed out)
HTMX = {"HX-Request": "true"}
JSON = {"Accept": "application/json"}
calls: list[str] = []  # the titles the shell was called with


def shell(*content: Any, title: str) -> Any:
    """The app's own shell: its title, navigation, main column and footer."""
    calls.append(title)
    nav = Nav(A("Notes", href="/"), A("Settings", href=KEYS), id="app-nav")
    return Title(f"{title} · Notes"), nav, Main(*content, id="app-main"), Footer("Notes Inc.")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    calls.clear()
    before, _ = setup_byok(
        SECRET,
        db=f"sqlite:///{tmp_path / 'keys.db'}",
        user_id_func=lambda req: req.headers.get(USER),
        policy=SecurityPolicy(is_production=False),
    )
    app, _ = fast_app(before=before, secret_key=SECRET)
    mount_key_routes(app, prefix=KEYS, providers=["openai"], verifier=False, layout=shell)
    issuer = KeyIssuer(f"sqlite:///{tmp_path / 'issued.db'}", signing_secret=SECRET)
    org = issuer.get_or_create_organization("alice")[0].id
    owner = lambda req: org if req.headers.get(USER) == "alice" else None  # noqa: E731
    mount_issuing_routes(app, issuer, owner=owner, scopes={"read": "Read"}, layout=shell)
    yield app
    issuer.close()


def get(app: Any, path: str, user: str | None = "alice", **headers: str) -> Any:
    client = TestClient(app, follow_redirects=False)
    return client.get(path, headers={**({USER: user} if user else {}), **headers})


@pytest.mark.parametrize(("path", "inside"), [(KEYS, "byok-dashboard"), (ISSUED, "create")])
def test_a_full_page_is_drawn_in_the_apps_shell(app: Any, path: str, inside: str) -> None:
    r = get(app, path)
    assert r.status_code == 200
    page = BeautifulSoup(r.text, "html.parser")
    assert page.title.string == "API keys · Notes"
    main = page.find(id="app-main")
    assert page.find(id="app-nav") is not None and page.find("footer") is not None
    assert main is not None and inside in str(main)  # byok's page inside the app's column
    assert main.find("script", src=lambda s: s and "byok.js" in s) is not None
    assert calls == ["API keys"]


@pytest.mark.parametrize("path", [KEYS, ISSUED])
def test_htmx_fragments_and_json_are_never_wrapped(app: Any, path: str) -> None:
    fragment = get(app, path, **HTMX)
    assert fragment.status_code == 200 and "app-nav" not in fragment.text
    assert "<title>" not in fragment.text
    assert "app-nav" not in get(app, path, **JSON).text
    assert calls == []


@pytest.mark.parametrize("path", [KEYS, ISSUED])
def test_a_refusal_shown_as_a_page_is_in_the_shell_too(app: Any, path: str) -> None:
    r = get(app, path, user=None)  # signed out, no login_url: the 401 page
    assert r.status_code == 401
    assert 'id="app-nav"' in r.text and "Sign in to manage your API keys" in r.text
    toast = get(app, path, user=None, **HTMX)  # the same refusal for htmx: a toast alone
    assert toast.status_code == 401 and "app-nav" not in toast.text


def test_without_a_layout_the_page_is_byoks_own(tmp_path: Path) -> None:
    before, _ = setup_byok(SECRET, policy=SecurityPolicy(is_production=False))
    app, _ = fast_app(before=before, secret_key=SECRET)
    mount_key_routes(app, providers=["openai"], verifier=False)
    page = BeautifulSoup(TestClient(app).get("/api/keys").text, "html.parser")
    assert page.title.string == "API keys" and page.find("main") is not None


def test_the_layout_is_told_the_page_title(app: Any, tmp_path: Path) -> None:
    def layout(*content: Any, title: str) -> Any:
        return Title(title), Main(*content, data_shell="mine")

    before, _ = setup_byok(SECRET, policy=SecurityPolicy(is_production=False))
    other, _ = fast_app(before=before, secret_key=SECRET)
    mount_key_routes(other, providers=["openai"], verifier=False, title="Your keys", layout=layout)
    r = TestClient(other).get("/api/keys")
    assert "<title>Your keys</title>" in r.text and 'data-shell="mine"' in r.text
