"""KeyManagerDashboard (every provider's card, from a BYOKManager) and its loading skeleton.

The dashboard reads the manager with one call, `BYOKManager.overview(request, providers,
user_id)` (one storage read; decryption only to mask), or is given that data (`keys=`); a key
that cannot be decrypted shows as an "unreadable — re-enter it" card, and a storage failure as
an error state, never an exception page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from byok.core.context import find_manager
from byok.core.types import KeyOverview, StorageError, utcnow

from ._html import FT, el, fragment, headers_json, pass_through, render_once, safe_url
from .alerts import Alert, ToastContainer
from .cards import KeyManagementCard, OtherKey
from .classes import CLASSES
from .variants import AlertKind, AlertStyle, KeyState
from .wiring import (
    CSRF_HEADER,
    DASHBOARD_HEADER,
    DASHBOARD_ID,
    DEFAULT_BASE_URL,
    SUMMARY_ID,
    dashboard_header_value,
    default_url,
    key_url,
    test_url,
)

__all__ = [
    "DashboardSkeleton",
    "KeyManagerDashboard",
    "KeyOverview",
    "dashboard_summary",
    "key_overview",
    "provider_card",
]

_TITLE_ID = f"{DASHBOARD_ID}-title"
DESCRIPTION = "Keys you bring are encrypted at rest and only ever shown masked."
_NO_MANAGER = render_once(
    Alert(
        "Key storage is not set up for this app (no BYOKManager was given or found in "
        "request.scope['byok']).",
        AlertKind.ERROR,
        title="Your keys cannot be shown",
    )
)
_STORAGE_FAILED = render_once(
    Alert(
        "Your stored keys could not be read right now. Nothing was changed; try again later.",
        AlertKind.ERROR,
        title="Your keys cannot be shown",
    )
)
_NO_PROVIDERS = render_once(
    Alert("No providers are configured for this app yet.", AlertKind.INFO, style=AlertStyle.SOFT)
)


def dashboard_summary(
    stored: int,  # how many of the dashboard's providers have a key
    total: int,  # how many providers the dashboard shows
    oob: bool = False,  # mark it hx-swap-oob (a route's answer refreshing a dashboard's count)
) -> FT:
    """The dashboard's key count ("2 of 6 providers have a key."), id'd SUMMARY_ID."""
    if stored:
        text = f"{stored} of {total} providers have a key."
    else:
        text = "No keys stored yet: add one below."
    return el("span", {"id": SUMMARY_ID, "hx-swap-oob": "true" if oob else None}, text)


def key_overview(
    request: Any,  # the request (its session for session storage)
    byok_manager: Any,  # the BYOKManager to read
    providers: Sequence[str],  # the providers asked about
    user_id: str | None = None,  # owner, for database / hybrid storage
) -> dict[str, KeyOverview]:
    """provider -> KeyOverview for each of `providers` with a key: the manager's `overview`
    (one storage read; StorageError propagates)."""
    return byok_manager.overview(request, providers, user_id)


_header_value = lru_cache(maxsize=256)(dashboard_header_value)  # a few provider lists per app


@lru_cache(maxsize=1024)
def _urls(base_url: str, provider: str) -> tuple[str, str]:
    """The card's key URL and test URL (computed once per base URL and provider)."""
    return key_url(base_url, provider), test_url(base_url, provider)


def _card(
    provider: str,
    found: KeyOverview | None,
    base_url: str,
    provider_config: Mapping[str, Any] | None,
    **card: Any,  # enable_test, allow_labels, custom_endpoint, csrf_token, hx_headers, now
) -> FT:
    """The card showing `found` (None: the empty card) with its routes' URLs."""
    enable_test = card.pop("enable_test")
    others = [
        OtherKey(
            k.label,
            k.masked_key,
            k.expires_at,
            k.endpoint,
            delete_url=key_url(base_url, provider, k.label),
            test_url=test_url(base_url, provider, k.label) if enable_test else None,
            default_url=default_url(base_url, provider, k.label),
        )
        for k in (found.others if found else ())
    ]
    url, test = _urls(base_url, provider)
    return KeyManagementCard(
        provider,
        found is not None,
        found.masked_key if found else None,
        found.created_at if found else None,
        found.expires_at if found else None,
        delete_action=url,
        update_action=url,
        provider_config=provider_config,
        test_url=test if enable_test else None,
        status=KeyState.UNREADABLE if found and found.unreadable else None,
        label=(found.label or None) if found else None,
        endpoint=found.endpoint if found else None,
        others=others,
        **card,
    )


def provider_card(
    request: Any,  # the request (its session / scope are read through the manager)
    manager: Any,  # a BYOKManager (or a stand-in with the same read methods)
    provider: str,  # the provider
    user_id: str | None = None,  # owner, for database / hybrid storage
    base_url: str = DEFAULT_BASE_URL,  # where the key routes live
    provider_config: Mapping[str, Any] | None = None,  # display overrides per provider
    *,
    stored: bool = True,  # whether the provider has a key (False: the empty card, no reads)
    keys: Sequence[Any] | None = None,  # the owner's records (e.g. SavedKey.keys); None = read
    enable_test: bool = False,  # Test buttons
    allow_labels: bool = False,  # the forms take a label (several keys per provider)
    custom_endpoint: bool = False,  # the forms show the optional endpoint fields
    csrf_token: str | None = None,  # sent by the card
    hx_headers: Mapping[str, str] | None = None,  # more headers for the card's requests
    now: datetime | None = None,  # the current time for relative dates
    cls: str = "",  # more classes for the card
    **attrs: Any,  # more attributes, FastHTML style (hx_swap_oob="true" to refresh it out of band)
) -> FT:
    """One provider's card from the manager's `overview` (one read; none with `keys=`): its
    default key, masked, and its other keys; an undecryptable key shows as "unreadable";
    storage errors propagate."""
    found = None
    if stored:
        found = manager.overview(request, [provider], user_id, keys=keys).get(provider)
    return _card(
        provider,
        found,
        base_url,
        provider_config,
        enable_test=enable_test,
        allow_labels=allow_labels,
        custom_endpoint=custom_endpoint,
        csrf_token=csrf_token,
        hx_headers=hx_headers,
        now=now,
        cls=cls,
        **attrs,
    )


_title = fragment(lambda title: el("h2", {"id": _TITLE_ID, "class": CLASSES["dash.title"]}, title))
_TOASTS = render_once(ToastContainer())  # the default container, the same on every dashboard


def _header(title: str, lead: str, summary: FT | None) -> FT:
    return el(
        "header",
        {},
        _title(title),
        el("p", {"class": CLASSES["dash.lead"]}, lead, " " if summary else None, summary),
    )


def KeyManagerDashboard(
    request: Any,  # the request (its session / scope are read through the manager)
    providers: Sequence[str],  # providers to show, in order
    byok_manager: Any = None,  # a BYOKManager (default: find_manager's, the request's or app's)
    user_id: str | None = None,  # owner, for database / hybrid storage
    base_url: str = DEFAULT_BASE_URL,  # where the key routes live
    provider_config: Mapping[str, Any] | None = None,  # display overrides per provider
    *,
    title: str = "API keys",  # heading
    description: str = DESCRIPTION,  # text under the heading (the key count follows it)
    enable_test: bool = False,  # show a Test button posting to f"{base_url}/{provider}/test"
    csrf_token: str | None = None,  # sent by every card: X-CSRF-Token header + hidden form field
    hx_headers: Mapping[str, str] | None = None,  # more headers for every card's htmx requests
    include_toasts: bool = True,  # include the ToastContainer that oob_toast() targets
    now: datetime | None = None,  # the current time for relative dates (fixed for snapshots)
    keys: Mapping[str, KeyOverview] | None = None,  # provider -> its key, instead of a manager
    allow_labels: bool = False,  # the cards' forms take a label (several keys per provider)
    custom_endpoint: bool = False,  # the cards show the optional endpoint fields
    cls: str = "",  # more classes for the dashboard (the <section>)
    **attrs: Any,  # more attributes, FastHTML style (hx_swap_oob="true", data_x=...)
) -> FT:
    """A dashboard with one card per provider: stored (masked), empty, expired or unreadable."""
    names = [providers] if isinstance(providers, str) else list(providers)
    safe_url(base_url, "base_url")
    now = now or utcnow()  # one clock reading for every card's relative dates
    problem = None
    overview: Mapping[str, KeyOverview] = {}
    if keys is not None:
        overview = keys
    elif (manager := find_manager(request, byok_manager)) is None:
        problem = _NO_MANAGER
    elif names:
        try:
            overview = key_overview(request, manager, names, user_id)
        except StorageError:
            problem = _STORAGE_FAILED

    cards = []
    if problem is None:
        cards = [
            _card(
                p,
                overview.get(p),
                base_url,
                provider_config,
                enable_test=enable_test,
                allow_labels=allow_labels,
                custom_endpoint=custom_endpoint,
                csrf_token=csrf_token,
                hx_headers=hx_headers,
                now=now,
            )
            for p in names
        ]

    summary = headers = None
    if problem is None and not names:
        problem = _NO_PROVIDERS
    if cards:
        stored = sum(1 for c in cards if c.attrs.get("data-byok-card") != KeyState.EMPTY.value)
        summary = dashboard_summary(stored, len(names))
        headers = dict(hx_headers) if hx_headers else {}
        shown = _header_value(tuple(names))
        if shown is not None:  # the routes refresh `summary` in their answers to the cards
            headers[DASHBOARD_HEADER] = shown
    own = {
        "id": DASHBOARD_ID,
        "class": CLASSES["dash.root"],
        "aria-labelledby": _TITLE_ID,
        "hx-headers": headers_json(csrf_token, CSRF_HEADER, headers or hx_headers),
    }
    return el(
        "section",
        pass_through(own, cls, attrs),
        el(
            "div",
            {"class": CLASSES["dash.container"]},
            _header(title, description, summary),
            problem,
            el("div", {"class": CLASSES["dash.grid"]}, *cards) if cards else None,
        ),
        _TOASTS if include_toasts else None,
    )


def DashboardSkeleton(
    src: str | None = None,  # URL of the dashboard to load in its place (hx-get on load)
    cards: int = 3,  # placeholder cards shown while loading (0 to 48)
    title: str = "API keys",  # heading
    *,
    cls: str = "",  # more classes for the skeleton (the <section>)
    **attrs: Any,  # more attributes, FastHTML style (hx_swap_oob="true", data_x=...)
) -> FT:
    """The dashboard's loading state: skeleton cards, optionally replaced by `src` once loaded."""
    if isinstance(cards, bool) or not isinstance(cards, int) or not 0 <= cards <= 48:
        raise ValueError("cards must be an int from 0 to 48")
    own: dict[str, Any] = {
        "id": DASHBOARD_ID,
        "class": CLASSES["dash.root"],
        "aria-labelledby": _TITLE_ID,
        "aria-busy": "true",
    }
    if src is not None:
        own.update({"hx-get": safe_url(src, "src"), "hx-trigger": "load", "hx-swap": "outerHTML"})
    skeleton = render_once(el("div", {"class": CLASSES["dash.skeleton"], "aria-hidden": "true"}))
    return el(
        "section",
        pass_through(own, cls, attrs),
        el(
            "div",
            {"class": CLASSES["dash.container"]},
            el(
                "header",
                {},
                el("h2", {"id": _TITLE_ID, "class": CLASSES["dash.title"]}, title),
                el(
                    "p",
                    {"class": CLASSES["dash.lead"], "role": "status"},
                    el("span", {"class": CLASSES["spinner.visible"], "aria-hidden": "true"}),
                    " Loading your keys…",
                ),
            ),
            el("div", {"class": CLASSES["dash.grid"]}, *([skeleton] * cards)),
        ),
    )
