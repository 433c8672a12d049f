"""The Controls' values: which parameters a story's form edits, a control's text -> the
parameter's value (every bad value reported at once, as a ControlError), and a value -> the text
the form and the URL carry. `controls` draws the form from these.

A select for an Enum or Literal (an optional one names what None means), a checkbox for a bool, a
number with the bounds its comment states for int/float, a text for str, date and datetime-local
(UTC) for dates, JSON for lists, tuples and dicts of literals.
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

from ..model.introspect import Control, Param, params
from ..model.registry import REQUEST, Call

__all__ = [
    "MAX_JSON",
    "MAX_TEXT",
    "NONE_CHOICE",
    "ControlError",
    "editable",
    "parse_args",
    "query_args",
    "value_text",
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


def value_text(
    value: Any,  # a story argument or a parameter's default
    p: Param | None = None,  # its parameter (a JSON control writes JSON); None = a choice's value
) -> str:
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
            if value_text(choice) == raw:
                return choice
        allowed = ", ".join(repr(value_text(c)) for c in p.choices)
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
    return [(k, value_text(v, by_name[k])) for k, v in args.items() if k in by_name]
