"""KeyManagementCard (one provider's key: state, masked key, dates, save / test / delete) and
KeyTestResult (what the "test key" route answers). The HTMX contract is in `forms`' docstring.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from byok.core.providers import resolve_provider
from byok.core.types import as_utc, utcnow
from byok.utils.helpers import format_expiration, format_key_age

from ._html import FT, el, fragment, headers_json, masked, pass_through, render_once, safe_url
from .alerts import Alert
from .card_forms import action_button, add_form, endpoint_extras, save_form
from .classes import CLASSES
from .fields import label_field
from .icons import icon_markup
from .variants import AlertKind, AlertStyle, IconSize, KeyState, TestState, coerce
from .wiring import CSRF_HEADER, card_id, input_id, test_slot_id

__all__ = ["EXPIRING_WITHIN", "KeyManagementCard", "KeyTestResult", "OtherKey"]

EXPIRING_WITHIN = timedelta(hours=2)  # a key expiring sooner than this is flagged "Expires soon"

_BADGE = {  # state -> (badge class, text)
    KeyState.EMPTY: (CLASSES["badge.empty"], "Not set"),
    KeyState.STORED: (CLASSES["badge.stored"], "Stored"),
    KeyState.EXPIRING: (CLASSES["badge.expiring"], "Expires soon"),
    KeyState.EXPIRED: (CLASSES["badge.expired"], "Expired"),
    KeyState.UNREADABLE: (CLASSES["badge.unreadable"], "Unreadable"),
}
_BADGE_HTML = {
    state: render_once(el("span", {"class": cls}, text)) for state, (cls, text) in _BADGE.items()
}
_UNREADABLE_TEXT = (
    "This key can no longer be decrypted (the app's secret may have changed). "
    "Re-enter it to keep using it."
)
_UNREADABLE = render_once(
    Alert(_UNREADABLE_TEXT, AlertKind.WARNING, show_icon=True, style=AlertStyle.SOFT)
)

_PENDING = render_once(el("span", {"class": CLASSES["spinner.visible"], "aria-hidden": "true"}))
_TEST = {  # state -> (class, icon, default text)
    TestState.PENDING: (CLASSES["test.pending"], None, "Testing…"),
    TestState.VALID: (CLASSES["test.valid"], "success", "Key works"),
    TestState.REJECTED: (CLASSES["test.rejected"], "error", "Key rejected"),
    TestState.RATE_LIMITED: (CLASSES["test.rate_limited"], "warning", "Rate limited: try later"),
    TestState.UNREACHABLE: (CLASSES["test.unreachable"], "warning", "Provider unreachable"),
    TestState.UNEXPECTED: (CLASSES["test.unexpected"], "warning", "Unexpected answer"),
    TestState.BLOCKED: (CLASSES["test.blocked"], "error", "Address not allowed"),
    TestState.ERROR: (CLASSES["test.error"], "warning", "Could not test the key"),
}


def KeyTestResult(
    state: TestState,  # pending, valid, rejected, rate_limited, unreachable, unexpected, ...
    message: str | None = None,  # text to show instead of the default for the state
    *,
    cls: str = "",  # more classes for the badge
    **attrs: Any,  # more attributes, FastHTML style (hx_swap_oob="true", data_x=...)
) -> FT:
    """A badge with the outcome of a "test key" request (swapped into the card's test slot)."""
    st = coerce(TestState, state, "state")
    own_cls, icon, text = _TEST[st]
    mark = _PENDING if icon is None else icon_markup(icon, IconSize.XS)
    own = pass_through({"class": own_cls}, cls, attrs)
    return el("span", own, mark, text if message is None else message)


@dataclass(frozen=True)
class OtherKey:
    """One of a provider's other (non-default) keys, as a card lists it."""

    label: str  # its label ("" = unlabelled)
    masked_key: str | None  # the key masked; None when it cannot be decrypted
    expires_at: datetime | None = None  # when it expires
    endpoint: Any = None  # its custom Endpoint, shown
    delete_url: str | None = None  # DELETE here removes it (None: no Delete button)
    test_url: str | None = None  # POST here tests it (None: no Test button)
    default_url: str | None = None  # POST here makes it the default (None: no button)


def _other(provider: str, info: Any, key: OtherKey) -> FT:
    """One row of the card's "other keys" list: label, masked key, endpoint and actions."""
    name = key.label or "unlabelled"
    actions: list[Any] = []
    if key.test_url is not None:
        slot = test_slot_id(provider, key.label or "-")
        actions.append(el("span", {"id": slot, "role": "status", "aria-live": "polite"}))
        url = safe_url(key.test_url, "test_url")
        sr = f" {info.name} key {name}"
        actions.append(action_button("btn.test", "hx-post", url, slot, "innerHTML", "Test", sr))
    if key.default_url is not None:
        url = safe_url(key.default_url, "default_url")
        actions.append(
            action_button(
                "btn.test",
                "hx-post",
                url,
                card_id(provider),
                "outerHTML",
                "Make default",
                f" ({name})",
            )
        )
    if key.delete_url is not None:
        url = safe_url(key.delete_url, "delete_url")
        sr = f" {info.name} key {name}"
        actions.append(
            action_button(
                "btn.delete",
                "hx-delete",
                url,
                card_id(provider),
                "outerHTML",
                "Delete",
                sr,
                confirm=f"Delete the {info.name} key {name!r}?",
            )
        )
    return el(
        "li",
        {"class": CLASSES["card.meta"], "data-byok-label": key.label},
        el("span", {"class": CLASSES["badge.empty"]}, name),
        " ",
        el("code", {"class": CLASSES["card.key"]}, masked(key.masked_key))
        if key.masked_key
        else "cannot be decrypted",
        el("div", {}, f"Endpoint: {key.endpoint.describe()}") if key.endpoint else None,
        el("div", {"class": CLASSES["card.actions"]}, *actions) if actions else None,
    )


def _state(has_key: bool, expires_at: Any, now: datetime | None, within: timedelta) -> KeyState:
    """The card state implied by its arguments."""
    if not has_key:
        return KeyState.EMPTY
    if isinstance(expires_at, datetime):
        remaining = as_utc(expires_at) - as_utc(now or utcnow())
        if remaining <= timedelta(0):
            return KeyState.EXPIRED
        if remaining <= within:
            return KeyState.EXPIRING
    return KeyState.STORED


def _when(label: str, value: Any, now: datetime | None, *, expiry: bool) -> FT | None:
    """'Added 3 days ago' / 'Expires in 5 hours' (a `<time>` for datetimes; strings verbatim)."""
    if value is None or value == "":
        return None
    if not isinstance(value, datetime):
        return el("div", {"class": CLASSES["card.meta"]}, f"{label}: {value}")
    text = format_expiration(value, now) if expiry else f"Added {format_key_age(value, now)}"
    return _time(value.isoformat(), text)


def _time_part(stamp: str, text: str) -> FT:
    return el(
        "div",
        {"class": CLASSES["card.meta"]},
        el("time", {"datetime": stamp, "title": stamp}, text),
    )


_time = fragment(_time_part)  # a date and its wording: the same for a while, render it once


def _head_part(title_id: str, name: str, label: str | None, state: KeyState) -> FT:
    return el(
        "div",
        {"class": CLASSES["card.head"]},
        el(
            "h3",
            {"id": title_id, "class": CLASSES["card.title"]},
            name,
            el("span", {"class": CLASSES["badge.empty"]}, label) if label else None,
        ),
        _BADGE_HTML[state],
    )


def _current_part(shown: str) -> FT:
    return el(
        "div",
        {"class": CLASSES["card.meta"]},
        "Current key ",
        el("code", {"class": CLASSES["card.key"]}, shown),
    )


_current = fragment(_current_part)  # "Current key sk-p...wxyz" (a masked value only)
_head = fragment(_head_part)  # title, label and state badge: a few per provider
_EMPTY = render_once(el("div", {"class": CLASSES["card.empty"]}, "No API key stored yet."))
_EXPIRED = render_once(
    el("div", {"class": CLASSES["card.empty"]}, "This key has expired. Enter a new one.")
)
_REPLACE_SUMMARY = render_once(el("summary", {"class": CLASSES["card.summary"]}, "Replace key"))
_TEST_SLOT = fragment(
    lambda slot: el("span", {"id": slot, "role": "status", "aria-live": "polite"})
)


def KeyManagementCard(
    provider: str,  # provider name, e.g. "openai"
    has_key: bool,  # whether a key is stored
    masked_key: str | None = None,  # the stored key, masked (masked again here if it is not)
    created_at: str | datetime | None = None,  # when it was stored (datetime: shown relative)
    expires_at: str | datetime | None = None,  # when it expires (datetime: relative + badges)
    delete_action: str | None = None,  # URL for hx-delete (None: no Delete button)
    update_action: str | None = None,  # URL the key form posts to (None: no form)
    provider_config: Mapping[str, Any] | None = None,  # display overrides per provider
    *,
    test_url: str | None = None,  # URL of the "test key" route (None: no Test button)
    status: KeyState | None = None,  # force a state (e.g. "unreadable"); None = derive it
    csrf_token: str | None = None,  # sent as the X-CSRF-Token header and a hidden field
    hx_headers: Mapping[str, str] | None = None,  # more headers for the card's htmx requests
    now: datetime | None = None,  # the current time for relative dates (fixed for snapshots)
    expiring_within: timedelta = EXPIRING_WITHIN,  # "Expires soon" below this remaining time
    label: str | None = None,  # the shown (default) key's label, shown beside the title
    endpoint: Any = None,  # the shown key's custom Endpoint: shown, and prefills the form
    others: Sequence[OtherKey] = (),  # the provider's other keys, listed under the default
    allow_labels: bool = False,  # the form takes a label (so a user can add several keys)
    custom_endpoint: bool = False,  # show the optional endpoint fields the registry allows
    cls: str = "",  # more classes for the card (the <article>)
    **attrs: Any,  # more attributes, FastHTML style (hx_swap_oob="true", data_x=...)
) -> FT:
    """A card for one provider's keys: state, masked default key, dates, other keys, actions."""
    info = resolve_provider(provider, provider_config)
    state = (
        coerce(KeyState, status, "status")
        if status is not None
        else _state(has_key, expires_at, now, expiring_within)
    )
    cid = card_id(provider)
    title_id = f"{cid}-title"
    update = safe_url(update_action, "update_action") if update_action is not None else None
    delete = safe_url(delete_action, "delete_action") if delete_action is not None else None
    test = safe_url(test_url, "test_url") if test_url is not None else None

    body: list[Any] = [_head(title_id, info.name, label, state)]
    live = state in (KeyState.STORED, KeyState.EXPIRING)
    if state is KeyState.EMPTY:
        body.append(_EMPTY)
    elif state is KeyState.UNREADABLE:
        body.append(_UNREADABLE)
    elif state is KeyState.EXPIRED:
        body.append(_EXPIRED)
    if live and masked_key:
        body.append(_current(masked(masked_key)))

    if live or state is KeyState.EXPIRED:
        body.append(_when("Added", created_at, now, expiry=False))
        body.append(_when("Expires", expires_at, now, expiry=True))
    if endpoint and state is not KeyState.EMPTY:
        body.append(el("div", {"class": CLASSES["card.meta"]}, f"Endpoint: {endpoint.describe()}"))
    if others:
        body.append(
            el(
                "ul",
                {"class": CLASSES["card.others"], "aria-label": f"Other {info.name} keys"},
                *(_other(provider, info, k) for k in others),
            )
        )

    extras = endpoint_extras(info, provider, endpoint, custom=custom_endpoint, scope="card")
    if allow_labels:
        extras.append(label_field(input_id(provider, "card"), label))
    if update is not None:
        if live:
            form = save_form(
                provider, info, update, cid, "Replace key", "New key", csrf_token, extras
            )
            body.append(el("details", {}, _REPLACE_SUMMARY, *form))
            if allow_labels:
                body.append(
                    add_form(provider, info, update, cid, csrf_token, custom=custom_endpoint)
                )
        else:
            submit = "Save key" if state is KeyState.EMPTY else "Save new key"
            body.extend(
                save_form(
                    provider, info, update, cid, submit, f"{info.name} API key", csrf_token, extras
                )
            )

    actions: list[Any] = []
    sr = f" {info.name} key"
    if test is not None and live:
        slot = test_slot_id(provider)
        actions.append(_TEST_SLOT(slot))
        actions.append(action_button("btn.test", "hx-post", test, slot, "innerHTML", "Test", sr))
    if delete is not None and state is not KeyState.EMPTY:
        actions.append(
            action_button(
                "btn.delete",
                "hx-delete",
                delete,
                cid,
                "outerHTML",
                "Delete",
                sr,
                confirm=f"Delete the {info.name} API key?",
            )
        )
    if actions:
        body.append(el("div", {"class": CLASSES["card.actions"]}, *actions))

    own = {
        "id": cid,
        "class": CLASSES["card"],
        "aria-labelledby": title_id,
        "data-byok-card": state.value,
        "hx-headers": headers_json(csrf_token, CSRF_HEADER, hx_headers),
    }
    return el(
        "article",
        pass_through(own, cls, attrs),
        el("div", {"class": CLASSES["card.body"]}, *body),
    )
