"""Whose issued keys a request of the "API keys" page may see and change."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from .models import MAX_NAME
from .tenancy import canonical_id

__all__ = ["KeyOwner", "OwnerFunc", "user_org_name"]


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
