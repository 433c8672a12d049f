"""`IssuingRoutes`: the handlers of the "API keys" page of issued keys (page, create, roll,
revoke, delete, usage) over the parts it holds; `mount_issuing_routes` (byok.issuing.routes)
builds one and adds its routes to the app."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fasthtml.common import Div, FtResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from byok.components import (
    AlertKind,
    DialogMode,
    RollKeyDialog,
    StatusFilter,
    UsageSparkline,
    issued_key_status,
    oob_toast,
)
from byok.components.variants import IssuedKeyStatus
from byok.components.wiring import (
    CREATE_FORM_ID,
    ISSUED_DIALOG_ID,
    PROBLEM_HEADER,
    issued_key_url,
    issued_view_url,
)
from byok.core.types import StorageError
from byok.middleware.context import UserIdError, identity_of
from byok.middleware.http import (
    Refused,
    RequestKind,
    problem,
    request_kind,
    sign_in,
    wants_whole_page,
)
from byok.middleware.policy import RouteGate, SecurityPolicy

from .errors import ExpiredKeyError, NotFoundError, RevokedKeyError, RolledKeyError
from .models import APIKey
from .owner import KeyOwner, OwnerLookup
from .policy import TooManyKeysError
from .views import IssuedKeysPage, key_json, lists, span
from .webform import parse_grace, parse_new_key

__all__ = ["NO_STORE", "UNAVAILABLE", "UNIDENTIFIED", "IssuingRoutes"]

log = logging.getLogger("byok")

UNAVAILABLE = "Your API keys are unavailable; try again later"
UNIDENTIFIED = "Your API keys are unavailable: this site could not identify your account"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
"""Headers of every answer that is, or may come to hold, the key shown once (the page, whose
form fills the reveal; the reveal itself): no cache keeps it, the back/forward cache skips it."""


class IssuingRoutes:
    """The issued-key routes of one app: their handlers, over the parts they hold (see
    `mount_issuing_routes`): the `view` (the page's settings and pieces), the `owners` (whose
    keys a request may see) and the `gate` (HTTPS, origin, CSRF) the view shares."""

    def __init__(
        self,
        view: IssuedKeysPage,  # the page's settings and pieces (prefix, title, layout, …)
        owners: OwnerLookup,  # finds whose keys a request may see
        gate: RouteGate,  # HTTPS, origin and CSRF checks (per route), shared with the view
    ):
        self.view = view
        self.owners = owners
        self.gate = gate
        self.issuer = view.issuer  # lists and changes (one database)
        self.prefix = view.prefix
        self.title = view.title
        self.layout = view.layout
        self.key_policy = view.key_policy  # what keys created or rolled here may be
        self.section = view.section  # the page's content, to embed in a page of your own

    # --- checks -------------------------------------------------------------------------------

    @property
    def policy(self) -> SecurityPolicy | None:
        """The policy in force: the one given, else setup_byok's once the manager is known."""
        return self.gate.policy

    def check(
        self,
        req: Request,  # a request to a route of your own (e.g. a form posting beside these)
        data: Any,  # its parsed body (form fields or JSON), for the CSRF token
    ) -> None:
        """These routes' checks (HTTPS, origin, CSRF on a write); raises Refused with the answer."""
        refused = self.gate.policy_of(req).check(req, data)
        if refused is not None:
            raise Refused(refused)

    def _problem(self, req: Request, status: int, code: str, detail: str) -> Refused:
        """A problem (not signed in, no such key, database down), to raise."""
        return Refused(problem(req, status, code, detail, self.title, self.layout))

    async def _owner(self, req: Request) -> KeyOwner:
        """The request's owner (`OwnerLookup`); signed out: to the app's sign-in page (else
        401); 503 (logged) for an unusable one or when the user cannot be known."""
        try:
            found = await self.owners.find(req)
        except UserIdError:  # the app's bug, logged: never a 500
            raise self._problem(req, 503, "owner", UNIDENTIFIED) from None
        except StorageError:
            log.warning("byok issuing page: the database failed", exc_info=True)
            raise self._problem(req, 503, "storage", UNAVAILABLE) from None
        if found is None:  # signed out: to the app's sign-in page (setup_byok's login_url)
            detail = "Sign in to manage your API keys"
            login_url = identity_of(req).login_url
            raise Refused(sign_in(req, login_url, detail, self.title, self.layout))
        owner = KeyOwner(found) if isinstance(found, str) else found
        why = owner.problem() if isinstance(owner, KeyOwner) else f"a {type(owner).__name__}"
        if why is not None:  # the app's bug: logged, and a 503 (never a 500 from deeper down)
            log.error("byok issuing page: the app's owner function gave %s: %s", req.url.path, why)
            raise self._problem(req, 503, "owner", UNIDENTIFIED)
        return owner

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
        """An issuer call in the thread pool; a database failure is refused with a 503, a key
        past the policy's max_keys with a 409."""
        try:
            return await run_in_threadpool(fn, *args, **kw)
        except TooManyKeysError as e:
            raise self._problem(req, 409, "max_keys", str(e)) from None
        except StorageError:
            log.warning("byok issuing page: the database failed", exc_info=True)
            raise self._problem(req, 503, "storage", UNAVAILABLE) from None
        except NotFoundError:
            raise self._problem(req, 404, "not_found", "No such API key") from None

    async def _table(self, req: Request, owner: KeyOwner, view: Any, **kw: Any) -> Any:
        return await self._run(req, self.view.table, req, owner, view, **kw)

    # --- handlers (each behind the router's checks) ---------------------------------------------

    async def page(self, req: Request) -> Any:
        """GET {prefix}: the page; the table alone for htmx; the keys as JSON."""
        owner = await self._owner(req)
        view = self._view(req)
        kind = request_kind(req)
        if kind is RequestKind.JSON:
            keys = await self._run(req, self.view.keys, owner)
            now = self.issuer.clock()
            states = [(k, issued_key_status(k, now)) for k in keys]
            shown = [(k, s) for k, s in states if view[0] is StatusFilter.ALL or lists(view[0], s)]
            body = {"keys": [key_json(k, self.view.head, s) for k, s in shown]}
            return JSONResponse(body, headers=NO_STORE)
        table = await self._table(req, owner, view)
        if kind is RequestKind.HTMX and not wants_whole_page(req):
            return FtResponse(table, headers=NO_STORE)
        return FtResponse(self.view.page(req, table), headers=NO_STORE)

    async def create(self, req: Request, data: dict) -> Any:
        """POST {prefix}: issue a key; the reveal + table + fresh form + toast, or a 422 form."""
        owner = await self._owner(req)
        pieces, policy = self.view, self.key_policy
        new = parse_new_key(
            data, pieces.scope_names, pieces.environments, self.issuer.clock(), policy
        )
        kind = request_kind(req)
        if new.errors:
            if kind is RequestKind.JSON:
                return JSONResponse({"error": "invalid", "fields": new.errors}, status_code=422)
            form = self.view.form(req, new)
            if kind is RequestKind.HTMX:
                headers = {
                    PROBLEM_HEADER: "invalid",
                    "HX-Retarget": f"#{CREATE_FORM_ID}",
                    "HX-Reswap": "outerHTML",
                }
                return FtResponse(form, status_code=422, headers=headers)
            table = await self._table(req, owner, (StatusFilter.ALL, 1))
            page = self.view.page(req, table, form=form)
            return FtResponse(page, status_code=422, headers=NO_STORE)
        issuer = pieces.issuers.get(new.environment, self.issuer)
        created = await self._run(
            req,
            issuer.create_key,
            owner.org_id,
            project_id=owner.project_id,
            metadata=new.metadata,
            actor=owner.actor,
            policy=policy,
        )
        key = created.key
        if kind is RequestKind.JSON:
            body = {
                **key_json(key, self.view.head, IssuedKeyStatus.ACTIVE),
                "key": created.plaintext,
            }
            return JSONResponse(body, status_code=201, headers=NO_STORE)
        table = await self._table(
            req, owner, (StatusFilter.ALL, 1), highlight=key.id, oob=kind is RequestKind.HTMX
        )
        if kind is RequestKind.PAGE:  # the one reveal is this page: no redirect
            return FtResponse(
                self.view.page(req, table, reveal=self.view.reveal(created)),
                headers=NO_STORE,
            )
        toast = oob_toast(f"API key “{key.metadata.name}” created", AlertKind.SUCCESS)
        return FtResponse(
            (self.view.reveal(created), table, self.view.form(req, oob=True), toast),
            headers=NO_STORE,
        )

    async def _key(self, req: Request) -> tuple[KeyOwner, APIKey]:
        owner = await self._owner(req)
        return owner, await self._run(req, self.owners.key, owner, req.path_params.get("key_id"))

    async def roll_dialog(self, req: Request) -> Any:
        """GET {prefix}/{key_id}/roll: the RollKeyDialog (a modal for htmx, a page otherwise)."""
        view = self._view(req)
        owner, key = await self._key(req)
        self._rollable(req, key)
        kind = request_kind(req)
        name = key.metadata.name or "Unnamed key"
        if kind is RequestKind.JSON:
            return JSONResponse({"key": key_json(key, self.view.head, IssuedKeyStatus.ACTIVE)})
        action = issued_view_url(
            issued_key_url(self.prefix, key.id, "roll"), view[0].value, view[1]
        )
        mode = DialogMode.MODAL if kind is RequestKind.HTMX else DialogMode.INLINE
        back = issued_view_url(self.prefix, view[0].value, view[1])
        dialog = RollKeyDialog(name, action, back, mode=mode, csrf_token=self.gate.token(req))
        if kind is RequestKind.HTMX:
            return dialog
        page = self.view.page(req, await self._table(req, owner, view), dialog=dialog)
        return FtResponse(page, headers=NO_STORE)

    def _rollable(self, req: Request, key: APIKey) -> None:
        state = issued_key_status(key, self.issuer.clock())
        if state is IssuedKeyStatus.REVOKED:
            raise self._problem(req, 409, "revoked", "A revoked key cannot be rolled")
        if state is IssuedKeyStatus.EXPIRED:
            raise self._problem(req, 409, "expired", "An expired key cannot be rolled")
        if key.rolled_to is not None:
            raise self._problem(
                req, 409, "rolled", "This key was already rolled: roll the key that replaced it"
            )

    async def roll(self, req: Request, data: dict) -> Any:
        """POST {prefix}/{key_id}/roll: a new key replaces it; the old one works `grace` longer."""
        view = self._view(req)
        owner, key = await self._key(req)
        grace = parse_grace(data)
        if grace is None:
            raise self._problem(req, 422, "invalid", "Choose how long the old key keeps working")
        self._rollable(req, key)
        issuer = self.view.issuer_of(key)
        try:
            created = await self._run(
                req, issuer.roll_key, key.id, grace=grace, actor=owner.actor, policy=self.key_policy
            )
        except (RevokedKeyError, ExpiredKeyError, RolledKeyError):  # changed since it was read
            raise self._problem(req, 409, "conflict", "This key can no longer be rolled") from None
        kind = request_kind(req)
        new = created.key
        if kind is RequestKind.JSON:
            body = {
                **key_json(new, self.view.head, IssuedKeyStatus.ACTIVE),
                "key": created.plaintext,
            }
            return JSONResponse(body, status_code=201, headers=NO_STORE)
        htmx = kind is RequestKind.HTMX
        table = await self._table(req, owner, view, highlight=new.id, oob=htmx)
        if not htmx:
            return FtResponse(
                self.view.page(req, table, reveal=self.view.reveal(created)),
                headers=NO_STORE,
            )
        until = "stopped" if grace == timedelta(0) else f"works for {span(grace)}"
        toast = oob_toast(
            f"“{new.metadata.name}” rolled: the old key {until}", AlertKind.SUCCESS, duration=6000
        )
        closed = Div(id=ISSUED_DIALOG_ID, hx_swap_oob="innerHTML")  # empties the dialog slot
        return FtResponse((self.view.reveal(created), table, toast, closed), headers=NO_STORE)

    async def _change(self, req: Request, data: dict | None, verb: str, apply: Any) -> Any:
        """Revoke or delete: the table in the same view + a toast (a redirect without htmx)."""
        view = self._view(req)
        owner, key = await self._key(req)
        await self._run(req, apply, key.id, actor=owner.actor)
        kind = request_kind(req)
        if kind is RequestKind.JSON:
            return JSONResponse({"id": key.id, verb: True})
        if kind is RequestKind.PAGE:
            return self.view.changed(req, view)
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
        raw = req.query_params.get("days", "30")
        if not (raw.isascii() and raw.isdigit() and 0 < len(raw) <= 3 and 1 <= int(raw) <= 400):
            raise self._problem(req, 400, "bad_request", "days must be a number from 1 to 400")
        _, key = await self._key(req)
        days = await self._run(req, self.issuer.key_usage, key.id, days=int(raw))
        if request_kind(req) is RequestKind.JSON:
            rows = [{"day": d.day.isoformat(), "count": d.count} for d in days]
            return JSONResponse({"id": key.id, "days": rows})
        return UsageSparkline(days)
