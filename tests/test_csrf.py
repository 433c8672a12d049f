"""CSRF: every cross-site write is refused (403), same-origin writes pass, and the key routes
need the session's token. The cases are counted for the closing report."""

from __future__ import annotations

from typing import Any

import pytest
from fasthtml.common import FastHTML
from starlette.testclient import TestClient

from byok.middleware import SecurityPolicy
from byok.middleware.csrf import normalize_origin, normalize_origins, origin_refusal
from tests.support.routes import GOOGLE_KEY, OPENAI_KEY, ORIGIN, PREFIX, Page, make_app

pytestmark = pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP")

EVIL = "https://evil.example"
CROSS_SITE: dict[
    str, dict[str, str]
] = {  # header sets a browser sends for a foreign page's request
    "fetch-cross-site+origin": {"Sec-Fetch-Site": "cross-site", "Origin": EVIL},
    "fetch-cross-site-only": {"Sec-Fetch-Site": "cross-site"},
    "fetch-same-site-sibling": {"Sec-Fetch-Site": "same-site", "Origin": "http://sub.testserver"},
    "origin-foreign": {"Origin": EVIL},
    "origin-null": {"Origin": "null"},
    "origin-other-port": {"Origin": "http://testserver:8080"},
    "origin-suffix-trick": {"Origin": "http://testserver.evil.example"},
    "origin-userinfo-trick": {"Origin": "http://testserver@evil.example"},
    "origin-foreign-referer-same": {"Origin": EVIL, "Referer": f"{ORIGIN}/page"},
    "referer-foreign": {"Referer": f"{EVIL}/attack"},
    "referer-query-trick": {"Referer": f"{EVIL}/?{ORIGIN}"},
    "fetch-unknown+origin-foreign": {"Sec-Fetch-Site": "weird", "Origin": EVIL},
    "fetch-cross-site+origin-same": {"Sec-Fetch-Site": "cross-site", "Origin": ORIGIN},
    "origin-bad-scheme": {"Origin": "ftp://testserver"},
}
SAME_SITE: dict[
    str, dict[str, str]
] = {  # header sets of the app's own pages and non-browser clients
    "fetch-same-origin": {"Sec-Fetch-Site": "same-origin", "Origin": ORIGIN},
    "fetch-none": {"Sec-Fetch-Site": "none"},
    "origin-same": {"Origin": ORIGIN},
    "origin-default-port": {"Origin": "http://testserver:80"},
    "origin-upper-case": {"Origin": "HTTP://TESTSERVER"},
    "referer-same": {"Referer": f"{ORIGIN}/settings"},
    "no-browser-headers": {},
}
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
COUNTS = {"cross_site": 0, "cross_site_refused": 0, "same_site": 0, "same_site_passed": 0}


def _app() -> tuple[FastHTML, Page]:
    app, _, _ = make_app()

    @app.route("/echo", methods=list(UNSAFE))
    def echo(req):
        return f"changed by {req.method}"

    return app, Page(app)


def _key_requests(page: Page) -> list[tuple[str, str, dict[str, str]]]:
    """(method, path, form) of every key-route write."""
    return [
        ("POST", f"{PREFIX}/openai", {"api_key": OPENAI_KEY}),
        ("POST", PREFIX, {"provider": "google", "api_key": GOOGLE_KEY}),
        ("DELETE", f"{PREFIX}/openai", {}),
        ("POST", f"{PREFIX}/openai/test", {}),
    ]


@pytest.mark.parametrize("case", list(CROSS_SITE))
def test_cross_site_writes_are_refused(case: str) -> None:
    _, page = _app()
    token = page.token()
    headers = CROSS_SITE[case]
    for method in UNSAFE:  # any route of the app, through the beforeware
        response = page.client.request(method, "/echo", headers=headers)
        COUNTS["cross_site"] += 1
        assert response.status_code == 403, (method, case)
        COUNTS["cross_site_refused"] += 1
        assert "changed" not in response.text
    for method, path, form in _key_requests(page):  # key routes, even with a valid token
        for htmx in (True, False):
            extra = {"X-CSRF-Token": token, **({"HX-Request": "true"} if htmx else {})}
            response = page.client.request(method, path, data=form, headers={**headers, **extra})
            COUNTS["cross_site"] += 1
            assert response.status_code == 403, (method, path, case)
            COUNTS["cross_site_refused"] += 1
    assert page.stored() == []


@pytest.mark.parametrize("case", list(SAME_SITE))
def test_same_site_writes_pass(case: str) -> None:
    _, page = _app()
    token = page.token()
    headers = SAME_SITE[case]
    for method in UNSAFE:
        response = page.client.request(method, "/echo", headers=headers)
        COUNTS["same_site"] += 1
        assert response.status_code == 200 and f"changed by {method}" in response.text, case
        COUNTS["same_site_passed"] += 1
    for method, path, form in _key_requests(page):
        extra = {"X-CSRF-Token": token, "HX-Request": "true"}
        response = page.client.request(method, path, data=form, headers={**headers, **extra})
        COUNTS["same_site"] += 1
        assert response.status_code == 200, (method, path, case, response.text[:200])
        COUNTS["same_site_passed"] += 1
    assert page.stored() == ["google"]  # openai: saved then deleted; google: saved


def test_safe_methods_are_never_refused() -> None:
    _, page = _app()
    for headers in CROSS_SITE.values():
        assert page.client.get(PREFIX, headers=headers).status_code == 200
        assert page.client.head("/_stored", headers=headers).status_code in (200, 405)


def test_trusted_origins_may_post() -> None:
    app, _, _ = make_app(policy=SecurityPolicy(is_production=False, trusted_origins=[EVIL]))
    page = Page(app)
    headers = {"Sec-Fetch-Site": "cross-site", "Origin": EVIL}
    assert page.save("openai", OPENAI_KEY, headers=headers).status_code == 200
    other = {"Sec-Fetch-Site": "cross-site", "Origin": "https://other.example"}
    assert page.save("openai", OPENAI_KEY, headers=other).status_code == 403


def test_trusted_origins_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("BYOK_TRUSTED_ORIGINS", "https://a.example, b.example:8443")
    policy = SecurityPolicy()
    assert policy._origins == frozenset({"a.example", "b.example:8443"})


# --------------------------------------------------------------------------- the token


def _save(page: Page, headers: dict[str, str], data: dict[str, Any] | None = None) -> Any:
    """A save with no proof of origin (no browser header vouches for it): only the token counts."""
    return page.client.post(
        f"{PREFIX}/openai", data=data or {"api_key": OPENAI_KEY}, headers=headers
    )


NO_PROOF: dict[str, dict[str, str]] = {  # writes no browser vouches for: the token is needed
    "no-browser-headers": {},
    "referer-same-only": {"Referer": f"{ORIGIN}/settings"},
    "fetch-none": {"Sec-Fetch-Site": "none"},
    "fetch-none+origin-same": {"Sec-Fetch-Site": "none", "Origin": ORIGIN},
    "fetch-unknown+origin-same": {"Sec-Fetch-Site": "weird", "Origin": ORIGIN},
}
PROOF: dict[str, dict[str, str]] = {  # a browser saying the page is this site's own
    "fetch-same-origin": {"Sec-Fetch-Site": "same-origin"},
    "fetch-same-origin+origin": {"Sec-Fetch-Site": "same-origin", "Origin": ORIGIN},
    "origin-same-without-fetch-metadata": {"Origin": ORIGIN},
    "origin-default-port": {"Origin": "http://testserver:80"},
}


@pytest.mark.parametrize("case", list(NO_PROOF))
@pytest.mark.parametrize(
    ("headers", "data"),
    [
        ({}, None),  # no token at all
        ({"X-CSRF-Token": ""}, None),
        ({"X-CSRF-Token": "forged-token-0123456789abcdef0123456789"}, None),
        ({}, {"api_key": OPENAI_KEY, "csrf_token": ["a", "b"]}),
        ({}, {"api_key": OPENAI_KEY, "csrf_token": ""}),
    ],
    ids=["missing", "empty", "forged", "repeated-field", "empty-field"],
)
def test_key_routes_refuse_a_missing_or_wrong_token(
    headers: dict, data: dict | None, case: str
) -> None:
    """Without a browser's same-origin word, a write needs this session's token."""
    _, page = _app()
    page.token()
    response = _save(page, {**NO_PROOF[case], **headers}, data)
    assert response.status_code == 403 and "reload the page" in response.text
    assert page.stored() == []


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain-form"])
@pytest.mark.parametrize("case", list(PROOF))
def test_same_origin_writes_need_no_token(case: str, htmx: bool) -> None:
    """A form pasted into any page of the app (no token on it) saves: the browser's
    Sec-Fetch-Site: same-origin, or its Origin without Fetch Metadata, is the proof."""
    _, page = _app()
    headers = {**PROOF[case], **({"HX-Request": "true"} if htmx else {})}
    response = _save(page, headers)
    assert response.status_code == (200 if htmx else 303), response.text[:300]
    assert page.stored() == ["openai"]


def test_a_trusted_other_origin_still_needs_the_token() -> None:
    """trusted_origins lets another origin past the origin check; it is not same-origin proof."""
    app, _, _ = make_app(policy=SecurityPolicy(is_production=False, trusted_origins=[EVIL]))
    page = Page(app)
    page.token()
    for fetch in ({"Sec-Fetch-Site": "cross-site"}, {}):
        headers = {**fetch, "Origin": EVIL, "HX-Request": "true"}
        assert _save(page, headers).status_code == 403
    assert page.stored() == []


def test_a_token_from_another_session_is_refused() -> None:
    app, page = _app()
    other = Page(app)
    response = _save(page, {"X-CSRF-Token": other.token()})
    assert response.status_code == 403  # this session has no token yet
    page.token()
    assert _save(page, {"X-CSRF-Token": other.token()}).status_code == 403
    assert page.stored() == [] and other.stored() == []


def test_token_in_the_form_field_works_for_plain_forms() -> None:
    _, page = _app()
    response = _save(page, {}, {"api_key": OPENAI_KEY, "csrf_token": page.token()})
    assert response.status_code == 303 and page.stored() == ["openai"]


def test_csrf_can_be_switched_off() -> None:
    app, _, _ = make_app(policy=SecurityPolicy(is_production=False, csrf=False))
    client = TestClient(app, follow_redirects=False)
    assert (
        client.post(
            f"{PREFIX}/openai", data={"api_key": OPENAI_KEY}, headers={"Origin": EVIL}
        ).status_code
        == 303
    )


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://App.Example.com", "app.example.com"),
        ("https://app.example.com:443", "app.example.com"),
        ("http://app.example.com:80/path?q", "app.example.com"),
        ("http://app.example.com:443", "app.example.com:443"),
        ("https://[::1]:8443", "[::1]:8443"),
        ("http://user@host.example", "host.example"),
        ("null", None),
        ("javascript:alert(1)", None),
        ("ftp://x.example", None),
        ("http://[::1", None),
        ("", None),
    ],
)
def test_normalize_origin(value: str, expected: str | None) -> None:
    assert normalize_origin(value) == expected


def test_origin_refusal_without_a_request_object_mapping() -> None:
    from starlette.requests import Request

    def req(method: str, headers: dict[str, str]) -> Request:
        raw = [
            (k.lower().encode(), v.encode()) for k, v in {"host": "a.example", **headers}.items()
        ]
        return Request({"type": "http", "method": method, "headers": raw, "path": "/"})

    assert origin_refusal(req("GET", {"Origin": EVIL})) is None
    assert origin_refusal(req("POST", {"Origin": "https://a.example"})) is None
    assert "Origin" in origin_refusal(req("POST", {"Origin": EVIL}))
    trusted = normalize_origins(["https://evil.example"])
    assert origin_refusal(req("POST", {"Origin": EVIL}), trusted) is None
    assert origin_refusal(req("POST", {"Origin": EVIL}), ["evil.example"]) is None


def test_the_whole_matrix_counted() -> None:
    """Every cross-site case refused, every same-site case passed, counted in one run."""
    COUNTS.update(dict.fromkeys(COUNTS, 0))
    for case in CROSS_SITE:
        test_cross_site_writes_are_refused(case)
    for case in SAME_SITE:
        test_same_site_writes_pass(case)
    assert COUNTS["cross_site"] == COUNTS["cross_site_refused"] == len(CROSS_SITE) * (4 + 8)
    assert COUNTS["same_site"] == COUNTS["same_site_passed"] == len(SAME_SITE) * (4 + 4)
