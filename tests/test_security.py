"""byok.core.security: keyring, binding, the swap matrix, KDFs, masking, fingerprints, HTTPS."""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from byok.core.security import (
    HEADER_LEN,
    NONCE_LEN,
    TAG_LEN,
    InsecureTransportError,
    KeyEncryptor,
    Keyring,
    bind,
    check_https,
    derive_key,
    generate_encryption_key,
    get_key_fingerprint,
    get_or_create_app_key,
    is_production,
    mask_key,
    validate_environment,
)
from byok.core.types import (
    MIN_SECRET_LENGTH,
    BYOKConfig,
    EncryptionError,
    SecurityWarning,
    ValidationError,
)
from tests.support import SECRET

SECRETS = {v: f"app-secret-version-{v}-0123456789" for v in (1, 2, 3)}  # one per key version
PROVIDERS = ["openai", "anthropic", "google", "mistral", "groq"]
OWNERS = ["user:alice", "user:bob", "session:Zq3xLw9aKk1m", "session:Hh7u2PpQ0rTy"]
VERSIONS = [1, 2, 3]


def ring_at(version: int) -> Keyring:
    """The keyring of an app at `version`: current secret plus every older one as previous."""
    previous = {v: SECRETS[v] for v in VERSIONS if v < version}
    return Keyring.from_secret(SECRETS[version], version, previous)


# --------------------------------------------------------------------------- derivation


def test_derive_key_is_32_bytes_deterministic_and_separated_by_purpose_and_secret():
    a = derive_key(SECRET, "encryption:v1")
    assert len(a) == 32 and a == derive_key(SECRET, "encryption:v1")
    assert a != derive_key(SECRET, "encryption:v2")
    assert a != derive_key(SECRET, "fingerprint")
    assert a != derive_key(SECRET, "csrf")
    assert a != derive_key(SECRET + "x", "encryption:v1")
    assert derive_key(SECRET, "x") == derive_key(SECRET.encode(), "x")  # str and bytes agree


def test_encryption_key_is_neither_the_secret_nor_a_bare_hash_of_it():
    # Starlette signs the session with the raw secret: the encryption key must be another key
    key = derive_key(SECRET, "encryption:v1")
    assert SECRET.encode()[:32] != key
    assert hashlib.sha256(SECRET.encode()).digest() != key


@pytest.mark.parametrize("secret", ["", "short", "x" * (MIN_SECRET_LENGTH - 1), b"\x00" * 15])
def test_short_secrets_are_refused_with_a_clear_error(secret):
    with pytest.raises(ValidationError, match="too short"):
        Keyring.from_secret(secret)


@pytest.mark.parametrize("secret", [None, 12345, ["a" * 32], 3.5])
def test_secrets_of_the_wrong_type_are_refused(secret):
    with pytest.raises(ValidationError):
        Keyring.from_secret(secret)  # type: ignore[arg-type]


def test_secret_with_lone_surrogates_is_a_validation_error():
    with pytest.raises(ValidationError):
        Keyring.from_secret("\ud800" * 20)


def test_raw_32_byte_key_and_its_base64_form_work():
    raw = os.urandom(32)
    ring = Keyring.from_secret("", raw_key=raw)  # the secret is not needed with a raw key
    sealed = ring.seal("sk-raw", bind("user:1", "openai"))
    b64 = Keyring.from_secret("", raw_key=base64.urlsafe_b64encode(raw))
    assert b64.open(sealed, bind("user:1", "openai")) == "sk-raw"
    cfg = Keyring.from_config("ignored-secret-0123456789", BYOKConfig(encryption_key=raw))
    assert cfg.open(sealed, bind("user:1", "openai")) == "sk-raw"


@pytest.mark.parametrize("raw", [b"", b"x" * 31, b"x" * 33, b"!" * 44, 42])
def test_raw_keys_of_the_wrong_size_are_refused(raw):
    with pytest.raises(ValidationError):
        Keyring.from_secret(SECRET, raw_key=raw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- keyring


def test_seal_format_header_nonce_and_tag():
    ring = ring_at(2)
    sealed = ring.seal("sk-abc", bind("user:1", "openai"))
    assert sealed[:1] == b"B"
    assert int.from_bytes(sealed[1:3], "big") == 2 == ring.version_of(sealed)
    assert len(sealed) == HEADER_LEN + NONCE_LEN + len("sk-abc") + TAG_LEN
    assert b"sk-abc" not in sealed


def test_nonces_are_random_and_never_repeat():
    ring = ring_at(1)
    aad = bind("user:1", "openai")
    sealed = [ring.seal("sk-same", aad) for _ in range(2000)]
    nonces = {s[HEADER_LEN : HEADER_LEN + NONCE_LEN] for s in sealed}
    assert len(nonces) == 2000
    assert len(set(sealed)) == 2000
    assert {ring.open(s, aad) for s in sealed} == {"sk-same"}


def test_bind_is_length_prefixed_so_fields_cannot_shift():
    assert bind("ab", "c") != bind("a", "bc")
    assert bind("user:1", "openai") != bind("user:1o", "penai")


def test_swap_matrix_is_fully_rejected():
    """5 providers × 4 owners (2 users, 2 sessions) × 3 key versions: every moved or relabelled
    ciphertext fails with EncryptionError; every one in its own place opens."""
    reader = ring_at(3)
    rings = {v: ring_at(v) for v in VERSIONS}
    slots = list(itertools.product(OWNERS, PROVIDERS, VERSIONS))
    sealed = {(o, p, v): rings[v].seal(f"sk-{o}-{p}-v{v}", bind(o, p)) for (o, p, v) in slots}
    opened = rejected = 0
    leaked: list[tuple] = []
    for (o, p, v), value in sealed.items():
        assert reader.version_of(value) == v
        assert reader.open(value, bind(o, p)) == f"sk-{o}-{p}-v{v}"
        opened += 1
        # every other (owner, provider, version label), the version label rewritten in place
        for o2, p2, v2 in slots:
            if (o2, p2, v2) == (o, p, v):
                continue
            moved = value[:1] + v2.to_bytes(2, "big") + value[3:]
            try:
                reader.open(moved, bind(o2, p2))
            except EncryptionError:
                rejected += 1
            else:
                leaked.append(((o, p, v), (o2, p2, v2)))
        # relabelled to versions the keyring does not know
        for bad in (0, 4, 0xFFFF):
            with pytest.raises(EncryptionError):
                reader.open(value[:1] + bad.to_bytes(2, "big") + value[3:], bind(o, p))
            rejected += 1
    assert leaked == []
    assert opened == 60
    assert rejected == 60 * 59 + 60 * 3 == 3720
    print(f"\nswap matrix (keyring): {opened} opened in place, {rejected}/{rejected} rejected")


def test_every_single_bit_flip_and_truncation_is_rejected():
    ring = ring_at(1)
    aad = bind("user:1", "openai")
    sealed = ring.seal("sk-0123456789", aad)
    for i in range(len(sealed)):
        for bit in (0x01, 0x80):
            tampered = bytearray(sealed)
            tampered[i] ^= bit
            with pytest.raises(EncryptionError):
                ring.open(bytes(tampered), aad)
    for n in range(len(sealed)):
        with pytest.raises(EncryptionError):
            ring.open(sealed[:n], aad)
    with pytest.raises(EncryptionError):
        ring.open(sealed + b"\x00", aad)


def test_wrong_secret_is_rejected():
    aad = bind("user:1", "openai")
    sealed = Keyring.from_secret(SECRET).seal("sk-x", aad)
    with pytest.raises(EncryptionError, match="cannot decrypt"):
        Keyring.from_secret(SECRET + "-other").open(sealed, aad)


def test_newest_key_seals_and_older_keys_still_open():
    old = ring_at(1).seal("sk-old", bind("user:1", "openai"))
    ring = ring_at(3)
    new = ring.seal("sk-new", bind("user:1", "openai"))
    assert ring.version == 3 and ring.version_of(new) == 3
    assert ring.open(old, bind("user:1", "openai")) == "sk-old"
    assert ring.needs_rewrap(old) and not ring.needs_rewrap(new)
    rewrapped = ring.rewrap(old, bind("user:1", "openai"))
    assert ring.version_of(rewrapped) == 3
    assert ring.open(rewrapped, bind("user:1", "openai")) == "sk-old"
    with pytest.raises(EncryptionError):
        ring.rewrap(old, bind("user:2", "openai"))  # rewrap checks the binding too


def test_min_decrypt_version_retires_old_keys():
    aad = bind("user:1", "openai")
    v1 = ring_at(1).seal("sk-1", aad)
    v2 = ring_at(2).seal("sk-2", aad)
    strict = Keyring.from_secret(SECRETS[3], 3, {1: SECRETS[1], 2: SECRETS[2]}, min_version=2)
    assert strict.open(v2, aad) == "sk-2"
    with pytest.raises(EncryptionError, match="retired key version 1"):
        strict.open(v1, aad)


def test_unknown_version_is_rejected_with_its_reason():
    aad = bind("user:1", "openai")
    v3 = ring_at(3).seal("sk-3", aad)
    with pytest.raises(EncryptionError, match="unknown key version 3"):
        ring_at(2).open(v3, aad)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"version": 1, "previous": {1: SECRETS[1]}}, "both current and previous"),
        ({"version": 2, "min_version": 3}, "min_decrypt_version"),
        ({"version": 0}, "versions are integers"),
        ({"version": 70_000}, "versions are integers"),
        ({"version": 2, "previous": {1: b"short"}}, "32 raw bytes"),
        ({"version": 2, "min_version": "1"}, "min_decrypt_version"),
        ({"version": 2, "previous": [SECRETS[1]]}, "mapping"),
        ({"version": "2"}, "versions are integers"),
    ],
)
def test_bad_keyring_settings_are_refused(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        Keyring.from_secret(SECRETS[2], **kwargs)


def test_previous_keys_accept_raw_bytes():
    raw = os.urandom(32)
    old = Keyring.from_secret("", raw_key=raw)
    sealed = old.seal("sk-raw-old", b"aad")
    ring = Keyring.from_secret(SECRETS[2], 2, previous={1: raw})
    assert ring.open(sealed, b"aad") == "sk-raw-old"


def test_seal_refuses_non_text():
    ring = ring_at(1)
    for bad in (b"bytes", 5, None, "\ud800"):
        with pytest.raises(EncryptionError):
            ring.seal(bad)  # type: ignore[arg-type]


def test_non_ascii_plaintext_round_trips():
    ring = ring_at(1)
    assert ring.open(ring.seal("ключ-🔑", b"a"), b"a") == "ключ-🔑"


# --------------------------------------------------------------------------- reference API


def test_key_encryptor_round_trip_and_isolation():
    enc = KeyEncryptor()
    assert len(enc.encryption_key) == 44
    token = enc.encrypt("sk-reference")
    assert isinstance(token, bytes) and b"sk-reference" not in token
    assert enc.decrypt(token) == "sk-reference"
    with pytest.raises(EncryptionError):
        KeyEncryptor().decrypt(token)  # another random key
    bound = enc.encrypt("sk-bound", bind("user:1", "openai"))
    assert enc.decrypt(bound, bind("user:1", "openai")) == "sk-bound"
    with pytest.raises(EncryptionError):
        enc.decrypt(bound, bind("user:2", "openai"))


def test_key_encryptor_rotate_key():
    old, new_key = KeyEncryptor(), generate_encryption_key()
    rotated = old.rotate_key(new_key, old.encrypt("sk-rotate"))
    assert KeyEncryptor(new_key).decrypt(rotated) == "sk-rotate"
    with pytest.raises(EncryptionError):
        old.decrypt(rotated)


@pytest.mark.parametrize(
    "garbage", [b"", b"B", b"B\x00\x01" + b"\x00" * 28, b"gAAAAA" * 20, "text", 0, None, [1]]
)
def test_key_encryptor_decrypt_garbage_is_an_encryption_error(garbage):
    with pytest.raises(EncryptionError):
        KeyEncryptor().decrypt(garbage)


def test_generate_encryption_key_random_and_from_password():
    a, b = generate_encryption_key(), generate_encryption_key()
    assert a != b and len(base64.urlsafe_b64decode(a)) == 32
    salt = b"0123456789abcdef"
    p1 = generate_encryption_key("correct horse", salt)
    assert p1 == generate_encryption_key("correct horse", salt)  # deterministic given the salt
    assert p1 != generate_encryption_key("correct horse", b"fedcba9876543210")
    assert p1 != generate_encryption_key("wrong horse", salt)
    assert KeyEncryptor(p1).decrypt(KeyEncryptor(p1).encrypt("sk-p")) == "sk-p"


def test_get_or_create_app_key_is_deterministic_per_secret():
    k = get_or_create_app_key(SECRET)
    assert k == get_or_create_app_key(SECRET) and len(base64.urlsafe_b64decode(k)) == 32
    assert k != get_or_create_app_key(SECRET + "!")
    with pytest.raises(ValidationError):
        get_or_create_app_key("short")


# --------------------------------------------------------------------------- masking


@pytest.mark.parametrize(
    ("key", "masked"),
    [
        ("sk-proj-abcdefghijklmnopqrstuvwxyz", "sk-p...wxyz"),
        ("abcdefghijkl", "ab...kl"),
        ("abcdef", "a...f"),
        ("abcde", "********"),
        ("", "********"),
        (None, "********"),
        (12345678901234, "********"),
    ],
)
def test_mask_key_examples(key, masked):
    assert mask_key(key) == masked  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(key=st.text(min_size=1, max_size=80), visible=st.integers(-3, 40))
def test_mask_key_never_shows_more_than_a_third(key, visible):
    masked = mask_key(key, visible)
    if masked == "********":
        return
    shown = (len(masked) - 3) // 2  # masked is head + "..." + tail, both `shown` long
    head, tail = masked[:shown], masked[len(masked) - shown :]
    assert shown >= 1 and masked == f"{head}...{tail}"
    assert 2 * shown <= len(key) / 3
    assert key.startswith(head) and key.endswith(tail)


# --------------------------------------------------------------------------- fingerprints


def test_fingerprints_are_keyed_and_differ_across_secrets():
    key = "sk-fingerprint-me-0123456789"
    fa = get_key_fingerprint(key, b"secret-a" * 4)
    assert fa == get_key_fingerprint(key, b"secret-a" * 4)
    assert fa != get_key_fingerprint(key, b"secret-b" * 4)
    assert len(fa) == 16 and int(fa, 16) >= 0
    assert fa != hashlib.sha256(key.encode()).hexdigest()[:16]  # not a bare hash
    assert get_key_fingerprint(key) != hashlib.sha256(key.encode()).hexdigest()[:16]
    assert get_key_fingerprint(key) == get_key_fingerprint(key)  # stable within a process
    r1, r2 = Keyring.from_secret(SECRETS[1]), Keyring.from_secret(SECRETS[2])
    assert r1.fingerprint(key) == Keyring.from_secret(SECRETS[1]).fingerprint(key)
    assert r1.fingerprint(key) != r2.fingerprint(key)
    assert r1.fingerprint(key) != r1.fingerprint(key + "x")
    assert key not in r1.fingerprint(key)


# --------------------------------------------------------------------------- transport


def make_request(scheme="http", client="203.0.113.9", headers=None) -> Request:
    """A bare Starlette request."""
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "scheme": scheme,
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "headers": raw,
        "server": ("testserver", 443 if scheme == "https" else 80),
        "client": (client, 5000) if client else None,
    }
    return Request(scope)


def test_check_https():
    assert check_https(make_request("https"))
    assert not check_https(make_request("http"))
    spoofed = make_request("http", headers={"X-Forwarded-Proto": "https"})
    assert not check_https(spoofed)  # header from an untrusted peer is ignored
    assert not check_https(spoofed, trusted_proxies=["10.0.0.0/8"])
    proxied = make_request("http", client="10.1.2.3", headers={"X-Forwarded-Proto": "https"})
    assert check_https(proxied, trusted_proxies=["10.0.0.0/8"])
    chained = make_request("http", client="10.1.2.3", headers={"X-Forwarded-Proto": "http, https"})
    assert check_https(chained, trusted_proxies=["10.0.0.0/8"])  # the proxy's own value: last
    assert not check_https(make_request("http", client=None), trusted_proxies=["10.0.0.0/8"])
    odd = make_request("http", client="not-an-ip", headers={"X-Forwarded-Proto": "https"})
    assert not check_https(odd, trusted_proxies=["10.0.0.0/8"])


@pytest.mark.parametrize(
    ("values", "secure"),
    [
        (["https, http"], False),  # a plain-HTTP client's own "https", appended to by the proxy
        (["https,http"], False),
        (["https", "http"], False),  # the same, as two headers
        (["HTTPS , http , "], False),  # an empty last item is no value
        (["http, https"], True),
        (["http", "https"], True),
        (["https, "], True),
        ([" HTTPS "], True),
        ([""], False),
        (["https, ftp"], False),
    ],
)
def test_check_https_believes_the_value_of_the_nearest_proxy(values: list[str], secure: bool):
    request = make_request("http", client="10.1.2.3")
    request.scope["headers"] = [(b"x-forwarded-proto", v.encode()) for v in values]
    assert check_https(request, trusted_proxies=["10.0.0.0/8"]) is secure
    assert not check_https(make_request("http", headers=None), trusted_proxies=["10.0.0.0/8"])


def test_validate_environment():
    validate_environment(make_request("https"), is_production=True)  # fine
    validate_environment(make_request("http"), require_https=False, is_production=True)
    with pytest.raises(InsecureTransportError):
        validate_environment(make_request("http"), is_production=True)
    with pytest.warns(SecurityWarning, match="plain HTTP"):
        validate_environment(make_request("http"), is_production=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_environment(make_request("https"), is_production=False)  # no warning


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"BYOK_ENV": "production"}, True),
        ({"ENVIRONMENT": " Prod "}, True),
        ({"BYOK_ENV": "preproduction"}, False),  # no substring guessing
        ({"ENVIRONMENT": "development"}, False),
        ({}, False),
    ],
)
def test_is_production_reads_the_environment(monkeypatch, env, expected):
    monkeypatch.delenv("BYOK_ENV", raising=False)
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert is_production() is expected
    assert is_production(True) is True and is_production(False) is False
