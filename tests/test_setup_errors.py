"""Mistakes fail where they are made (issue 21 #7): a misspelt provider in a guard, the key routes,
a form or `set_key` is a ValueError naming the closest known names; a guarded handler without the
`api_key` parameter fails at decoration; a missing SQLite directory and a missing request are
errors that say what is wrong. A provider of the app's own keeps working."""

from __future__ import annotations

from typing import Any

import pytest
from fasthtml.common import P, to_xml
from starlette.requests import Request

from byok import BYOKManager
from byok.components import KeyInputForm, MultiProviderKeyForm
from byok.core.providers import register_provider
from byok.core.types import StorageError, ValidationError
from byok.middleware import require_any_api_key, require_api_key
from byok.routes import mount_key_routes
from tests.support.routes import OPENAI_KEY, SECRET, Page, make_app
from tests.support.storage import FakeRequest

pytestmark = pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP")

ACME_KEY = "acme-" + "k3Y" * 8  # a key of a provider of the app's own (no known format)


def _typo(call: Any, *args: Any, **kw: Any) -> str:
    """The message of the ValueError a misspelt provider raises."""
    with pytest.raises(ValueError) as raised:
        call(*args, **kw)
    return str(raised.value)


# --------------------------------------------------------------------------- misspelt providers


def test_a_misspelt_provider_in_a_guard_fails_at_decoration():
    app, _, _ = make_app()
    with pytest.raises(ValueError, match="did you mean 'openai'") as raised:

        @app.get("/chat")
        @require_api_key("opneai")
        def chat(api_key: str):
            return P(api_key)

    assert "'opneai'" in str(raised.value)
    assert Page(app).client.get("/chat").status_code == 404  # never routed
    assert "'anthropic'" in _typo(require_any_api_key, ["openai", "antrhopic"])


def test_a_misspelt_provider_in_the_key_routes_form_or_set_key_is_refused():
    app, manager, _ = make_app(mount=False)
    assert "'openai'" in _typo(mount_key_routes, app, manager, providers=["opneai"])
    assert not any(getattr(r, "name", None) == "byok_dashboard" for r in app.routes)
    assert "'openai'" in _typo(KeyInputForm, provider="opneai")
    assert "'groq'" in _typo(MultiProviderKeyForm, ["openai", "grok"])
    request = FakeRequest()
    message = _typo(manager.set_key, request, "gogle", "AIza" + "Q1w2E3r4" * 5)
    assert "'google'" in message and "Q1w2E3r4" not in message
    assert manager.list_providers(request) == []  # nothing stored


def test_a_provider_of_the_apps_own_keeps_working():
    """A name far from every known one gets generated defaults, as before; one close to a known
    name works once the app registers it or describes it in provider_config."""
    app, _, _ = make_app(providers=["openai", "acme"], verifier=False)

    @app.get("/acme")
    @require_api_key("acme")
    def acme(api_key: str):
        return P(f"acme len={len(api_key)}")

    page = Page(app)
    assert page.save("acme", ACME_KEY).status_code == 200
    assert page.client.get("/acme").text.count(f"acme len={len(ACME_KEY)}") == 1
    assert "Acme API key" in to_xml(KeyInputForm("acme"))

    assert "'openai'" in _typo(require_api_key, "openai-eu")
    register_provider("openai-eu", name="OpenAI (EU)")
    with pytest.raises(ValueError, match="built in"):
        register_provider("openai", name="Not OpenAI")  # process-wide: only the app's own
    require_api_key("openai-eu")(lambda api_key: api_key)  # known now
    assert "OpenAI (EU)" in to_xml(KeyInputForm("openai-eu"))

    config = {"openai-us": {"name": "OpenAI (US)"}}
    assert "OpenAI (US)" in to_xml(KeyInputForm("openai-us", provider_config=config))
    other, _, _ = make_app(providers=["openai-us"], routes_kw={"provider_config": config})
    assert Page(other).save("openai-us", OPENAI_KEY).status_code == 200  # set_key knows it


# --------------------------------------------------------------------------- guarded handlers


def test_a_handler_without_the_key_parameter_fails_at_decoration():
    for handler in (lambda: "x", lambda req: "x", lambda request, key: "x"):
        with pytest.raises(TypeError, match="'api_key'"):
            require_api_key("openai")(handler)
    with pytest.raises(TypeError, match="'api_key'"):
        require_any_api_key(["openai", "anthropic"])(lambda key_provider: "x")


@pytest.mark.filterwarnings("ignore:`kwargs` has no type annotation")
def test_a_handler_taking_kwargs_gets_the_key_there():
    app, _, _ = make_app()

    @app.get("/kw")
    @require_api_key("openai")
    def kw(req: Request, **kwargs):  # unannotated: FastHTML reads an annotated one as a field
        same = req.scope["byok_api_key"] == kwargs.get("api_key")
        return P(f"kwargs provider={kwargs.get('key_provider')} same={same}")

    page = Page(app)
    assert page.client.get("/kw").status_code == 303  # no key yet
    assert page.save("openai", OPENAI_KEY).status_code == 200
    assert "kwargs provider=openai same=True" in page.client.get("/kw").text


# --------------------------------------------------------------------------- misconfiguration


def test_a_missing_sqlite_directory_is_named(tmp_path):
    folder = tmp_path / "no" / "such" / "dir"
    with pytest.raises(StorageError, match=str(folder)):
        BYOKManager(SECRET, db_url=f"sqlite:///{folder / 'keys.db'}")
    assert not folder.exists()  # nothing was created


def test_get_key_without_a_request_says_what_to_pass():
    manager = BYOKManager(SECRET)
    for request in (None, "openai"):
        with pytest.raises(StorageError, match="pass the handler's request"):
            manager.get_key(request, "openai")


def test_a_malformed_provider_is_still_a_validation_error():
    with pytest.raises(ValidationError, match="invalid provider name"):
        require_api_key("Open AI")
