"""A component's signature -> the Controls form, and the form's query string -> story arguments.

A select for an Enum or Literal, a checkbox for a bool, a number input for int/float, a text input
for str; other parameters (lists, elements, requests) keep the story's value. The same names are
used in the URL, so a tweaked story is a link: `/story/alert--info?kind=error&title=Heads+up`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from fastcore.xml import FT
from fasthtml.common import Div, Fieldset, Form, Input, Label, Legend, Option, P, Select, Span

from .introspect import Control, Param, params

__all__ = [
    "ControlError",
    "controls_form",
    "editable",
    "parse_args",
    "query_args",
]

NONE_CHOICE = ""  # the select value meaning None for an optional choice
MAX_TEXT = 2000  # longest text accepted from a control (keeps URLs shareable)


class ControlError(ValueError):
    """A control value that cannot become an argument (answered with 422)."""


def editable(
    component: Callable[..., Any],  # a component function
) -> list[Param]:
    """The parameters the Controls form edits (every one with a control)."""
    return [p for p in params(component) if p.control is not Control.NONE]


def _value_text(value: Any) -> str:
    """How a value is written in the form and the URL."""
    if isinstance(value, Enum):
        return str(value.value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _parse_one(p: Param, raw: str) -> Any:
    """One control's text as the parameter's value (ControlError when it does not fit)."""
    if len(raw) > MAX_TEXT:
        raise ControlError(f"{p.name}: at most {MAX_TEXT} characters")
    if p.control is Control.CHOICE:
        if raw == NONE_CHOICE and p.optional:
            return None
        for choice in p.choices:
            if _value_text(choice) == raw:
                return choice
        allowed = ", ".join(repr(_value_text(c)) for c in p.choices)
        raise ControlError(f"{p.name} must be one of {allowed}")
    if p.control is Control.BOOL:
        if raw in ("true", "on", "1"):
            return True
        if raw in ("false", "off", "0", ""):
            return False
        raise ControlError(f"{p.name} must be true or false")
    if raw == "" and p.optional:
        return None
    if p.control is Control.INT:
        try:
            return int(raw)
        except ValueError:
            raise ControlError(f"{p.name} must be a whole number") from None
    if p.control is Control.FLOAT:
        try:
            number = float(raw)
        except ValueError:
            raise ControlError(f"{p.name} must be a number") from None
        if not math.isfinite(number):
            raise ControlError(f"{p.name} must be a finite number")
        return number
    return raw  # TEXT


def parse_args(
    component: Callable[..., Any],  # the story's component
    query: Mapping[str, list[str]],  # query parameters: name -> every value given
) -> dict[str, Any]:
    """The arguments the query sets (parameters absent from it keep the story's values).

    A bool is true when any of its values is true: the form sends a hidden "false" and, when
    checked, a "true", so an unchecked box is distinguishable from an absent one.
    """
    out: dict[str, Any] = {}
    for p in editable(component):
        values = query.get(p.name)
        if not values:
            continue
        if p.control is Control.BOOL:
            out[p.name] = any(_parse_one(p, v) for v in values)
        else:
            out[p.name] = _parse_one(p, values[-1])
    return out


def query_args(
    component: Callable[..., Any],  # the story's component
    args: Mapping[str, Any],  # arguments to write into a URL
) -> list[tuple[str, str]]:
    """The editable arguments as query pairs (what the Controls form would send)."""
    names = {p.name for p in editable(component)}
    return [(k, _value_text(v)) for k, v in args.items() if k in names]


def _field(p: Param, value: Any, field_id: str, disabled: bool) -> FT:
    """One labelled control."""
    hint = Span(p.comment, cls="label text-xs whitespace-normal") if p.comment else ""
    name_label = Span(p.name, cls="font-mono text-sm")
    if p.control is Control.BOOL:
        return Div(
            Input(type="hidden", name=p.name, value="false"),
            Label(
                Input(
                    type="checkbox",
                    name=p.name,
                    value="true",
                    id=field_id,
                    checked=bool(value),
                    disabled=disabled,
                    cls="checkbox checkbox-sm",
                ),
                name_label,
                cls="label cursor-pointer gap-2",
                fr=field_id,
            ),
            hint,
            cls="flex flex-col gap-1",
        )
    if p.control is Control.CHOICE:
        current = _value_text(value)
        options = [Option("(none)", value=NONE_CHOICE, selected=value is None)] * p.optional
        options += [
            Option(_value_text(c), value=_value_text(c), selected=_value_text(c) == current)
            for c in p.choices
        ]
        widget = Select(
            *options, name=p.name, id=field_id, disabled=disabled, cls="select select-sm w-full"
        )
    else:
        kind = "number" if p.control in (Control.INT, Control.FLOAT) else "text"
        widget = Input(
            type=kind,
            name=p.name,
            id=field_id,
            value=_value_text(value),
            step="1" if p.control is Control.INT else ("any" if kind == "number" else None),
            maxlength=str(MAX_TEXT) if kind == "text" else None,
            disabled=disabled,
            cls="input input-sm w-full",
        )
    return Div(
        Label(name_label, fr=field_id, cls="label"),
        widget,
        hint,
        cls="flex flex-col gap-1",
    )


def controls_form(
    component: Callable[..., Any],  # the story's component
    args: Mapping[str, Any],  # the arguments shown (story args, possibly overridden)
    action: str | None,  # URL that re-renders the canvas (GET); None = static, disabled
    target: str = "#canvas",  # element the rendered component replaces
) -> FT:
    """The Controls form: one control per editable parameter, re-rendering on change."""
    ps = editable(component)
    defaults = {p.name: p.default for p in params(component) if not p.required}
    fields = [
        _field(p, args.get(p.name, defaults.get(p.name)), f"control-{p.name}", action is None)
        for p in ps
    ]
    fixed = [p.name for p in params(component) if p.control is Control.NONE]
    notes = []
    if fixed:
        notes.append(P("Set by the story, not editable here: ", ", ".join(fixed), cls="text-sm"))
    if action is None:
        notes.append(
            P(
                "Controls need the live gallery: run ",
                Span("uv run gallery", cls="font-mono"),
                cls="text-sm",
            )
        )
    if not ps:
        notes.append(P("This component has no editable parameters.", cls="text-sm"))
    hx = {}
    if action is not None:
        hx = {
            "hx_get": action,
            "hx_trigger": "change, input delay:400ms",
            "hx_target": target,
            "hx_swap": "innerHTML",
        }
    return Form(
        Fieldset(
            Legend("Arguments", cls="fieldset-legend"),
            Div(*fields, cls="grid gap-4 sm:grid-cols-2"),
            cls="fieldset",
        ),
        *notes,
        id="controls-form",
        action=action,
        method="get",
        **hx,
    )
