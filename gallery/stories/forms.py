"""Key forms: KeyInputForm, MultiProviderKeyForm and InlineKeyInput.

The forms post to the default key routes (/api/keys/...), which the live gallery serves with the
playground's real manager: saving a key in a story really stores it (for your session only).
"""

from byok.components import (
    FieldType,
    FormMethod,
    InlineKeyInput,
    KeyInputForm,
    MultiProviderKeyForm,
)

from ..model.registry import Story
from ..play import (
    Click,
    ExpectAttribute,
    ExpectText,
    Fill,
    Press,
    Role,
    Select,
    Step,
    WaitRequest,
)

ORDER = 30
GROUP = "Forms"
KEYS = "/api/keys"  # the key routes the forms post to
DEMO_OPENAI_KEY = "sk-proj-gallery-demo-key-0123456789abcdefXYZ"  # well-formed, never real

DEMO_KEYS = {  # well-formed demo keys the sandbox stores (never real)
    "openai": DEMO_OPENAI_KEY,
    "anthropic": "sk-ant-gallery-demo-key-0123456789abcdef",
    "google": "AIzaGalleryDemoKey0123456789abcdefXYZ",
    "mistral": "GalleryDemoKey0123456789abcdefXYZ",
    "groq": "gsk_GalleryDemoKey0123456789abcdef",
    "azure": "GalleryDemoKey0123456789abcdefGHIJ",
}
PROXY = "https://proxy.example.com/v1"  # a base URL (a proxy), public and well-formed


def save_play(
    provider: str,  # the provider the form saves for
    *,
    method: str = "POST",  # the form's hx method
    path: str | None = None,  # where it saves (default /api/keys/{provider})
    fields: dict[str, str] | None = None,  # other fields to fill first: CSS selector -> value
    key: str | None = None,  # what to type (default the provider's demo key)
    status: int = 200,  # what the sandbox answers
    answer: tuple[str, str] = ("#toast-container", "saved"),  # where the answer shows, and what
) -> list[Step]:
    """A form story's play: type a key (and its other fields), save, see the sandbox's answer."""
    typed = key if key is not None else DEMO_KEYS.get(provider, "gallery-demo-key-0123456789")
    return [
        *(Fill(css, value) for css, value in (fields or {}).items()),
        Fill("[name=api_key]", typed),
        Click("button[type=submit]"),
        WaitRequest(method, path or f"{KEYS}/{provider}", status=status),
        ExpectText(*answer),
    ]


SAVE_OPENAI = [  # a well-formed key is stored by the sandbox; a toast says so
    Fill(Role("textbox", name="OpenAI API key"), DEMO_OPENAI_KEY),
    Click(Role("button", name="Save key")),
    WaitRequest("POST", "/api/keys/openai", status=200),
    ExpectText("#toast-container", "saved"),
]
REFUSE_ANTHROPIC = [  # a malformed key is refused beside the field (422), nothing is stored
    Fill(Role("textbox", name="Anthropic API key"), "not-a-key"),
    Click(Role("button", name="Save key")),
    WaitRequest("POST", "/api/keys/anthropic", status=422),
    ExpectText("#byok-validation-anthropic--form", "sk-ant-"),
]

STORIES = (
    [
        Story(
            KeyInputForm,
            "OpenAI",
            {"provider": "openai"},
            GROUP,
            "The provider's label, placeholder, format hint and docs link come from the registry.",
            play=SAVE_OPENAI,
        ),
        Story(
            KeyInputForm,
            "Anthropic",
            {"provider": "anthropic"},
            GROUP,
            "Another built-in provider; its play saves a malformed key, which is refused.",
            play=REFUSE_ANTHROPIC,
        ),
        Story(
            KeyInputForm,
            "Azure, with endpoint fields",
            {"provider": "azure"},
            GROUP,
            "A provider that needs an endpoint: base URL (required), deployment and API version.",
            play=save_play(
                "azure",
                fields={
                    "[name=base_url]": "https://my-resource.openai.azure.com",
                    "[name=deployment]": "gpt-4o",
                },
            ),
        ),
        Story(
            KeyInputForm,
            "Optional base URL",
            {"provider": "openai", "custom_endpoint": True},
            GROUP,
            "custom_endpoint=True: the optional base URL the registry allows (a proxy).",
            play=save_play("openai", fields={"[name=base_url]": PROXY}),
        ),
    ]
    + [
        Story(
            KeyInputForm,
            f"Method {method.value}",
            {"provider": "google", "method": method},
            GROUP,
            f"hx-{method.value} (never GET: a key must not end up in a URL).",
            play=save_play("google", method=method.value.upper()),
        )
        for method in FormMethod
    ]
    + [
        Story(
            KeyInputForm,
            "Without help",
            {"provider": "mistral", "show_help": False},
            GROUP,
            "show_help=False hides the format hint and the security note.",
            play=save_play("mistral"),
        ),
        Story(
            KeyInputForm,
            "Custom placeholder and button",
            {
                "provider": "groq",
                "custom_placeholder": "Paste your Groq key",
                "submit_text": "Connect Groq",
            },
            GROUP,
            "custom_placeholder and submit_text.",
            play=save_play("groq"),
        ),
        Story(
            KeyInputForm,
            "Extra fields",
            {
                "provider": "openai",
                "extra_fields": [
                    ("organization", FieldType.TEXT, "org-...", False),
                    ("project_password", FieldType.PASSWORD, "Project password", False),
                    ("contact_email", FieldType.EMAIL, "you@example.com", True),
                    ("endpoint", FieldType.URL, "https://api.openai.com/v1", False),
                    ("max_tokens", FieldType.NUMBER, "4096", False),
                    ("phone", FieldType.TEL, "+1 555 0100", False),
                    ("source", FieldType.HIDDEN, "gallery", False),
                ],
            },
            GROUP,
            "More fields as (name, type, placeholder, required) tuples; a hidden field's third item "
            "is its value.",
            play=save_play("openai", fields={"[name=contact_email]": "you@example.com"}),
        ),
        Story(
            KeyInputForm,
            "Custom provider",
            {
                "provider": "acme-ai",
                "provider_config": {
                    "acme-ai": {
                        "name": "Acme AI",
                        "placeholder": "acme_...",
                        "key_hint": 'Starts with "acme_"',
                        "docs_url": "https://example.com/acme/keys",
                    }
                },
            },
            GROUP,
            "A provider the registry does not know, described with provider_config.",
            play=save_play(  # the sandbox serves the registry's providers only: an honest 404
                "acme-ai",
                key="acme_gallery_demo_key_0123456789",
                status=404,
                answer=("#toast-container", "Unknown API key provider"),
            ),
        ),
        Story(
            KeyInputForm,
            "Unknown provider, defaults",
            {"provider": "my_local_llm"},
            GROUP,
            "No config: a title-cased name and a generic placeholder.",
            play=save_play(
                "my_local_llm", status=404, answer=("#toast-container", "Unknown API key provider")
            ),
        ),
        Story(
            KeyInputForm,
            "With CSRF token",
            {"provider": "openai", "csrf_token": "demo-csrf-token"},
            GROUP,
            "The token goes in hx-headers (X-CSRF-Token) and a hidden field.",
            play=save_play("openai"),
        ),
    ]
)

STORIES += [
    Story(
        MultiProviderKeyForm,
        "Three providers",
        {"providers": ["openai", "anthropic", "google"]},
        GROUP,
        "Switching the provider updates the placeholder, hint and docs link (byok.js).",
        play=[  # byok.js follows the select; the key is saved for the chosen provider
            Select(Role("combobox", name="Provider"), "anthropic"),
            ExpectAttribute("#byok-input-multi", "placeholder", "sk-ant-..."),
            Fill(Role("textbox", name="API key"), "sk-ant-gallery-demo-key-0123456789abcdef"),
            Click(Role("button", name="Save key")),
            WaitRequest("POST", "/api/keys", status=200),
            ExpectText("#toast-container", "saved"),
        ],
    ),
    Story(
        MultiProviderKeyForm,
        "Default provider",
        {"providers": ["openai", "anthropic", "google"], "default_provider": "anthropic"},
        GROUP,
        "default_provider picks the initial selection.",
        play=save_play("anthropic", path=KEYS),
    ),
    Story(
        MultiProviderKeyForm,
        "Every built-in provider",
        {
            "providers": [
                "openai",
                "anthropic",
                "google",
                "mistral",
                "groq",
                "cohere",
                "openrouter",
            ]
        },
        GROUP,
        "A longer list.",
        play=[
            Select(Role("combobox", name="Provider"), "groq"),
            ExpectAttribute("#byok-input-multi", "placeholder", "gsk_..."),
            *save_play("groq", path=KEYS),
        ],
    ),
] + [
    Story(
        MultiProviderKeyForm,
        f"Method {method.value}",
        {"providers": ["openai", "anthropic"], "method": method},
        GROUP,
        f"hx-{method.value}.",
        play=save_play("openai", method=method.value.upper(), path=KEYS),
    )
    for method in (FormMethod.PUT, FormMethod.PATCH)
]

STORIES += [
    Story(
        InlineKeyInput,
        "Compact",
        {"provider": "openai"},
        GROUP,
        "A one-line input and Save button; the answer arrives out of band (toast).",
        play=[
            Fill(Role("textbox", name="OpenAI API key"), DEMO_OPENAI_KEY),
            Click(Role("button", name="Save")),
            WaitRequest("POST", "/api/keys/openai", status=200),
            ExpectText("#toast-container", "saved"),
        ],
    ),
    Story(
        InlineKeyInput,
        "Wide",
        {"provider": "anthropic", "compact": False},
        GROUP,
        "compact=False: full-size input and button.",
        play=[  # Enter submits; a malformed key is refused
            Fill(Role("textbox", name="Anthropic API key"), "not-a-key"),
            Press(Role("textbox", name="Anthropic API key"), "Enter"),
            WaitRequest("POST", "/api/keys/anthropic", status=422),
            ExpectText("#byok-validation-anthropic", "sk-ant-"),
        ],
    ),
    Story(
        InlineKeyInput,
        "Custom save URL and id",
        {"provider": "groq", "on_save": "/api/keys/groq", "input_id": "groq-key"},
        GROUP,
        "on_save takes a URL only (the reference also ran JavaScript from it).",
        play=save_play("groq"),
    ),
]
