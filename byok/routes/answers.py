"""What the key routes answer, drawn from what storage returned (no read of their own): the
dashboard, a provider's card, the out-of-band toast and key count after a write, and the 422 of
a form that did not validate.

`KeyAnswers` is the role of `byok.routes.KeyRoutes` that draws them; it reads the routes'
settings (`prefix`, `providers`, `provider_config`, `labels`, …) from the routes themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
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
from byok.components.dashboard import _card as overview_card
from byok.components.wiring import (
    DASHBOARD_HEADER,
    MULTI_VALIDATION_ID,
    PROBLEM_HEADER,
    parse_dashboard_header,
)
from byok.core.types import PROVIDER_PATTERN, KeyOverview
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

    def _card(self, req: Request, provider: str, found: KeyOverview | None, **attrs: Any) -> Any:
        """The provider's card showing `found` (None: the empty card)."""
        card = overview_card(
            provider,
            found,
            self.prefix,
            self.provider_config,
            enable_test=self.verifier is not False,
            allow_labels=self.labels,
            custom_endpoint=self.custom_endpoints,
            csrf_token=self.gate.token(req),
            hx_headers=None,
            now=None,
        )
        card.attrs.update((k.replace("_", "-"), v) for k, v in attrs.items())
        return card

    def _wanted(self, req: Request, provider: str) -> list[str]:
        """The providers an answer about `provider` shows: it, and those of the sending
        dashboard (its `BYOK-Dashboard` header) for the key count."""
        shown = parse_dashboard_header(req.headers.get(DASHBOARD_HEADER)) or ()
        return list(dict.fromkeys([provider, *(p for p in shown if PROVIDER_PATTERN.fullmatch(p))]))

    def _written(
        self,
        req: Request,  # the write request
        json_body: dict[str, Any],  # the answer for API clients
        overview: Mapping[str, KeyOverview] | None,  # `_wanted` as stored now (None: unread)
        provider: str,  # whose key changed
        toast: str,  # what happened, in words
        alert: AlertKind = AlertKind.SUCCESS,  # the toast's colour
        *,
        multi: bool = False,  # from MultiProviderKeyForm: its message, the card out of band
    ) -> Any:
        """After a write: JSON, back to the dashboard (plain form), or the card + toast + count."""
        kind = request_kind(req)
        if kind is RequestKind.JSON:
            return JSONResponse(json_body)
        if kind is RequestKind.PAGE:
            return RedirectResponse(self.prefix, status_code=303)
        if overview is None:  # the write succeeded but its card could not be read back
            raise self._problem(req, 503, "storage", "API key storage is unavailable")
        shown = parse_dashboard_header(req.headers.get(DASHBOARD_HEADER))
        summary = None
        if shown is not None:  # sent from inside a dashboard: refresh its count
            summary = dashboard_summary(sum(p in overview for p in shown), len(shown), oob=True)
        if not multi:
            return (
                self._card(req, provider, overview.get(provider)),
                oob_toast(toast, alert),
                summary,
            )
        card = self._card(req, provider, overview.get(provider), hx_swap_oob="true")
        message = ValidationMessage(toast, is_valid=True, id=MULTI_VALIDATION_ID)
        return message, card, oob_toast(toast, alert), summary
