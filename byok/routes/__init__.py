"""The key-management routes, mounted under a prefix: dashboard, save, delete and test.

`mount_key_routes(app, manager, prefix="/api/keys", providers=[...])` adds:

| method | path | answer |
|---|---|---|
| GET | `{prefix}` | the `KeyManagerDashboard` page (a fragment for htmx, a summary for JSON) |
| POST | `{prefix}` | save from `MultiProviderKeyForm` (`provider` + `api_key`) |
| POST | `{prefix}/{provider}` | save: the provider's card + an out-of-band toast (+ count) |
| DELETE | `{prefix}/{provider}` | delete: the provider's card + an out-of-band toast (+ count) |
| POST | `{prefix}/{provider}/default` | with `labels=True`: make `?label=…` the default; the card |
| POST | `{prefix}/{provider}/test` | check the key (built-in or the app's verifier): a `KeyTestResult` |

Saves take an optional `label` (with `labels=True`; `intent=add` refuses to replace a key) and
the endpoint fields the registry allows (`base_url`, `deployment`, `api_version`: always for
providers that need them, with `custom_endpoints=True` for the optional ones); delete and test
take `?label=…` (absent = the provider's default key). (+ count): a request sent from inside a
dashboard (its `BYOK-Dashboard` header) also gets the dashboard's key count out of band.

The routes are FastHTML's own: a `CheckedRouter` (an `APIRouter`) whose routes first run, as
per-route `before` checks, the `RouteGate` (HTTPS in production, the Fetch Metadata / Origin check
and the per-session CSRF token on every write) and the unknown-provider 404, so no beforeware
`skip` list can open a hole. The HTMX contract (ids, targets, 422 with `ValidationMessage` and
`HX-Retarget`, error toasts marked `BYOK-Problem`) is the one in `byok.components.forms`. Bad
input is a 4xx and nothing is stored; a storage failure is a 503; never a 500.

Storage per request: a save is one `set_key` trip (card and count drawn from its `SavedKey`), the
dashboard one `overview` read, a delete or new default the write and one read, in one trip.
`KeyRoutes` (handlers.py) holds its parts (no mixins): frozen `settings`, `answers`, the
`keytest` tester.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from byok.components import serve_byok_js
from byok.components.serving import serve_assets
from byok.components.wiring import DEFAULT_BASE_URL
from byok.core.providers import BUILTIN_PROVIDERS, check_offered
from byok.core.storage import BYOKManager
from byok.core.types import ValidationError
from byok.middleware.context import UserIdFunc, app_manager, check_user_id_func
from byok.middleware.http import CheckedRouter, Layout
from byok.middleware.limits import BodyLimit
from byok.middleware.policy import SecurityPolicy, policy_for
from byok.outbound import OutboundPolicy
from byok.verify import KeyVerifier

from .answers import KeyAnswers
from .form import KEY_FIELD
from .handlers import PROVIDER_FIELD as PROVIDER_FIELD  # importable from here, as before
from .handlers import USER_ID_PROBLEM as USER_ID_PROBLEM
from .handlers import KeyRoutes
from .keytest import TEST_LIMIT, KeyTester, TestLimit, Verifier, default_limit
from .settings import KeyRouteSettings

__all__ = [
    "KEY_FIELD",
    "KeyAnswers",
    "KeyRouteSettings",
    "KeyRoutes",
    "KeyTester",
    "Verifier",
    "mount_key_routes",
]

log = logging.getLogger("byok")


def mount_key_routes(
    app: Any,  # the FastHTML app
    manager: BYOKManager | None = None,  # the manager (default: app.state.byok, set by setup_byok)
    prefix: str = DEFAULT_BASE_URL,  # where the routes live
    providers: Sequence[str] | None = None,  # providers offered (default: the built-in registry)
    user_id_func: UserIdFunc | None = None,  # request -> user id; None = setup_byok's, else auth
    verifier: Verifier | Literal[False] | None = None,  # (provider, key) -> ok?; None = built-in
    provider_config: Mapping[str, Any] | None = None,  # display/registry overrides per provider
    policy: SecurityPolicy | None = None,  # HTTPS / origins / CSRF; None = setup_byok's for manager
    title: str = "API keys",  # dashboard heading and page title
    verify_timeout: float = 10.0,  # seconds the verifier may take
    check_format: bool = True,  # refuse keys that do not fit the provider's known pattern
    serve_script: bool = True,  # also serve byok.js (the dashboard page loads it)
    *,
    labels: bool = False,  # several labelled keys per provider (forms take a label; default route)
    custom_endpoints: bool = False,  # users may give the optional endpoints the registry allows
    outbound: OutboundPolicy | None = None,  # the built-in checks' SSRF guard (allowlists, timeout)
    test_limit: TestLimit = TEST_LIMIT,  # key tests per user: (count, seconds), a RateLimit, or None
    layout: Layout | None = None,  # the app's shell around each full page: layout(*c, title=)
) -> KeyRoutes:
    """Add the dashboard, save, delete and test routes under `prefix`; returns the `KeyRoutes`
    (their frozen `settings` and the parts they hold).

    Without a `verifier` the test route runs the built-in zero-token checks (`KeyVerifier`);
    `verifier=False` leaves the test route (and the Test buttons) out. `layout(*content,
    title=...)` wraps each full page (never an htmx fragment nor JSON) in the app's shell."""
    if not isinstance(prefix, str) or not prefix.startswith("/") or prefix.startswith("//"):
        raise ValueError("prefix must be an absolute path such as '/api/keys'")
    prefix = prefix.rstrip("/") or "/"
    offered = providers if providers is not None else BUILTIN_PROVIDERS
    names = check_offered(offered, provider_config, where="mount_key_routes")  # typos refused
    check_user_id_func(user_id_func, "mount_key_routes")
    if not names:
        raise ValidationError("mount_key_routes needs at least one provider")
    if manager is not None and getattr(app.state, "byok", None) is None:
        app.state.byok = manager
    try:  # FastHTML parses bodies before any check: cap them first (413 / 400, never a 500)
        app.add_middleware(BodyLimit, paths=[prefix])
    except RuntimeError:  # the app is already serving: its middleware is fixed
        log.warning("byok: mount_key_routes after the app started: bodies are not limited")
    known = manager or app_manager(app)  # setup_byok's, from the app's beforeware
    if policy is None and known is not None:
        policy = policy_for(known)
    if policy is not None:
        policy.harden(app)
    if verifier is None:
        verifier = KeyVerifier(provider_config, outbound=outbound)
    settings = KeyRouteSettings(
        prefix,
        tuple(names),
        title=title,
        provider_config=provider_config,
        user_id_func=user_id_func,
        check_format=check_format,
        labels=labels,
        custom_endpoints=custom_endpoints,
        verify_timeout=verify_timeout,
        layout=layout,
    )
    tester = None
    if verifier is not False:
        limit = default_limit(known, test_limit) if isinstance(test_limit, tuple) else test_limit
        tester = KeyTester(verifier, verify_timeout, limit)
    routes = KeyRoutes(settings, manager=manager, policy=policy, tester=tester)
    one = f"{'' if prefix == '/' else prefix}/{{provider}}"
    router = CheckedRouter(routes.gate, routes.known_provider)
    router(prefix, methods=["get"], name="byok_dashboard")(routes.dashboard)
    saves = ["post", "put", "patch"]  # what the key forms can send (FormMethod)
    router(prefix, methods=saves, name="byok_save_any")(routes.save_any)
    router(one, methods=saves, name="byok_save")(routes.save)
    router(one, methods=["delete"], name="byok_delete")(routes.delete)
    if tester is not None:
        router(f"{one}/test", methods=["post"], name="byok_test")(routes.test)
    if labels:
        router(f"{one}/default", methods=["post"], name="byok_default")(routes.make_default)
    router.to_app(app)
    if serve_script and not any(getattr(r, "name", None) == "byok_js" for r in app.routes):
        serve_byok_js(app)
    serve_assets(app)  # byok.css, htmx, byok.js under /byok/ (once): no `.serve(app)` needed
    return routes
