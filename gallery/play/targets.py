"""What a play step acts on: a CSS selector, an element by its ARIA role (and accessible name),
or an element by its text. Each target knows its JSON form (what play.js resolves) and its label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ROLES", "Css", "Role", "Target", "Text", "target"]

ROLES = frozenset(  # the roles play.js resolves (explicit role= or the element's implicit one)
    {
        "alert",
        "button",
        "cell",
        "checkbox",
        "combobox",
        "dialog",
        "heading",
        "img",
        "link",
        "listitem",
        "option",
        "radio",
        "region",
        "row",
        "status",
        "switch",
        "table",
        "textbox",
    }
)


def _text(value: Any, what: str) -> str:
    """A non-empty string, or a TypeError/ValueError naming `what`."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{what} must not be empty")
    return value


@dataclass(frozen=True)
class Css:
    """The first element matching a CSS selector (inside the canvas document)."""

    selector: str  # a CSS selector, e.g. "#byok-form-openai button[type=submit]"

    def __post_init__(self) -> None:
        _text(self.selector, "a CSS selector")

    def to_json(self) -> dict[str, Any]:
        """The target as play.js reads it."""
        return {"css": self.selector}

    def label(self) -> str:
        """How the Interactions panel names it."""
        return self.selector


@dataclass(frozen=True)
class Role:
    """An element by ARIA role and accessible name (substring, case-insensitive unless exact)."""

    role: str  # an ARIA role, e.g. "button", "textbox", "alert"
    name: str | None = None  # its accessible name (aria-label, label, text), e.g. "Save"
    exact: bool = False  # the whole name must match, case-sensitively

    def __post_init__(self) -> None:
        _text(self.role, "a role")
        if self.role not in ROLES:
            raise ValueError(f"role {self.role!r} is not one of {sorted(ROLES)}")
        if self.name is not None:
            _text(self.name, "a role's name")

    def to_json(self) -> dict[str, Any]:
        """The target as play.js reads it."""
        return {"role": self.role, "name": self.name, "exact": self.exact}

    def label(self) -> str:
        """How the Interactions panel names it."""
        return f'{self.role} "{self.name}"' if self.name else self.role


@dataclass(frozen=True)
class Text:
    """The smallest element whose text holds `text` (case-insensitive unless exact)."""

    text: str  # the text to find, e.g. "Key saved"
    exact: bool = False  # the element's whole text must be `text`, case-sensitively

    def __post_init__(self) -> None:
        _text(self.text, "a text target")

    def to_json(self) -> dict[str, Any]:
        """The target as play.js reads it."""
        return {"text": self.text, "exact": self.exact}

    def label(self) -> str:
        """How the Interactions panel names it."""
        return f'text "{self.text}"'


Target = Css | Role | Text  # what a step may act on


def target(
    value: Any,  # a Css / Role / Text, or a str (a CSS selector)
) -> Target:
    """The value as a Target: a str is a CSS selector; anything else is a TypeError."""
    if isinstance(value, Css | Role | Text):
        return value
    if isinstance(value, str):
        return Css(value)
    raise TypeError(
        f"a step's target is a CSS selector (str), Role(...) or Text(...), not {type(value).__name__}"
    )
