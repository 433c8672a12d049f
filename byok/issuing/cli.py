"""`byok keys create | list | revoke | roll | rehash | import`: issued keys for operators (part
of the `byok` command, see byok/cli.py).

Every command opens an existing database holding the issued-key tables: a mistyped --db fails
with a message naming it instead of creating an empty database; `keys create --create-db` sets
a new one up (creates the SQLite file and the tables).

The signing secret comes from the environment, never the command line: BYOK_SIGNING_SECRET
(or --secret-env), older ones from BYOK_SIGNING_SECRET_OLD<n>. A new key's plaintext is printed
once, on stdout, alone on its line (`create --count/--out`: `<id>\t<key>` lines on stdout or in a
new 0600 file); everything else goes to stderr or the listing.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TextIO

from ..core.bounds import bounded_int, later
from ..core.types import ValidationError
from .cli_db import count_issued_keys, open_issued_db
from .engine import KeyIssuer
from .errors import InvalidInputError, NotFoundError
from .importer import import_apikeys
from .models import APIKey, KeyMetadata, KeyStatus, RateLimit
from .tenancy import canonical_id

__all__ = ["add_keys_parser", "count_issued_keys"]

_OLD = re.compile(r"BYOK_SIGNING_SECRET_OLD(\d+)")  # env names of older signing secrets
_SPAN = re.compile(r"(\d+)([smhd])")  # a duration such as 30d, 12h, 90m, 45s
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
CLI_CHUNK = 10_000  # keys per transaction of `create --count` (written out once committed)
MAX_CLI_COUNT = 10_000_000  # the most keys one `create --count` issues


def duration(text: str) -> timedelta:
    """'30d', '12h', '90m' or '45s' as a timedelta that ends by 9999-12-31 (argparse type)."""
    m = _SPAN.fullmatch(text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use e.g. 30d, 12h, 90m)")
    try:
        span = timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
        later(datetime.now(UTC), span, "the duration")
    except (OverflowError, ValueError, ValidationError):
        raise argparse.ArgumentTypeError(
            f"too long: {text!r} (a duration must end by 9999-12-31)"
        ) from None
    return span


def credits(text: str) -> int:
    """A number of credits, 0 to byok.core.bounds.MAX_INT (argparse type)."""
    try:
        return bounded_int(int(text), "credits")
    except (ValueError, ValidationError) as e:
        raise argparse.ArgumentTypeError(
            str(e) if isinstance(e, ValidationError) else f"not a whole number: {text!r}"
        ) from None


def rate(text: str) -> RateLimit:
    """'100/minute' as a RateLimit (argparse type)."""
    requests, _, window = text.partition("/")
    try:
        return RateLimit(int(requests), window or "minute")
    except (ValueError, InvalidInputError):
        raise argparse.ArgumentTypeError(
            f"not a rate limit: {text!r} (use e.g. 100/minute; second, minute, hour, day)"
        ) from None


def _issuer(args: argparse.Namespace) -> KeyIssuer:
    secret = os.environ.get(args.secret_env, "")
    if not secret:
        raise InvalidInputError(
            f"set the signing secret in the environment variable {args.secret_env}"
        )
    older = sorted(
        (int(m.group(1)), value)
        for name, value in os.environ.items()
        if (m := _OLD.fullmatch(name)) and value
    )
    return KeyIssuer(
        open_issued_db(args),
        signing_secret=secret,
        key_prefix=args.prefix,
        environment=args.environment,
        previous_signing_secrets=[value for _, value in reversed(older)],
        cache_ttl=0,
    )


def _find(items: list, ref: str, what: str):
    """The item whose id or name is `ref`."""
    wanted = canonical_id(ref)
    for item in items:
        if item.id == wanted or item.name == ref:
            return item
    raise NotFoundError(f"no {what} {ref!r}")


def _named(
    ref: str,  # an id or a name from the command line
    what: str,  # "organization", "project" or "product"
    existing: Callable[[], list],  # lists the candidates
    make: Callable[[str], tuple] | None,  # get_or_create for this name, or None (never create)
):
    """The record `ref` names: found by id or name, or created by name when allowed."""
    if make is not None and canonical_id(ref) is None:
        return make(ref)[0]
    return _find(existing(), ref, what)


def _scope(issuer: KeyIssuer, args: argparse.Namespace) -> tuple[str, str | None, str | None]:
    """(org id, project id, product id) named by --org/--project/--product (ids or names)."""
    create = getattr(args, "create_missing", False)
    pick = lambda f: f if create else None  # noqa: E731
    org = _named(
        args.org, "organization", issuer.list_organizations, pick(issuer.get_or_create_organization)
    )
    project = product = None
    if getattr(args, "project", None):
        project = _named(
            args.project,
            "project",
            lambda: issuer.list_projects(org.id),
            pick(lambda n: issuer.get_or_create_project(org.id, n)),
        )
    if getattr(args, "product", None):
        product = _named(
            args.product,
            "product",
            lambda: issuer.list_products(org.id),
            pick(lambda n: issuer.get_or_create_product(org.id, n)),
        )
        if project is not None and create:
            issuer.add_product_to_project(product.id, project.id)
    return org.id, project and project.id, product and product.id


def _announce(key: APIKey, plaintext: str) -> None:
    print(f"key {key.id} ({key.metadata.name or 'unnamed'}) - shown once, store it now:")
    print(plaintext)


def _issue_many(
    issuer: KeyIssuer,  # the opened issuer
    args: argparse.Namespace,  # --count, --out, --actor
    scope: tuple[str, str | None, str | None],  # (org, project, product) ids
    meta: KeyMetadata,  # the settings every key shares
) -> None:
    """`--count N` / `--out FILE`: N keys, one `<id>\t<plaintext>` line each, to stdout or a new
    0600 file; CLI_CHUNK keys per transaction, each chunk written once committed."""
    from tqdm import tqdm

    out = _open_out(args.out) if args.out else sys.stdout
    left = total = args.count or 1
    try:
        with tqdm(total=total, unit=" keys", file=sys.stderr, desc="create", disable=None) as bar:
            while left:
                made = issuer.create_keys(
                    scope[0], min(left, CLI_CHUNK), metadata=meta, project_id=scope[1],
                    product_id=scope[2], actor=args.actor,
                )  # fmt: skip
                out.write("".join(f"{m.key.id}\t{m.plaintext}\n" for m in made))
                out.flush()
                left -= len(made)
                bar.update(len(made))
    finally:
        if out is not sys.stdout:
            out.close()
    where = f"written to {args.out} (mode 0600)" if args.out else "on stdout"
    print(f"issued {total} keys, one '<id> TAB <key>' line each, {where}", file=sys.stderr)


def _open_out(
    path: str,  # --out
) -> TextIO:
    """A new file only its owner may read (never an existing one: it may hold other keys)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InvalidInputError(f"{path} exists: --out writes a new file only") from None
    except OSError as e:
        raise InvalidInputError(f"cannot create {path}: {e.strerror}") from None
    os.fchmod(fd, 0o600)  # whatever the umask
    return os.fdopen(fd, "w", encoding="ascii")


def create(args: argparse.Namespace) -> int:
    """Issue a key (or --count of them); print its plaintext once."""
    if args.count is not None and not 0 < args.count <= MAX_CLI_COUNT:
        raise InvalidInputError(f"--count must be 1-{MAX_CLI_COUNT}")
    issuer = _issuer(args)
    org, project, product = _scope(issuer, args)
    expires = None
    if args.expires_in is not None:
        expires = datetime.now(UTC) + args.expires_in
    meta = KeyMetadata(
        name=args.name,
        scopes=args.scope or [],
        rate_limit=args.rate_limit,
        expires_at=expires,
        remaining=args.remaining,
    )
    if args.count is not None or args.out:
        _issue_many(issuer, args, (org, project, product), meta)
        return 0
    made = issuer.create_key(
        org, project_id=project, product_id=product, metadata=meta, actor=args.actor
    )
    _announce(made.key, made.plaintext)
    return 0


def _row(key: APIKey) -> tuple[str, ...]:
    when = lambda d: d.strftime("%Y-%m-%d %H:%M") if d else "-"  # noqa: E731
    return (
        key.id,
        key.key_prefix + "…",
        key.metadata.name or "-",
        ",".join(key.metadata.scopes) or "-",
        key.status.value,
        when(key.created_at),
        when(key.last_used_at),
        str(key.use_count),
    )


def list_keys(args: argparse.Namespace) -> int:
    """Print the keys of an organization (or one of its projects) as a table."""
    issuer = _issuer(args)
    org, project, _ = _scope(issuer, args)
    status = KeyStatus(args.status)
    keys = (
        issuer.list_project_keys(project, status=status)
        if project
        else issuer.list_org_keys(org, status=status)
    )
    header = ("id", "starts", "name", "scopes", "status", "created", "last used", "uses")
    rows = [header, *(_row(k) for k in keys)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


def revoke(args: argparse.Namespace) -> int:
    """Revoke a key by id."""
    key = _issuer(args).revoke_key(args.key_id, actor=args.actor)
    print(f"revoked key {key.id} at {key.revoked_at.isoformat()}")
    return 0


def roll(args: argparse.Namespace) -> int:
    """Replace a key by a new one; the old keeps working for --grace."""
    issuer = _issuer(args)
    made = issuer.roll_key(args.key_id, grace=args.grace, actor=args.actor)
    old = issuer.get_key(args.key_id)
    print(f"old key {old.id} works until {old.metadata.expires_at.isoformat()}")
    _announce(made.key, made.plaintext)
    return 0


def rehash(args: argparse.Namespace) -> int:
    """Commit the current signing secret (every instance runs it), or with --check only show
    where the rollout stands."""
    issuer = _issuer(args)
    status = issuer.signing_secret_status() if args.check else issuer.adopt_signing_secret()
    mine = "this signing secret" if status.committed == issuer.peppers.current else None
    if mine is None:
        mine = "an older signing secret" if status.holds_committed else "a secret not given here"
    print(f"committed: {mine} (id {status.committed})")
    print(f"keys under the current secret: {status.current}")
    print(f"keys under older secrets (rehashed on their next use): {status.older}")
    print(f"keys imported from apikeys-platform, not yet used: {status.legacy}")
    print(f"keys under secrets not given here: {status.unknown}")
    return 0


def import_keys(args: argparse.Namespace) -> int:
    """Copy an apikeys-platform database into byok, with a progress bar and a report."""
    from tqdm import tqdm

    shown = False if args.progress else None  # None: a bar when stderr is a terminal
    with tqdm(unit=" rows", file=sys.stderr, disable=shown, desc="import") as bar:

        def tick(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        report = import_apikeys(
            args.from_apikeys,
            args.db,
            dry_run=args.dry_run,
            batch_size=args.batch_size,
            actor=args.actor,
            progress=tick,
        )
    for line in report.lines():
        print(line)
    if args.dry_run:
        print("dry run: nothing was written")
    return 0


def add_keys_parser(
    sub: argparse._SubParsersAction,  # the `byok` command's subcommands
) -> None:
    """Add `byok keys …`."""
    keys = sub.add_parser("keys", help="issue, list, revoke and roll API keys for your own API")
    cmds = keys.add_subparsers(dest="keys_command", required=True)
    made: dict[str, argparse.ArgumentParser] = {}
    spec: list[tuple[str, Callable[[argparse.Namespace], int], str]] = [
        ("create", create, "issue a key (its plaintext is printed once)"),
        ("list", list_keys, "list an organization's or project's keys"),
        ("revoke", revoke, "revoke a key by id"),
        ("roll", roll, "replace a key; the old one works for --grace"),
        ("rehash", rehash, "commit the current signing secret once every instance runs it"),
        ("import", import_keys, "copy an apikeys-platform database's keys (they stay valid)"),
    ]
    for name, func, helptext in spec:
        p = cmds.add_parser(name, help=helptext)
        p.set_defaults(func=func)
        p.add_argument("--db", required=True, help="database URL, e.g. sqlite:///keys.db")
        made[name] = p
        if name == "import":  # copies hashes: needs no secret
            continue
        p.add_argument("--secret-env", default="BYOK_SIGNING_SECRET", help="env var of the secret")
        p.add_argument("--prefix", default="sk", help="key prefix (as the app uses)")
        p.add_argument("--environment", default="", help="key environment (as the app uses)")
    for name in ("create", "revoke", "roll", "import"):
        made[name].add_argument("--actor", help="who does this, for the audit log")
    made["rehash"].add_argument(
        "--check", action="store_true", help="only show how many keys each secret holds"
    )
    i = made["import"]
    i.add_argument("--from-apikeys", required=True, metavar="URL", help="its database URL")
    i.add_argument("--dry-run", action="store_true", help="report what would be imported")
    i.add_argument("--batch-size", type=int, default=500, help="rows per transaction")
    i.add_argument("--progress", action="store_true", help="a progress bar even when piped")
    for name in ("create", "list"):
        made[name].add_argument("--org", required=True, help="organization id or name")
        made[name].add_argument("--project", help="project id or name")
    c = made["create"]
    c.add_argument("--product", help="product id or name")
    c.add_argument("--create-missing", action="store_true", help="create org/project/product")
    c.add_argument(
        "--create-db", action="store_true", help="create the database and its tables if missing"
    )
    c.add_argument("--name", help="a label for people")
    c.add_argument("--scope", action="append", help="a scope (repeat for several)")
    c.add_argument("--rate-limit", type=rate, help="e.g. 100/minute")
    c.add_argument("--expires-in", type=duration, help="e.g. 90d")
    c.add_argument("--remaining", type=credits, help="credits (uses) allowed")
    c.add_argument("--count", type=int, help="issue this many keys alike (a progress bar)")
    c.add_argument("--out", help="write '<id> TAB <key>' lines to this new file (mode 0600)")
    made["list"].add_argument(
        "--status", default="all", choices=[s.value for s in KeyStatus], help="filter"
    )
    for name in ("revoke", "roll"):
        made[name].add_argument("key_id", help="the key's id")
    made["roll"].add_argument("--grace", type=duration, default=timedelta(0), help="e.g. 24h")
