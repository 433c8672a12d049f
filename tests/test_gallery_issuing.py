"""The playground's "Issue keys" section without a browser: the section on the page, the sample
API behind require_scopes, and the try-it panel (curl with the key masked, rate-limit headers,
200 → 429, 403 after revoking or for a missing scope, CSRF checked, bad input never a 500).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from starlette.testclient import TestClient

from gallery import app as gallery_app
from gallery.live.issuing_playground import API_URL, ISSUE_URL, TRY_URL
from tests.support import SECRET

_TOKEN = re.compile(r'"X-CSRF-Token": "([^"]+)"')
_KEY = re.compile(r'value="(demo_test_[0-9A-Za-z]{49})"')


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    app = gallery_app.create_app(db_url=f"sqlite:///{tmp_path / 'g.db'}", secret_key=SECRET)
    return TestClient(app, base_url="http://testserver")


def headers(client: TestClient) -> dict[str, str]:
    page = client.get("/playground").text.replace("&quot;", '"')
    token = _TOKEN.search(page).group(1)
    origin = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    return {"HX-Request": "true", "X-CSRF-Token": token, **origin}


def status_of(r) -> str:
    return re.search(r'data-tryit="(\d+)"', r.text).group(1)


def test_section_is_on_the_playground(client: TestClient) -> None:
    doc = BeautifulSoup(client.get("/playground").text, "html.parser")
    section = doc.find(id="issue-keys")
    assert section.find(id="byok-create-key-form") and section.find(id="byok-issued-keys")
    assert section.find(id="tryit-key")["type"] == "password"
    assert section.find("input", attrs={"name": "rate_requests"})["value"] == "3"
    assert len(doc.find_all(id="toast-container")) == 1  # the dashboard's, shared


def test_try_it_shows_200_then_429_then_403(client: TestClient) -> None:
    h = headers(client)
    data = {"name": "k", "scopes": "notes:read", "rate_requests": "3", "rate_window": "minute"}
    made = client.post(ISSUE_URL, data=data, headers=h)
    key = _KEY.search(made.text).group(1)
    kid = re.search(r'data-byok-key="([0-9a-f-]{36})"', made.text).group(1)
    answers = [client.post(TRY_URL, data={"key": key, "call": "get"}, headers=h) for _ in range(4)]
    assert [status_of(r) for r in answers] == ["200", "200", "200", "429"]
    first, last = answers[0].text, answers[-1].text
    assert f"Bearer {key[:18]}…" in first and key not in first  # the curl line, masked
    assert "ratelimit-limit: 3" in first and "notes" in first
    assert "retry-after:" in last and "ratelimit-remaining: 0" in last and "rate_limited" in last
    assert status_of(client.post(TRY_URL, data={"key": key, "call": "post"}, headers=h)) == "403"
    client.post(f"{ISSUE_URL}/{kid}/revoke", headers=h)
    revoked = client.post(TRY_URL, data={"key": key, "call": "get"}, headers=h)
    assert status_of(revoked) == "403" and "revoked_key" in revoked.text
    typo = key[:-1] + ("y" if key[-1] != "y" else "z")  # fails the checksum
    mistyped = client.post(TRY_URL, data={"key": typo, "call": "get"}, headers=h)
    assert status_of(mistyped) == "401"


def test_the_sample_api_is_really_guarded(client: TestClient) -> None:
    assert client.get(API_URL).status_code == 401
    assert client.get(API_URL, headers={"Authorization": "Bearer nope"}).status_code == 401
    for raw in (b"demo_test_\xc3\xa9", b"\xff\xfe", "é".encode("latin-1")):  # not ASCII
        for sent in ({"Authorization": b"Bearer " + raw}, {"X-API-Key": raw}):
            r = client.get(API_URL, headers=sent)
            assert r.status_code == 401 and r.json()["error"] == "invalid_key"


def test_try_it_checks_csrf_and_bad_input(client: TestClient) -> None:
    h = headers(client)
    refused = client.post(TRY_URL, data={"key": "x"}, headers={"HX-Request": "true"})
    assert refused.status_code == 403 and refused.headers["BYOK-Problem"] == "csrf_token"
    for body in ({}, {"key": "x", "call": "delete"}, {"key": ["a", "b"]}, {"key": "x" * 5000}):
        r = client.post(TRY_URL, data=body, headers=h)
        assert r.status_code == 200 and "<script" not in r.text


def _made_key(client: TestClient, h: dict[str, str]) -> str:
    made = client.post(ISSUE_URL, data={"name": "k", "scopes": "notes:read"}, headers=h)
    return _KEY.search(made.text).group(1)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: key[:-1] + "é",  # a real key, one character mistyped as a non-ASCII one
        lambda key: key[:12] + "ключ" + key[16:],
        lambda key: "demo_test_" + "é" * 49,
        lambda key: key + "\u2028x",  # a line separator: non-ASCII too
        lambda key: "🔑",
    ],
    ids=["mistyped", "cyrillic", "all-accented", "line-separator", "emoji"],
)
def test_try_it_with_a_non_ascii_key_is_the_guards_401(client: TestClient, mangle) -> None:
    """The key goes out as its UTF-8 bytes (as curl sends it): the guard answers 401, no 500."""
    h = headers(client)
    key = mangle(_made_key(client, h))
    r = client.post(TRY_URL, data={"key": key, "call": "get"}, headers=h)
    assert r.status_code == 200 and status_of(r) == "401"
    assert "invalid_key" in r.text and "Bearer " in r.text


@pytest.mark.parametrize("raw", [b"%ED%A0%80", b"%FF%FE", b"demo_test_%C3%A9%00"])
def test_try_it_with_undecodable_bytes_is_the_guards_401(client: TestClient, raw: bytes) -> None:
    """A form body whose key is not UTF-8 (a lone surrogate, stray bytes): still the 401."""
    h = {**headers(client), "Content-Type": "application/x-www-form-urlencoded"}
    r = client.post(TRY_URL, content=b"call=get&key=" + raw, headers=h)
    assert r.status_code == 200 and status_of(r) == "401" and "invalid_key" in r.text
