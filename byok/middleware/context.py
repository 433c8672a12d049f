"""Request context: which BYOKManager serves a request, whose keys it is about, and how to call it.

The one rule for finding the manager (`find_manager`) lives here, for the guards, the key routes
and the components alike: an explicit manager wins, then the one the beforeware put on
`request.scope["byok"]`, then the app's (`app.state.byok`, else the one inside `setup_byok`'s
beforeware in `app.before`, so a skipped path or a restart still finds it). This module imports
nothing else of byok's, so anything can import it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool

__all__ = [
    "MANAGER_ATTR",
    "SCOPE_KEY",
    "UserIdFunc",
    "app_manager",
    "call_storage",
    "find_manager",
    "resolve_user_id",
]

SCOPE_KEY = "byok"  # request.scope entry holding the BYOKManager
MANAGER_ATTR = "byok_manager"  # a beforeware exposing a manager has it under this attribute

UserIdFunc = Callable[[Any], Any]  # request -> user id (str/int/None), sync or async


def find_manager(
    request: Any,  # the incoming request (anything with a `scope` mapping), or None
    given: Any = None,  # an explicit BYOKManager: it wins
) -> Any:
    """The BYOKManager for this request: `given`, else request.scope["byok"], else the app's."""
    if given is not None:
        return given
    scope = getattr(request, "scope", None)
    if not isinstance(scope, Mapping):
        return None
    found = scope.get(SCOPE_KEY)
    return found if found is not None else app_manager(scope.get("app"))


def app_manager(
    app: Any,  # a FastHTML / Starlette app
) -> Any:
    """The app's manager: app.state.byok, else the one in its byok beforeware (`setup_byok`'s),
    found in `app.before` even when no request has run it yet (a skipped path, a restart)."""
    state = getattr(app, "state", None)
    found = getattr(state, "byok", None)
    if found is not None or state is None:
        return found
    before = getattr(app, "before", None) or ()
    for item in before if isinstance(before, list | tuple) else (before,):
        call = getattr(item, "f", item)  # a fasthtml Beforeware wraps the callable
        for part in getattr(getattr(call, "chain", None), "parts", (call,)):
            found = getattr(part, MANAGER_ATTR, None)
            if found is not None:
                state.byok = found
                return found
    return None


async def resolve_user_id(
    request: Any,  # the incoming request
    user_id_func: UserIdFunc | None,  # request -> user id, sync or async; None = no user
) -> Any:
    """The user id for this request (awaiting an async `user_id_func`)."""
    if user_id_func is None:
        return None
    result = user_id_func(request)
    if inspect.isawaitable(result):
        result = await result
    return result


async def call_storage(
    manager: Any,  # the BYOKManager whose method is called
    fn: Callable[..., Any],  # that method (or a partial of it)
    *args: Any,  # its arguments
) -> Any:
    """Run a manager call: inline when its storage does no I/O (session), else in the thread pool."""
    if not manager.blocks:
        return fn(*args)
    return await run_in_threadpool(fn, *args)
