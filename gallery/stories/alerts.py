"""Alerts: Alert (every kind x style), SecurityAlert, KeyStatusNotification, ValidationMessage and
AlertStack."""

from byok.components import (
    Alert,
    AlertKind,
    AlertStack,
    AlertStyle,
    KeyStatus,
    KeyStatusNotification,
    SecurityAlert,
    Severity,
    StackSpacing,
    ValidationMessage,
)
from byok.utils.helpers import article

from ..model.registry import Call, Story
from ..play import Click, ExpectHidden, ExpectVisible, Role, Step

ORDER = 10
GROUP = "Feedback"

MESSAGES = {
    AlertKind.INFO: "Keys are encrypted before they are stored.",
    AlertKind.SUCCESS: "Your OpenAI key was saved.",
    AlertKind.WARNING: "Your Anthropic key expires in 2 hours.",
    AlertKind.ERROR: "That key was rejected by the provider.",
}
STYLE_NAMES = {None: "filled", **{s: s.value for s in AlertStyle}}

NOTIFICATION = "[data-byok-dismissible]"  # a KeyStatusNotification in the canvas


def dismiss_play(
    after: int | None = None,  # ms it removes itself after (None: the user dismisses it)
) -> list[Step]:
    """A KeyStatusNotification story's play: it is shown, then gone (dismissed or timed out)."""
    if after is not None:  # byok.js removes it once `after` has passed
        return [ExpectVisible(NOTIFICATION), ExpectHidden(NOTIFICATION, timeout=after / 1000 + 4)]
    return [
        ExpectVisible(NOTIFICATION),
        Click(Role("button", name="Dismiss")),
        ExpectHidden(NOTIFICATION),
    ]


STORIES = [
    Story(
        Alert,
        f"{kind.value.title()}, {STYLE_NAMES[style]}",
        {"message": MESSAGES[kind], "kind": kind, **({"style": style} if style else {})},
        GROUP,
        f"{article(kind.value).title()} {kind.value} alert in the {STYLE_NAMES[style]} style.",
    )
    for kind in AlertKind
    for style in (None, *AlertStyle)
] + [
    Story(
        Alert,
        "With title",
        {
            "message": "Add a key for at least one provider to start chatting.",
            "kind": AlertKind.WARNING,
            "title": "No API key yet",
        },
        GROUP,
        "A bold title above the message.",
    ),
    Story(
        Alert,
        "Dismissible",
        {
            "message": "You can close this alert.",
            "kind": AlertKind.INFO,
            "dismissible": True,
            "style": AlertStyle.SOFT,
            "id": "welcome-alert",
        },
        GROUP,
        "A close button (byok.js removes the alert; no inline JavaScript).",
        play=[
            ExpectVisible("#welcome-alert"),
            Click(Role("button", name="Dismiss")),
            ExpectHidden("#welcome-alert"),
        ],
    ),
    Story(
        Alert,
        "Without icon",
        {"message": "Plain text, no icon.", "kind": AlertKind.SUCCESS, "show_icon": False},
        GROUP,
        "show_icon=False.",
    ),
    Story(
        Alert,
        "Everything",
        {
            "message": "The key you entered does not look like an OpenAI key.",
            "kind": AlertKind.ERROR,
            "title": "Check your key",
            "dismissible": True,
            "style": AlertStyle.OUTLINE,
            "id": "key-error",
        },
        GROUP,
        "Title, dismiss button, outline style and an explicit id.",
        play=[Click(Role("button", name="Dismiss")), ExpectHidden(Role("alert"))],
    ),
    Story(
        Alert,
        "Escaped text",
        {"message": '<script>alert("not run")</script> & <b>not bold</b>', "kind": AlertKind.INFO},
        GROUP,
        "Text is always escaped: markup in a message shows as text.",
    ),
]

STORIES += [
    Story(
        SecurityAlert,
        severity.value.title(),
        {
            "message": {
                Severity.LOW: "This page is served over plain HTTP in development.",
                Severity.MEDIUM: "Your session cookie is not marked Secure.",
                Severity.HIGH: "Keys are being submitted over plain HTTP.",
                Severity.CRITICAL: "The app secret is the default one: anyone can decrypt keys.",
            }[severity],
            "severity": severity,
        },
        GROUP,
        f"Severity {severity.value}.",
    )
    for severity in Severity
] + [
    Story(
        SecurityAlert,
        "With action",
        {
            "message": "Keys are being submitted over plain HTTP.",
            "severity": Severity.HIGH,
            "action_url": "/settings/security",
            "action_text": "Review settings",
        },
        GROUP,
        "A remediation link (only http(s) and relative URLs are accepted).",
    ),
]

STORIES += [
    Story(
        KeyStatusNotification,
        status.value.title(),
        {
            "provider": "openai",
            "status": status,
            **(
                {"masked_key": "sk-p...wxyz"}
                if status in (KeyStatus.ADDED, KeyStatus.UPDATED)
                else {}
            ),
            "auto_dismiss": False,
        },
        GROUP,
        f"A key was {status.value}.",
        play=dismiss_play(),
    )
    for status in KeyStatus
] + [
    Story(
        KeyStatusNotification,
        "Auto-dismiss",
        {"provider": "anthropic", "status": KeyStatus.ADDED, "dismiss_after": 4000},
        GROUP,
        "Removes itself after 4 seconds (reload the page to see it again).",
        play=dismiss_play(after=4000),
    ),
]

STORIES += [
    Story(
        ValidationMessage,
        "Invalid",
        {"message": "OpenAI keys start with sk-."},
        GROUP,
        "Under a field, role=alert.",
    ),
    Story(
        ValidationMessage,
        "Valid",
        {"message": "Looks like an OpenAI key.", "is_valid": True},
        GROUP,
        "Under a field, role=status.",
    ),
    Story(
        ValidationMessage,
        "Without icon",
        {"message": "The key is too long.", "show_icon": False},
        GROUP,
        "show_icon=False.",
    ),
]

_STACK = [
    Call(Alert, {"message": MESSAGES[kind], "kind": kind, "style": AlertStyle.SOFT})
    for kind in AlertKind
]

STORIES += [
    Story(
        AlertStack,
        "Fits",
        {"alerts": _STACK[:3]},
        GROUP,
        "Three alerts, all visible.",
    ),
    Story(
        AlertStack,
        "Overflow",
        {"alerts": _STACK, "max_visible": 2},
        GROUP,
        'Four alerts, two visible; the rest fold under "+2 more" (a native <details>).',
    ),
] + [
    Story(
        AlertStack,
        f"Spacing {spacing.name.lower()}",
        {"alerts": _STACK[:2], "spacing": spacing},
        GROUP,
        f"gap-{spacing.value} between alerts.",
    )
    for spacing in StackSpacing
]
