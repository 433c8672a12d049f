"""The whole byok flow in one app: `uv run uvicorn examples.app:app`, then open /chat."""

import os
import secrets

from fasthtml.common import A, P, Titled, fast_app

from byok.components import front_end
from byok.core.security import mask_key
from byok.middleware import require_api_key, setup_byok
from byok.routes import mount_key_routes

SECRET = os.environ.get("APP_SECRET") or secrets.token_urlsafe(32)  # keep it stable in production
before, byok = setup_byok(SECRET)  # manager + beforeware: CSRF, HTTPS in production, cleanup
assets = front_end()  # byok.css, htmx and byok.js, shipped in the package: styled offline
app, rt = fast_app(
    before=before, secret_key=SECRET, pico=False, default_hdrs=False, hdrs=assets.headers()
)
assets.serve(app)  # the local files under /byok/


async def verify(provider: str, api_key: str) -> bool | str:
    """Stand-in for a call to the provider's API (e.g. list models with the key)."""
    return len(api_key) >= 30 or "The provider refused this key"


mount_key_routes(app, byok, providers=["openai", "anthropic", "google"], verifier=verify)


@rt("/")
def index():
    links = P(A("Chat", href="/chat")), P(A("API keys", href="/api/keys"))
    return Titled("byok example", *links)


@rt("/chat")
@require_api_key("openai")  # no key: redirected to /api/keys?next=/chat
def chat(api_key: str):
    return Titled("Chat", P(f"Ready to call OpenAI with your key {mask_key(api_key)}"))
