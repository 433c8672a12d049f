"""Issued API keys, the actions: RollKeyDialog, IssuedKeyTable and the whole page (issued_panel).

The same fixed records as gallery.stories.issued (its sidebar group, after its stories). A story
showing records is seeded with keys standing for them (`seed_of`), so its plays roll, revoke and
filter real keys; "Page 2 of 3" and "Empty" are not seeded: their sandbox's table is empty.
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

from ..model.registry import Call, Story
from ..play import (
    Click,
    ExpectAttribute,
    ExpectHidden,
    ExpectText,
    ExpectVisible,
    Fill,
    Role,
    Step,
    Text,
    WaitRequest,
)
from .issued import BASE, FIVE_MORE, GROUP, KEYS, NOW, SCOPES, SLOTS, USAGE, seed_of

ORDER = 60  # after gallery.stories.issued (same ORDER, then module name)

NO_KEYS = "All (0)"  # the sandbox's table: it holds no issued key


def roll_play(
    grace: GracePeriod,  # the grace period to choose
) -> list[Step]:
    """A RollKeyDialog story's play: choose the grace period and roll the seeded key; the new
    key is revealed once."""
    return [
        Click(f"[name=grace][value='{grace.value}']"),
        Click(Role("button", name="Roll key")),
        WaitRequest("POST", BASE, status=200),
        ExpectText("#byok-issued-reveal", "you will not see it again"),
    ]


def filter_play(
    status: StatusFilter | None,  # the filter the story shows (None: the table's default)
    total: str = NO_KEYS,  # the All tab's text once answered: the sandbox's keys
) -> list[Step]:
    """An IssuedKeyTable story's play: pick another status filter; the table answers with the
    sandbox's keys under it, that filter marked current."""
    other = StatusFilter.REVOKED if status is not StatusFilter.REVOKED else StatusFilter.ALL
    tab = f"[data-byok-filter={other.value}]"
    return [
        Click(tab),
        WaitRequest("GET", BASE, status=200),
        ExpectAttribute(tab, "aria-current", "page"),
        ExpectText("#byok-issued-keys", total),
    ]


STORIES = [
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
        wrap=SLOTS,
        seed=seed_of(KEYS[:1]),
        play=roll_play(GracePeriod.WEEK if grace is not GracePeriod.WEEK else GracePeriod.NONE),
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
        wrap=SLOTS,
        seed=seed_of(KEYS[3:4]),
        play=[
            ExpectVisible(Role("dialog")),
            Click(Role("link", name="Cancel")),
            ExpectHidden(Role("dialog")),
        ],
    ),
]

STORIES += [
    Story(
        IssuedKeyTable,
        f"{status.value.title()} keys",
        {"keys": KEYS, "status": status, "base_url": BASE, "key_head": "sk_live_", "now": NOW},
        GROUP,
        f"status={status.value!r}: the filter shows how many keys each state has.",
        wrap=SLOTS,
        seed=seed_of(KEYS),
        play=filter_play(status, f"All ({len(KEYS)})"),
    )
    for status in StatusFilter
] + [
    Story(
        IssuedKeyTable,
        "Empty",
        {"keys": [], "base_url": BASE, "now": NOW},
        GROUP,
        "No keys yet: the empty state.",
        play=filter_play(None),
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
        wrap=SLOTS,
        seed=seed_of(KEYS[:2]),
        play=[  # revoke the seeded "Analytics job"
            Click("form[hx-post*='000000000002/revoke'] button"),
            WaitRequest("POST", BASE, status=200),
            ExpectText("#byok-issued-keys", "Revoked"),
            ExpectText("#byok-issued-keys", "Analytics job"),
        ],
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
        wrap=SLOTS,  # not seeded: the sandbox's table shows 20 keys a page, not this page 2
        play=[  # page 3 of the sandbox's keys: it holds none
            Click(Role("link", name="Page 3")),
            WaitRequest("GET", BASE, status=200),
            ExpectText("#byok-issued-keys", NO_KEYS),
        ],
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
