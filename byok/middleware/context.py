"""Request context: which BYOKManager serves a request, whose keys it is about, and how to call it.

The one rule for finding the manager (`find_manager`, `app_manager`) lives in `byok.core.context`
so that the components can use it too; it is importable from here as well. This module adds the
user (`resolve_user_id`) and the call (`call_storage`: inline, or in the thread pool when the
storage blocks).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from byok.core.context import MANAGER_ATTR, SCOPE_KEY, app_manager, find_manager
from byok.core.types import BYOKException, ValidationError
from byok.core.validation import validate_user_id

__all__ = [
    "MANAGER_ATTR",
    "SCOPE_KEY",
    "UserIdError",
    "UserIdFunc",
    "app_manager",
    "call_storage",
    "checked_user_id",
    "find_manager",
    "resolve_user_id",
]

log = logging.getLogger("byok")

UserIdFunc = Callable[[Any], Any]  # request -> user id (str/int/None), sync or async
_LOGGED = "byok_bad_user_id"  # request.scope flag: this request's bad user id was logged


class UserIdError(BYOKException):
    """The app's `user_id_func` returned something that is not a user id: the app's bug. The
    routes and guards answer 503 (`user_id`); the reason is logged once per request."""


def checked_user_id(
    request: Any,  # the request the user id was found for
    value: Any,  # what the app's user_id_func returned for it
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
            "byok: the app's user_id_func returned an unusable user id on %s (%s): %s; "
            "return None for nobody signed in, else a str or int id",
            scope.get("path", "?"),
            type(value).__name__,
            reason,
        )
    raise UserIdError(reason)


async def resolve_user_id(
    request: Any,  # the incoming request
    user_id_func: UserIdFunc | None,  # request -> user id, sync or async; None = no user
) -> str | None:
    """The checked user id for this request (awaiting an async `user_id_func`); UserIdError
    when the app's function returns something that is not a user id."""
    if user_id_func is None:
        return None
    result = user_id_func(request)
    if inspect.isawaitable(result):
        result = await result
    return checked_user_id(request, result)


async def call_storage(
    manager: Any,  # the BYOKManager whose method is called
    fn: Callable[..., Any],  # that method (or a partial of it)
    *args: Any,  # its arguments
) -> Any:
    """Run a manager call: inline when its storage does no I/O (session), else in the thread pool."""
    if not manager.blocks:
        return fn(*args)
    return await run_in_threadpool(fn, *args)
