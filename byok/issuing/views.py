"""The issued-key page's pieces, the part `byok.issuing.routes.IssuingRoutes` holds: the owner's
IssuedKeyTable (with the usage of the keys shown), the create form, the reveal, the page around
them, and the keys as JSON. Blocking: the issuer is queried in the calling thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse

from byok.components import (
    CreateKeyForm,
    IssuedKeyReveal,
    IssuedKeyTable,
    StatusFilter,
    ToastContainer,
    byok_script,
    issued_masked,
    issued_page,
    issued_panel,
)
from byok.components.variants import IssuedKeyStatus
from byok.components.wiring import issued_view_url
from byok.middleware.http import Layout, full_page
from byok.middleware.policy import RouteGate

from .engine import KeyIssuer
from .models import APIKey, APIKeyCreated
from .policy import KeyPolicy
from .webform import NO_POLICY, NewKey, offer

__all__ = ["IssuedKeysPage", "issuers_of", "key_json"]


class IssuedKeysPage:
    """The settings of an issued-key page and the pieces it is drawn from (held by the routes)."""

    def __init__(
        self,
        issuers: Mapping[str, KeyIssuer],  # environment -> issuer ("" alone: one issuer)
        prefix: str,  # where the routes live, e.g. "/account/api-keys"
        scopes: tuple[tuple[str, str], ...],  # the scopes users may choose, with descriptions
        gate: RouteGate,  # the routes' checks (its policy decides the forms' CSRF tokens)
        title: str,  # page heading and title
        per_page: int,  # table rows per page
        form_defaults: Mapping[str, Any],  # values the create form starts with
        *,
        layout: Layout | None = None,  # the app's shell around the full page; None = Title + Main
        key_policy: KeyPolicy = NO_POLICY,  # what keys created or rolled here may be
    ):
        self.layout = layout
        self.key_policy = key_policy
        self.issuers = dict(issuers)
        self.issuer = next(iter(self.issuers.values()))  # lists and changes (one database)
        self.environments = [e for e in self.issuers if e]
        self.prefix = prefix
        self.scopes = scopes
        self.scope_names = [n for n, _ in scopes]
        self.gate = gate
        self.title = title
        self.per_page = per_page
        self.form_defaults = dict(form_defaults)
        heads = {e: i.format.head for e, i in self.issuers.items()}
        self.head: Any = heads if self.environments else self.issuer.format.head

    def keys(self, owner: Any) -> list[APIKey]:
        if owner.project_id is not None:
            return self.issuer.list_project_keys(owner.project_id)
        return self.issuer.list_org_keys(owner.org_id)

    def issuer_of(self, key: APIKey) -> KeyIssuer:
        return self.issuers.get(key.metadata.custom.get("environment", ""), self.issuer)

    # --- pieces -------------------------------------------------------------------------------

    def table_data(self, owner: Any, status: StatusFilter, page: int) -> tuple[list, dict]:
        """The owner's keys and the usage of those on the page shown (one thread-pool trip)."""
        keys = self.keys(owner)
        now = self.issuer.clock()
        shown = issued_page(keys, status, page, self.per_page, now).keys
        return keys, {k.id: self.issuer.key_usage(k.id, days=30) for k in shown}

    def table(
        self,
        req: Request,  # the request (its session's CSRF token is used)
        owner: Any,  # whose keys
        view: tuple[StatusFilter, int] = (StatusFilter.ALL, 1),  # (status filter, page)
        highlight: str | None = None,  # id of a key to mark as new
        oob: bool = False,  # mark it for an out-of-band swap
    ) -> Any:
        """The owner's IssuedKeyTable (blocking: the issuer is queried in this thread)."""
        keys, usage = self.table_data(owner, *view)
        return IssuedKeyTable(
            keys,
            view[0],
            view[1],
            self.per_page,
            base_url=self.prefix,
            key_head=self.head,
            usage=usage,
            highlight=highlight,
            csrf_token=self.gate.token(req),
            oob=oob,
            now=self.issuer.clock(),
        )

    def form(self, req: Request, new: NewKey | None = None, oob: bool = False) -> Any:
        return CreateKeyForm(
            self.scopes,
            self.prefix,
            values=new.values if new else self.form_defaults,
            errors=new.errors if new else None,
            environments=self.environments,
            csrf_token=self.gate.token(req),
            hx_swap_oob="true" if oob else None,
            **offer(self.key_policy, self.issuer.clock()),
        )

    def reveal(self, created: APIKeyCreated) -> Any:
        key = created.key
        return IssuedKeyReveal(created.plaintext, issued_masked(key, self.head), key.metadata.name)

    def page(self, req: Request, table: Any, *, form: Any = None, reveal=None, dialog=None) -> Any:
        panel = issued_panel(
            form if form is not None else self.form(req),
            table,
            reveal,
            dialog,
            title=self.title,
        )
        content = (panel, ToastContainer())
        return full_page(self.title, content, after=(byok_script(),), layout=self.layout)

    def section(
        self,
        req: Request,  # the request (its session's CSRF token is used)
        owner: Any,  # whose keys
        title: str | None = None,  # heading (default: the routes' title)
        description: str | None = None,  # text under it (default: issued_panel's)
    ) -> Any:
        """The page's content (form, slots, table) to embed in a page of your own (blocking:
        call it from a sync handler, which FastHTML runs in a thread)."""
        extra = {} if description is None else {"description": description}
        return issued_panel(
            self.form(req), self.table(req, owner), title=title or self.title, **extra
        )

    def changed(self, req: Request, view: tuple[StatusFilter, int]) -> RedirectResponse:
        return RedirectResponse(issued_view_url(self.prefix, view[0].value, view[1]), 303)


def issuers_of(
    issuer: Any,  # a KeyIssuer, or a mapping of environment -> KeyIssuer
) -> dict[str, KeyIssuer]:
    """The page's issuers by environment ("" alone: one issuer); TypeError / ValueError else."""
    issuers = {"": issuer} if isinstance(issuer, KeyIssuer) else issuer
    if (
        not isinstance(issuers, Mapping)
        or not issuers
        or not all(isinstance(e, str) and isinstance(i, KeyIssuer) for e, i in issuers.items())
    ):
        raise TypeError("issuer must be a KeyIssuer or a mapping of environment -> KeyIssuer")
    if len(issuers) > 1 and "" in issuers:
        raise ValueError("name every environment (no '' among several issuers)")
    return dict(issuers)


def key_json(key: APIKey, head: Any, status: IssuedKeyStatus) -> dict[str, Any]:
    """A key as the JSON answers show it (masked, never the secret)."""
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
        "rolled_to": key.rolled_to,  # the id of the key that replaced it (no second roll)
    }


def lists(status: StatusFilter, state: IssuedKeyStatus) -> bool:
    """Whether a filter lists a key in this state (expiring keys are active)."""
    if status is StatusFilter.ACTIVE:
        return state in (IssuedKeyStatus.ACTIVE, IssuedKeyStatus.EXPIRING)
    return state.value == status.value


def span(delta: timedelta) -> str:
    """A grace period in words: "1 hour", "24 hours", "7 days"."""
    hours = int(delta.total_seconds()) // 3600
    if hours % 24 == 0 and hours > 24:
        return f"{hours // 24} days"
    return "1 hour" if hours == 1 else f"{hours} hours"
