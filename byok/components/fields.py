"""The key field shared by every key form: label, password input, show/hide toggle, help, slot.

The input is `type=password`, `autocomplete=off`, `maxlength=MAX_KEY_LENGTH`, described by its
help text and its validation slot; the toggle is a real button (`aria-controls`, `aria-pressed`)
that byok.js flips between password and text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from byok.core.endpoints import MAX_BASE_URL_LENGTH, field_label
from byok.core.providers import ProviderInfo
from byok.core.types import MAX_KEY_LENGTH

from ._html import FT, el, render_once, safe_url, void
from .classes import CLASSES
from .icons import icon_markup
from .variants import IconSize
from .wiring import CSRF_FIELD

__all__ = [
    "INTENT_FIELD",
    "LABEL_FIELD",
    "MAKE_DEFAULT_FIELD",
    "SPINNER",
    "csrf_input",
    "docs_link",
    "endpoint_fields",
    "key_field",
    "label_field",
    "validation_slot",
]

LABEL_FIELD = "label"  # form field naming which of the provider's keys
MAKE_DEFAULT_FIELD = "make_default"  # checkbox: make the saved key the provider's default
INTENT_FIELD = "intent"  # "add": the form adds another key (never replaces one)
_ENDPOINT_INPUT = {  # field -> (input type, placeholder, maxlength)
    "base_url": ("url", "https://api.example.com/v1", str(MAX_BASE_URL_LENGTH)),
    "deployment": ("text", "e.g. gpt-4o", "64"),
    "api_version": ("text", "e.g. 2024-10-21", "32"),
}

KEY_FIELD_NAME = "api_key"  # form field carrying the key
HELP_SECURE = "Encrypted before it is stored; only a masked copy is ever shown."
_MAXLEN = str(MAX_KEY_LENGTH)
_EYE = render_once(el("span", {"data-byok-when": "hidden"}, icon_markup("eye", IconSize.SM)))
_EYE_OFF = render_once(
    el("span", {"data-byok-when": "shown", "hidden": True}, icon_markup("eye-off", IconSize.SM))
)
_EXTERNAL = icon_markup("external", IconSize.XS)
SPINNER = render_once(el("span", {"class": CLASSES["spinner"], "aria-hidden": "true"}))


def validation_slot(
    slot_id: str,  # wiring.validation_id(provider) (or MULTI_VALIDATION_ID)
) -> FT:
    """The empty element a ValidationMessage with the same id replaces (outerHTML)."""
    return el("div", {"id": slot_id, "class": CLASSES["validation.slot"], "aria-live": "polite"})


def csrf_input(
    csrf_token: str | None,  # token, or None for no field
) -> FT | None:
    """A hidden CSRF field for plain form posts (htmx sends the header instead/as well)."""
    if csrf_token is None:
        return None
    return void("input", {"type": "hidden", "name": CSRF_FIELD, "value": csrf_token})


def docs_link(
    info: ProviderInfo,  # the provider
    always: bool = False,  # render a hidden link when there is no URL (byok.js may fill it)
) -> FT | None:
    """'Get your `<name>` key' link to the provider's key page (new tab), or None."""
    if not info.docs_url and not always:
        return None
    return el(
        "a",
        {
            "href": safe_url(info.docs_url, "docs_url") if info.docs_url else None,
            "target": "_blank",
            "rel": "noopener noreferrer",
            "class": CLASSES["field.docs"],
            "hidden": not info.docs_url,
            "data-byok-docs": "",
        },
        el("span", {"data-byok-docs-label": ""}, f"Get your {info.name} key"),
        _EXTERNAL,
    )


def key_field(
    info: ProviderInfo,  # the provider (label, placeholder, hint, docs link)
    input_id: str,  # id of the input (label, toggle and describedby point at it)
    slot_id: str | None,  # id of the validation slot, or None for none
    label: str | None = None,  # label text; default f"{name} API key"
    placeholder: str | None = None,  # placeholder; default the provider's
    show_help: bool = True,  # show the format hint and the security note
    show_docs: bool = True,  # show the "Get your key" link (when the provider has a URL)
    compact: bool = False,  # small input and toggle
    visible_label: bool = True,  # False keeps the label for screen readers only
    always_docs: bool = False,  # render the docs link even without a URL (hidden; multi form)
    inline: bool = False,  # grow beside a button instead of taking the full width
    extra_input: dict[str, Any] | None = None,  # more input attributes (data-*)
) -> FT:
    """The key field block."""
    help_id = f"{input_id}-help" if show_help else None
    described = " ".join(x for x in (help_id, slot_id) if x) or None
    attrs = {
        "type": "password",
        "name": KEY_FIELD_NAME,
        "id": input_id,
        "class": CLASSES["field.input.sm" if compact else "field.input"],
        "placeholder": placeholder if placeholder is not None else info.placeholder,
        "autocomplete": "off",
        "autocapitalize": "off",
        "spellcheck": "false",
        "maxlength": _MAXLEN,
        "required": True,
        "aria-describedby": described,
        "data-byok-key-input": "",
    }
    if extra_input:
        attrs.update(extra_input)
    toggle = el(
        "button",
        {
            "type": "button",
            "class": CLASSES["field.toggle.sm" if compact else "field.toggle"],
            "aria-label": "Show key",
            "aria-pressed": "false",
            "aria-controls": input_id,
            "data-byok-toggle-visibility": "",
        },
        _EYE,
        _EYE_OFF,
    )
    help_text = None
    if show_help:
        hint = f"{info.key_hint}. {HELP_SECURE}" if info.key_hint else HELP_SECURE
        help_text = el(
            "p", {"id": help_id, "class": CLASSES["field.help"], "data-byok-help": ""}, hint
        )
    return el(
        "div",
        {"class": CLASSES["fieldset.inline" if inline else "fieldset"]},
        el(
            "label",
            {
                "for": input_id,
                "class": CLASSES["fieldset.legend" if visible_label else "sr-only"],
            },
            label if label is not None else f"{info.name} API key",
        ),
        el("div", {"class": CLASSES["field.join"]}, void("input", attrs), toggle),
        help_text,
        docs_link(info, always_docs) if show_docs else None,
        validation_slot(slot_id) if slot_id else None,
    )


def _plain_field(
    name: str, fid: str, label: str, kind: str, value: str | None, extra: dict[str, Any]
) -> FT:
    """A labelled plain input (endpoint and label fields)."""
    return el(
        "div",
        {"class": CLASSES["fieldset"]},
        el("label", {"for": fid, "class": CLASSES["fieldset.legend"]}, label),
        void(
            "input",
            {
                "type": kind,
                "name": name,
                "id": fid,
                "value": value,
                "class": CLASSES["field.plain"],
                "autocomplete": "off",
                "spellcheck": "false",
                **extra,
            },
        ),
    )


def endpoint_fields(
    info: ProviderInfo,  # the provider (its `endpoint` fields and whether they are required)
    scope_id: str,  # prefix of the inputs' ids, e.g. the key input's id
    values: Mapping[str, str] | None = None,  # current values (shown: an endpoint is not secret)
) -> list[FT]:
    """The custom-endpoint inputs the registry allows for this provider (base URL, ...)."""
    out = []
    for name in info.endpoint:
        kind, placeholder, maxlength = _ENDPOINT_INPUT[name]
        required = name == "base_url" and info.endpoint_required
        label = field_label(name) + ("" if required else " (optional)")
        extra = {"placeholder": placeholder, "maxlength": maxlength, "required": required}
        value = (values or {}).get(name)
        out.append(_plain_field(name, f"{scope_id}-{name}", label, kind, value, extra))
    return out


def label_field(
    scope_id: str,  # prefix of the inputs' ids
    value: str | None = None,  # the label to prefill (replacing a labelled key)
    adding: bool = False,  # the form adds another key: the label is required (intent=add)
) -> FT:
    """The key label ("work", "personal") and the make-default checkbox."""
    check_id = f"{scope_id}-default"
    extra = {"placeholder": "e.g. work, personal", "maxlength": "32", "required": adding}
    return el(
        "div",
        {"class": CLASSES["fieldset"]},
        void("input", {"type": "hidden", "name": INTENT_FIELD, "value": "add"}) if adding else None,
        _plain_field(
            LABEL_FIELD,
            f"{scope_id}-label",
            "Label" if adding else "Label (optional)",
            "text",
            value,
            extra,
        ),
        el(
            "label",
            {"for": check_id, "class": CLASSES["field.help"]},
            void(
                "input",
                {
                    "type": "checkbox",
                    "name": MAKE_DEFAULT_FIELD,
                    "value": "1",
                    "id": check_id,
                    "class": CLASSES["field.check"],
                },
            ),
            " Make this the default key",
        ),
    )
