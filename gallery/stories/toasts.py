"""Toasts: the ToastContainer in every position and alignment, and Toast in every kind."""

from byok.components import AlertKind, Toast, ToastAlign, ToastContainer, ToastPosition

from ..registry import Story

ORDER = 20
GROUP = "Feedback"

STORIES = [
    Story(
        ToastContainer,
        f"{position.value.title()} {align.value}",
        {"position": position, "align": align},
        GROUP,
        f"The (empty) fixed container at the {position.value} {align.value} of the viewport; "
        "routes append toasts to it out-of-band.",
    )
    for position in ToastPosition
    for align in ToastAlign
]

STORIES += [
    Story(
        Toast,
        kind.value.title(),
        {"message": f"A {kind.value} toast.", "kind": kind, "duration": 0},
        GROUP,
        "duration=0: it stays until dismissed.",
    )
    for kind in AlertKind
] + [
    Story(
        Toast,
        "Auto-dismiss",
        {"message": "Saved. This toast removes itself.", "kind": AlertKind.SUCCESS},
        GROUP,
        "Removes itself after 3 seconds (the default duration).",
    ),
    Story(
        Toast,
        "Not dismissible",
        {
            "message": "No close button.",
            "kind": AlertKind.INFO,
            "duration": 0,
            "dismissible": False,
        },
        GROUP,
        "dismissible=False.",
    ),
]
