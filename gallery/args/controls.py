"""A component's signature -> the Controls form, and the form's query string -> story arguments.

A select for an Enum or Literal (an optional one names what None means), a checkbox for a bool, a
number input with the bounds its comment states for int/float, a text input for str, date and
datetime-local inputs (UTC) for dates, a JSON editor for lists, tuples and dicts of literals.
Parameters that hold components or requests keep the story's value. The same names are used in
the URL, so a tweaked story is a link: `/story/alert--info?kind=error&title=Heads+up`.

Each control carries its story value (`data-default`): gallery.js marks the changed ones and
resets them (one, or all) without a server round trip. This module draws the form; the values
(which parameters are editable, text <-> argument) are `control_values`', re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
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

from ..model.introspect import Control, Param, params
from .control_values import (
    MAX_JSON,
    MAX_TEXT,
    NONE_CHOICE,
    ControlError,
    editable,
    parse_args,
    query_args,
    value_text,
)

__all__ = [
    "ControlError",
    "controls_form",
    "editable",
    "error_slots",
    "parse_args",
    "query_args",
]


def _is_iso(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


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
            Option(value_text(c), value=value_text(c), selected=value_text(c) == text)
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
    text, default = value_text(value, p), value_text(own, p)
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
            # gallery.js fires it once the canvas has the new values (no debounce: the canvas
            # follows each keystroke; the queue below keeps the panels to one request at a time)
            "hx_trigger": "gallery-panels",
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
