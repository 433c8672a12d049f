"""The "API keys" page of the keys your app issues, mounted under a prefix.

`mount_issuing_routes(app, issuer, prefix="/account/api-keys", owner=..., scopes=...)` adds:

| method | path | answer |
|---|---|---|
| GET | `{prefix}` | the page (htmx: the `IssuedKeyTable` for `?status=&page=`; JSON: the keys) |
| POST | `{prefix}` | create: `IssuedKeyReveal` + the table and a fresh form out of band + a toast |
| GET | `{prefix}/{key_id}/roll` | the `RollKeyDialog` (htmx: a modal; a page without htmx) |
| POST | `{prefix}/{key_id}/roll` | roll: the new key's reveal + the table out of band + a toast |
| POST | `{prefix}/{key_id}/revoke` | revoke: the table + a toast |
| DELETE | `{prefix}/{key_id}` | delete: the table + a toast (`POST {prefix}/{key_id}/delete` too) |
| GET | `{prefix}/{key_id}/usage` | the `UsageSparkline` of the last `?days=30` (JSON: the days) |

`owner(request)` names the signed-in user's organization (and project); without it each user is
an organization of one (`OwnerLookup`: the user setup_byok's `user_id_func`, or
`req.scope["auth"]`, names). Every route lists and touches only that owner's keys; another
owner's key id, or a made-up one, is a 404 and nothing changes. The checks are the key routes' own, run as FastHTML per-route `before` checks
(`byok.middleware.policy.RouteGate` on a `CheckedRouter`): HTTPS in production, the origin check
and the CSRF token on every write; error toasts are marked `BYOK-Problem`. Bad input is a 4xx (a
422 form keeping what was typed), a database failure a 503, never a 500. The handlers are
`IssuingRoutes` (handlers.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from byok.components import scope_list, serve_byok_js
from byok.components.serving import serve_assets
from byok.components.wiring import ISSUED_BASE_URL
from byok.middleware.http import CheckedRouter, Layout
from byok.middleware.policy import RouteGate, SecurityPolicy

from .engine import KeyIssuer
from .handlers import NO_STORE as NO_STORE  # importable from here, as before
from .handlers import UNAVAILABLE as UNAVAILABLE
from .handlers import UNIDENTIFIED as UNIDENTIFIED
from .handlers import IssuingRoutes
from .owner import KeyOwner, OwnerFunc, OwnerLookup
from .policy import KeyPolicy
from .views import IssuedKeysPage, issuers_of
from .webform import NO_POLICY

__all__ = ["IssuingRoutes", "KeyOwner", "OwnerFunc", "mount_issuing_routes"]


def mount_issuing_routes(
    app: Any,  # the FastHTML app
    issuer: KeyIssuer | Mapping[str, KeyIssuer],  # the engine; or environment -> engine
    prefix: str = ISSUED_BASE_URL,  # where the page and its routes live
    *,
    owner: OwnerFunc | None = None,  # request -> KeyOwner / org id (None: nobody); None = user's
    scopes: Mapping[str, str] | Sequence[str | tuple[str, str]],  # scopes users may choose
    policy: SecurityPolicy | None = None,  # HTTPS / origins / CSRF; None = setup_byok's policy
    title: str = "API keys",  # page heading and title
    per_page: int = 20,  # table rows per page
    form_defaults: Mapping[str, Any] | None = None,  # the create form's initial values
    serve_script: bool = True,  # also serve byok.js (the page loads it)
    layout: Layout | None = None,  # the app's shell around each full page: layout(*c, title=)
    key_policy: KeyPolicy | None = None,  # what keys created and rolled here may be (None: no
    # rate limit to choose, no cap on keys or lifetime)
) -> IssuingRoutes:
    """Add the "API keys" page and its create / roll / revoke / delete / usage routes.

    `layout(*content, title=...)` wraps each full page (never an htmx fragment nor JSON) in the
    app's own shell."""
    if not isinstance(prefix, str) or not prefix.startswith("/") or prefix.startswith("//"):
        raise ValueError("prefix must be an absolute path such as '/account/api-keys'")
    prefix = prefix.rstrip("/") or "/"
    issuers = issuers_of(issuer)
    owners = OwnerLookup(owner, next(iter(issuers.values())))  # TypeError: not a function
    declared = scope_list(scopes)
    if not declared:
        raise ValueError("declare at least one scope users may give their keys")
    if isinstance(per_page, bool) or not isinstance(per_page, int) or not 1 <= per_page <= 200:
        raise ValueError("per_page must be an int from 1 to 200")
    if key_policy is not None and not isinstance(key_policy, KeyPolicy):
        raise TypeError("key_policy must be a KeyPolicy, e.g. KeyPolicy(max_keys=5)")
    if policy is not None:
        policy.harden(app)
    gate = RouteGate(policy)
    view = IssuedKeysPage(
        issuers,
        prefix,
        declared,
        gate,
        title,
        per_page,
        form_defaults or {},
        layout=layout,
        key_policy=key_policy or NO_POLICY,
    )
    routes = IssuingRoutes(view, owners, gate)
    key = f"{'' if prefix == '/' else prefix}/{{key_id}}"
    router = CheckedRouter(routes.gate)
    router(prefix, methods=["get"], name="byok_issued_page")(routes.page)
    router(prefix, methods=["post"], name="byok_issued_create")(routes.create)
    router(f"{key}/roll", methods=["get"], name="byok_issued_roll_dialog")(routes.roll_dialog)
    router(f"{key}/roll", methods=["post"], name="byok_issued_roll")(routes.roll)
    router(f"{key}/revoke", methods=["post"], name="byok_issued_revoke")(routes.revoke)
    router(key, methods=["delete"], name="byok_issued_delete")(routes.delete)
    router(f"{key}/delete", methods=["post"], name="byok_issued_delete_form")(routes.delete)
    router(f"{key}/usage", methods=["get"], name="byok_issued_usage")(routes.usage)
    router.to_app(app)
    if serve_script and not any(getattr(r, "name", None) == "byok_js" for r in app.routes):
        serve_byok_js(app)
    serve_assets(app)  # byok.css, htmx, byok.js under /byok/ (once): no `.serve(app)` needed
    return routes
