"""Request context: which BYOKManager serves a request, whose keys it is about, and how to call it.

The one rule for finding the manager (`find_manager`, `app_manager`) lives in `byok.core.context`
so that the components can use it too; it is importable from here as well. This module adds the
user (`resolve_user_id`, the one rule for who is signed in) and the call (`call_storage`: inline,
or in the thread pool when the storage blocks).

Who is signed in is told once: `setup_byok(user_id_func=…, login_url=…)` records an `Identity`
for its manager (`remember_identity`), and every key route, guard and the issuing page use it
unless given a `user_id_func` of their own. With no `user_id_func` anywhere the user id is
`req.scope["auth"]`, FastHTML's convention (the app's beforeware sets it; None = signed out). A
request with neither, to database storage, has no way to know the user: that is the app's setup
error, answered 503 (`user_id`) and logged with the fix, never a "Sign in" shown to a signed-in
user.
"""

from __future__ import annotations

import inspect
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

from byok.core.context import MANAGER_ATTR, SCOPE_KEY, app_manager, find_manager
from byok.core.types import BYOKException, ValidationError
from byok.core.validation import validate_user_id

__all__ = [
    "MANAGER_ATTR",
    "SCOPE_AUTH",
    "SCOPE_KEY",
    "Identity",
    "UserIdError",
    "UserIdFunc",
    "app_manager",
    "call_storage",
    "check_user_id_func",
    "checked_user_id",
    "find_manager",
    "identity_of",
    "remember_identity",
    "resolve_user_id",
]

log = logging.getLogger("byok")

UserIdFunc = Callable[[Any], Any]  # request -> user id (str/int/None), sync or async
SCOPE_AUTH = "auth"  # request.scope entry FastHTML apps set to the signed-in user (None: nobody)
_LOGGED = "byok_bad_user_id"  # request.scope flag: this request's bad user id was logged
_FROM_FUNC = "the app's user_id_func returned"  # where a bad user id came from, for the log
_FROM_AUTH = "req.scope['auth'] holds"


@dataclass(frozen=True)
class Identity:
    """How byok knows who is signed in, told once to `setup_byok` for its manager."""

    user_id_func: UserIdFunc | None = None  # request -> user id; None = req.scope["auth"]
    login_url: str | None = None  # where a signed-out user is sent (with next=); None = a 401


_NOBODY_TOLD = Identity()
_IDENTITIES: weakref.WeakKeyDictionary[Any, Identity] = weakref.WeakKeyDictionary()


def check_user_id_func(
    func: Any,  # what the app passed as user_id_func
    where: str,  # the call it was passed to, for the error
) -> UserIdFunc | None:
    """`func` when it is None or callable; TypeError at setup otherwise (never at a request)."""
    if func is not None and not callable(func):
        raise TypeError(
            f"{where}: user_id_func must be a function of the request, not {type(func).__name__}"
        )
    return func


def remember_identity(
    manager: Any,  # a BYOKManager, typically setup_byok's
    identity: Identity,  # how its routes, guards and pages know the user
) -> None:
    """Record what `setup_byok` was told about the user, for everything using that manager."""
    _IDENTITIES[manager] = identity


def identity_of(
    request: Any,  # the incoming request (its manager is found the usual way)
    manager: Any = None,  # an explicit BYOKManager: it wins
) -> Identity:
    """What setup_byok was told about the user for this request's manager (else nothing)."""
    found = find_manager(request, manager)
    try:
        return _IDENTITIES.get(found, _NOBODY_TOLD) if found is not None else _NOBODY_TOLD
    except TypeError:  # a stand-in manager that cannot be weakly referenced: nothing was told
        return _NOBODY_TOLD


class UserIdError(BYOKException):
    """The app's `user_id_func` returned something that is not a user id: the app's bug. The
    routes and guards answer 503 (`user_id`); the reason is logged once per request."""


def checked_user_id(
    request: Any,  # the request the user id was found for
    value: Any,  # what the app's user_id_func returned for it (or its scope["auth"])
    source: str = _FROM_FUNC,  # where the value came from, for the log line
) -> str | None:
    """The user id as byok stores it (None: nobody signed in); UserIdError for anything else,
    its reason logged once per request (never the value: it may be a token)."""
    if value is None:
        return None
    try:
        return validate_user_id(value)
    except ValidationError as e:
        reason = str(e)
    scope = getattr(request, "scope", None)
    scope = scope if isinstance(scope, dict) else {}  # no scope: logged every time
    if not scope.get(_LOGGED):
        scope[_LOGGED] = True
        log.error(
            "byok: %s an unusable user id on %s (%s): %s; "
            "use None for nobody signed in, else a str or int id",
            source,
            scope.get("path", "?"),
            type(value).__name__,
            reason,
        )
    raise UserIdError(reason)


async def resolve_user_id(
    request: Any,  # the incoming request
    user_id_func: UserIdFunc | None = None,  # request -> user id; None = setup_byok's, else auth
    manager: Any = None,  # the caller's BYOKManager (None: the request's)
    *,
    needs_user: bool = False,  # keys are always per user (the issuing page), whatever the storage
) -> str | None:
    """The checked user id for this request: `user_id_func`, else setup_byok's, else
    `req.scope["auth"]`. UserIdError when the value is not a user id, or when database storage
    has no way to know the user (no function anywhere and no `auth` in the scope)."""
    func = user_id_func if user_id_func is not None else identity_of(request, manager).user_id_func
    if func is not None:
        result = func(request)
        if inspect.isawaitable(result):
            result = await result
        return checked_user_id(request, result)
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict) and SCOPE_AUTH in scope:
        return checked_user_id(request, scope[SCOPE_AUTH], _FROM_AUTH)
    if needs_user or getattr(find_manager(request, manager), "needs_user", False):
        _unidentified(request)  # database storage, and no way to know the user
    return None


def _unidentified(request: Any) -> None:
    """Database storage, no user_id_func and no scope["auth"]: the app's setup error, logged."""
    scope = request.scope
    if not scope.get(_LOGGED):
        scope[_LOGGED] = True
        log.error(
            "byok: per-user keys, but no way to tell who is signed in on %s: pass "
            "setup_byok(..., user_id_func=lambda req: ...) or set req.scope['auth'] in your "
            "beforeware (None when nobody is signed in)",
            scope.get("path", "?"),
        )
    raise UserIdError("no user_id_func and no req.scope['auth']: the user cannot be known")


async def call_storage(
    manager: Any,  # the BYOKManager whose method is called
    fn: Callable[..., Any],  # that method (or a partial of it)
    *args: Any,  # its arguments
) -> Any:
    """Run a manager call: inline when its storage does no I/O (session), else in the thread pool."""
    if not manager.blocks:
        return fn(*args)
    return await run_in_threadpool(fn, *args)
