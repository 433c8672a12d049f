"""Component rows: render to an HTML string with fasthtml's to_xml, ours against the reference.

Bars from ANCHORS.md: each render ≤ 0.5× cjm-fasthtml-byok 0.0.3's; the dashboard ≤ 0.05×
(issue 10: it renders from one `BYOKManager.overview` read). The dashboard row uses
real managers of both libraries on session storage, 6 providers with 3 stored keys, and a fake
request carrying a dict session (both read `request.session`; the reference also looks at
`request.scope` for a manager).
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from fastcore.xml import to_xml

from bench import Row

SECRET = "bench-app-secret-0123456789abcdef-0123456789abcdef"  # app secret for both managers
PROVIDERS = ["openai", "anthropic", "google", "mistral", "groq", "cohere"]  # 6 providers
STORED = {  # 3 of them hold a key
    "openai": "sk-proj-Ab3dE5gH7jK9mN1pQ3sT5vX7zA9cD1fH3jL5nP7rT9vX",
    "anthropic": "sk-ant-api03-Zy9xW7vU5tS3rQ1pO9nM7lK5jI3hG1fE9dC7bA5",
    "google": "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
}
BAR = 0.5  # ours must take at most half the reference's time
DASHBOARD_BAR = 0.05  # the dashboard: a twentieth (issue 10)


def fake_request() -> Any:
    """A request as both libraries read it: a dict session and an empty scope."""
    return SimpleNamespace(session={}, scope={})


def _dashboard(manager: Any, render: Callable[..., Any]) -> Callable[[], str]:
    """A closure rendering a dashboard over a manager holding the STORED keys."""
    request = fake_request()
    for provider, key in STORED.items():
        manager.set_key(request, provider, key)

    def run() -> str:
        return to_xml(render(request, PROVIDERS, manager))

    html = run()
    if "sk-proj-Ab3dE5gH7jK9" in html:  # checked once: a whole key must never render
        raise AssertionError("dashboard rendered an unmasked key")
    return run


def rows() -> list[Row]:
    """The component benchmark rows, ours against cjm-fasthtml-byok 0.0.3."""
    from cjm_fasthtml_byok.components import alerts as ref_alerts
    from cjm_fasthtml_byok.components import forms as ref_forms
    from cjm_fasthtml_byok.core.storage import BYOKManager as RefManager

    from byok.components.alerts import Alert
    from byok.components.forms import KeyManagementCard, KeyManagerDashboard
    from byok.core.storage import BYOKManager

    message = "Your OpenAI key was saved."
    card = ("openai", True, "sk-p...wxyz")
    card_kw = {"delete_action": "/api/keys/openai", "update_action": "/api/keys/openai"}
    error = {"title": "Could not save", "dismissible": True, "style": "soft", "id": "save-error"}
    return [
        Row(
            "render Alert(info)",
            lambda: to_xml(Alert(message)),
            lambda: to_xml(ref_alerts.Alert(message)),
            BAR,
        ),
        Row(
            "render Alert(error, title, dismissible, soft, id)",
            lambda: to_xml(Alert(message, "error", **error)),
            lambda: to_xml(ref_alerts.Alert(message, "error", **error)),
            BAR,
        ),
        Row(
            "render KeyManagementCard(has_key)",
            lambda: to_xml(KeyManagementCard(*card, **card_kw)),
            lambda: to_xml(ref_forms.KeyManagementCard(*card, **card_kw)),
            BAR,
        ),
        Row(
            "render KeyManagerDashboard (6 providers, 3 keys)",
            _dashboard(BYOKManager(SECRET), KeyManagerDashboard),
            _dashboard(RefManager(SECRET), ref_forms.KeyManagerDashboard),
            DASHBOARD_BAR,
        ),
    ]
