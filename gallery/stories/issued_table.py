"""Issued API keys, the actions: RollKeyDialog, IssuedKeyTable and the whole page (issued_panel).

The same fixed records as gallery.stories.issued (its sidebar group, after its stories). Their
plays run on the story's sandbox, which holds no issued key until a play creates one: a filter or
a page answers with the sandbox's (empty) table, a roll of a key it never issued is refused.
"""

from byok.components import (
    CreateKeyForm,
    DialogMode,
    GracePeriod,
    IssuedKeyTable,
    RollKeyDialog,
    StatusFilter,
    issued_panel,
)

from ..play import Click, ExpectText, ExpectVisible, Fill, Role, Text, WaitRequest
from ..registry import Call, Story
from .issued import BASE, FIVE_MORE, GROUP, KEYS, NOW, SCOPES, USAGE

ORDER = 60  # after gallery.stories.issued (same ORDER, then module name)

STORIES: list[Story] = []
STORIES += [
    Story(
        RollKeyDialog,
        f"Inline, {grace.name.lower()}",
        {
            "name": "Production server",
            "action": f"{BASE}/0b5e7f2a-0000-4000-8000-000000000001/roll",
            "cancel_url": BASE,
            "grace": grace,
            "mode": DialogMode.INLINE,
        },
        GROUP,
        f"The grace period preset to {grace.value} seconds; inline, as the page shows it "
        "without htmx.",
    )
    for grace in GracePeriod
] + [
    Story(
        RollKeyDialog,
        "Modal",
        {
            "name": "Staging",
            "action": f"{BASE}/0b5e7f2a-0000-4000-8000-000000000004/roll",
            "cancel_url": BASE,
        },
        GROUP,
        "As the Roll button loads it: byok.js opens it as a modal; Cancel closes it.",
    ),
]

STORIES += [
    Story(
        IssuedKeyTable,
        f"{status.value.title()} keys",
        {"keys": KEYS, "status": status, "base_url": BASE, "key_head": "sk_live_", "now": NOW},
        GROUP,
        f"status={status.value!r}: the filter shows how many keys each state has.",
    )
    for status in StatusFilter
] + [
    Story(
        IssuedKeyTable,
        "Empty",
        {"keys": [], "base_url": BASE, "now": NOW},
        GROUP,
        "No keys yet: the empty state.",
    ),
    Story(
        IssuedKeyTable,
        "With usage and a new key",
        {
            "keys": KEYS[:2],
            "base_url": BASE,
            "key_head": "sk_live_",
            "usage": {
                "0b5e7f2a-0000-4000-8000-000000000001": USAGE,
                "0b5e7f2a-0000-4000-8000-000000000002": USAGE[::-1],
            },
            "highlight": "0b5e7f2a-0000-4000-8000-000000000002",
            "csrf_token": "demo-csrf-token",
            "now": NOW,
        },
        GROUP,
        "usage adds a sparkline per key; highlight marks the key just created.",
    ),
    Story(
        IssuedKeyTable,
        "Page 2 of 3",
        {
            "keys": KEYS + FIVE_MORE,
            "page": 2,
            "per_page": 4,
            "base_url": BASE,
            "key_head": "sk_live_",
            "title": "Team keys",
            "now": NOW,
        },
        GROUP,
        "Ten keys, four per page: the pager and the range shown.",
    ),
]

STORIES += [
    Story(
        issued_panel,
        "Create, reveal, roll, revoke",
        {
            "form": Call(CreateKeyForm, {"scopes": SCOPES, "action": BASE}),
            "table": Call(IssuedKeyTable, {"keys": [], "base_url": BASE}),
        },
        GROUP,
        "The whole page (issued_panel): the create form, the reveal slot, the table and the roll "
        "dialog's slot; its play creates a key in the sandbox, copies it, rolls it and revokes it.",
        layout="fullscreen",
        play=[
            Fill(Role("textbox", name="Name"), "CI server"),
            Click(Role("checkbox", name="notes:read")),
            Click(Role("button", name="Create key")),
            WaitRequest("POST", BASE, status=200),
            ExpectText("#byok-issued-reveal", "you will not see it again"),
            Click(Role("button", name="Copy the API key")),
            ExpectText("#byok-issued-reveal", "Copied"),
            ExpectText("#byok-issued-keys", "CI server"),
            Click(Role("link", name="Roll")),
            WaitRequest("GET", BASE),
            ExpectVisible(Role("dialog")),
            Click(Text("Roll key", exact=True)),
            WaitRequest("POST", BASE),
            ExpectText("#byok-issued-reveal", "you will not see it again"),
            Click(Role("button", name="Revoke")),
            WaitRequest("POST", BASE, status=200),
            ExpectText("#byok-issued-keys", "Revoked"),
        ],
    ),
]
