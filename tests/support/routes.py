"""HTTP helpers: a test app with the beforeware and the key routes, a browser tab on it (`Page`,
same-origin requests carrying the CSRF token), the providers and keys the apps accept."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from bs4 import BeautifulSoup
from fasthtml.common import FastHTML, fast_app
from starlette.requests import Request
from starlette.testclient import TestClient

from byok.core.storage import BYOKManager
from byok.core.types import BYOKConfig
from byok.middleware import SecurityPolicy, setup_byok
from byok.routes import KeyRoutes, mount_key_routes
from tests.support import SECRET

__all__ = ["SECRET"]  # re-exported: the HTTP modules take it from here with the rest

ORIGIN = "http://testserver"  # the TestClient's origin
PREFIX = "/api/keys"  # default mount point
PROVIDERS = ("openai", "anthropic", "google")  # providers the test apps offer
OPENAI_KEY = "sk-proj-" + "a1B2c3D4" * 5  # fits OpenAI's pattern
ANTHROPIC_KEY = "sk-ant-" + "z9Y8x7W6" * 5  # fits Anthropic's pattern
GOOGLE_KEY = "AIza" + "Q1w2E3r4" * 5  # fits Google's pattern
KEYS = {"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY, "google": GOOGLE_KEY}
TOKEN = re.compile(r'"X-CSRF-Token":\s*"([^"]+)"')


async def good_verifier(provider: str, api_key: str) -> bool | str:
    """Accepts keys ending in '5' or 'z'... i.e. ours; rejects others with a reason."""
    return api_key in KEYS.values() or "The provider refused this key"


def make_app(
    *,
    providers: Sequence[str] = PROVIDERS,  # providers offered
    verifier: Any = good_verifier,  # the test route's verifier (None: built-in, False: none)
    policy: SecurityPolicy | None = None,  # shared by the beforeware and the routes
    skip: Sequence[str] | None = None,  # FastHTML skip regexes for the beforeware
    db: Any = None,  # database URL: keys in a database (needs user_id_func)
    user_id_func: Callable[[Any], Any] | None = None,  # request -> user id
    use_fast_app: bool = True,  # fast_app(...) or FastHTML(...)
    beforeware: bool = True,  # install setup_byok's beforeware
    mount: bool = True,  # mount the key routes
    config: BYOKConfig | None = None,  # manager configuration
    routes_kw: dict[str, Any] | None = None,  # more mount_key_routes arguments
    **app_kw: Any,  # more fast_app / FastHTML arguments
) -> tuple[FastHTML, BYOKManager, KeyRoutes | None]:
    """A test app: setup_byok + mount_key_routes, and /_stored listing the stored providers."""
    policy = policy or SecurityPolicy(is_production=False)
    before, manager = setup_byok(
        SECRET, db=db, user_id_func=user_id_func, config=config, policy=policy, skip=skip
    )
    kw = {"secret_key": SECRET, **app_kw}
    if beforeware:
        kw["before"] = before
    app = fast_app(**kw)[0] if use_fast_app else FastHTML(**kw)
    routes = None
    if mount:
        routes = mount_key_routes(
            app,
            manager,
            providers=providers,
            verifier=verifier,
            policy=policy,
            user_id_func=user_id_func,
            **(routes_kw or {}),
        )

    @app.get("/_stored")
    async def stored(req: Request) -> dict:
        user = user_id_func(req) if user_id_func else None
        return {"providers": manager.list_providers(req, user)}

    return app, manager, routes


class Page:
    """A browser tab on the test app: same-origin requests carrying the session's CSRF token."""

    def __init__(
        self,
        app: Any,  # the ASGI app
        base_url: str = ORIGIN,  # scheme and host the client talks to
        **client_kw: Any,  # more TestClient arguments
    ):
        self.client = TestClient(app, base_url=base_url, follow_redirects=False, **client_kw)
        self.origin = base_url
        self._token: str | None = None

    def token(self) -> str:
        """The session's CSRF token, read from the dashboard's hx-headers (created on first GET)."""
        if self._token is None:
            response = self.client.get(PREFIX, headers={"HX-Request": "true"})
            assert response.status_code == 200, response.text[:300]
            found = TOKEN.search(BeautifulSoup(response.text, "html.parser").decode(formatter=None))
            assert found, "no CSRF token in the dashboard"
            self._token = found.group(1)
        return self._token

    def headers(self, htmx: bool = True, **extra: str) -> dict[str, str]:
        """Headers of a same-origin htmx request with the token."""
        headers = {"Origin": self.origin, "Sec-Fetch-Site": "same-origin"}
        headers["X-CSRF-Token"] = self.token()
        if htmx:
            headers["HX-Request"] = "true"
        headers.update(extra)
        return headers

    def send(self, method: str, path: str, htmx: bool = True, **kw: Any) -> Any:
        """A same-origin request with the token (and HX-Request unless htmx=False)."""
        headers = {**self.headers(htmx), **kw.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kw)

    def save(self, provider: str, key: str, **kw: Any) -> Any:
        return self.send("POST", f"{PREFIX}/{provider}", data={"api_key": key}, **kw)

    def stored(self) -> list[str]:
        """Providers with a stored key for this tab's session."""
        response = self.client.get("/_stored")
        assert response.status_code == 200
        return response.json()["providers"]


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")
