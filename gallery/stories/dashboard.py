"""The dashboard: KeyManagerDashboard in its states, and its loading skeleton.

The stories give the dashboard its keys as data (`keys=`, a `KeyOverview` per provider: what
`key_overview()` reads from a real BYOKManager), with fixed dates, so the HTML never changes. The
playground shows the same dashboard on a real BYOKManager.
"""

from datetime import UTC, datetime, timedelta

from byok.components import DashboardSkeleton, KeyManagerDashboard, KeyOverview
from byok.core.storage import BYOKManager

from ..model.registry import REQUEST, Call, Story
from ..play import (
    Click,
    ExpectAttribute,
    ExpectText,
    Fill,
    Role,
    WaitRequest,
    WaitSwap,
)
from .cards import delete_in_card, save_in_card

ORDER = 50
GROUP = "Dashboard"

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)  # the fixed "current time" of the stories
SIX = ["openai", "anthropic", "google", "mistral", "groq", "cohere"]
THREE_KEYS = {
    "openai": Call(
        KeyOverview,
        {
            "masked_key": "sk-p...wxyz",
            "created_at": NOW - timedelta(days=3),
            "expires_at": NOW + timedelta(days=27),
        },
    ),
    "anthropic": Call(
        KeyOverview,
        {
            "masked_key": "sk-a...9f3k",
            "created_at": NOW - timedelta(hours=5),
            "expires_at": NOW + timedelta(hours=1),
        },
    ),
    "groq": Call(
        KeyOverview, {"masked_key": "gsk_...7h2m", "created_at": NOW - timedelta(days=40)}
    ),
}
# a real manager on session storage, in a request without SessionMiddleware: reading fails
NO_SESSION_MANAGER = Call(BYOKManager, {"secret_key": "gallery-demo-secret-0123456789"})


STORIES = [
    Story(
        KeyManagerDashboard,
        "Three keys of six",
        {"request": REQUEST, "providers": SIX, "now": NOW, "keys": THREE_KEYS},
        GROUP,
        "Six providers, three keys stored (one expiring soon): the bench's reference case.",
        play=[*delete_in_card("openai"), *save_in_card("mistral")],
    ),
    Story(
        KeyManagerDashboard,
        "No keys yet",
        {"request": REQUEST, "providers": ["openai", "anthropic", "google"], "keys": {}},
        GROUP,
        "Every card in its empty state, each with its form; its play saves a key in one card.",
        play=[  # the card answers in its stored state (swapped in place), the others stay empty
            Fill(
                Role("textbox", name="OpenAI API key"), "sk-proj-gallery-demo-key-0123456789abcdef"
            ),
            Click("#byok-card-openai button[type=submit]"),
            WaitSwap("#byok-card-openai"),
            ExpectAttribute("#byok-card-openai", "data-byok-card", "stored"),
            ExpectAttribute("#byok-card-anthropic", "data-byok-card", "empty"),
        ],
    ),
    Story(
        KeyManagerDashboard,
        "With test buttons",
        {
            "request": REQUEST,
            "providers": ["openai", "anthropic"],
            "enable_test": True,
            "title": "Your keys",
            "description": "Test a key to check that the provider accepts it.",
            "now": NOW,
            "keys": THREE_KEYS,
        },
        GROUP,
        "enable_test=True, a custom title and description.",
        play=[  # the sandbox holds no key: the Test answers so, in the card
            Click("#byok-card-openai button[hx-post$='/test']"),
            WaitRequest("POST", "/api/keys/openai/test", status=200),
            ExpectText("#byok-test-openai", "No key stored"),
        ],
    ),
    Story(
        KeyManagerDashboard,
        "Unreadable key",
        {
            "request": REQUEST,
            "providers": ["openai", "anthropic"],
            "now": NOW,
            "keys": {
                "openai": Call(KeyOverview, {"unreadable": True}),
                "anthropic": THREE_KEYS["anthropic"],
            },
        },
        GROUP,
        "A key that cannot be decrypted (the app secret changed) asks to be re-entered.",
        play=save_in_card("openai"),
    ),
    Story(
        KeyManagerDashboard,
        "Storage failure",
        {
            "request": REQUEST,
            "providers": ["openai", "anthropic"],
            "byok_manager": NO_SESSION_MANAGER,
        },
        GROUP,
        "A real BYOKManager on session storage in an app without SessionMiddleware: its keys "
        "cannot be read, and the dashboard shows an error state, not an exception page.",
    ),
    Story(
        KeyManagerDashboard,
        "No providers",
        {"request": REQUEST, "providers": [], "keys": {}},
        GROUP,
        "Nothing configured yet.",
    ),
    Story(
        KeyManagerDashboard,
        "No manager",
        {"request": REQUEST, "providers": ["openai"], "include_toasts": False},
        GROUP,
        "No BYOKManager given or found in request.scope['byok'].",
    ),
    Story(
        DashboardSkeleton,
        "Three cards",
        {},
        GROUP,
        "The loading state: placeholder cards.",
    ),
    Story(
        DashboardSkeleton,
        "Six cards, custom title",
        {"cards": 6, "title": "Loading keys"},
        GROUP,
        "cards and title.",
    ),
    Story(
        DashboardSkeleton,
        "Loads the dashboard",
        {"src": "/api/keys"},
        GROUP,
        "src: fetched on load (hx-get) and swapped in place: here the story sandbox's dashboard.",
        play=[  # the placeholder cards give way to the sandbox's dashboard, a card per provider
            ExpectAttribute("#byok-dashboard", "aria-busy", None),
            ExpectAttribute("#byok-card-openai", "data-byok-card", "empty"),
        ],
    ),
]
