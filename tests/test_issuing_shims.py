"""What apikeys-platform users' code reaches for besides the top-level names: its module paths
(`apikeys.exceptions`, `apikeys.db.session`, `apikeys.client`, `apikeys.models`,
`apikeys.fastapi`), pydantic's `model_dump()` / `model_dump_json()` / `model_validate()` on the
models, and an in-memory database behind the async client."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import uuid
from datetime import UTC, date, datetime, timedelta

import apikeys
import pytest

import byok.issuing as issuing
from byok.issuing import (
    APIKey,
    APIKeyClient,
    APIKeyCreated,
    AuditAction,
    AuditEvent,
    InvalidInputError,
    KeyMetadata,
    KeyStatus,
    Organization,
    Product,
    Project,
    QuotaError,
    RateLimit,
    RateLimitWindow,
    Refill,
    RefillInterval,
    UsageDay,
)
from tests.support import SECRET

# --------------------------------------------------------------------------- in-memory SQLite


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///:memory:",
        "sqlite://",
        "sqlite+aiosqlite:///:memory:",  # how apikeys-platform's own suite spells it
        "sqlite:///file:byok_shims?mode=memory&cache=shared&uri=true",  # a named memory DB
    ],
)
def test_the_async_client_runs_on_an_in_memory_database(url: str) -> None:
    async def run() -> tuple[list[str], int, int]:
        client = APIKeyClient(url, signing_secret=SECRET, cache_ttl=0)
        org = await client.create_organization("Acme")  # made in a worker thread
        listed = [o.id for o in await client.list_organizations()]  # read in another
        assert listed == [org.id]
        made = await client.create_key(org.id, metadata=KeyMetadata(rate_limit=RateLimit(10)))
        calls = [client.validate_key(made.plaintext) for _ in range(25)]
        results = await asyncio.gather(*calls, return_exceptions=True)
        passed = sum(isinstance(r, APIKey) for r in results)
        assert all(isinstance(r, APIKey | QuotaError) for r in results)
        used = (await client.get_key(made.key.id)).use_count
        await client.aclose()
        return listed, passed, used

    listed, passed, used = asyncio.run(run())
    assert len(listed) == 1
    assert (passed, used) == (10, 10)  # every call saw the same database, limits exact


def test_two_in_memory_clients_do_not_share_data() -> None:
    async def run() -> list[Organization]:
        first = APIKeyClient("sqlite:///:memory:", signing_secret=SECRET)
        second = APIKeyClient("sqlite:///:memory:", signing_secret=SECRET)
        await first.create_organization("Only in the first")
        return await second.list_organizations()

    assert asyncio.run(run()) == []


# --------------------------------------------------------------------------- module paths

# the reference's modules and the names defined there that a user imports; left out, with why:
# apikeys.models.Base (the pydantic base class), apikeys.db.session.make_session_factory
# (SQLAlchemy sessions: byok's engine owns its connection), apikeys.crypto / apikeys.db.base /
# apikeys.db.models (its hashing and SQLAlchemy tables), apikeys.const (it does not import)
NOT_CARRIED = {"apikeys.models": {"Base"}, "apikeys.db.session": {"make_session_factory"}}
MODULES = ["apikeys.exceptions", "apikeys.models", "apikeys.client", "apikeys.db.session"]


def _defined_in(module_name: str) -> set[str]:
    module = importlib.import_module(module_name)
    return {
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and obj.__module__ == module_name
    } - NOT_CARRIED.get(module_name, set())


@pytest.mark.parametrize("module_name", [*MODULES, "apikeys.fastapi"])
def test_each_reference_module_path_has_a_counterpart(module_name: str) -> None:
    names = _defined_in(module_name)
    assert names, module_name
    ours = importlib.import_module(module_name.replace("apikeys", "byok.issuing", 1))
    for name in names:
        assert getattr(ours, name) is getattr(issuing, name), f"{module_name}.{name}"


def test_the_module_paths_hold_what_the_reference_defines_there() -> None:
    assert _defined_in("apikeys.exceptions") == {n for n in apikeys.__all__ if n.endswith("Error")}
    assert _defined_in("apikeys.db.session") == {"create_tables"}
    assert _defined_in("apikeys.fastapi") == {"APIKeyDepends"}


def test_create_tables_at_its_reference_path(tmp_path) -> None:
    from byok.issuing.db.session import create_tables

    assert inspect.iscoroutinefunction(create_tables)
    assert list(inspect.signature(create_tables).parameters) == ["db_url"]
    url = f"sqlite+aiosqlite:///{tmp_path / 'made.db'}"
    asyncio.run(create_tables(url))
    asyncio.run(create_tables(url))  # safe to re-run
    assert (tmp_path / "made.db").exists()


# --------------------------------------------------------------------------- model_dump & co.


def _sample() -> APIKeyCreated:
    """A created key with every field set (nested models, enums, datetimes, custom JSON)."""
    at = datetime(2026, 3, 4, 5, 6, 7, 89, tzinfo=UTC)
    meta = KeyMetadata(
        name="Alice's key",
        scopes=["read", "write"],
        rate_limit=RateLimit(100, RateLimitWindow.hour),
        expires_at=at + timedelta(days=30),
        custom={"user_id": "u_alice", "plan": {"tier": 2}},
    )
    key = APIKey(
        id=str(uuid.uuid4()),
        org_id=str(uuid.uuid4()),
        project_id=str(uuid.uuid4()),
        product_id=None,
        key_prefix="AbCdEf12",
        metadata=meta,
        revoked_at=None,
        created_at=at,
        last_used_at=at + timedelta(seconds=1),
        use_count=3,
    )
    return APIKeyCreated(key=key, plaintext="sk_test_only_not_a_real_key")


def _without_byok_extras(data: dict) -> dict:
    """A dump less the fields byok has beyond the reference (credits: remaining, refill; a rolled
    key's successor: rolled_to)."""
    data = json.loads(json.dumps(data, default=str))
    for key in (data, data.get("key")):
        if isinstance(key, dict):
            key.pop("rolled_to", None)
    for meta in (data, data.get("metadata"), data.get("key", {}).get("metadata")):
        if isinstance(meta, dict):
            meta.pop("remaining", None)
            meta.pop("refill", None)
    return data


@pytest.mark.parametrize("path", ["created", "key", "metadata", "rate_limit"])
def test_dumps_have_the_reference_shape(path: str) -> None:
    created = _sample()
    ours = {
        "created": created,
        "key": created.key,
        "metadata": created.key.metadata,
        "rate_limit": created.key.metadata.rate_limit,
    }[path]
    model = {"created": "APIKeyCreated", "key": "APIKey", "metadata": "KeyMetadata"}
    theirs_cls = getattr(apikeys, model.get(path, "RateLimit"))
    theirs = theirs_cls.model_validate(ours.model_dump())  # the reference reads our dump
    assert _without_byok_extras(ours.model_dump(mode="json")) == theirs.model_dump(mode="json")
    assert _without_byok_extras(json.loads(ours.model_dump_json())) == json.loads(
        theirs.model_dump_json()
    )
    python = ours.model_dump()
    their_python = theirs.model_dump()
    extras = {"remaining", "refill", "rolled_to"}  # byok's credits and roll lineage
    assert python.keys() == their_python.keys() | (extras & python.keys())


def test_python_mode_keeps_objects_and_json_mode_writes_text() -> None:
    key = _sample().key
    python = key.model_dump()
    assert python["created_at"] == key.created_at  # a datetime, as pydantic gives
    assert python["metadata"]["rate_limit"] == {"requests": 100, "window": RateLimitWindow.hour}
    assert python["metadata"]["custom"] == {"user_id": "u_alice", "plan": {"tier": 2}}
    as_json = key.model_dump(mode="json")
    assert as_json["created_at"] == "2026-03-04T05:06:07.000089Z"
    assert as_json["metadata"]["rate_limit"]["window"] == "hour"
    assert key.model_dump_json() == json.dumps(as_json, separators=(",", ":"))
    assert json.loads(key.model_dump_json(indent=2)) == as_json
    assert "\n  " in key.model_dump_json(indent=2)
    assert set(key.model_dump(include={"id", "use_count"})) == {"id", "use_count"}
    assert "metadata" not in key.model_dump(exclude={"metadata"})
    assert "product_id" not in key.model_dump(exclude_none=True)
    day = UsageDay(day=date(2026, 1, 2), count=5)
    assert day.model_dump(mode="json") == {"day": "2026-01-02", "count": 5}
    event = AuditEvent(1, key.created_at, key.org_id, key.id, AuditAction.roll, None, {})
    assert event.model_dump(mode="json")["action"] == "roll"


def test_validate_reads_the_reference_dumps_back() -> None:
    created = _sample()
    theirs = apikeys.APIKeyCreated.model_validate(created.model_dump())
    # python mode: UUID ids, enum members, datetimes; JSON: the same as text
    assert APIKeyCreated.model_validate(theirs.model_dump()) == created
    assert APIKeyCreated.model_validate_json(theirs.model_dump_json()) == created
    assert APIKey.model_validate_json(created.key.model_dump_json()) == created.key
    for model in (Organization, Project, Product):
        their_cls = getattr(apikeys, model.__name__)
        fields = {"id": uuid.uuid4(), "name": "n", "created_at": datetime.now(UTC)}
        if model is not Organization:
            fields["org_id"] = uuid.uuid4()
        back = model.model_validate(their_cls(**fields).model_dump(mode="json"))
        assert back.id == str(fields["id"]) and back.created_at == fields["created_at"]
    meta = KeyMetadata.model_validate({"rate_limit": {"requests": 3, "window": "day"}, "x": 1})
    assert meta.rate_limit == RateLimit(3, RateLimitWindow.day)  # unknown keys ignored
    refill = {"remaining": 5, "refill": {"amount": 5, "interval": "monthly"}}
    assert KeyMetadata.model_validate(refill).refill == Refill(5, RefillInterval.monthly)
    assert KeyStatus("active") is KeyStatus.active
    assert KeyMetadata.model_validate(meta) is meta  # an instance is returned as it is


@pytest.mark.parametrize(
    "bad",
    [
        {"rate_limit": {"requests": 0}},
        {"rate_limit": {"requests": 5, "window": "fortnight"}},
        {"expires_at": "not a date"},
        {"expires_at": "2030-01-01T00:00:00"},  # naive: byok wants the zone
        {"scopes": "read"},
        {"rate_limit": {"window": "minute"}},  # requests missing
    ],
)
def test_validate_refuses_bad_input_with_a_typed_error(bad: dict) -> None:
    with pytest.raises(InvalidInputError) as caught:
        KeyMetadata.model_validate(bad)
    assert isinstance(caught.value, ValueError)  # as pydantic's ValidationError is


def test_validate_refuses_what_is_not_a_dict_or_json() -> None:
    with pytest.raises(InvalidInputError):
        Organization.model_validate(["id", "name"])
    with pytest.raises(InvalidInputError):
        Organization.model_validate({"name": "no id"})
    with pytest.raises(InvalidInputError):
        APIKey.model_validate_json("{not json")
    with pytest.raises(InvalidInputError):
        _sample().key.model_dump(mode="yaml")  # type: ignore[arg-type]


def test_model_copy_checks_the_change() -> None:
    key = _sample().key
    assert key.model_copy(update={"use_count": 9}).use_count == 9
    assert key.model_copy() == key
    with pytest.raises(InvalidInputError):
        key.metadata.model_copy(update={"scopes": "read"})


def test_a_created_keys_dump_holds_its_plaintext_once_and_its_repr_never() -> None:
    created = _sample()
    assert created.model_dump()["plaintext"] == created.plaintext  # as the reference's
    assert created.plaintext not in repr(created)
    assert created.plaintext not in created.key.model_dump_json()


def test_the_exceptions_module_is_the_same_classes() -> None:
    from byok.issuing import exceptions

    for name in exceptions.__all__:
        assert getattr(exceptions, name) is getattr(issuing, name)
    assert issubclass(exceptions.QuotaError, exceptions.APIKeyError)
