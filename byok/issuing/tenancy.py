"""Organizations, projects and products: the tenancy the keys are issued in (the base of
`KeyIssuer`). Names are unique per organization; `get_or_create_*` is one
INSERT … ON CONFLICT DO NOTHING, so processes racing to create the same name make one row.

A project's or product's organization never changes and links are never removed, so both are
remembered in process once read: tenancy checks during validation cost no query after the first.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastsql import Database

from ..core.database import Guard, to_iso
from ..core.types import utcnow
from . import store
from .errors import AlreadyExistsError, InvalidInputError, NotFoundError
from .models import Organization, Product, Project, check_name
from .store import Tables

__all__ = ["Tenancy", "canonical_id"]


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


class Tenancy:
    """The database, its lock and tables, and the organization/project/product methods."""

    def __init__(
        self,
        db_url: str | Database | None,  # database URL (sqlite:///…, postgresql://…) or Database
        clock: Callable[[], datetime] = utcnow,  # the current time (UTC); tests move it
    ):
        if db_url is None:
            raise InvalidInputError("db_url is required, e.g. 'sqlite:///issued_keys.db'")
        self.db = db_url if isinstance(db_url, Database) else store.open_db(db_url)
        self.clock = clock
        self._lock = threading.RLock()
        with self._guard("open"):
            self.tables = Tables(self.db)
        self._owners: dict[tuple[str, str], str] = {}  # (kind, id) -> org id, once seen
        self._links: set[tuple[str, str]] = set()  # (project, product) pairs seen linked

    def _guard(self, what: str) -> Guard:
        """One database operation (lock, commit or rollback, StorageError)."""
        return Guard(self._lock, self.db, what)

    def close(self) -> None:
        """Close the connection and the engine's pool."""
        with self._lock:
            self.db.close()
            self.db.engine.dispose()

    # lookups

    def _id(self, value: Any, what: str) -> str:
        """A canonical id, or NotFoundError naming `what` (a malformed id is never found)."""
        found = canonical_id(value)
        if found is None:
            raise NotFoundError(f"{what} {_shown(value)} not found")
        return found

    def _row(self, table: Any, value: Any, what: str) -> Any:
        """The row with this id, or NotFoundError."""
        key = self._id(value, what)
        with self._guard(f"get {what.lower()}"):
            row = table.get(key, as_cls=False, default=None)
        if row is None:
            raise NotFoundError(f"{what} {_shown(value)} not found")
        return row

    def owner(
        self,
        kind: str,  # "project" or "product"
        value: Any,  # its id
        *,
        query: bool = True,  # False: answer only from memory (None when unknown)
    ) -> str | None:
        """The organization of a project or product, None when there is no such one."""
        found = canonical_id(value)
        if found is None:
            return None
        org = self._owners.get((kind, found))
        if org is None and query:
            with self._guard(f"get {kind}"):
                org = self.tables.execute(self.tables.org_of[kind], {"id": found}).scalar()
            if org is not None:
                self._owners[(kind, found)] = org
        return org

    def linked(
        self,
        project_id: str,  # a canonical project id
        product_id: str,  # a canonical product id
        *,
        query: bool = True,  # False: answer only from memory
    ) -> bool | None:
        """Whether the product is linked to the project (None: unknown without a query)."""
        pair = (project_id, product_id)
        if pair in self._links:
            return True
        if not query:
            return None
        with self._guard("get link"):
            found = self.tables.execute(
                self.tables.linked, {"project": project_id, "product": product_id}
            ).first()
        if found is not None:
            self._links.add(pair)
        return found is not None

    # organizations

    def _create_named(self, table: Any, what: str, row: dict, unique: list[str], make) -> Any:
        """Insert a named row; (record, created) — the existing one when the name is taken."""
        with self._guard(f"create {what.lower()}"):
            created = self.tables.insert_ignore(table, row, unique)
            if not created:
                where = " AND ".join(f"{c} = :{c}" for c in unique)
                row = next(iter(table.rows_where(where, {c: row[c] for c in unique})))
        return make(row), created

    def _new(self, **fields: Any) -> dict:
        return {"id": str(uuid.uuid4()), **fields, "created_at": to_iso(self.clock())}

    def get_or_create_organization(
        self,
        name: str,  # unique organization name
    ) -> tuple[Organization, bool]:
        """The organization of this name, created if needed; (organization, created)."""
        row = self._new(name=check_name(name, "organization name"))
        return self._create_named(
            self.tables.orgs, "Organization", row, ["name"], store.organization
        )

    def create_organization(
        self,
        name: str,  # unique organization name
    ) -> Organization:
        """A new organization; AlreadyExistsError (with existing_id) when the name is taken."""
        org, created = self.get_or_create_organization(name)
        if not created:
            raise AlreadyExistsError(f"Organization {name!r} already exists", existing_id=org.id)
        return org

    def use_organization(
        self,
        org_id: str,  # an organization id
    ) -> Organization:
        """The organization with this id; NotFoundError when there is none."""
        return store.organization(self._row(self.tables.orgs, org_id, "Organization"))

    def list_organizations(self) -> list[Organization]:
        """Every organization, oldest first."""
        with self._guard("list organizations"):
            rows = self.tables.orgs.rows_where(order_by="created_at, name")
            return [store.organization(r) for r in rows]

    # projects and products

    def _child(self, table: Any, what: str, org_id: Any, name: Any, make) -> tuple[Any, bool]:
        org = self.use_organization(org_id).id
        row = self._new(org_id=org, name=check_name(name, f"{what.lower()} name"))
        return self._create_named(table, what, row, ["org_id", "name"], make)

    def _new_child(self, table: Any, what: str, org_id: Any, name: Any, make) -> Any:
        """A new project / product; AlreadyExistsError when the organization has that name."""
        found, created = self._child(table, what, org_id, name, make)
        if not created:
            raise AlreadyExistsError(f"{what} {name!r} already exists", existing_id=found.id)
        return found

    def get_or_create_project(
        self,
        org_id: str,  # owning organization
        name: str,  # unique within the organization
    ) -> tuple[Project, bool]:
        """The project of this name in the organization, created if needed; (project, created)."""
        return self._child(self.tables.projects, "Project", org_id, name, store.project)

    def create_project(
        self,
        org_id: str,  # owning organization
        name: str,  # unique within the organization
    ) -> Project:
        """A new project; AlreadyExistsError when the organization has one of this name."""
        return self._new_child(self.tables.projects, "Project", org_id, name, store.project)

    def get_or_create_product(
        self,
        org_id: str,  # owning organization
        name: str,  # unique within the organization
    ) -> tuple[Product, bool]:
        """The product of this name in the organization, created if needed; (product, created)."""
        return self._child(self.tables.products, "Product", org_id, name, store.product)

    def create_product(
        self,
        org_id: str,  # owning organization
        name: str,  # unique within the organization
    ) -> Product:
        """A new product; AlreadyExistsError when the organization has one of this name."""
        return self._new_child(self.tables.products, "Product", org_id, name, store.product)

    def _get_project(self, project_id: Any) -> Project:
        return store.project(self._row(self.tables.projects, project_id, "Project"))

    def _get_product(self, product_id: Any) -> Product:
        return store.product(self._row(self.tables.products, product_id, "Product"))

    def list_projects(
        self,
        org_id: str,  # an organization
    ) -> list[Project]:
        """The organization's projects, oldest first."""
        org = self.use_organization(org_id).id
        with self._guard("list projects"):
            rows = self.tables.projects.rows_where(
                "org_id = :o", {"o": org}, order_by="created_at, name"
            )
            return [store.project(r) for r in rows]

    def list_products(
        self,
        org_id: str,  # an organization
    ) -> list[Product]:
        """The organization's products, oldest first."""
        org = self.use_organization(org_id).id
        with self._guard("list products"):
            rows = self.tables.products.rows_where(
                "org_id = :o", {"o": org}, order_by="created_at, name"
            )
            return [store.product(r) for r in rows]

    def add_product_to_project(
        self,
        product_id: str,  # a product
        project_id: str,  # a project of the same organization
    ) -> None:
        """Link a product to a project (linking twice is a no-op); both must share an org."""
        project, product = self._get_project(project_id), self._get_product(product_id)
        if project.org_id != product.org_id:
            raise InvalidInputError("the product and the project belong to different organizations")
        row = {
            "project_id": project.id,
            "product_id": product.id,
            "created_at": to_iso(self.clock()),
        }
        with self._guard("link product"):
            self.tables.insert_ignore(self.tables.links, row, ["project_id", "product_id"])
        self._links.add((project.id, product.id))

    def list_project_products(
        self,
        project_id: str,  # a project
    ) -> list[Product]:
        """The products linked to a project, oldest first."""
        project = self._get_project(project_id)
        p, links = self.tables.products.table, self.tables.links.table
        stmt = (
            p.select()
            .join(links, links.c.product_id == p.c.id)
            .where(links.c.project_id == project.id)
            .order_by(p.c.created_at, p.c.name)
        )
        with self._guard("list project products"):
            return [store.product(r) for r in self.tables.execute(stmt).mappings()]
