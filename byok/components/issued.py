"""The issued-key components: KeyStatusBadge, UsageSparkline and IssuedKeyReveal here,
IssuedKeyTable in `issued_table`, CreateKeyForm, ScopePicker and RollKeyDialog in `issued_forms`. They render `byok.issuing.APIKey` records (any object with
the same attributes will do) and never a whole key, except the one reveal after issuing.

HTMX contract with `byok.issuing.routes` (ids and URLs from `byok.components.wiring`; `{base}`
is the routes' prefix, `{id}` a key id, `?view` the table's `status=…&page=…`):

- The table (`#byok-issued-keys`) re-renders itself: its status filter and pages are links
  (`hx-get="{base}?view"`), its row actions post to `{base}/{id}/revoke?view` and
  `hx-delete="{base}/{id}?view"` (both `hx-confirm`), all with `hx-target="#byok-issued-keys"`
  `hx-swap="outerHTML"`: the answer is the table in the same view + an out-of-band toast.
- Roll: `hx-get="{base}/{id}/roll?view"` loads a RollKeyDialog into `#byok-issued-dialog`
  (byok.js opens it); its form posts to `{base}/{id}/roll?view` and fills `#byok-issued-reveal`.
- Create: CreateKeyForm posts to `{base}`, `hx-target="#byok-issued-reveal"`: the answer is the
  IssuedKeyReveal + the table and a fresh form out of band (`hx-swap-oob`) + a toast. A bad field
  is a **422** answering the form with the typed values kept and a ValidationMessage beside the
  field (`HX-Retarget: #byok-create-key-form`, `HX-Reswap: outerHTML`, `BYOK-Problem: invalid`).
- Other errors are toasts marked `BYOK-Problem`, exactly as the BYOK key routes answer them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from byok.core.types import as_utc, utcnow

from ._html import FT, el, pass_through, void
from .classes import CLASSES
from .variants import IssuedKeyStatus, RevealState, SparkStyle, coerce

__all__ = [
    "EXPIRING_SOON",
    "IssuedKeyReveal",
    "KeyStatusBadge",
    "UsageSparkline",
    "issued_key_status",
    "issued_masked",
]

EXPIRING_SOON = timedelta(days=7)  # a key expiring sooner than this is badged "Expiring"
_BADGE_TEXT = {
    IssuedKeyStatus.ACTIVE: "Active",
    IssuedKeyStatus.EXPIRING: "Expiring",
    IssuedKeyStatus.EXPIRED: "Expired",
    IssuedKeyStatus.REVOKED: "Revoked",
}


def issued_key_status(
    key: Any,  # an APIKey (revoked_at, metadata.expires_at)
    now: datetime | None = None,  # the current time (default: now, UTC); fixed for snapshots
    expiring_within: timedelta = EXPIRING_SOON,  # "expiring" below this remaining time
) -> IssuedKeyStatus:
    """The badge state of a key: revoked, expired, expiring (soon) or active."""
    if key.revoked_at is not None:
        return IssuedKeyStatus.REVOKED
    expires = key.metadata.expires_at
    if expires is None:
        return IssuedKeyStatus.ACTIVE
    left = as_utc(expires) - as_utc(now or utcnow())
    if left <= timedelta(0):
        return IssuedKeyStatus.EXPIRED
    return IssuedKeyStatus.EXPIRING if left <= expiring_within else IssuedKeyStatus.ACTIVE


def issued_masked(
    key: Any,  # an APIKey (key_prefix: the body's first characters)
    head: str | Mapping[str, str] = "sk_",  # the issuer's key head, or one per environment
) -> str:
    """The key as lists show it: its head and first characters, e.g. 'sk_live_AbCd1234…'."""
    if not isinstance(head, str):
        env = (getattr(key.metadata, "custom", None) or {}).get("environment", "")
        head = head.get(env) or next(iter(head.values()), "")
    return f"{head}{key.key_prefix}…"


def KeyStatusBadge(
    status: IssuedKeyStatus,  # active, expiring, expired or revoked
    label: str | None = None,  # text instead of the status's name
    *,
    cls: str = "",  # more classes for the badge
    **attrs: Any,  # more attributes, FastHTML style (hx_get=..., data_x=...)
) -> FT:
    """A coloured badge naming an issued key's state."""
    st = coerce(IssuedKeyStatus, status, "status")
    own = {"class": CLASSES[f"issued.badge.{st.value}"], "data-byok-key-status": st.value}
    return el("span", pass_through(own, cls, attrs), _BADGE_TEXT[st] if label is None else label)


def _n(x: float) -> str:
    """A coordinate with at most two decimals (deterministic, short)."""
    return f"{x:.2f}".rstrip("0").rstrip(".") or "0"


def _counts(usage: Sequence[Any]) -> tuple[list[int], date | None]:
    """Counts (ints, or UsageDay-like objects with .day and .count) and the last day, if known."""
    if isinstance(usage, str | bytes) or not isinstance(usage, Sequence) or not usage:
        raise ValueError("counts must be a non-empty list of daily counts")
    if len(usage) > 400:
        raise ValueError("counts holds at most 400 days")
    last = usage[-1].day if hasattr(usage[-1], "day") else None
    out = [getattr(u, "count", u) for u in usage]
    for c in out:
        if isinstance(c, bool) or not isinstance(c, int) or c < 0:
            raise ValueError("daily counts must be integers ≥ 0")
    return out, last


def _summary(counts: list[int], last: date | None) -> str:
    """What the sparkline shows, in words (its screen-reader text)."""
    days, total, top = len(counts), sum(counts), max(counts)
    span = "the last day" if days == 1 else f"the last {days} days"
    if not total:
        return f"Not used in {span}."
    times = "once" if total == 1 else f"{total} times"
    text = f"Used {times} in {span}"
    if days > 1:
        busiest = f"at most {top} in a day"
        if last is not None:
            day = last - timedelta(days=days - 1 - counts.index(top))
            busiest += f" ({day.isoformat()})"
        text += f", {busiest}, {counts[-1]} on the last day"
    return text + "."


def UsageSparkline(
    counts: Sequence[Any],  # uses per day, oldest first (ints or the engine's UsageDay records)
    style: SparkStyle = SparkStyle.BARS,  # bars or a line
    *,
    width: int = 120,  # drawing width in px
    height: int = 28,  # drawing height in px
    show_total: bool = True,  # print the total beside the drawing
    cls: str = "",  # more classes for the wrapper
    **attrs: Any,  # more attributes, FastHTML style
) -> FT:
    """Daily use as an inline SVG (no script); screen readers read the same facts as text."""
    st = coerce(SparkStyle, style, "style")
    for value, what in ((width, "width"), (height, "height")):
        if isinstance(value, bool) or not isinstance(value, int) or not 8 <= value <= 2000:
            raise ValueError(f"{what} must be an int from 8 to 2000")
    values, last = _counts(counts)
    top = max(values) or 1
    step = width / len(values)
    if st is SparkStyle.BARS:
        gap = 1 if step >= 3 else 0
        marks = [
            el(
                "rect",
                {
                    "x": _n(i * step),
                    "y": _n(height - max(1.0, height * c / top)),
                    "width": _n(max(step - gap, 0.5)),
                    "height": _n(max(1.0, height * c / top)),
                    "stroke": "none",
                    "opacity": None if c else "0.3",
                },
            )
            for i, c in enumerate(values)
        ]
    else:
        span = (width - 2) / max(len(values) - 1, 1)
        points = " ".join(
            f"{_n(1 + i * span)},{_n(height - 1 - (height - 2) * c / top)}"
            for i, c in enumerate(values)
        )
        marks = [
            el("polyline", {"points": points, "fill": "none", "stroke-width": "1.5"}),
        ]
    svg = el(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {width} {height}",
            "width": str(width),
            "height": str(height),
            "class": CLASSES["issued.spark.svg"],
            "aria-hidden": "true",
            "focusable": "false",
        },
        *marks,
    )
    total = sum(values)
    return el(
        "span",
        pass_through({"class": CLASSES["issued.spark"], "data-byok-usage": str(total)}, cls, attrs),
        svg,
        el("span", {"class": CLASSES["sr-only"]}, _summary(values, last)),
        el("span", {"class": CLASSES["issued.spark.total"], "aria-hidden": "true"}, f"{total}")
        if show_total
        else None,
    )


def IssuedKeyReveal(
    plaintext: str | None,  # the new key, shown this once (None when dismissed)
    masked_key: str,  # its masked form, shown after "I have saved it" (issued_masked)
    name: str | None = None,  # the key's name
    state: RevealState = RevealState.SHOWN,  # the key once, or only its masked form
    *,
    cls: str = "",  # more classes for the panel
    **attrs: Any,  # more attributes, FastHTML style
) -> FT:
    """The key shown once after creation: copy button, "you will not see it again", then masked."""
    st = coerce(RevealState, state, "state")
    if st is RevealState.SHOWN and not (isinstance(plaintext, str) and plaintext):
        raise ValueError("plaintext is required while the key is shown")
    title = f"API key “{name}”" if name else "Your new API key"
    masked_part = el(
        "p",
        {"data-byok-reveal-masked": "", "hidden": st is RevealState.SHOWN},
        f"{title}: ",
        el("code", {"class": CLASSES["card.key"]}, masked_key),
        " (only its start is kept, to tell it apart).",
    )
    body: list[Any] = [
        el("h3", {"id": "byok-reveal-title", "class": CLASSES["issued.reveal.title"]}, title)
    ]
    if st is RevealState.SHOWN:
        field = "byok-issued-plaintext"
        body.append(
            el(
                "div",
                {  # hx-history: while the key is on the page, htmx keeps no snapshot of it
                    "class": CLASSES["issued.root"],
                    "data-byok-reveal-secret": "",
                    "hx-history": "false",
                },
                el(
                    "p",
                    {"id": "byok-reveal-notice"},
                    el("strong", {}, "Copy it now: you will not see it again. "),
                    "Keep it in a password manager or your server's secrets; if it is lost, "
                    "roll it.",
                ),
                el(
                    "div",
                    {"class": CLASSES["field.join"]},
                    void(
                        "input",
                        {
                            "id": field,
                            "class": CLASSES["issued.reveal.field"],
                            "value": plaintext,
                            "readonly": True,
                            "autocomplete": "off",
                            "spellcheck": "false",
                            "aria-label": "The new API key",
                            "aria-describedby": "byok-reveal-notice",
                        },
                    ),
                    el(
                        "button",
                        {
                            "type": "button",
                            "class": CLASSES["issued.copy"],
                            "data-byok-copy": field,
                        },
                        "Copy",
                        el("span", {"class": CLASSES["sr-only"]}, " the API key"),
                    ),
                ),
                el(
                    "div",
                    {"class": CLASSES["issued.reveal.foot"]},
                    el(
                        "button",
                        {
                            "type": "button",
                            "class": CLASSES["issued.done"],
                            "data-byok-reveal-done": "",
                        },
                        "I have saved it",
                    ),
                    el(
                        "span",
                        {"role": "status", "aria-live": "polite", "data-byok-copy-status": field},
                    ),
                ),
            )
        )
    body.append(masked_part)
    own = {
        "class": CLASSES["issued.reveal"],
        "role": "region",
        "aria-labelledby": "byok-reveal-title",
        "data-byok-reveal": st.value,
    }
    return el("section", pass_through(own, cls, attrs), *body)
