"""A canary key goes through every operation; its plaintext must appear nowhere: not in the
session cookie (raw or decoded), the SQLite file and its WAL, the PostgreSQL table dump, the
logs (DEBUG, every logger, SQL parameters included) or any exception message."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import secrets
import traceback
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from byok.core.storage import BYOKManager
from byok.core.types import (
    BYOKConfig,
    BYOKException,
    EncryptionError,
    SessionFullError,
    StorageBackend,
    ValidationError,
    utcnow,
)
from tests.support.storage import SECRET, FakeRequest, make_app, session_cookie

CANARY = f"sk-Canary-{secrets.token_hex(16)}-End"  # a fresh plaintext key per run (mixed case,
# like real keys: passed as a provider name by mistake, it is refused)


def leak_patterns(secret: str) -> list[bytes]:
    """The byte forms a leaked secret could take: plain, a middle fragment (masking shows the
    ends only), hex and base64 at every alignment."""
    raw = secret.encode()
    middle = raw[6:-6]
    forms = [raw, middle, raw.hex().encode(), raw.hex().upper().encode()]
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(middle[shift:])
            forms.append(encoded[4:-4])  # the stable inner part, whatever surrounds it
    return forms


def assert_clean(blob: bytes | str, where: str, secret: str = CANARY) -> None:
    """No form of the secret in blob."""
    data = blob.encode() if isinstance(blob, str) else blob
    for pattern in leak_patterns(secret):
        assert pattern not in data, f"canary found in {where} as {pattern[:12]!r}…"


def decoded_layers(text: str) -> list[bytes]:
    """Every base64 layer found in a text (cookie values, tokens), decoded, recursively."""
    found = []
    for word in text.replace('"', " ").replace(",", " ").replace(".", " ").split():
        word = word.strip("[]{}:;=")
        if len(word) < 16:
            continue
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                data = decode(word + "=" * (-len(word) % 4))
            except (binascii.Error, ValueError):
                continue
            found.append(data)
            with contextlib.suppress(UnicodeDecodeError):
                found += decoded_layers(data.decode())
    return found


def lifecycle(manager: BYOKManager, request, user: str | None, errors: list) -> None:
    """Every operation on the canary, including the failing ones (their errors collected)."""

    def expect(error: type[BYOKException], call: Callable[[], object]) -> None:
        with pytest.raises(error) as info:
            call()
        errors.append(info.value)

    manager.set_key(request, "openai", CANARY, user_id=user)
    assert manager.get_key(request, "openai", user_id=user) == CANARY
    manager.get_masked_key(request, "openai", user_id=user)
    manager.get_key_info(request, "openai", user_id=user)
    manager.list_keys(request, user_id=user)
    manager.has_key(request, "openai", user_id=user)
    manager.set_key(request, "openai", f"  {CANARY}\t", user_id=user)  # trimmed: same key
    manager.set_key(request, "anthropic", CANARY, user_id=user, ttl=timedelta(hours=1))
    manager.set_key(request, "google", CANARY, user_id=user)
    manager.delete_key(request, "google", user_id=user)
    expect(ValidationError, lambda: manager.set_key(request, "openai", CANARY * 40, user_id=user))
    expect(
        ValidationError,
        lambda: manager.set_key(request, "openai", CANARY[:9] + "\n" + CANARY[9:], user_id=user),
    )
    expect(ValidationError, lambda: manager.set_key(request, "openai", CANARY + " x", user_id=user))
    expect(ValidationError, lambda: manager.set_key(request, CANARY, "sk-other-key", user_id=user))
    expect(ValidationError, lambda: manager.get_key(request, CANARY, user_id=user))
    expect(ValidationError, lambda: manager.set_key(request, "openai", CANARY, user_id=[CANARY]))
    stranger = BYOKManager(
        "a-stranger-secret-0123456789ab",
        manager.database and manager.database.db,
        BYOKConfig(storage_backend=manager.backend),
    )
    expect(EncryptionError, lambda: stranger.get_key(request, "openai", user_id=user))
    expect(EncryptionError, lambda: stranger.get_masked_key(request, "openai", user_id=user))
    if manager.database is not None:
        manager.rotate_keys()
        manager.cleanup_expired(None)
        manager.cleanup_expired(None)
        stranger.rotate_keys()  # fails to open the canary rows: reported, not leaked


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Everything logged, by every logger, at DEBUG (SQLAlchemy's SQL and parameters too)."""
    caplog.set_level(logging.DEBUG)
    for name in ("byok", "sqlalchemy.engine"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def check_logs_and_errors(logs: pytest.LogCaptureFixture, errors: list) -> int:
    """Assert the logs and every collected error are clean; returns how many records were read."""
    text = "\n".join(
        f"{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ''}" for r in logs.records
    )
    assert_clean(text, "logs")
    assert errors, "the lifecycle should have raised errors"
    for error in errors:
        assert_clean(str(error), f"str({type(error).__name__})")
        assert_clean(repr(error), f"repr({type(error).__name__})")
        assert_clean("".join(traceback.format_exception(error)), "traceback")
    return len(logs.records)


def test_canary_not_in_session_cookie_logs_or_errors(logs):
    manager = BYOKManager(SECRET, config=BYOKConfig(cookie_limit=4096))
    client = TestClient(make_app(manager))
    response = client.post("/keys/openai", data={"key": CANARY})
    assert response.status_code == 200
    header = session_cookie(response)
    assert_clean(header, "Set-Cookie")
    layers = decoded_layers(header)
    assert any(b"byok_keys" in layer for layer in layers)  # the decoding reached the JSON
    assert len(layers) >= 2  # and the sealed values inside it
    for layer in layers:
        assert_clean(layer, "decoded cookie")
    assert client.get("/keys/openai").text.startswith("sk-C")  # masked only
    assert_clean(client.get("/keys/openai").text, "masked response")
    # the whole lifecycle on a session request, then its session serialised like a cookie
    errors: list = []
    request = FakeRequest()
    lifecycle(manager, request, None, errors)
    lifecycle(manager, request, "user-1", errors)
    full = FakeRequest({"filler": "x" * 3000})
    with pytest.raises(SessionFullError) as info:
        manager.set_key(full, "openai", CANARY + "x" * 900)
    errors.append(info.value)
    dumped = json.dumps(request.session)
    assert_clean(dumped, "session JSON")
    for layer in decoded_layers(dumped):
        assert_clean(layer, "decoded session")
    records = check_logs_and_errors(logs, errors)
    assert records > 0


def test_canary_not_in_sqlite_file_wal_logs_or_errors(tmp_path: Path, logs):
    path = tmp_path / "canary.db"
    manager = BYOKManager(SECRET, db_url=f"sqlite:///{path}")
    errors: list = []
    lifecycle(manager, None, "user-1", errors)
    lifecycle(manager, None, "user-2", errors)
    sealed_rows = manager.database.count()
    assert sealed_rows == 4
    files = [p for p in tmp_path.iterdir() if p.name.startswith("canary.db")]
    assert {p.name for p in files} >= {"canary.db", "canary.db-wal"}
    for file in files:
        assert_clean(file.read_bytes(), file.name)
    manager.database.close()  # checkpoints the WAL into the file
    for file in tmp_path.iterdir():
        assert_clean(file.read_bytes(), f"{file.name} after close")
    assert any("byok set" in r.getMessage() for r in logs.records)
    assert any(r.name.startswith("sqlalchemy.engine") for r in logs.records)  # SQL was logged
    check_logs_and_errors(logs, errors)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_canary_not_in_postgres_dump_logs_or_errors(db_url, logs):
    import psycopg

    manager = BYOKManager(SECRET, db_url=db_url)
    errors: list = []
    lifecycle(manager, None, "user-1", errors)
    table = manager.config.db_table_name
    with psycopg.connect(db_url) as conn:
        dumps = []
        for fmt in ("", "(FORMAT binary)"):
            buf = bytearray()
            with conn.cursor().copy(f'COPY "{table}" TO STDOUT {fmt}') as copy:
                for chunk in copy:
                    buf += chunk
            dumps.append(bytes(buf))
        as_text = conn.execute(f'SELECT row_to_json(t)::text FROM "{table}" t').fetchall()
    assert len(as_text) == 2
    for dump in dumps:
        assert len(dump) > 100
        assert_clean(dump, "PostgreSQL COPY dump")
    assert_clean("\n".join(r[0] for r in as_text), "row_to_json")
    check_logs_and_errors(logs, errors)
    manager.database.close()


@pytest.mark.parametrize(
    "db_url", [pytest.param("mariadb", marks=pytest.mark.mariadb)], indirect=True
)
def test_canary_not_in_mariadb_dump_logs_or_errors(db_url, logs):
    import subprocess
    from urllib.parse import urlsplit

    manager = BYOKManager(SECRET, db_url=db_url)
    errors: list = []
    lifecycle(manager, None, "user-1", errors)
    parts = urlsplit(db_url)
    dumps = []
    for extra in ([], ["--hex-blob"]):
        done = subprocess.run(
            ["mariadb-dump", "--no-defaults", "-h", "127.0.0.1", "-P", str(parts.port),
             "-u", parts.username, *extra, parts.path.lstrip("/")],
            env={"MYSQL_PWD": parts.password}, capture_output=True, check=True, timeout=60,
        )  # fmt: skip
        dumps.append(done.stdout)
    for dump in dumps:
        assert manager.config.db_table_name.encode() in dump and len(dump) > 1000
        assert_clean(dump, "mariadb-dump")
    check_logs_and_errors(logs, errors)
    manager.database.close()


def test_canary_not_in_hybrid_storage(tmp_path: Path, logs):
    config = BYOKConfig(storage_backend=StorageBackend.HYBRID)
    manager = BYOKManager(SECRET, db_url=f"sqlite:///{tmp_path / 'hybrid.db'}", config=config)
    client = TestClient(make_app(manager, user_param=True))
    response = client.post("/keys/openai?user=u1", data={"key": CANARY})
    assert response.status_code == 200
    header = session_cookie(response)
    assert_clean(header, "hybrid Set-Cookie")
    for layer in decoded_layers(header):
        assert_clean(layer, "hybrid decoded cookie")
    errors: list = []
    request = FakeRequest()
    lifecycle(manager, request, "u2", errors)
    assert_clean(json.dumps(request.session), "hybrid session")
    manager.database.close()
    for file in tmp_path.iterdir():
        assert_clean(file.read_bytes(), file.name)
    check_logs_and_errors(logs, errors)


def test_leak_detector_detects_leaks():
    """The checks above can fail: every form they look for is caught."""
    for blob in (
        f"prefix {CANARY} suffix",
        CANARY[5:-5],
        CANARY.encode().hex(),
        base64.b64encode(b"xy" + CANARY.encode()).decode(),
        base64.urlsafe_b64encode(b"z" + CANARY.encode()),
    ):
        with pytest.raises(AssertionError, match="canary found"):
            assert_clean(blob, "test")
    assert_clean("sk-C...-End " + utcnow().isoformat(), "masked")
