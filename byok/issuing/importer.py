"""`import_apikeys`: an apikeys-platform 0.2.0 database's organizations, projects, products,
links and keys copied into byok's issuing tables, so the keys its customers hold stay valid.

What carries over: ids, names, creation times; each key's scope, name, scopes, rate limit,
expiry, custom JSON, revocation, last use and `use_count`; its `key_prefix` and its hash as is,
marked as the "apikeys" scheme (HMAC-SHA256 under the raw signing secret: see keys.py). A
`KeyIssuer` given the same signing secret then validates the existing plaintext keys and
rehashes each to byok's scheme on its first use (see rollout.py). Not carried over: the
reference's rate-limit counters (a key's window starts afresh) and the secret itself (never
stored anywhere).

Idempotent and resumable: rows go in batches, one transaction each, and a row whose id is
already in byok is left alone, so a rerun (after a kill, or to pick up keys issued since)
imports only what is missing. A row byok cannot hold (a name too long, a blank name taken by
another id, a key of a skipped organization) is skipped and named in the report, never half-
written; a dry run reads both databases and reports the same without writing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from fastsql import Database

from ..core.database import Guard, db_reason, to_iso
from ..core.types import StorageError, utcnow
from . import store
from .apikeys_source import SOURCE_TABLES, key_metadata, open_source, utc
from .errors import APIKeyError, InvalidInputError
from .keys import LEGACY_SCHEME
from .models import AuditAction, check_name

__all__ = ["ImportReport", "Progress", "Skipped", "Tally", "import_apikeys"]

Progress = Callable[[int, int], None]  # called with (rows done, rows in all) after each batch
KINDS = ("organizations", "projects", "products", "links", "keys")  # in import order
SOURCE = "apikeys-platform"  # named in the audit events of imported keys


@dataclass
class Tally:
    """One kind of record: how many the source has and what became of them."""

    found: int = 0  # rows in the source
    imported: int = 0  # written (or, in a dry run, that would be)
    present: int = 0  # already in byok (an earlier run): left alone
    skipped: int = 0  # refused (see ImportReport.skipped for why)


@dataclass(frozen=True)
class Skipped:
    """A source row that was not imported, and why (never key material)."""

    kind: str  # one of KINDS
    id: str  # its id (a link: "project_id/product_id")
    reason: str  # why byok cannot hold it


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    dry_run: bool  # nothing was written
    tallies: dict[str, Tally] = field(default_factory=lambda: {k: Tally() for k in KINDS})
    skipped: list[Skipped] = field(default_factory=list)  # every refused row

    def lines(self) -> list[str]:
        """The report as text, one line per kind, then one per skipped row."""
        verb = "would import" if self.dry_run else "imported"
        out = [
            f"{kind}: {t.found} found, {t.imported} {verb}, {t.present} already present, "
            f"{t.skipped} skipped"
            for kind, t in self.tallies.items()
        ]
        out += [f"skipped {s.kind[:-1]} {s.id}: {s.reason}" for s in self.skipped]
        return out


class _Import:
    """One run: the source, the target's tables, what is known to exist there, the report."""

    def __init__(self, source: Database, target: Database, dry_run: bool, actor: str | None):
        self.source, self.dry_run, self.actor = source, dry_run, actor
        self.lock = threading.RLock()
        self.db = target
        with self.guard("open"):
            self.t = store.Tables(target)
        self.report = ImportReport(dry_run)
        self.known: dict[str, dict[str, str]] = {k: {} for k in ("organizations", "projects")}
        self.known["products"] = {}  # id -> org id, of every record now in byok (or would be)
        self.now = to_iso(utcnow())

    def guard(self, what: str) -> Guard:
        return Guard(self.lock, self.db, what)

    def batches(self, kind: str, size: int) -> Iterator[list[Any]]:
        """The source's rows of one kind, `size` at a time, in a stable order."""
        table = SOURCE_TABLES[kind]
        stmt = sa.select(table).order_by(*table.primary_key.columns)
        result = self.source.conn.execute(stmt)
        while rows := result.fetchmany(size):
            yield rows

    def count(self, kind: str) -> int:
        table = SOURCE_TABLES[kind]
        return self.source.conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()

    def skip(self, kind: str, ident: str, reason: str) -> None:
        self.report.tallies[kind].skipped += 1
        self.report.skipped.append(Skipped(kind, ident, reason))

    def existing(self, table: Any, column: str, values: list[str]) -> dict[str, Any]:
        """value -> row of the target's rows whose `column` is one of `values`."""
        if not values:
            return {}
        c = table.table.c
        rows = self.t.execute(sa.select(table.table).where(c[column].in_(values))).mappings()
        return {r[column]: dict(r) for r in rows}

    def write(self, table: Any, rows: list[dict]) -> None:
        if rows and not self.dry_run:
            self.t.execute(table.table.insert(), rows)

    # one method per kind: each takes a batch of source rows, inside one transaction

    def organizations(self, rows: list[Any]) -> None:
        ids = [str(r.id) for r in rows]
        have = self.existing(self.t.orgs, "id", ids)
        names = self.existing(self.t.orgs, "name", [r.name for r in rows])
        new = []
        for r, ident in zip(rows, ids, strict=True):
            if ident in have:
                self.report.tallies["organizations"].present += 1
                self.known["organizations"][ident] = ident
                continue
            reason = self._name_problem(r.name, names.get(r.name), "organization")
            if reason:
                self.skip("organizations", ident, reason)
                continue
            new.append({"id": ident, "name": r.name, "created_at": to_iso(utc(r.created_at))})
            names[r.name] = new[-1]
            self.known["organizations"][ident] = ident
        self.write(self.t.orgs, new)
        self.report.tallies["organizations"].imported += len(new)

    def _name_problem(self, name: Any, holder: dict | None, what: str) -> str | None:
        try:
            check_name(name, f"{what} name")
        except InvalidInputError as e:
            return str(e)
        if holder is not None:
            return f"the name is taken in byok by {what} {holder['id']}"
        return None

    def projects(self, rows: list[Any]) -> None:
        self._children("projects", self.t.projects, rows)

    def products(self, rows: list[Any]) -> None:
        self._children("products", self.t.products, rows)

    def _children(self, kind: str, table: Any, rows: list[Any]) -> None:
        ids = [str(r.id) for r in rows]
        have = self.existing(table, "id", ids)
        taken = {(v["org_id"], v["name"]): v for v in self._same_names(table, rows).values()}
        new = []
        for r, ident in zip(rows, ids, strict=True):
            org = str(r.org_id)
            if ident in have:
                self.report.tallies[kind].present += 1
                self.known[kind][ident] = have[ident]["org_id"]
                continue
            if org not in self.known["organizations"]:
                self.skip(kind, ident, f"its organization {org} was not imported")
                continue
            reason = self._name_problem(r.name, taken.get((org, r.name)), kind[:-1])
            if reason:
                self.skip(kind, ident, reason)
                continue
            row = {"id": ident, "org_id": org, "name": r.name}
            new.append({**row, "created_at": to_iso(utc(r.created_at))})
            taken[(org, r.name)] = new[-1]
            self.known[kind][ident] = org
        self.write(table, new)
        self.report.tallies[kind].imported += len(new)

    def _same_names(self, table: Any, rows: list[Any]) -> dict[str, Any]:
        c = table.table.c
        names = list({r.name for r in rows if isinstance(r.name, str)})
        if not names:
            return {}
        found = self.t.execute(sa.select(table.table).where(c.name.in_(names))).mappings()
        return {r["id"]: dict(r) for r in found}

    def links(self, rows: list[Any]) -> None:
        t = self.t.links.table
        projects = list({str(r.project_id) for r in rows})
        have = {
            (r.project_id, r.product_id)
            for r in self.t.execute(sa.select(t).where(t.c.project_id.in_(projects)))
        }
        new = []
        for r in rows:
            pair = (str(r.project_id), str(r.product_id))
            ident = "/".join(pair)
            if pair in have:
                self.report.tallies["links"].present += 1
                continue
            org = self.known["projects"].get(pair[0])
            if org is None or pair[1] not in self.known["products"]:
                self.skip("links", ident, "its project or product was not imported")
            elif self.known["products"][pair[1]] != org:
                self.skip("links", ident, "the project and product are in different organizations")
            else:
                new.append({"project_id": pair[0], "product_id": pair[1], "created_at": self.now})
                have.add(pair)
        self.write(self.t.links, new)
        self.report.tallies["links"].imported += len(new)

    def keys(self, rows: list[Any]) -> None:
        have = self.existing(self.t.keys, "id", [str(r.id) for r in rows])
        new, events = [], []
        for r in rows:
            ident = str(r.id)
            if ident in have:
                self.report.tallies["keys"].present += 1
                continue
            row = self._key_row(r, ident)
            if row is not None:
                new.append(row)
                events.append(self._event(row))
        self.write(self.t.keys, new)
        self.write(self.t.audit, events)
        self.report.tallies["keys"].imported += len(new)

    def _key_row(self, r: Any, ident: str) -> dict | None:
        """The byok row of one source key, or None (skipped, with the reason recorded)."""
        org = str(r.org_id)
        scope = {"project_id": r.project_id, "product_id": r.product_id}
        scope = {k: None if v is None else str(v) for k, v in scope.items()}
        if org not in self.known["organizations"]:
            self.skip("keys", ident, f"its organization {org} was not imported")
            return None
        for kind, value in (("projects", scope["project_id"]), ("products", scope["product_id"])):
            if value is not None and self.known[kind].get(value) != org:
                self.skip("keys", ident, f"its {kind[:-1]} {value} is not in its organization")
                return None
        if not isinstance(r.key_hash, str) or len(r.key_hash) != 64:
            self.skip("keys", ident, "its hash is not an HMAC-SHA256")
            return None
        try:
            meta = key_metadata(r.metadata)
        except (InvalidInputError, APIKeyError) as e:
            self.skip("keys", ident, f"metadata byok cannot hold: {e}")
            return None
        created = to_iso(utc(r.created_at))
        return {
            "id": ident,
            "org_id": org,
            **scope,
            "key_prefix": r.key_prefix,
            "key_hash": r.key_hash.lower(),
            "pepper": LEGACY_SCHEME,
            "metadata": meta.to_json(),
            "expires_at": to_iso(meta.expires_at),
            "revoked_at": to_iso(utc(r.revoked_at)),
            "created_at": created,
            "updated_at": created,
            "last_used_at": to_iso(utc(r.last_used_at)),
            "use_count": r.use_count or 0,
            "usage_day": None,
            "usage_count": 0,
            "prev_day": None,
            "prev_count": None,
            "remaining": None,
            "refilled_at": None,
            "rl_state": None,
            "version": 0,
        }

    def _event(self, row: dict) -> dict:
        return {
            "at": self.now,
            "org_id": row["org_id"],
            "key_id": row["id"],
            "action": AuditAction.create.value,
            "actor": self.actor,
            "changes": json.dumps({"imported_from": SOURCE}),
        }


def import_apikeys(
    source_url: str,  # the apikeys-platform database, e.g. sqlite+aiosqlite:///apikeys.db
    target: str | Database,  # byok's database (URL or open Database); its tables are made
    *,
    dry_run: bool = False,  # read and report, write nothing
    batch_size: int = 500,  # rows per transaction (a kill loses at most the batch in flight)
    actor: str | None = None,  # who imports, for the audit events of the imported keys
    progress: Progress | None = None,  # called after every batch, e.g. to drive a progress bar
) -> ImportReport:
    """Copy an apikeys-platform 0.2.0 database's records into byok (see the module's text); a
    rerun imports only what is missing."""
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise InvalidInputError("batch_size must be a positive integer")
    source = open_source(source_url)
    db = target if isinstance(target, Database) else store.open_db(target)
    try:
        run = _Import(source, db, dry_run, actor)
        with run.guard("count"):
            totals = {kind: run.count(kind) for kind in KINDS}
        total, done = sum(totals.values()), 0
        for kind in KINDS:
            run.report.tallies[kind].found = totals[kind]
            for rows in run.batches(kind, batch_size):
                with run.guard(f"import {kind}"):
                    getattr(run, kind)(rows)
                done += len(rows)
                if progress is not None:
                    progress(done, total)
        return run.report
    except sa.exc.SQLAlchemyError as e:
        raise StorageError(
            f"reading the apikeys-platform database failed: {db_reason(e)}"
        ) from None
    finally:
        source.close()
        source.engine.dispose()
        if not isinstance(target, Database):
            db.close()
            db.engine.dispose()
