"""Drop-in compatibility with apikeys-platform 0.2.0: its README's examples run on byok.issuing
with only the import changed, and every public name, signature, field and error attribute of
the installed reference exists here too.

The README is read from the installed reference's metadata (it is its long description), so the
project carries no copy of it.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import importlib.metadata
import inspect
import io
import re
import warnings
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import apikeys
import pytest
from starlette.testclient import TestClient

import byok.issuing as issuing
from byok.core.types import SecurityWarning

FENCE = re.compile(r"^```python\n(.*?)^```", re.M | re.S)
IMPORTS = (  # the only change made to an example
    ("from apikeys.db.session import", "from byok.issuing import"),
    ("from apikeys import", "from byok.issuing import"),
)


def readme_blocks() -> list[str]:
    """The ```python blocks of the reference's README, in order."""
    text = importlib.metadata.metadata("apikeys-platform").get_payload()
    return FENCE.findall(text)


def ported(code: str) -> str:
    """An example with its imports pointed at byok.issuing (nothing else changes)."""
    for old, new in IMPORTS:
        code = code.replace(old, new)
    return code


def run_fragment(code: str, namespace: dict) -> str:
    """Run a README fragment (top-level await allowed) in `namespace`; what it printed."""
    compiled = compile(ported(code), "<README>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = eval(compiled, namespace)
        if inspect.iscoroutine(result):
            asyncio.get_event_loop_policy().get_event_loop().run_until_complete(result)
    return out.getvalue()


def test_the_readme_has_the_examples_we_run() -> None:
    blocks = readme_blocks()
    assert len(blocks) == 18
    assert "asyncio.run(main())" in blocks[0]
    assert sum("from apikeys" in b for b in blocks) >= 8


def test_quickstart_runs_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # it writes sqlite:///myapp.db in the working directory
    quickstart = readme_blocks()[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(ported(quickstart), "<README quickstart>", "exec"), {"__name__": "__main__"})
    plaintext, user, count = out.getvalue().split()
    assert issuing.looks_like_issued_key(plaintext) and plaintext.startswith("sk_")
    assert (user, count) == ("u_alice", "1")
    assert (tmp_path / "myapp.db").exists()


@pytest.fixture
def readme_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """What the README's fragments assume exists: a client, a database URL, a project, a key
    (rate-limited to 1/minute and already used once, so the QuotaError example raises)."""
    monkeypatch.chdir(tmp_path)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    db_url = f"sqlite:///{tmp_path / 'readme.db'}"
    client = issuing.APIKeyClient(db_url, signing_secret="readme-signing-secret-0123456789")

    async def setup() -> dict:
        org, _ = await client.get_or_create_organization("Setup Org")
        project, _ = await client.get_or_create_project(org.id, "v1")
        limit = issuing.RateLimit(requests=1, window=issuing.RateLimitWindow.minute)
        made = await client.create_key(
            org.id, project_id=project.id, metadata=issuing.KeyMetadata(rate_limit=limit)
        )
        await client.validate_key(made.plaintext)
        return {"project_id": project.id, "key_id": made.key.id, "plaintext": made.plaintext}

    world = loop.run_until_complete(setup())
    names: dict = {}  # the fragments use what the quickstart imported
    imports = [ln for ln in readme_blocks()[0].splitlines() if ln.startswith("from apikeys")]
    exec(ported("\n".join(imports)), names)
    yield {**names, "db_url": db_url, "client": client, "my_client": client, **world}
    loop.close()
    asyncio.set_event_loop(None)


def test_every_fragment_runs_with_only_the_import_changed(readme_world: dict) -> None:
    blocks = readme_blocks()[1:]
    outputs: dict[int, str] = {}
    ran = 0
    for i, block in enumerate(blocks, start=1):
        if "# Before" in block:  # v0.1 → v0.2 migration: the "Before" half fails there too
            before, after = block.split("# After")
            with pytest.raises((TypeError, issuing.InvalidInputError)):
                run_fragment(before, dict(readme_world))
            block = after
        if "create_tables(" in block and "postgresql://" in block:
            sqlite_only = "\n".join(
                line
                for line in block.splitlines()
                if "postgresql://" not in line and "mysql://" not in line
            )
            block = sqlite_only  # PostgreSQL is covered by test_issuing_*; MySQL below
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SecurityWarning)  # signing_secret="..." is short
            outputs[i] = run_fragment(block, dict(readme_world))
        ran += 1
    assert ran == 17  # every example, FastAPI's APIKeyDepends too
    printed = "".join(outputs.values())
    assert "Retry after " in printed  # the QuotaError example caught a real refusal
    assert re.search(r"^[0-9a-f-]{36}$", printed, re.M)  # AlreadyExistsError.existing_id


def test_the_fastapi_example_answers_401_403_429_and_200(readme_world: dict) -> None:
    block = next(b for b in readme_blocks() if "APIKeyDepends(" in b)
    namespace = dict(readme_world)
    run_fragment(block, namespace)
    client = readme_world["client"]
    loop = asyncio.get_event_loop_policy().get_event_loop()

    async def reader_key() -> str:
        org, _ = await client.get_or_create_organization("FastAPI readers")
        limit = issuing.RateLimit(requests=1, window=issuing.RateLimitWindow.minute)
        meta = issuing.KeyMetadata(scopes=["read"], custom={"user_id": "u_ann"}, rate_limit=limit)
        return (await client.create_key(org.id, metadata=meta)).plaintext

    reader = loop.run_until_complete(reader_key())
    with TestClient(namespace["app"]) as http:
        assert http.get("/data").status_code == 401
        unscoped = http.get("/data", headers={"X-API-Key": readme_world["plaintext"]})
        assert unscoped.status_code == 403  # the world's key lacks "read"
        assert http.get("/data", headers={"X-API-Key": reader}).json() == {"user": "u_ann"}
        spent = http.get("/data", headers={"X-API-Key": reader})  # 1/minute, used
        assert spent.status_code == 429 and int(spent.headers["Retry-After"]) >= 1


def test_the_prefix_example_makes_self_describing_keys(readme_world: dict) -> None:
    block = next(b for b in readme_blocks() if 'key_prefix="myapp"' in b)
    namespace = dict(readme_world)
    with pytest.warns(SecurityWarning):  # signing_secret="..." works, with a warning
        run_fragment(block, namespace)

    async def issue() -> str:
        org, _ = await namespace["client"].get_or_create_organization("Prefixed")
        return (await namespace["client"].create_key(org.id)).plaintext

    key = asyncio.get_event_loop_policy().get_event_loop().run_until_complete(issue())
    assert key.startswith("myapp_live_") and issuing.looks_like_issued_key(key)


def test_the_expiry_example_reports_when(readme_world: dict) -> None:
    block = next(b for b in readme_blocks() if "except ExpiredKeyError as e" in b)
    client = readme_world["client"]
    loop = asyncio.get_event_loop_policy().get_event_loop()

    async def expired_key() -> str:
        org, _ = await client.get_or_create_organization("Expiry")
        past = datetime.now(UTC) - timedelta(minutes=1)
        meta = issuing.KeyMetadata(expires_at=past)
        return (await client.create_key(org.id, metadata=meta)).plaintext

    namespace = {**readme_world, "plaintext": loop.run_until_complete(expired_key())}
    assert run_fragment(block, namespace).startswith("Expired at ")
    namespace["plaintext"] = "sk_not-a-key"
    assert run_fragment(block, namespace) == "Key not found or malformed\n"


def test_database_setup_runs_on_postgresql(pg_url: str) -> None:
    asyncio.run(issuing.create_tables(pg_url))
    asyncio.run(issuing.create_tables(pg_url))  # safe to re-run


def test_database_setup_runs_on_mariadb(mariadb_url: str) -> None:
    for scheme in ("mysql+aiomysql", "mariadb"):  # the reference's spellings
        url = scheme + mariadb_url.removeprefix("mysql")
        asyncio.run(issuing.create_tables(url))  # safe to re-run


# --------------------------------------------------------------------------- public surface


def test_every_reference_name_is_exported() -> None:
    names = set(apikeys.__all__)  # APIKeyDepends is there when FastAPI is installed
    assert len(names) == 19 and "APIKeyDepends" in names
    assert names <= set(issuing.__all__)


def _params(fn) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(fn).parameters)


@pytest.mark.parametrize(
    "method",
    sorted(
        n
        for n, f in inspect.getmembers(apikeys.APIKeyClient, inspect.iscoroutinefunction)
        if not n.startswith("_")
    ),
)
def test_client_methods_keep_the_reference_signature(method: str) -> None:
    ours = getattr(issuing.APIKeyClient, method)
    assert inspect.iscoroutinefunction(ours)
    theirs, mine = _params(getattr(apikeys.APIKeyClient, method)), _params(ours)
    for name, p in theirs.items():
        assert name in mine, f"{method} lacks parameter {name}"
        q = mine[name]
        assert q.kind == p.kind, f"{method}({name}) kind"
        if p.default is not inspect.Parameter.empty:
            same = q.default == p.default or (p.default == [] and q.default == ())
            assert same, f"{method}({name}) default {q.default!r} != {p.default!r}"
        else:
            assert q.default is inspect.Parameter.empty, f"{method}({name}) must stay required"
    extra = [q for n, q in mine.items() if n not in theirs]
    assert all(q.kind is q.KEYWORD_ONLY and q.default is not q.empty for q in extra)


def test_constructor_and_create_tables_match() -> None:
    theirs = _params(apikeys.APIKeyClient.__init__)
    mine = _params(issuing.APIKeyClient.__init__)
    for name in ("db_url", "signing_secret", "key_prefix", "environment"):
        assert mine[name].kind == theirs[name].kind
        assert mine[name].default == theirs[name].default
    assert inspect.iscoroutinefunction(issuing.create_tables)
    assert list(_params(issuing.create_tables)) == list(_params(apikeys.create_tables))


def test_sync_engine_has_every_method_as_a_plain_call() -> None:
    for name, _ in inspect.getmembers(apikeys.APIKeyClient, inspect.iscoroutinefunction):
        if name.startswith("_"):
            continue
        fn = getattr(issuing.KeyIssuer, name)
        assert not inspect.iscoroutinefunction(fn)
        assert list(_params(fn))[: len(_params(getattr(apikeys.APIKeyClient, name)))] == list(
            _params(getattr(apikeys.APIKeyClient, name))
        )


@pytest.mark.parametrize(
    "model",
    ["APIKey", "APIKeyCreated", "KeyMetadata", "Organization", "Product", "Project", "RateLimit"],
)
def test_models_keep_the_reference_fields(model: str) -> None:
    theirs = set(getattr(apikeys, model).model_fields)
    mine = {f.name for f in fields(getattr(issuing, model))}
    assert theirs <= mine


def test_enums_keep_the_reference_members() -> None:
    for name in ("KeyStatus", "RateLimitWindow"):
        theirs = {m.value for m in getattr(apikeys, name)}
        assert theirs == {m.value for m in getattr(issuing, name)}


def test_errors_keep_their_hierarchy_and_attributes() -> None:
    for name in [n for n in apikeys.__all__ if n.endswith("Error")]:
        mine, theirs = getattr(issuing, name), getattr(apikeys, name)
        for base in theirs.__mro__[1:]:
            if base.__module__.startswith("apikeys"):
                assert issubclass(mine, getattr(issuing, base.__name__))
    assert issuing.ExpiredKeyError("x", expired_at=datetime(2030, 1, 1, tzinfo=UTC)).expired_at
    assert issuing.QuotaError("x", retry_after_seconds=3).retry_after_seconds == 3
    assert issuing.AlreadyExistsError("x", existing_id="id").existing_id == "id"
    assert issuing.QuotaError().args == ("Rate limit exceeded",)
