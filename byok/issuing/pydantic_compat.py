"""pydantic's habits on the issuing models, without pydantic: `model_dump()`,
`model_dump_json()`, `model_validate()`, `model_validate_json()` and `model_copy()`.

The shapes are those apikeys-platform's pydantic models give: nested models as dicts, and in
python mode datetimes, dates and enum members as themselves; in JSON mode (`mode="json"`,
`model_dump_json`) datetimes as ISO 8601 with `Z` for UTC, enums as their values. Ids stay
strings (the reference's are `uuid.UUID` objects in python mode; the same text in JSON).
`model_validate` takes a dict (nested dicts, ISO strings, enum values, UUIDs for ids) or an
instance, ignores unknown keys, and refuses bad input with InvalidInputError.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, Literal, Self

from .errors import InvalidInputError

__all__ = ["PydanticCompat"]

Mode = Literal["python", "json"]  # python objects, or what JSON can hold
Names = set[str] | frozenset[str] | None  # top-level fields to keep or drop


def _plain(value: Any, json_mode: bool, exclude_none: bool) -> Any:
    """A value as pydantic dumps it: dataclasses as dicts, and in JSON mode only JSON types."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name), json_mode, exclude_none)
            for f in dataclasses.fields(value)
            if not (exclude_none and getattr(value, f.name) is None)
        }
    if isinstance(value, list | tuple):
        return [_plain(v, json_mode, exclude_none) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v, json_mode, exclude_none) for k, v in value.items()}
    if not json_mode:
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    """The resolved field types of a model class."""
    return typing.get_type_hints(cls)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    """`value` (from JSON or a dump) as a field of type `hint` wants it."""
    if value is None:
        return None
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        kinds = [a for a in typing.get_args(hint) if a is not type(None)]
        return _coerce(kinds[0], value, where) if len(kinds) == 1 else value
    if not isinstance(hint, type):
        return value  # list[str], dict[str, Any], Any: the model checks them itself
    if isinstance(value, hint):
        return value
    try:
        if dataclasses.is_dataclass(hint) and isinstance(value, Mapping):
            return _build(hint, value)
        if issubclass(hint, Enum):
            return hint(value)
        if hint is datetime and isinstance(value, str):
            return datetime.fromisoformat(value)
        if hint is date and isinstance(value, str):
            return date.fromisoformat(value)
        if hint is str and isinstance(value, uuid.UUID):
            return str(value)
    except ValueError:
        raise InvalidInputError(f"{where} has an invalid value {value!r:.60}") from None
    return value  # the model's own checks refuse what is still wrong


def _build(cls: type, data: Mapping[str, Any]) -> Any:
    """An instance of dataclass `cls` from a dict (unknown keys ignored)."""
    hints = _hints(cls)
    kwargs = {
        f.name: _coerce(hints[f.name], data[f.name], f"{cls.__name__}.{f.name}")
        for f in dataclasses.fields(cls)
        if f.name in data
    }
    try:
        return cls(**kwargs)
    except TypeError as e:  # a required field missing
        raise InvalidInputError(f"{cls.__name__}.model_validate: {e}") from None


class PydanticCompat:
    """pydantic's model methods for a frozen dataclass model (no state of its own)."""

    def model_dump(
        self,
        *,
        mode: Mode = "python",  # "json": only JSON types (ISO datetimes, enum values)
        include: Names = None,  # keep only these top-level fields
        exclude: Names = None,  # drop these top-level fields
        exclude_none: bool = False,  # drop fields whose value is None (at every level)
    ) -> dict[str, Any]:
        """The model as a dict, as pydantic's `model_dump` gives it."""
        if mode not in ("python", "json"):
            raise InvalidInputError("mode must be 'python' or 'json'")
        whole = _plain(self, mode == "json", exclude_none)
        return {
            k: v
            for k, v in whole.items()
            if (include is None or k in include) and (exclude is None or k not in exclude)
        }

    def model_dump_json(
        self,
        *,
        indent: int | None = None,  # pretty-print with this indent; None = compact
        include: Names = None,  # keep only these top-level fields
        exclude: Names = None,  # drop these top-level fields
        exclude_none: bool = False,  # drop fields whose value is None
    ) -> str:
        """The model as JSON text (compact unless `indent`), as pydantic writes it."""
        data = self.model_dump(
            mode="json", include=include, exclude=exclude, exclude_none=exclude_none
        )
        separators = (",", ":") if indent is None else None
        return json.dumps(data, indent=indent, separators=separators, ensure_ascii=False)

    @classmethod
    def model_validate(
        cls,
        obj: Any,  # a dict (e.g. from model_dump or JSON) or an instance
    ) -> Self:
        """An instance from a dict or an instance (returned as it is)."""
        if isinstance(obj, cls):
            return obj
        if not isinstance(obj, Mapping):
            raise InvalidInputError(
                f"{cls.__name__}.model_validate needs a dict or a {cls.__name__}"
            )
        return _build(cls, obj)

    @classmethod
    def model_validate_json(
        cls,
        text: str | bytes,  # JSON text of one model
    ) -> Self:
        """An instance from JSON text."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError):
            raise InvalidInputError(f"{cls.__name__}.model_validate_json needs JSON text") from None
        return cls.model_validate(data)

    def model_copy(
        self,
        *,
        update: Mapping[str, Any] | None = None,  # fields to change in the copy
    ) -> Self:
        """A copy with some fields changed (checked again, as at construction)."""
        return dataclasses.replace(self, **dict(update or {}))  # type: ignore[type-var]
