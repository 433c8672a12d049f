"""byok.components: every component × every variant value, the HTMX contract, accessibility,
masking, class recipes, the dashboard over a fake and a real manager, determinism, byok.js."""

from __future__ import annotations

import hashlib
import inspect
import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastcore.xml import to_xml

import byok.components as bc
from byok.components import (
    COMPONENTS,
    VARIANTS,
    Alert,
    AlertKind,
    AlertStack,
    AlertStyle,
    DashboardSkeleton,
    ErrorIcon,
    FieldType,
    FormMethod,
    IconSize,
    InfoIcon,
    InlineKeyInput,
    KeyInputForm,
    KeyManagementCard,
    KeyManagerDashboard,
    KeyState,
    KeyStatus,
    KeyStatusNotification,
    KeyTestResult,
    MultiProviderKeyForm,
    SecurityAlert,
    Severity,
    StackSpacing,
    SuccessIcon,
    TestState,
    Toast,
    ToastAlign,
    ToastContainer,
    ToastPosition,
    ValidationMessage,
    WarningIcon,
    oob_toast,
)
from byok.components.classes import CLASSES
from byok.core.types import MAX_KEY_LENGTH, EncryptionError, KeyOverview, StorageError
from tests.support import SECRET

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # fixed "now" for relative dates
FULL_KEY = "sk-proj-Ab3dE5gH7jK9mN1pQ3sT5vX7zA9cD1fH3jL5nP7rT9vX"  # a whole key: must never render


def html(ft: Any) -> str:
    """Render like an app does."""
    return to_xml(ft)


def soup(ft: Any) -> BeautifulSoup:
    """Parse the rendering with Python's HTML parser."""
    return BeautifulSoup(html(ft), "html.parser")


def root(ft: Any) -> Any:
    """The rendering's top element."""
    return next(iter(soup(ft).find_all(True)))


def classes(ft: Any) -> list[str]:
    """The class list of the top element."""
    return root(ft).get("class", [])


# ----------------------------------------------------------------------------- class recipes


def test_class_table_matches_the_builders() -> None:
    from byok.components.recipes import recipes

    built = recipes()
    assert dict(CLASSES) == built, "run `uv run python -m byok.components.recipes`"


def test_no_class_is_a_builder_repr_and_colours_are_semantic() -> None:
    banned = re.compile(
        r"\b(?:bg|text|border|stroke|fill)-(?:white|black|gray|slate|zinc|red|blue)"
    )
    for name, value in CLASSES.items():
        assert "object at 0x" not in value, name
        assert value == value.strip() and "  " not in value and value, name
        assert not banned.search(value), f"{name}: use daisyUI semantic colours ({value})"


def test_rendered_classes_never_contain_a_repr() -> None:
    rendered = "".join(html(call()) for call in all_variant_calls())
    assert "object at 0x" not in rendered
    assert "<cjm_fasthtml" not in rendered


# ----------------------------------------------------------------------------- variants


def enum_params() -> list[tuple[Any, str, type[Enum]]]:
    """(component, parameter, enum) for every enum-typed parameter of every component."""
    found = []
    for comp in COMPONENTS:
        for name, p in inspect.signature(comp).parameters.items():
            ann = p.annotation
            for enum in VARIANTS:
                if re.search(rf"\b{enum.__name__}\b", str(ann)):
                    found.append((comp, name, enum))
    return found


REQUIRED = {  # minimal valid arguments of each component
    "Alert": {"message": "m"},
    "SecurityAlert": {"message": "m"},
    "KeyStatusNotification": {"provider": "openai", "status": "added"},
    "Toast": {"message": "m"},
    "ValidationMessage": {"message": "m"},
    "AlertStack": {"alerts": []},
    "KeyInputForm": {"provider": "openai"},
    "MultiProviderKeyForm": {"providers": ["openai"]},
    "KeyManagementCard": {"provider": "openai", "has_key": True},
    "KeyTestResult": {"state": "valid"},
    "KeyManagerDashboard": {"request": SimpleNamespace(session={}), "providers": []},
    "InlineKeyInput": {"provider": "openai"},
    "KeyStatusBadge": {"status": "active"},
    "UsageSparkline": {"counts": [0, 2, 1]},
    "IssuedKeyReveal": {"plaintext": "sk_live_x", "masked_key": "sk_live_x…"},
    "ScopePicker": {"scopes": {"read": "Read"}},
    "CreateKeyForm": {"scopes": {"read": "Read"}},
    "RollKeyDialog": {"name": "Prod", "action": "/account/api-keys/k/roll"},
    "IssuedKeyTable": {"keys": []},
}


def test_every_axis_is_an_enum_parameter() -> None:
    axes = {(c.__name__, p) for c, p, _ in enum_params()}
    for expected in [
        ("Alert", "kind"),
        ("Alert", "style"),
        ("SecurityAlert", "severity"),
        ("KeyStatusNotification", "status"),
        ("ToastContainer", "position"),
        ("ToastContainer", "align"),
        ("Toast", "kind"),
        ("AlertStack", "spacing"),
        ("InfoIcon", "size"),
        ("KeyInputForm", "method"),
        ("MultiProviderKeyForm", "method"),
        ("KeyManagementCard", "status"),
        ("KeyTestResult", "state"),
        ("KeyStatusBadge", "status"),
        ("UsageSparkline", "style"),
        ("IssuedKeyReveal", "state"),
        ("RollKeyDialog", "grace"),
        ("RollKeyDialog", "mode"),
        ("IssuedKeyTable", "status"),
    ]:
        assert expected in axes


@pytest.mark.parametrize(
    ("comp", "param", "enum"), enum_params(), ids=lambda v: getattr(v, "__name__", str(v))
)
def test_axis_accepts_members_and_strings_and_names_allowed_values(
    comp: Any, param: str, enum: type[Enum]
) -> None:
    base = dict(REQUIRED.get(comp.__name__, {}))
    for member in enum:
        as_member = html(comp(**{**base, param: member}))
        as_string = html(comp(**{**base, param: member.value}))
        assert as_member == as_string
    with pytest.raises(ValueError) as err:
        comp(**{**base, param: "not-a-value"})
    message = str(err.value)
    assert param in message
    for member in enum:
        assert repr(member.value) in message


@pytest.mark.parametrize("comp", COMPONENTS, ids=lambda c: c.__name__)
def test_every_component_passes_cls_and_attributes_through_to_its_root(comp: Any) -> None:
    """As FastHTML / MonsterUI elements do: `cls` is appended to the root's classes, other
    keywords become attributes (hx_swap_oob -> hx-swap-oob); without them nothing changes."""
    base = dict(REQUIRED.get(comp.__name__, {}))
    plain = comp(**base)
    own = root(plain).get("class", [])
    dressed = root(comp(**base, cls="my-extra mt-2", hx_swap_oob="true", data_probe="7"))
    assert dressed["class"] == [*own, "my-extra", "mt-2"]
    assert dressed["hx-swap-oob"] == "true" and dressed["data-probe"] == "7"
    assert html(comp(**base)) == html(plain)  # deterministic, and unchanged by default
    with pytest.raises(ValueError, match="inline"):
        comp(**base, onclick="alert(1)")  # byok never emits inline JavaScript
    with pytest.raises(ValueError, match="cls"):
        comp(**base, cls=["a"])


ICONS = {InfoIcon: "info", SuccessIcon: "success", WarningIcon: "warning", ErrorIcon: "error"}


@pytest.mark.parametrize("size", list(IconSize))
@pytest.mark.parametrize("icon", list(ICONS), ids=lambda f: f.__name__)
@pytest.mark.parametrize("colored", [True, False])
def test_icons(icon: Any, size: IconSize, colored: bool) -> None:
    svg = root(icon(size, colored=colored))
    assert svg.name == "svg" and svg["aria-hidden"] == "true"
    assert f"h-{size.value}" in svg["class"] and f"w-{size.value}" in svg["class"]
    assert (f"text-{ICONS[icon]}" in svg["class"]) is colored
    assert svg.find(["path", "circle"]) is not None
    assert icon(size.value, colored=colored) is not icon(size.value, colored=colored)  # fresh


ALERT_ROLES = {"info": "status", "success": "status", "warning": "alert", "error": "alert"}


@pytest.mark.parametrize(
    ("kind", "style", "title", "dismissible", "show_icon"),
    list(
        itertools.product(AlertKind, [None, *AlertStyle], [None, "T"], [False, True], [True, False])
    ),
)
def test_alert_every_combination(
    kind: AlertKind, style: AlertStyle | None, title: str | None, dismissible: bool, show_icon: bool
) -> None:
    node = root(Alert("Hello", kind, title, dismissible, show_icon, style, id="a1"))
    assert node["id"] == "a1"
    assert node["role"] == ALERT_ROLES[kind.value]
    assert f"alert-{kind.value}" in node["class"] and "alert" in node["class"]
    for other in AlertStyle:
        assert (f"alert-{other.value}" in node["class"]) is (other is style)
    icon = node.find("svg", recursive=False)
    assert (icon is not None) is show_icon
    if style is not None:  # tinted styles: readable text, the colour on the icon
        assert "text-base-content" in node["class"]
        assert icon is None or f"text-{kind.value}" in icon["class"]
    button = node.find("button")
    assert (button is not None) is dismissible
    if button is not None:
        assert button["aria-label"] == "Dismiss" and button.has_attr("data-byok-dismiss")
        assert node.has_attr("data-byok-dismissible") and button["type"] == "button"
    assert ("T" in node.get_text()) is (title is not None)
    assert "Hello" in node.get_text()


SEVERITY = {"low": "alert-info", "medium": "alert-warning", "high": "alert-error"}


@pytest.mark.parametrize("severity", list(Severity))
@pytest.mark.parametrize("action", [None, "/settings/security", "https://example.com/fix"])
def test_security_alert(severity: Severity, action: str | None) -> None:
    node = root(SecurityAlert("Plain HTTP in production", severity, action, "Fix it", id="sec"))
    assert node["role"] == "alert" and node["id"] == "sec"
    assert SEVERITY.get(severity.value, "alert-error") in node["class"]
    assert ("alert-soft" in node["class"]) is (severity is not Severity.CRITICAL)
    assert severity.value.upper() in node.get_text()
    link = node.find("a")
    assert (link is not None) is (action is not None)
    if link is not None:
        assert link["href"] == action and link.get_text() == "Fix it"
    assert not any(a.startswith("on") for t in node.find_all(True) for a in t.attrs)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " javascript:x",
        "JaVaScRiPt:x",
        "data:text/html,x",
        "java\tscript:x",
        "vbscript:x",
        "",
    ],
)
def test_security_alert_refuses_non_http_urls(url: str) -> None:
    with pytest.raises(ValueError, match="action_url"):
        SecurityAlert("m", action_url=url)


STATUS_KIND = {
    "added": "success",
    "updated": "success",
    "deleted": "info",
    "expired": "warning",
    "invalid": "error",
}


@pytest.mark.parametrize("status", list(KeyStatus))
@pytest.mark.parametrize("auto_dismiss", [True, False])
def test_key_status_notification(status: KeyStatus, auto_dismiss: bool) -> None:
    node = root(KeyStatusNotification("openai", status, "sk-p...wxyz", auto_dismiss, 4000))
    assert node["id"] == f"byok-notification-openai-{status.value}"
    assert f"alert-{STATUS_KIND[status.value]}" in node["class"]
    assert "OpenAI" in node.get_text()
    shows_key = status in (KeyStatus.ADDED, KeyStatus.UPDATED)
    assert ("sk-p...wxyz" in node.get_text()) is shows_key
    assert (node.get("data-byok-dismiss-after") == "4000") is auto_dismiss
    assert node.find("button", attrs={"data-byok-dismiss": True}) is not None
    assert soup(KeyStatusNotification("openai", status)).find("script") is None


def test_notification_masks_a_whole_key_and_checks_duration() -> None:
    text = html(KeyStatusNotification("openai", "added", masked_key=FULL_KEY))
    assert FULL_KEY not in text and FULL_KEY[:12] not in text
    with pytest.raises(ValueError, match="dismiss_after"):
        KeyStatusNotification("openai", "added", dismiss_after=-1)
    with pytest.raises(ValueError, match="dismiss_after"):
        KeyStatusNotification("openai", "added", dismiss_after="5000")  # type: ignore[arg-type]


@pytest.mark.parametrize(("position", "align"), list(itertools.product(ToastPosition, ToastAlign)))
def test_toast_container(position: ToastPosition, align: ToastAlign) -> None:
    node = root(ToastContainer(position, align))
    assert node["id"] == "toast-container"
    assert {"toast", f"toast-{position.value}", f"toast-{align.value}"} <= set(node["class"])
    assert node["role"] == "region" and node["aria-label"]


@pytest.mark.parametrize("bad", ["toast container", "#x", "1abc", "a'b", ""])
def test_toast_container_id_must_be_plain(bad: str) -> None:
    with pytest.raises(ValueError, match="id"):
        ToastContainer(id=bad)


@pytest.mark.parametrize("kind", list(AlertKind))
@pytest.mark.parametrize("duration", [0, 3000])
def test_toast(kind: AlertKind, duration: int) -> None:
    node = root(Toast("Saved", kind, duration))
    assert f"alert-{kind.value}" in node["class"]
    assert node["id"].startswith("byok-toast-") and re.fullmatch(
        r"byok-toast-[0-9a-f]{8}", node["id"]
    )
    assert node.get("data-byok-dismiss-after") == (str(duration) if duration else None)
    assert root(Toast("Saved", kind, duration))["id"] == node["id"]  # deterministic
    assert root(Toast("Other", kind, duration))["id"] != node["id"]
    assert root(Toast("Saved", kind, duration, id="t1"))["id"] == "t1"


def test_oob_toast_wraps_a_toast_for_the_container() -> None:
    node = root(oob_toast("Key saved", "success"))
    assert node["id"] == "toast-container" and node["hx-swap-oob"] == "beforeend"
    toast = node.find("div", attrs={"role": "status"})
    assert "alert-success" in toast["class"] and "Key saved" in toast.get_text()
    assert root(oob_toast("x", container_id="my-toasts"))["id"] == "my-toasts"
    with pytest.raises(ValueError):
        oob_toast("x", container_id="a b")


@pytest.mark.parametrize("is_valid", [True, False])
@pytest.mark.parametrize("show_icon", [True, False])
def test_validation_message(is_valid: bool, show_icon: bool) -> None:
    node = root(
        ValidationMessage("Key looks wrong", is_valid, show_icon, id="byok-validation-openai")
    )
    assert node["id"] == "byok-validation-openai"
    assert node["role"] == ("status" if is_valid else "alert")
    assert "text-base-content" in node["class"]  # readable text in every theme
    icon = node.find("svg")
    assert (icon is not None) is show_icon
    if icon is not None:  # the colour is carried by the icon
        assert ("text-success" if is_valid else "text-error") in icon["class"]


@pytest.mark.parametrize("spacing", list(StackSpacing))
@pytest.mark.parametrize("count", [0, 2, 3, 5])
def test_alert_stack(spacing: StackSpacing, count: int) -> None:
    alerts = [Alert(f"alert {i}", id=f"a{i}") for i in range(count)]
    before = [html(a) for a in alerts]
    node = root(AlertStack(alerts, 3, spacing))
    assert f"gap-{spacing.value}" in node["class"]
    details = node.find("details")
    assert (details is not None) is (count > 3)
    if details is not None:
        assert details.summary.get_text() == f"+{count - 3} more"
        assert [d["id"] for d in details.find_all("div", attrs={"role": True})] == [
            f"a{i}" for i in range(3, count)
        ]
    assert len(node.find_all("div", attrs={"role": "status"})) == count
    assert [html(a) for a in alerts] == before  # the input was not modified
    with pytest.raises(ValueError):
        AlertStack(alerts, -1)


# ----------------------------------------------------------------------------- forms


def key_inputs(tree: Any) -> list[Any]:
    return tree.find_all("input", attrs={"name": "api_key"})


def assert_key_input(node: Any) -> None:
    """A key input: password, no autocomplete, bounded, labelled, with a show/hide toggle."""
    assert node["type"] == "password"
    assert node["autocomplete"] == "off"
    assert node["maxlength"] == str(MAX_KEY_LENGTH)
    assert node.has_attr("required")
    doc = node.find_parent("form") or node.find_parent()
    assert doc.find("label", attrs={"for": node["id"]}) is not None
    toggle = doc.find("button", attrs={"aria-controls": node["id"]})
    assert toggle is not None and toggle["aria-label"] == "Show key" and toggle["type"] == "button"
    assert toggle.has_attr("data-byok-toggle-visibility") and toggle["aria-pressed"] == "false"


@pytest.mark.parametrize("method", list(FormMethod))
@pytest.mark.parametrize("show_help", [True, False])
def test_key_input_form(method: FormMethod, show_help: bool) -> None:
    form = root(KeyInputForm("openai", method=method, show_help=show_help, csrf_token="tok"))
    assert form.name == "form" and form["id"] == "byok-form-openai"
    assert form[f"hx-{method.value}"] == "/api/keys/openai" and form["action"] == "/api/keys/openai"
    assert form["method"] == "post"  # native fallback
    # the form stays in place: the answer fills its own slot (not a card's slot of that provider)
    assert form["hx-target"] == "#byok-validation-openai--form" and form["hx-swap"] == "outerHTML"
    assert form["hx-headers"] == '{"X-CSRF-Token": "tok"}'
    assert form.find("input", attrs={"name": "csrf_token"})["value"] == "tok"
    (key,) = key_inputs(form)
    assert_key_input(key)
    assert key["placeholder"] == "sk-proj-..."
    slot = form.find(id="byok-validation-openai--form")
    assert slot is not None and slot["aria-live"] == "polite"
    assert (form.find(attrs={"data-byok-help": True}) is not None) is show_help
    assert "byok-validation-openai--form" in key["aria-describedby"].split()
    assert form.find("a", href="https://platform.openai.com/api-keys")["rel"] == [
        "noopener",
        "noreferrer",
    ]
    assert form.find("button", type="submit") is not None


def test_key_input_form_never_uses_get() -> None:
    with pytest.raises(ValueError, match="method"):
        KeyInputForm("openai", method="get")


@pytest.mark.parametrize("ftype", list(FieldType))
def test_key_input_form_extra_fields(ftype: FieldType) -> None:
    form = root(
        KeyInputForm(
            "azure",
            extra_fields=[("org_id", ftype, "org-123", True), ("region",)],
            custom_placeholder="Your Azure key",
        )
    )
    field = form.find("input", attrs={"name": "org_id"})
    assert field["type"] == ftype.value
    if ftype is FieldType.HIDDEN:
        assert field["value"] == "org-123"
    else:
        assert field["placeholder"] == "org-123" and field.has_attr("required")
        assert form.find("label", attrs={"for": field["id"]}).get_text() == "Org Id"
    region = form.find("input", attrs={"name": "region"})
    assert region["type"] == "text" and not region.has_attr("required")
    assert key_inputs(form)[0]["placeholder"] == "Your Azure key"


@pytest.mark.parametrize(
    "bad",
    [
        [("api_key", "text", "", False)],
        [("x", "submit", "", False)],
        ["name"],
        [("", "text")],
        [("a", "text", "", False, 5)],
    ],
)
def test_key_input_form_refuses_bad_extra_fields(bad: Any) -> None:
    with pytest.raises(ValueError):
        KeyInputForm("openai", extra_fields=bad)


def test_key_input_form_partial_provider_config_falls_back() -> None:
    form = root(KeyInputForm("openai", provider_config={"openai": {"name": "OpenAI (work)"}}))
    assert form.find("label").get_text() == "OpenAI (work) API key"
    assert key_inputs(form)[0]["placeholder"] == "sk-proj-..."  # default kept
    custom = root(KeyInputForm("acme", provider_config={"acme": {"placeholder": "acme_..."}}))
    assert custom.find("label").get_text() == "Acme API key"
    assert key_inputs(custom)[0]["placeholder"] == "acme_..."


def test_provider_is_quoted_into_one_path_segment() -> None:
    form = root(KeyInputForm("a/b c?d#e"))
    assert form["hx-post"] == "/api/keys/a%2Fb%20c%3Fd%23e"
    assert re.fullmatch(r"byok-form-[a-z0-9_-]+", form["id"])
    card = root(KeyManagementCard("../x", True, update_action="/k/..%2Fx", delete_action="/k/x"))
    assert re.fullmatch(r"byok-card-[a-z0-9_-]+", card["id"])
    assert root(KeyInputForm("..", base_url="/api/keys/"))["hx-post"] == "/api/keys/%2E%2E"


@pytest.mark.parametrize("method", list(FormMethod))
@pytest.mark.parametrize("default", [None, "anthropic"])
def test_multi_provider_form(method: FormMethod, default: str | None) -> None:
    providers = ["openai", "anthropic", "acme"]
    form = root(MultiProviderKeyForm(providers, method=method, default_provider=default))
    assert form[f"hx-{method.value}"] == "/api/keys"
    assert form["hx-target"] == "#byok-validation-multi" and form["hx-swap"] == "outerHTML"
    select = form.find("select")
    assert select["name"] == "provider" and select.has_attr("data-byok-provider-select")
    assert not any(a.startswith("on") for a in select.attrs)  # no undefined updatePlaceholder()
    assert form.find("label", attrs={"for": select["id"]}) is not None
    options = select.find_all("option")
    assert [o["value"] for o in options] == providers
    chosen = default or "openai"
    assert [o["value"] for o in options if o.has_attr("selected")] == [chosen]
    for o in options:
        assert (
            o.has_attr("data-placeholder") and o.has_attr("data-hint") and o.has_attr("data-docs")
        )
    assert options[2]["data-docs"] == "" and options[1]["data-placeholder"] == "sk-ant-..."
    (key,) = key_inputs(form)
    assert_key_input(key)
    assert key["placeholder"] == ("sk-ant-..." if default else "sk-proj-...")
    assert form.find(id="byok-validation-multi") is not None
    assert form.find("a", attrs={"data-byok-docs": True}) is not None


def test_multi_provider_form_checks_its_arguments() -> None:
    with pytest.raises(ValueError):
        MultiProviderKeyForm([])
    with pytest.raises(ValueError):
        MultiProviderKeyForm(["openai"], default_provider="anthropic")
    with pytest.raises(ValueError):
        MultiProviderKeyForm(["openai"], action="javascript:alert(1)")


@pytest.mark.parametrize("compact", [True, False])
@pytest.mark.parametrize("on_save", [None, "/custom/save", "https://example.com/save"])
def test_inline_key_input(compact: bool, on_save: str | None) -> None:
    form = root(InlineKeyInput("openai", None, on_save, compact))
    assert form.name == "form"
    assert form["hx-post"] == (on_save or "/api/keys/openai")
    assert form["hx-swap"] == "none"
    (key,) = key_inputs(form)
    assert key["id"] == "byok-input-inline-openai"
    assert_key_input(key)
    assert ("input-sm" in key["class"]) is compact
    assert form.find(id="byok-validation-openai") is not None
    assert root(InlineKeyInput("openai", input_id="my-key")).find("input", id="my-key") is not None


@pytest.mark.parametrize(
    "on_save", ["alert(1)", "saveKey()", "javascript:alert(1)", "x');alert(1);//"]
)
def test_inline_key_input_refuses_javascript(on_save: str) -> None:
    with pytest.raises(ValueError, match="on_save"):
        InlineKeyInput("openai", on_save=on_save)


# ----------------------------------------------------------------------------- cards


STATE_BADGE = {
    "empty": "Not set",
    "stored": "Stored",
    "expiring": "Expires soon",
    "expired": "Expired",
    "unreadable": "Unreadable",
}


def full_card(**kw: Any) -> Any:
    args: dict[str, Any] = {
        "provider": "openai",
        "has_key": True,
        "masked_key": "sk-p...wxyz",
        "created_at": NOW - timedelta(days=3),
        "expires_at": NOW + timedelta(days=1),
        "delete_action": "/api/keys/openai",
        "update_action": "/api/keys/openai",
        "test_url": "/api/keys/openai/test",
        "now": NOW,
    }
    args.update(kw)
    return KeyManagementCard(**args)


@pytest.mark.parametrize("state", list(KeyState))
def test_card_every_state(state: KeyState) -> None:
    card = root(full_card(status=state, has_key=state is not KeyState.EMPTY))
    assert card.name == "article" and card["id"] == "byok-card-openai"
    assert card["data-byok-card"] == state.value
    assert card["aria-labelledby"] == "byok-card-openai-title"
    assert card.find(id="byok-card-openai-title").get_text() == "OpenAI"
    assert STATE_BADGE[state.value] in card.get_text()
    live = state in (KeyState.STORED, KeyState.EXPIRING)
    assert ("sk-p...wxyz" in card.get_text()) is live
    assert (card.find("details") is not None) is live  # replace form folded when a key is live
    form = card.find("form")
    assert form["hx-post"] == "/api/keys/openai"
    assert form["hx-target"] == "#byok-card-openai" and form["hx-swap"] == "outerHTML"
    assert_key_input(key_inputs(form)[0])
    assert card.find(id="byok-validation-openai") is not None
    delete = card.find("button", attrs={"hx-delete": True})
    assert (delete is not None) is (state is not KeyState.EMPTY)
    if delete is not None:
        assert delete["hx-delete"] == "/api/keys/openai"
        assert delete["hx-confirm"] == "Delete the OpenAI API key?"
        assert delete["hx-target"] == "#byok-card-openai" and delete["hx-swap"] == "outerHTML"
        assert "Delete OpenAI key" in " ".join(delete.get_text().split())
    test = card.find("button", attrs={"hx-post": "/api/keys/openai/test"})
    assert (test is not None) is live
    if test is not None:
        assert test["hx-target"] == "#byok-test-openai" and card.find(id="byok-test-openai")
    unreadable = card.find("div", attrs={"role": "alert"})
    assert (unreadable is not None) is (state is KeyState.UNREADABLE)
    if unreadable is not None:
        assert "Re-enter" in unreadable.get_text()


@pytest.mark.parametrize(
    ("expires", "state"),
    [
        (None, "stored"),
        (timedelta(days=2), "stored"),
        (timedelta(minutes=30), "expiring"),
        (timedelta(minutes=-1), "expired"),
    ],
)
def test_card_derives_expiry_state(expires: timedelta | None, state: str) -> None:
    expires_at = None if expires is None else NOW + expires
    card = root(full_card(expires_at=expires_at))
    assert card["data-byok-card"] == state
    text = " ".join(card.get_text().split())
    assert "Added 3 days ago" in text
    if state == "stored" and expires:
        assert "Expires in 2 days" in text
    if state == "expiring":
        assert "Expires in 30 minutes" in text
    times = card.find_all("time")
    assert all(t["datetime"].endswith("+00:00") for t in times)


def test_card_dates_read_as_sentences() -> None:
    """Relative phrases sit mid-sentence: "Added just now", never "Added Just now"."""
    fresh = root(
        KeyManagementCard("openai", True, "sk-p...wxyz", NOW - timedelta(seconds=5), now=NOW)
    )
    added = fresh.find("time")
    assert added.get_text() == "Added just now"
    later = root(
        KeyManagementCard("openai", True, "sk-p...wxyz", NOW - timedelta(hours=5), now=NOW)
    )
    assert later.find("time").get_text() == "Added 5 hours ago"
    for card in (fresh, later):  # no capital letter after the first word of a date line
        for line in card.find_all("time"):
            assert not re.search(r"\s[A-Z]", line.get_text()), line.get_text()


def test_card_reference_call_with_strings_and_no_actions() -> None:
    card = root(KeyManagementCard("anthropic", True, "sk-a...1234", "2026-01-02", "2026-02-02"))
    text = card.get_text()
    assert "Added: 2026-01-02" in text and "Expires: 2026-02-02" in text
    assert card.find("form") is None and card.find("button", attrs={"hx-delete": True}) is None
    empty = root(KeyManagementCard("anthropic", False))
    assert "No API key stored yet." in empty.get_text() and empty["data-byok-card"] == "empty"


def test_card_never_renders_a_whole_key() -> None:
    text = html(full_card(masked_key=FULL_KEY))
    assert FULL_KEY not in text and FULL_KEY[8:20] not in text
    assert "sk-p...wxyz" in html(full_card())


def test_card_refuses_script_urls() -> None:
    for param in ("delete_action", "update_action", "test_url"):
        with pytest.raises(ValueError, match=param):
            full_card(**{param: "javascript:alert(1)"})


@pytest.mark.parametrize("state", list(TestState))
def test_key_test_result(state: TestState) -> None:
    node = root(KeyTestResult(state))
    assert "badge" in node["class"] and node.get_text().strip()
    assert root(KeyTestResult(state, "Quota left: 10"))
    assert "Quota left: 10" in root(KeyTestResult(state, "Quota left: 10")).get_text()


# ----------------------------------------------------------------------------- dashboard


class FakeManager:
    """Test double of what the dashboard reads: BYOKManager.overview (one call per render)."""

    def __init__(self, keys: dict[str, Any], list_error: Exception | None = None) -> None:
        self.keys = keys  # provider -> masked key, or an EncryptionError (an unreadable key)
        self.list_error = list_error  # raised by overview (a storage failure)
        self.calls: list[tuple[str, tuple[str, ...], str | None]] = []

    def overview(
        self, request: Any, providers: Any, user_id: str | None = None, *, keys: Any = None
    ) -> dict[str, KeyOverview]:
        self.calls.append(("overview", tuple(providers), user_id))
        if self.list_error:
            raise self.list_error
        added, expires = NOW - timedelta(hours=2), NOW + timedelta(hours=22)
        out = {}
        for p in providers:
            if p in self.keys:
                value = self.keys[p]
                bad = isinstance(value, Exception)
                out[p] = KeyOverview(None if bad else value, added, expires, unreadable=bad)
        return out


PROVIDERS = ["openai", "anthropic", "google", "mistral", "groq", "cohere"]


def cards_of(tree: Any) -> dict[str, str]:
    return {a["id"]: a["data-byok-card"] for a in tree.find_all("article")}


def test_dashboard_over_a_fake_manager() -> None:
    manager = FakeManager({"openai": "sk-p...wxyz", "google": "AIza...9Q", "ignored": "x...y"})
    tree = root(
        KeyManagerDashboard(
            SimpleNamespace(),
            PROVIDERS,
            manager,
            "u1",
            "/keys",
            enable_test=True,
            now=NOW,
            csrf_token="tok",
        )
    )
    assert tree.name == "section" and tree["id"] == "byok-dashboard"
    assert json.loads(tree["hx-headers"]) == {
        "BYOK-Dashboard": ",".join(PROVIDERS),  # the routes refresh the count for these
        "X-CSRF-Token": "tok",
    }
    assert cards_of(tree) == {
        "byok-card-openai": "stored",
        "byok-card-anthropic": "empty",
        "byok-card-google": "stored",
        "byok-card-mistral": "empty",
        "byok-card-groq": "empty",
        "byok-card-cohere": "empty",
    }
    assert "2 of 6 providers have a key" in tree.get_text()
    assert tree.find(id="toast-container") is not None
    openai = tree.find(id="byok-card-openai")
    assert openai.find("button", attrs={"hx-post": "/keys/openai/test"}) is not None
    assert openai.find("button", attrs={"hx-delete": "/keys/openai"}) is not None
    assert manager.calls == [("overview", tuple(PROVIDERS), "u1")]  # one read, whatever shown
    assert tree.find("h2").get_text() == "API keys"
    assert [h.get_text() for h in tree.find_all("h3")][:2] == ["OpenAI", "Anthropic"]


def test_dashboard_unreadable_key_is_a_card_state() -> None:
    manager = FakeManager({"openai": EncryptionError("secret changed"), "groq": "gsk_...ab"})
    tree = root(KeyManagerDashboard(SimpleNamespace(), PROVIDERS, manager, now=NOW))
    states = cards_of(tree)
    assert states["byok-card-openai"] == "unreadable" and states["byok-card-groq"] == "stored"
    card = tree.find(id="byok-card-openai")
    assert "Re-enter" in card.get_text() and card.find("form") is not None


def test_dashboard_passes_its_csrf_token_and_headers_to_every_card_form() -> None:
    """Every form carries the token twice: the hidden field (a no-JavaScript post) and the
    hx-headers of its card (what htmx sends, and what a card swapped in alone keeps)."""
    manager = FakeManager({"openai": "sk-p...wxyz", "groq": EncryptionError("secret changed")})
    tree = root(
        KeyManagerDashboard(
            SimpleNamespace(),
            PROVIDERS,
            manager,
            enable_test=True,
            csrf_token="tok-123",
            hx_headers={"X-App": "1"},
            now=NOW,
        )
    )
    forms = tree.find_all("form")
    assert len(forms) == len(PROVIDERS)  # stored (replace), unreadable and empty cards
    for form in forms:
        hidden = form.find("input", attrs={"type": "hidden", "name": "csrf_token"})
        assert hidden is not None and hidden["value"] == "tok-123", form.get("action")
        card = form.find_parent("article")
        assert json.loads(card["hx-headers"]) == {"X-App": "1", "X-CSRF-Token": "tok-123"}
    for action in tree.find_all(attrs={"hx-delete": True}) + tree.find_all(attrs={"hx-post": True}):
        headers = action.find_parent(attrs={"hx-headers": True})
        assert json.loads(headers["hx-headers"])["X-CSRF-Token"] == "tok-123"
    bare = root(KeyManagerDashboard(SimpleNamespace(), PROVIDERS, manager, now=NOW))
    assert bare.find(attrs={"hx-headers": True}) is None  # no token: no header, no field
    assert bare.find("input", attrs={"name": "csrf_token"}) is None


def test_dashboard_summary_is_one_element_the_routes_can_replace() -> None:
    """The count sits in its own id'd element after the description, worded by
    dashboard_summary; the dashboard tells the routes which providers it counts."""
    manager = FakeManager({"openai": "sk-p...wxyz"})
    tree = root(
        KeyManagerDashboard(SimpleNamespace(), PROVIDERS[:3], manager, description="Yours.")
    )
    summary = tree.find(id=bc.SUMMARY_ID)
    assert summary.get_text() == "1 of 3 providers have a key."
    assert summary.find_parent("p").get_text() == "Yours. 1 of 3 providers have a key."
    assert not summary.has_attr("hx-swap-oob")
    assert json.loads(tree["hx-headers"]) == {"BYOK-Dashboard": "openai,anthropic,google"}
    assert html(bc.dashboard_summary(2, 6, oob=True)) == (
        '<span id="byok-dashboard-summary" hx-swap-oob="true">2 of 6 providers have a key.</span>'
    )
    assert bc.dashboard_summary(0, 3).children == ("No keys stored yet: add one below.",)
    empty = root(KeyManagerDashboard(SimpleNamespace(), PROVIDERS[:2], FakeManager({})))
    assert empty.find(id=bc.SUMMARY_ID).get_text() == "No keys stored yet: add one below."
    failing = FakeManager({}, list_error=StorageError("db down"))
    for broken in (  # no cards: no count, no header (nothing would send it)
        KeyManagerDashboard(SimpleNamespace(), PROVIDERS, failing),
        KeyManagerDashboard(SimpleNamespace(), [], FakeManager({})),
    ):
        assert root(broken).find(id=bc.SUMMARY_ID) is None
        assert not root(broken).has_attr("hx-headers")


@pytest.mark.parametrize(
    "names",
    [["openai"], ["my,provider", "ünï", "a b"], ["x" * 64] * 3, ["openai", "openai", "groq"]],
)
def test_dashboard_header_round_trips_provider_names(names: list[str]) -> None:
    from byok.components.wiring import dashboard_header_value, parse_dashboard_header

    value = dashboard_header_value(names)
    assert value is not None and value.isascii() and "\n" not in value  # a valid header value
    assert parse_dashboard_header(value) == list(dict.fromkeys(names))


def test_dashboard_header_refuses_oversized_and_junk_values() -> None:
    from byok.components.wiring import dashboard_header_value, parse_dashboard_header

    assert dashboard_header_value(["p" * 64] * 40) is None  # > 2 KB: not sent
    for junk in (None, "", ",", "openai,,groq", "x" * 3000):
        assert parse_dashboard_header(junk) is None


def test_dashboard_error_empty_and_missing_manager_states() -> None:
    failing = FakeManager({}, list_error=StorageError("db down"))
    tree = root(KeyManagerDashboard(SimpleNamespace(), PROVIDERS, failing))
    assert not tree.find_all("article") and "could not be read" in tree.get_text()
    assert tree.find("div", attrs={"role": "alert"}) is not None
    none = root(KeyManagerDashboard(SimpleNamespace(scope={}), PROVIDERS))
    assert not none.find_all("article") and "not set up" in none.get_text()
    via_scope = root(
        KeyManagerDashboard(SimpleNamespace(scope={"byok": FakeManager({})}), ["openai"])
    )
    assert cards_of(via_scope) == {"byok-card-openai": "empty"}
    assert "No keys stored yet" in via_scope.get_text()
    empty = root(KeyManagerDashboard(SimpleNamespace(), [], FakeManager({})))
    assert "No providers are configured" in empty.get_text()
    bare = root(
        KeyManagerDashboard(SimpleNamespace(), ["openai"], FakeManager({}), include_toasts=False)
    )
    assert bare.find(id="toast-container") is None


def test_dashboard_over_the_real_manager() -> None:
    from byok.core.storage import BYOKManager

    request = SimpleNamespace(session={}, scope={})
    manager = BYOKManager(SECRET)
    manager.set_key(request, "openai", FULL_KEY)
    manager.set_key(request, "anthropic", "sk-ant-api03-" + "x" * 40)
    text = html(KeyManagerDashboard(request, PROVIDERS, manager))
    tree = BeautifulSoup(text, "html.parser")
    assert cards_of(tree)["byok-card-openai"] == "stored"
    assert cards_of(tree)["byok-card-anthropic"] == "stored"
    assert FULL_KEY not in text and FULL_KEY[:12] not in text
    assert manager.get_masked_key(request, "openai") in text
    # the app secret changed: the stored keys cannot be decrypted, the dashboard says so
    other = BYOKManager("another-app-secret-0123456789abcdef")
    tree = BeautifulSoup(html(KeyManagerDashboard(request, PROVIDERS, other)), "html.parser")
    assert cards_of(tree)["byok-card-openai"] == "unreadable"
    assert manager.get_key(request, "openai") == FULL_KEY  # kept, not deleted


def test_dashboard_in_a_setup_byok_app_finds_its_manager_unasked() -> None:
    """No byok_manager=: the dashboard finds setup_byok's manager by find_manager's rule, also on a
    path the beforeware skips and before any request has run it (the app's manager)."""
    from fasthtml.common import fast_app
    from starlette.testclient import TestClient

    from byok.core.security import mask_key
    from byok.middleware import SecurityPolicy, setup_byok

    policy = SecurityPolicy(is_production=False)
    before, manager = setup_byok(
        SECRET, policy=policy, enable_security_checks=False, skip=["/keys"]
    )
    app, rt = fast_app(before=before, secret_key=SECRET)
    seen = []

    @rt("/keys")
    def keys(request) -> Any:  # skipped by the beforeware: nothing on request.scope
        seen.append(request.scope.get("byok"))
        return KeyManagerDashboard(
            request, ["openai", "groq"], now=datetime(2025, 6, 1, tzinfo=UTC)
        )

    @rt("/save")
    def save(request) -> str:  # behind the beforeware
        manager.set_key(request, "openai", FULL_KEY)
        return "saved"

    client = TestClient(app)
    first = BeautifulSoup(client.get("/keys").text, "html.parser")  # a fresh app: no request yet
    assert "not set up" not in first.get_text()
    assert cards_of(first) == {"byok-card-openai": "empty", "byok-card-groq": "empty"}
    assert client.get("/save").text == "saved"
    text = client.get("/keys").text
    tree = BeautifulSoup(text, "html.parser")
    assert cards_of(tree) == {"byok-card-openai": "stored", "byok-card-groq": "empty"}
    assert mask_key(FULL_KEY) in text and FULL_KEY not in text
    assert "1 of 2 providers have a key." in tree.get_text()
    assert seen == [None, None]  # found through the app, not the scope


@pytest.mark.parametrize("src", [None, "/keys/dashboard"])
def test_dashboard_skeleton(src: str | None) -> None:
    node = root(DashboardSkeleton(src, cards=4))
    assert node["aria-busy"] == "true" and node["id"] == "byok-dashboard"
    assert len(node.find_all(class_="skeleton")) == 4
    assert node.get("hx-get") == src and (node.get("hx-trigger") == "load") is (src is not None)
    with pytest.raises(ValueError):
        DashboardSkeleton("javascript:alert(1)")
    with pytest.raises(ValueError):
        DashboardSkeleton(cards=-1)


# ----------------------------------------------------------------------------- accessibility


def all_variant_calls() -> list[Any]:
    """A call per variant value of every component (the corpus for cross-cutting checks)."""
    calls: list[Any] = []
    for icon in ICONS:
        calls += [lambda i=icon, s=s: i(s) for s in IconSize]
    calls += [
        lambda k=k, s=s: Alert("m", k, "t", True, True, s, "x")
        for k in AlertKind
        for s in [None, *AlertStyle]
    ]
    calls += [lambda s=s: SecurityAlert("m", s, "/fix") for s in Severity]
    calls += [lambda s=s: KeyStatusNotification("openai", s, "sk-...a") for s in KeyStatus]
    calls += [lambda p=p, a=a: ToastContainer(p, a) for p in ToastPosition for a in ToastAlign]
    calls += [lambda k=k: Toast("m", k) for k in AlertKind]
    calls += [lambda v=v: ValidationMessage("m", v) for v in (True, False)]
    calls += [lambda s=s: AlertStack([Alert(str(i)) for i in range(5)], 2, s) for s in StackSpacing]
    calls += [
        lambda m=m: KeyInputForm("openai", method=m, extra_fields=[("org", "text", "o", True)])
        for m in FormMethod
    ]
    calls += [lambda m=m: MultiProviderKeyForm(PROVIDERS, method=m) for m in FormMethod]
    calls += [lambda s=s: full_card(status=s) for s in KeyState]
    calls += [lambda s=s: KeyTestResult(s) for s in TestState]
    calls += [
        lambda: KeyManagerDashboard(
            SimpleNamespace(), PROVIDERS, FakeManager({"openai": "sk-...x"}), now=NOW
        )
    ]
    calls += [
        lambda: DashboardSkeleton("/d"),
        lambda: InlineKeyInput("openai"),
        lambda: InlineKeyInput("openai", compact=False),
    ]
    return calls


@pytest.mark.parametrize("call", all_variant_calls())
def test_accessibility_basics(call: Any) -> None:
    tree = soup(call())
    for svg in tree.find_all("svg"):
        assert svg.get("aria-hidden") == "true"
    for button in tree.find_all("button"):
        name = button.get("aria-label") or " ".join(button.get_text().split())
        assert name, f"button without an accessible name: {button}"
        assert button.get("type") in ("button", "submit")
    for field in tree.find_all(["input", "select"]):
        if field.get("type") == "hidden":
            continue
        assert field.get("id") and tree.find("label", attrs={"for": field["id"]}), field
    ids = [t["id"] for t in tree.find_all(id=True)]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for link in tree.find_all("a", target="_blank"):
        assert "noopener" in link["rel"]
    for node in tree.find_all(attrs={"role": ["alert", "status"]}):
        assert node.get("aria-live") in (None, "polite", "assertive")
    assert tree.find("script") is None
    assert not [a for t in tree.find_all(True) for a in t.attrs if a.lower().startswith("on")]


def test_every_component_is_exported_from_its_reference_module() -> None:
    import byok.components.alerts as alerts
    import byok.components.forms as forms

    for name in [
        "InfoIcon",
        "SuccessIcon",
        "WarningIcon",
        "ErrorIcon",
        "Alert",
        "SecurityAlert",
        "KeyStatusNotification",
        "ToastContainer",
        "Toast",
        "ValidationMessage",
        "AlertStack",
    ]:
        assert callable(getattr(alerts, name)) and name in alerts.__all__
    for name in [
        "KeyInputForm",
        "MultiProviderKeyForm",
        "KeyManagementCard",
        "KeyManagerDashboard",
        "InlineKeyInput",
    ]:
        assert callable(getattr(forms, name)) and name in forms.__all__
    for name in bc.__all__:
        assert hasattr(bc, name), name


def test_reference_signatures_are_kept() -> None:
    from cjm_fasthtml_byok.components import alerts as ref_alerts
    from cjm_fasthtml_byok.components import forms as ref_forms

    for ref in (ref_alerts, ref_forms):
        for name in ref.__all__:
            ours = list(inspect.signature(getattr(bc, name)).parameters)
            theirs = list(inspect.signature(getattr(ref, name)).parameters)
            assert ours[: len(theirs)] == theirs, name


def test_components_return_composable_ft_elements() -> None:
    from fasthtml.common import FT, Div

    for call in all_variant_calls():
        ft = call()
        assert isinstance(ft, FT) and ft.tag
        wrapped = to_xml(Div(ft, cls="wrap"))
        assert wrapped.startswith('<div class="wrap">') and html(ft).strip() in wrapped


# ----------------------------------------------------------------------------- determinism


RENDER_SCRIPT = """
import hashlib
from datetime import UTC, datetime, timedelta
from fastcore.xml import to_xml
from byok.components import *
now = datetime(2026, 3, 1, tzinfo=UTC)
calls = [
    Alert("x", "error", "t", True, True, "dash", "id1"), Toast("Saved ünï", "success"),
    oob_toast("</script><script>alert(1)</script>", "error"), KeyStatusNotification("open ai/x", "added", "sk-...1"),
    KeyInputForm("openai", extra_fields=[("org", "text", "o", True)], csrf_token="t"),
    MultiProviderKeyForm(["openai", "anthropic", "x y"]), InlineKeyInput("<p>"),
    KeyManagementCard("openai", True, "sk-...1", now - timedelta(days=1), now + timedelta(hours=1),
                      "/k/openai", "/k/openai", test_url="/k/openai/test", now=now),
    AlertStack([Alert(str(i)) for i in range(6)]), SecurityAlert("s", "high", "/fix"),
    DashboardSkeleton("/d"), KeyTestResult("rejected"),
]
print(hashlib.sha256("\\n".join(to_xml(c) for c in calls).encode()).hexdigest())
from gallery.model.registry import registry
print(hashlib.sha256("".join(s.render() for s in registry()).encode()).hexdigest())
"""


def test_same_call_same_html_in_separate_processes() -> None:
    """These calls and every gallery story render the same bytes in two fresh processes with
    different hash seeds, and the stories the same bytes as in this one."""
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", RENDER_SCRIPT],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=Path(__file__).resolve().parent.parent,  # the checkout
        )
        outputs.add(out.stdout.strip())
    assert len(outputs) == 1
    calls, stories = outputs.pop().splitlines()
    assert re.fullmatch(r"[0-9a-f]{64}", calls)
    from gallery.model.registry import registry

    here = hashlib.sha256("".join(s.render() for s in registry()).encode()).hexdigest()
    assert stories == here


def test_ids_never_come_from_memory_addresses_or_time() -> None:
    text = "".join(html(call()) for call in all_variant_calls())
    for value in re.findall(r'id="([^"]*)"', text):
        assert not re.search(r"\d{9,}", value), value


# ----------------------------------------------------------------------------- byok.js


def test_byok_js_is_static_and_data_driven() -> None:
    source = bc.byok_js()
    for banned in (
        "eval(",
        "new Function",
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "</script",
    ):
        assert banned not in source
    for attr in (
        "data-byok-dismiss",
        "data-byok-dismiss-after",
        "data-byok-toggle-visibility",
        "data-byok-provider-select",
        "data-byok-form",
    ):
        assert attr in source
    assert "htmx:beforeSwap" in source and "422" in source
    # error answers are swapped when byok marked them, by this header name (one spelling)
    assert f'"{bc.PROBLEM_HEADER}"' in source and bc.PROBLEM_HEADER == "BYOK-Problem"


NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"


def head_urls(elements: list[Any]) -> list[str]:
    """src / href of every script and link in rendered <head> elements (an inline script has
    neither: left out)."""
    tags = soup(tuple(elements)).find_all(["script", "link"])
    return [u for t in tags if (u := t.get("src") or t.get("href"))]


def test_front_end_default_is_the_prebuilt_stylesheet_shipped_in_the_package() -> None:
    from fasthtml.common import fast_app
    from starlette.testclient import TestClient

    assets = bc.front_end()
    assert isinstance(assets, bc.Prebuilt) and assets.local and assets.notice() is None
    assert head_urls(assets.headers()) == ["/byok/byok.css", "/byok/htmx.js", "/byok/byok.js"]
    assert assets.files() == {
        "byok.css": bc.BYOK_CSS_PATH,
        "htmx.js": bc.HTMX_PATH,
        "byok.js": bc.BYOK_JS_PATH,
    }
    for path in assets.files().values():  # inside the package, not node_modules
        assert path.is_file() and path.parent == Path(bc.assets.__file__).parent / "static"
    app, _ = fast_app(default_hdrs=False, hdrs=assets.headers())
    assets.serve(app)
    client = TestClient(app)
    css = client.get("/byok/byok.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert css.content == bc.BYOK_CSS_PATH.read_bytes()
    assert client.get("/byok/daisyui.css").status_code == 404  # not part of this front end
    assert bc.front_end("prebuilt") == assets
    with pytest.raises(ValueError, match="prebuilt"):
        bc.front_end("cdn")  # type: ignore[arg-type]


def test_vendored_htmx_is_the_pinned_release_with_its_licence() -> None:
    assert bc.NpmFile("htmx.org", "2.0.7", "dist/htmx.min.js") == bc.assets.HTMX_NPM
    source = bc.HTMX_PATH.read_text(encoding="utf-8")
    assert 'version:"2.0.7"' in source.replace(" ", "")
    pinned = NODE_MODULES / bc.assets.HTMX_NPM.package / bc.assets.HTMX_NPM.path
    if pinned.is_file():  # `npm ci` was run: byte for byte the npm release
        assert pinned.read_bytes() == bc.HTMX_PATH.read_bytes()
    licences = (bc.assets.STATIC_DIR / "THIRD-PARTY-LICENSES.txt").read_text(encoding="utf-8")
    for name in ("htmx 2.0.7", "Zero-Clause BSD", "daisyUI 5.8.1", "Tailwind CSS 4.3.5", "MIT"):
        assert name in licences, name


def test_front_end_in_browser_headers_and_whitelisted_files(tmp_path: Path) -> None:
    from fasthtml.common import fast_app
    from starlette.testclient import TestClient

    for npm in bc.NPM_FILES.values():  # a node_modules holding exactly the pinned files
        (tmp_path / npm.package / npm.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / npm.package / npm.path).write_text(f"/* {npm.package} */")
    local = bc.InBrowser(tmp_path)
    assert local.local and local.notice() is None
    assert head_urls(local.headers()) == [
        "/byok/daisyui.css",
        "/byok/themes.css",
        "/byok/tailwind.js",
        "/byok/htmx.js",
        "/byok/byok.js",
    ]
    assert soup(tuple(local.headers())).find("meta", charset="utf-8") is not None
    app, _ = fast_app(default_hdrs=False, hdrs=local.headers())  # its catch-all static route
    local.serve(app)
    client = TestClient(app)
    for url in head_urls(local.headers()):
        response = client.get(url)
        assert response.status_code == 200, url
    assert client.get("/byok/tailwind.js").text == "/* @tailwindcss/browser */"
    htmx = client.get("/byok/htmx.js").content  # vendored, run only when the page has no htmx
    assert bc.HTMX_PATH.read_bytes() in htmx and htmx.startswith(b"if(typeof window.htmx")
    assert client.get("/byok/byok.js").text == bc.byok_js()
    for url in ("/byok/axe.js", "/byok/..%2Fpackage.json", "/byok/", "/byok/static/byok.js"):
        assert client.get(url).status_code == 404, url
    assert client.get("/byok/byok.css").status_code == 404  # the in-browser build replaces it
    with pytest.raises(ValueError):
        local.serve(app, "byok")
    assert bc.find_node_modules() is not None  # this checkout has run `npm ci`
    assert bc.front_end("browser") == bc.InBrowser(bc.find_node_modules())


def test_front_end_in_browser_without_node_modules_uses_the_cdn_with_a_notice() -> None:
    cdn = bc.InBrowser(None)
    urls = head_urls(cdn.headers())
    assert urls[:3] == [bc.NPM_FILES[n].cdn for n in bc.NPM_FILES]
    assert all(u.startswith("https://cdn.jsdelivr.net/npm/") for u in urls[:3])
    assert urls[3:] == ["/byok/htmx.js", "/byok/byok.js"]  # shipped with Python: always local
    notice = root(cdn.notice())
    assert notice["id"] == "byok-asset-notice" and notice["role"] == "alert"
    assert "CDN" in notice.get_text() and f"npm install {bc.NPM_PACKAGES}" in notice.get_text()
    assert bc.NPM_PACKAGES == "@tailwindcss/browser@4.3.4 daisyui@5.8.1"


def test_gallery_assets_are_byoks_plus_the_gallerys_own(tmp_path: Path) -> None:
    from gallery.ui.assets import GALLERY_CSS, Assets, assets_for, locate, shell_loader

    assets = locate()
    # byok's front end, with the gallery's own build of byok.css (its classes and themes too)
    assert assets.front == bc.Prebuilt(GALLERY_CSS) and assets.local
    assert assets.files()["byok.css"] == GALLERY_CSS
    assert bc.front_end().files().keys() <= assets.files().keys()
    assert {"gallery.js", "gallery.css"} <= set(assets.files())
    head = Assets(bc.InBrowser(None)).headers()
    assert head_urls(head)[1:] == [  # after the favicon
        bc.NPM_FILES["daisyui.css"].cdn,
        bc.NPM_FILES["themes.css"].cdn,
        "/assets/gallery.css",
        bc.NPM_FILES["tailwind.js"].cdn,  # before the first paint: in place
    ]
    # the deferred ones start once the page has loaded, in this order (shell_loader), from an
    # inline script before the stylesheets (one after them would hold the parser until they load)
    loader = shell_loader(["/assets/gallery.js", "/assets/htmx.js", "/assets/byok.js"])
    tags = [t for t in head if t is not None]
    first_css = next(i for i, t in enumerate(tags) if t.tag == "link" and t.rel == "stylesheet")
    assert [i for i, t in enumerate(tags) if loader in to_xml(t)] == [first_css - 1]
    own = tmp_path / "app.css"
    own.write_text(".shop { color: red }")
    mine = assets_for("prebuilt", (own,))
    assert head_urls(mine.headers())[1:4] == [
        "/assets/byok.css",
        "/assets/gallery.css",
        "/assets/extra-1-app.css",
    ]
    assert mine.files()["extra-1-app.css"] == own.resolve()
    with pytest.raises(FileNotFoundError, match=r"nope\.css"):
        assets_for("prebuilt", (tmp_path / "nope.css",))


def test_byok_script_and_served_route() -> None:
    from fasthtml.common import fast_app
    from starlette.testclient import TestClient

    tag = root(bc.byok_script())
    assert tag.name == "script" and tag["src"] == "/byok/byok.js" and tag.has_attr("defer")
    inline = html(bc.byok_script(inline=True))
    assert inline.count("<script") == 1 and "byokLoaded" in inline
    with pytest.raises(ValueError):
        bc.byok_script("javascript:alert(1)")
    app, _ = fast_app()  # registers a catch-all static route first
    bc.serve_byok_js(app)
    response = TestClient(app).get("/byok/byok.js")
    assert response.status_code == 200 and response.text == bc.byok_js()
    assert response.headers["content-type"].startswith("text/javascript")


# ----------------------------------------------------------------------------- in a browser

HTMX_JS = bc.HTMX_PATH  # vendored in the package
ORIGIN = "http://byok.test"


class KeyRoutes:
    """The key routes of the HTMX contract, played by Playwright request interception."""

    def __init__(self) -> None:
        self.stored: dict[str, str] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    def card(self, provider: str) -> Any:
        url = f"/api/keys/{provider}"
        key = self.stored.get(provider)
        return KeyManagementCard(
            provider,
            key is not None,
            key and key[:4] + "..." + key[-4:],
            delete_action=url,
            update_action=url,
            test_url=url + "/test",
        )

    def page(self) -> str:
        body = to_xml(
            (
                self.card("openai"),
                KeyInputForm("groq"),
                MultiProviderKeyForm(["openai", "anthropic", "acme"]),
                Alert("Dismiss me", dismissible=True, id="dismissable"),
                Toast("Short-lived", duration=300, id="short-toast"),
                ToastContainer(),
            )
        )
        return (
            '<!doctype html><html lang="en"><head><title>t</title>'
            '<script src="/htmx.js"></script><script src="/byok.js" defer></script>'
            f"</head><body>{body}</body></html>"
        )

    def answer(
        self, method: str, path: str, form: dict[str, str], sent: dict[str, str]
    ) -> tuple[int, dict, str]:
        from byok.components import MULTI_VALIDATION_ID, form_validation_id, validation_id

        if path == "/":
            return 200, {"content-type": "text/html"}, self.page()
        if path == "/htmx.js":
            return 200, {"content-type": "text/javascript"}, HTMX_JS.read_text()
        if path == "/byok.js":
            return 200, {"content-type": "text/javascript"}, bc.byok_js()
        html_type = {"content-type": "text/html"}
        provider = path.removeprefix("/api/keys").strip("/").removesuffix("/test")
        if path.endswith("/test"):
            return 200, html_type, to_xml(KeyTestResult("valid"))
        if method == "DELETE":
            self.stored.pop(provider, None)
            return 200, html_type, to_xml((self.card(provider), oob_toast("Key removed", "info")))
        provider = provider or form.get("provider", "")
        key = form.get("api_key", "")
        multi = path == "/api/keys"
        standalone = sent.get("hx-target") == form_validation_id(provider)  # a KeyInputForm
        slot = form_validation_id(provider) if standalone else validation_id(provider)
        slot = MULTI_VALIDATION_ID if multi else slot
        if key.startswith("fail-"):  # storage down: a toast, marked for byok.js or not
            headers = {**html_type, "HX-Retarget": "#toast-container", "HX-Reswap": "afterbegin"}
            if key == "fail-marked":
                headers[bc.PROBLEM_HEADER] = "storage"
            return 503, headers, to_xml(Toast(f"Storage down ({key})", "error", duration=0))
        if len(key) < 20:
            headers = {
                **html_type,
                "HX-Retarget": f"#{slot}",
                "HX-Reswap": "outerHTML",
                bc.PROBLEM_HEADER: "invalid",
            }
            return 422, headers, to_xml(ValidationMessage("Too short for an API key", id=slot))
        self.stored[provider] = key
        toast = oob_toast("Key saved", "success", 400)
        if multi or standalone:  # the form stays: its message, the card out of band
            card = KeyManagementCard(provider, True, key[:4] + "..." + key[-4:], hx_swap_oob="true")
            return 200, html_type, to_xml((ValidationMessage("Saved", True, id=slot), card, toast))
        return 200, html_type, to_xml((self.card(provider), toast))


@pytest.fixture
def key_page(page: Any) -> Iterator[tuple[Any, KeyRoutes]]:
    from urllib.parse import parse_qsl, urlsplit

    routes = KeyRoutes()

    def handle(route: Any) -> None:
        request = route.request
        form = dict(parse_qsl(request.post_data or ""))
        path = urlsplit(request.url).path
        routes.requests.append((request.method, path, request.headers))
        status, headers, body = routes.answer(request.method, path, form, request.headers)
        route.fulfill(status=status, headers=headers, body=body)

    page.route(f"{ORIGIN}/**", handle)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(ORIGIN + "/")
    page.wait_for_function("window.byokLoaded === true && !!window.htmx")
    yield page, routes
    assert errors == []


def test_browser_toggle_dismiss_and_auto_dismiss(key_page: Any) -> None:
    page, _ = key_page
    field = page.locator("#byok-input-form-groq")
    toggle = page.locator("button[aria-controls='byok-input-form-groq']")
    field.fill("gsk_secret")
    toggle.click()
    assert field.get_attribute("type") == "text" and toggle.get_attribute("aria-pressed") == "true"
    assert toggle.get_attribute("aria-label") == "Hide key"
    toggle.click()
    assert (
        field.get_attribute("type") == "password"
        and toggle.get_attribute("aria-label") == "Show key"
    )
    page.locator("#dismissable [data-byok-dismiss]").click()
    assert page.locator("#dismissable").count() == 0
    page.wait_for_selector("#short-toast", state="detached", timeout=3000)


def test_browser_provider_switch(key_page: Any) -> None:
    page, _ = key_page
    form = page.locator("form:has(#byok-provider-select)")
    page.select_option("#byok-provider-select", "anthropic")
    assert form.locator("#byok-input-multi").get_attribute("placeholder") == "sk-ant-..."
    assert "sk-ant-" in form.locator("[data-byok-help]").inner_text()
    docs = form.locator("[data-byok-docs]")
    assert docs.get_attribute("href") == "https://console.anthropic.com/settings/keys"
    assert docs.inner_text().strip() == "Get your Anthropic key"
    page.select_option("#byok-provider-select", "acme")
    assert docs.is_hidden()


def test_browser_save_validation_test_and_delete(key_page: Any) -> None:
    page, routes = key_page
    card = page.locator("#byok-card-openai")
    assert card.get_attribute("data-byok-card") == "empty"
    card.locator("input[name=api_key]").fill("too-short")
    card.locator("button[type=submit]").click()
    message = page.locator("#byok-validation-openai[role=alert]")
    message.wait_for()
    assert "Too short" in message.inner_text()
    key_input = card.locator("input[name=api_key]")
    assert key_input.get_attribute("aria-invalid") == "true"
    assert key_input.input_value() == "too-short"  # what the user typed is kept
    key_input.fill("sk-proj-" + "a" * 40)
    card.locator("button[type=submit]").click()
    page.wait_for_selector("#byok-card-openai[data-byok-card=stored]")
    assert "sk-p...aaaa" in page.locator("#byok-card-openai").inner_text()
    toast = page.locator("#toast-container [role=status]")
    toast.wait_for()
    assert "Key saved" in toast.inner_text()
    toast.wait_for(state="detached", timeout=3000)  # auto-dismissed after 400 ms
    assert routes.stored == {"openai": "sk-proj-" + "a" * 40}
    page.locator("#byok-card-openai button[hx-post$='/test']").click()
    page.wait_for_selector("#byok-test-openai .badge")
    assert "Key works" in page.locator("#byok-test-openai").inner_text()
    page.once(
        "dialog", lambda d: d.accept() if "Delete the OpenAI API key?" in d.message else d.dismiss()
    )
    page.locator("#byok-card-openai button[hx-delete]").click()
    page.wait_for_selector("#byok-card-openai[data-byok-card=empty]")
    assert routes.stored == {}
    assert ("DELETE", "/api/keys/openai") in [(m, p) for m, p, _ in routes.requests]


def test_browser_error_answers_show_only_when_marked(key_page: Any) -> None:
    """htmx swaps a 503 that carries PROBLEM_HEADER (its toast appears) and leaves an unmarked
    one alone (htmx's default: an app's own error answers are not byok's business)."""
    page, _ = key_page
    card = page.locator("#byok-card-openai")
    key_input = card.locator("input[name=api_key]")
    key_input.fill("fail-plain")
    card.locator("button[type=submit]").click()
    page.wait_for_function("document.querySelector('#byok-card-openai button[disabled]') === null")
    key_input.fill("fail-marked")
    card.locator("button[type=submit]").click()
    toast = page.locator("#toast-container [role=alert]")
    toast.wait_for()
    assert "Storage down (fail-marked)" in toast.inner_text()
    assert "fail-plain" not in page.locator("#toast-container").inner_text()
    assert key_input.input_value() == "fail-marked"  # kept: the save failed
    assert card.get_attribute("data-byok-card") == "empty"


def test_browser_standalone_and_multi_forms(key_page: Any) -> None:
    page, routes = key_page
    form = page.locator("#byok-form-groq")
    form.locator("input[name=api_key]").fill("gsk_" + "b" * 30)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#byok-validation-groq--form[role=status]")  # the form stays
    assert "Saved" in form.inner_text() and page.locator("#byok-card-groq").count() == 0
    assert form.locator("input[name=api_key]").input_value() == ""  # cleared after success
    multi = page.locator("form:has(#byok-provider-select)")
    page.select_option("#byok-provider-select", "anthropic")
    multi.locator("#byok-input-multi").fill("sk-ant-" + "c" * 30)
    multi.locator("button[type=submit]").click()
    page.wait_for_selector("#byok-validation-multi[role=status]")
    assert "Saved" in page.locator("#byok-validation-multi").inner_text()
    assert multi.locator("#byok-input-multi").input_value() == ""  # cleared after success
    assert routes.stored["anthropic"] == "sk-ant-" + "c" * 30
