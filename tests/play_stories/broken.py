"""A dismissible alert whose play expects the wrong text at its second step."""

from byok_gallery import Click, ExpectHidden, ExpectText, Role, Story

from byok.components import Alert, AlertKind

STORIES = [
    Story(
        Alert,
        "Deliberately failing",
        {"message": "The real message.", "kind": AlertKind.INFO, "dismissible": True},
        group="Broken",
        play=[
            ExpectText(Role("status"), "real message"),
            ExpectText(Role("status"), "a message that is not there", timeout=0.5),
            Click(Role("button", name="Dismiss")),
            ExpectHidden(Role("status")),
        ],
    ),
]
