"""Hypothesis: random input to decryption and to every BYOKManager entry point. Whatever comes
in, only byok's own exceptions (BYOKException subclasses) may come out. Each property counts the
cases it ran; together they run at least 10,000 in the deep Hypothesis profile (BYOK_HYPOTHESIS=deep;
a fifth of that in the dev and ci ones, see tests/support.py)."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from byok.core.security import KeyEncryptor, Keyring, bind, mask_key
from byok.core.storage import BYOKManager
from byok.core.types import (
    PROVIDER_PATTERN,
    APIKey,
    BYOKConfig,
    BYOKException,
    EncryptionError,
    StorageBackend,
)
from tests.support import examples
from tests.support.storage import SECRET, FakeRequest

DEEP_CASES = {  # property -> examples it runs when deep (the total is the figure asked for: ≥ 10,000)
    "keyring_open": 2500,
    "encryptor_decrypt": 1000,
    "tampered": 1000,
    "constructors": 500,
    "session_manager": 3000,
    "database_manager": 1500,
    "hybrid_manager": 600,
    "session_garbage": 500,
    "postgresql_manager": 400,
    "mysql_manager": 400,
}
assert sum(DEEP_CASES.values()) >= 10_000
CASES = {name: examples(n) for name, n in DEEP_CASES.items()}  # what this run's profile runs

# --------------------------------------------------------------------------- strategies

ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.binary(max_size=40),
    st.lists(st.text(max_size=6), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
    st.timedeltas(),
    st.datetimes(),
)
VALID_PROVIDERS = st.one_of(
    st.sampled_from(["openai", "anthropic", "google"]),
    st.from_regex(PROVIDER_PATTERN, fullmatch=True),
)
VALID_KEYS = st.one_of(
    st.from_regex(r"[\x21-\x7e]{1,60}", fullmatch=True),
    st.integers(1000, 1024).map(lambda n: "k" * n),  # up to the maximum length
)
VALID_USERS = st.one_of(st.sampled_from(["alice", "bob", "42"]), st.integers(-99, 99))


def mostly(valid: st.SearchStrategy, invalid: st.SearchStrategy) -> st.SearchStrategy:
    """Valid three draws in four, so calls get past validation into storage and the keyring
    (a plain one_of would not do: hypothesis flattens nested one_of into equal branches)."""
    return st.integers(0, 3).flatmap(lambda i: invalid if i == 0 else valid)


PROVIDERS = mostly(VALID_PROVIDERS, st.one_of(st.text(max_size=70), ANYTHING))
KEYS = mostly(
    VALID_KEYS,
    st.one_of(
        st.integers(1025, 1030).map(lambda n: "k" * n),  # just over the maximum length
        st.text(max_size=60),
        st.text(alphabet=" \t\n\r\x00\x0b", max_size=5),
        ANYTHING,
    ),
)
USERS = mostly(
    VALID_USERS,
    st.one_of(
        st.integers(),
        st.text(max_size=30),
        st.integers(250, 260).map(lambda n: "u" * n),  # around the maximum length
        ANYTHING,
    ),
)
TTLS = mostly(st.one_of(st.none(), st.timedeltas(min_value=timedelta(seconds=1))), ANYTHING)
OPS = st.sampled_from(
    [
        "set_key",
        "get_key",
        "delete_key",
        "has_key",
        "get_key_info",
        "get_masked_key",
        "list_providers",
        "clear_keys",
        "list_keys",
    ]
)
CALLS = st.lists(st.tuples(OPS, PROVIDERS, KEYS, USERS, TTLS), min_size=1, max_size=3)


def call_entry_point(m: BYOKManager, request: Any, op: str, provider, key, user, ttl) -> None:
    """One manager call with the given (possibly absurd) arguments."""
    if op == "set_key":
        m.set_key(request, provider, key, user_id=user, ttl=ttl)
    elif op in ("list_providers", "clear_keys", "list_keys"):
        getattr(m, op)(request, user_id=user)
    else:
        getattr(m, op)(request, provider, user_id=user)


def only_byok_errors(call: Callable[[], object]) -> None:
    """Run call; a BYOKException is an allowed answer, anything else fails the test."""
    with contextlib.suppress(BYOKException):
        call()


def run(name: str, *strategies: st.SearchStrategy, check: Callable[..., None]) -> int:
    """Run `check` on CASES[name] generated cases; returns how many ran."""
    ran = 0

    @settings(
        max_examples=CASES[name],
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.tuples(*strategies))
    def prop(args: tuple) -> None:
        nonlocal ran
        ran += 1
        check(*args)

    prop()
    assert ran >= CASES[name], (name, ran)
    print(f"\nfuzz {name}: {ran} cases")
    return ran


RING = Keyring.from_secret(SECRET, 2, previous={1: "older-secret-0123456789abcdef"})
ENCRYPTOR = KeyEncryptor()

# --------------------------------------------------------------------------- decryption


def test_keyring_open_random_input():
    def check(sealed, aad):
        with pytest.raises(EncryptionError):
            RING.open(sealed, aad)

    header = st.sampled_from([b"B\x00\x01", b"B\x00\x02", b"B\x00\x03", b"B\xff\xff", b"A\x00\x01"])
    sealed = st.one_of(
        st.binary(max_size=120),
        st.builds(lambda h, rest: h + rest, header, st.binary(min_size=0, max_size=120)),
        st.text(max_size=60),
        ANYTHING,
        st.builds(bytearray, st.binary(max_size=60)),
        st.builds(memoryview, st.binary(max_size=60)),
    )
    aad = st.one_of(st.binary(max_size=40), ANYTHING)
    run("keyring_open", sealed, aad, check=check)


def test_key_encryptor_decrypt_random_input():
    def check(value, aad):
        with pytest.raises(EncryptionError):
            ENCRYPTOR.decrypt(value, aad)

    value = st.one_of(st.binary(max_size=120), st.text(max_size=80), ANYTHING)
    run("encryptor_decrypt", value, st.one_of(st.just(b""), st.binary(max_size=20)), check=check)


def test_tampered_sealed_values_never_open():
    plain = "sk-tamper-0123456789"
    aad = bind("user:1", "openai")
    sealed = RING.seal(plain, aad)

    def check(edits, cut, extra):
        data = bytearray(sealed)
        for position, value in edits:
            data[position % len(data)] ^= value
        data = bytes(data[: max(0, len(data) - cut)]) + extra
        if data == sealed:
            assert RING.open(data, aad) == plain
            return
        with pytest.raises(EncryptionError):
            RING.open(data, aad)

    edits = st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)), max_size=4)
    run("tampered", edits, st.integers(0, 60), st.binary(max_size=4), check=check)


def test_constructors_with_random_input():
    def check(secret, raw, data):
        only_byok_errors(lambda: Keyring.from_secret(secret))
        only_byok_errors(lambda: Keyring.from_secret(SECRET, raw_key=raw))
        only_byok_errors(lambda: KeyEncryptor(raw))
        only_byok_errors(lambda: BYOKManager(secret))
        only_byok_errors(lambda: APIKey.from_dict(data))
        assert isinstance(mask_key(secret), str)

    raw = st.one_of(
        st.binary(min_size=30, max_size=46), st.text(min_size=30, max_size=46), ANYTHING
    )
    data = st.one_of(
        st.dictionaries(
            st.sampled_from(["provider", "encrypted_value", "created_at", "expires_at", "user_id"]),
            st.one_of(ANYTHING, st.just("2030-01-01T00:00:00+00:00"), st.just("00ff")),
        ),
        ANYTHING,
    )
    run("constructors", st.one_of(st.text(max_size=40), ANYTHING), raw, data, check=check)


# --------------------------------------------------------------------------- manager entry points


def requests(shared: FakeRequest) -> st.SearchStrategy:
    """Mostly working requests (fresh or shared sessions), sometimes none or a wrong object."""
    return st.sampled_from(["fresh", "fresh", "shared", "shared", "none", "object"]).map(
        lambda kind: {
            "fresh": FakeRequest(),
            "shared": shared,
            "none": None,
            "object": object(),
        }[kind]
    )


def fuzz_manager(name: str, m: BYOKManager, request_strategy: st.SearchStrategy) -> Counter:
    """Random call sequences on `m`; only byok errors may come out, and enough calls must get
    through validation to reach storage and the keyring. Returns the outcome counts."""
    outcomes: Counter = Counter()

    def check(request, calls):
        for op, *args in calls:
            try:
                call_entry_point(m, request, op, *args)
            except BYOKException as e:
                outcomes[type(e).__name__] += 1
            else:
                outcomes[op] += 1

    run(name, request_strategy, CALLS, check=check)
    print(f"fuzz {name} outcomes: {dict(outcomes)}")
    reached = sum(n for op, n in outcomes.items() if op[0].islower())
    assert reached >= CASES[name] // 10, outcomes  # not only bouncing off validation
    assert outcomes["set_key"] >= CASES[name] // 200, outcomes
    return outcomes


def test_session_manager_entry_points():
    fuzz_manager("session_manager", BYOKManager(SECRET), requests(FakeRequest()))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'fuzz.db'}"


def test_database_manager_entry_points(sqlite_url):
    m = BYOKManager(SECRET, db_url=sqlite_url)
    try:
        fuzz_manager("database_manager", m, st.none())
        assert m.database.count() > 0
    finally:
        m.database.close()


def test_hybrid_manager_entry_points(sqlite_url):
    config = BYOKConfig(storage_backend=StorageBackend.HYBRID, hybrid_cache_ttl=timedelta(0))
    m = BYOKManager(SECRET, db_url=sqlite_url, config=config)
    try:
        fuzz_manager("hybrid_manager", m, requests(FakeRequest()))
    finally:
        m.database.close()


JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def test_manager_with_garbage_in_its_session_entry():
    """Whatever another part of the app left under byok's session entry, only byok errors."""
    entry = st.one_of(
        JSONISH,
        st.fixed_dictionaries({"k": JSONISH}),
        st.fixed_dictionaries(
            {"k": st.dictionaries(st.sampled_from(["", "alice"]), JSONISH, max_size=2)}
        ),
        st.fixed_dictionaries(
            {
                "sid": JSONISH,
                "k": st.fixed_dictionaries(
                    {"": st.dictionaries(st.sampled_from(["openai", "google"]), JSONISH)}
                ),
            }
        ),
    )
    request = entry.map(lambda value: FakeRequest({"byok_keys": value}))
    fuzz_manager("session_garbage", BYOKManager(SECRET), request)


@pytest.mark.parametrize(
    "db_url",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
    indirect=True,
)
def test_server_database_manager_entry_points(db_url):
    m = BYOKManager(SECRET, db_url=db_url)
    try:
        fuzz_manager(f"{db_url.split(':', 1)[0]}_manager", m, st.none())
        assert m.database.count() > 0
    finally:
        m.database.close()
