"""What the key routes answer, drawn from what storage returned (no read of their own): the
dashboard (from `overview`), a provider's card and the key count after a write (from the owner's
live keys, e.g. `SavedKey.keys`), the out-of-band toast, and the 422 of a form that did not
validate.

`KeyAnswers` is the role of `byok.routes.KeyRoutes` that draws them; it reads the routes'
settings (`prefix`, `providers`, `provider_config`, `labels`, …) from the routes themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fasthtml.common import A, FtResponse, Main, Title
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse

from byok.components import (
    AlertKind,
    KeyManagerDashboard,
    ValidationMessage,
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
from byok.core.types import APIKey
from byok.middleware.http import Refused, RequestKind, problem, request_kind

__all__ = ["KeyAnswers"]


class KeyAnswers:
    """Draws the key routes' answers; the routes' settings are its attributes."""

    prefix: str  # where the routes live
    providers: tuple[str, ...]  # the dashboard's providers, in order
    provider_config: Mapping[str, Any] | None  # display overrides per provider
    title: str  # dashboard heading and page title
    labels: bool  # the forms take a label
    custom_endpoints: bool  # the forms show the optional endpoint fields
    verifier: Any  # False = no Test buttons
    gate: Any  # the RouteGate: its policy decides whether forms carry the CSRF token

    def _problem(self, req: Request, status: int, code: str, detail: str) -> Refused:
        """A non-security problem (storage down, not signed in, …), to raise."""
        return Refused(problem(req, status, code, detail, self.title))

    def slot_of(self, req: Request, provider: str) -> str:
        """The message slot a single-provider save answers into: a standalone KeyInputForm's own
        (its request's HX-Target), else the provider's card / inline slot."""
        standalone = form_validation_id(provider)
        return standalone if req.headers.get("hx-target") == standalone else validation_id(provider)

    def _invalid(self, req: Request, slot: str, message: str, retarget: bool) -> Refused:
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
        page = (Title(self.title), Main(msg, A("Back to your API keys", href=self.prefix)))
        return Refused(FtResponse(page, status_code=422))

    def _board(self, req: Request, manager: Any, user_id: Any, **extra: Any) -> Any:
        """The KeyManagerDashboard (`keys=` the overview read for it; without, it reads)."""
        return KeyManagerDashboard(
            req,
            self.providers,
            manager,
            user_id,
            base_url=self.prefix,
            provider_config=self.provider_config,
            title=self.title,
            enable_test=self.verifier is not False,
            csrf_token=self.gate.token(req),
            allow_labels=self.labels,
            custom_endpoint=self.custom_endpoints,
            **extra,
        )

    def _card(
        self, req: Request, manager: Any, user_id: Any, provider: str, keys: Any, **attrs: Any
    ):
        """The provider's card drawn from `keys` (the owner's live records: no read)."""
        return provider_card(
            req,
            manager,
            provider,
            user_id,
            self.prefix,
            self.provider_config,
            keys=keys,
            enable_test=self.verifier is not False,
            allow_labels=self.labels,
            custom_endpoint=self.custom_endpoints,
            csrf_token=self.gate.token(req),
            **attrs,
        )

    def _written(
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
            return RedirectResponse(self.prefix, status_code=303)
        manager, user_id, keys = where
        if keys is None:  # the write succeeded but its card could not be read back
            raise self._problem(req, 503, "storage", "API key storage is unavailable")
        shown = parse_dashboard_header(req.headers.get(DASHBOARD_HEADER))
        summary = None
        if shown is not None:  # sent from inside a dashboard: refresh its count
            stored = {k.provider for k in keys}
            summary = dashboard_summary(sum(p in stored for p in shown), len(shown), oob=True)
        slot = MULTI_VALIDATION_ID if multi else self.slot_of(req, provider)
        if not multi and slot != form_validation_id(provider):  # a card's form: the card itself
            card = self._card(req, manager, user_id, provider, keys)
            return card, oob_toast(toast, alert), summary
        present = parse_targets_header(req.headers.get(TARGETS_HEADER))  # None: send them all
        card = toast_part = None  # out of band only where the page has a place for them
        if present is None or card_id(provider) in present:
            card = self._card(req, manager, user_id, provider, keys, hx_swap_oob="true")
        if present is None or TOAST_CONTAINER_ID in present:
            toast_part = oob_toast(toast, alert)
        message = ValidationMessage(toast, is_valid=True, id=slot)
        return message, card, toast_part, summary
