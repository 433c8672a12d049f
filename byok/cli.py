"""The `byok` command: rotate stored keys, check a deployment, manage the API keys you issue.

`byok rotate` re-encrypts stored keys, `byok doctor` checks a deployment (the key database and,
with --issuing-db, the issued-key database), `byok keys …` issues and manages API keys for your
own API (byok.issuing.cli).

Both open an existing key table only (never create or migrate one): a mistyped database URL
fails loudly instead of reporting an empty, freshly made database; doctor opens it read-only.

Secrets are read from environment variables, never from the command line (argv is visible to
every user of the machine): the current secret from BYOK_SECRET (or --secret-env), older ones
from BYOK_SECRET_V<n> (n = their key version).
"""

import argparse
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tqdm import tqdm

from .core.security import is_production
from .core.storage import SCHEMA_VERSION, Access, BYOKManager, DatabaseStorage
from .core.types import MIN_SECRET_LENGTH, BYOKConfig, BYOKException, StorageBackend
from .issuing.cli import add_keys_parser, count_issued_keys
from .issuing.errors import InvalidInputError

__all__ = ["main"]

_PREVIOUS = re.compile(r"BYOK_SECRET_V(\d+)")  # env names of older secrets
_SAMPLE = 50  # rows tried with the secrets before rotating (and by doctor)


class Level(StrEnum):
    """Outcome of one doctor check."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """One line of `byok doctor`."""

    level: Level  # how it went
    message: str  # what was checked and found (never a secret)


def _config(
    args: argparse.Namespace,  # parsed command line
) -> tuple[str, BYOKConfig]:
    """The current secret and a database config from the environment and arguments."""
    secret = os.environ.get(args.secret_env, "")
    previous = {
        int(m.group(1)): value
        for name, value in os.environ.items()
        if (m := _PREVIOUS.fullmatch(name)) and int(m.group(1)) != args.key_version
    }
    config = BYOKConfig(
        storage_backend=StorageBackend.DATABASE,
        db_table_name=args.table,
        key_version=args.key_version,
        previous_keys=previous,
        min_decrypt_version=min([args.key_version, *previous]),
    )
    return secret, config


def _manager(
    args: argparse.Namespace,  # parsed command line
    access: Access,  # "write" (rotate) or "read" (doctor): never creates or migrates
) -> BYOKManager:
    """A manager on the existing key table (StorageError when the database or table is missing)."""
    secret, config = _config(args)
    storage = DatabaseStorage(config, args.db, access=access)
    return BYOKManager(secret, db_url=storage, config=config)


def _opened(
    manager: BYOKManager,  # the CLI's manager
    version: int,  # sample rows not under this key version (0 = any row)
) -> tuple[int, int]:
    """(rows sampled, rows that open with the configured secrets)."""
    assert manager.database is not None
    sample = manager.database.stale(version, _SAMPLE)
    return len(sample), sum(manager.opens(k) for k in sample)


def rotate(
    args: argparse.Namespace,  # parsed command line
) -> int:
    """Re-encrypt every row under the newest key, with a progress bar; resumable."""
    manager = _manager(args, "write")
    assert manager.database is not None
    rows, total = manager.database.count(), manager.stale_count()
    if rows == 0 and not args.allow_empty:
        print(
            f"byok: table {args.table} holds no keys: is --db the right database? "
            "(--allow-empty accepts an empty table)",
            file=sys.stderr,
        )
        return 1
    print(f"{total} stored keys to re-encrypt under key version {args.key_version}")
    if total == 0:
        return 0
    sampled, opened = _opened(manager, args.key_version)
    if opened == 0:  # a mistyped old secret: nothing would be rewrapped, and nothing learnt
        print(
            f"byok: none of {sampled} stored keys opens with the secrets given "
            "(BYOK_SECRET_V<n> for each old version): refusing to rotate; nothing was changed",
            file=sys.stderr,
        )
        return 1
    if args.dry_run:
        return 0
    with tqdm(total=total, unit="key", disable=args.quiet) as bar:
        report = manager.rotate_keys(batch_size=args.batch_size, progress=bar.update)
    print(
        f"rewrapped {report.rewrapped}, changed meanwhile {report.changed}, failed {report.failed}"
    )
    if report.failed:
        print("rows that failed to decrypt were kept; is every old secret in BYOK_SECRET_V<n>?")
    return 1 if report.failed else 0


def diagnose(
    args: argparse.Namespace,  # parsed command line
) -> list[Check]:
    """Every doctor check, in order (the issued-key database's last, when --issuing-db)."""
    checks = _vault_checks(args)
    if getattr(args, "issuing_db", None):
        checks += issuing_checks(args.issuing_db, args.signing_secret_env)
    return checks


def issuing_checks(
    url: str,  # the issued-key database's URL
    secret_env: str,  # the variable holding the signing secret
) -> list[Check]:
    """The issued-key database exists and holds byok's tables; its signing secret is set."""
    checks = []
    secret = os.environ.get(secret_env, "")
    if len(secret.encode()) >= MIN_SECRET_LENGTH:
        checks.append(Check(Level.OK, f"{secret_env} is set ({len(secret.encode())} bytes)"))
    else:
        checks.append(
            Check(Level.FAIL, f"{secret_env} is missing or under {MIN_SECRET_LENGTH} bytes")
        )
    try:
        total, revoked = count_issued_keys(url)
    except (InvalidInputError, BYOKException) as e:
        return [*checks, Check(Level.FAIL, f"issuing database: {e}")]
    checks.append(
        Check(
            Level.OK,
            f"issuing database reachable: {total} issued keys ({revoked} revoked)",
        )
    )
    return checks


def _vault_checks(
    args: argparse.Namespace,  # parsed command line
) -> list[Check]:
    """The secret, production mode and the key database."""
    checks: list[Check] = []
    secret = os.environ.get(args.secret_env, "")
    if len(secret.encode()) >= MIN_SECRET_LENGTH:
        checks.append(Check(Level.OK, f"{args.secret_env} is set ({len(secret.encode())} bytes)"))
    else:
        checks.append(
            Check(Level.FAIL, f"{args.secret_env} is missing or under {MIN_SECRET_LENGTH} bytes")
        )
    prod = is_production()
    checks.append(
        Check(
            Level.OK if prod else Level.WARN,
            "production mode (BYOK_ENV=production): key routes require HTTPS"
            if prod
            else "development mode: set BYOK_ENV=production in production",
        )
    )
    if args.db is None:
        checks.append(Check(Level.WARN, "no --db given: keys live in session cookies only"))
        return checks
    if checks[0].level is Level.FAIL:
        return checks
    try:
        manager = _manager(args, "read")  # read-only: a mistyped URL creates nothing
        assert manager.database is not None
        stale, rows = manager.stale_count(), manager.database.count()
        sampled, opened = _opened(manager, 0)  # versions start at 1: any row
    except BYOKException as e:
        checks.append(Check(Level.FAIL, f"database: {e}"))
        return checks
    empty = Level.WARN if args.allow_empty else Level.FAIL
    checks.append(
        Check(
            Level.OK if rows else empty,
            f"database reachable, schema version {SCHEMA_VERSION}, {rows} keys"
            + ("" if rows else ": is --db the right database? (--allow-empty if it is new)"),
        )
    )
    if sampled:
        level = Level.OK if opened == sampled else Level.FAIL if opened == 0 else Level.WARN
        checks.append(
            Check(level, f"{opened} of {sampled} sampled keys open with the configured secrets")
        )
    checks.append(
        Check(
            Level.WARN if stale else Level.OK,
            f"{stale} keys under older key versions: run `byok rotate`"
            if stale
            else f"every key is under key version {args.key_version}",
        )
    )
    return checks


def doctor(
    args: argparse.Namespace,  # parsed command line
) -> int:
    """Print the checks; exit status 1 if any failed."""
    checks = diagnose(args)
    for c in checks:
        print(f"[{c.level.value:>4}] {c.message}")
    return 1 if any(c.level is Level.FAIL for c in checks) else 0


def parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    p = argparse.ArgumentParser(prog="byok", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name, func, helptext in (
        ("rotate", rotate, "re-encrypt stored keys under the newest key version"),
        ("doctor", doctor, "check a deployment's settings"),
    ):
        s = sub.add_parser(name, help=helptext)
        s.set_defaults(func=func)
        s.add_argument(
            "--db", required=name == "rotate", help="database URL, e.g. sqlite:///keys.db"
        )
        s.add_argument("--table", default="user_api_keys", help="table name")
        s.add_argument("--secret-env", default="BYOK_SECRET", help="env var of the current secret")
        s.add_argument("--key-version", type=int, default=1, help="version of the current secret")
        s.add_argument(
            "--allow-empty", action="store_true", help="an empty key table is not an error"
        )
    add_keys_parser(sub)
    doc = sub.choices["doctor"]
    doc.add_argument("--issuing-db", help="issued-key database URL (byok keys): checked too")
    doc.add_argument(
        "--signing-secret-env",
        default="BYOK_SIGNING_SECRET",
        help="env var of the issued keys' signing secret",
    )
    rot = sub.choices["rotate"]
    rot.add_argument("--batch-size", type=int, default=500, help="rows per committed batch")
    rot.add_argument("--dry-run", action="store_true", help="count, do not rewrite")
    rot.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(
    argv: Sequence[str] | None = None,  # arguments (default: sys.argv[1:])
) -> int:
    """Entry point of the `byok` command."""
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except BYOKException as e:
        print(f"byok: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
