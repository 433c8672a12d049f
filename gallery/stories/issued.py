"""Issued API keys: the page a user manages the keys your app issues on — KeyStatusBadge,
UsageSparkline, IssuedKeyReveal, ScopePicker and CreateKeyForm (RollKeyDialog, IssuedKeyTable and
the whole page: gallery.stories.issued_table).

The keys are `byok.issuing.APIKey` records written out in full (fixed ids and dates, `now=`), so
the HTML never changes; the playground's "Issue keys" section shows the same components on a
real SQLite issuer. The revealed key is a made-up one (its checksum fails: no scanner flags it).
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from byok.components import (
    CreateKeyForm,
    ExpiryChoice,
    IssuedKeyReveal,
    IssuedKeyStatus,
    IssuedKeyTable,
    KeyStatusBadge,
    RateWindow,
    RevealState,
    ScopePicker,
    SparkStyle,
    UsageSparkline,
    issued_panel,
)
from byok.issuing import APIKey, KeyMetadata, RateLimit, RateLimitWindow

from ..model.registry import Call, IssuedSeed, Seed, Story
from ..play import Click, ExpectText, Fill, Role, Select, Step, WaitRequest

ORDER = 60
GROUP = "Issued keys"

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)  # the fixed "current time" of the stories
BASE = "/account/api-keys"
ORG = "6f1c2d3e-0000-4000-8000-00000000a11c"
SCOPES = {
    "notes:read": "Read your notes",
    "notes:write": "Create, change and delete notes",
    "billing:read": "See invoices and usage",
}
DEMO_KEY = "sk_live_" + "7Hq2ZpXvB9mK4tRwY6nC1sDfG8jL3aQeU5oI0yTbN2xWc4VdE"  # not a real key
MASKED = "sk_live_7Hq2ZpXv…"
USAGE = [0, 0, 2, 5, 3, 0, 1, 8, 13, 9, 4, 0, 0, 6, 11]  # requests a day, 30 days
USAGE += [7, 3, 2, 0, 0, 5, 9, 14, 10, 6, 1, 0, 3, 8, 4]


def _key(
    n: int,
    name: str,
    scopes: list[str],
    created_days: int,
    *,
    used_hours: int | None = None,
    expires: timedelta | None = None,
    revoked_days: int | None = None,
    rate: int | None = None,
    rolled_to: int | None = None,
) -> Call:
    """An APIKey record, as the engine returns it."""
    meta = {"name": name, "scopes": scopes}
    if rate is not None:
        meta["rate_limit"] = Call(RateLimit, {"requests": rate, "window": RateLimitWindow.minute})
    if expires is not None:
        meta["expires_at"] = NOW + expires
    return Call(
        APIKey,
        {
            "id": f"0b5e7f2a-0000-4000-8000-{n:012d}",
            "org_id": ORG,
            "project_id": None,
            "product_id": None,
            "key_prefix": f"{'AbCdEfGhJkMnPqRsTuVw'[n % 12 : n % 12 + 4]}{n:04d}",
            "metadata": Call(KeyMetadata, meta),
            "revoked_at": None if revoked_days is None else NOW - timedelta(days=revoked_days),
            "created_at": NOW - timedelta(days=created_days),
            "last_used_at": None if used_hours is None else NOW - timedelta(hours=used_hours),
            "rolled_to": None if rolled_to is None else f"0b5e7f2a-0000-4000-8000-{rolled_to:012d}",
        },
    )


KEYS = [
    _key(1, "Production server", ["notes:read", "notes:write"], 40, used_hours=1, rate=600),
    _key(2, "Analytics job", ["notes:read"], 12, used_hours=30, expires=timedelta(days=60)),
    _key(3, "Old laptop", ["notes:read", "notes:write"], 90, used_hours=900, revoked_days=20),
    _key(  # in its grace period after a roll: it works, but is not rolled again
        4,
        "Staging (rolled)",
        ["notes:read"],
        25,
        used_hours=2,
        expires=timedelta(hours=20),
        rolled_to=6,
    ),
    _key(5, "Trial integration", ["billing:read"], 45, expires=timedelta(days=-15)),
]
FIVE_MORE = [_key(10 + i, f"Worker {i + 1}", ["notes:read"], 5 + i, used_hours=i) for i in range(5)]


SLOTS = Call(issued_panel, {"form": None, "table": None})  # the page: its reveal and dialog slots
# a create's answer refreshes the table out of band: the form's page has one (the sandbox's: empty)
PAGE = Call(issued_panel, {"form": None, "table": Call(IssuedKeyTable, {"keys": [], "now": NOW})})


def seed_of(keys: list[Call]) -> Seed:
    """The sandbox of a story showing these records holds a key standing for each (issued by the
    real issuer at the same times), so its Roll / Revoke / Delete buttons act on them."""
    return Seed(issued=tuple(IssuedSeed.like(k.build(), NOW) for k in keys))


def create_play(
    args: dict[str, Any],  # the CreateKeyForm story's args (its preset values)
) -> list[Step]:
    """A CreateKeyForm story's play: fill what its preset lacks (or refused), create the key,
    and the sandbox answers with the one-time reveal."""
    values = args.get("values", {})
    errors = args.get("errors", {})
    steps: list[Step] = []
    if not values.get("name") or "name" in errors:
        steps.append(Fill(Role("textbox", name="Name"), "CI server"))
    if not values.get("scopes") or "scopes" in errors:
        steps.append(Click("[name=scopes][value='notes:read']"))
    if "expires" in errors:
        steps.append(Select("#byok-key-expires", ExpiryChoice.DAYS_30.value))
    if values.get("rate_requests"):  # the sandbox's keys have no rate limit to choose
        steps.append(Fill("[name=rate_requests]", ""))
    return [
        *steps,
        Click(Role("button", name="Create key")),
        WaitRequest("POST", BASE, status=200),
        ExpectText("#byok-issued-reveal", "you will not see it again"),
    ]


STORIES = [
    Story(
        KeyStatusBadge,
        status.value.title(),
        {"status": status},
        GROUP,
        f"The {status.value} state of an issued key.",
    )
    for status in IssuedKeyStatus
] + [
    Story(
        KeyStatusBadge,
        "Custom label",
        {"status": IssuedKeyStatus.EXPIRING, "label": "Expires in 2 hours", "cls": "font-semibold"},
        GROUP,
        "label replaces the state's name; cls adds classes (here bolder text).",
    ),
    Story(
        UsageSparkline,
        "Bars",
        {"counts": USAGE},
        GROUP,
        "Thirty days of use as bars; screen readers read the same facts as a sentence.",
    ),
    Story(
        UsageSparkline,
        "Line",
        {"counts": USAGE, "style": SparkStyle.LINE, "width": 160, "height": 32},
        GROUP,
        "style=SparkStyle.LINE, wider and taller.",
    ),
    Story(
        UsageSparkline,
        "Never used",
        {"counts": [0] * 30, "show_total": False},
        GROUP,
        "No use in 30 days: a faint baseline, and no total beside it.",
    ),
    Story(
        IssuedKeyReveal,
        "Shown once",
        {"plaintext": DEMO_KEY, "masked_key": MASKED, "name": "Production server"},
        GROUP,
        "Right after issuing: the key, a copy button and the warning that it is shown once. "
        '"I have saved it" (byok.js) removes the key from the page and leaves the masked form.',
    ),
    Story(
        IssuedKeyReveal,
        "Dismissed",
        {
            "plaintext": None,
            "masked_key": MASKED,
            "name": "Production server",
            "state": RevealState.DISMISSED,
        },
        GROUP,
        "After dismissal (or when rendered later): only the masked form.",
    ),
    Story(
        ScopePicker,
        "Three scopes",
        {"scopes": SCOPES, "selected": ["notes:read"]},
        GROUP,
        "One checkbox per scope the app declares, with its description.",
    ),
    Story(
        ScopePicker,
        "With an error",
        {"scopes": SCOPES, "error": "Choose at least one scope"},
        GROUP,
        "error shows a ValidationMessage under the group and marks it invalid.",
    ),
    Story(
        CreateKeyForm,
        "Empty",
        {"scopes": SCOPES, "action": BASE},
        GROUP,
        "Name, scopes, expiry (never / 7 / 30 / 90 days / a date) and an optional rate limit.",
        wrap=PAGE,
    ),
    Story(
        CreateKeyForm,
        "With environments",
        {
            "scopes": SCOPES,
            "action": BASE,
            "environments": ["live", "test"],
            "values": {
                "name": "CI runner",
                "scopes": ["notes:read"],
                "expires": ExpiryChoice.DAYS_90,
                "rate_requests": "120",
                "rate_window": RateWindow.HOUR,
                "environment": "test",
            },
        },
        GROUP,
        "environments adds a select (one issuer per environment); values preset the fields.",
        wrap=PAGE,
    ),
    Story(
        CreateKeyForm,
        "Refused, values kept",
        {
            "scopes": SCOPES,
            "action": BASE,
            "values": {
                "name": "",
                "scopes": [],
                "expires": ExpiryChoice.DATE,
                "expires_on": "2025-05-01",
                "rate_requests": "-5",
                "rate_window": RateWindow.SECOND,
            },
            "errors": {
                "name": "Give the key a name, e.g. the app or server that uses it",
                "scopes": "Choose at least one scope",
                "expires": "The expiry date must be after today",
                "rate_limit": "The rate limit is a whole number of requests from 1 to 1,000,000",
            },
        },
        GROUP,
        "The 422 answer: each message beside its field, what was typed kept.",
        wrap=PAGE,
    ),
    Story(
        CreateKeyForm,
        "Under a key policy",
        {
            "scopes": SCOPES,
            "action": BASE,
            "rate": None,
            "expiries": [ExpiryChoice.DAYS_7, ExpiryChoice.DAYS_30, ExpiryChoice.DATE],
            "latest_date": "2025-07-01",
            "notes": [
                "Every key allows 100 requests per minute.",
                "Keys expire by 2025-07-01.",
                "You can hold up to 5 live keys.",
            ],
        },
        GROUP,
        "What mount_issuing_routes(key_policy=KeyPolicy(rate_limit=..., max_lifetime=30 days, "
        "max_keys=5)) shows: no rate choice, no Never, the date capped, the terms in words.",
        wrap=PAGE,
    ),
]

STORIES += [
    Story(
        CreateKeyForm,
        f"Preset {choice.name.lower().replace('_', ' ')}",
        {
            "scopes": SCOPES,
            "action": BASE,
            "values": {
                "scopes": ["notes:read"],
                "expires": choice,
                "rate_requests": "10000",
                "rate_window": RateWindow.DAY,
            },
        },
        GROUP,
        f"values={{'expires': ExpiryChoice.{choice.name}, ...}} presets the expiry (here with "
        "a daily rate limit), as mount_issuing_routes(form_defaults=...) does.",
        wrap=PAGE,
    )
    for choice in (ExpiryChoice.NEVER, ExpiryChoice.DAYS_7, ExpiryChoice.DAYS_30)
]

STORIES = [  # every create form story plays its create; the answer fills its page's reveal slot
    replace(s, play=create_play(dict(s.args))) if s.component is CreateKeyForm else s
    for s in STORIES
]
