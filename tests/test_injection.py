"""Injection corpus × every string parameter of every component: parsed back with BeautifulSoup,
no new script element, no event-handler attribute, no javascript: URL, no foreign element, no
caller text in a selector; URL and id parameters either refuse the value or encode it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastcore.xml import to_xml

from byok.components import (
    Alert,
    AlertStack,
    CreateKeyForm,
    DashboardSkeleton,
    ErrorIcon,
    InfoIcon,
    InlineKeyInput,
    IssuedKeyReveal,
    IssuedKeyTable,
    KeyInputForm,
    KeyManagementCard,
    KeyManagerDashboard,
    KeyStatusBadge,
    KeyStatusNotification,
    KeyTestResult,
    MultiProviderKeyForm,
    RollKeyDialog,
    ScopePicker,
    SecurityAlert,
    SuccessIcon,
    Toast,
    ToastContainer,
    UsageSparkline,
    ValidationMessage,
    WarningIcon,
    byok_script,
    oob_toast,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)

CORPUS = [  # the corpus, then more of the usual suspects
    "</script><script>alert(1)</script>",
    "x');alert(1);//",
    "javascript:alert(1)",
    '" onmouseover="alert(1)',
    "<img src=x onerror=alert(1)>",
    "ünïcødé 漢字 🎉 \u202eevil\u202c \u0000",
    "A" * 10_240,
    "' onfocus='alert(1)' autofocus='",
    '"><svg onload=alert(1)>',
    " JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "//evil.example/steal",
    "../../admin",
    "</textarea></title><iframe src=javascript:alert(1)>",
    "{{7*7}}${alert(1)}<%= 7*7 %>",
    "#byok-card-openai, body",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
]

TAGS = {  # every element the kit emits
    "div", "span", "p", "svg", "path", "circle", "button", "form", "input", "label", "select",
    "option", "a", "article", "section", "header", "h2", "h3", "details", "summary", "code", "time",
    "table", "caption", "thead", "tbody", "tr", "th", "td", "nav", "dialog", "fieldset", "legend",
    "strong", "rect", "polyline", "h1",
}  # fmt: skip
URL_ATTRS = (
    "href",
    "src",
    "action",
    "hx-post",
    "hx-put",
    "hx-patch",
    "hx-delete",
    "hx-get",
    "data-docs",
)
SELECTOR = re.compile(
    r"this|#[a-z][a-z0-9_-]*|find button\[type='submit'\]"
)  # hx-target / hx-disabled-elt


class Manager:
    """Test double of what the dashboard reads (BYOKManager.overview); its data is hostile too."""

    def __init__(self, masked: str) -> None:
        self.masked = masked

    def overview(self, request: Any, providers: Any, user_id: Any = None, **_: Any) -> dict:
        from byok.core.types import KeyOverview

        stored = ["openai", self.masked]  # a hostile provider name among the stored ones
        return {p: KeyOverview(self.masked, NOW) for p in providers if p in stored}


def issued(v: str, **over: Any) -> SimpleNamespace:
    """An issued-key record whose every text field is hostile (the table trusts none of them)."""
    meta = SimpleNamespace(name=v, scopes=[v, "read"], expires_at=None, custom={"environment": v})
    fields = dict(
        id=v, key_prefix=v, metadata=meta, revoked_at=None, created_at=NOW, last_used_at=None
    )
    return SimpleNamespace(**{**fields, **over})


def cfg(field: str) -> Callable[[str], dict]:
    return lambda v: {"openai": {field: v}, "acme": {field: v}}


P = "openai"
R = SimpleNamespace(session={}, scope={})

# (component.parameter, call with the payload, may refuse with ValueError, payload shows as text)
CASES: list[tuple[str, Callable[[str], Any], bool, bool]] = [
    *[
        (f"{i.__name__}.size", lambda v, i=i: i(v), True, False)
        for i in (InfoIcon, SuccessIcon, WarningIcon, ErrorIcon)
    ],
    ("Alert.message", lambda v: Alert(v), False, True),
    ("Alert.title", lambda v: Alert("m", title=v), False, True),
    ("Alert.id", lambda v: Alert("m", id=v, dismissible=True), False, False),
    ("Alert.kind", lambda v: Alert("m", kind=v), True, False),
    ("Alert.style", lambda v: Alert("m", style=v), True, False),
    ("SecurityAlert.message", lambda v: SecurityAlert(v), False, True),
    ("SecurityAlert.severity", lambda v: SecurityAlert("m", v), True, False),
    ("SecurityAlert.action_url", lambda v: SecurityAlert("m", action_url=v), True, False),
    (
        "SecurityAlert.action_text",
        lambda v: SecurityAlert("m", action_url="/fix", action_text=v),
        False,
        True,
    ),
    ("SecurityAlert.id", lambda v: SecurityAlert("m", id=v), False, False),
    ("KeyStatusNotification.provider", lambda v: KeyStatusNotification(v, "added"), False, False),
    ("KeyStatusNotification.status", lambda v: KeyStatusNotification(P, v), True, False),
    (
        "KeyStatusNotification.masked_key",
        lambda v: KeyStatusNotification(P, "added", v),
        False,
        False,
    ),
    (
        "KeyStatusNotification.provider_config",
        lambda v: KeyStatusNotification(P, "added", provider_config=cfg("name")(v)),
        False,
        True,
    ),
    ("ToastContainer.position", lambda v: ToastContainer(v), True, False),
    ("ToastContainer.align", lambda v: ToastContainer(align=v), True, False),
    ("ToastContainer.id", lambda v: ToastContainer(id=v), True, False),
    ("Toast.message", lambda v: Toast(v), False, True),
    ("Toast.kind", lambda v: Toast("m", v), True, False),
    ("Toast.id", lambda v: Toast("m", id=v), False, False),
    ("oob_toast.message", lambda v: oob_toast(v), False, True),
    ("oob_toast.container_id", lambda v: oob_toast("m", container_id=v), True, False),
    ("oob_toast.id", lambda v: oob_toast("m", id=v), False, False),
    ("ValidationMessage.message", lambda v: ValidationMessage(v), False, True),
    ("ValidationMessage.id", lambda v: ValidationMessage("m", id=v), False, False),
    ("AlertStack.alerts", lambda v: AlertStack([v, Alert(v), v, v]), False, True),
    ("AlertStack.spacing", lambda v: AlertStack([], spacing=v), True, False),
    ("KeyInputForm.provider", lambda v: KeyInputForm(v), False, False),
    ("KeyInputForm.action", lambda v: KeyInputForm(P, action=v), True, False),
    ("KeyInputForm.method", lambda v: KeyInputForm(P, method=v), True, False),
    (
        "KeyInputForm.custom_placeholder",
        lambda v: KeyInputForm(P, custom_placeholder=v),
        False,
        False,
    ),
    (
        "KeyInputForm.extra_fields.name",
        lambda v: KeyInputForm(P, extra_fields=[(v, "text", "p", True)]),
        False,
        False,
    ),
    (
        "KeyInputForm.extra_fields.type",
        lambda v: KeyInputForm(P, extra_fields=[("n", v, "p", True)]),
        True,
        False,
    ),
    (
        "KeyInputForm.extra_fields.placeholder",
        lambda v: KeyInputForm(P, extra_fields=[("n", "text", v, True), ("h", "hidden", v)]),
        False,
        False,
    ),
    (
        "KeyInputForm.provider_config.name",
        lambda v: KeyInputForm(P, provider_config=cfg("name")(v)),
        False,
        True,
    ),
    (
        "KeyInputForm.provider_config.placeholder",
        lambda v: KeyInputForm(P, provider_config=cfg("placeholder")(v)),
        False,
        False,
    ),
    (
        "KeyInputForm.provider_config.key_hint",
        lambda v: KeyInputForm(P, provider_config=cfg("key_hint")(v)),
        False,
        True,
    ),
    (
        "KeyInputForm.provider_config.docs_url",
        lambda v: KeyInputForm(P, provider_config=cfg("docs_url")(v)),
        True,
        False,
    ),
    ("KeyInputForm.base_url", lambda v: KeyInputForm(P, base_url=v), True, False),
    ("KeyInputForm.csrf_token", lambda v: KeyInputForm(P, csrf_token=v), False, False),
    (
        "KeyInputForm.hx_headers",
        lambda v: KeyInputForm(P, hx_headers={"X-Extra": v, v: "1"}),
        False,
        False,
    ),
    ("KeyInputForm.submit_text", lambda v: KeyInputForm(P, submit_text=v), False, True),
    ("MultiProviderKeyForm.providers", lambda v: MultiProviderKeyForm([P, v]), False, False),
    ("MultiProviderKeyForm.action", lambda v: MultiProviderKeyForm([P], action=v), True, False),
    ("MultiProviderKeyForm.method", lambda v: MultiProviderKeyForm([P], method=v), True, False),
    (
        "MultiProviderKeyForm.default_provider",
        lambda v: MultiProviderKeyForm([P, v], default_provider=v),
        False,
        False,
    ),
    (
        "MultiProviderKeyForm.provider_config.name",
        lambda v: MultiProviderKeyForm([P, "acme"], provider_config=cfg("name")(v)),
        False,
        True,
    ),
    (
        "MultiProviderKeyForm.provider_config.placeholder",
        lambda v: MultiProviderKeyForm([P, "acme"], provider_config=cfg("placeholder")(v)),
        False,
        False,
    ),
    (
        "MultiProviderKeyForm.provider_config.key_hint",
        lambda v: MultiProviderKeyForm([P, "acme"], provider_config=cfg("key_hint")(v)),
        False,
        False,
    ),
    (
        "MultiProviderKeyForm.provider_config.docs_url",
        lambda v: MultiProviderKeyForm([P, "acme"], provider_config=cfg("docs_url")(v)),
        True,
        False,
    ),
    (
        "MultiProviderKeyForm.csrf_token",
        lambda v: MultiProviderKeyForm([P], csrf_token=v),
        False,
        False,
    ),
    (
        "MultiProviderKeyForm.hx_headers",
        lambda v: MultiProviderKeyForm([P], hx_headers={"X-Extra": v}),
        False,
        False,
    ),
    (
        "KeyManagementCard.provider",
        lambda v: KeyManagementCard(
            v, True, "sk-...1", update_action="/k", delete_action="/k", test_url="/t"
        ),
        False,
        False,
    ),
    ("KeyManagementCard.has_key", lambda v: KeyManagementCard(P, v), False, False),
    ("KeyManagementCard.masked_key", lambda v: KeyManagementCard(P, True, v), False, False),
    (
        "KeyManagementCard.created_at",
        lambda v: KeyManagementCard(P, True, "sk-...1", v),
        False,
        True,
    ),
    (
        "KeyManagementCard.expires_at",
        lambda v: KeyManagementCard(P, True, "sk-...1", None, v),
        False,
        True,
    ),
    (
        "KeyManagementCard.delete_action",
        lambda v: KeyManagementCard(P, True, delete_action=v),
        True,
        False,
    ),
    (
        "KeyManagementCard.update_action",
        lambda v: KeyManagementCard(P, True, update_action=v),
        True,
        False,
    ),
    (
        "KeyManagementCard.provider_config.name",
        lambda v: KeyManagementCard(
            P, True, update_action="/k", delete_action="/k", provider_config=cfg("name")(v)
        ),
        False,
        True,
    ),
    (
        "KeyManagementCard.provider_config.placeholder",
        lambda v: KeyManagementCard(
            P, False, update_action="/k", provider_config=cfg("placeholder")(v)
        ),
        False,
        False,
    ),
    (
        "KeyManagementCard.provider_config.docs_url",
        lambda v: KeyManagementCard(
            P, False, update_action="/k", provider_config=cfg("docs_url")(v)
        ),
        True,
        False,
    ),
    ("KeyManagementCard.test_url", lambda v: KeyManagementCard(P, True, test_url=v), True, False),
    ("KeyManagementCard.status", lambda v: KeyManagementCard(P, True, status=v), True, False),
    (
        "KeyManagementCard.csrf_token",
        lambda v: KeyManagementCard(P, True, csrf_token=v, update_action="/k"),
        False,
        False,
    ),
    (
        "KeyManagementCard.hx_headers",
        lambda v: KeyManagementCard(P, True, hx_headers={"X-A": v}),
        False,
        False,
    ),
    ("KeyTestResult.state", lambda v: KeyTestResult(v), True, False),
    ("KeyTestResult.message", lambda v: KeyTestResult("valid", v), False, True),
    (
        "KeyManagerDashboard.providers",
        lambda v: KeyManagerDashboard(R, [P, v], Manager("sk-...1"), now=NOW),
        False,
        False,
    ),
    (
        "KeyManagerDashboard.manager_data",
        lambda v: KeyManagerDashboard(R, [P, v], Manager(v), now=NOW),
        False,
        False,
    ),
    (
        "KeyManagerDashboard.base_url",
        lambda v: KeyManagerDashboard(R, [P], Manager("sk-...1"), base_url=v),
        True,
        False,
    ),
    (
        "KeyManagerDashboard.user_id",
        lambda v: KeyManagerDashboard(R, [P], Manager("sk-...1"), user_id=v),
        False,
        False,
    ),
    (
        "KeyManagerDashboard.provider_config",
        lambda v: KeyManagerDashboard(R, [P], Manager("sk-...1"), provider_config=cfg("name")(v)),
        False,
        True,
    ),
    (
        "KeyManagerDashboard.title",
        lambda v: KeyManagerDashboard(R, [P], Manager("sk-...1"), title=v),
        False,
        True,
    ),
    (
        "KeyManagerDashboard.description",
        lambda v: KeyManagerDashboard(R, [P], Manager("sk-...1"), description=v),
        False,
        False,
    ),
    (
        "KeyManagerDashboard.csrf_token",
        lambda v: KeyManagerDashboard(R, [P], Manager("sk-...1"), csrf_token=v),
        False,
        False,
    ),
    (
        "KeyManagerDashboard.hx_headers",
        lambda v: KeyManagerDashboard(R, [P], Manager("sk-...1"), hx_headers={v: v}),
        False,
        False,
    ),
    ("DashboardSkeleton.src", lambda v: DashboardSkeleton(v), True, False),
    ("DashboardSkeleton.title", lambda v: DashboardSkeleton(title=v), False, True),
    ("InlineKeyInput.provider", lambda v: InlineKeyInput(v), False, False),
    ("InlineKeyInput.input_id", lambda v: InlineKeyInput(P, input_id=v), False, False),
    ("InlineKeyInput.on_save", lambda v: InlineKeyInput(P, on_save=v), True, False),
    (
        "InlineKeyInput.provider_config",
        lambda v: InlineKeyInput(P, provider_config=cfg("placeholder")(v)),
        False,
        False,
    ),
    ("InlineKeyInput.base_url", lambda v: InlineKeyInput(P, base_url=v), True, False),
    ("InlineKeyInput.csrf_token", lambda v: InlineKeyInput(P, csrf_token=v), False, False),
    ("byok_script.src", lambda v: byok_script(v), True, False),
    ("KeyStatusBadge.status", lambda v: KeyStatusBadge(v), True, False),
    ("KeyStatusBadge.label", lambda v: KeyStatusBadge("active", v), False, True),
    ("KeyStatusBadge.cls", lambda v: KeyStatusBadge("active", cls=v), False, False),
    (
        "KeyStatusBadge.attrs",
        lambda v: KeyStatusBadge("active", data_note=v, title=v),
        False,
        False,
    ),
    ("KeyStatusBadge.attr_name", lambda v: KeyStatusBadge("active", **{v: "x"}), True, False),
    ("UsageSparkline.style", lambda v: UsageSparkline([1, 2], v), True, False),
    ("UsageSparkline.counts", lambda v: UsageSparkline([1, v]), True, False),
    ("UsageSparkline.cls", lambda v: UsageSparkline([1], cls=v), False, False),
    ("IssuedKeyReveal.plaintext", lambda v: IssuedKeyReveal(v, "m"), False, False),
    ("IssuedKeyReveal.masked_key", lambda v: IssuedKeyReveal("k", v), False, True),
    ("IssuedKeyReveal.name", lambda v: IssuedKeyReveal("k", "m", v), False, True),
    ("IssuedKeyReveal.state", lambda v: IssuedKeyReveal("k", "m", state=v), True, False),
    ("IssuedKeyReveal.cls", lambda v: IssuedKeyReveal("k", "m", cls=v), False, False),
    ("ScopePicker.scopes", lambda v: ScopePicker({v: v, "read": v}), True, False),
    ("ScopePicker.description", lambda v: ScopePicker({"read": v}), False, True),
    ("ScopePicker.selected", lambda v: ScopePicker({"read": ""}, [v]), False, False),
    ("ScopePicker.legend", lambda v: ScopePicker({"read": ""}, legend=v), False, True),
    ("ScopePicker.error", lambda v: ScopePicker({"read": ""}, error=v), False, True),
    ("CreateKeyForm.scopes", lambda v: CreateKeyForm({"read": v}), False, True),
    ("CreateKeyForm.action", lambda v: CreateKeyForm({"read": ""}, v), True, False),
    (
        "CreateKeyForm.values",
        lambda v: CreateKeyForm(
            {"read": ""},
            values={
                "name": v,
                "scopes": [v],
                "expires": v,
                "expires_on": v,
                "rate_requests": v,
                "rate_window": v,
                "environment": v,
            },
            environments=[v, "live"],
        ),
        False,
        False,
    ),
    (
        "CreateKeyForm.errors",
        lambda v: CreateKeyForm({"read": ""}, errors={f: v for f in ("name", "expires")}),
        False,
        True,
    ),
    (
        "CreateKeyForm.environments",
        lambda v: CreateKeyForm({"read": ""}, environments=[v]),
        False,
        True,
    ),
    ("CreateKeyForm.csrf_token", lambda v: CreateKeyForm({"read": ""}, csrf_token=v), False, False),
    (
        "CreateKeyForm.hx_headers",
        lambda v: CreateKeyForm({"read": ""}, hx_headers={v: v}),
        False,
        False,
    ),
    (
        "CreateKeyForm.submit_text",
        lambda v: CreateKeyForm({"read": ""}, submit_text=v),
        False,
        True,
    ),
    ("RollKeyDialog.name", lambda v: RollKeyDialog(v, "/r"), False, False),
    ("RollKeyDialog.action", lambda v: RollKeyDialog("n", v), True, False),
    ("RollKeyDialog.cancel_url", lambda v: RollKeyDialog("n", "/r", v), True, False),
    ("RollKeyDialog.grace", lambda v: RollKeyDialog("n", "/r", grace=v), True, False),
    ("RollKeyDialog.mode", lambda v: RollKeyDialog("n", "/r", mode=v), True, False),
    ("RollKeyDialog.csrf_token", lambda v: RollKeyDialog("n", "/r", csrf_token=v), False, False),
    ("IssuedKeyTable.key_data", lambda v: IssuedKeyTable([issued(v)], now=NOW), False, True),
    (
        "IssuedKeyTable.key_data_paged",
        lambda v: IssuedKeyTable(
            [issued(v, id=f"{v}{i}") for i in range(5)], per_page=2, page=2, now=NOW
        ),
        False,
        False,
    ),
    ("IssuedKeyTable.status", lambda v: IssuedKeyTable([], status=v), True, False),
    ("IssuedKeyTable.base_url", lambda v: IssuedKeyTable([issued("k")], base_url=v), True, False),
    ("IssuedKeyTable.key_head", lambda v: IssuedKeyTable([issued("k")], key_head=v), False, True),
    (
        "IssuedKeyTable.key_head_map",
        lambda v: IssuedKeyTable([issued(v)], key_head={v: v}),
        False,
        True,
    ),
    (
        "IssuedKeyTable.usage",
        lambda v: IssuedKeyTable([issued(v)], usage={v: [1, 2]}, now=NOW),
        False,
        False,
    ),
    ("IssuedKeyTable.title", lambda v: IssuedKeyTable([issued("k")], title=v), False, True),
    ("IssuedKeyTable.highlight", lambda v: IssuedKeyTable([issued(v)], highlight=v), False, False),
    (
        "IssuedKeyTable.csrf_token",
        lambda v: IssuedKeyTable([issued("k")], csrf_token=v),
        False,
        False,
    ),
    (
        "IssuedKeyTable.hx_headers",
        lambda v: IssuedKeyTable([], hx_headers={"X-A": v}),
        False,
        False,
    ),
    ("IssuedKeyTable.cls", lambda v: IssuedKeyTable([], cls=v), False, False),
]


def _is_script_url(value: str) -> bool:
    squashed = re.sub(r"[\x00-\x20]", "", value).lower()
    return squashed.startswith(("javascript:", "vbscript:", "data:"))


def check(html: str, payload: str, as_text: bool, scripts_allowed: int = 0) -> None:
    """The safety properties of one rendering."""
    tree = BeautifulSoup(html, "html.parser")
    assert len(tree.find_all("script")) == scripts_allowed, "a script element appeared"
    for tag in tree.find_all(True):
        assert tag.name in TAGS | ({"script"} if scripts_allowed else set()), (
            f"foreign <{tag.name}>"
        )
        for name, value in tag.attrs.items():
            text = " ".join(value) if isinstance(value, list) else str(value)
            assert not name.lower().startswith(("on", "hx-on")), f"handler {name}={text[:60]!r}"
            if name in URL_ATTRS or name.startswith("hx-"):  # URLs, and htmx's js: values
                assert not _is_script_url(text), f"{name} carries a script URL"
                assert not text.lstrip().lower().startswith("js:"), f"{name} would run as JS"
            if name in URL_ATTRS and text:
                assert not re.search(r"[\s<>\"]", text), f"unencoded {name}={text[:60]!r}"
            if name in ("hx-target", "hx-disabled-elt", "hx-indicator"):
                assert SELECTOR.fullmatch(text), f"caller text in a selector: {text[:60]!r}"
            if name == "hx-headers":
                assert isinstance(json.loads(text), dict)
    if as_text:  # escaped, not dropped or mangled
        assert payload.replace("\x00", "\ufffd") in tree.get_text() or payload in tree.get_text()


TRIED: dict[str, int] = {"rendered": 0, "refused": 0}


@pytest.mark.parametrize("payload", CORPUS, ids=[f"p{i}" for i in range(len(CORPUS))])
@pytest.mark.parametrize(
    ("label", "call", "may_refuse", "as_text"), CASES, ids=[c[0] for c in CASES]
)
def test_payload(
    label: str, call: Callable[[str], Any], may_refuse: bool, as_text: bool, payload: str
) -> None:
    try:
        ft = call(payload)
    except ValueError:
        assert may_refuse, f"{label} refused a value it should render safely"
        TRIED["refused"] += 1
        return
    html = to_xml(ft)
    TRIED["rendered"] += 1
    check(html, payload, as_text, scripts_allowed=1 if label.startswith("byok_script") else 0)


def test_script_urls_are_always_refused() -> None:
    refusing = [
        c
        for c in CASES
        if c[2] and c[0].endswith(("url", "action", "src", "on_save", "base_url", "docs_url"))
    ]
    assert len(refusing) >= 12
    for label, call, _, _ in refusing:
        for payload in (
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "vbscript:x",
            "data:text/html,x",
        ):
            with pytest.raises(ValueError):
                call(payload)
                pytest.fail(f"{label} accepted {payload!r}")


def test_corpus_size_and_coverage() -> None:
    assert len(CORPUS) >= 7 and len(CASES) >= 120
    total = len(CORPUS) * len(CASES)
    print(f"\ninjection: {len(CORPUS)} payloads × {len(CASES)} parameters = {total} calls")
