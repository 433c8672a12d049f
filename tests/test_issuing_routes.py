"""The issued-key page through a real FastHTML app on a real SQLite issuer: create, reveal, roll,
revoke, delete, usage; two users and forged ids on every route; CSRF, HTTPS in production and the
htmx error contract as the key routes have them; hypothesis bodies never answer 500 and a
refused request changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fasthtml.common import fast_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.testclient import TestClient

from byok.components.wiring import CREATE_FORM_ID, ISSUED_TABLE_ID, TOAST_CONTAINER_ID
from byok.issuing import (
    ISSUED_KEY_PATTERN,
    KeyIssuer,
    KeyOwner,
    KeyPolicy,
    RateLimit,
    RevokedKeyError,
    RolledKeyError,
    mount_issuing_routes,
)
from byok.middleware import Refused, SecurityPolicy
from tests.support import SECRET, Clock

ORIGIN = "http://testserver"
PREFIX = "/account/api-keys"
SCOPES = {"read": "Read your notes", "write": "Create and change notes"}
USER = "user"  # the request header naming the signed-in user in these apps
_TOKEN = re.compile(r'"X-CSRF-Token":\s*"([^"]+)"')
_KEY = re.compile(r'value="(sk_live_[0-9A-Za-z]{49})"')
pytestmark = pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP")


@pytest.fixture
def issuer(tmp_path: Path, clock: Clock) -> Iterator[KeyIssuer]:
    iss = KeyIssuer(
        f"sqlite:///{tmp_path / 'keys.db'}",
        signing_secret=SECRET,
        environment="live",
        cache_ttl=0,
        clock=clock,
    )
    yield iss
    iss.close()


def make_app(issuer: KeyIssuer, policy: SecurityPolicy | None = None, **kw: Any) -> Any:
    """An app whose signed-in user is named by the `user` header (alice, bob; none: nobody)."""
    orgs = {name: issuer.get_or_create_organization(name)[0].id for name in ("alice", "bob")}

    async def owner(req: Request) -> KeyOwner | None:
        name = req.headers.get(USER)
        return KeyOwner(orgs[name], actor=name) if name in orgs else None

    app, _ = fast_app(secret_key=SECRET)
    mount_issuing_routes(
        app,
        issuer,
        owner=owner,
        scopes=SCOPES,
        policy=policy or SecurityPolicy(is_production=False),
        **kw,
    )
    app.state.orgs = orgs
    return app


class Browser:
    """One user's tab: same-origin htmx requests with the session's CSRF token."""

    def __init__(self, app: Any, user: str | None, base_url: str = ORIGIN) -> None:
        self.client = TestClient(app, base_url=base_url, follow_redirects=False)
        self.user = user
        first = self.client.get(PREFIX, headers=self.base({"HX-Request": "true"}))
        found = _TOKEN.search(first.text.replace("&quot;", '"'))
        self.token = found.group(1) if found else "none"

    def base(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**({USER: self.user} if self.user else {}), **(extra or {})}

    def h(self, htmx: bool = True, **extra: str) -> dict[str, str]:
        headers = {"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"}
        if htmx:
            headers["X-CSRF-Token"] = self.token
            headers["HX-Request"] = "true"
        return self.base({**headers, **extra})

    def create(self, name: str = "Prod", **fields: Any) -> tuple[str, str, Any]:
        """Create a key; (plaintext, id, response)."""
        data = {"name": name, "scopes": ["read"], "expires": "never", **fields}
        r = self.client.post(PREFIX, data=data, headers=self.h())
        assert r.status_code == 200, r.text[:400]
        plaintext = _KEY.search(r.text).group(1)
        kid = re.search(r'<tr data-byok-key="([0-9a-f-]{36})" class="bg-success/10"', r.text)
        return plaintext, kid.group(1), r


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


CHOICE = KeyPolicy(max_rate_limit=RateLimit(1000, "minute"))  # users choose up to 1,000/minute


@pytest.fixture
def app(issuer: KeyIssuer) -> Any:
    return make_app(issuer, key_policy=CHOICE)


def test_page_lists_nothing_then_create_reveals_once(app: Any, issuer: KeyIssuer) -> None:
    alice = Browser(app, "alice")
    page = alice.client.get(PREFIX, headers=alice.base())
    assert page.status_code == 200
    doc = soup(page.text)
    assert doc.find(id=CREATE_FORM_ID) and doc.find(id=ISSUED_TABLE_ID)
    assert doc.find(id=TOAST_CONTAINER_ID) and doc.find("script", src="/byok/byok.js")
    assert "No API keys yet" in page.text

    plaintext, kid, r = alice.create("Prod server", scopes=["read", "write"], rate_requests="5")
    doc = soup(r.text)
    assert doc.find(attrs={"data-byok-reveal": "shown"})  # the reveal (the target's content)
    table = doc.find(id=ISSUED_TABLE_ID)
    assert table["hx-swap-oob"] == "true" and table.find("tr", attrs={"data-byok-key": kid})
    assert doc.find(id=CREATE_FORM_ID)["hx-swap-oob"] == "true"  # a fresh form, errors gone
    assert "created" in doc.find(id=TOAST_CONTAINER_ID).get_text()
    assert r.headers["cache-control"] == "no-store"
    assert r.text.count(plaintext) == 1  # once, in the reveal; the table shows it masked
    assert f"sk_live_{plaintext[8:16]}…" in table.get_text()
    key = issuer.validate_key(plaintext, required_scopes=["read", "write"])
    assert key.id == kid and key.metadata.rate_limit.requests == 5
    assert key.org_id == app.state.orgs["alice"]
    # the plaintext is never stored or sent again
    again = alice.client.get(PREFIX, headers=alice.base())
    assert plaintext not in again.text and plaintext[8:16] in again.text
    assert all(plaintext not in v for v in alice.client.cookies.values())
    events = issuer.list_audit_events(app.state.orgs["alice"])
    assert events[0].actor == "alice" and events[0].action.value == "create"


def test_bad_fields_answer_422_with_the_typed_values_kept(app: Any, issuer: KeyIssuer) -> None:
    alice = Browser(app, "alice")
    data = {
        "name": "",
        "scopes": ["read", "admin"],
        "expires": "date",
        "expires_on": "2029-01-01",
        "rate_requests": "-3",
        "rate_window": "minute",
    }
    r = alice.client.post(PREFIX, data=data, headers=alice.h())
    assert r.status_code == 422
    assert r.headers["BYOK-Problem"] == "invalid"
    assert r.headers["HX-Retarget"] == f"#{CREATE_FORM_ID}"
    assert r.headers["HX-Reswap"] == "outerHTML"
    form = soup(r.text).find(id=CREATE_FORM_ID)
    messages = {m["id"]: m.get_text() for m in form.find_all(attrs={"role": "alert"})}
    assert "Give the key a name" in messages["byok-issued-validation-name"]
    assert "from the list" in messages["byok-issued-validation-scopes"]
    assert "after today" in messages["byok-issued-validation-expires"]
    assert "whole number" in messages["byok-issued-validation-rate_limit"]
    assert form.find("input", attrs={"name": "expires_on"})["value"] == "2029-01-01"
    assert form.find("input", attrs={"name": "rate_requests"})["value"] == "-3"
    assert form.find("input", attrs={"value": "read"}).has_attr("checked")
    assert form.find("option", attrs={"value": "date"}).has_attr("selected")
    assert form.find("input", attrs={"name": "name"})["aria-invalid"] == "true"
    assert issuer.list_org_keys(app.state.orgs["alice"]) == []  # nothing created

    r = alice.client.post(
        PREFIX,
        json={"name": "x", "scopes": []},
        headers=alice.h(False, Accept="application/json", **{"X-CSRF-Token": alice.token}),
    )
    assert r.status_code == 422 and "scopes" in r.json()["fields"]


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"name": "a" * 201}, "name", "200 characters"),
        ({"name": "tab\there"}, "name", "control characters"),
        ({"scopes": []}, "scopes", "at least one"),
        ({"expires": "13"}, "expires", "Choose when"),
        ({"expires": "date", "expires_on": "31/12/2031"}, "expires", "YYYY-MM-DD"),
        ({"expires": "date", "expires_on": "2045-01-01"}, "expires", "10 years"),
        ({"rate_requests": "10", "rate_window": "week"}, "rate_limit", "window"),
        ({"rate_requests": "1e3"}, "rate_limit", "whole number"),
        ({"rate_requests": "9" * 5000}, "rate_limit", "whole number"),
    ],
)
def test_each_field_error_is_named(app: Any, fields: dict, field: str, text: str) -> None:
    alice = Browser(app, "alice")
    data = {"name": "ok", "scopes": ["read"], **fields}
    r = alice.client.post(PREFIX, data=data, headers=alice.h())
    assert r.status_code == 422
    slot = soup(r.text).find(id=f"byok-issued-validation-{field}")
    assert slot is not None and text in slot.get_text(), r.text[:300]


def test_expiry_choices_and_dates(app: Any, issuer: KeyIssuer, clock: Clock) -> None:
    alice = Browser(app, "alice")
    _, in7, _ = alice.create("seven", expires="7")
    _, on, _ = alice.create("dated", expires="date", expires_on="2030-02-01")
    assert issuer.get_key(in7).metadata.expires_at == clock.now + timedelta(days=7)
    assert issuer.get_key(on).metadata.expires_at == datetime(2030, 2, 2, tzinfo=UTC)


def test_plain_form_posts_work_without_htmx(app: Any, issuer: KeyIssuer) -> None:
    alice = Browser(app, "alice")
    r = alice.client.post(
        PREFIX,
        data={"name": "cli", "scopes": "read", "csrf_token": alice.token},
        headers=alice.h(htmx=False),
    )
    assert r.status_code == 200 and "<html>" in r.text  # a page holding the one reveal
    plaintext = _KEY.search(r.text).group(1)
    kid = issuer.validate_key(plaintext).id
    r = alice.client.post(
        f"{PREFIX}/{kid}/revoke?status=active&page=1",
        data={"csrf_token": alice.token},
        headers=alice.h(htmx=False),
    )
    assert r.status_code == 303 and r.headers["location"] == f"{PREFIX}?status=active&page=1"
    with pytest.raises(RevokedKeyError):
        issuer.validate_key(plaintext)
    r = alice.client.get(f"{PREFIX}/{kid}/roll", headers=alice.base())
    assert r.status_code == 409  # a revoked key cannot be rolled
    r = alice.client.post(
        f"{PREFIX}/{kid}/delete", data={"csrf_token": alice.token}, headers=alice.h(htmx=False)
    )
    assert r.status_code == 303 and issuer.list_org_keys(app.state.orgs["alice"]) == []


def test_roll_keeps_the_old_key_for_its_grace_period(
    app: Any, issuer: KeyIssuer, clock: Clock
) -> None:
    alice = Browser(app, "alice")
    old, kid, _ = alice.create("Prod", scopes=["read", "write"])
    dialog = alice.client.get(f"{PREFIX}/{kid}/roll?status=all&page=1", headers=alice.h())
    assert dialog.status_code == 200
    box = soup(dialog.text).find("dialog")
    assert box.has_attr("data-byok-modal") and box.find("input", attrs={"value": "86400"})
    page = alice.client.get(f"{PREFIX}/{kid}/roll", headers=alice.base())  # without htmx
    assert soup(page.text).find("dialog").has_attr("open")

    r = alice.client.post(
        f"{PREFIX}/{kid}/roll?status=all&page=1", data={"grace": "3600"}, headers=alice.h()
    )
    assert r.status_code == 200
    new = _KEY.search(r.text).group(1)
    assert new != old and r.text.count(new) == 1
    doc = soup(r.text)
    assert doc.find(id="byok-issued-dialog")["hx-swap-oob"] == "innerHTML"  # closes the dialog
    assert "works for 1 hour" in doc.find(id=TOAST_CONTAINER_ID).get_text()
    assert doc.find(id=ISSUED_TABLE_ID).find(attrs={"data-byok-key-status": "expiring"})
    rolled = issuer.validate_key(new, required_scopes=["read", "write"])
    assert rolled.metadata.name == "Prod"
    clock.now += timedelta(minutes=59)
    assert issuer.validate_key(old).id == kid  # within the grace period
    clock.now += timedelta(minutes=2)
    with pytest.raises(Exception, match="expired"):
        issuer.validate_key(old)
    assert issuer.validate_key(new).id == rolled.id
    r = alice.client.post(f"{PREFIX}/{kid}/roll", data={"grace": "3600"}, headers=alice.h())
    assert r.status_code == 409 and r.headers["BYOK-Problem"] == "expired"


def test_a_key_already_rolled_is_offered_no_roll_and_refused_one(
    app: Any, issuer: KeyIssuer
) -> None:
    alice = Browser(app, "alice")
    _, kid, _ = alice.create("Prod")
    r = alice.client.post(f"{PREFIX}/{kid}/roll", data={"grace": "86400"}, headers=alice.h())
    assert r.status_code == 200
    new_id = issuer.get_key(kid).rolled_to
    table = soup(r.text).find(id=ISSUED_TABLE_ID)
    old_row = table.find("tr", attrs={"data-byok-key": kid})
    new_row = table.find("tr", attrs={"data-byok-key": new_id})
    assert old_row.find(attrs={"data-byok-key-status": "expiring"})  # still works: grace
    assert not old_row.find("a", href=re.compile("/roll"))  # the page offers no second roll
    assert new_row.find("a", href=re.compile(f"{new_id}/roll"))  # its successor may be rolled
    for method in ("get", "post"):
        r = getattr(alice.client, method)(
            f"{PREFIX}/{kid}/roll",
            **({"data": {"grace": "0"}} if method == "post" else {}),
            headers=alice.h(),
        )
        assert r.status_code == 409 and r.headers["BYOK-Problem"] == "rolled", method
    assert len(issuer.list_org_keys(app.state.orgs["alice"])) == 2  # nothing made
    with pytest.raises(RolledKeyError):  # the engine refuses what the page does not offer
        issuer.roll_key(kid)


def test_revoke_delete_and_usage_answer_the_table_in_its_view(app: Any, issuer: KeyIssuer) -> None:
    alice = Browser(app, "alice")
    plaintext, kid, _ = alice.create("A")
    for _ in range(3):
        issuer.validate_key(plaintext)
    usage = alice.client.get(f"{PREFIX}/{kid}/usage", headers=alice.h())
    assert "Used 3 times in the last 30 days" in usage.text
    days = alice.client.get(
        f"{PREFIX}/{kid}/usage?days=7", headers={USER: "alice", "Accept": "application/json"}
    )
    assert len(days.json()["days"]) == 7 and days.json()["days"][-1]["count"] == 3
    assert alice.client.get(f"{PREFIX}/{kid}/usage?days=0", headers=alice.h()).status_code == 400

    r = alice.client.post(f"{PREFIX}/{kid}/revoke?status=active&page=1", headers=alice.h())
    assert r.status_code == 200
    table = soup(r.text).find(id=ISSUED_TABLE_ID)
    assert table["data-byok-view"] == "active,1" and "No active keys." in table.get_text()
    assert "revoked" in soup(r.text).find(id=TOAST_CONTAINER_ID).get_text()
    r = alice.client.delete(f"{PREFIX}/{kid}?status=revoked&page=1", headers=alice.h())
    assert r.status_code == 200 and "No revoked keys." in r.text
    assert issuer.list_org_keys(app.state.orgs["alice"]) == []


def test_filters_and_pages(issuer: KeyIssuer, clock: Clock) -> None:
    app = make_app(issuer, per_page=4)
    alice = Browser(app, "alice")
    ids = []
    for i in range(10):
        clock.now += timedelta(seconds=1)
        ids.append(alice.create(f"key {i}")[1])
    alice.client.post(f"{PREFIX}/{ids[0]}/revoke", headers=alice.h())
    r = alice.client.get(f"{PREFIX}?status=all&page=3", headers=alice.h())
    rows = soup(r.text).find_all("tr", attrs={"data-byok-key": True})
    assert [row["data-byok-key"] for row in rows] == [ids[1], ids[0]]  # newest first
    assert "9–10 of 10" in r.text and 'aria-current="page" aria-label="Page 3"' in r.text
    r = alice.client.get(f"{PREFIX}?status=revoked", headers=alice.h())
    assert [
        t["data-byok-key"] for t in soup(r.text).find_all("tr", attrs={"data-byok-key": True})
    ] == [ids[0]]
    assert "Active (9)" in r.text and "Revoked (1)" in r.text
    r = alice.client.get(f"{PREFIX}?page=99", headers=alice.h())  # past the end: the last page
    assert "9–10 of 10" in r.text
    listed = alice.client.get(
        f"{PREFIX}?status=active", headers={USER: "alice", "Accept": "application/json"}
    )
    assert len(listed.json()["keys"]) == 9
    for bad in ("?status=nope", "?page=0", "?page=x", "?page=" + "9" * 50):
        assert alice.client.get(PREFIX + bad, headers=alice.h()).status_code == 400


def test_two_users_never_see_or_touch_each_others_keys(app: Any, issuer: KeyIssuer) -> None:
    alice, bob = Browser(app, "alice"), Browser(app, "bob")
    secret, kid, _ = alice.create("alice's")
    mine = bob.create("bob's")[1]
    assert kid not in bob.client.get(PREFIX, headers=bob.base()).text
    listed = bob.client.get(PREFIX, headers={USER: "bob", "Accept": "application/json"}).json()
    assert [k["id"] for k in listed["keys"]] == [mine]
    forged = [
        kid,
        kid.upper(),
        "00000000-0000-4000-8000-000000000000",
        "not-a-uuid",
        "..",
        "%2e%2e",
    ]
    for target in forged:
        for method, path in (
            ("get", f"{PREFIX}/{target}/roll"),
            ("post", f"{PREFIX}/{target}/roll"),
            ("post", f"{PREFIX}/{target}/revoke"),
            ("delete", f"{PREFIX}/{target}"),
            ("post", f"{PREFIX}/{target}/delete"),
            ("get", f"{PREFIX}/{target}/usage"),
        ):
            r = bob.client.request(
                method, path, headers=bob.h(), data={"grace": "0"} if method == "post" else None
            )
            assert r.status_code == 404, (method, path, r.status_code)
            if "." in target or "%" in target:  # resolved away from our routes by the client
                continue
            assert r.headers.get("BYOK-Problem") == "not_found"
            assert r.headers["HX-Retarget"] == f"#{TOAST_CONTAINER_ID}"
    assert issuer.validate_key(secret).id == kid  # untouched, not rolled
    assert len(issuer.list_org_keys(app.state.orgs["alice"])) == 1
    assert issuer.list_audit_events(app.state.orgs["alice"])[0].action.value == "create"


def test_nobody_signed_in_is_401_on_every_route(app: Any, issuer: KeyIssuer) -> None:
    anon = Browser(app, "alice")  # a session with its CSRF token, then signed out
    kid = anon.create()[1]
    anon.user = None
    for method, path in (
        ("get", PREFIX),
        ("post", PREFIX),
        ("get", f"{PREFIX}/{kid}/roll"),
        ("post", f"{PREFIX}/{kid}/roll"),
        ("post", f"{PREFIX}/{kid}/revoke"),
        ("delete", f"{PREFIX}/{kid}"),
        ("get", f"{PREFIX}/{kid}/usage"),
    ):
        r = anon.client.request(method, path, headers=anon.h())
        assert r.status_code == 401 and r.headers["BYOK-Problem"] == "sign_in", (method, path)
    assert issuer.get_key(kid).revoked_at is None


WRITES = (
    ("post", PREFIX, {"name": "x", "scopes": "read"}),
    ("post", "{key}/roll", {"grace": "0"}),
    ("post", "{key}/revoke", {}),
    ("delete", "{key}", None),
    ("post", "{key}/delete", {}),
)


def no_browser_word(headers: dict[str, str]) -> dict[str, str]:
    """The headers without Origin and Sec-Fetch-Site: no browser vouches for the request, so the
    session's token is the only proof (a same-origin browser request needs none)."""
    return {k: v for k, v in headers.items() if k not in ("Origin", "Sec-Fetch-Site")}


def test_writes_need_the_csrf_token_and_the_same_origin(app: Any, issuer: KeyIssuer) -> None:
    alice = Browser(app, "alice")
    secret, kid, _ = alice.create()
    for method, path, data in WRITES:
        url = path.replace("{key}", f"{PREFIX}/{kid}")
        for headers, code in (
            (no_browser_word(alice.h(**{"X-CSRF-Token": "forged"})), "csrf_token"),
            (
                {**alice.h(), "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
                "csrf",
            ),
        ):
            r = alice.client.request(method, url, headers=headers, data=data)
            assert r.status_code == 403, (method, url)
            assert r.headers["BYOK-Problem"] == code
            assert r.headers["HX-Retarget"] == f"#{TOAST_CONTAINER_ID}"
    assert issuer.validate_key(secret).id == kid
    assert len(issuer.list_org_keys(app.state.orgs["alice"])) == 1


def test_check_runs_the_routes_checks_for_a_route_of_your_own(issuer: KeyIssuer) -> None:
    """IssuingRoutes.check: the same CSRF / origin refusals on an app's own route beside them."""
    orgs = {"alice": issuer.get_or_create_organization("alice")[0].id}
    app, rt = fast_app(secret_key=SECRET)
    routes = mount_issuing_routes(
        app,
        issuer,
        owner=lambda req: orgs.get(req.headers.get(USER, "")),
        scopes=SCOPES,
        policy=SecurityPolicy(is_production=False),
    )

    @rt("/mine", methods=["post"])
    def mine(req: Request, data: dict) -> Any:
        try:
            routes.check(req, data)
        except Refused as refused:
            return refused.response
        return "done"

    alice = Browser(app, "alice")
    assert alice.client.post("/mine", headers=alice.h()).text == "done"
    form = alice.client.post("/mine", data={"csrf_token": alice.token}, headers=alice.h(False))
    assert form.text == "done"
    for headers, code in (
        (no_browser_word(alice.h(**{"X-CSRF-Token": "forged"})), "csrf_token"),
        ({**alice.h(), "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, "csrf"),
    ):
        r = alice.client.post("/mine", headers=headers)
        assert r.status_code == 403 and r.headers["BYOK-Problem"] == code
        assert r.text != "done"


def test_production_refuses_plain_http_and_secures_the_cookie(issuer: KeyIssuer) -> None:
    app = make_app(issuer, SecurityPolicy(is_production=True))
    plain = TestClient(app, base_url="http://testserver")
    r = plain.get(PREFIX, headers={USER: "alice"})
    assert r.status_code == 403 and "HTTPS" in r.text
    r = plain.post(PREFIX, headers={USER: "alice", "HX-Request": "true"}, data={"name": "x"})
    assert r.status_code == 403 and r.headers["BYOK-Problem"] == "insecure_transport"
    secure = Browser(app, "alice", base_url="https://testserver")
    assert secure.client.get(PREFIX, headers=secure.base()).status_code == 200
    assert (
        "secure"
        in secure.client.get(PREFIX, headers=secure.base())
        .headers.get("set-cookie", "secure")
        .lower()
    )
    assert issuer.list_org_keys(app.state.orgs["alice"]) == []


def test_database_down_is_503_never_500(app: Any, issuer: KeyIssuer) -> None:
    alice = Browser(app, "alice")
    kid = alice.create()[1]
    issuer.close()
    for method, path in (("get", PREFIX), ("post", f"{PREFIX}/{kid}/revoke"), ("post", PREFIX)):
        data = {"name": "x", "scopes": "read"} if path == PREFIX else None
        r = alice.client.request(method, path, headers=alice.h(), data=data)
        assert r.status_code == 503 and r.headers["BYOK-Problem"] == "storage", (method, path)


def test_mount_refuses_bad_configuration(issuer: KeyIssuer) -> None:
    app, _ = fast_app(secret_key=SECRET)
    with pytest.raises(ValueError):
        mount_issuing_routes(app, issuer, "relative", owner=lambda r: None, scopes=SCOPES)
    with pytest.raises(ValueError):
        mount_issuing_routes(app, issuer, owner=lambda r: None, scopes={})
    with pytest.raises(TypeError):
        mount_issuing_routes(app, "sqlite://", owner=lambda r: None, scopes=SCOPES)
    with pytest.raises(ValueError):
        mount_issuing_routes(app, issuer, owner=lambda r: None, scopes=SCOPES, per_page=0)
    with pytest.raises(ValueError):
        mount_issuing_routes(app, issuer, owner=lambda r: None, scopes={"bad scope": ""})


def test_environments_issue_keys_of_their_own_format(tmp_path: Path, clock: Clock) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    live = KeyIssuer(url, signing_secret=SECRET, environment="live", clock=clock)
    test = KeyIssuer(url, signing_secret=SECRET, environment="test", clock=clock)
    org = live.get_or_create_organization("alice")[0].id
    app, _ = fast_app(secret_key=SECRET)
    mount_issuing_routes(
        app,
        {"live": live, "test": test},
        owner=lambda r: org,
        scopes=SCOPES,
        policy=SecurityPolicy(is_production=False),
    )
    tab = Browser(app, None)
    page = tab.client.get(PREFIX)
    assert soup(page.text).find("select", attrs={"name": "environment"})
    data = {"name": "ci", "scopes": "read", "environment": "test"}
    r = tab.client.post(PREFIX, data=data, headers=tab.h())
    plaintext = re.search(r'value="(sk_test_[0-9A-Za-z]{49})"', r.text).group(1)
    key = test.validate_key(plaintext)
    assert key.metadata.custom == {"environment": "test"} and "sk_test_" in r.text
    r = tab.client.post(f"{PREFIX}/{key.id}/roll", data={"grace": "0"}, headers=tab.h())
    assert ISSUED_KEY_PATTERN.search(r.text).group(0).startswith("sk_test_")
    bad = tab.client.post(PREFIX, data={**data, "environment": "prod"}, headers=tab.h())
    assert bad.status_code == 422 and "environment" in bad.text
    live.close()
    test.close()


BODIES = st.dictionaries(
    st.sampled_from(
        ["name", "scopes", "expires", "expires_on", "rate_requests", "rate_window", "grace", "x"]
    ),
    st.one_of(
        st.text(max_size=30),
        st.lists(st.text(max_size=10), max_size=3),
        st.sampled_from(["7", "date", "2031-01-01", "read", "3600", "minute", "0", "-1"]),
    ),
    max_size=7,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=BODIES, route=st.sampled_from(["", "/{key}/roll", "/{key}/revoke"]), as_json=st.booleans()
)
def test_random_bodies_never_answer_500(
    issuer: KeyIssuer, body: dict, route: str, as_json: bool
) -> None:
    app = make_app(issuer)
    alice = Browser(app, "alice")
    org = app.state.orgs["alice"]
    before = len(issuer.list_org_keys(org))
    kid = issuer.list_org_keys(org)[0].id if before else alice.create()[1]
    before = {(k.id, k.revoked_at, k.metadata.expires_at) for k in issuer.list_org_keys(org)}
    url = PREFIX + route.replace("{key}", f"/{kid}")
    if as_json:
        r = alice.client.post(
            url,
            json=body,
            headers=alice.h(False, Accept="application/json", **{"X-CSRF-Token": alice.token}),
        )
    else:
        r = alice.client.post(url, data=body, headers=alice.h())
    assert r.status_code < 500, r.text[:300]
    if r.status_code >= 400:  # nothing changed on a refusal
        after = {(k.id, k.revoked_at, k.metadata.expires_at) for k in issuer.list_org_keys(org)}
        assert after == before


def _no_store(r: Any) -> bool:
    return r.headers.get("cache-control") == "no-store" and r.headers.get("pragma") == "no-cache"


def test_every_answer_that_may_hold_the_key_is_no_store(app: Any, issuer: KeyIssuer) -> None:
    """The page (its form fills the reveal), the reveal, the roll dialog's page: no cache, and
    no back/forward cache, keeps them; the reveal keeps htmx from snapshotting the page."""
    alice = Browser(app, "alice")
    json = {"Accept": "application/json"}
    answers = {
        "page": alice.client.get(PREFIX, headers=alice.base()),
        "table": alice.client.get(PREFIX, headers=alice.base({"HX-Request": "true"})),
        "json list": alice.client.get(PREFIX, headers=alice.base(json)),
        "refused form page": alice.client.post(
            PREFIX, data={"name": "", "csrf_token": alice.token}, headers=alice.h(htmx=False)
        ),
    }
    _, kid, answers["create (htmx)"] = alice.create("Prod")
    answers["create (page)"] = alice.client.post(
        PREFIX,
        data={"name": "page", "scopes": "read", "csrf_token": alice.token},
        headers=alice.h(htmx=False),
    )
    answers["create (json)"] = alice.client.post(
        PREFIX,
        json={"name": "json", "scopes": ["read"]},
        headers=alice.h(False, **json, **{"X-CSRF-Token": alice.token}),
    )
    assert answers["create (json)"].json()["key"].startswith("sk_live_")
    answers["roll dialog page"] = alice.client.get(f"{PREFIX}/{kid}/roll", headers=alice.base())
    answers["roll (page)"] = alice.client.post(
        f"{PREFIX}/{kid}/roll",
        data={"grace": "0", "csrf_token": alice.token},
        headers=alice.h(htmx=False),
    )
    _, kid2, _ = alice.create("Second")
    answers["roll (htmx)"] = alice.client.post(
        f"{PREFIX}/{kid2}/roll", data={"grace": "0"}, headers=alice.h()
    )
    assert {name: r.status_code for name, r in answers.items() if r.status_code >= 300} == {
        "refused form page": 422
    }
    assert [name for name, r in answers.items() if not _no_store(r)] == []
    for name in ("create (htmx)", "create (page)", "roll (page)", "roll (htmx)"):
        secret = soup(answers[name].text).find(attrs={"data-byok-reveal-secret": True})
        assert secret["hx-history"] == "false", name  # htmx keeps no snapshot while it is shown
        assert _KEY.search(str(secret)), name


@pytest.mark.parametrize("header", ["HX-Boosted", "HX-History-Restore-Request"])
def test_a_boosted_or_history_restore_request_gets_the_whole_page(app: Any, header: str) -> None:
    """htmx swaps these into the body: the page, not only its table (which a fragment is)."""
    alice = Browser(app, "alice")
    r = alice.client.get(PREFIX, headers=alice.base({"HX-Request": "true", header: "true"}))
    assert r.status_code == 200 and _no_store(r)
    doc = soup(r.text)
    assert doc.find(id=CREATE_FORM_ID) and doc.find(id=ISSUED_TABLE_ID)
    fragment = alice.client.get(PREFIX, headers=alice.base({"HX-Request": "true"}))
    assert not soup(fragment.text).find(id=CREATE_FORM_ID)  # the table's own links: the table
