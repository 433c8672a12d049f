"""Request context: which BYOKManager serves a request, whose keys it is about, and how to call it.

The one rule for finding the manager (`find_manager`, `app_manager`) lives in `byok.core.context`
so that the components can use it too; it is importable from here as well. This module adds the
user (`resolve_user_id`) and the call (`call_storage`: inline, or in the thread pool when the
storage blocks).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from byok.core.context import MANAGER_ATTR, SCOPE_KEY, app_manager, find_manager

__all__ = [
    "MANAGER_ATTR",
    "SCOPE_KEY",
    "UserIdFunc",
    "app_manager",
    "call_storage",
    "find_manager",
    "resolve_user_id",
]

UserIdFunc = Callable[[Any], Any]  # request -> user id (str/int/None), sync or async


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
