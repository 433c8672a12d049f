"""The steps of a story's play: one frozen dataclass per kind, each writing its own JSON (what
play.js runs) and its own label (what the Interactions panel and a failing test show).

Every step starts once htmx is idle (no request in flight) and waits up to its `timeout` for its
target: an action acts on the element when it is there and visible; an expectation holds when it
becomes true; a wait returns when a request has answered or a swap has settled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .targets import Target, target

__all__ = [
    "STEP_TYPES",
    "Click",
    "ExpectAttribute",
    "ExpectCount",
    "ExpectHidden",
    "ExpectText",
    "ExpectVisible",
    "Fill",
    "Press",
    "Select",
    "Step",
    "WaitRequest",
    "WaitSwap",
    "check_play",
]

DEFAULT_TIMEOUT = 5.0  # seconds a step waits for its target or its condition
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_KEY_LIKE = re.compile(r"^(sk-|sk_|gsk_|AIza|xai-|pk_|rk_|acme_)|key|secret|token|password", re.I)
_KEY_NAMES = re.compile(r"^([A-Za-z0-9]|F[0-9]{1,2}|[A-Z][A-Za-z]+)$")  # "a", "Enter", "F5"


def _timeout(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"a step's timeout is seconds (a number), not {type(value).__name__}")
    if not 0 < value <= 60:
        raise ValueError(f"a step's timeout must be more than 0 and at most 60 s, not {value}")
    return float(value)


def _str(value: Any, what: str, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if not empty and not value:
        raise ValueError(f"{what} must not be empty")
    return value


class _Step:
    """What every step has: a target (or none), a timeout, its JSON and its label."""

    kind = ""  # the step's name in JSON ("click", "fill", ...)

    def _check(self) -> None:
        if hasattr(self, "target") and self.target is not None:
            object.__setattr__(self, "target", target(self.target))
        _timeout(self.timeout)  # type: ignore[attr-defined]

    def _fields(self) -> dict[str, Any]:
        return {}

    def to_json(self) -> dict[str, Any]:
        """The step as play.js runs it."""
        out: dict[str, Any] = {"do": self.kind, "label": self.label()}
        t = getattr(self, "target", None)
        out["target"] = t.to_json() if t is not None else None
        out["timeout"] = round(self.timeout * 1000)  # type: ignore[attr-defined]
        return out | self._fields()

    def label(self) -> str:
        """One line saying what the step does (the Interactions panel, a test's message)."""
        raise NotImplementedError


def _where(t: Target | None) -> str:
    return t.label() if t is not None else "anything"


@dataclass(frozen=True)
class Click(_Step):
    """Click an element (a button, a link, a summary...)."""

    target: Target | str  # what to click: a CSS selector, Role(...) or Text(...)
    timeout: float = field(default=DEFAULT_TIMEOUT, kw_only=True)  # seconds to wait for it
    kind = "click"

    def __post_init__(self) -> None:
        self._check()

    def label(self) -> str:
        """One line saying what the step does."""
        return f"click {_where(self.target)}"  # type: ignore[arg-type]


@dataclass(frozen=True)
class Fill(_Step):
    """Type a value into a field (replacing what it holds), firing input and change."""

    target: Target | str  # the field: a CSS selector, Role("textbox", name=...) ...
    value: str  # what to type (may be "": clears the field)
    timeout: float = field(default=DEFAULT_TIMEOUT, kw_only=True)  # seconds to wait for it

    kind = "fill"

    def __post_init__(self) -> None:
        self._check()
        _str(self.value, "Fill's value", empty=True)

    def _fields(self) -> dict[str, Any]:
        return {"value": self.value}

    def label(self) -> str:
        """One line saying what the step does (a key-like value masked)."""
        v = self.value
        secret = _KEY_LIKE.search(v) or _KEY_LIKE.search(_where(self.target))  # type: ignore[arg-type]
        shown = (v[:4] + "…" + v[-4:] if len(v) >= 12 else "•" * len(v)) if secret else v
        return f'fill {_where(self.target)} with "{shown}"'  # type: ignore[arg-type]


@dataclass(frozen=True)
class Select(_Step):
    """Choose an option of a select element by its value or its text."""

    target: Target | str  # the select: a CSS selector or Role("combobox", name=...)
    option: str  # the option's value or its visible text
    timeout: float = field(default=DEFAULT_TIMEOUT, kw_only=True)  # seconds to wait for it

    kind = "select"

    def __post_init__(self) -> None:
        self._check()
        _str(self.option, "Select's option")

    def _fields(self) -> dict[str, Any]:
        return {"option": self.option}

    def label(self) -> str:
        """One line saying what the step does."""
        return f'select "{self.option}" in {_where(self.target)}'  # type: ignore[arg-type]


@dataclass(frozen=True)
class Press(_Step):
    """Press a key on an element (keydown, keypress, keyup; Enter submits a form)."""

    target: Target | str  # the element that has focus for the key
    key: str  # a key name: "Enter", "Escape", "Tab", "a"...
    timeout: float = field(default=DEFAULT_TIMEOUT, kw_only=True)  # seconds to wait for it

    kind = "press"

    def __post_init__(self) -> None:
        self._check()
        if not _KEY_NAMES.match(_str(self.key, "Press's key")):
            raise ValueError(f'Press takes one key name ("Enter", "Escape", "a"), not {self.key!r}')

    def _fields(self) -> dict[str, Any]:
        return {"key": self.key}

    def label(self) -> str:
        """One line saying what the step does."""
        return f"press {self.key} on {_where(self.target)}"  # type: ignore[arg-type]


@dataclass(frozen=True)
class WaitRequest(_Step):
    """Wait until an htmx request has answered (one not waited for yet), optionally checking it."""

    method: str | None = None  # "POST", "DELETE"... (None: any)
    path: str | None = None  # the start of its path as the story writes it, e.g. "/api/keys"
    status: int | None = None  # the status it must answer with (None: any)
    timeout: float = field(default=DEFAULT_TIMEOUT, kw_only=True)  # seconds to wait for it

    kind = "wait-request"

    def __post_init__(self) -> None:
        self._check()
        if self.method is not None:
            object.__setattr__(self, "method", _str(self.method, "WaitRequest's method").upper())
            if self.method not in METHODS:
                raise ValueError(f"WaitRequest's method must be one of {METHODS}")
        if self.path is not None and not _str(self.path, "WaitRequest's path").startswith("/"):
            raise ValueError(f"WaitRequest's path starts with /, not {self.path!r}")
        if self.status is not None:
            if isinstance(self.status, bool) or not isinstance(self.status, int):
                raise TypeError(f"WaitRequest's status is an int, not {self.status!r}")
            if not 100 <= self.status <= 599:
                raise ValueError(f"WaitRequest's status must be an HTTP status, not {self.status}")

    def _fields(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "status": self.status}

    def label(self) -> str:
        """One line saying what the step does."""
        what = " ".join(p for p in (self.method, self.path) if p) or "a request"
        return f"wait for {what}" + (f" → {self.status}" if self.status else "")


@dataclass(frozen=True)
class WaitSwap(_Step):
    """Wait until htmx has swapped and settled content (into `target`, if given)."""

    target: Target | str | None = None  # where the swap lands (None: anywhere)
    timeout: float = field(default=DEFAULT_TIMEOUT, kw_only=True)  # seconds to wait for it

    kind = "wait-swap"

    def __post_init__(self) -> None:
        self._check()

    def label(self) -> str:
        """One line saying what the step does."""
        return "wait for a swap" + (f" into {_where(self.target)}" if self.target else "")  # type: ignore[arg-type]


@dataclass(frozen=True)
class ExpectText(_Step):
    """Expect an element whose text holds `text` (case-insensitive unless exact)."""

    target: Target | str  # the element
    text: str  # what its text holds
    exact: bool = False  # its whole text (spaces collapsed) must equal `text`
    timeout: float = field(default=DEFAULT_TIMEOUT, kw_only=True)  # seconds to wait for it

    kind = "expect-text"

    def __post_init__(self) -> None:
        self._check()
        _str(self.text, "ExpectText's text")

    def _fields(self) -> dict[str, Any]:
        return {"text": self.text, "exact": self.exact}

    def label(self) -> str:
        """One line saying what the step does."""
        return f'expect {_where(self.target)} to say "{self.text}"'  # type: ignore[arg-type]


@dataclass(frozen=True)
class ExpectVisible(_Step):
    """Expect an element to be there and visible."""

    target: Target | str  # the element
    timeout: float = field(default=DEFAULT_TIMEOUT, kw_only=True)  # seconds to wait for it

    kind = "expect-visible"

    def __post_init__(self) -> None:
        self._check()

    def label(self) -> str:
        """One line saying what the step does."""
        return f"expect {_where(self.target)} visible"  # type: ignore[arg-type]


@dataclass(frozen=True)
class ExpectHidden(_Step):
    """Expect no visible element to match (gone from the page, or hidden)."""

    target: Target | str  # the element
    timeout: float = field(default=DEFAULT_TIMEOUT, kw_only=True)  # seconds to wait for it

    kind = "expect-hidden"

    def __post_init__(self) -> None:
        self._check()

    def label(self) -> str:
        """One line saying what the step does."""
        return f"expect {_where(self.target)} hidden"  # type: ignore[arg-type]


@dataclass(frozen=True)
class ExpectCount(_Step):
    """Expect exactly `count` visible elements to match."""

    target: Target | str  # the elements
    count: int  # how many
    timeout: float = field(default=DEFAULT_TIMEOUT, kw_only=True)  # seconds to wait for it

    kind = "expect-count"

    def __post_init__(self) -> None:
        self._check()
        if isinstance(self.count, bool) or not isinstance(self.count, int):
            raise TypeError(f"ExpectCount's count is an int, not {type(self.count).__name__}")
        if self.count < 0:
            raise ValueError(f"ExpectCount's count must not be negative, not {self.count}")

    def _fields(self) -> dict[str, Any]:
        return {"count": self.count}

    def label(self) -> str:
        """One line saying what the step does."""
        return f"expect {self.count} × {_where(self.target)}"  # type: ignore[arg-type]


@dataclass(frozen=True)
class ExpectAttribute(_Step):
    """Expect an element's attribute to equal `value` (None: the attribute is absent)."""

    target: Target | str  # the element
    name: str  # the attribute, e.g. "aria-pressed"
    value: str | None  # its value, or None for "not there"
    timeout: float = field(default=DEFAULT_TIMEOUT, kw_only=True)  # seconds to wait for it

    kind = "expect-attribute"

    def __post_init__(self) -> None:
        self._check()
        _str(self.name, "ExpectAttribute's name")
        if self.value is not None:
            _str(self.value, "ExpectAttribute's value", empty=True)

    def _fields(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value}

    def label(self) -> str:
        """One line saying what the step does."""
        want = "absent" if self.value is None else f'= "{self.value}"'
        return f"expect {_where(self.target)} [{self.name}] {want}"  # type: ignore[arg-type]


STEP_TYPES = (
    Click,
    Fill,
    Select,
    Press,
    WaitRequest,
    WaitSwap,
    ExpectText,
    ExpectVisible,
    ExpectHidden,
    ExpectCount,
    ExpectAttribute,
)
Step = (
    Click
    | Fill
    | Select
    | Press
    | WaitRequest
    | WaitSwap
    | ExpectText
    | ExpectVisible
    | ExpectHidden
    | ExpectCount
    | ExpectAttribute
)


def check_play(
    steps: Iterable[Any],  # what a Story was given as play=
) -> tuple[Step, ...]:
    """The steps as a tuple; a TypeError names the first thing that is not a step."""
    if isinstance(steps, (str, bytes, dict, *STEP_TYPES)):
        raise TypeError(
            "a story's play is a list of steps, e.g. play=[Click(...), ExpectText(...)]"
        )
    out = tuple(steps)
    for i, step in enumerate(out, 1):
        if not isinstance(step, STEP_TYPES):
            names = ", ".join(t.__name__ for t in STEP_TYPES)
            raise TypeError(f"play step {i} is a {type(step).__name__}, not a step ({names})")
    return out
