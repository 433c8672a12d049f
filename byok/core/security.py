"""Every cryptographic operation of byok: the versioned AES-256-GCM keyring, key derivation and
fingerprints. Nothing else in byok touches `cryptography`. (The transport checks, `check_https`
and friends, live in `byok.core.transport`, and `mask_key` in `byok.core.masking`: both are
re-exported here, where the reference had them.)

Sealed format (bytes): ``b"B"`` | key version (2 bytes, big-endian) | 96-bit random nonce |
AES-256-GCM ciphertext + 16-byte tag. The 3-byte header and the caller's associated data
(owner and provider, see `bind`) are authenticated, so a value moved to another user, another
provider or relabelled with another version fails to open.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from .masking import mask_key
from .transport import InsecureTransportError, check_https, is_production, validate_environment
from .types import MIN_SECRET_LENGTH, BYOKConfig, EncryptionError, ValidationError

__all__ = [
    "InsecureTransportError",
    "KeyEncryptor",
    "Keyring",
    "bind",
    "check_https",
    "derive_key",
    "generate_encryption_key",
    "get_key_fingerprint",
    "get_or_create_app_key",
    "is_production",
    "mask_key",
    "random_token",
    "tokens_equal",
    "validate_environment",
    "version_of",
]

MAGIC = b"B"  # first byte of every sealed value
HEADER_LEN = 3  # magic + 2-byte version
NONCE_LEN = 12  # 96-bit GCM nonce
TAG_LEN = 16  # GCM tag
MAX_VERSION = 0xFFFF  # versions fit in two bytes
_BODY = HEADER_LEN + NONCE_LEN  # where the ciphertext starts
_MIN_SEALED = HEADER_LEN + NONCE_LEN + TAG_LEN  # the shortest sealed value (empty plaintext)
PBKDF2_ITERATIONS = 600_000  # OWASP 2023 figure for PBKDF2-HMAC-SHA256 (passwords only)


def _secret_bytes(
    secret: str | bytes,  # an app secret (str or bytes)
    min_length: int = MIN_SECRET_LENGTH,  # shortest accepted, in bytes
) -> bytes:
    """The secret as bytes, refused when it is too short to be a key."""
    if isinstance(secret, str):
        try:
            secret = secret.encode()
        except UnicodeEncodeError:
            raise ValidationError("secret is not valid unicode (lone surrogates)") from None
    if not isinstance(secret, bytes | bytearray):
        raise ValidationError(f"secret must be str or bytes, not {type(secret).__name__}")
    if len(secret) < max(min_length, 1):
        raise ValidationError(
            f"secret is too short ({len(secret)} bytes); use at least {MIN_SECRET_LENGTH} random "
            "bytes, e.g. secrets.token_urlsafe(32)"
        )
    return bytes(secret)


def derive_key(
    secret: str | bytes,  # high-entropy input keying material (the app secret)
    purpose: str,  # label that separates uses, e.g. "encryption:v1", "csrf", "fingerprint"
    *,
    min_length: int = MIN_SECRET_LENGTH,  # shortest secret accepted, in bytes (never below 1)
) -> bytes:
    """A 32-byte key for one purpose, by HKDF-SHA256 (fast; the secret must be high-entropy)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"byok/hkdf/v1", info=purpose.encode())
    return hkdf.derive(_secret_bytes(secret, min_length))


def _as_raw_key(
    key: bytes,  # 32 raw bytes, or a Fernet-style urlsafe-base64 text of them (44 bytes)
) -> bytes:
    """Accept a raw 32-byte key or its urlsafe-base64 form (what the reference generated)."""
    if isinstance(key, str):
        try:
            key = key.encode()
        except UnicodeEncodeError:
            raise ValidationError("encryption key is not valid unicode") from None
    if not isinstance(key, bytes | bytearray):
        raise ValidationError(f"encryption key must be bytes, not {type(key).__name__}")
    if len(key) == 32:
        return bytes(key)
    if len(key) == 44:
        try:
            raw = base64.urlsafe_b64decode(bytes(key))
        except ValueError:
            raw = b""
        if len(raw) == 32:
            return raw
    raise ValidationError("encryption key must be 32 raw bytes (or their urlsafe base64 form)")


@functools.lru_cache(maxsize=4096)  # a few owners and providers are hot: skip re-encoding them
def bind(
    owner: str,  # who the value belongs to, e.g. "user:42" or "session:<sid>"
    provider: str,  # which provider's key it is
    endpoint: bytes = b"",  # the key's custom endpoint (Endpoint.encode()); b"" = none
) -> bytes:
    """Associated data binding a ciphertext to its owner, provider and endpoint (length-prefixed;
    without an endpoint it is exactly what byok wrote before endpoints existed)."""
    aad = _BOUND.get((owner, provider))
    if aad is None:
        o, p = owner.encode(), provider.encode()
        aad = len(o).to_bytes(2, "big") + o + len(p).to_bytes(2, "big") + p
        if len(_BOUND) >= _MAX_BOUND:
            _BOUND.clear()
        _BOUND[owner, provider] = aad
    return aad + len(endpoint).to_bytes(4, "big") + endpoint if endpoint else aad


_BOUND: dict[tuple[str, str], bytes] = {}  # (owner, provider) -> their associated data
_MAX_BOUND = 4096  # past this many pairs, the memo starts over


def version_of(
    sealed: Any,  # a sealed value
) -> int:
    """The key version recorded in a sealed value (EncryptionError when it is not one): the one
    place outside `Keyring` that reads the sealed format."""
    if not isinstance(sealed, bytes | bytearray | memoryview):
        raise EncryptionError(f"sealed value must be bytes, not {type(sealed).__name__}")
    if len(sealed) < _MIN_SEALED or sealed[:1] != MAGIC:
        raise EncryptionError("not a byok sealed value")
    return int.from_bytes(sealed[1:HEADER_LEN], "big")


class Keyring:
    """Versioned AES-256-GCM keys: the newest seals, every version at or above the minimum opens."""

    def __init__(
        self,
        keys: Mapping[int, bytes],  # version -> 32-byte AES key
        fingerprint_key: bytes,  # HMAC key for fingerprints
        min_version: int = 1,  # ciphertexts of older versions are refused
    ):
        if not keys:
            raise ValidationError("a keyring needs at least one key")
        for v, k in keys.items():
            if not isinstance(v, int) or not 1 <= v <= MAX_VERSION:
                raise ValidationError(f"key versions are integers 1..{MAX_VERSION}, got {v!r}")
            if len(k) != 32:
                raise ValidationError(f"key version {v} is not 32 bytes")
        self.version = max(keys)  # version used for new seals
        if not isinstance(min_version, int) or not 1 <= min_version <= self.version:
            raise ValidationError(f"min_decrypt_version must be 1..{self.version}")
        self.min_version = min_version
        self._aeads = {v: AESGCM(k) for v, k in keys.items() if v >= min_version}
        self._header = MAGIC + self.version.to_bytes(2, "big")
        self._current = self._aeads[self.version]
        self._fp_key = fingerprint_key

    @classmethod
    def from_secret(
        cls,
        secret: str | bytes,  # the current app secret
        version: int = 1,  # its version number
        previous: Mapping[int, str | bytes]
        | None = None,  # older versions: secret, or raw 32-byte key
        min_version: int = 1,  # oldest version still allowed to decrypt
        raw_key: bytes | None = None,  # a raw 32-byte key used instead of deriving one
    ) -> Keyring:
        """Build a keyring from the app secret by HKDF (one label per purpose and version)."""
        if previous is not None and not isinstance(previous, Mapping):
            raise ValidationError("previous keys must be a mapping {version: secret or raw key}")
        keys = {v: _previous_key(s, v) for v, s in (previous or {}).items()}
        if version in keys:
            raise ValidationError(f"key version {version} is both current and previous")
        keys[version] = (
            _as_raw_key(raw_key) if raw_key is not None else _version_key(secret, version)
        )
        fp_source = secret if raw_key is None else keys[version]
        return cls(keys, derive_key(fp_source, "fingerprint"), min_version)

    @classmethod
    def from_config(
        cls,
        secret_key: str | bytes,  # the app secret
        config: BYOKConfig,  # reads encryption_key, key_version, previous_keys, min_decrypt_version
    ) -> Keyring:
        """The keyring a BYOKConfig describes."""
        return cls.from_secret(
            secret_key,
            version=config.key_version,
            previous=config.previous_keys,
            min_version=config.min_decrypt_version,
            raw_key=config.encryption_key,
        )

    def seal(
        self,
        plaintext: str,  # the secret to protect
        aad: bytes = b"",  # associated data, see `bind`
    ) -> bytes:
        """Encrypt under the newest key with a fresh random nonce."""
        if not isinstance(plaintext, str):
            raise EncryptionError(f"can only seal str, not {type(plaintext).__name__}")
        try:
            data = plaintext.encode()
        except UnicodeEncodeError:
            raise EncryptionError("plaintext is not valid unicode") from None
        nonce = os.urandom(NONCE_LEN)
        ct = self._current.encrypt(nonce, data, self._header + aad)
        return self._header + nonce + ct

    def version_of(
        self,
        sealed: Any,  # a sealed value
    ) -> int:
        """The key version recorded in a sealed value."""
        return version_of(sealed)

    def open(
        self,
        sealed: Any,  # a value made by `seal`
        aad: bytes = b"",  # the same associated data it was sealed with
    ) -> str:
        """Decrypt and authenticate; any failure is an EncryptionError that reveals nothing."""
        header = self._header
        if (
            sealed.__class__ is bytes
            and sealed[:HEADER_LEN] == header
            and len(sealed) >= _MIN_SEALED
        ):
            aead = self._current  # the common case: sealed with the newest key
        else:
            version = version_of(sealed)
            aead = self._aeads.get(version)
            if aead is None:
                why = "retired" if version < self.min_version else "unknown"
                raise EncryptionError(f"sealed with {why} key version {version}")
            sealed = bytes(sealed)
            header = sealed[:HEADER_LEN]
        try:
            # the nonce, then the ciphertext and its tag
            return aead.decrypt(sealed[HEADER_LEN:_BODY], sealed[_BODY:], header + aad).decode()
        except (InvalidTag, ValueError, TypeError, UnicodeDecodeError):
            raise EncryptionError(
                "cannot decrypt: wrong key, owner or provider, or corrupted data"
            ) from None

    def needs_rewrap(
        self,
        sealed: bytes,  # a sealed value
    ) -> bool:
        """True when the value was sealed with another key version than the newest."""
        return sealed[:HEADER_LEN] != self._header

    def rewrap(
        self,
        sealed: bytes,  # a value sealed with any live version
        aad: bytes = b"",  # its associated data
    ) -> bytes:
        """Re-encrypt under the newest key (the plaintext never leaves this call)."""
        return self.seal(self.open(sealed, aad), aad)

    def fingerprint(
        self,
        key: str,  # an API key
    ) -> str:
        """A keyed (HMAC-SHA256) fingerprint, 16 hex chars: correlates logs, reveals nothing."""
        return get_key_fingerprint(key, self._fp_key)


def _version_key(
    secret: str | bytes,  # app secret of this version
    version: int,  # version number (part of the HKDF label)
) -> bytes:
    """The AES key of one version of the app secret."""
    return derive_key(secret, f"encryption:v{version}")


def _previous_key(
    value: str | bytes,  # an older secret (str) or raw key (32 bytes / urlsafe base64)
    version: int,  # its version
) -> bytes:
    """An older version's AES key: str is a secret to derive from, bytes a raw key."""
    return _version_key(value, version) if isinstance(value, str) else _as_raw_key(value)


# --- reference API (cjm-fasthtml-byok names) -------------------------------------------------


def generate_encryption_key(
    password: str | None = None,  # a human password to derive from (slow KDF); None = random key
    salt: bytes | None = None,  # salt for the password (random 16 bytes when omitted)
) -> bytes:
    """A new random key, or one derived from a password with PBKDF2-SHA256 (urlsafe base64, 44 bytes)."""
    if not password:
        return base64.urlsafe_b64encode(os.urandom(32))
    kdf = PBKDF2HMAC(
        algorithm=hashes.SHA256(),
        length=32,
        salt=salt or os.urandom(16),
        iterations=PBKDF2_ITERATIONS,
    )
    return base64.urlsafe_b64encode(kdf.derive(password.encode()))


def get_or_create_app_key(
    secret_key: str | bytes,  # the application's secret key
) -> bytes:
    """The app's encryption key, derived from its secret by HKDF (urlsafe base64, 44 bytes)."""
    return base64.urlsafe_b64encode(_version_key(secret_key, 1))


class KeyEncryptor:
    """Encrypts and decrypts API keys (reference API, on AES-256-GCM)."""

    def __init__(
        self,
        encryption_key: bytes | None = None,  # 32 raw bytes or urlsafe base64; None = random
    ):
        self.encryption_key = encryption_key or generate_encryption_key()
        raw = _as_raw_key(self.encryption_key)
        self._ring = Keyring({1: raw}, derive_key(raw, "fingerprint"))

    def encrypt(
        self,
        value: str,  # plaintext API key
        aad: bytes = b"",  # optional associated data, see `bind`
    ) -> bytes:
        """Encrypt a value."""
        return self._ring.seal(value, aad)

    def decrypt(
        self,
        encrypted_value: bytes,  # a value from `encrypt`
        aad: bytes = b"",  # the associated data it was encrypted with
    ) -> str:
        """Decrypt a value; EncryptionError on anything wrong."""
        return self._ring.open(encrypted_value, aad)

    def rotate_key(
        self,
        new_key: bytes,  # the key to re-encrypt under
        encrypted_value: bytes,  # a value encrypted with this encryptor's key
    ) -> bytes:
        """Re-encrypt a value under `new_key`."""
        return KeyEncryptor(new_key).encrypt(self.decrypt(encrypted_value))


def random_token(
    nbytes: int = 32,  # bytes of randomness (the text is about 4/3 as long)
) -> str:
    """A URL-safe random token from the OS CSPRNG (session ids, CSRF tokens)."""
    return secrets.token_urlsafe(nbytes)


def tokens_equal(
    sent: str,  # the token a client sent
    expected: str,  # the token we kept
) -> bool:
    """Constant-time comparison of two ASCII tokens (False for non-ASCII input)."""
    if not (sent.isascii() and expected.isascii()):
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


_PROCESS_FP_KEY = secrets.token_bytes(32)  # fingerprints without a secret: stable per process


def get_key_fingerprint(
    key: str,  # the API key
    secret: bytes | None = None,  # HMAC key; None = a random per-process key
) -> str:
    """A keyed HMAC-SHA256 fingerprint of a key (16 hex chars) for logs, never a bare hash; the
    one fingerprint function (`Keyring.fingerprint` is it with the app's derived key)."""
    mac_key = _PROCESS_FP_KEY if secret is None else secret
    return hmac.new(mac_key, str(key).encode(errors="replace"), hashlib.sha256).hexdigest()[:16]
