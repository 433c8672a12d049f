"""Issue 22, defect 5: every number, datetime and duration a caller gives is bounded to what the
columns hold everywhere (byok.core.bounds: integers up to 2**31 - 1, the INTEGER of PostgreSQL
and INT of MySQL; datetimes 1000-01-01 to 9999-12-31 23:59:59 UTC; durations that end by then)
and refused as InvalidInputError / ValidationError / a CLI usage error, never an OverflowError
nor a database error, on SQLite and PostgreSQL alike. The largest values allowed round-trip."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from byok.cli import main
from byok.core.bounds import EARLIEST, LATEST, MAX_INT
from byok.core.ratelimit import MemoryRateLimit
from byok.core.storage import BYOKManager
from byok.core.types import ValidationError
from byok.core.validation import expiry
from byok.issuing import (
    InvalidInputError,
    KeyIssuer,
    KeyMetadata,
    RateLimit,
    Refill,
    looks_like_issued_key,
)
from byok.outbound import OutboundPolicy
from byok.verify import KeyVerifier, Outcome
from tests.support import CLOCK_START, SECRET, Clock

NOW = CLOCK_START


@pytest.fixture
def issuer(db_url: str, clock: Clock) -> Iterator[KeyIssuer]:
    iss = KeyIssuer(db_url, signing_secret=SECRET, clock=clock, cache_ttl=0)
    yield iss
    iss.close()


def _keys(issuer: KeyIssuer, org: str) -> int:
    return len(issuer.list_org_keys(org))


# --------------------------------------------------------------------------- the reported values


def test_an_expiry_past_year_9999_in_utc_is_invalid_input() -> None:
    late = datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5)))  # 10000-01-01 UTC
    with pytest.raises(InvalidInputError, match="9999-12-31"):
        KeyMetadata(expires_at=late)
    early = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))  # before year 1 in UTC
    with pytest.raises(InvalidInputError):
        KeyMetadata(expires_at=early)
    with pytest.raises(InvalidInputError):
        KeyMetadata(expires_at=LATEST + timedelta(microseconds=1))
    with pytest.raises(InvalidInputError):
        KeyMetadata(expires_at=EARLIEST - timedelta(microseconds=1))


@pytest.mark.parametrize(
    "value", [MAX_INT + 1, 2**63, 2**64, 10**100, pytest.param(10**5000, id="10**5000")]
)
def test_huge_credits_rate_limits_and_refills_are_invalid_input(
    issuer: KeyIssuer, value: int
) -> None:
    """Refused when built: none is stored (a Refill(2**64) used to be accepted, and the guard
    answered 500 once it came due)."""
    org = issuer.create_organization("Acme").id
    for make in (
        lambda: KeyMetadata(remaining=value),
        lambda: Refill(value),
        lambda: RateLimit(value),
    ):
        with pytest.raises(InvalidInputError, match="2,147,483,647"):
            make()
    assert _keys(issuer, org) == 0


def test_the_largest_values_are_stored_and_a_huge_refill_comes_due(
    issuer: KeyIssuer, clock: Clock
) -> None:
    """MAX_INT credits, a MAX_INT refill and an expiry at LATEST round-trip and validate."""
    org = issuer.create_organization("Acme").id
    meta = KeyMetadata(
        remaining=0, refill=Refill(MAX_INT), rate_limit=RateLimit(MAX_INT), expires_at=LATEST
    )
    made = issuer.create_key(org, metadata=meta)
    clock.now += timedelta(days=1)  # the refill comes due: MAX_INT credits, one spent
    assert issuer.validate_key(made.plaintext).metadata.remaining == MAX_INT - 1
    full = issuer.create_key(org, metadata=KeyMetadata(remaining=MAX_INT))
    assert issuer.validate_key(full.plaintext).metadata.remaining == MAX_INT - 1
    assert issuer.get_key(made.key.id).metadata.expires_at == LATEST


def test_a_key_stored_before_the_bounds_still_works(tmp_path: Path, clock: Clock) -> None:
    """SQLite kept 64-bit counts, and JSON any number: such a row (written by an earlier byok)
    reads with its numbers held to the bounds, and validates, instead of failing its checks."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    issuer = KeyIssuer(url, signing_secret=SECRET, clock=clock, cache_ttl=0)
    org = issuer.create_organization("Acme").id
    made = issuer.create_key(org, metadata=KeyMetadata(remaining=5, refill=Refill(5)))
    old = (
        '{"name":null,"scopes":[],"rate_limit":[1000000000000,"minute"],"expires_at":'
        '"9999-12-31T23:59:59.500000+00:00","custom":{},"refill":[18446744073709551616,"daily"]}'
    )
    k = issuer.tables.keys.table
    with issuer._guard("test"):  # as an earlier byok wrote it
        issuer.tables.execute(
            k.update().where(k.c.id == made.key.id).values(metadata=old, remaining=5_000_000_000)
        )
    key = issuer.validate_key(made.plaintext)
    assert key.metadata.remaining == MAX_INT and key.metadata.rate_limit.requests == MAX_INT
    assert key.metadata.refill.amount == MAX_INT and key.metadata.expires_at == LATEST
    clock.now += timedelta(days=1)  # the refill comes due: MAX_INT credits, one spent
    assert issuer.validate_key(made.plaintext).metadata.remaining == MAX_INT - 1
    issuer.close()


def test_a_grace_past_year_9999_is_invalid_input_and_nothing_changes(issuer: KeyIssuer) -> None:
    org = issuer.create_organization("Acme").id
    made = issuer.create_key(org)
    for grace in (timedelta.max, LATEST - NOW + timedelta(seconds=1)):
        with pytest.raises(InvalidInputError, match="grace"):
            issuer.roll_key(made.key.id, grace=grace)
    assert _keys(issuer, org) == 1
    assert issuer.validate_key(made.plaintext).metadata.expires_at is None
    rolled = issuer.roll_key(made.key.id, grace=LATEST - NOW)  # the longest grace allowed
    assert issuer.get_key(made.key.id).metadata.expires_at == LATEST
    assert looks_like_issued_key(rolled.plaintext)


def test_prune_usage_keeping_more_days_than_exist_keeps_everything(issuer: KeyIssuer) -> None:
    assert issuer.prune_usage(keep_days=10**9) == 0  # more days than timedelta holds
    with pytest.raises(InvalidInputError):
        issuer.prune_usage(keep_days=2**64)


# --------------------------------------------------------------------------- other entry points


def test_a_stored_keys_ttl_past_year_9999_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="9999"):
        expiry(NOW, timedelta(days=3_000_000), None)
    with pytest.raises(ValidationError, match="9999"):
        expiry(NOW, None, LATEST - NOW + timedelta(seconds=1))
    assert expiry(NOW, LATEST - NOW, None) == LATEST


@pytest.mark.parametrize("timeout", [float("inf"), 1e300, float("nan"), 0.0, -1.0])
def test_outbound_deadlines_are_finite(timeout: float) -> None:
    """An infinite or huge timeout was accepted, then every request died in an OverflowError
    (time_t) before reaching its answer."""
    with pytest.raises(ValueError, match="timeout"):
        OutboundPolicy(timeout=timeout)


def test_outbound_answer_caps_fit_a_read() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        OutboundPolicy(max_bytes=2**70)
    assert OutboundPolicy(max_bytes=MAX_INT).max_bytes == MAX_INT


class _SlowDown(BaseHTTPRequestHandler):
    """A provider answering 429 with the Retry-After the test's key names (its hex)."""

    def do_GET(self) -> None:
        wanted = bytes.fromhex(self.headers["Authorization"].removeprefix("Bearer sk-"))
        self.send_response(429)
        self.send_header("Retry-After", wanted.decode())
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def slow_down() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowDown)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("header", "seconds"), [("7", 7), ("²", None), ("9" * 5000, None), ("99999", None)]
)
def test_a_providers_retry_after_is_read_only_when_it_is_a_small_number(
    slow_down: str, header: str, seconds: int | None
) -> None:
    """A remote party's number: a superscript digit or 5,000 digits used to raise ValueError
    out of the check (int() of what str.isdigit accepted)."""
    outbound = OutboundPolicy(allow_networks=["127.0.0.1/32"], timeout=5)
    verifier = KeyVerifier({"openai": {"api_base": slow_down}}, outbound=outbound)
    result = verifier.check("openai", "sk-" + header.encode().hex())
    assert result.outcome is Outcome.RATE_LIMITED and result.retry_after == seconds


@pytest.mark.parametrize(
    ("limit", "window"),
    [(MAX_INT + 1, 60), (10, float("nan")), (10, float("inf")), (10, 1e-300), (10, 2.0**40)],
)
def test_key_test_rate_limits_are_bounded(limit: int, window: float) -> None:
    """The key-test limit's window index is stored (now // window): a NaN window used to be a
    ValueError on the first hit, a tiny one an integer too large for its column."""
    with pytest.raises(ValidationError):
        MemoryRateLimit(limit, window)


OFFSETS = st.builds(  # every offset a datetime may carry
    timezone,
    st.timedeltas(
        min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
    ),
)


@pytest.fixture
def sqlite_issuer(tmp_path: Path) -> Iterator[KeyIssuer]:
    iss = KeyIssuer(f"sqlite:///{tmp_path / 'h.db'}", signing_secret=SECRET)
    yield iss
    iss.close()


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    remaining=st.integers() | st.integers(MAX_INT - 2, MAX_INT + 2),
    amount=st.integers() | st.integers(MAX_INT - 2, MAX_INT + 2),
    requests=st.integers(),
    when=st.datetimes(timezones=OFFSETS) | st.sampled_from([LATEST, EARLIEST]),
)
def test_any_numbers_are_stored_or_invalid_input_never_an_overflow(
    sqlite_issuer: KeyIssuer, remaining: int, amount: int, requests: int, when: datetime
) -> None:
    """Whatever the integers and the datetime (any year, any offset): KeyMetadata is built and
    stored and validates, or it is an InvalidInputError."""
    try:
        meta = KeyMetadata(
            remaining=remaining,
            refill=Refill(amount),
            rate_limit=RateLimit(requests),
            expires_at=when,
        )
    except InvalidInputError:
        return
    assert 0 <= meta.remaining <= MAX_INT and EARLIEST <= meta.expires_at <= LATEST
    org = sqlite_issuer.get_or_create_organization("Acme")[0].id
    made = sqlite_issuer.create_key(org, metadata=meta)
    assert sqlite_issuer.get_key(made.key.id).metadata == meta


# --------------------------------------------------------------------------- the CLI


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BYOK_SIGNING_SECRET", SECRET)
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    KeyIssuer(url, signing_secret=SECRET).close()
    return url


@pytest.mark.parametrize(
    "extra",
    [
        ["--expires-in", "99999999999d"],
        ["--expires-in", "3000000d"],
        ["--expires-in", "9" * 5000 + "s"],
        ["--remaining", str(2**64)],
        ["--remaining", str(MAX_INT + 1)],
        ["--remaining", "-1"],
        ["--rate-limit", f"{2**63}/minute"],
    ],
)
def test_cli_out_of_range_values_are_usage_errors(
    cli_db: str, capsys: Any, extra: list[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["keys", "create", "--db", cli_db, "--org", "Acme", "--create-missing", *extra])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and "Traceback" not in err


class _Request:
    """What set_key needs of a request for database storage: nothing but a session."""

    def __init__(self) -> None:
        self.scope: dict[str, Any] = {"session": {}}
        self.session = self.scope["session"]


def test_rotate_with_a_batch_size_no_sql_limit_holds_is_refused(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`byok rotate --batch-size 99999999999999999999` used to die in an OverflowError (SQLite's
    LIMIT) with a traceback; now it is a message and exit status 2, and no row changes."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    manager = BYOKManager(SECRET, db_url=url)
    manager.set_key(_Request(), "openai", "sk-canary-00001-xyz", user_id="u1")
    manager.database.close()
    monkeypatch.setenv("BYOK_SECRET", SECRET[::-1])  # a new secret, version 2
    monkeypatch.setenv("BYOK_SECRET_V1", SECRET)
    args = ["rotate", "--db", url, "--key-version", "2", "--quiet", "--batch-size", str(2**70)]
    assert main(args) == 2
    assert "batch_size" in capsys.readouterr().err
    manager = BYOKManager(SECRET, db_url=url)
    assert manager.stale_count() == 0  # still under version 1 (the only one it knows)
    assert manager.get_key(_Request(), "openai", "u1") is not None


def test_cli_grace_past_year_9999_is_a_usage_error(cli_db: str, capsys: Any) -> None:
    assert main(["keys", "create", "--db", cli_db, "--org", "Acme", "--create-missing"]) == 0
    key_id = capsys.readouterr().out.split()[1]
    with pytest.raises(SystemExit) as exited:
        main(["keys", "roll", "--db", cli_db, key_id, "--grace", "99999999999d"])
    assert exited.value.code == 2 and "usage:" in capsys.readouterr().err
    assert main(["keys", "list", "--db", cli_db, "--org", "Acme"]) == 0
    assert capsys.readouterr().out.count("active") == 1  # not rolled
