"""The issued key's format, parsed in one place, and how a key is hashed for storage.

Format: ``{prefix}_{environment}_{body}`` (``{prefix}_{body}`` without an environment), where
prefix and environment match ``[a-z0-9]{1,16}`` and the body is 49 base62 characters: 43 that
encode 256 random bits, then 6 that encode the CRC32 of everything before them (GitHub's token
scheme). A mistyped key fails its checksum here, in O(1), before any database query; a secret
scanner finds leaked keys with `ISSUED_KEY_PATTERN` alone.

At rest a key is only an HMAC-SHA256 under a pepper derived by HKDF from the signing secret.
Peppers are versioned: the current one hashes, older ones (from `previous_signing_secrets`)
still verify; when a row moves to another pepper is the engine's decision (see rollout.py).

Keys imported from apikeys-platform keep their own shape (``{prefix}_[{env}_]{43 base64url}``,
no checksum) and their hash: HMAC-SHA256 under the raw signing secret, the "apikeys" scheme,
which `Peppers` also computes so that those keys verify until they are rehashed.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core.security import derive_key
from ..core.types import MIN_SECRET_LENGTH, SecurityWarning, ValidationError
from .errors import InvalidInputError, InvalidKeyError

__all__ = [
    "ISSUED_KEY_PATTERN",
    "ISSUED_KEY_REGEX",
    "LEGACY_SCHEME",
    "KeyFormat",
    "Peppers",
    "is_legacy_key",
    "looks_like_issued_key",
]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # base62 digits
RANDOM_CHARS = 43  # base62 digits of 256 random bits (62**43 > 2**256)
CHECK_CHARS = 6  # base62 digits of a CRC32 (62**6 > 2**32)
BODY_CHARS = RANDOM_CHARS + CHECK_CHARS
SHOWN_CHARS = 8  # body characters kept in clear as `key_prefix` (to tell keys apart in lists)
LABEL = re.compile(r"[a-z0-9]{1,16}")  # a valid prefix or environment (fullmatch)
ISSUED_KEY_REGEX = r"\b[a-z0-9]{1,16}(?:_[a-z0-9]{1,16})?_[0-9A-Za-z]{49}\b"  # for scanners
ISSUED_KEY_PATTERN = re.compile(ISSUED_KEY_REGEX)
_MAX_CANDIDATE = 16 + 1 + 16 + 1 + BODY_CHARS  # longest text that can be an issued key
LEGACY_SCHEME = "apikeys"  # `pepper` of a row imported from apikeys-platform (raw-secret HMAC)
LEGACY_TOKEN_CHARS = 43  # apikeys-platform's body: base64url of 32 random bytes, unpadded
_LEGACY_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}_[A-Za-z0-9_-]{43}")  # its keys (fullmatch)


def _base62(
    number: int,  # a non-negative integer
    width: int,  # digits to produce (left-padded with '0')
) -> str:
    """`number` in base62, exactly `width` digits."""
    digits = []
    for _ in range(width):
        number, r = divmod(number, 62)
        digits.append(ALPHABET[r])
    return "".join(reversed(digits))


_PAIRS = [a + b for a in ALPHABET for b in ALPHABET]  # base62 digit pairs, 62**2 of them


def _checksum(
    head: str,  # the key up to its checksum (ASCII)
) -> str:
    """The 6-character base62 CRC32 of `head` (three digit pairs: the hot path of a typo)."""
    high, low = divmod(zlib.crc32(head.encode("ascii")), 3844)
    top, mid = divmod(high, 3844)
    return _PAIRS[top] + _PAIRS[mid] + _PAIRS[low]


def looks_like_issued_key(
    text: Any,  # any value, e.g. a string found in a log or a repository
) -> bool:
    """True when `text` is shaped like a key issued by byok with a valid checksum (any prefix);
    no database, no secret needed."""
    if not isinstance(text, str) or not 0 < len(text) <= _MAX_CANDIDATE:
        return False
    if not ISSUED_KEY_PATTERN.fullmatch(text):
        return False
    return _checksum(text[:-CHECK_CHARS]) == text[-CHECK_CHARS:]


def _label(
    value: Any,  # a prefix or environment
    what: str,  # which one, for the message
    *,
    optional: bool,  # whether "" is allowed (environment)
) -> str:
    """The label, or InvalidInputError when it is not 1-16 of [a-z0-9]."""
    if optional and value == "":
        return ""
    if not isinstance(value, str) or not LABEL.fullmatch(value):
        raise InvalidInputError(
            f"invalid key {what} {value!r}: use 1-16 lowercase letters or digits"
            if isinstance(value, str) and len(value) <= 64
            else f"invalid key {what}: use 1-16 lowercase letters or digits"
        )
    return value


@dataclass(frozen=True)
class KeyFormat:
    """One issuer's key shape: its prefix and environment, a generator and a parser."""

    prefix: str = "sk"  # first segment, e.g. "sk" or your app's name
    environment: str = ""  # optional second segment, e.g. "live" or "test"

    def __post_init__(self) -> None:
        _label(self.prefix, "prefix", optional=False)
        _label(self.environment, "environment", optional=True)

    @functools.cached_property  # bench "validate_key …": parse reads it on every call
    def head(self) -> str:
        """Everything before the body, e.g. 'sk_live_'."""
        return f"{self.prefix}_{self.environment}_" if self.environment else f"{self.prefix}_"

    @functools.cached_property
    def length(self) -> int:
        """The exact length of every key of this format."""
        return len(self.head) + BODY_CHARS

    @property
    def pattern(self) -> re.Pattern[str]:
        """A regex matching this issuer's keys (for scanners and log filters)."""
        return re.compile(rf"\b{re.escape(self.head)}[0-9A-Za-z]{{{BODY_CHARS}}}\b")

    def generate(self) -> str:
        """A new key: 256 random bits from the OS CSPRNG and the checksum."""
        head = self.head + _base62(secrets.randbits(256), RANDOM_CHARS)
        return head + _checksum(head)

    def parse(
        self,
        text: Any,  # what a client sent
    ) -> str:
        """The key when it is well-formed for this issuer (or shaped like a key imported from
        apikeys-platform), else InvalidKeyError, in O(1)."""
        if type(text) is not str:
            raise InvalidKeyError("Malformed key format")
        if len(text) != self.length:
            if is_legacy_key(text):
                return text
            raise InvalidKeyError("Malformed key format")
        head = self.head
        body = text[len(head) :]
        if not text.startswith(head) or not body.isascii() or not body.isalnum():
            raise InvalidKeyError("Malformed key format")
        if _checksum(text[:-CHECK_CHARS]) != text[-CHECK_CHARS:]:
            raise InvalidKeyError("Malformed key format (checksum mismatch: mistyped?)")
        return text

    def shown(
        self,
        key: str,  # a parsed key
    ) -> str:
        """The part kept in clear (`APIKey.key_prefix`): the body's first characters."""
        return key[len(self.head) : len(self.head) + SHOWN_CHARS]


def is_legacy_key(
    text: str,  # a candidate key
) -> bool:
    """True when `text` has apikeys-platform's shape: a head, '_', 43 base64url characters (an
    issued key never does: its last 44 characters are base62)."""
    return len(text) <= 64 + 1 + LEGACY_TOKEN_CHARS and bool(_LEGACY_SHAPE.fullmatch(text))


class Peppers:
    """HMAC keys for hashing issued keys: the current signing secret's first, older ones after.

    Each pepper has a short id (stored with the hash) so the engine knows which one made it.
    """

    def __init__(
        self,
        signing_secret: str | bytes,  # the current signing secret
        previous: Sequence[str | bytes] = (),  # older signing secrets, still accepted
    ):
        if isinstance(previous, str | bytes) or not isinstance(previous, Sequence):
            raise InvalidInputError("previous_signing_secrets must be a list of secrets")
        self._keys = [self._derive(s) for s in (signing_secret, *previous)]
        self._raw = [
            s.encode() if isinstance(s, str) else bytes(s) for s in (signing_secret, *previous)
        ]
        self.ids = [
            hmac.new(k, b"byok/issuing/pepper-id", hashlib.sha256).hexdigest()[:12]
            for k in self._keys
        ]
        if len(set(self.ids)) != len(self.ids):
            raise InvalidInputError("a previous signing secret repeats another one")
        self.current = self.ids[0]  # id of the pepper new hashes use
        # bench "HTTP wrk, PostgreSQL, read-only validate_key": each pepper's HMAC-SHA256 keyed
        # once; a hash copies its state (the key's pads are not hashed again per call)
        self._keyed = [hmac.new(k, digestmod=hashlib.sha256) for k in self._keys]

    @staticmethod
    def _derive(secret: Any) -> bytes:
        if not secret:
            raise InvalidInputError("signing_secret is required and must not be empty")
        try:
            size = len(secret.encode() if isinstance(secret, str) else secret)
            pepper = derive_key(secret, "issuing:pepper", min_length=1)
        except (ValidationError, AttributeError, TypeError, UnicodeEncodeError):
            raise InvalidInputError("signing_secret must be a non-empty str or bytes") from None
        if size < MIN_SECRET_LENGTH:
            warnings.warn(
                f"signing_secret is {size} bytes; use at least {MIN_SECRET_LENGTH} random bytes, "
                "e.g. secrets.token_hex(32)",
                SecurityWarning,
                stacklevel=4,
            )
        return pepper

    def hash(
        self,
        key: str,  # a parsed key (ASCII)
        pepper: int = 0,  # index of the pepper: 0 = current
    ) -> str:
        """The key's HMAC-SHA256 under one pepper, as hex."""
        # bench "validate_key defaults ≤ 4× HMAC + write": the pepper's keyed state copied
        # (0.6 µs less than hmac.digest, which keys it afresh), the same HMAC-SHA256
        mac = self._keyed[pepper].copy()
        mac.update(key.encode("ascii"))
        return mac.hexdigest()

    def legacy_hashes(
        self,
        key: str,  # a key of apikeys-platform's shape
    ) -> list[str]:
        """Its apikeys-platform hash (HMAC-SHA256 under the raw secret) under every secret."""
        return [hmac.new(k, key.encode("ascii"), hashlib.sha256).hexdigest() for k in self._raw]

    def candidates(
        self,
        key: str,  # a parsed key
    ) -> dict[str, list[str]]:
        """Scheme id -> the hashes a row made by that scheme may hold for this key: every pepper,
        and for a key of apikeys-platform's shape the legacy scheme too."""
        found = {pid: [self.hash(key, i)] for i, pid in enumerate(self.ids)}
        if is_legacy_key(key):
            found[LEGACY_SCHEME] = self.legacy_hashes(key)
        return found

    def rank(
        self,
        scheme: str,  # a row's `pepper`
    ) -> int:
        """How old a scheme is for this issuer: 0 = current, then older peppers, then the legacy
        scheme; len(ids) + 1 for one it does not know."""
        if scheme in self.ids:
            return self.ids.index(scheme)
        return len(self.ids) if scheme == LEGACY_SCHEME else len(self.ids) + 1

    @staticmethod
    def equal(
        a: str,  # a stored hash
        b: str,  # a computed hash
    ) -> bool:
        """Constant-time comparison of two hex hashes."""
        return hmac.compare_digest(a.encode("ascii", "replace"), b.encode("ascii", "replace"))
