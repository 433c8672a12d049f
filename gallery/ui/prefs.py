"""What a visitor chose and the gallery remembers: the theme, the sidebar groups left open, the
canvas's viewport and the panels' share of the story. Live, they are cookies that gallery.js
writes and the server renders the page with, so a page comes back as it was left and nothing is
read from storage before its first paint (bench "cold load": a page's first localStorage read
held its parser up for the storage's load, 15-20 ms in Chromium). A static export has no
server: there gallery.js keeps them in localStorage and applies them once the page is parsed.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import unquote

__all__ = ["COOKIES", "DEFAULTS", "SPLIT_BOUNDS", "Prefs"]

# Prefs field -> its cookie (and a static export's localStorage key): gallery.js names the same
COOKIES = {
    "theme": "byok-gallery-theme",
    "groups": "byok-gallery-groups",
    "viewport": "byok-gallery-viewport",
    "split": "byok-gallery-panels",
}
SPLIT_BOUNDS = (15, 75)  # the panels' share in percent, as gallery.js bounds it (SPLIT)
_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")  # a theme's or a viewport's name
_MAX_GROUPS, _MAX_GROUP_CHARS = 100, 200  # more is no sidebar of this gallery's


class Prefs(NamedTuple):
    """The visitor's remembered choices; None (or empty) where none was made."""

    theme: str | None = None  # a daisyUI theme's name, on <html data-theme>
    groups: frozenset[str] = frozenset()  # sidebar groups rendered open
    viewport: str | None = None  # the canvas's viewport (a VIEWPORTS name)
    split: int | None = None  # the panels' share of the story's height, in percent

    @classmethod
    def of(
        cls,
        cookies: Mapping[str, str],  # a request's cookies
    ) -> Prefs:
        """The choices in the cookies; a missing or malformed one is left at its default."""
        theme, groups, viewport, split = (_value(cookies, COOKIES[f]) for f in cls._fields)
        return cls(_name(theme), _groups(groups), _name(viewport), _split(split))


def _value(cookies: Mapping[str, str], name: str) -> Any:
    """A cookie's JSON value as gallery.js wrote it (URI-encoded), or None."""
    raw = cookies.get(name)
    if not raw or len(raw) > 4096:
        return None
    try:
        return json.loads(unquote(raw))
    except ValueError:
        return None


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) and _NAME.fullmatch(value) else None


def _groups(value: Any) -> frozenset[str]:
    if not isinstance(value, list) or len(value) > _MAX_GROUPS:
        return frozenset()
    return frozenset(g for g in value if isinstance(g, str) and 0 < len(g) <= _MAX_GROUP_CHARS)


def _split(value: Any) -> int | None:
    if type(value) not in (int, float) or not math.isfinite(value):  # (not a bool, NaN or ∞)
        return None
    low, high = SPLIT_BOUNDS
    return max(low, min(high, round(value)))


DEFAULTS = Prefs()  # no choice remembered (a static export, a first visit)
