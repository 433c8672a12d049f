"""The dashboard: KeyManagerDashboard in its states, and its loading skeleton.

The stories give the dashboard a `DemoManager` (gallery.fixtures): fixed keys and dates, so the
HTML never changes. The playground shows the same dashboard on a real BYOKManager.
"""

from datetime import UTC, datetime, timedelta

from byok.components import DashboardSkeleton, KeyManagerDashboard

from ..fixtures import DemoManager
from ..registry import Call, Story

ORDER = 50
GROUP = "Dashboard"

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)  # the fixed "current time" of the stories
SIX = ["openai", "anthropic", "google", "mistral", "groq", "cohere"]
THREE_KEYS = {
    "openai": {
        "masked": "sk-p...wxyz",
        "created_at": NOW - timedelta(days=3),
        "expires_at": NOW + timedelta(days=27),
    },
    "anthropic": {
        "masked": "sk-a...9f3k",
        "created_at": NOW - timedelta(hours=5),
        "expires_at": NOW + timedelta(hours=1),
    },
    "groq": {"masked": "gsk_...7h2m", "created_at": NOW - timedelta(days=40)},
}


def _demo(**kwargs: object) -> Call:
    return Call(DemoManager, kwargs)


STORIES = [
    Story(
        KeyManagerDashboard,
        "Three keys of six",
        {
            "request": None,
            "providers": SIX,
            "byok_manager": _demo(keys=THREE_KEYS),
            "user_id": "demo-user",
            "now": NOW,
        },
        GROUP,
        "Six providers, three keys stored (one expiring soon): the bench's reference case.",
    ),
    Story(
        KeyManagerDashboard,
        "No keys yet",
        {
            "request": None,
            "providers": ["openai", "anthropic", "google"],
            "byok_manager": _demo(),
            "user_id": "demo-user",
            "now": NOW,
        },
        GROUP,
        "Every card in its empty state, each with its form.",
    ),
    Story(
        KeyManagerDashboard,
        "With test buttons",
        {
            "request": None,
            "providers": ["openai", "anthropic"],
            "byok_manager": _demo(keys=THREE_KEYS),
            "user_id": "demo-user",
            "enable_test": True,
            "title": "Your keys",
            "description": "Test a key to check that the provider accepts it.",
            "now": NOW,
        },
        GROUP,
        "enable_test=True, a custom title and description.",
    ),
    Story(
        KeyManagerDashboard,
        "Unreadable key",
        {
            "request": None,
            "providers": ["openai", "anthropic"],
            "byok_manager": _demo(keys=THREE_KEYS, unreadable=["openai"]),
            "user_id": "demo-user",
            "now": NOW,
        },
        GROUP,
        "A key that cannot be decrypted (the app secret changed) asks to be re-entered.",
    ),
    Story(
        KeyManagerDashboard,
        "Storage failure",
        {
            "request": None,
            "providers": ["openai", "anthropic"],
            "byok_manager": _demo(failing=True),
            "user_id": "demo-user",
        },
        GROUP,
        "The database is down: an error state, not an exception page.",
    ),
    Story(
        KeyManagerDashboard,
        "No providers",
        {"request": None, "providers": [], "byok_manager": _demo()},
        GROUP,
        "Nothing configured yet.",
    ),
    Story(
        KeyManagerDashboard,
        "No manager",
        {"request": None, "providers": ["openai"], "include_toasts": False},
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
        "src: fetched on load (hx-get) and swapped in place: here the playground's dashboard.",
    ),
]
