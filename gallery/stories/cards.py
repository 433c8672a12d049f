"""Key cards: KeyManagementCard in every state, and KeyTestResult.

Dates are fixed (`now=`) so the relative times ("Added 3 days ago") never change.
"""

from datetime import UTC, datetime

from byok.components import KeyManagementCard, KeyState, KeyTestResult, TestState
from byok.components.cards import OtherKey
from byok.core.endpoints import Endpoint

from ..model.registry import Call, Seed, Story
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
    WaitSwap,
)
from .forms import DEMO_KEYS

ORDER = 40
GROUP = "Cards"

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)  # the fixed "current time" of the stories
URL = "/api/keys/openai"
DEMO_COHERE_KEY = "GalleryDemoCohereKey0123456789"  # well-formed for cohere, never real


def save_in_card(
    provider: str,  # the card's provider
    *,
    key: str | None = None,  # what to type (default the provider's demo key)
    fields: dict[str, str] | None = None,  # other fields to fill first: CSS selector -> value
) -> list[Step]:
    """A card's play that saves a key in its form: the card answers in its stored state."""
    card = f"#byok-card-{provider}"
    return [
        *(Fill(f"{card} {css}", value) for css, value in (fields or {}).items()),
        Fill(f"{card} [name=api_key]", key or DEMO_KEYS[provider]),
        Click(f"{card} button[type=submit]"),
        WaitSwap(card),
        ExpectAttribute(card, "data-byok-card", "stored"),
    ]


def delete_in_card(
    provider: str,  # the card's provider
) -> list[Step]:
    """A card's play that deletes its key (the confirm accepted): the card answers empty."""
    card = f"#byok-card-{provider}"
    return [
        Click(f"{card} button[hx-delete]"),
        WaitRequest("DELETE", f"/api/keys/{provider}", status=200),
        ExpectAttribute(card, "data-byok-card", "empty"),
    ]


STORIES = [
    Story(
        KeyManagementCard,
        "Empty",
        {"provider": "openai", "has_key": False, "update_action": URL, "now": NOW},
        GROUP,
        "No key yet: the card holds the form to add one.",
        play=save_in_card("openai"),
    ),
    Story(
        KeyManagementCard,
        "Stored",
        {
            "provider": "openai",
            "has_key": True,
            "masked_key": "sk-p...wxyz",
            "created_at": datetime(2025, 5, 29, 9, 30, tzinfo=UTC),
            "expires_at": datetime(2025, 6, 20, tzinfo=UTC),
            "delete_action": URL,
            "update_action": URL,
            "now": NOW,
        },
        GROUP,
        "A live key: masked, with its age and expiry; replace or delete it.",
        play=[  # Delete (its confirm accepted): the card answers in its empty state
            ExpectVisible(Text("sk-p...wxyz")),
            Click(Role("button", name="Delete")),
            WaitRequest("DELETE", URL, status=200),
            ExpectHidden(Text("sk-p...wxyz")),
            ExpectVisible(Role("textbox")),
        ],
    ),
    Story(
        KeyManagementCard,
        "Stored, with test",
        {
            "provider": "anthropic",
            "has_key": True,
            "masked_key": "sk-a...9f3k",
            "created_at": datetime(2025, 6, 1, 11, 15, tzinfo=UTC),
            "delete_action": "/api/keys/anthropic",
            "test_url": "/api/keys/anthropic/test",
            "now": NOW,
        },
        GROUP,
        "test_url adds a Test button; its result is swapped into the card (the sandbox holds a"
        " demo key, so the Test checks it).",
        seed=Seed(keys={"anthropic": "sk-ant-valid-gallery-demo-key-9f3k"}),
        play=[
            Click(Role("button", name="Test")),
            WaitRequest("POST", "/api/keys/anthropic/test", status=200),
            ExpectText("#byok-test-anthropic", "accepted this key"),
        ],
    ),
    Story(
        KeyManagementCard,
        "Expiring soon",
        {
            "provider": "google",
            "has_key": True,
            "masked_key": "AIza...Q8c0",
            "created_at": datetime(2025, 5, 31, 13, 0, tzinfo=UTC),
            "expires_at": datetime(2025, 6, 1, 13, 0, tzinfo=UTC),
            "delete_action": "/api/keys/google",
            "update_action": "/api/keys/google",
            "now": NOW,
        },
        GROUP,
        'Less than 2 hours left (expiring_within): an "Expires soon" badge.',
        play=delete_in_card("google"),
    ),
    Story(
        KeyManagementCard,
        "Expired",
        {
            "provider": "mistral",
            "has_key": True,
            "masked_key": "abcd...wxyz",
            "created_at": datetime(2025, 5, 1, tzinfo=UTC),
            "expires_at": datetime(2025, 5, 31, tzinfo=UTC),
            "update_action": "/api/keys/mistral",
            "now": NOW,
        },
        GROUP,
        "Past its expiry: asks for a new key.",
        play=save_in_card("mistral"),
    ),
    Story(
        KeyManagementCard,
        "Read-only",
        {
            "provider": "groq",
            "has_key": True,
            "masked_key": "gsk_...7h2m",
            "created_at": "2025-05-20",
            "expires_at": "never",
        },
        GROUP,
        "No action URLs: no buttons. String dates are shown as given.",
    ),
] + [
    Story(
        KeyManagementCard,
        f"Forced {state.value}",
        {
            "provider": "cohere",
            "has_key": state is not KeyState.EMPTY,
            "masked_key": None if state is KeyState.EMPTY else "co-1...k9x2",
            "delete_action": "/api/keys/cohere",
            "update_action": "/api/keys/cohere",
            "status": state,
            "now": NOW,
        },
        GROUP,
        f"status={state.value!r} overrides the state derived from the arguments.",
        play=(
            save_in_card("cohere", key=DEMO_COHERE_KEY)
            if state is KeyState.EMPTY
            else delete_in_card("cohere")
        ),
    )
    for state in KeyState
]

STORIES += [
    Story(
        KeyManagementCard,
        "Several labelled keys",
        {
            "provider": "openai",
            "has_key": True,
            "masked_key": "sk-p...wxyz",
            "created_at": datetime(2025, 5, 29, 9, 30, tzinfo=UTC),
            "delete_action": URL,
            "update_action": URL,
            "test_url": "/api/keys/openai/test",
            "label": "work",
            "others": [
                Call(
                    OtherKey,
                    {
                        "label": "personal",
                        "masked_key": "sk-p...k3y9",
                        "delete_url": "/api/keys/openai?label=personal",
                        "test_url": "/api/keys/openai/test?label=personal",
                        "default_url": "/api/keys/openai/default?label=personal",
                    },
                )
            ],
            "allow_labels": True,
            "now": NOW,
        },
        GROUP,
        "The default key (labelled work) and another one: make it the default, test or delete "
        "it; the forms take a label, and 'Add another key' adds one.",
        play=[  # add a labelled key: the card answers with the sandbox's key, labelled
            Click(Text("Add another key", exact=True)),
            Fill("#byok-input-add-openai-label", "personal"),
            Fill("#byok-input-add-openai", DEMO_KEYS["openai"]),
            Click(Role("button", name="Add key")),
            WaitRequest("POST", URL, status=200),
            ExpectAttribute("#byok-card-openai", "data-byok-card", "stored"),
            ExpectText("#byok-card-openai", "personal"),
        ],
    ),
    Story(
        KeyManagementCard,
        "Azure, with its endpoint",
        {
            "provider": "azure",
            "has_key": True,
            "masked_key": "9f3c...a1b2",
            "created_at": datetime(2025, 5, 29, 9, 30, tzinfo=UTC),
            "delete_action": "/api/keys/azure",
            "update_action": "/api/keys/azure",
            "endpoint": Call(
                Endpoint,
                {
                    "base_url": "https://my-resource.openai.azure.com",
                    "deployment": "gpt-4o",
                    "api_version": "2024-10-21",
                },
            ),
            "now": NOW,
        },
        GROUP,
        "A provider that needs an endpoint: it is shown (not secret) and prefills the form.",
        play=delete_in_card("azure"),
    ),
    Story(
        KeyManagementCard,
        "Empty, with a custom base URL",
        {
            "provider": "openai",
            "has_key": False,
            "update_action": URL,
            "custom_endpoint": True,
            "now": NOW,
        },
        GROUP,
        "custom_endpoint=True: the optional base URL field the registry allows (a proxy).",
        play=save_in_card("openai", fields={"[name=base_url]": "https://proxy.example.com/v1"}),
    ),
]

STORIES += [
    Story(
        KeyTestResult,
        state.value.replace("_", " ").title(),
        {"state": state},
        GROUP,
        f"The {state.value.replace('_', ' ')} outcome of a key test.",
    )
    for state in TestState
] + [
    Story(
        KeyTestResult,
        "Custom message",
        {"state": TestState.REJECTED, "message": "401 from the provider: key revoked"},
        GROUP,
        "message replaces the default text.",
    ),
    Story(
        KeyTestResult,
        "Rate limited, with the wait",
        {
            "state": TestState.RATE_LIMITED,
            "message": "OpenAI is limiting requests for this key: try again in 7 s",
        },
        GROUP,
        "The built-in check's message when the provider answered 429 with Retry-After.",
    ),
    Story(
        KeyTestResult,
        "Blocked address",
        {
            "state": TestState.BLOCKED,
            "message": "This address is not allowed: 10.0.0.5 is a private network address; "
            "byok does not connect there",
        },
        GROUP,
        "The SSRF guard refused a custom base URL: nothing was sent.",
    ),
]
