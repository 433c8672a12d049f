"""Toasts: the ToastContainer in every position and alignment, and Toast in every kind.

The canvas is a page of its own, so fixed positions are real: a container's story shows two
sample toasts where a route's out-of-band toasts would land, and a Toast sits in a container.
"""

from byok.components import AlertKind, Toast, ToastAlign, ToastContainer, ToastPosition
from byok.utils.helpers import article

from ..model.registry import Call, Story
from ..play import Click, ExpectCount, ExpectHidden, ExpectText, ExpectVisible, Role

ORDER = 20
GROUP = "Feedback"
SAMPLES = (  # what a container's canvas shows in it (not part of the story's HTML)
    Call(
        Toast,
        {"message": "OpenAI key saved (sk-p...wxyz).", "kind": AlertKind.SUCCESS, "duration": 0},
    ),
    Call(Toast, {"message": "Anthropic key removed.", "kind": AlertKind.INFO, "duration": 0}),
)
IN_CONTAINER = Call(ToastContainer, {})  # where a Toast story is shown

STORIES = [
    Story(
        ToastContainer,
        f"{position.value.title()} {align.value}",
        {"position": position, "align": align},
        GROUP,
        f"The fixed container at the {position.value} {align.value} of the viewport; routes "
        "append toasts to it out of band (the canvas shows two samples in it).",
        play=[  # the user dismisses one sample toast; the other stays
            ExpectCount("#toast-container > *", len(SAMPLES)),
            Click(Role("button", name="Dismiss")),
            ExpectCount("#toast-container > *", len(SAMPLES) - 1),
        ],
        layout="fullscreen",
        samples=SAMPLES,
    )
    for position in ToastPosition
    for align in ToastAlign
]

STORIES += [
    Story(
        Toast,
        kind.value.title(),
        {
            "message": f"{article(kind.value).title()} {kind.value} toast.",
            "kind": kind,
            "duration": 0,
        },
        GROUP,
        "duration=0: it stays until dismissed.",
        layout="fullscreen",
        wrap=IN_CONTAINER,
        play=[
            ExpectVisible(Role("button", name="Dismiss")),
            Click(Role("button", name="Dismiss")),
            ExpectCount("#toast-container > *", 0),
        ],
    )
    for kind in AlertKind
] + [
    Story(
        Toast,
        "Auto-dismiss",
        {"message": "Saved. This toast removes itself.", "kind": AlertKind.SUCCESS},
        GROUP,
        "Removes itself after 3 seconds (the default duration).",
        layout="fullscreen",
        wrap=IN_CONTAINER,
        play=[
            ExpectText("#toast-container", "removes itself"),
            ExpectHidden(Role("status"), timeout=6),  # byok.js removes it after 3 s
            ExpectCount("#toast-container > *", 0),
        ],
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
        layout="fullscreen",
        wrap=IN_CONTAINER,
    ),
]
