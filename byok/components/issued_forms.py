"""The issued-key forms: CreateKeyForm (with its ScopePicker) and RollKeyDialog. The HTMX
contract is in `issued`'s docstring.

A form re-rendered after a refused submission gets `values` (what the user typed, kept) and
`errors` (field -> message, each shown as a ValidationMessage beside its field, the field marked
`aria-invalid`). Field names: `name`, `scopes` (repeated), `expires` + `expires_on`,
`rate_requests` + `rate_window`, `environment`; the roll form sends `grace` (seconds).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._html import FT, el, headers_json, pass_through, safe_url, slugify, void
from .classes import CLASSES
from .fields import SPINNER, csrf_input
from .issued_fields import (
    ANY_RATE,
    RateOffer,
    error_slot,
    invalid,
    labelled,
    marks,
    offered_rate,
    select,
    typed,
)
from .variants import DialogMode, ExpiryChoice, GracePeriod, coerce
from .wiring import (
    CREATE_FORM_ID,
    CSRF_HEADER,
    ISSUED_BASE_URL,
    ISSUED_REVEAL_ID,
    issued_validation_id,
)

__all__ = [
    "EXPIRY_TEXT",
    "GRACE_TEXT",
    "CreateKeyForm",
    "RollKeyDialog",
    "ScopePicker",
    "scope_list",
]

MAX_NAME = 200  # longest key name (the engine's limit)
EXPIRY_TEXT = {
    ExpiryChoice.NEVER: "Never",
    ExpiryChoice.DAYS_7: "In 7 days",
    ExpiryChoice.DAYS_30: "In 30 days",
    ExpiryChoice.DAYS_90: "In 90 days",
    ExpiryChoice.DATE: "On a date",
}
"""What the create form's expiry choices read as."""
GRACE_TEXT = {
    GracePeriod.NONE: "Stops at once",
    GracePeriod.HOUR: "Works for 1 more hour",
    GracePeriod.DAY: "Works for 24 more hours",
    GracePeriod.WEEK: "Works for 7 more days",
}
"""What the roll dialog's grace period choices read as."""


def scope_list(
    scopes: Mapping[str, str] | Sequence[str | tuple[str, str]],  # name -> description, or names
) -> tuple[tuple[str, str], ...]:
    """The scopes an app declares as (name, description) pairs, in order (ValueError if bad)."""
    if isinstance(scopes, Mapping):
        items: Sequence[Any] = list(scopes.items())
    elif isinstance(scopes, Sequence) and not isinstance(scopes, str):
        items = scopes
    else:
        raise ValueError("scopes must map scope names to descriptions")
    out: list[tuple[str, str]] = []
    for item in items:
        name, text = (item, "") if isinstance(item, str) else tuple(item)
        if not isinstance(name, str) or not 0 < len(name) <= 64 or not name.isprintable():
            raise ValueError("a scope name is 1-64 printable characters")
        if " " in name or not isinstance(text, str):
            raise ValueError("a scope name has no spaces and its description is a string")
        out.append((name, text))
    if len({n for n, _ in out}) != len(out):
        raise ValueError("scope names must be distinct")
    return tuple(out)


def ScopePicker(
    scopes: Mapping[str, str] | Sequence[str | tuple[str, str]],  # name -> description
    selected: Sequence[str] = (),  # scopes checked
    *,
    legend: str = "Scopes",  # the group's label
    error: str | None = None,  # a validation message shown under the group
    cls: str = "",  # more classes for the fieldset
    **attrs: Any,  # more attributes, FastHTML style
) -> FT:
    """A checkbox per scope the app declares, with its description (form field `scopes`)."""
    items = scope_list(scopes)
    chosen = {selected} if isinstance(selected, str) else set(selected)
    errors = {"scopes": error} if error else {}
    slot_id = issued_validation_id("scopes")
    boxes = []
    for name, text in items:
        box_id = f"byok-scope-{slugify(name)}"
        desc_id = f"{box_id}-desc" if text else None
        boxes.append(
            el(
                "label",
                {"for": box_id, "class": CLASSES["issued.scope.item"]},
                void(
                    "input",
                    {
                        "type": "checkbox",
                        "name": "scopes",
                        "value": name,
                        "id": box_id,
                        "checked": name in chosen,
                        "class": CLASSES["issued.scope.check"],
                        "aria-describedby": desc_id,
                    },
                ),
                el(
                    "span",
                    {"class": CLASSES["issued.scope.text"]},
                    el("span", {"class": CLASSES["issued.scope.name"]}, name),
                    el("span", {"id": desc_id, "class": CLASSES["field.help"]}, text)
                    if text
                    else None,
                ),
            )
        )
    own = {
        "class": CLASSES["fieldset"],
        "aria-invalid": invalid(errors, "scopes"),
        "aria-describedby": slot_id,
        "data-byok-scopes": "",
    }
    return el(
        "fieldset",
        pass_through(own, cls, attrs),
        el("legend", {"class": CLASSES["fieldset.legend"]}, legend),
        *boxes,
        error_slot("scopes", errors),
    )


def _reveal_post(
    url: str, csrf_token: str | None, hx_headers: Mapping[str, str] | None
) -> dict[str, Any]:
    """A form posting to `url` whose answer (the new key, shown once) fills the reveal slot."""
    return {
        "method": "post",
        "action": url,
        "hx-post": url,
        "hx-target": f"#{ISSUED_REVEAL_ID}",
        "hx-swap": "innerHTML",
        "hx-disabled-elt": "find button[type='submit']",
        "hx-headers": headers_json(csrf_token, CSRF_HEADER, hx_headers),
    }


def CreateKeyForm(
    scopes: Mapping[str, str] | Sequence[str | tuple[str, str]],  # the scopes the app declares
    action: str = ISSUED_BASE_URL,  # URL the form posts to (mount_issuing_routes' prefix)
    *,
    values: Mapping[str, Any] | None = None,  # typed values to keep (field name -> value)
    errors: Mapping[str, str] | None = None,  # field name -> message shown beside it
    environments: Sequence[str] = (),  # environments to choose from (none: no field)
    rate: RateOffer | None = ANY_RATE,  # the rate limit offered; None: no rate field
    expiries: Sequence[ExpiryChoice] = tuple(ExpiryChoice),  # the expiry choices offered (or one)
    latest_date: str | None = None,  # the latest expiry date offered (YYYY-MM-DD), if any
    notes: Sequence[str] = (),  # what every key gets, in words (e.g. the app's fixed limit)
    csrf_token: str | None = None,  # sent as the X-CSRF-Token header and a hidden field
    hx_headers: Mapping[str, str] | None = None,  # more headers for the htmx request
    submit_text: str = "Create key",  # text of the submit button
    cls: str = "",  # more classes for the form
    **attrs: Any,  # more attributes, FastHTML style
) -> FT:
    """The form to issue a key: name, scopes, expiry, a rate limit when offered, environment."""
    url = safe_url(action, "action")
    v = dict(values or {})
    errs = dict(errors or {})
    envs = [environments] if isinstance(environments, str) else list(environments)
    one = isinstance(expiries, str)  # a single choice (a member or its value)
    offered = [coerce(ExpiryChoice, c, "expiries") for c in ([expiries] if one else expiries)]
    if not offered:
        raise ValueError("offer at least one expiry choice")
    presets = [c for c in offered if c not in (ExpiryChoice.NEVER, ExpiryChoice.DATE)]
    first = ExpiryChoice.NEVER if ExpiryChoice.NEVER in offered else (presets or offered)[-1]
    expires = typed(ExpiryChoice, v.get("expires"), first)
    expires = expires if expires in offered else first
    chosen = v.get("scopes") or ()
    chosen = [chosen] if isinstance(chosen, str) else list(chosen)
    name_field = labelled(
        "byok-key-name",
        "Name",
        "name",
        errs,
        void(
            "input",
            {
                "type": "text",
                "name": "name",
                "id": "byok-key-name",
                "value": str(v.get("name") or ""),
                "placeholder": "e.g. Production server",
                "maxlength": str(MAX_NAME),
                "required": True,
                "autocomplete": "off",
                "class": CLASSES["field.plain"],
                **marks(errs, "name"),
            },
        ),
    )
    expiry_field = labelled(
        "byok-key-expires",
        "Expires",
        "expires",
        errs,
        select(
            "expires",
            "byok-key-expires",
            {c.value: t for c, t in EXPIRY_TEXT.items() if c in offered},
            expires.value,
            **marks(errs, "expires"),
        ),
        void(
            "input",
            {
                "type": "date",
                "name": "expires_on",
                "id": "byok-key-expires-on",
                "value": str(v.get("expires_on") or ""),
                "max": latest_date,
                "class": CLASSES["issued.date"],
                "aria-label": "Expiry date (with “On a date”)",
                "aria-invalid": invalid(errs, "expires"),
            },
        ),
        row=True,
    )
    rate_field = None if rate is None else offered_rate(rate, v, errs)
    if rate is None and "rate_limit" in errs:  # a rate sent where none is offered: said here
        rate_field = el("div", {"class": CLASSES["fieldset"]}, error_slot("rate_limit", errs))
    env_field = None
    if envs:
        env_field = labelled(
            "byok-key-environment",
            "Environment",
            "environment",
            errs,
            select(
                "environment",
                "byok-key-environment",
                {e: e for e in envs},
                v.get("environment") or envs[0],
                **marks(errs, "environment"),
            ),
        )
    own = {
        "id": CREATE_FORM_ID,
        **_reveal_post(url, csrf_token, hx_headers),
        "class": CLASSES["form.panel"],
        "aria-label": "Create an API key",
        "data-byok-form": "",
    }
    return el(
        "form",
        pass_through(own, cls, attrs),
        csrf_input(csrf_token),
        el(
            "div",
            {"class": CLASSES["issued.form.grid"]},
            name_field,
            env_field,
            expiry_field,
            rate_field,
        ),
        ScopePicker(scopes, chosen, error=errs.get("scopes")),
        el("ul", {"class": CLASSES["field.help"], "data-byok-policy": ""}, *map(_li, notes))
        if notes
        else None,
        el(
            "div",
            {},
            el("button", {"type": "submit", "class": CLASSES["btn.save.md"]}, submit_text, SPINNER),
        ),
    )


def _li(text: str) -> FT:
    return el("li", {}, text)


def RollKeyDialog(
    name: str,  # the key's name
    action: str,  # URL the roll form posts to (issued_key_url(base, id, "roll"))
    cancel_url: str = ISSUED_BASE_URL,  # where Cancel leads without a script (the key list)
    grace: GracePeriod = GracePeriod.DAY,  # the grace period chosen at first
    mode: DialogMode = DialogMode.MODAL,  # a modal (byok.js opens it) or inline in the page
    *,
    csrf_token: str | None = None,  # sent as the X-CSRF-Token header and a hidden field
    hx_headers: Mapping[str, str] | None = None,  # more headers for the htmx request
    cls: str = "",  # more classes for the dialog
    **attrs: Any,  # more attributes, FastHTML style
) -> FT:
    """Confirm rolling a key: a new key replaces it; the old one works for a grace period."""
    chosen = coerce(GracePeriod, grace, "grace")
    m = coerce(DialogMode, mode, "mode")
    url = safe_url(action, "action")
    back = safe_url(cancel_url, "cancel_url")
    radios = [
        el(
            "label",
            {"class": CLASSES["issued.radio.item"]},
            void(
                "input",
                {
                    "type": "radio",
                    "name": "grace",
                    "value": g.value,
                    "checked": g is chosen,
                    "class": CLASSES["issued.radio"],
                },
            ),
            text,
        )
        for g, text in GRACE_TEXT.items()
    ]
    form = el(
        "form",
        {**_reveal_post(url, csrf_token, hx_headers), "class": CLASSES["issued.root"]},
        csrf_input(csrf_token),
        el(
            "fieldset",
            {"class": CLASSES["fieldset"]},
            el("legend", {"class": CLASSES["fieldset.legend"]}, "The old key"),
            *radios,
        ),
        el(
            "div",
            {"class": CLASSES["issued.modal.actions"]},
            el(
                "a",
                {"href": back, "class": CLASSES["btn.test"], "data-byok-dialog-close": ""},
                "Cancel",
            ),
            el("button", {"type": "submit", "class": CLASSES["btn.save.md"]}, "Roll key", SPINNER),
        ),
    )
    box = el(
        "div",
        {"class": CLASSES["issued.modal.box" if m is DialogMode.MODAL else "issued.modal.inline"]},
        el(
            "h3",
            {"id": "byok-roll-title", "class": CLASSES["issued.reveal.title"]},
            f"Roll “{name}”",
        ),
        el(
            "p",
            {"id": "byok-roll-text"},
            "A new key with the same scopes and limits replaces this one; you will see it once. "
            "Update your apps, then let the old key stop.",
        ),
        form,
    )
    own = {
        "class": CLASSES["issued.modal" if m is DialogMode.MODAL else "issued.dialog.inline"],
        "open": m is DialogMode.INLINE,
        "aria-labelledby": "byok-roll-title",
        "aria-describedby": "byok-roll-text",
        "data-byok-modal": "" if m is DialogMode.MODAL else None,
    }
    return el("dialog", pass_through(own, cls, attrs), box)
