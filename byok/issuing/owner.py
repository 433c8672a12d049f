"""Whose issued keys a request of the "API keys" page may see and change: `KeyOwner`, and
`OwnerLookup`, the part of the page's routes that finds it for a request (the app's `owner`
function, else the signed-in user's own organization)."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from byok.middleware.context import resolve_user_id

from .engine import KeyIssuer
from .errors import NotFoundError
from .models import MAX_NAME, APIKey
from .tenancy import canonical_id

__all__ = ["KeyOwner", "OwnerFunc", "OwnerLookup", "user_org_name"]

USER_ORGS_KEPT = 10_000  # users' own organization ids remembered per process (no owner function)


@dataclass(frozen=True)
class KeyOwner:
    """Whose keys a request may see and change."""

    org_id: str  # the user's organization: keys are created in it and listed from it
    project_id: str | None = None  # only this project's keys (new keys are scoped to it)
    actor: str | None = None  # who acts, recorded in the audit log (e.g. the user's email)

    def problem(self) -> str | None:
        """Why the routes cannot act for this owner (never its values), or None."""
        if canonical_id(self.org_id) is None:
            return f"its org_id ({type(self.org_id).__name__}) is not an organization id (UUID)"
        if self.project_id is not None and canonical_id(self.project_id) is None:
            return "its project_id is not a project id (a UUID) or None"
        a = self.actor
        ok = a is None or (isinstance(a, str) and 0 < len(a) <= MAX_NAME and a.isprintable())
        return None if ok else f"its actor is not 1-{MAX_NAME} printable characters or None"


OwnerFunc = Callable[[Request], Any]  # -> KeyOwner | str | None, or an awaitable of one
"""`owner(request)`: the KeyOwner (or just an organization id) of the signed-in user; None when
nobody is signed in (the routes answer 401)."""


def user_org_name(
    user_id: str,  # the signed-in user's id (checked: 1-255 printable characters)
) -> str:
    """The name of a user's own organization when the app names none (`owner` left out): each
    user is an organization of one, "user:<id>" (a long id by its SHA-256, names fit 200)."""
    name = f"user:{user_id}"
    if len(name) <= MAX_NAME:
        return name
    return f"user:sha256:{hashlib.sha256(user_id.encode()).hexdigest()}"


class OwnerLookup:
    """Finds whose keys a request may see: the app's `owner(request)`, else (no function) the
    signed-in user's own organization (`user_org_name`, created on their first visit), the user
    being the one setup_byok's `user_id_func` or `req.scope["auth"]` names."""

    def __init__(
        self,
        owner_func: OwnerFunc | None,  # request -> KeyOwner / org id / None; None = user's own
        issuer: KeyIssuer,  # where the keys and the users' own organizations are kept
    ):
        if owner_func is not None and not callable(owner_func):
            raise TypeError("owner must be a function of the request (None: the user's own keys)")
        self.owner_func = owner_func
        self.issuer = issuer
        self._orgs: dict[str, str] = {}  # user id -> their own organization's id

    async def find(
        self,
        req: Request,  # the incoming request
    ) -> Any:
        """What names the owner (a KeyOwner, an org id, or whatever the app's function gave;
        None = nobody signed in). UserIdError when the user cannot be known (logged);
        StorageError when the database fails."""
        if self.owner_func is not None:
            found = self.owner_func(req)
            return await found if inspect.isawaitable(found) else found
        user_id = await resolve_user_id(req, needs_user=True)
        if user_id is None:
            return None
        org = self._orgs.get(user_id)
        if org is None:
            made = self.issuer.get_or_create_organization
            org = (await run_in_threadpool(made, user_org_name(user_id)))[0].id
            if len(self._orgs) >= USER_ORGS_KEPT:
                self._orgs.clear()
            self._orgs[user_id] = org
        return KeyOwner(org, actor=user_id if len(user_id) <= MAX_NAME else None)

    def key(
        self,
        owner: KeyOwner,  # whose key it must be
        key_id: Any,  # the id the request named
    ) -> APIKey:
        """The owner's key with this id; NotFoundError for a malformed or another owner's id
        (as if it did not exist). Blocking: run it in the thread pool."""
        kid = canonical_id(key_id)
        if kid is None:
            raise NotFoundError("no such key")
        key = self.issuer.get_key(kid)
        if key.org_id != canonical_id(owner.org_id) or (
            owner.project_id is not None and key.project_id != canonical_id(owner.project_id)
        ):
            raise NotFoundError("no such key")
        return key
