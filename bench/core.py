"""Core rows: manager construction, session set+get, session get (against the reference, and
against one AES-GCM open: the crypto floor of a read), SQLite get, SQLite set+get (against the
reference, and against their floors measured in this process: `bench.floors`)."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench import Row, floors

NO_BAR = math.inf  # shown for information

SECRET = "bench-app-secret-0123456789abcdef-0123456789abcdef"  # app secret, ≥ 16 bytes for byok
API_KEY = "sk-proj-" + "Ab3dE5gH7jK9mN1pQ3sT5vX7zA9cD1fH3jL5nP7rT9vX"  # a realistic 52-char key
PROVIDER = "openai"  # provider under test
USER = "user-42"  # owner for the database rows

_tmp: tempfile.TemporaryDirectory[str] | None = None  # SQLite files, removed at exit


def fake_request() -> Any:
    """What both libraries read from a request for session storage: a `.session` dict."""
    return SimpleNamespace(session={})


def _db_path(name: str) -> str:
    """A SQLAlchemy URL of a new SQLite file in this run's temporary directory."""
    global _tmp
    if _tmp is None:
        _tmp = tempfile.TemporaryDirectory(prefix="byok-bench-")
    return f"sqlite:///{Path(_tmp.name) / name}"


def _ours() -> tuple[Any, Any, Any]:
    """byok's manager class, config class and database backend enum value."""
    from byok.core.storage import BYOKManager
    from byok.core.types import BYOKConfig, StorageBackend

    return BYOKManager, BYOKConfig, StorageBackend.DATABASE


def _reference() -> tuple[Any, Any, Any]:
    """cjm-fasthtml-byok 0.0.3's manager class, config class and database backend enum value."""
    from cjm_fasthtml_byok.core.storage import BYOKManager
    from cjm_fasthtml_byok.core.types import BYOKConfig, StorageBackend

    return BYOKManager, BYOKConfig, StorageBackend.DATABASE


def _set_get(manager: Any, request: Any, user_id: str | None) -> Any:
    """A closure storing then reading the key back (checked once, so a broken side is caught)."""

    def run() -> str | None:
        manager.set_key(request, PROVIDER, API_KEY, user_id=user_id)
        return manager.get_key(request, PROVIDER, user_id=user_id)

    if run() != API_KEY:
        raise AssertionError(f"{type(manager).__module__}: set_key + get_key lost the key")
    return run


def _get(manager: Any, request: Any, user_id: str | None) -> Any:
    """A closure reading a key stored beforehand."""
    manager.set_key(request, PROVIDER, API_KEY, user_id=user_id)

    def run() -> str | None:
        return manager.get_key(request, PROVIDER, user_id=user_id)

    if run() != API_KEY:
        raise AssertionError(f"{type(manager).__module__}: get_key lost the key")
    return run


def _sides(kind: str) -> tuple[Any, Any]:
    """(ours, reference) closures for one kind of measurement."""
    closures = []
    for side, load in (("ours", _ours), ("reference", _reference)):
        manager_cls, config_cls, database = load()
        if kind == "construct":
            closures.append(lambda cls=manager_cls: cls(SECRET))
            continue
        if kind == "session":
            closures.append(_set_get(manager_cls(SECRET), fake_request(), None))
            continue
        if kind == "session-get":
            closures.append(_get(manager_cls(SECRET), fake_request(), None))
            continue
        url = _db_path(f"{side}-{kind}.db")
        manager = manager_cls(SECRET, db_url=url, config=config_cls(storage_backend=database))
        make = _get if kind == "sqlite-get" else _set_get
        closures.append(make(manager, fake_request(), USER))
    return closures[0], closures[1]


def _aes_open() -> Any:
    """One AES-256-GCM open of a key the size of API_KEY, with associated data the size of
    byok's (owner and provider): what a read cannot do without."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead, nonce, aad = AESGCM(os.urandom(32)), os.urandom(12), b"\x00" * 48
    sealed = aead.encrypt(nonce, API_KEY.encode(), aad)

    def run() -> str:
        return aead.decrypt(nonce, sealed, aad).decode()

    if run() != API_KEY:
        raise AssertionError("AES-GCM open lost the key")
    return run


def _aes_seal() -> Any:
    """One AES-256-GCM seal of API_KEY under a fresh random nonce: what a write cannot do
    without."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead, aad = AESGCM(os.urandom(32)), b"\x00" * 48

    def run() -> bytes:
        return aead.encrypt(os.urandom(12), API_KEY.encode(), aad)

    return run


def _all(*parts: Any) -> Any:
    """One callable running each part once: the floor of a call that needs them all."""

    def run() -> None:
        for part in parts:
            part()

    return run


def rows() -> list[Row]:
    """The core benchmark rows, ours against cjm-fasthtml-byok 0.0.3 and against the floors
    (`bench.floors`: SQLite; AES-GCM here)."""
    read = _all(floors.floor(reads=1), _aes_open())
    write_read = _all(floors.floor(writes=1, reads=1), _aes_seal(), _aes_open())
    return [
        Row("BYOKManager() construction (session)", *_sides("construct"), 0.01),
        # it does more than the reference: the exact cookie budget, owner binding, defaults
        Row("session set_key + get_key", *_sides("session"), 1.1),
        Row("session get_key", *_sides("session-get"), NO_BAR),
        Row(
            "session get_key vs one AES-GCM open",
            _sides("session-get")[0],
            _aes_open(),
            6,
            cpu=True,
        ),
        Row("SQLite get_key", *_sides("sqlite-get"), 0.5),
        Row("SQLite set_key + get_key", *_sides("sqlite-set-get"), 0.5),
        Row(
            "vault SQLite get_key vs one indexed read + one AES-GCM open",
            _sides("sqlite-get")[0],
            read,
            5,
            cpu=True,
        ),
        Row(
            "vault SQLite set_key + get_key vs write + read + seal + open",
            _sides("sqlite-set-get")[0],
            write_read,
            8,
            cpu=True,
        ),
    ]
