"""The fields of the issued-key forms (CreateKeyForm, ScopePicker): a labelled field with its
validation slot, selects, and how a refused submission marks a field (`aria-invalid`, the slot
holding its ValidationMessage).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._html import FT, el
from .alerts import ValidationMessage
from .classes import CLASSES
from .fields import validation_slot
from .wiring import issued_validation_id

__all__ = ["error_slot", "invalid", "labelled", "legend", "marks", "select", "typed"]


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
