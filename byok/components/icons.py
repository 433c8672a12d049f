"""Decorative SVG icons (stroke = currentColor, aria-hidden), with the reference's names.

`InfoIcon(size="6")` etc. return a fresh element; components embed `icon_markup(...)`, the same
SVG rendered once per (shape, size, tint) and reused, so rendering an alert never rebuilds it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ._html import FT, Safe, el, pass_through, render_once
from .classes import CLASSES
from .variants import AlertKind, IconSize, coerce

__all__ = [
    "ErrorIcon",
    "InfoIcon",
    "SuccessIcon",
    "WarningIcon",
    "icon_markup",
]

# shape name -> the SVG's children as (tag, attributes); drawn on a 24x24 grid
_SHAPES: dict[str, tuple[tuple[str, dict[str, str]], ...]] = {
    "info": (
        ("circle", {"cx": "12", "cy": "12", "r": "9"}),
        ("path", {"d": "M12 11v5M12 8h.01"}),
    ),
    "success": (
        ("circle", {"cx": "12", "cy": "12", "r": "9"}),
        ("path", {"d": "m8.5 12.5 2.5 2.5 4.5-5"}),
    ),
    "warning": (
        ("path", {"d": "M12 3.5 2.5 20h19L12 3.5Z"}),
        ("path", {"d": "M12 10v4.5M12 17.5h.01"}),
    ),
    "error": (
        ("circle", {"cx": "12", "cy": "12", "r": "9"}),
        ("path", {"d": "m9 9 6 6m0-6-6 6"}),
    ),
    "close": (("path", {"d": "M6 6l12 12M18 6 6 18"}),),
    "eye": (
        ("path", {"d": "M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12Z"}),
        ("circle", {"cx": "12", "cy": "12", "r": "3"}),
    ),
    "eye-off": (
        ("path", {"d": "M3 3l18 18"}),
        ("path", {"d": "M10.6 5.1A10.7 10.7 0 0 1 12 5c6.5 0 10 7 10 7a17 17 0 0 1-2.6 3.5"}),
        ("path", {"d": "M6.6 6.6A17.3 17.3 0 0 0 2 12s3.5 7 10 7a9.8 9.8 0 0 0 5.4-1.6"}),
        ("path", {"d": "M9.9 9.9a3 3 0 0 0 4.2 4.2"}),
    ),
    "external": (
        (
            "path",
            {"d": "M14 4h6v6M20 4l-9 9M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5"},
        ),
    ),
    "key": (
        ("circle", {"cx": "8", "cy": "15", "r": "4"}),
        ("path", {"d": "m10.8 12.2 8.7-8.7M17 6l2.5 2.5M15 8l2 2"}),
    ),
}

_SVG_ATTRS = {  # shared by every icon; decorative, so hidden from assistive technology
    "xmlns": "http://www.w3.org/2000/svg",
    "viewBox": "0 0 24 24",
    "fill": "none",
    "stroke": "currentColor",
    "stroke-width": "2",
    "stroke-linecap": "round",
    "stroke-linejoin": "round",
    "aria-hidden": "true",
    "focusable": "false",
}


def _svg(shape: str, size: IconSize, tint: AlertKind | None) -> FT:
    """A new SVG element for a shape at a size, optionally tinted with a kind's colour."""
    cls = CLASSES[f"icon.{size.value}"]
    if tint is not None:
        cls = f"{cls} {CLASSES[f'icon.tint.{tint.value}']}"
    children = tuple(el(tag, dict(attrs)) for tag, attrs in _SHAPES[shape])
    return el("svg", {**_SVG_ATTRS, "class": cls}, *children)


@cache
def icon_markup(
    shape: str,  # one of the shapes: info, success, warning, error, close, eye, eye-off, ...
    size: IconSize = IconSize.BASE,  # icon size
    tint: AlertKind | None = None,  # colour it with a kind's colour; None = inherit currentColor
) -> Safe:
    """The icon's markup, rendered once and reused (static: no caller data)."""
    return render_once(_svg(shape, size, tint))


def _kind_icon(kind: AlertKind, size: object, *, colored: bool, cls: str, attrs: dict) -> FT:
    """The public icon of a kind: its shape shares the kind's name (as in the alerts)."""
    svg = _svg(kind.value, coerce(IconSize, size, "size"), kind if colored else None)
    pass_through(svg.attrs, cls, attrs)
    return svg


def InfoIcon(
    size: IconSize = IconSize.BASE,  # size in Tailwind units: "3", "4", "5", "6", "8", "10", "12"
    *,
    colored: bool = True,  # tint with the info colour; False inherits the text colour
    cls: str = "",  # more classes for the svg
    **attrs: Any,  # more attributes, FastHTML style (aria_label=..., data_x=...)
) -> FT:
    """An info icon (a circled 'i')."""
    return _kind_icon(AlertKind.INFO, size, colored=colored, cls=cls, attrs=attrs)


def SuccessIcon(
    size: IconSize = IconSize.BASE,  # size in Tailwind units: "3", "4", "5", "6", "8", "10", "12"
    *,
    colored: bool = True,  # tint with the success colour; False inherits the text colour
    cls: str = "",  # more classes for the svg
    **attrs: Any,  # more attributes, FastHTML style (aria_label=..., data_x=...)
) -> FT:
    """A success icon (a circled check mark)."""
    return _kind_icon(AlertKind.SUCCESS, size, colored=colored, cls=cls, attrs=attrs)


def WarningIcon(
    size: IconSize = IconSize.BASE,  # size in Tailwind units: "3", "4", "5", "6", "8", "10", "12"
    *,
    colored: bool = True,  # tint with the warning colour; False inherits the text colour
    cls: str = "",  # more classes for the svg
    **attrs: Any,  # more attributes, FastHTML style (aria_label=..., data_x=...)
) -> FT:
    """A warning icon (an exclamation mark in a triangle)."""
    return _kind_icon(AlertKind.WARNING, size, colored=colored, cls=cls, attrs=attrs)


def ErrorIcon(
    size: IconSize = IconSize.BASE,  # size in Tailwind units: "3", "4", "5", "6", "8", "10", "12"
    *,
    colored: bool = True,  # tint with the error colour; False inherits the text colour
    cls: str = "",  # more classes for the svg
    **attrs: Any,  # more attributes, FastHTML style (aria_label=..., data_x=...)
) -> FT:
    """An error icon (a circled cross)."""
    return _kind_icon(AlertKind.ERROR, size, colored=colored, cls=cls, attrs=attrs)
