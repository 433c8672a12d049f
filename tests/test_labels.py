"""Several labelled keys per provider, one default each, and custom endpoints sealed with the key:
on every backend (session, database on SQLite and PostgreSQL, hybrid). A session written before
labels existed is read with nothing lost."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from byok.core.database import create_engine
from byok.core.endpoints import Endpoint, validate_endpoint
from byok.core.security import Keyring, bind
from byok.core.storage import BYOKManager
from byok.core.types import (
    BYOKConfig,
    EncryptionError,
    KeyNotFoundError,
    StorageBackend,
    ValidationError,
)
from tests.support.storage import SECRET, FakeRequest

AZURE = Endpoint("https://my-resource.openai.azure.com", "gpt-4o", "2024-10-21")


@pytest.fixture(params=["session", "database", "hybrid"])
def backend(request: pytest.FixtureRequest, tmp_path) -> Iterator[Callable[[], tuple]]:
    """(manager, request, user) for each backend; database/hybrid on a SQLite file."""
    made: list[BYOKManager] = []

    def make() -> tuple[BYOKManager, Any, str | None]:
        kind = StorageBackend(request.param)
        db = None if kind is StorageBackend.SESSION else f"sqlite:///{tmp_path / 'l.db'}"
        manager = BYOKManager(SECRET, db_url=db, config=BYOKConfig(storage_backend=kind))
        made.append(manager)
        return manager, FakeRequest(), None if kind is StorageBackend.SESSION else "alice"

    yield make
    for m in made:
        if m.database is not None:
            m.database.close()


def test_labelled_keys_live_side_by_side(backend) -> None:
    m, req, user = backend()
    m.set_key(req, "openai", "sk-personal-000000000000000", user)
    m.set_key(req, "openai", "sk-work-00000000000000000000", user, label="work")
    m.set_key(req, "openai", "sk-backup-000000000000000000", user, label="fallback 2")
    assert m.get_key(req, "openai", user) == "sk-personal-000000000000000"  # the first is default
    assert m.get_key(req, "openai", user, label="work") == "sk-work-00000000000000000000"
    assert m.get_key(req, "openai", user, label="fallback 2") == "sk-backup-000000000000000000"
    assert m.get_key(req, "openai", user, label="nope") is None
    keys = m.list_keys(req, user)
    assert [(k.label, k.is_default) for k in keys] == [
        ("", True), ("fallback 2", False), ("work", False)
    ]  # fmt: skip
    assert m.list_providers(req, user) == ["openai"]


def test_one_default_per_provider(backend) -> None:
    m, req, user = backend()
    m.set_key(req, "openai", "sk-personal-000000000000000", user)
    m.set_key(req, "openai", "sk-work-00000000000000000000", user, label="work")
    m.set_default(req, "openai", "work", user)
    assert m.get_key(req, "openai", user) == "sk-work-00000000000000000000"
    assert [k.label for k in m.list_keys(req, user) if k.is_default] == ["work"]
    m.set_key(req, "openai", "sk-work-rotated-0000000000000", user)  # no label: the default's
    assert m.get_key(req, "openai", user, label="work") == "sk-work-rotated-0000000000000"
    assert m.get_key(req, "openai", user, label="") == "sk-personal-000000000000000"
    m.set_key(req, "openai", "sk-new-one-0000000000000000000", user, label="new", make_default=True)
    assert m.get_key(req, "openai", user) == "sk-new-one-0000000000000000000"
    assert sum(k.is_default for k in m.list_keys(req, user)) == 1
    with pytest.raises(KeyNotFoundError):
        m.set_default(req, "openai", "ghost", user)


def test_deleting_the_default_promotes_the_oldest(backend) -> None:
    m, req, user = backend()
    m.set_key(req, "openai", "sk-first-0000000000000000000", user, label="first")
    m.set_key(req, "openai", "sk-second-000000000000000000", user, label="second")
    m.set_key(req, "openai", "sk-third-0000000000000000000", user, label="third")
    m.set_default(req, "openai", "third", user)
    m.delete_key(req, "openai", user)  # the default
    assert m.get_key(req, "openai", user, label="third") is None
    assert m.get_key(req, "openai", user) == "sk-first-0000000000000000000"
    m.delete_key(req, "openai", user, label="second")
    assert [k.label for k in m.list_keys(req, user)] == ["first"]


def test_labels_are_validated(backend) -> None:
    m, req, user = backend()
    for bad in ("-x", "a" * 33, "tab\there", "emoji🙂", "semi;colon", "hash#tag", 7):
        with pytest.raises(ValidationError):
            m.set_key(req, "openai", "sk-0000000000000000000000", user, label=bad)
    m.set_key(req, "openai", "sk-0000000000000000000000", user, label="  Work key 2 ")
    assert m.get_key(req, "openai", user, label="Work key 2") == "sk-0000000000000000000000"


def test_endpoint_is_stored_shown_and_returned_with_the_key(backend) -> None:
    m, req, user = backend()
    m.set_key(req, "azure", "a" * 32, user, endpoint=AZURE)
    info = m.get_key_info(req, "azure", user)
    assert info.endpoint == AZURE  # shown without decrypting
    creds = m.get_credentials(req, "azure", user)
    assert creds.api_key == "a" * 32 and creds.endpoint == AZURE and creds.label == ""
    assert "a" * 32 not in repr(creds)
    m.set_key(req, "openai", "sk-0000000000000000000000", user, endpoint={"base_url": " "})
    assert m.get_credentials(req, "openai", user).endpoint is None  # blank fields are dropped


def test_endpoint_is_bound_to_the_ciphertext_in_the_database(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    m = BYOKManager(SECRET, db_url=url)
    try:
        m.set_key(
            None,
            "openai",
            "sk-0000000000000000000000",
            "alice",
            endpoint=Endpoint("https://proxy.example/v1"),
        )
        engine = create_engine(url)
        with engine.begin() as conn:  # an attacker with write access points it elsewhere
            conn.execute(
                sa.text("UPDATE user_api_keys SET endpoint = :e"),
                {"e": '{"base_url":"https://evil.example"}'},
            )
        engine.dispose()
        with pytest.raises(EncryptionError):
            m.get_key(None, "openai", "alice")
    finally:
        m.database.close()


def test_endpoint_is_bound_to_the_ciphertext_in_the_session() -> None:
    m = BYOKManager(SECRET)
    req = FakeRequest()
    m.set_key(
        req, "openai", "sk-0000000000000000000000", endpoint=Endpoint("https://proxy.example/v1")
    )
    cell = req.session["byok_keys"]["k"][""]["openai"]
    cell[4] = '{"base_url":"https://evil.example"}'
    with pytest.raises(EncryptionError):
        m.get_key(req, "openai")


def test_hybrid_cache_never_mistakes_a_labelled_key_for_the_default(tmp_path) -> None:
    config = BYOKConfig(storage_backend=StorageBackend.HYBRID)
    m = BYOKManager(SECRET, db_url=f"sqlite:///{tmp_path / 'h.db'}", config=config)
    try:
        other = FakeRequest()
        m.set_key(other, "openai", "sk-default-00000000000000000", "alice")
        m.set_key(other, "openai", "sk-work-00000000000000000000", "alice", label="work")
        req = FakeRequest()  # a fresh session: its cache fills with the labelled key first
        assert m.get_key(req, "openai", "alice", label="work") == "sk-work-00000000000000000000"
        assert m.get_key(req, "openai", "alice") == "sk-default-00000000000000000"
        assert m.get_key(req, "openai", "alice") == "sk-default-00000000000000000"  # from cache
    finally:
        m.database.close()


def test_a_session_written_before_labels_is_read_with_nothing_lost() -> None:
    """The cookie layout of schema 1 (4-item cells under provider names), written by hand."""
    ring = Keyring.from_secret(SECRET)
    sid = "legacy-session-id"

    def cell(plain: str, provider: str) -> list:
        sealed = ring.seal(plain, bind(f"session:{sid}", provider))
        token = base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()
        return [token, 1_700_000_000, None, 1_700_000_000]

    session = {
        "byok_keys": {
            "sid": sid,
            "k": {"": {"openai": cell("sk-legacy-openai-0000000000", "openai"),
                       "anthropic": cell("sk-ant-legacy-000000000000", "anthropic")}},
        }
    }  # fmt: skip
    req = FakeRequest(session)
    m = BYOKManager(SECRET, config=BYOKConfig(default_ttl=None))
    assert m.get_key(req, "openai") == "sk-legacy-openai-0000000000"
    assert m.get_key(req, "anthropic") == "sk-ant-legacy-000000000000"
    assert [(k.provider, k.label, k.is_default) for k in m.list_keys(req)] == [
        ("anthropic", "", True), ("openai", "", True)
    ]  # fmt: skip
    assert m.get_key_info(req, "openai").created_at.timestamp() == 1_700_000_000
    m.set_key(req, "openai", "sk-new-work-0000000000000000", label="work")
    assert m.get_key(req, "openai") == "sk-legacy-openai-0000000000"  # still the default
    assert m.get_key(req, "openai", label="work") == "sk-new-work-0000000000000000"


def test_endpoint_validation() -> None:
    assert (
        validate_endpoint({"base_url": "https://x.example/v1/"}).base_url == "https://x.example/v1"
    )
    assert validate_endpoint({"base_url": "", "deployment": None}) is None
    for bad, why in [
        ({"base_url": "ftp://x.example"}, "https://"),
        ({"base_url": "https://u:p@x.example"}, "user name"),
        ({"base_url": "https://x.example/v1?key=1"}, "query"),
        ({"base_url": "https:///nohost"}, "host"),
        ({"base_url": "https://x.example:99999"}, "port"),
        ({"base_url": "https://x.exa mple"}, "spaces"),
        ({"deployment": "bad name!"}, "Deployment"),
        ({"api_version": "2024/10/21"}, "API version"),
        ({"colour": "blue"}, "unknown"),
    ]:
        with pytest.raises(ValidationError, match=why):
            validate_endpoint(bad)
    with pytest.raises(ValidationError, match="does not take"):
        validate_endpoint({"deployment": "gpt-4o"}, allowed=("base_url",))
    with pytest.raises(ValidationError, match="needs a base URL"):
        validate_endpoint({}, required=True)
    assert Endpoint.decode(AZURE.encode()) == AZURE
    assert AZURE.describe() == (
        "https://my-resource.openai.azure.com · deployment gpt-4o · API version 2024-10-21"
    )


def test_forms_carry_the_endpoint_fields_the_registry_allows() -> None:
    from fasthtml.common import to_xml

    from byok.components import KeyInputForm, KeyManagementCard

    azure = to_xml(KeyInputForm("azure"))
    assert 'name="base_url"' in azure and 'type="url"' in azure and "required" in azure
    assert 'name="deployment"' in azure and 'name="api_version"' in azure
    plain = to_xml(KeyInputForm("openai"))
    assert 'name="base_url"' not in plain  # optional fields only when the app allows them
    assert 'name="base_url"' in to_xml(KeyInputForm("openai", custom_endpoint=True))
    assert 'name="base_url"' not in to_xml(KeyInputForm("google", custom_endpoint=True))
    card = to_xml(
        KeyManagementCard("azure", True, "abcd...wxyz", update_action="/k", endpoint=AZURE)
    )
    assert f'value="{AZURE.base_url}"' in card and "deployment gpt-4o" in card
