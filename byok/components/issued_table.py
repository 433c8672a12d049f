"""IssuedKeyTable: a user's issued keys, one row each, with a status filter, confirmed row actions
(roll, revoke, delete), an empty state and pages. The HTMX contract is in `issued`'s docstring.

The table filters, sorts (newest first) and pages the keys it is given (`issued_page`), so the
routes list a user's keys once and the view (status, page) travels in the URLs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from byok.core.types import utcnow
from byok.utils.helpers import format_expiration, format_key_age

from ._html import FT, el, headers_json, pass_through, path_segment, safe_url
from .classes import CLASSES
from .fields import SPINNER, csrf_input
from .issued import KeyStatusBadge, UsageSparkline, issued_key_status, issued_masked
from .variants import IssuedKeyStatus, StatusFilter, coerce
from .wiring import (
    CSRF_HEADER,
    ISSUED_BASE_URL,
    ISSUED_DIALOG_ID,
    ISSUED_REVEAL_ID,
    ISSUED_TABLE_ID,
    issued_view_url,
)

__all__ = ["MAX_PER_PAGE", "IssuedKeyTable", "IssuedPage", "issued_page", "issued_panel"]

MAX_PER_PAGE = 200  # most rows on one page
_TITLE_ID = f"{ISSUED_TABLE_ID}-title"
_FILTER_TEXT = {
    StatusFilter.ACTIVE: "Active",
    StatusFilter.REVOKED: "Revoked",
    StatusFilter.EXPIRED: "Expired",
    StatusFilter.ALL: "All",
}
_EMPTY_TEXT = {
    StatusFilter.ACTIVE: "No active keys.",
    StatusFilter.REVOKED: "No revoked keys.",
    StatusFilter.EXPIRED: "No expired keys.",
    StatusFilter.ALL: "No API keys yet: create one to call the API.",
}
_SHOWS = {  # filter -> the badge states it lists
    StatusFilter.ACTIVE: frozenset({IssuedKeyStatus.ACTIVE, IssuedKeyStatus.EXPIRING}),
    StatusFilter.REVOKED: frozenset({IssuedKeyStatus.REVOKED}),
    StatusFilter.EXPIRED: frozenset({IssuedKeyStatus.EXPIRED}),
    StatusFilter.ALL: frozenset(IssuedKeyStatus),
}
_COLUMNS = ("Name", "Key", "Scopes", "Created", "Last used", "Expires", "Status")


@dataclass(frozen=True)
class IssuedPage:
    """One page of a filtered key list (what IssuedKeyTable shows)."""

    keys: tuple[Any, ...]  # the keys on this page, newest first
    status: StatusFilter  # the filter applied
    page: int  # this page (1-based, clamped to the pages there are)
    pages: int  # how many pages (≥ 1)
    total: int  # keys matching the filter
    first: int  # 1-based position of the first key shown (0 when none)
    counts: Mapping[StatusFilter, int]  # keys per filter, for the filter's labels
    states: Mapping[str, IssuedKeyStatus]  # key id -> its badge state


def _whole(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what} must be an int from {low} to {high}")
    return value


def issued_page(
    keys: Sequence[Any],  # every key of the user (APIKey records), any order
    status: StatusFilter = StatusFilter.ALL,  # which keys to list
    page: int = 1,  # the page wanted (clamped to the last page)
    per_page: int = 20,  # rows per page
    now: datetime | None = None,  # the current time (default: now, UTC)
) -> IssuedPage:
    """Filter, sort (newest first) and cut the keys into a page."""
    st = coerce(StatusFilter, status, "status")
    page = _whole(page, "page", 1, 1_000_000)
    per_page = _whole(per_page, "per_page", 1, MAX_PER_PAGE)
    now = now or utcnow()
    states = {k.id: issued_key_status(k, now) for k in keys}
    counts = {f: sum(s in _SHOWS[f] for s in states.values()) for f in StatusFilter}
    shown = [k for k in keys if states[k.id] in _SHOWS[st]]
    shown.sort(key=lambda k: (k.created_at, k.id), reverse=True)
    pages = max(1, -(-len(shown) // per_page))
    page = min(page, pages)
    start = (page - 1) * per_page
    chunk = tuple(shown[start : start + per_page])
    return IssuedPage(chunk, st, page, pages, len(shown), start + 1 if chunk else 0, counts, states)


def _time(value: datetime | None, now: datetime, never: str, *, future: bool = False) -> FT:
    """A relative date in a <time> (its exact ISO form in datetime and title)."""
    if value is None:
        return el("span", {"class": CLASSES["card.meta"]}, never)
    if future and value > now:
        text = format_expiration(value, now).removeprefix("Expires ")
    else:
        text = format_key_age(value, now)
    iso = value.isoformat()
    return el("time", {"datetime": iso, "title": iso}, text)


def _view_link(url: str, recipe: str, current: bool, text: str, **more: str) -> FT:
    """A link to another view of the table (a filter tab, a page): plain href, or htmx swap."""
    attrs = {
        "href": url,
        "hx-get": url,
        "hx-target": f"#{ISSUED_TABLE_ID}",
        "hx-swap": "outerHTML",
        "class": CLASSES[recipe],
        "aria-current": "page" if current else None,
    }
    return el("a", {**attrs, **more}, text)


def _filters(base: str, view: IssuedPage) -> FT:
    links = []
    for f in StatusFilter:
        url = issued_view_url(base, f.value, 1)
        current = f is view.status
        links.append(
            _view_link(
                url,
                "issued.tab.active" if current else "issued.tab",
                current,
                f"{_FILTER_TEXT[f]} ({view.counts[f]})",
                **{"data-byok-filter": f.value},
            )
        )
    return el("nav", {"class": CLASSES["issued.tabs"], "aria-label": "Show keys by status"}, *links)


def _action_form(
    url: str, native: str, method: str, confirm: str, label: str, name: str, token: Any
) -> FT:
    """A confirmed row action: htmx sends `method` to `url`; without htmx it POSTs to `native`."""
    return el(
        "form",
        {
            "method": "post",
            "action": native,
            f"hx-{method}": url,
            "hx-confirm": confirm,
            "hx-target": f"#{ISSUED_TABLE_ID}",
            "hx-swap": "outerHTML",
            "hx-disabled-elt": "find button[type='submit']",
        },
        csrf_input(token),
        el(
            "button",
            {"type": "submit", "class": CLASSES["issued.action.danger"]},
            label,
            el("span", {"class": CLASSES["sr-only"]}, f" {name}"),
            SPINNER,
        ),
    )


def _row(key: Any, state: IssuedKeyStatus, base: str, view: IssuedPage, ctx: dict) -> FT:
    name = key.metadata.name or "Unnamed key"
    now = ctx["now"]
    url = f"{base}/{path_segment(key.id)}"  # issued_key_url without re-checking base each row
    query = ctx["query"]  # ?status=…&page=… of this view
    actions: list[Any] = []
    rolled = getattr(key, "rolled_to", None) is not None  # replaced already: roll its successor
    if state in (IssuedKeyStatus.ACTIVE, IssuedKeyStatus.EXPIRING) and not rolled:
        roll = f"{url}/roll{query}"
        actions.append(
            el(
                "a",
                {
                    "href": roll,
                    "hx-get": roll,
                    "hx-target": f"#{ISSUED_DIALOG_ID}",
                    "hx-swap": "innerHTML",
                    "class": CLASSES["issued.action"],
                },
                "Roll",
                el("span", {"class": CLASSES["sr-only"]}, f" {name}"),
            )
        )
    if state is not IssuedKeyStatus.REVOKED:
        revoke = f"{url}/revoke{query}"
        actions.append(
            _action_form(
                revoke,
                revoke,
                "post",
                f"Revoke “{name}”? Apps using it stop working at once.",
                "Revoke",
                name,
                ctx["token"],
            )
        )
    actions.append(
        _action_form(
            f"{url}{query}",
            f"{url}/delete{query}",
            "delete",
            f"Delete “{name}” for good? Its usage history goes with it.",
            "Delete",
            name,
            ctx["token"],
        )
    )
    scopes = el(
        "div",
        {"class": CLASSES["issued.scopes"]},
        *[el("span", {"class": CLASSES["issued.scope"]}, s) for s in key.metadata.scopes],
    )
    usage = ctx["usage"]
    cells = [
        el("th", {"scope": "row", "class": CLASSES["issued.name"]}, name),
        el(
            "td",
            {},
            el("code", {"class": CLASSES["issued.masked"]}, issued_masked(key, ctx["head"])),
        ),
        el("td", {}, scopes),
        el("td", {"class": CLASSES["issued.cell"]}, _time(key.created_at, now, "")),
        el("td", {"class": CLASSES["issued.cell"]}, _time(key.last_used_at, now, "Never")),
        el(
            "td",
            {"class": CLASSES["issued.cell"]},
            _time(key.metadata.expires_at, now, "Never", future=True),
        ),
        el("td", {}, KeyStatusBadge(state)),
    ]
    if usage is not None:
        days = usage.get(key.id)
        cells.append(el("td", {}, UsageSparkline(days) if days else None))
    cells.append(el("td", {}, el("div", {"class": CLASSES["issued.actions"]}, *actions)))
    new = key.id == ctx["highlight"]
    return el(
        "tr",
        {"data-byok-key": key.id, "class": CLASSES["issued.row.new"] if new else None},
        *cells,
    )


def _pager(base: str, view: IssuedPage) -> FT | None:
    if view.total == 0:
        return None
    last = view.first + len(view.keys) - 1
    info = el(
        "p",
        {"class": CLASSES["issued.pages.info"], "role": "status"},
        f"{view.first}–{last} of {view.total}",
    )
    if view.pages == 1:
        return el("div", {"class": CLASSES["issued.pages"]}, info)
    window = sorted(
        {1, view.pages, *range(max(1, view.page - 2), min(view.pages, view.page + 2) + 1)}
    )
    items: list[Any] = []
    for n in window:
        url = issued_view_url(base, view.status.value, n)
        current = n == view.page
        items.append(
            _view_link(
                url,
                "issued.page.current" if current else "issued.page",
                current,
                str(n),
                **{"aria-label": f"Page {n}"},
            )
        )
    nav = el("nav", {"class": CLASSES["issued.pager"], "aria-label": "Pages of keys"}, *items)
    return el("div", {"class": CLASSES["issued.pages"]}, info, nav)


def IssuedKeyTable(
    keys: Sequence[Any],  # every key of the user (APIKey records): filtered and paged here
    status: StatusFilter = StatusFilter.ALL,  # which keys to list
    page: int = 1,  # which page (1-based; past the end shows the last)
    per_page: int = 20,  # rows per page
    *,
    base_url: str = ISSUED_BASE_URL,  # where the issued-key routes live
    key_head: str | Mapping[str, str] = "sk_",  # the issuer's key head (or per environment)
    usage: Mapping[str, Sequence[Any]] | None = None,  # key id -> daily counts: a Usage column
    title: str = "Your API keys",  # heading above the table
    highlight: str | None = None,  # id of a key to mark as new
    csrf_token: str | None = None,  # sent with every action (header and hidden field)
    hx_headers: Mapping[str, str] | None = None,  # more headers for the table's htmx requests
    oob: bool = False,  # mark it hx-swap-oob (an answer refreshing the table on the page)
    now: datetime | None = None,  # the current time for relative dates (fixed for snapshots)
    cls: str = "",  # more classes for the table's section
    **attrs: Any,  # more attributes, FastHTML style
) -> FT:
    """The user's issued keys: filter by status, roll / revoke / delete (confirmed), pages."""
    base = safe_url(base_url, "base_url").rstrip("/") or "/"
    now = now or utcnow()
    view = issued_page(keys, status, page, per_page, now)
    ctx = {"now": now, "head": key_head, "usage": usage, "highlight": highlight}
    ctx["token"] = csrf_token
    ctx["query"] = issued_view_url("", view.status.value, view.page)
    head_cells = [*_COLUMNS, *(["Usage (30 days)"] if usage is not None else []), "Actions"]
    header = el(
        "thead",
        {},
        el(
            "tr",
            {},
            *[
                el(
                    "th",
                    {"scope": "col", "class": CLASSES["sr-only"] if c == "Actions" else None},
                    c,
                )
                for c in head_cells
            ],
        ),
    )
    if view.keys:
        rows = [_row(k, view.states[k.id], base, view, ctx) for k in view.keys]
        body = el(
            "div",
            {"class": CLASSES["issued.scroll"]},
            el(
                "table",
                {"class": CLASSES["issued.table"]},
                el(
                    "caption",
                    {"class": CLASSES["sr-only"]},
                    f"{title}: {_FILTER_TEXT[view.status]}",
                ),
                header,
                el("tbody", {}, *rows),
            ),
        )
    else:
        body = el(
            "p",
            {"class": CLASSES["issued.empty"], "data-byok-empty": view.status.value},
            _EMPTY_TEXT[view.status],
        )
    own = {
        "id": ISSUED_TABLE_ID,
        "class": CLASSES["issued.root"],
        "aria-labelledby": _TITLE_ID,
        "hx-headers": headers_json(csrf_token, CSRF_HEADER, hx_headers),
        "hx-swap-oob": "true" if oob else None,
        "data-byok-view": f"{view.status.value},{view.page}",
    }
    return el(
        "section",
        pass_through(own, cls, attrs),
        el(
            "div",
            {"class": CLASSES["issued.head"]},
            el("h2", {"id": _TITLE_ID, "class": CLASSES["issued.title"]}, title),
            _filters(base, view),
        ),
        body,
        _pager(base, view),
    )


def issued_panel(
    form: Any,  # the CreateKeyForm
    table: Any,  # the IssuedKeyTable
    reveal: Any = None,  # an IssuedKeyReveal to show (after a create or roll without htmx)
    dialog: Any = None,  # a RollKeyDialog to show (the roll page without htmx)
    *,
    title: str = "API keys",  # the heading
    description: str = "Keys let your programs call the API as you. Each is shown once.",  # lead
) -> FT:
    """The page's content: heading, the create form, the reveal and dialog slots, the table."""
    return el(
        "section",
        {"class": CLASSES["dash.container"], "aria-labelledby": "byok-issued-page-title"},
        el(
            "header",
            {},
            el("h1", {"id": "byok-issued-page-title", "class": CLASSES["dash.title"]}, title),
            el("p", {"class": CLASSES["dash.lead"]}, description),
        ),
        form,
        el("div", {"id": ISSUED_REVEAL_ID, "aria-live": "polite"}, reveal),
        table,
        el("div", {"id": ISSUED_DIALOG_ID}, dialog),
    )
