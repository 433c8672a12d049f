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

`owner(request)` names the signed-in user's organization (and project): every route lists and
touches only that owner's keys; another owner's key id, or a made-up one, is a 404 and nothing
changes. The checks are the key routes' own (`byok.routes.KeyRoutes`): HTTPS in production, the
origin check and the CSRF token on every write, error toasts marked `BYOK-Problem`. Bad input is
a 4xx (a 422 form keeping what was typed), a database failure a 503, never a 500.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fasthtml.common import Div, FtResponse, Main, Title
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse

from byok.components import (
    AlertKind,
    CreateKeyForm,
    DialogMode,
    IssuedKeyReveal,
    IssuedKeyTable,
    RollKeyDialog,
    StatusFilter,
    ToastContainer,
    UsageSparkline,
    byok_script,
    issued_key_status,
    issued_masked,
    issued_page,
    issued_panel,
    oob_toast,
    scope_list,
    serve_byok_js,
)
from byok.components.variants import IssuedKeyStatus
from byok.components.wiring import (
    CREATE_FORM_ID,
    ISSUED_BASE_URL,
    ISSUED_DIALOG_ID,
    PROBLEM_HEADER,
    issued_key_url,
    issued_view_url,
)
from byok.core.types import StorageError
from byok.middleware.beforeware import (
    RequestKind,
    SecurityPolicy,
    request_kind,
    secure_session_cookie,
)
from byok.middleware.csrf import csrf_token
from byok.routes import KeyRoutes, _answering

from .engine import KeyIssuer
from .errors import ExpiredKeyError, NotFoundError, RevokedKeyError
from .models import APIKey, APIKeyCreated
from .tenancy import canonical_id
from .webform import NewKey, parse_grace, parse_new_key

__all__ = ["IssuingRoutes", "KeyOwner", "OwnerFunc", "mount_issuing_routes"]

log = logging.getLogger("byok")


@dataclass(frozen=True)
class KeyOwner:
    """Whose keys a request may see and change."""

    org_id: str  # the user's organization: keys are created in it and listed from it
    project_id: str | None = None  # only this project's keys (new keys are scoped to it)
    actor: str | None = None  # who acts, recorded in the audit log (e.g. the user's email)


OwnerFunc = Callable[[Request], Any]  # -> KeyOwner | str | None, or an awaitable of one
"""`owner(request)`: the KeyOwner (or just an organization id) of the signed-in user; None when
nobody is signed in (the routes answer 401)."""


def _key_json(key: APIKey, head: Any, status: IssuedKeyStatus) -> dict[str, Any]:
    meta = key.metadata
    rl = meta.rate_limit
    return {
        "id": key.id,
        "name": meta.name,
        "masked": issued_masked(key, head),
        "scopes": meta.scopes,
        "status": status.value,
        "rate_limit": None if rl is None else {"requests": rl.requests, "window": rl.window.value},
        "created_at": key.created_at.isoformat(),
        "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
        "expires_at": meta.expires_at.isoformat() if meta.expires_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
        "environment": meta.custom.get("environment"),
    }


class IssuingRoutes:
    """The issued-key routes of one app: settings and handlers (see `mount_issuing_routes`)."""

    # the key routes' own checks, shared rather than copied: HTTPS in production, the origin
    # check and CSRF token on writes (`_gate`), and error toasts / alerts / JSON (`_problem`)
    _gate = KeyRoutes._gate
    _problem = KeyRoutes._problem
    _resolve_policy = KeyRoutes._resolve_policy  # the given policy, else setup_byok's
    manager = None  # no manager of its own: _resolve_policy finds setup_byok's

    def __init__(
        self,
        issuers: Mapping[str, KeyIssuer],  # environment -> issuer ("" alone: one issuer)
        prefix: str,  # where the routes live, e.g. "/account/api-keys"
        owner: OwnerFunc,  # request -> whose keys
        scopes: tuple[tuple[str, str], ...],  # the scopes users may choose, with descriptions
        policy: SecurityPolicy | None,  # HTTPS, origins, CSRF; None = setup_byok's
        title: str,  # page heading and title
        per_page: int,  # table rows per page
        form_defaults: Mapping[str, Any],  # values the create form starts with
    ):
        self.issuers = dict(issuers)
        self.issuer = next(iter(self.issuers.values()))  # lists and changes (one database)
        self.environments = [e for e in self.issuers if e]
        self.prefix = prefix
        self.owner_func = owner
        self.scopes = scopes
        self.scope_names = [n for n, _ in scopes]
        self.policy = policy
        self.title = title
        self.per_page = per_page
        self.form_defaults = dict(form_defaults)
        heads = {e: i.format.head for e, i in self.issuers.items()}
        self.head: Any = heads if self.environments else self.issuer.format.head

    # --- checks -------------------------------------------------------------------------------

    def _resolve_policy(self, req: Request) -> SecurityPolicy:
        """The policy the routes were mounted with (what the shared `_gate` checks against)."""
        return self.policy

    async def _owner(self, req: Request) -> KeyOwner:
        """The request's owner; refused (401) when nobody is signed in."""
        found = self.owner_func(req)
        if inspect.isawaitable(found):
            found = await found
        if isinstance(found, str):
            found = KeyOwner(found)
        if not isinstance(found, KeyOwner):
            raise self._problem(req, 401, "sign_in", "Sign in to manage your API keys")
        return found

    def _view(self, req: Request) -> tuple[StatusFilter, int]:
        """The table's view from the query (?status=&page=); refused (400) when malformed."""
        status, page = req.query_params.get("status", "all"), req.query_params.get("page", "1")
        try:
            st = StatusFilter(status)
        except ValueError:
            raise self._problem(req, 400, "bad_request", "Unknown key status filter") from None
        if not (page.isascii() and page.isdigit() and 0 < len(page) <= 6 and int(page) > 0):
            raise self._problem(req, 400, "bad_request", "The page must be a positive number")
        return st, int(page)

    async def _run(self, req: Request, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """An issuer call in the thread pool; a database failure is refused with a 503."""
        try:
            return await run_in_threadpool(fn, *args, **kw)
        except StorageError:
            log.warning("byok issuing page: the database failed", exc_info=True)
            raise self._problem(
                req, 503, "storage", "Your API keys are unavailable; try again later"
            ) from None
        except NotFoundError:
            raise self._problem(req, 404, "not_found", "No such API key") from None

    def _keys(self, owner: KeyOwner) -> list[APIKey]:
        if owner.project_id is not None:
            return self.issuer.list_project_keys(owner.project_id)
        return self.issuer.list_org_keys(owner.org_id)

    def _own(self, owner: KeyOwner, key_id: Any) -> APIKey:
        """The owner's key with this id (NotFoundError for a malformed or foreign id)."""
        kid = canonical_id(key_id)
        if kid is None:
            raise NotFoundError("no such key")
        key = self.issuer.get_key(kid)
        if key.org_id != canonical_id(owner.org_id) or (
            owner.project_id is not None and key.project_id != canonical_id(owner.project_id)
        ):
            raise NotFoundError("no such key")  # another owner's key: as if it did not exist
        return key

    def _issuer_of(self, key: APIKey) -> KeyIssuer:
        return self.issuers.get(key.metadata.custom.get("environment", ""), self.issuer)

    # --- pieces -------------------------------------------------------------------------------

    def _token(self, req: Request) -> str | None:
        return csrf_token(req) if self._resolve_policy(req).csrf else None

    def _table_data(self, owner: KeyOwner, status: StatusFilter, page: int) -> tuple[list, dict]:
        """The owner's keys and the usage of those on the page shown (one thread-pool trip)."""
        keys = self._keys(owner)
        now = self.issuer.clock()
        shown = issued_page(keys, status, page, self.per_page, now).keys
        return keys, {k.id: self.issuer.key_usage(k.id, days=30) for k in shown}

    def table(
        self,
        req: Request,  # the request (its session's CSRF token is used)
        owner: KeyOwner,  # whose keys
        view: tuple[StatusFilter, int] = (StatusFilter.ALL, 1),  # (status filter, page)
        highlight: str | None = None,  # id of a key to mark as new
        oob: bool = False,  # mark it for an out-of-band swap
    ) -> Any:
        """The owner's IssuedKeyTable (blocking: the issuer is queried in this thread)."""
        keys, usage = self._table_data(owner, *view)
        return IssuedKeyTable(
            keys,
            view[0],
            view[1],
            self.per_page,
            base_url=self.prefix,
            key_head=self.head,
            usage=usage,
            highlight=highlight,
            csrf_token=self._token(req),
            oob=oob,
            now=self.issuer.clock(),
        )

    async def _table(self, req: Request, owner: KeyOwner, view: Any, **kw: Any) -> Any:
        return await self._run(req, self.table, req, owner, view, **kw)

    def _form(self, req: Request, new: NewKey | None = None, oob: bool = False) -> Any:
        return CreateKeyForm(
            self.scopes,
            self.prefix,
            values=new.values if new else self.form_defaults,
            errors=new.errors if new else None,
            environments=self.environments,
            csrf_token=self._token(req),
            hx_swap_oob="true" if oob else None,
        )

    def _reveal(self, created: APIKeyCreated) -> Any:
        key = created.key
        return IssuedKeyReveal(created.plaintext, issued_masked(key, self.head), key.metadata.name)

    def _page(self, req: Request, table: Any, *, form: Any = None, reveal=None, dialog=None) -> Any:
        panel = issued_panel(
            form if form is not None else self._form(req),
            table,
            reveal,
            dialog,
            title=self.title,
        )
        return (Title(self.title), Main(panel, ToastContainer()), byok_script())

    def section(
        self,
        req: Request,  # the request (its session's CSRF token is used)
        owner: KeyOwner,  # whose keys
        title: str | None = None,  # heading (default: the routes' title)
        description: str | None = None,  # text under it (default: issued_panel's)
    ) -> Any:
        """The page's content (form, slots, table) to embed in a page of your own (blocking:
        call it from a sync handler, which FastHTML runs in a thread)."""
        extra = {} if description is None else {"description": description}
        return issued_panel(
            self._form(req), self.table(req, owner), title=title or self.title, **extra
        )

    def _changed(self, req: Request, view: tuple[StatusFilter, int]) -> RedirectResponse:
        return RedirectResponse(issued_view_url(self.prefix, view[0].value, view[1]), 303)

    # --- handlers (registered through `_answering`) ---------------------------------------------

    async def page(self, req: Request) -> Any:
        """GET {prefix}: the page; the table alone for htmx; the keys as JSON."""
        self._gate(req, None)
        owner = await self._owner(req)
        view = self._view(req)
        kind = request_kind(req)
        if kind is RequestKind.JSON:
            keys = await self._run(req, self._keys, owner)
            now = self.issuer.clock()
            states = [(k, issued_key_status(k, now)) for k in keys]
            shown = [(k, s) for k, s in states if view[0] is StatusFilter.ALL or _lists(view[0], s)]
            return JSONResponse({"keys": [_key_json(k, self.head, s) for k, s in shown]})
        table = await self._table(req, owner, view)
        return table if kind is RequestKind.HTMX else self._page(req, table)

    async def create(self, req: Request, data: dict) -> Any:
        """POST {prefix}: issue a key; the reveal + table + fresh form + toast, or a 422 form."""
        self._gate(req, data)
        owner = await self._owner(req)
        new = parse_new_key(data, self.scope_names, self.environments, self.issuer.clock())
        kind = request_kind(req)
        if new.errors:
            if kind is RequestKind.JSON:
                return JSONResponse({"error": "invalid", "fields": new.errors}, status_code=422)
            form = self._form(req, new)
            if kind is RequestKind.HTMX:
                headers = {
                    PROBLEM_HEADER: "invalid",
                    "HX-Retarget": f"#{CREATE_FORM_ID}",
                    "HX-Reswap": "outerHTML",
                }
                return FtResponse(form, status_code=422, headers=headers)
            table = await self._table(req, owner, (StatusFilter.ALL, 1))
            return FtResponse(self._page(req, table, form=form), status_code=422)
        issuer = self.issuers.get(new.environment, self.issuer)
        created = await self._run(
            req,
            issuer.create_key,
            owner.org_id,
            project_id=owner.project_id,
            metadata=new.metadata,
            actor=owner.actor,
        )
        key = created.key
        if kind is RequestKind.JSON:
            body = {**_key_json(key, self.head, IssuedKeyStatus.ACTIVE), "key": created.plaintext}
            return JSONResponse(body, status_code=201, headers={"Cache-Control": "no-store"})
        table = await self._table(
            req, owner, (StatusFilter.ALL, 1), highlight=key.id, oob=kind is RequestKind.HTMX
        )
        if kind is RequestKind.PAGE:  # the one reveal is this page: no redirect
            return FtResponse(
                self._page(req, table, reveal=self._reveal(created)),
                headers={"Cache-Control": "no-store"},
            )
        toast = oob_toast(f"API key “{key.metadata.name}” created", AlertKind.SUCCESS)
        return FtResponse(
            (self._reveal(created), table, self._form(req, oob=True), toast),
            headers={"Cache-Control": "no-store"},
        )

    async def _key(self, req: Request) -> tuple[KeyOwner, APIKey]:
        owner = await self._owner(req)
        return owner, await self._run(req, self._own, owner, req.path_params.get("key_id"))

    async def roll_dialog(self, req: Request) -> Any:
        """GET {prefix}/{key_id}/roll: the RollKeyDialog (a modal for htmx, a page otherwise)."""
        self._gate(req, None)
        view = self._view(req)
        owner, key = await self._key(req)
        self._rollable(req, key)
        kind = request_kind(req)
        name = key.metadata.name or "Unnamed key"
        if kind is RequestKind.JSON:
            return JSONResponse({"key": _key_json(key, self.head, IssuedKeyStatus.ACTIVE)})
        action = issued_view_url(
            issued_key_url(self.prefix, key.id, "roll"), view[0].value, view[1]
        )
        mode = DialogMode.MODAL if kind is RequestKind.HTMX else DialogMode.INLINE
        back = issued_view_url(self.prefix, view[0].value, view[1])
        dialog = RollKeyDialog(name, action, back, mode=mode, csrf_token=self._token(req))
        if kind is RequestKind.HTMX:
            return dialog
        return self._page(req, await self._table(req, owner, view), dialog=dialog)

    def _rollable(self, req: Request, key: APIKey) -> None:
        state = issued_key_status(key, self.issuer.clock())
        if state is IssuedKeyStatus.REVOKED:
            raise self._problem(req, 409, "revoked", "A revoked key cannot be rolled")
        if state is IssuedKeyStatus.EXPIRED:
            raise self._problem(req, 409, "expired", "An expired key cannot be rolled")

    async def roll(self, req: Request, data: dict) -> Any:
        """POST {prefix}/{key_id}/roll: a new key replaces it; the old one works `grace` longer."""
        self._gate(req, data)
        view = self._view(req)
        owner, key = await self._key(req)
        grace = parse_grace(data)
        if grace is None:
            raise self._problem(req, 422, "invalid", "Choose how long the old key keeps working")
        self._rollable(req, key)
        issuer = self._issuer_of(key)
        try:
            created = await self._run(req, issuer.roll_key, key.id, grace=grace, actor=owner.actor)
        except (RevokedKeyError, ExpiredKeyError):  # changed since it was read
            raise self._problem(req, 409, "conflict", "This key can no longer be rolled") from None
        kind = request_kind(req)
        new = created.key
        if kind is RequestKind.JSON:
            body = {**_key_json(new, self.head, IssuedKeyStatus.ACTIVE), "key": created.plaintext}
            return JSONResponse(body, status_code=201, headers={"Cache-Control": "no-store"})
        htmx = kind is RequestKind.HTMX
        table = await self._table(req, owner, view, highlight=new.id, oob=htmx)
        if not htmx:
            return FtResponse(
                self._page(req, table, reveal=self._reveal(created)),
                headers={"Cache-Control": "no-store"},
            )
        until = "stopped" if grace == timedelta(0) else f"works for {_span(grace)}"
        toast = oob_toast(
            f"“{new.metadata.name}” rolled: the old key {until}", AlertKind.SUCCESS, duration=6000
        )
        closed = Div(id=ISSUED_DIALOG_ID, hx_swap_oob="innerHTML")  # empties the dialog slot
        return FtResponse(
            (self._reveal(created), table, toast, closed), headers={"Cache-Control": "no-store"}
        )

    async def _change(self, req: Request, data: dict | None, verb: str, apply: Any) -> Any:
        """Revoke or delete: the table in the same view + a toast (a redirect without htmx)."""
        self._gate(req, data)
        view = self._view(req)
        owner, key = await self._key(req)
        await self._run(req, apply, key.id, actor=owner.actor)
        kind = request_kind(req)
        if kind is RequestKind.JSON:
            return JSONResponse({"id": key.id, verb: True})
        if kind is RequestKind.PAGE:
            return self._changed(req, view)
        toast = oob_toast(f"API key “{key.metadata.name}” {verb}", AlertKind.INFO)
        return (await self._table(req, owner, view), toast)

    async def revoke(self, req: Request, data: dict) -> Any:
        """POST {prefix}/{key_id}/revoke: disable the key for good (kept in the list)."""
        return await self._change(req, data, "revoked", self.issuer.revoke_key)

    async def delete(self, req: Request, data: dict) -> Any:
        """DELETE {prefix}/{key_id} (or POST …/delete): remove the key and its usage."""
        return await self._change(req, data, "deleted", self.issuer.delete_key)

    async def usage(self, req: Request) -> Any:
        """GET {prefix}/{key_id}/usage?days=30: daily use (a sparkline, or JSON days)."""
        self._gate(req, None)
        raw = req.query_params.get("days", "30")
        if not (raw.isascii() and raw.isdigit() and 0 < len(raw) <= 3 and 1 <= int(raw) <= 400):
            raise self._problem(req, 400, "bad_request", "days must be a number from 1 to 400")
        _, key = await self._key(req)
        days = await self._run(req, self.issuer.key_usage, key.id, days=int(raw))
        if request_kind(req) is RequestKind.JSON:
            rows = [{"day": d.day.isoformat(), "count": d.count} for d in days]
            return JSONResponse({"id": key.id, "days": rows})
        return UsageSparkline(days)


def _lists(status: StatusFilter, state: IssuedKeyStatus) -> bool:
    """Whether a filter lists a key in this state (expiring keys are active)."""
    if status is StatusFilter.ACTIVE:
        return state in (IssuedKeyStatus.ACTIVE, IssuedKeyStatus.EXPIRING)
    return state.value == status.value


def _span(delta: timedelta) -> str:
    """A grace period in words: "1 hour", "24 hours", "7 days"."""
    hours = int(delta.total_seconds()) // 3600
    if hours % 24 == 0 and hours > 24:
        return f"{hours // 24} days"
    return "1 hour" if hours == 1 else f"{hours} hours"


def mount_issuing_routes(
    app: Any,  # the FastHTML app
    issuer: KeyIssuer | Mapping[str, KeyIssuer],  # the engine; or environment -> engine
    prefix: str = ISSUED_BASE_URL,  # where the page and its routes live
    *,
    owner: OwnerFunc,  # request -> KeyOwner (or org id) of the signed-in user; None = nobody
    scopes: Mapping[str, str] | Sequence[str | tuple[str, str]],  # scopes users may choose
    policy: SecurityPolicy | None = None,  # HTTPS / origins / CSRF; None = setup_byok's policy
    title: str = "API keys",  # page heading and title
    per_page: int = 20,  # table rows per page
    form_defaults: Mapping[str, Any] | None = None,  # the create form's initial values
    serve_script: bool = True,  # also serve byok.js (the page loads it)
) -> IssuingRoutes:
    """Add the "API keys" page and its create / roll / revoke / delete / usage routes."""
    if not isinstance(prefix, str) or not prefix.startswith("/") or prefix.startswith("//"):
        raise ValueError("prefix must be an absolute path such as '/account/api-keys'")
    prefix = prefix.rstrip("/") or "/"
    issuers = {"": issuer} if isinstance(issuer, KeyIssuer) else issuer
    if (
        not isinstance(issuers, Mapping)
        or not issuers
        or not all(isinstance(e, str) and isinstance(i, KeyIssuer) for e, i in issuers.items())
    ):
        raise TypeError("issuer must be a KeyIssuer or a mapping of environment -> KeyIssuer")
    if len(issuers) > 1 and "" in issuers:
        raise ValueError("name every environment (no '' among several issuers)")
    if not callable(owner):
        raise TypeError("owner must be a function of the request")
    declared = scope_list(scopes)
    if not declared:
        raise ValueError("declare at least one scope users may give their keys")
    if isinstance(per_page, bool) or not isinstance(per_page, int) or not 1 <= per_page <= 200:
        raise ValueError("per_page must be an int from 1 to 200")
    if policy is not None and policy.is_production:
        secure_session_cookie(app)
    routes = IssuingRoutes(
        dict(issuers), prefix, owner, declared, policy, title, per_page, form_defaults or {}
    )
    base = "" if prefix == "/" else prefix
    key = f"{base}/{{key_id}}"
    handlers = [
        (prefix, "get", "byok_issued_page", routes.page),
        (prefix, "post", "byok_issued_create", routes.create),
        (f"{key}/roll", "get", "byok_issued_roll_dialog", routes.roll_dialog),
        (f"{key}/roll", "post", "byok_issued_roll", routes.roll),
        (f"{key}/revoke", "post", "byok_issued_revoke", routes.revoke),
        (key, "delete", "byok_issued_delete", routes.delete),
        (f"{key}/delete", "post", "byok_issued_delete_form", routes.delete),
        (f"{key}/usage", "get", "byok_issued_usage", routes.usage),
    ]
    for path, method, name, handler in handlers:
        app.route(path, methods=[method], name=name)(_answering(handler))
    if serve_script and not any(getattr(r, "name", None) == "byok_js" for r in app.routes):
        serve_byok_js(app)
    return routes
