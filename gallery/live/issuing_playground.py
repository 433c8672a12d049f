"""The playground's "Issue keys" section: a real `KeyIssuer` on the gallery's SQLite database
behind the project's own issued-key page (`byok.issuing.mount_issuing_routes`), and a try-it
panel that calls a sample API of the gallery guarded by `require_scopes`.

Create a key (it is shown once: copy it), paste it into the try-it panel and send requests: the
panel shows the request as a curl command (the key masked), the status, the rate-limit headers
and the JSON answer — 200 while the key works, 429 once its limit (3 a minute by default) is
spent, 403 after revoking it or for a scope it lacks, 401 for a mistyped key. The request really
goes through the app (in process, over ASGI), so the guard, the limits and the counters are the
real ones; the key never leaves the server except in the one reveal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import httpx
from fastcore.xml import FT
from fasthtml.common import (
    H2,
    Button,
    Code,
    Div,
    Form,
    Input,
    Label,
    Option,
    P,
    Pre,
    Section,
    Select,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from byok.core.security import mask_key
from byok.issuing import (
    APIKey,
    KeyIssuer,
    KeyOwner,
    KeyPolicy,
    RateLimit,
    mount_issuing_routes,
    require_scopes,
)
from byok.issuing.routes import IssuingRoutes
from byok.middleware import Refused, SecurityPolicy

__all__ = ["API_URL", "ISSUE_URL", "SCOPES", "TRY_URL", "IssuePlayground"]

ISSUE_URL = "/playground/api-keys"  # the issued-key routes of the playground
API_URL = "/playground/api/notes"  # the sample API the try-it panel calls
TRY_URL = "/playground/try"  # the try-it panel's form posts here
SCOPES = {
    "notes:read": "Read the sample notes (GET /playground/api/notes)",
    "notes:write": "Add a sample note (POST /playground/api/notes)",
}
DEFAULTS = {  # the create form's first values: a low limit, so a 429 is a few clicks away
    "name": "My first key",
    "scopes": ["notes:read"],
    "rate_requests": "3",
    "rate_window": "minute",
}
POLICY = KeyPolicy(max_rate_limit=RateLimit(60, "minute"), max_keys=20)  # users choose a limit
CALLS = {"get": "GET", "post": "POST"}  # the try-it panel's choices -> HTTP method
SHOWN_HEADERS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "ratelimit-policy")
SHOWN_HEADERS += ("retry-after", "www-authenticate", "content-type")
NOTES = [
    {"id": 1, "text": "Keys are shown once."},
    {"id": 2, "text": "Roll them, don't share them."},
]


class IssuePlayground:
    """The issuer, its routes, the sample API and the try-it panel of the playground."""

    def __init__(
        self,
        issuer: KeyIssuer,  # the real engine (the gallery's database)
        user_id: Callable[[Request], str],  # this browser's playground user (the session's)
    ) -> None:
        self.issuer = issuer
        self.user_id = user_id
        self.routes: IssuingRoutes | None = None
        self._orgs: dict[str, str] = {}  # playground user -> organization id
        self.app: Any = None

    @classmethod
    def create(
        cls,
        db_url: str,  # the gallery's database URL (its own tables: issued_*)
        secret_key: str,  # the gallery's secret; the signing secret is derived from it
        user_id: Callable[[Request], str],  # this browser's playground user
    ) -> IssuePlayground:
        """A playground issuer on the gallery's database, keys shaped `demo_test_…`."""
        signing = hashlib.sha256(f"byok-gallery-issuing:{secret_key}".encode()).hexdigest()
        issuer = KeyIssuer(db_url, signing_secret=signing, key_prefix="demo", environment="test")
        return cls(issuer, user_id)

    def owner(
        self,
        req: Request,  # the request
    ) -> KeyOwner:
        """The organization of this browser's playground user (created on first use)."""
        uid = self.user_id(req)
        org = self._orgs.get(uid)
        if org is None:
            org = self._orgs[uid] = self.issuer.get_or_create_organization(uid)[0].id
        return KeyOwner(org, actor=uid)

    def section(
        self,
        req: Request,  # the request
    ) -> FT:
        """The "Issue keys" section: the page's form, reveal and table, then the try-it panel."""
        assert self.routes is not None, "mount() first"
        panel = self.routes.section(
            req,
            self.owner(req),
            title="Issue keys",
            description="Keys your app issues to its users, on a real KeyIssuer (SQLite). "
            "Create one, copy it (it is shown once) and call the sample API below.",
        )
        return Section(panel, self.try_panel(), id="issue-keys", aria_label="Issue keys")

    def try_panel(self) -> FT:
        """The try-it form: a key, a call, and the answer's slot."""
        return Section(
            H2("Try it", id="tryit-title", cls="text-xl font-bold"),
            P(
                "Paste the key and send a request to the sample API, guarded by ",
                Code('require_scopes(issuer, "notes:read")'),
                ". Watch the rate-limit headers; after revoking the key, the same call is a 403.",
                cls="text-base-content/80",
            ),
            Form(
                Div(
                    Label("API key", fr="tryit-key", cls="fieldset-legend"),
                    Input(
                        type="password",
                        name="key",
                        id="tryit-key",
                        autocomplete="off",
                        spellcheck="false",
                        placeholder="demo_test_…",
                        required=True,
                        cls="input w-full font-mono",
                        data_byok_key_input="",
                    ),
                    cls="fieldset w-full",
                ),
                Div(
                    Label("Request", fr="tryit-call", cls="fieldset-legend"),
                    Select(
                        Option("GET /playground/api/notes (needs notes:read)", value="get"),
                        Option("POST /playground/api/notes (needs notes:write)", value="post"),
                        name="call",
                        id="tryit-call",
                        cls="select w-full",
                    ),
                    cls="fieldset w-full",
                ),
                Div(Button("Send request", type="submit", cls="btn btn-primary"), cls="self-end"),
                hx_post=TRY_URL,
                hx_target="#tryit-result",
                hx_swap="innerHTML",
                method="post",
                action=TRY_URL,
                cls="grid gap-4 md:grid-cols-[2fr_2fr_auto] items-end",
                aria_label="Call the sample API",
            ),
            Div(id="tryit-result", aria_live="polite"),
            cls="flex flex-col gap-3 max-w-6xl mx-auto p-4 md:p-6",
            aria_labelledby="tryit-title",
        )

    async def call(self, key: str, choice: str, base_url: str) -> FT:
        """Send the chosen request with the key through the app; the answer, as the panel shows it."""
        method = CALLS[choice]
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://playground") as client:
            kw: dict[str, Any] = {"json": {"text": "Hello"}} if method == "POST" else {}
            # the key's UTF-8 bytes, as curl sends what is typed: a non-ASCII key reaches the
            # guard (a 401 invalid_key) instead of failing to encode here (a 500)
            auth = b"Bearer " + key.encode("utf-8", "replace")
            r = await client.request(method, API_URL, headers={"Authorization": auth}, **kw)
        head = self.issuer.format.head
        shown = f"{key[: len(head) + 8]}…" if key.startswith(head) else mask_key(key)
        curl = f'curl -i -X {method} {base_url.rstrip("/")}{API_URL} -H "Authorization: Bearer {shown}"'
        if method == "POST":
            curl += ' -H "Content-Type: application/json" -d \'{"text": "Hello"}\''
        headers = [f"{h}: {r.headers[h]}" for h in SHOWN_HEADERS if h in r.headers]
        try:
            body = json.dumps(r.json(), indent=2)
        except ValueError:
            body = r.text[:2000]
        ok = r.status_code < 400
        badge = (
            "badge-success" if ok else ("badge-warning" if r.status_code == 429 else "badge-error")
        )
        return Div(
            P("Request", cls="font-semibold"),
            Pre(
                Code(curl), cls="bg-base-200 rounded-box p-3 text-sm whitespace-pre-wrap break-all"
            ),
            P(
                "Answer ",
                Code(
                    f"{r.status_code} {r.reason_phrase}",
                    cls=f"badge {badge}",
                    data_status=str(r.status_code),
                ),
                cls="font-semibold flex items-center gap-2",
            ),
            Pre(
                Code("\n".join(headers) or "(no rate-limit headers)"),
                cls="bg-base-200 rounded-box p-3 text-sm whitespace-pre-wrap",
                aria_label="Response headers",
            ),
            Pre(
                Code(body),
                cls="bg-base-200 rounded-box p-3 text-sm whitespace-pre-wrap",
                aria_label="Response body",
            ),
            cls="flex flex-col gap-2",
            data_tryit=str(r.status_code),
        )

    def mount(
        self,
        app: Any,  # the gallery's FastHTML app
    ) -> IssuingRoutes:
        """Add the issued-key routes, the sample API and the try-it route."""
        self.app = app
        self.routes = mount_issuing_routes(
            app,
            self.issuer,
            ISSUE_URL,
            owner=self.owner,
            scopes=SCOPES,
            policy=SecurityPolicy(is_production=False),
            per_page=10,
            form_defaults=DEFAULTS,
            key_policy=POLICY,
            serve_script=False,  # the gallery serves byok.js with its other assets
        )

        @app.get(API_URL)
        @require_scopes(self.issuer, "notes:read", realm="playground")
        def read_notes(issued_key: APIKey):
            body = {"notes": NOTES, "key": issued_key.metadata.name}
            return JSONResponse(body)  # the guard adds the key's RateLimit-* headers

        @app.post(API_URL)
        @require_scopes(self.issuer, "notes:write", realm="playground")
        def add_note(issued_key: APIKey):
            body = {
                "added": {"id": len(NOTES) + 1, "text": "Hello"},
                "key": issued_key.metadata.name,
            }
            return JSONResponse(body, status_code=201)

        routes = self.routes

        @app.post(TRY_URL)
        async def try_it(req: Request, data: dict) -> Response | FT:
            try:
                routes.check(req, data)  # the same CSRF / origin checks as the key routes
            except Refused as refused:
                return refused.response
            key, choice = data.get("key"), data.get("call", "get")
            if not isinstance(key, str) or not isinstance(choice, str) or choice not in CALLS:
                return P("Paste a key and choose a request.", cls="text-error")
            return await self.call(key.strip()[:200], choice, str(req.base_url))

        return self.routes
