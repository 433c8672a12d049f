"""Key rotation: versioned keyring, batched resumable rewrap, retirement, lazy session rotation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from byok.core.database import to_iso
from byok.core.security import bind
from byok.core.storage import BYOKManager
from byok.core.types import (
    BYOKConfig,
    EncryptionError,
    EventKind,
    StorageBackend,
    utcnow,
)
from tests.support.storage import FakeRequest

ROOT = Path(__file__).resolve().parent.parent
OLD = "rotation-old-secret-0123456789abcdef"  # version 1
NEW = "rotation-new-secret-0123456789abcdef"  # version 2
PROVIDERS = ["openai", "anthropic", "google", "mistral", "groq"]


class Managers:
    """Managers on one database, closed at the end."""

    def __init__(self, db_url: str):
        self.url, self.made = db_url, []

    def __call__(self, secret: str = OLD, version: int = 1, **config) -> BYOKManager:
        config.setdefault("storage_backend", StorageBackend.DATABASE)
        manager = BYOKManager(
            secret, db_url=self.url, config=BYOKConfig(key_version=version, **config)
        )
        self.made.append(manager)
        return manager

    def old(self, **config) -> BYOKManager:
        """The app before rotation: only the old secret."""
        return self(OLD, 1, **config)

    def new(self, **config) -> BYOKManager:
        """The app after the secret changed: the new secret, the old one listed as previous."""
        return self(NEW, 2, previous_keys={1: OLD}, **config)

    def close(self) -> None:
        for m in self.made:
            m.database.close()


@pytest.fixture
def managers(db_url: str) -> Iterator[Managers]:
    made = Managers(db_url)
    yield made
    made.close()


def seed(manager: BYOKManager, n: int) -> dict[tuple[str, str], str]:
    """Insert n keys sealed by `manager` (5 providers per user) in one transaction, as `store`
    writes them; returns {(user, provider): plaintext}."""
    now = to_iso(utcnow())
    expected, rows = {}, []
    for i in range(n):
        user, provider = f"user-{i // 5:05d}", PROVIDERS[i % 5]
        plain = f"sk-{i:06d}-{provider}-abcdefghijklmnopqrstuvwxyz"
        sealed = manager.keyring.seal(plain, bind(f"user:{user}", provider))
        expected[(user, provider)] = plain
        rows.append(
            {
                "user_id": user,
                "provider": provider,
                "label": "",
                "endpoint": None,
                "is_default": 1,
                "encrypted_value": sealed,
                "key_version": manager.keyring.version,
                "created_at": now,
                "expires_at": None,
                "updated_at": now,
            }
        )
    storage = manager.database
    with storage._guard("seed"):
        storage.db.execute(storage.table.table.insert(), rows)
    return expected


def lost(manager: BYOKManager, expected: dict[tuple[str, str], str], sample: int = 200) -> int:
    """How many expected keys no longer open to their original plaintext: every row is read in
    one query and opened with the manager's keyring; a sample also goes through `get_key`."""
    storage = manager.database
    with storage._guard("verify"):
        rows = {(r["user_id"], r["provider"]): r for r in storage.table.rows_where()}
    missing = 0
    for (user, provider), plain in expected.items():
        row = rows.get((user, provider))
        try:
            aad = bind(f"user:{user}", provider)
            ok = row is not None and manager.keyring.open(row["encrypted_value"], aad) == plain
        except EncryptionError:
            ok = False
        missing += not ok
    for (user, provider), plain in list(expected.items())[:: max(1, len(expected) // sample)]:
        try:
            missing += manager.get_key(None, provider, user) != plain
        except EncryptionError:
            missing += 1
    return missing


# --------------------------------------------------------------------------- at scale


def _rotate_at_scale(managers: Managers, n: int) -> None:
    expected = seed(managers.old(), n)
    new = managers.new()
    assert new.stale_count() == n
    batches: list[int] = []
    start = time.perf_counter()
    report = new.rotate_keys(batch_size=500, progress=batches.append)
    elapsed = time.perf_counter() - start
    assert (report.rewrapped, report.changed, report.failed) == (n, 0, 0)
    assert sum(batches) == n and len(batches) == -(-n // 500)
    assert new.stale_count() == 0
    assert new.database.count() == n
    assert lost(new, expected) == 0
    # everything is under the new key now: the new secret alone reads it all
    assert lost(managers(NEW, 2), expected) == 0
    print(f"\nrotation: {n} keys v1→v2 in {elapsed:.2f} s, lost 0, stale_count 0")


@pytest.mark.slow
def test_rotate_10000_keys_in_sqlite_loses_none(tmp_path):
    made = Managers(f"sqlite:///{tmp_path / 'rotate.db'}")
    try:
        _rotate_at_scale(made, 10_000)
    finally:
        made.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    "db_url",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
    indirect=True,
)
def test_rotate_10000_keys_in_a_server_database_loses_none(managers):
    _rotate_at_scale(managers, 10_000)


# --------------------------------------------------------------------------- interrupted


def test_interrupted_rotation_loses_nothing_and_resumes(managers):
    n = 3000
    expected = seed(managers.old(), n)
    new = managers.new()
    calls = []

    def crash_after_three(rows: int) -> None:
        calls.append(rows)
        if len(calls) == 3:
            raise KeyboardInterrupt("operator pressed Ctrl-C")

    with pytest.raises(KeyboardInterrupt):
        new.rotate_keys(batch_size=500, progress=crash_after_three)
    assert new.stale_count() == n - 1500  # three batches committed, the rest untouched
    assert lost(new, expected) == 0
    report = new.rotate_keys(batch_size=500)
    assert (report.rewrapped, report.failed) == (n - 1500, 0)
    assert new.stale_count() == 0
    assert lost(managers(NEW, 2), expected) == 0


CHILD = """
import sys, time
from byok.core.storage import BYOKManager
from byok.core.types import BYOKConfig, StorageBackend
url, new, old = sys.argv[1:4]
m = BYOKManager(new, db_url=url, config=BYOKConfig(key_version=2, previous_keys={1: old}))
rewrap = m.keyring.rewrap
def slow_rewrap(value, aad):
    time.sleep(0.002)  # slow enough to be killed half-way through a batch
    return rewrap(value, aad)
m.keyring.rewrap = slow_rewrap
def progress(rows):
    print("batch", rows, flush=True)
m.rotate_keys(batch_size=100, progress=progress)
print("done", flush=True)
"""


def test_killed_rotation_process_loses_nothing_and_a_second_run_completes(managers, db_url):
    n = 1500
    expected = seed(managers.old(), n)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url, NEW, OLD],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        seen = 0
        while seen < 3:
            line = child.stdout.readline()
            assert line, f"child ended early: {child.stderr.read()[-2000:]}"
            seen += line.startswith("batch")
        time.sleep(0.1)  # half-way through the fourth batch
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    new = managers.new()
    stale = new.stale_count()
    assert 0 < stale <= n - 300, stale  # at least 3 batches done, not all
    assert lost(new, expected) == 0
    report = new.rotate_keys(batch_size=100)
    assert report.rewrapped == stale and report.failed == 0
    assert new.stale_count() == 0 and lost(new, expected) == 0
    print(f"\nkilled rotation: {n - stale}/{n} rewrapped before SIGKILL, lost 0, resumed")


# --------------------------------------------------------------------------- versions


def test_min_decrypt_version_retires_old_keys(managers):
    old = managers.old()
    old.set_key(None, "openai", "sk-old-version-0001", user_id="u1")
    new = managers.new()
    new.set_key(None, "google", "sk-new-version-0001", user_id="u1")
    strict = managers(NEW, 2, previous_keys={1: OLD}, min_decrypt_version=2)
    assert strict.get_key(None, "google", "u1") == "sk-new-version-0001"
    with pytest.raises(EncryptionError):
        strict.get_key(None, "openai", "u1")
    assert strict.database.count() == 2  # refused, not deleted
    report = strict.rotate_keys()
    assert (report.rewrapped, report.failed) == (0, 1)  # a retired key cannot be rewrapped
    assert new.rotate_keys().rewrapped == 1  # the permissive manager can
    assert strict.get_key(None, "openai", "u1") == "sk-old-version-0001"


def test_rotation_skips_unreadable_rows_and_reports_them(managers):
    events = []
    stranger = managers("someone-elses-secret-0123456789")
    stranger.set_key(None, "openai", "sk-unreadable-0001", user_id="zed")
    expected = seed(managers.old(), 40)
    new = managers.new(on_event=events.append)
    report = new.rotate_keys(batch_size=7)
    assert (report.rewrapped, report.failed) == (40, 1)
    assert new.stale_count() == 1  # left as it was, not deleted
    assert stranger.get_key(None, "openai", "zed") == "sk-unreadable-0001"
    again = new.rotate_keys(batch_size=7)  # terminates; still reports the row
    assert (again.rewrapped, again.failed) == (0, 1)
    assert lost(new, expected) == 0
    kinds = [e.kind for e in events]
    assert kinds.count(EventKind.DECRYPT_FAILURE) == 2 and kinds.count(EventKind.ROTATE) == 2


def test_a_row_rewritten_during_rotation_is_not_overwritten(managers):
    expected = seed(managers.old(), 10)
    new = managers.new()
    writer = managers.new()
    rewrap = new.keyring.rewrap

    def rewrap_while_user_saves(value: bytes, aad: bytes) -> bytes:
        if aad == bind("user:user-00000", "openai"):
            writer.set_key(None, "openai", "sk-saved-meanwhile-01", user_id="user-00000")
        return rewrap(value, aad)

    new.keyring.rewrap = rewrap_while_user_saves  # type: ignore[method-assign]
    report = new.rotate_keys()
    assert (report.rewrapped, report.changed) == (9, 1)
    assert new.get_key(None, "openai", "user-00000") == "sk-saved-meanwhile-01"
    expected[("user-00000", "openai")] = "sk-saved-meanwhile-01"
    assert lost(new, expected) == 0 and new.stale_count() == 0


def test_new_writes_use_the_newest_key_and_old_rows_still_read(managers):
    old = managers.old()
    old.set_key(None, "openai", "sk-written-by-v1-001", user_id="u1")
    new = managers.new()
    new.set_key(None, "google", "sk-written-by-v2-001", user_id="u1")
    rows = {r.provider: r for r in new.list_keys(None, "u1")}
    assert new.keyring.version_of(rows["openai"].encrypted_value) == 1
    assert new.keyring.version_of(rows["google"].encrypted_value) == 2
    assert new.get_key(None, "openai", "u1") == "sk-written-by-v1-001"
    assert new.stale_count() == 1
    with pytest.raises(EncryptionError):
        old.get_key(None, "google", "u1")  # the old app cannot read the new key


def test_bad_batch_size_is_refused(managers):
    from byok.core.types import ValidationError

    m = managers.new()
    for bad in (0, -1, 1.5, "10", None):
        with pytest.raises(ValidationError):
            m.rotate_keys(batch_size=bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- session and hybrid


def test_session_keys_rotate_lazily_when_read():
    req = FakeRequest()
    BYOKManager(OLD).set_key(req, "openai", "sk-session-rotate-01")
    new = BYOKManager(NEW, config=BYOKConfig(key_version=2, previous_keys={1: OLD}))
    assert new.keyring.version_of(new.storage.retrieve(req, "openai").encrypted_value) == 1
    assert new.get_key(req, "openai") == "sk-session-rotate-01"
    assert new.keyring.version_of(new.storage.retrieve(req, "openai").encrypted_value) == 2
    only_new = BYOKManager(NEW, config=BYOKConfig(key_version=2))
    assert only_new.get_key(req, "openai") == "sk-session-rotate-01"


def test_hybrid_stale_cache_after_retirement_falls_back_to_the_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'hybrid.db'}"
    hybrid = {"storage_backend": StorageBackend.HYBRID}
    req = FakeRequest()
    before = BYOKManager(OLD, db_url=url, config=BYOKConfig(**hybrid))
    before.set_key(req, "openai", "sk-hybrid-rotate-001", user_id="u1")  # cached as v1
    rotated = BYOKManager(
        NEW, db_url=url, config=BYOKConfig(key_version=2, previous_keys={1: OLD}, **hybrid)
    )
    assert rotated.rotate_keys().rewrapped == 1
    retired = BYOKManager(NEW, db_url=url, config=BYOKConfig(key_version=2, **hybrid))
    assert retired.get_key(req, "openai", user_id="u1") == "sk-hybrid-rotate-001"
    cached = req.session["byok_cache"]["k"]["u1"]["openai"]
    assert (
        retired.keyring.version_of(
            retired.storage.session.retrieve(req, "openai", "u1").encrypted_value
        )
        == 2
    ), cached
    for m in (before, rotated, retired):
        m.database.close()


def test_rotation_keeps_expiry(managers):
    old = managers.old()
    old.set_key(None, "openai", "sk-expiry-kept-0001", user_id="u1", ttl=timedelta(hours=3))
    before = old.get_key_info(None, "openai", "u1").expires_at
    new = managers.new()
    new.rotate_keys()
    assert new.get_key_info(None, "openai", "u1").expires_at == before
