"""A component's signature -> the Controls form, and the form's query string -> story arguments.

A select for an Enum or Literal (an optional one names what None means), a checkbox for a bool, a
number input with the bounds its comment states for int/float, a text input for str, date and
datetime-local inputs (UTC) for dates, a JSON editor for lists, tuples and dicts of literals.
Parameters that hold components or requests keep the story's value. The same names are used in
the URL, so a tweaked story is a link: `/story/alert--info?kind=error&title=Heads+up`.

Each control carries its story value (`data-default`): gallery.js marks the changed ones and
resets them (one, or all) without a server round trip.
"""

from __future__ import annotations

import json
import math
import typing
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from fastcore.xml import FT
from fasthtml.common import (
    Button,
    Div,
    Fieldset,
    Form,
    Input,
    Label,
    Legend,
    Option,
    P,
    Select,
    Span,
    Textarea,
)

from .introspect import Control, Param, params
from .registry import REQUEST, Call

__all__ = [
    "ControlError",
    "controls_form",
    "editable",
    "error_slots",
    "parse_args",
    "query_args",
]

NONE_CHOICE = ""  # the select value meaning None for an optional choice
MAX_TEXT = 2000  # longest text accepted from a control (keeps URLs shareable)
MAX_JSON = 8000  # longest JSON accepted from a JSON control


class ControlError(ValueError):
    """Control values that cannot become arguments (answered with 422), per parameter."""

    def __init__(
        self,
        errors: Mapping[str, str],  # parameter name -> what is wrong with its value
    ) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def _literal(value: Any) -> bool:
    """True when a story value can be edited as JSON (no component call, no request)."""
    if isinstance(value, Call) or value is REQUEST:
        return False
    if isinstance(value, list | tuple):
        return all(_literal(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _literal(v) for k, v in value.items())
    return value is None or isinstance(value, str | int | float | bool | Enum)


def editable(
    component: Callable[..., Any],  # a component function
    args: Mapping[str, Any] | None = None,  # the story's arguments (JSON controls need literals)
) -> list[Param]:
    """The parameters the Controls form edits."""
    out = []
    for p in params(component):
        if p.control is Control.NONE:
            continue
        value = (args or {}).get(p.name, None if p.required else p.default)
        if p.control is Control.JSON and not _literal(value):
            continue
        if p.control in (Control.DATETIME, Control.DATE) and isinstance(value, str):
            p = replace(p, control=Control.TEXT)  # the story shows a text as written
        out.append(p)
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _value_text(value: Any, p: Param | None = None) -> str:
    """How a value is written in the form and the URL."""
    if p is not None and p.control is Control.JSON:
        return "" if value is None else json.dumps(_jsonable(value), ensure_ascii=False)
    if isinstance(value, Enum):
        return str(value.value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _parse_number(p: Param, raw: str) -> int | float:
    if p.control is Control.INT:
        try:
            number: int | float = int(raw)
        except ValueError:
            raise ValueError("must be a whole number") from None
    else:
        try:
            number = float(raw)
        except ValueError:
            raise ValueError("must be a number") from None
        if not math.isfinite(number):
            raise ValueError("must be a finite number")
    low, high = p.bounds
    if low is not None and number < low:
        raise ValueError(f"must be at least {low:g}")
    if high is not None and number > high:
        raise ValueError(f"must be at most {high:g}")
    return number


def _takes_str(p: Param) -> bool:
    """True when the parameter also accepts a plain string."""
    return str in typing.get_args(p.annotation) or p.annotation is str


def _is_iso(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _parse_json(p: Param, raw: str) -> Any:
    if len(raw) > MAX_JSON:
        raise ValueError(f"at most {MAX_JSON} characters of JSON")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ValueError(f"not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})") from None
    text = p.type_text
    if text.startswith(("dict", "Mapping")) and not isinstance(value, dict):
        raise ValueError("must be a JSON object {...}")
    if text.startswith(("list", "tuple", "Sequence")) and not isinstance(value, list):
        raise ValueError("must be a JSON array [...]")
    if "tuple]" in text and isinstance(value, list):  # a sequence of tuples (form field specs)
        value = [tuple(v) if isinstance(v, list) else v for v in value]
    if text.startswith(("Sequence[str]", "list[str]")) and not all(
        isinstance(v, str) for v in value
    ):
        raise ValueError("must be an array of strings")
    return value


def _parse_one(p: Param, raw: str) -> Any:
    """One control's text as the parameter's value (ValueError saying why it does not fit)."""
    if p.control is not Control.JSON and len(raw) > MAX_TEXT:
        raise ValueError(f"at most {MAX_TEXT} characters")
    if p.control is Control.CHOICE:
        if raw == NONE_CHOICE and p.optional:
            return None
        for choice in p.choices:
            if _value_text(choice) == raw:
                return choice
        allowed = ", ".join(repr(_value_text(c)) for c in p.choices)
        raise ValueError(f"must be one of {allowed}")
    if p.control is Control.BOOL:
        if raw in ("true", "on", "1"):
            return True
        if raw in ("false", "off", "0", ""):
            return False
        raise ValueError("must be true or false")
    if raw.strip() == "" and p.optional:
        return None
    if p.control in (Control.INT, Control.FLOAT):
        return _parse_number(p, raw)
    if p.control is Control.DATETIME:
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            if _takes_str(p):  # `str | datetime`: a text shown as written ("in 3 days")
                return raw
            raise ValueError("must be a date and time, e.g. 2025-06-01T12:00") from None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if p.control is Control.DATE:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValueError("must be a date, e.g. 2025-06-01") from None
    if p.control is Control.JSON:
        return _parse_json(p, raw)
    return raw  # TEXT


def parse_args(
    component: Callable[..., Any],  # the story's component
    query: Mapping[str, list[str]],  # query parameters: name -> every value given
    args: Mapping[str, Any] | None = None,  # the story's arguments (which JSON ones are editable)
) -> dict[str, Any]:
    """The arguments the query sets (parameters absent from it keep the story's values).

    A bool is true when any of its values is true: the form sends a hidden "false" and, when
    checked, a "true", so an unchecked box is distinguishable from an absent one. Every bad value
    is reported at once (ControlError.errors).
    """
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for p in editable(component, args):
        values = query.get(p.name)
        if not values:
            continue
        try:
            if p.control is Control.BOOL:
                out[p.name] = any(_parse_one(p, v) for v in values)
            else:
                out[p.name] = _parse_one(p, values[-1])
            shown = (args or {}).get(p.name, p.default)
            if isinstance(shown, tuple) and isinstance(out[p.name], list):
                out[p.name] = tuple(out[p.name])  # a JSON array for a tuple stays a tuple
        except ValueError as e:
            errors[p.name] = str(e)
    if errors:
        raise ControlError(errors)
    return out


def query_args(
    component: Callable[..., Any],  # the story's component
    args: Mapping[str, Any],  # arguments to write into a URL
    story_args: Mapping[str, Any] | None = None,  # the story's own (which JSON ones are editable)
) -> list[tuple[str, str]]:
    """The editable arguments as query pairs (what the Controls form would send)."""
    by_name = {p.name: p for p in editable(component, story_args or args)}
    return [(k, _value_text(v, by_name[k])) for k, v in args.items() if k in by_name]


def _reset_button(p: Param) -> FT:
    return Button(
        "Reset",
        type="button",
        data_control_reset=p.name,
        aria_label=f"Reset {p.name}",
        cls="btn btn-ghost btn-xs",
    )


def _choice_label(p: Param) -> str:
    """The option for None of an optional choice: what None means, named."""
    return f"None · {p.none_means}" if p.none_means else "None (the default)"


def _widget(p: Param, text: str, default: str, field_id: str, disabled: bool, described: str) -> FT:
    common = {"name": p.name, "id": field_id, "disabled": disabled, "aria_describedby": described}
    if p.control is Control.CHOICE:
        options = [Option(_choice_label(p), value=NONE_CHOICE, selected=text == "")] * p.optional
        options += [
            Option(_value_text(c), value=_value_text(c), selected=_value_text(c) == text)
            for c in p.choices
        ]
        return Select(*options, data_default=default, cls="select select-sm w-full", **common)
    if p.control is Control.JSON:
        return Textarea(
            text,
            rows=str(min(8, 2 + text.count(",") // 2)),
            spellcheck="false",
            data_json=True,
            data_default=default,
            maxlength=str(MAX_JSON),
            cls="textarea textarea-sm w-full font-mono",
            **common,
        )
    kind = {
        Control.INT: "number",
        Control.FLOAT: "number",
        Control.DATETIME: "datetime-local" if not text or _is_iso(text) else "text",
        Control.DATE: "date",
    }.get(p.control, "text")
    low, high = p.bounds
    return Input(
        type=kind,
        value=text,
        step={Control.INT: "1", Control.FLOAT: "any", Control.DATETIME: "1"}.get(p.control),
        min=f"{low:g}" if low is not None and kind == "number" else None,
        max=f"{high:g}" if high is not None and kind == "number" else None,
        maxlength=str(MAX_TEXT) if kind == "text" else None,
        data_default=default,
        cls="input input-sm w-full",
        **common,
    )


def _field(p: Param, value: Any, own: Any, disabled: bool) -> FT:
    """One labelled control, its changed marker, reset button, hint and error slot."""
    field_id = f"control-{p.name}"
    hint_id, error_id = f"{field_id}-hint", f"{field_id}-error"
    text, default = _value_text(value, p), _value_text(own, p)
    comment = p.comment.replace("`", "")  # a hint is plain text
    if p.control is Control.DATETIME:
        comment += " (UTC)"
    hint = Span(comment, id=hint_id, cls="text-base-content/80 text-xs") if p.comment else ""
    described = f"{hint_id} {error_id}" if p.comment else error_id
    changed = Span(
        "changed", data_changed_marker=True, hidden=True, cls="badge badge-warning badge-xs"
    )
    name = Span(p.name, cls="font-mono text-sm")
    head = Div(cls="flex items-center gap-2")
    if p.control is Control.BOOL:
        widget = Label(
            Input(type="hidden", name=p.name, value="false"),
            Input(
                type="checkbox",
                name=p.name,
                value="true",
                id=field_id,
                checked=bool(value),
                disabled=disabled,
                data_default=default,
                aria_describedby=described,
                cls="checkbox checkbox-sm",
            ),
            name,
            cls="label cursor-pointer gap-2",
            fr=field_id,
        )
        head = Div(widget, changed, _reset_button(p), cls="flex items-center gap-2")
        body: tuple = ()
    else:
        head = Div(
            Label(name, fr=field_id, cls="label"),
            changed,
            _reset_button(p),
            cls="flex items-center gap-2",
        )
        body = (_widget(p, text, default, field_id, disabled, described),)
    return Div(
        head,
        *body,
        hint,
        P(id=error_id, data_control_error=p.name, cls="text-error text-xs", hidden=True),
        data_control=p.name,
        cls="flex flex-col gap-1",
    )


def error_slots(
    component: Callable[..., Any],  # the story's component
    args: Mapping[str, Any],  # the story's arguments
    errors: Mapping[str, str],  # parameter -> message (empty: every slot cleared)
    general: str | None = None,  # an error not tied to one control (the component refused)
) -> list[FT]:
    """Out-of-band replacements of every control's error slot (the answer to the form)."""
    out = [
        P(
            errors.get(p.name, ""),
            id=f"control-{p.name}-error",
            data_control_error=p.name,
            cls="text-error text-xs",
            hidden=p.name not in errors,
            hx_swap_oob="true",
        )
        for p in editable(component, args)
    ]
    out.append(
        P(
            general or "",
            id="controls-error",
            role="alert" if general else None,
            cls="alert alert-error alert-soft text-sm",
            hidden=not general,
            hx_swap_oob="true",
        )
    )
    return out


def controls_form(
    component: Callable[..., Any],  # the story's component
    args: Mapping[str, Any],  # the arguments shown (story args, possibly overridden)
    action: str | None,  # URL that answers the form (GET); None = static, disabled
    story_args: Mapping[str, Any] | None = None,  # the story's own arguments (the reset values)
    errors: Mapping[str, str] | None = None,  # parameter -> message, shown inline
    general: str | None = None,  # an error not tied to one control
) -> FT:
    """The Controls form: one control per editable parameter; the canvas follows each change."""
    own = dict(story_args if story_args is not None else args)
    ps = editable(component, own)
    defaults = {p.name: p.default for p in params(component) if not p.required}
    fields = []
    for p in ps:
        value = args.get(p.name, defaults.get(p.name))
        fields.append(_field(p, value, own.get(p.name, defaults.get(p.name)), action is None))
    editable_names = {p.name for p in ps}
    fixed = [p.name for p in params(component) if p.name not in editable_names]
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
            "hx_swap": "none",
            "hx_sync": "this:queue last",  # no aborted request: the last value wins
        }
    reset_all = Button(
        "Reset all",
        type="button",
        data_controls_reset=True,
        disabled=action is None or not ps,
        cls="btn btn-sm",
    )
    form = Form(
        Div(
            Span(data_changed_count=True, role="status", cls="text-sm text-base-content/80"),
            reset_all,
            cls="flex items-center justify-end gap-3",
        ),
        P(
            general or "",
            id="controls-error",
            role="alert" if general else None,
            cls="alert alert-error alert-soft text-sm",
            hidden=not general,
        ),
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
    if errors:  # a direct load with bad arguments: the messages are in place already
        for slot in form.children:
            _fill_errors(slot, errors)
    return form


def _fill_errors(node: Any, errors: Mapping[str, str]) -> None:
    """Write `errors` into their slots inside an element tree (before it is rendered)."""
    if not isinstance(node, FT):
        return
    name = node.attrs.get("data-control-error")
    if name in errors:
        node.children = (errors[name],)
        node.attrs.pop("hidden", None)
        return
    for child in node.children:
        _fill_errors(child, errors)
