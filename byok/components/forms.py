"""Key forms (the reference's names and parameters) and the HTMX contract with the key routes.

HTMX contract (ids and URLs come from `byok.components.wiring`; `{p}` is the provider name
percent-encoded as one path segment, `{slug}` its id-safe slug, `base` the base URL,
"/api/keys" by default):

- **Save**: `POST {base}/{p}` with form fields `api_key` (and `csrf_token` when given).
  Card forms target the card, `hx-target="#byok-card-{slug}" hx-swap="outerHTML"`: answer 200,
  `KeyManagementCard(...)` for the provider + `oob_toast(...)`. A standalone `KeyInputForm`
  targets its own message slot (`hx-target="#byok-validation-{slug}--form"`, outerHTML; see
  `wiring.form_validation_id`, apart from a card's slot), so it stays in place: answer 200,
  `ValidationMessage(..., is_valid=True, id=form_validation_id(p))` + the
  provider's card with `hx-swap-oob="true"` (refreshes a card of that provider elsewhere on the
  page) + `oob_toast(...)`. `InlineKeyInput` uses `hx-swap="none"` (only out-of-band parts apply).
- **Validation error**: answer **422** with `ValidationMessage(msg, id=validation_id(p))` and
  headers `HX-Retarget: #byok-validation-{slug}`, `HX-Reswap: outerHTML`,
  `BYOK-Problem: invalid` (a standalone KeyInputForm's request, `HX-Target:
  byok-validation-{slug}--form`: that slot instead). Every single-provider form holds an empty
  slot with that id; byok.js
  marks the key input `aria-invalid`. The typed key is never echoed back; the form keeps what
  the user typed.
- **Other errors** (403 refused, 404 unknown provider, 401 / 429 / 503): answer a `Toast` or
  `SecurityAlert` with `HX-Retarget: #toast-container`, `HX-Reswap: afterbegin` and
  `BYOK-Problem: <reason>`. htmx 2 swaps only 2xx answers: byok.js lets htmx swap every error
  answer that carries the `BYOK-Problem` header (`wiring.PROBLEM_HEADER`), and no other, so a
  page needs no `htmx-config`. On a page without that target (no `ToastContainer`: a form
  pasted into the app's own page) byok.js shows the answer beside the form instead: in the
  form's validation slot, else right after the form (or the element that sent the request).
- **Multi-provider save**: `MultiProviderKeyForm` posts `provider` + `api_key` to `action`
  (`POST {base}`), `hx-target="#byok-validation-multi" hx-swap="outerHTML"`: answer
  `ValidationMessage(..., id=MULTI_VALIDATION_ID)` — `is_valid=True` with 200 on success, 422
  with `BYOK-Problem: invalid` on error (no retarget needed) — plus `oob_toast(...)`, and
  optionally the provider's card with `hx-swap-oob="true"` to refresh it when it is on the page.
- **Delete**: `DELETE {base}/{p}` (`hx-confirm` asks first), targets `#byok-card-{slug}`
  outerHTML: answer the empty-state `KeyManagementCard(p, has_key=False, ...)` + `oob_toast(...)`.
- **Test**: `POST {base}/{p}/test`, targets `#byok-test-{slug}` innerHTML: answer
  `KeyTestResult(state)`; the button's spinner shows while pending.
- **Dashboard count**: the dashboard's hx-headers add `BYOK-Dashboard: {p},{p},...` (the
  providers it shows, percent-encoded; `wiring.DASHBOARD_HEADER`) to every request from its
  cards; a save / delete answer to such a request adds
  `dashboard_summary(stored, total, oob=True)` (`#byok-dashboard-summary`, `hx-swap-oob`), so the
  count under the heading follows. Without the header (a form outside a dashboard) it is left
  out: no out-of-band element without a target.
- **Out-of-band targets**: byok.js adds `BYOK-Targets: <ids>` (`wiring.TARGETS_HEADER`) to every
  request from a key form: the ids of the ToastContainer and the cards on the page. A standalone
  or multi-provider form's answer sends the out-of-band card and toast only when their target is
  listed (without the header, as without byok.js: all of them).
- **Toasts**: `oob_toast(message, kind)` is `<div id="toast-container" hx-swap-oob="beforeend">`
  around a `Toast`; the page must contain `ToastContainer()` (the dashboard includes one).
- **CSRF**: with `csrf_token=...` a component sends `hx-headers='{"X-CSRF-Token": ...}'`
  (`wiring.CSRF_HEADER`) and a hidden `csrf_token` field (`wiring.CSRF_FIELD`); the dashboard
  passes its token (and `hx_headers`) to every card, so each card's form carries both and a
  card swapped in alone (a route's answer) keeps them.
- After a successful request byok.js clears the key inputs of the form that sent it.

Every form also has `method="post" action=...` so it degrades to a plain POST without htmx.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from byok.core.providers import resolve_provider
from byok.core.providers.names import refuse_typo

from . import wiring
from ._html import FT, el, headers_json, pass_through, safe_url, slugify, void
from .cards import KeyManagementCard, KeyTestResult
from .classes import CLASSES
from .dashboard import DashboardSkeleton, KeyManagerDashboard
from .fields import HELP_SECURE, KEY_FIELD_NAME, SPINNER, csrf_input, endpoint_fields, key_field
from .variants import FieldType, FormMethod, coerce
from .wiring import (
    CSRF_FIELD,
    CSRF_HEADER,
    DEFAULT_BASE_URL,
    MULTI_VALIDATION_ID,
    form_validation_id,
    key_url,
    validation_id,
)

__all__ = [
    "DashboardSkeleton",
    "InlineKeyInput",
    "KeyInputForm",
    "KeyManagementCard",
    "KeyManagerDashboard",
    "KeyTestResult",
    "MultiProviderKeyForm",
]

_RESERVED_FIELDS = (KEY_FIELD_NAME, CSRF_FIELD, "provider")


def _submit(text: str, cls: str, sr_suffix: str | None = None) -> FT:
    """A submit button with an htmx spinner (and an optional screen-reader suffix)."""
    return el(
        "button",
        {"type": "submit", "class": CLASSES[cls]},
        text,
        el("span", {"class": CLASSES["sr-only"]}, sr_suffix) if sr_suffix else None,
        SPINNER,
    )


def _form_attrs(
    url: str, method: FormMethod, target: str, swap: str, extra: dict[str, Any]
) -> dict[str, Any]:
    """Attributes shared by key forms: native fallback + htmx request, target and swap."""
    return {
        "method": "post",
        "action": url,
        f"hx-{method.value}": url,
        "hx-target": target,
        "hx-swap": swap,
        "hx-disabled-elt": "find button[type='submit']",
        "data-byok-form": "",
        **extra,
    }


def _extra_field(spec: Any, form_slug: str) -> FT:
    """One extra field from a (name, type, placeholder, required) tuple (trailing parts optional)."""
    if isinstance(spec, str) or not isinstance(spec, Sequence) or not 1 <= len(spec) <= 4:
        raise ValueError("extra_fields entries must be (name, type, placeholder, required) tuples")
    name, ftype, placeholder, required = (*spec, *("text", None, False)[len(spec) - 1 :])
    if not isinstance(name, str) or not name:
        raise ValueError("extra_fields names must be non-empty strings")
    if name in _RESERVED_FIELDS:
        raise ValueError(f"extra_fields name {name!r} is reserved by the key form")
    kind = coerce(FieldType, ftype, "extra_fields type")
    if kind is FieldType.HIDDEN:  # the third item is the value of a hidden field
        return void("input", {"type": "hidden", "name": name, "value": placeholder or ""})
    fid = f"byok-field-{form_slug}-{slugify(name)}"
    return el(
        "div",
        {"class": CLASSES["fieldset"]},
        el(
            "label",
            {"for": fid, "class": CLASSES["fieldset.legend"]},
            name.replace("_", " ").title(),
        ),
        void(
            "input",
            {
                "type": kind.value,
                "name": name,
                "id": fid,
                "placeholder": placeholder,
                "required": bool(required),
                "class": CLASSES["field.plain"],
            },
        ),
    )


def KeyInputForm(
    provider: str,  # provider name, e.g. "openai"
    action: str | None = None,  # URL to send the key to (default f"{base_url}/{provider}")
    method: FormMethod = FormMethod.POST,  # post, put or patch (never get: keys stay out of URLs)
    show_help: bool = True,  # show the format hint and the security note
    custom_placeholder: str | None = None,  # placeholder instead of the provider's
    extra_fields: Sequence[tuple] | None = None,  # more fields: (name, type, placeholder, required)
    provider_config: Mapping[str, Any] | None = None,  # display overrides per provider
    *,
    base_url: str = DEFAULT_BASE_URL,  # where the key routes live (used when action is None)
    csrf_token: str | None = None,  # sent as the X-CSRF-Token header and a hidden field
    hx_headers: Mapping[str, str] | None = None,  # more headers for the htmx request
    submit_text: str = "Save key",  # text of the submit button
    custom_endpoint: bool = False,  # show the optional endpoint fields (required ones always)
    cls: str = "",  # more classes for the form
    **attrs: Any,  # more attributes, FastHTML style (hx_swap_oob="true", data_x=...)
) -> FT:
    """A form to enter one provider's key; it stays in place, the answer fills its message slot."""
    refuse_typo(provider, provider_config, where="KeyInputForm")  # "opneai": a ValueError
    info = resolve_provider(provider, provider_config)
    m = coerce(FormMethod, method, "method")
    url = safe_url(action, "action") if action is not None else key_url(base_url, provider)
    slug = slugify(provider)
    extras = tuple(_extra_field(spec, slug) for spec in extra_fields or ())
    return el(
        "form",
        pass_through(
            _form_attrs(
                url,
                m,
                f"#{form_validation_id(provider)}",
                "outerHTML",
                {
                    "id": f"byok-form-{slug}",
                    "class": CLASSES["form"],
                    "hx-headers": headers_json(csrf_token, CSRF_HEADER, hx_headers),
                },
            ),
            cls,
            attrs,
        ),
        csrf_input(csrf_token),
        key_field(
            info,
            wiring.input_id(provider, "form"),
            form_validation_id(provider),
            placeholder=custom_placeholder,
            show_help=show_help,
        ),
        *(
            endpoint_fields(info, wiring.input_id(provider, "form"))
            if custom_endpoint or info.endpoint_required
            else ()
        ),
        *extras,
        _submit(submit_text, "btn.submit", f" for {info.name}"),
    )


def MultiProviderKeyForm(
    providers: Sequence[str],  # provider names to choose from (at least one)
    action: str = DEFAULT_BASE_URL,  # URL receiving `provider` and `api_key`
    method: FormMethod = FormMethod.POST,  # post, put or patch
    default_provider: str | None = None,  # initially selected (default: the first)
    provider_config: Mapping[str, Any] | None = None,  # display overrides per provider
    *,
    csrf_token: str | None = None,  # sent as the X-CSRF-Token header and a hidden field
    hx_headers: Mapping[str, str] | None = None,  # more headers for the htmx request
    cls: str = "",  # more classes for the form
    **attrs: Any,  # more attributes, FastHTML style (hx_swap_oob="true", data_x=...)
) -> FT:
    """A form with a provider select; placeholder, hint and docs link follow the selection."""
    names = [providers] if isinstance(providers, str) else list(providers)
    if not names:
        raise ValueError("providers must name at least one provider")
    for p in names:
        refuse_typo(p, provider_config, where="MultiProviderKeyForm")  # "opneai": a ValueError
    default = names[0] if default_provider is None else default_provider
    if default not in names:
        raise ValueError("default_provider must be one of providers")
    m = coerce(FormMethod, method, "method")
    url = safe_url(action, "action")
    infos = [resolve_provider(p, provider_config) for p in names]
    options = []
    for p, info in zip(names, infos, strict=True):
        options.append(
            el(
                "option",
                {
                    "value": p,
                    "selected": p == default,
                    "data-placeholder": info.placeholder,
                    "data-hint": f"{info.key_hint}. {HELP_SECURE}"
                    if info.key_hint
                    else HELP_SECURE,
                    "data-docs": safe_url(info.docs_url, "docs_url") if info.docs_url else "",
                    "data-docs-label": f"Get your {info.name} key",
                },
                info.name,
            )
        )
    select_id = "byok-provider-select"
    return el(
        "form",
        pass_through(
            _form_attrs(
                url,
                m,
                f"#{MULTI_VALIDATION_ID}",
                "outerHTML",
                {
                    "class": CLASSES["form.multi"],
                    "hx-headers": headers_json(csrf_token, CSRF_HEADER, hx_headers),
                },
            ),
            cls,
            attrs,
        ),
        csrf_input(csrf_token),
        el(
            "div",
            {"class": CLASSES["form.panel"]},
            el(
                "div",
                {"class": CLASSES["fieldset"]},
                el("label", {"for": select_id, "class": CLASSES["fieldset.legend"]}, "Provider"),
                el(
                    "select",
                    {
                        "id": select_id,
                        "name": "provider",
                        "required": True,
                        "class": CLASSES["field.select"],
                        "data-byok-provider-select": "",
                    },
                    *options,
                ),
            ),
            key_field(
                infos[names.index(default)],
                "byok-input-multi",
                MULTI_VALIDATION_ID,
                label="API key",
                always_docs=True,
            ),
        ),
        _submit("Save key", "btn.submit"),
    )


def _save_url(on_save: str) -> str:
    """on_save must be a URL (the reference also accepted JavaScript; byok never runs it)."""
    if not isinstance(on_save, str) or not on_save.startswith(
        ("/", "./", "../", "http://", "https://")
    ):
        raise ValueError(
            "on_save must be a URL starting with '/', './', '../', 'http://' or 'https://' "
            "(inline JavaScript is not supported)"
        )
    return safe_url(on_save, "on_save")


def InlineKeyInput(
    provider: str,  # provider name, e.g. "openai"
    input_id: str | None = None,  # id of the input (default f"byok-input-inline-{slug}")
    on_save: str | None = None,  # URL to POST the key to (default f"{base_url}/{provider}")
    compact: bool = True,  # small input and button
    provider_config: Mapping[str, Any] | None = None,  # display overrides per provider
    *,
    base_url: str = DEFAULT_BASE_URL,  # where the key routes live (used when on_save is None)
    csrf_token: str | None = None,  # sent as the X-CSRF-Token header and a hidden field
    hx_headers: Mapping[str, str] | None = None,  # more headers for the htmx request
    cls: str = "",  # more classes for the form
    **attrs: Any,  # more attributes, FastHTML style (hx_swap_oob="true", data_x=...)
) -> FT:
    """A one-line key input with a Save button (toasts and validation arrive out of band)."""
    info = resolve_provider(provider, provider_config)
    url = _save_url(on_save) if on_save is not None else key_url(base_url, provider)
    field_id = input_id if input_id is not None else wiring.input_id(provider, "inline")
    return el(
        "form",
        pass_through(
            _form_attrs(
                url,
                FormMethod.POST,
                "this",
                "none",
                {
                    "class": CLASSES["form.inline" if compact else "form.inline.wide"],
                    "hx-headers": headers_json(csrf_token, CSRF_HEADER, hx_headers),
                },
            ),
            cls,
            attrs,
        ),
        csrf_input(csrf_token),
        key_field(
            info,
            field_id,
            validation_id(provider),
            show_help=False,
            show_docs=False,
            compact=compact,
            visible_label=False,
            inline=True,
        ),
        _submit("Save", "btn.save" if compact else "btn.save.md", f" {info.name} key"),
    )
