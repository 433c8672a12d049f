"""The base of byok's beforeware (`_Before`): an async callable FastHTML calls as a `before`
function, whose work is a synchronous `check(request)`."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable

from starlette.requests import Request

from .http import Answer

__all__ = ["_Before"]


class _Before:
    """Base of byok's beforeware: an async callable taking the request, with a cached signature.

    The work is in `check(request)`, synchronous: None lets the request through, a response
    answers it, and a coroutine is awaited when there is I/O to do (a sweep, an async user id).
    A chain calls `check` directly, so a request that needs nothing costs no coroutine."""

    def __init__(self) -> None:
        # FastHTML inspects a before function's signature on every request: give it one ready
        self.__signature__ = inspect.signature(self.__call__, eval_str=True)

    def check(
        self,
        req: Request,  # the incoming request
    ) -> Answer | Awaitable[Answer | None] | None:
        """None to let the request through, else its answer (or a coroutine giving one)."""
        raise NotImplementedError

    async def __call__(
        self,
        req: Request,  # the incoming request
    ) -> Answer | None:
        """The beforeware as FastHTML calls it: `check`, awaited when it has I/O to do."""
        found = self.check(req)
        return await found if inspect.isawaitable(found) else found
