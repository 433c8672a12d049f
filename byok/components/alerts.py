"""Alerts, toasts and validation messages (the reference's names and parameters, and more).

Behaviour without inline JavaScript: a dismiss button carries `data-byok-dismiss`, an
auto-dismissing element `data-byok-dismiss-after="<ms>"`, and the static `byok.js`
(`byok.components.assets`) acts on them. Ids come from the inputs, never from id() or time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._html import (
    FT,
    digest,
    el,
    masked,
    pass_through,
    render_once,
    safe_dom_id,
    safe_url,
    slugify,
)
from .classes import CLASSES
from .icons import ErrorIcon, InfoIcon, SuccessIcon, WarningIcon, icon_markup
from .variants import (
    AlertKind,
    AlertStyle,
    IconSize,
    KeyStatus,
    Severity,
    StackSpacing,
    ToastAlign,
    ToastPosition,
    coerce,
)
from .wiring import TOAST_CONTAINER_ID

__all__ = [
    "Alert",
    "AlertStack",
    "ErrorIcon",
    "InfoIcon",
    "KeyStatusNotification",
    "SecurityAlert",
    "SuccessIcon",
    "Toast",
    "ToastContainer",
    "ValidationMessage",
    "WarningIcon",
    "oob_toast",
]

# precomputed per variant: class strings, roles and icons never get built while rendering
_ALERT_CLS = {
    (kind, style): CLASSES[f"alert.{kind.value}" + (f".{style.value}" if style else "")]
    for kind in AlertKind
    for style in (None, *AlertStyle)
}
_ROLE = {  # polite for news, assertive for problems
    AlertKind.INFO: ("status", "polite"),
    AlertKind.SUCCESS: ("status", "polite"),
    AlertKind.WARNING: ("alert", "assertive"),
    AlertKind.ERROR: ("alert", "assertive"),
}
_ALERT_ICON = {  # filled: inherits the alert's content colour; tinted styles: the kind's colour
    (kind, style): icon_markup(kind.value, IconSize.BASE, None if style is None else kind)
    for kind in AlertKind
    for style in (None, *AlertStyle)
}
_DISMISS = render_once(
    el(
        "button",
        {
            "type": "button",
            "class": CLASSES["alert.dismiss"],
            "aria-label": "Dismiss",
            "data-byok-dismiss": "",
        },
        icon_markup("close", IconSize.SM),
    )
)
_BODY_CLS = CLASSES["alert.body"]
_TITLE_CLS = CLASSES["alert.title"]


def _alert(
    message: Any,  # the alert's text or elements
    kind: AlertKind,  # its colour and role (coerced)
    *,
    title: Any = None,  # bold title above the message
    dismissible: bool = False,  # a close button
    show_icon: bool = True,  # the kind's icon
    style: AlertStyle | None = None,  # soft, outline, dash (coerced); None = filled
    id: str | None = None,  # HTML id
    extra: dict[str, Any] | None = None,  # byok's own extra root attributes (data-byok-*)
    cls: str = "",  # the caller's classes
    attrs: dict[str, Any] | None = None,  # the caller's attributes, FastHTML style
) -> FT:
    """The one alert renderer every alert-like component uses (arguments already coerced)."""
    role, live = _ROLE[kind]
    body = (
        el(
            "div",
            {"class": _BODY_CLS},
            el("div", {"class": _TITLE_CLS}, title),
            el("div", {}, message),
        )
        if title
        else el("div", {"class": _BODY_CLS}, el("div", {}, message))
    )
    own = {"role": role, "aria-live": live, "class": _ALERT_CLS[kind, style], "id": id}
    if dismissible:
        own["data-byok-dismissible"] = ""
    if extra:
        own.update(extra)
    return el(
        "div",
        pass_through(own, cls, attrs or {}),
        _ALERT_ICON[kind, style] if show_icon else None,
        body,
        _DISMISS if dismissible else None,
    )


def Alert(
    message: str,  # the alert text (escaped)
    kind: AlertKind = AlertKind.INFO,  # info, success, warning or error
    title: str | None = None,  # optional bold title above the message
    dismissible: bool = False,  # show a close button (handled by byok.js)
    show_icon: bool = True,  # show the kind's icon
    style: AlertStyle | None = None,  # soft, outline or dash; None = filled
    id: str | None = None,  # HTML id of the alert
    *,
    cls: str = "",  # more classes for the root element
    **attrs: Any,  # more attributes, FastHTML style (hx_swap_oob="true", data_x=...)
) -> FT:
    """An alert box; role=status for info/success, role=alert for warning/error."""
    return _alert(
        message,
        coerce(AlertKind, kind, "kind"),
        title=title,
        dismissible=dismissible,
        show_icon=show_icon,
        style=None if style is None else coerce(AlertStyle, style, "style"),
        id=id,
        cls=cls,
        attrs=attrs,
    )


_SEVERITY = {  # severity -> (alert colour, style, icon, badge recipe, action recipe)
    Severity.LOW: (AlertKind.INFO, AlertStyle.SOFT, "info", "info", "info"),
    Severity.MEDIUM: (AlertKind.WARNING, AlertStyle.SOFT, "warning", "warning", "warning"),
    Severity.HIGH: (AlertKind.ERROR, AlertStyle.SOFT, "warning", "error", "error"),
    Severity.CRITICAL: (AlertKind.ERROR, None, "error", "critical", "critical"),
}


def SecurityAlert(
    message: str,  # what is wrong (escaped)
    severity: Severity = Severity.MEDIUM,  # low, medium, high or critical
    action_url: str | None = None,  # remediation link (http(s) or relative only)
    action_text: str = "Fix Now",  # text of the remediation link
    *,
    id: str | None = None,  # HTML id of the alert
    cls: str = "",  # more classes for the root element
    **attrs: Any,  # more attributes, FastHTML style (hx_swap_oob="true", data_x=...)
) -> FT:
    """A security alert with a severity badge and an optional remediation link."""
    sev = coerce(Severity, severity, "severity")
    kind, style, icon, badge, action = _SEVERITY[sev]
    link = None
    if action_url is not None:
        link = el(
            "a",
            {
                "href": safe_url(action_url, "action_url"),
                "class": CLASSES[f"severity.action.{action}"],
            },
            action_text,
        )
    own = {"role": "alert", "aria-live": "assertive", "class": _ALERT_CLS[kind, style], "id": id}
    return el(
        "div",
        pass_through(own, cls, attrs),
        icon_markup(icon, IconSize.BASE, None if style is None else kind),
        el(
            "div",
            {"class": _BODY_CLS},
            el(
                "p",
                {"class": _TITLE_CLS},
                "Security alert",
                el("span", {"class": CLASSES[f"severity.badge.{badge}"]}, sev.value.upper()),
            ),
            el("p", {"class": CLASSES["severity.message"]}, message),
            link,
        ),
    )


_STATUS = {  # status -> (kind, message template)
    KeyStatus.ADDED: (AlertKind.SUCCESS, "{name} API key added"),
    KeyStatus.UPDATED: (AlertKind.SUCCESS, "{name} API key updated"),
    KeyStatus.DELETED: (AlertKind.INFO, "{name} API key removed"),
    KeyStatus.EXPIRED: (AlertKind.WARNING, "{name} API key has expired"),
    KeyStatus.INVALID: (AlertKind.ERROR, "{name} API key is invalid"),
}


def _duration(value: Any, param: str) -> int:
    """A non-negative whole number of milliseconds, else ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{param} must be a non-negative int (milliseconds)")
    return value


def KeyStatusNotification(
    provider: str,  # provider name, e.g. "openai"
    status: KeyStatus,  # added, updated, deleted, expired or invalid
    masked_key: str | None = None,  # masked key shown for added/updated (masked again if whole)
    auto_dismiss: bool = True,  # remove itself after `dismiss_after` ms (byok.js)
    dismiss_after: int = 5000,  # milliseconds before it is removed (≥ 0)
    *,
    provider_config: Mapping[str, Any] | None = None,  # display-name overrides
    cls: str = "",  # more classes for the root element
    **attrs: Any,  # more attributes, FastHTML style (hx_swap_oob="true", data_x=...)
) -> FT:
    """A dismissible notification that a provider's key was added, removed, expired..."""
    from byok.utils.helpers import format_provider_name

    st = coerce(KeyStatus, status, "status")
    ms = _duration(dismiss_after, "dismiss_after")
    kind, template = _STATUS[st]
    message = template.format(name=format_provider_name(provider, provider_config))
    if masked_key and st in (KeyStatus.ADDED, KeyStatus.UPDATED):
        message = f"{message} ({masked(masked_key)})"
    extra = {"data-byok-dismiss-after": str(ms)} if auto_dismiss and ms else None
    nid = f"byok-notification-{slugify(provider)}-{st.value}"
    return _alert(message, kind, dismissible=True, id=nid, extra=extra, cls=cls, attrs=attrs)


def ToastContainer(
    position: ToastPosition = ToastPosition.TOP,  # top, middle or bottom of the viewport
    align: ToastAlign = ToastAlign.END,  # start, center or end
    id: str = TOAST_CONTAINER_ID,  # id; oob_toast() appends toasts to it
    *,
    cls: str = "",  # more classes for the root element
    **attrs: Any,  # more attributes, FastHTML style (hx_swap_oob="true", data_x=...)
) -> FT:
    """The fixed container toasts are appended to (out-of-band)."""
    pos = coerce(ToastPosition, position, "position")
    al = coerce(ToastAlign, align, "align")
    own = {
        "id": safe_dom_id(id, "id"),
        "class": CLASSES[f"toast.{pos.value}.{al.value}"],
        "role": "region",
        "aria-label": "Notifications",
    }
    return el("div", pass_through(own, cls, attrs))


def Toast(
    message: str,  # toast text (escaped)
    kind: AlertKind = AlertKind.INFO,  # info, success, warning or error
    duration: int = 3000,  # milliseconds before it removes itself (≥ 0); 0 = stays
    *,
    id: str | None = None,  # HTML id; default derived from kind, message and duration
    dismissible: bool = True,  # show a close button
    cls: str = "",  # more classes for the root element
    **attrs: Any,  # more attributes, FastHTML style (hx_swap_oob="true", data_x=...)
) -> FT:
    """A toast (an alert that removes itself after `duration` ms, via byok.js)."""
    k = coerce(AlertKind, kind, "kind")
    ms = _duration(duration, "duration")
    tid = id if id is not None else f"byok-toast-{digest(k.value, str(message), str(ms))}"
    extra = {"data-byok-dismiss-after": str(ms)} if ms else None
    return _alert(message, k, dismissible=dismissible, id=tid, extra=extra, cls=cls, attrs=attrs)


def oob_toast(
    message: str,  # toast text (escaped)
    kind: AlertKind = AlertKind.INFO,  # info, success, warning or error
    duration: int = 3000,  # milliseconds before it removes itself (≥ 0); 0 = stays
    container_id: str = TOAST_CONTAINER_ID,  # the ToastContainer's id
    id: str | None = None,  # the toast's id (default derived from its content)
) -> FT:
    """A Toast wrapped for an htmx out-of-band append into the ToastContainer."""
    return el(
        "div",
        {"id": safe_dom_id(container_id, "container_id"), "hx-swap-oob": "beforeend"},
        Toast(message, kind, duration, id=id),
    )


_VALIDATION = {
    True: (
        "status",
        CLASSES["validation.valid"],
        icon_markup("success", IconSize.SM, AlertKind.SUCCESS),
    ),
    False: (
        "alert",
        CLASSES["validation.invalid"],
        icon_markup("error", IconSize.SM, AlertKind.ERROR),
    ),
}


def ValidationMessage(
    message: str,  # the message (escaped)
    is_valid: bool = False,  # success style (True) or error style (False)
    show_icon: bool = True,  # show a check / cross icon
    *,
    id: str | None = None,  # HTML id; the key routes use wiring.validation_id(provider)
    cls: str = "",  # more classes for the root element
    **attrs: Any,  # more attributes, FastHTML style (hx_swap_oob="true", data_x=...)
) -> FT:
    """An inline message under a form field: role=alert when invalid, role=status when valid."""
    role, kind_cls, icon = _VALIDATION[bool(is_valid)]
    return el(
        "div",
        pass_through({"id": id, "role": role, "class": kind_cls}, cls, attrs),
        icon if show_icon else None,
        el("span", {}, message),
    )


def AlertStack(
    alerts: Sequence[Any],  # alert elements, shown in order (the sequence is not modified)
    max_visible: int = 3,  # how many show at once (≥ 0); the rest fold under "+N more"
    spacing: StackSpacing = StackSpacing.BASE,  # gap between alerts, Tailwind units
    *,
    cls: str = "",  # more classes for the root element
    **attrs: Any,  # more attributes, FastHTML style (hx_swap_oob="true", data_x=...)
) -> FT:
    """A vertical stack of alerts; overflow folds into a native `<details>` (no script)."""
    gap = coerce(StackSpacing, spacing, "spacing")
    if isinstance(max_visible, bool) or not isinstance(max_visible, int) or max_visible < 0:
        raise ValueError("max_visible must be a non-negative int")
    items = tuple(alerts)
    gap_cls = CLASSES[f"stack.{gap.value}"]
    shown, rest = items[:max_visible], items[max_visible:]
    more = None
    if rest:
        more = el(
            "details",
            {},
            el("summary", {"class": CLASSES["stack.more"]}, f"+{len(rest)} more"),
            el("div", {"class": gap_cls}, *rest),
        )
    return el("div", pass_through({"class": gap_cls}, cls, attrs), *shown, more)
