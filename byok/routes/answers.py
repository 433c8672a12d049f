"""What the key routes answer, drawn from what storage returned (no read of their own): the
dashboard (from `overview`), a provider's card and the key count after a write (from the owner's
live keys, e.g. `SavedKey.keys`), the out-of-band toast, and the 422 of a form that did not
validate.

`KeyAnswers` is the part of `byok.routes.KeyRoutes` that draws them, from the routes' frozen
`KeyRouteSettings` and their `RouteGate` (whose policy decides whether forms carry the CSRF token).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fasthtml.common import A, FtResponse
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse

from byok.components import (
    AlertKind,
    KeyManagerDashboard,
    ValidationMessage,
    byok_script,
    dashboard_summary,
    oob_toast,
)
from byok.components.dashboard import provider_card
from byok.components.wiring import (
    DASHBOARD_HEADER,
    MULTI_VALIDATION_ID,
    PROBLEM_HEADER,
    TARGETS_HEADER,
    TOAST_CONTAINER_ID,
    card_id,
    form_validation_id,
    parse_dashboard_header,
    parse_targets_header,
    validation_id,
)
from byok.core.types import APIKey, KeyOverview
from byok.middleware.http import (
    Refused,
    RequestKind,
    full_page,
    problem,
    request_kind,
    safe_next,
)
from byok.middleware.policy import RouteGate

from .settings import KeyRouteSettings

__all__ = ["KeyAnswers", "dashboard_row"]


class KeyAnswers:
    """Draws the key routes' answers (dashboard, card, toast, 422) from their settings."""

    def __init__(
        self,
        settings: KeyRouteSettings,  # the routes' settings (prefix, providers, labels, …)
        gate: RouteGate,  # the routes' checks: its policy decides whether forms carry a token
        *,
        enable_test: bool,  # the cards show a Test button (there is a test route)
    ):
        self.settings = settings
        self.gate = gate
        self.enable_test = enable_test

    def problem(self, req: Request, status: int, code: str, detail: str) -> Refused:
        """A non-security problem (storage down, not signed in, …), to raise."""
        s = self.settings
        return Refused(problem(req, status, code, detail, s.title, s.layout))

    def slot_of(self, req: Request, provider: str) -> str:
        """The message slot a single-provider save answers into: a standalone KeyInputForm's own
        (its request's HX-Target), else the provider's card / inline slot."""
        standalone = form_validation_id(provider)
        return standalone if req.headers.get("hx-target") == standalone else validation_id(provider)

    def invalid(self, req: Request, slot: str, message: str, retarget: bool) -> Refused:
        """422: a ValidationMessage in the form's slot; the typed key is never sent back."""
        kind = request_kind(req)
        if kind is RequestKind.JSON:
            return Refused(JSONResponse({"error": "invalid", "detail": message}, status_code=422))
        msg = ValidationMessage(message, is_valid=False, id=slot)
        if kind is RequestKind.HTMX:  # PROBLEM_HEADER: byok.js lets htmx swap it
            headers = {PROBLEM_HEADER: "invalid"}
            if retarget:
                headers |= {"HX-Retarget": f"#{slot}", "HX-Reswap": "outerHTML"}
            return Refused(FtResponse(msg, status_code=422, headers=headers))
        s = self.settings
        page = full_page(s.title, (msg, A("Back to your API keys", href=s.prefix)), layout=s.layout)
        return Refused(FtResponse(page, status_code=422))

    def page(
        self,
        req: Request,  # the dashboard's request (its ?next= adds a Continue link)
        board: Any,  # the KeyManagerDashboard
    ) -> Any:
        """The dashboard as a full page: in the app's layout when it gave one."""
        target = req.query_params.get("next")
        back = safe_next(target, default="") if target else ""
        cont = A("Continue", href=back, cls="link") if back else None
        s = self.settings
        return full_page(s.title, (board, cont), after=(byok_script(),), layout=s.layout)

    def board(self, req: Request, manager: Any, user_id: Any, **extra: Any) -> Any:
        """The KeyManagerDashboard (`keys=` the overview read for it; without, it reads)."""
        s = self.settings
        return KeyManagerDashboard(
            req,
            s.providers,
            manager,
            user_id,
            base_url=s.prefix,
            provider_config=s.provider_config,
            title=s.title,
            enable_test=self.enable_test,
            csrf_token=self.gate.token(req),
            allow_labels=s.labels,
            custom_endpoint=s.custom_endpoints,
            **extra,
        )

    def card(
        self, req: Request, manager: Any, user_id: Any, provider: str, keys: Any, **attrs: Any
    ):
        """The provider's card drawn from `keys` (the owner's live records: no read)."""
        s = self.settings
        return provider_card(
            req,
            manager,
            provider,
            user_id,
            s.prefix,
            s.provider_config,
            keys=keys,
            enable_test=self.enable_test,
            allow_labels=s.labels,
            custom_endpoint=s.custom_endpoints,
            csrf_token=self.gate.token(req),
            **attrs,
        )

    def written(
        self,
        req: Request,  # the write request
        json_body: dict[str, Any],  # the answer for API clients
        where: tuple[Any, Any, Sequence[APIKey] | None],  # (manager, user id, live keys or None)
        provider: str,  # whose key changed
        toast: str,  # what happened, in words
        alert: AlertKind = AlertKind.SUCCESS,  # the toast's colour
        *,
        multi: bool = False,  # from MultiProviderKeyForm: its message, the card out of band
    ) -> Any:
        """After a write: JSON, back to the dashboard (plain form), or the card + toast + count,
        drawn from the owner's keys as stored now (None: they could not be read back). A form
        aimed at its own message slot (MultiProviderKeyForm, a standalone KeyInputForm) stays:
        it gets the message, and the card goes out of band to wherever it is on the page."""
        kind = request_kind(req)
        if kind is RequestKind.JSON:
            return JSONResponse(json_body)
        if kind is RequestKind.PAGE:
            return RedirectResponse(self.settings.prefix, status_code=303)
        manager, user_id, keys = where
        if keys is None:  # the write succeeded but its card could not be read back
            raise self.problem(req, 503, "storage", "API key storage is unavailable")
        shown = parse_dashboard_header(req.headers.get(DASHBOARD_HEADER))
        summary = None
        if shown is not None:  # sent from inside a dashboard: refresh its count
            stored = {k.provider for k in keys}
            summary = dashboard_summary(sum(p in stored for p in shown), len(shown), oob=True)
        slot = MULTI_VALIDATION_ID if multi else self.slot_of(req, provider)
        if not multi and slot != form_validation_id(provider):  # a card's form: the card itself
            card = self.card(req, manager, user_id, provider, keys)
            return card, oob_toast(toast, alert), summary
        present = parse_targets_header(req.headers.get(TARGETS_HEADER))  # None: send them all
        card = toast_part = None  # out of band only where the page has a place for them
        if present is None or card_id(provider) in present:
            card = self.card(req, manager, user_id, provider, keys, hx_swap_oob="true")
        if present is None or TOAST_CONTAINER_ID in present:
            toast_part = oob_toast(toast, alert)
        message = ValidationMessage(toast, is_valid=True, id=slot)
        return message, card, toast_part, summary


def dashboard_row(
    provider: str,  # one provider of the dashboard
    found: KeyOverview | None,  # its default key's overview, None = no key
) -> dict[str, Any]:
    """One provider of the dashboard's JSON: stored or not, and its default key's expiry."""
    expires = found.expires_at if found is not None else None
    return {
        "provider": provider,
        "stored": found is not None,
        "expires_at": expires.isoformat() if expires else None,
    }
