"""Organizations, projects and products: the tenancy the keys are issued in (a part of
`KeyIssuer`, which documents each method). Names are unique per organization; `get_or_create_*` is one
INSERT … ON CONFLICT DO NOTHING, so processes racing to create the same name make one row.

A project's or product's organization never changes and links are never removed, so both are
remembered in process once read: tenancy checks during validation cost no query after the first.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, NamedTuple

from ..core.database import to_iso
from . import records
from .context import Context
from .errors import AlreadyExistsError, InvalidInputError, NotFoundError
from .models import Organization, Product, Project, check_name
from .store import Tables

__all__ = ["Tenancy", "canonical_id", "known_id"]


def canonical_id(
    value: Any,  # an id given by a caller: a UUID string (any case) or uuid.UUID
) -> str | None:
    """The id in canonical form (lowercase, hyphenated), or None when it is not a UUID."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str) or not 32 <= len(value) <= 45:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _shown(value: Any) -> str:
    """An id for a message: a UUID is shown; anything else is not (it may be a key passed in
    the id's place)."""
    found = canonical_id(value)
    return repr(found) if found is not None else f"(not a UUID: {type(value).__name__})"


def known_id(
    value: Any,  # an id given by a caller
    what: str,  # what it names ("Key", "Project", …), for the error
) -> str:
    """A canonical id, or NotFoundError naming `what` (a malformed id is never found)."""
    found = canonical_id(value)
    if found is None:
        raise NotFoundError(f"{what} {_shown(value)} not found")
    return found


class _Kind(NamedTuple):
    """A project or a product: where its rows are and what record a row makes."""

    table: Callable[[Tables], Any]  # its table among the issuing tables
    what: str  # its name in messages
    make: Callable[[Any], Any]  # a row -> its record


_KINDS = {
    "project": _Kind(lambda t: t.projects, "Project", records.project),
    "product": _Kind(lambda t: t.products, "Product", records.product),
}


class Tenancy:
    """Organizations, projects, products and their links, on the issuer's shared Context; it
    remembers each project's and product's organization and the links it has seen."""

    def __init__(
        self,
        ctx: Context,  # the issuer's database, tables, lock and clock
    ):
        self.ctx = ctx
        self._owners: dict[tuple[str, str], str] = {}  # (kind, id) -> org id, once seen
        self._links: set[tuple[str, str]] = set()  # (project, product) pairs seen linked

    # lookups

    def row(self, table: Any, value: Any, what: str) -> Any:
        """The row of `table` with this id, or NotFoundError naming `what`."""
        key = known_id(value, what)
        with self.ctx.guard(f"get {what.lower()}"):
            row = table.get(key, as_cls=False, default=None)
        if row is None:
            raise NotFoundError(f"{what} {_shown(value)} not found")
        return row

    def owner(self, kind: str, value: Any, *, query: bool) -> str | None:
        """See KeyIssuer.owner (remembered once read: it never changes)."""
        found = canonical_id(value)
        if found is None:
            return None
        org = self._owners.get((kind, found))
        if org is None and query:
            with self.ctx.guard(f"get {kind}"):
                t = self.ctx.tables
                org = t.execute(t.org_of[kind], {"id": found}).scalar()
            if org is not None:
                self._owners[(kind, found)] = org
        return org

    def linked(self, project_id: str, product_id: str, *, query: bool) -> bool | None:
        """See KeyIssuer.linked (a link seen is remembered: links are never removed)."""
        pair = (project_id, product_id)
        if pair in self._links:
            return True
        if not query:
            return None
        t = self.ctx.tables
        with self.ctx.guard("get link"):
            found = t.execute(t.linked, {"project": project_id, "product": product_id}).first()
        if found is not None:
            self._links.add(pair)
        return found is not None

    # organizations

    def _create_named(self, table: Any, what: str, row: dict, unique: list[str], make) -> Any:
        """Insert a named row; (record, created) — the existing one when the name is taken."""
        with self.ctx.guard(f"create {what.lower()}"):
            created = self.ctx.tables.insert_ignore(table, row, unique)
            if not created:
                where = " AND ".join(f"{c} = :{c}" for c in unique)
                row = next(iter(table.rows_where(where, {c: row[c] for c in unique})))
        return make(row), created

    def _new(self, **fields: Any) -> dict:
        return {"id": str(uuid.uuid4()), **fields, "created_at": to_iso(self.ctx.clock())}

    def get_or_create_organization(self, name: str) -> tuple[Organization, bool]:
        """See KeyIssuer.get_or_create_organization."""
        row = self._new(name=check_name(name, "organization name"))
        return self._create_named(
            self.ctx.tables.orgs, "Organization", row, ["name"], records.organization
        )

    def create_organization(self, name: str) -> Organization:
        """See KeyIssuer.create_organization."""
        org, created = self.get_or_create_organization(name)
        if not created:
            raise AlreadyExistsError(f"Organization {name!r} already exists", existing_id=org.id)
        return org

    def use_organization(self, org_id: str) -> Organization:
        """See KeyIssuer.use_organization."""
        return records.organization(self.row(self.ctx.tables.orgs, org_id, "Organization"))

    def list_organizations(self) -> list[Organization]:
        """See KeyIssuer.list_organizations."""
        with self.ctx.guard("list organizations"):
            rows = self.ctx.tables.orgs.rows_where(order_by="created_at, name")
            return [records.organization(r) for r in rows]

    # projects and products

    def get_or_create(self, kind: str, org_id: str, name: str) -> tuple[Any, bool]:
        """See KeyIssuer.get_or_create_project / get_or_create_product."""
        table, what, make = _KINDS[kind]
        org = self.use_organization(org_id).id
        row = self._new(org_id=org, name=check_name(name, f"{kind} name"))
        return self._create_named(table(self.ctx.tables), what, row, ["org_id", "name"], make)

    def create(self, kind: str, org_id: str, name: str) -> Any:
        """See KeyIssuer.create_project / create_product."""
        found, created = self.get_or_create(kind, org_id, name)
        if not created:
            what = _KINDS[kind].what
            raise AlreadyExistsError(f"{what} {name!r} already exists", existing_id=found.id)
        return found

    def get_project(self, project_id: Any) -> Project:
        """The project with this id; NotFoundError when there is none."""
        return records.project(self.row(self.ctx.tables.projects, project_id, "Project"))

    def get_product(self, product_id: Any) -> Product:
        """The product with this id; NotFoundError when there is none."""
        return records.product(self.row(self.ctx.tables.products, product_id, "Product"))

    def listed(self, kind: str, org_id: str) -> list[Any]:
        """See KeyIssuer.list_projects / list_products."""
        table, _, make = _KINDS[kind]
        org = self.use_organization(org_id).id
        with self.ctx.guard(f"list {kind}s"):
            rows = table(self.ctx.tables).rows_where(
                "org_id = :o", {"o": org}, order_by="created_at, name"
            )
            return [make(r) for r in rows]

    def add_product_to_project(self, product_id: str, project_id: str) -> None:
        """See KeyIssuer.add_product_to_project."""
        project, product = self.get_project(project_id), self.get_product(product_id)
        if project.org_id != product.org_id:
            raise InvalidInputError("the product and the project belong to different organizations")
        row = {
            "project_id": project.id,
            "product_id": product.id,
            "created_at": to_iso(self.ctx.clock()),
        }
        with self.ctx.guard("link product"):
            t = self.ctx.tables
            t.insert_ignore(t.links, row, ["project_id", "product_id"])
        self._links.add((project.id, product.id))

    def list_project_products(self, project_id: str) -> list[Product]:
        """See KeyIssuer.list_project_products."""
        project = self.get_project(project_id)
        p, links = self.ctx.tables.products.table, self.ctx.tables.links.table
        stmt = (
            p.select()
            .join(links, links.c.product_id == p.c.id)
            .where(links.c.project_id == project.id)
            .order_by(p.c.created_at, p.c.name)
        )
        with self.ctx.guard("list project products"):
            return [records.product(r) for r in self.ctx.tables.execute(stmt).mappings()]
