"""A FastAPI key-management server built the way apikeys-platform's example server is (the same
routes, the same client calls, the same status codes), on byok.issuing: pydantic request bodies
holding byok's `RateLimit`, byok's models as `response_model`, `KeyStatus` as a query parameter
and `APIKeyDepends` guarding a route. tests/test_apikeys_ports.py serves it with uvicorn.

Configured by the environment, as the reference's is: DATABASE_URL, SIGNING_SECRET.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from datetime import datetime
from functools import cache
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from pydantic import BaseModel

from byok.issuing import (
    APIKey,
    APIKeyClient,
    APIKeyCreated,
    APIKeyDepends,
    APIKeyError,
    KeyMetadata,
    KeyStatus,
    Organization,
    Product,
    Project,
    RateLimit,
)
from byok.issuing.db.session import create_tables
from byok.issuing.exceptions import (
    AlreadyExistsError,
    ExpiredKeyError,
    InvalidKeyError,
    RevokedKeyError,
)


@cache
def get_client() -> APIKeyClient:
    """One client per process, from the environment."""
    return APIKeyClient(os.environ["DATABASE_URL"], signing_secret=os.environ["SIGNING_SECRET"])


class NameBody(BaseModel):
    name: str


class KeyBody(BaseModel):
    org_id: str
    project_id: str | None = None
    product_id: str | None = None
    name: str | None = None
    scopes: list[str] = []
    rate_limit: RateLimit | None = None  # byok's dataclass inside a pydantic body
    expires_at: datetime | None = None
    custom: dict[str, Any] = {}


class UpdateBody(BaseModel):
    name: str | None = None
    scopes: list[str] = []
    rate_limit: RateLimit | None = None
    expires_at: datetime | None = None
    custom: dict[str, Any] = {}


class VerifyBody(BaseModel):
    key: str


def _metadata(body: KeyBody | UpdateBody) -> KeyMetadata:
    return KeyMetadata(
        name=body.name,
        scopes=body.scopes,
        rate_limit=body.rate_limit,
        expires_at=body.expires_at,
        custom=body.custom,
    )


Client = Depends(get_client)
tenancy = APIRouter()
keys = APIRouter()


@tenancy.get("/api/orgs", response_model=list[Organization])
async def list_orgs(client: APIKeyClient = Client):
    return await client.list_organizations()


@tenancy.post("/api/orgs", response_model=Organization, status_code=201)
async def create_org(body: NameBody, client: APIKeyClient = Client):
    try:
        return await client.create_organization(body.name)
    except AlreadyExistsError as e:
        raise HTTPException(409, str(e)) from None


@tenancy.get("/api/orgs/{org_id}", response_model=Organization)
async def get_org(org_id: str, client: APIKeyClient = Client):
    try:
        return await client.use_organization(org_id)
    except APIKeyError as e:
        raise HTTPException(404, str(e)) from None


@tenancy.get("/api/orgs/{org_id}/projects", response_model=list[Project])
async def list_projects(org_id: str, client: APIKeyClient = Client):
    try:
        await client.use_organization(org_id)
    except APIKeyError as e:
        raise HTTPException(404, str(e)) from None
    return await client.list_projects(org_id)


@tenancy.post("/api/orgs/{org_id}/projects", response_model=Project, status_code=201)
async def create_project(org_id: str, body: NameBody, client: APIKeyClient = Client):
    try:
        return await client.create_project(org_id, body.name)
    except AlreadyExistsError as e:
        raise HTTPException(409, str(e)) from None
    except APIKeyError as e:
        raise HTTPException(404, str(e)) from None


@tenancy.get("/api/orgs/{org_id}/products", response_model=list[Product])
async def list_products(org_id: str, client: APIKeyClient = Client):
    try:
        await client.use_organization(org_id)
    except APIKeyError as e:
        raise HTTPException(404, str(e)) from None
    return await client.list_products(org_id)


@tenancy.post("/api/orgs/{org_id}/products", response_model=Product, status_code=201)
async def create_product(org_id: str, body: NameBody, client: APIKeyClient = Client):
    try:
        return await client.create_product(org_id, body.name)
    except AlreadyExistsError as e:
        raise HTTPException(409, str(e)) from None
    except APIKeyError as e:
        raise HTTPException(404, str(e)) from None


@tenancy.get("/api/projects/{project_id}/products", response_model=list[Product])
async def list_project_products(project_id: str, client: APIKeyClient = Client):
    return await client.list_project_products(project_id)


@tenancy.post("/api/products/{product_id}/projects/{project_id}", status_code=204)
async def link(product_id: str, project_id: str, client: APIKeyClient = Client):
    try:
        await client.add_product_to_project(product_id, project_id)
    except APIKeyError as e:
        raise HTTPException(404, str(e)) from None


@keys.get("/api/orgs/{org_id}/keys", response_model=list[APIKey])
async def list_org_keys(
    org_id: str, status: KeyStatus = Query(KeyStatus.all), client: APIKeyClient = Client
):
    try:
        return await client.list_org_keys(org_id, status=status)
    except APIKeyError as e:
        raise HTTPException(404, str(e)) from None


@keys.get("/api/projects/{project_id}/keys", response_model=list[APIKey])
async def list_project_keys(
    project_id: str, status: KeyStatus = Query(KeyStatus.all), client: APIKeyClient = Client
):
    try:
        return await client.list_project_keys(project_id, status=status)
    except APIKeyError as e:
        raise HTTPException(404, str(e)) from None


@keys.post("/api/keys", response_model=APIKeyCreated, status_code=201)
async def create_key(body: KeyBody, client: APIKeyClient = Client):
    try:
        return await client.create_key(
            body.org_id,
            project_id=body.project_id,
            product_id=body.product_id,
            metadata=_metadata(body),
        )
    except APIKeyError as e:
        raise HTTPException(404, str(e)) from None


@keys.patch("/api/keys/{key_id}", response_model=APIKey)
async def update_key(key_id: str, body: UpdateBody, client: APIKeyClient = Client):
    try:
        return await client.update_key(key_id, metadata=_metadata(body))
    except APIKeyError as e:
        raise HTTPException(404, str(e)) from None


@keys.post("/api/keys/{key_id}/revoke", response_model=APIKey)
async def revoke_key(key_id: str, client: APIKeyClient = Client):
    try:
        return await client.revoke_key(key_id)
    except APIKeyError as e:
        raise HTTPException(404, str(e)) from None


@keys.delete("/api/keys/{key_id}", status_code=204)
async def delete_key(key_id: str, client: APIKeyClient = Client):
    try:
        await client.delete_key(key_id)
    except APIKeyError as e:
        raise HTTPException(404, str(e)) from None


@keys.post("/api/keys/verify", response_model=APIKey)
async def verify_key(body: VerifyBody, client: APIKeyClient = Client):
    try:
        return await client.verify_key(body.key)
    except ExpiredKeyError as e:
        when = f" at {e.expired_at.isoformat()}" if e.expired_at else ""
        raise HTTPException(401, f"Key has expired{when}") from None
    except RevokedKeyError as e:
        raise HTTPException(403, str(e)) from None
    except InvalidKeyError as e:
        raise HTTPException(401, str(e)) from None
    except APIKeyError as e:
        raise HTTPException(400, str(e)) from None


@keys.get("/api/protected", response_model=dict)
async def protected(key: APIKey = Depends(APIKeyDepends(required_scopes=["read"]))):
    return {"key_id": key.id, "scopes": key.metadata.scopes, "use_count": key.use_count}


@asynccontextmanager
async def lifespan(app: FastAPI):
    await create_tables(os.environ["DATABASE_URL"])
    yield


app = FastAPI(title="keys", lifespan=lifespan)


@app.middleware("http")
async def attach_client(request: Request, call_next):
    request.state.apikeys_client = get_client()
    return await call_next(request)


app.include_router(tenancy)
app.include_router(keys)
