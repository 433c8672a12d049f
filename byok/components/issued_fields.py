"""The fields of the issued-key forms (CreateKeyForm, ScopePicker): a labelled field with its
validation slot, selects, and how a refused submission marks a field (`aria-invalid`, the slot
holding its ValidationMessage).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._html import FT, el, void
from .alerts import ValidationMessage
from .classes import CLASSES
from .fields import validation_slot
from .variants import RateWindow
from .wiring import issued_validation_id

__all__ = [
    "ANY_RATE",
    "RateOffer",
    "error_slot",
    "invalid",
    "labelled",
    "legend",
    "marks",
    "offered_rate",
    "select",
    "typed",
]


def invalid(errors: Mapping[str, str], field: str) -> str | None:
    """aria-invalid's value: "true" when the field has an error, else absent."""
    return "true" if field in errors else None


def error_slot(field: str, errors: Mapping[str, str]) -> FT:
    """The field's validation slot: empty, or the error's ValidationMessage (same id)."""
    sid = issued_validation_id(field)
    return ValidationMessage(errors[field], id=sid) if field in errors else validation_slot(sid)


def typed(enum: Any, value: Any, default: Any) -> Any:
    """A typed choice kept when it is one of the choices, else the default (typed text can be
    anything: it is shown again, never refused)."""
    try:
        return enum(value)
    except ValueError:
        return default


def legend(for_id: str, text: str) -> FT:
    """A field's label, styled as a fieldset legend."""
    return el("label", {"for": for_id, "class": CLASSES["fieldset.legend"]}, text)


def marks(errors: Mapping[str, str], field: str) -> dict[str, str | None]:
    """A control's aria-invalid (when its field has an error) and its error slot's id."""
    return {
        "aria-invalid": invalid(errors, field),
        "aria-describedby": issued_validation_id(field),
    }


def labelled(
    field_id: str,  # id of the first control (its label points at it)
    text: str,  # the label text
    key: str,  # the field's name in `errors` (its validation slot)
    errors: Mapping[str, str],  # field -> message
    *controls: FT,  # the inputs / selects
    row: bool = False,  # lay the controls out in one row
) -> FT:
    """One labelled field of the create form: its controls and its validation slot."""
    body = el("div", {"class": CLASSES["issued.form.row"]}, *controls) if row else controls
    return el(
        "div",
        {"class": CLASSES["fieldset"]},
        legend(field_id, text),
        body,
        error_slot(key, errors),
    )


def select(name: str, field_id: str, options: Mapping[Any, str], value: Any, **more: Any) -> FT:
    return el(
        "select",
        {"name": name, "id": field_id, "class": CLASSES["issued.select"], **more},
        *[
            el("option", {"value": str(k), "selected": str(k) == str(value)}, text)
            for k, text in options.items()
        ],
    )


_WINDOW_TEXT = {w: f"per {w.value}" for w in RateWindow}


@dataclass(frozen=True)
class RateOffer:
    """The rate limit CreateKeyForm lets a user choose: up to `most` requests per one of
    `windows`; `optional` lets them leave it empty (no limit)."""

    most: int = 1_000_000  # the largest number of requests offered per window
    windows: tuple[RateWindow, ...] = tuple(RateWindow)  # the windows offered (per minute first)
    optional: bool = True  # an empty field means no limit (shown as "unlimited")


ANY_RATE = RateOffer()
"""A rate limit of any size per any window, or none (CreateKeyForm's default)."""


def offered_rate(offer: RateOffer, v: Mapping[str, Any], errs: Mapping[str, str]) -> FT:
    """The rate limit's number and window, as offered (optional: "unlimited" when empty)."""
    windows = offer.windows or tuple(RateWindow)
    first = RateWindow.MINUTE if RateWindow.MINUTE in windows else windows[0]
    window = typed(RateWindow, v.get("rate_window"), first)
    typed_text = v.get("rate_requests")
    shown = str(typed_text or "") if offer.optional or typed_text else str(offer.most)
    return labelled(
        "byok-key-rate",
        "Rate limit (optional)" if offer.optional else f"Rate limit (up to {offer.most:,})",
        "rate_limit",
        errs,
        void(
            "input",
            {
                "type": "number",
                "name": "rate_requests",
                "id": "byok-key-rate",
                "value": shown,
                "min": "1",
                "max": str(offer.most),
                "step": "1",
                "placeholder": "unlimited" if offer.optional else None,
                "required": not offer.optional,
                "class": CLASSES["issued.number"],
                **marks(errs, "rate_limit"),
            },
        ),
        select(
            "rate_window",
            "byok-key-rate-window",
            {w.value: _WINDOW_TEXT[w] for w in windows},
            (window if window in windows else first).value,
            **{"aria-label": "Rate limit window"},
        ),
        row=True,
    )
