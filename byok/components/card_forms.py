"""The parts of a KeyManagementCard that depend on the provider and the options, not on the key:
its key forms (replace, add another) and its action buttons, rendered once per distinct
arguments (`fragment`) so a dashboard re-renders only what its data changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from ._html import FT, Safe, el, fragment, render, render_once
from .classes import CLASSES
from .fields import SPINNER, csrf_input, endpoint_fields, key_field, label_field
from .wiring import input_id, validation_id

__all__ = ["action_button", "add_form", "endpoint_extras", "save_form"]


def _action_button(
    cls: str, verb: str, url: str, target: str, swap: str, text: str, sr: str, confirm: str | None
) -> FT:
    return el(
        "button",
        {
            "type": "button",
            "class": CLASSES[cls],
            verb: url,
            "hx-confirm": confirm,
            "hx-target": f"#{target}",
            "hx-swap": swap,
            "hx-disabled-elt": "this",
        },
        text,
        el("span", {"class": CLASSES["sr-only"]}, sr),
        SPINNER,
    )


_button = fragment(_action_button)


def action_button(
    cls: str,  # the CLASSES recipe ("btn.test", "btn.delete")
    verb: str,  # its htmx attribute: "hx-post" or "hx-delete"
    url: str,  # where it sends the request (already a safe URL)
    target: str,  # id of the element the answer replaces
    swap: str,  # hx-swap: "innerHTML" (a test slot) or "outerHTML" (the card)
    text: str,  # its visible text
    sr: str,  # text for screen readers after it (" OpenAI key")
    *,
    confirm: str | None = None,  # hx-confirm question asked first
) -> Safe:
    """A small htmx button of the card (Test, Make default, Delete), with its spinner."""
    return _button(cls, verb, url, target, swap, text, sr, confirm)


def endpoint_extras(
    info: Any,  # the ProviderInfo
    provider: str,  # provider name (ids)
    endpoint: Any,  # the key's Endpoint, prefilled (None: empty fields)
    *,
    custom: bool,  # the app lets users give an optional endpoint
    scope: str,  # "card" or "add": which form the fields belong to
) -> list[FT]:
    """The endpoint fields of a card form: always when required, else when the app allows."""
    if not info.endpoint or not (info.endpoint_required or custom):
        return []
    values = endpoint.to_dict() if endpoint else None
    return endpoint_fields(info, input_id(provider, scope), values)


def _key_part(info: Any, provider: str, scope: str, label: str) -> FT:
    slot = validation_id(provider) if scope == "card" else None  # one slot per card
    return key_field(info, input_id(provider, scope), slot, label=label)


def _submit_part(name: str, submit: str) -> FT:
    return el(
        "button",
        {"type": "submit", "class": CLASSES["btn.save"]},
        submit,
        el("span", {"class": CLASSES["sr-only"]}, f" for {name}"),
        SPINNER,
    )


def _form_tag(url: str, target: str) -> Safe:
    """The card form's opening tag (its closing tag is _FORM_END)."""
    form = el(
        "form",
        {
            "method": "post",
            "action": url,
            "hx-post": url,
            "hx-target": f"#{target}",
            "hx-swap": "outerHTML",
            "hx-disabled-elt": "find button[type='submit']",
            "class": CLASSES["form.card"],
            "data-byok-form": "",
        },
    )
    return Safe(render(form).removesuffix("</form>"))


_key_html = fragment(_key_part)
_submit_html = fragment(_submit_part)
_form_open = lru_cache(maxsize=1024)(_form_tag)
_FORM_END = Safe("</form>")


def save_form(
    provider: str,  # provider name (ids)
    info: Any,  # the ProviderInfo
    url: str,  # where the form posts (already a safe URL)
    target: str,  # id of the card the answer replaces
    submit: str,  # the submit button's text
    label: str,  # the key field's label
    csrf_token: str | None,  # hidden field (None: none)
    extras: Sequence[Any] = (),  # more fields after the key (endpoint, label)
    scope: str = "card",  # "card" (the card's form) or "add" (another labelled key)
) -> tuple[Any, ...]:
    """The card's key form: posts the key (and `extras` fields), swaps the card with the answer;
    the "add" form (another labelled key) has its own ids and no second validation slot. Its
    markup in parts: all but the CSRF field and `extras` rendered once per provider and text."""
    return (
        _form_open(url, target),
        csrf_input(csrf_token),
        _key_html(info, provider, scope, label),
        *extras,
        _submit_html(info.name, submit),
        _FORM_END,
    )


_ADD_SUMMARY = render_once(el("summary", {"class": CLASSES["card.summary"]}, "Add another key"))


def add_form(
    provider: str,  # provider name (ids)
    info: Any,  # the ProviderInfo
    url: str,  # where the form posts
    target: str,  # id of the card the answer replaces
    csrf_token: str | None,  # hidden field (None: none)
    *,
    custom: bool,  # the app lets users give an optional endpoint
) -> FT:
    """'Add another key': a labelled key beside the stored ones (intent=add never replaces)."""
    extras = [
        *endpoint_extras(info, provider, None, custom=custom, scope="add"),
        label_field(input_id(provider, "add"), adding=True),
    ]
    form = save_form(
        provider, info, url, target, "Add key", "Another key", csrf_token, extras, "add"
    )
    return el("details", {}, _ADD_SUMMARY, *form)
