"""The fast path: byok's beforeware as a pure ASGI middleware, for `fast_app(middleware=…)`.

FastHTML spends about 12 µs per request on *any* `before` function (it parses the form and
resolves the parameters), several times byok's own work. `BYOKMiddleware` runs the very same
chain (`byok_chain`: manager on `scope["byok"]` and `app.state.byok`, cross-site unsafe requests
refused 403, HTTPS in production, cleanup once per interval per user) straight on the ASGI scope,
and answers a refusal exactly as the beforeware does. Only HTTP requests are handled: websocket
and lifespan scopes pass through untouched.

Placement: `fast_app` appends its SessionMiddleware *after* the entries of `middleware=`, so
they sit outside the session. Cleanup of session storage (and a `user_id_func` reading the
session) needs it, so when a SessionMiddleware is found beneath, the middleware does its work
just inside it (it slots its gate under the SessionMiddleware when Starlette builds the stack).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from copy import deepcopy
from typing import Any

from fasthtml.common import FtResponse
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from byok.core.storage import BYOKManager

from .beforeware import BeforewareChain, SecurityPolicy, UserIdFunc, byok_chain

__all__ = ["BYOKMiddleware", "byok_middleware"]

_MAX_DEPTH = 64  # middleware layers searched for the SessionMiddleware


def _listify(value: Any) -> list[Any]:
    """`value` as a list (FastHTML keeps hdrs / ftrs as a list, a tuple or one item)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _render(
    request: Request,  # the refused request
    answer: Response | FtResponse,  # what the chain returned
) -> Response:
    """The Starlette Response FastHTML would send for a `before` function's answer."""
    if isinstance(answer, Response):
        return answer
    app = request.scope.get("app")
    # what FastHTML's endpoint sets on the request before rendering a page
    request.injects = []  # type: ignore[attr-defined]
    request.hdrs = _listify(deepcopy(getattr(app, "hdrs", [])))  # type: ignore[attr-defined]
    request.ftrs = _listify(deepcopy(getattr(app, "ftrs", [])))  # type: ignore[attr-defined]
    request.htmlkw = deepcopy(getattr(app, "htmlkw", {}))  # type: ignore[attr-defined]
    request.bodykw = deepcopy(getattr(app, "bodykw", {}))  # type: ignore[attr-defined]
    body_wrap = getattr(app, "body_wrap", None)
    if body_wrap is not None:
        request.body_wrap = body_wrap  # type: ignore[attr-defined]
    return answer.__response__(request)


class _Gate:
    """The ASGI app that runs the chain on each HTTP request, then calls the app it wraps."""

    def __init__(
        self,
        app: ASGIApp,  # the inner app
        before: Callable[[Request], Awaitable[Response | FtResponse | None]],  # the chain
        skip: Sequence[str],  # path regexes (fullmatch) the chain does not run on
    ):
        self.app = app
        self.before = before
        self.skip = tuple(re.compile(p) for p in skip)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            self.skip and any(p.fullmatch(scope["path"]) for p in self.skip)
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        answer = await self.before(request)
        if answer is None:
            await self.app(scope, receive, send)
            return
        await _render(request, answer)(scope, receive, send)


def _session_layer(app: Any) -> SessionMiddleware | None:
    """The first SessionMiddleware at or beneath `app` (following `.app`), if any."""
    node, seen = app, 0
    while node is not None and seen < _MAX_DEPTH:
        if isinstance(node, SessionMiddleware):
            return node
        node, seen = getattr(node, "app", None), seen + 1
    return None


class BYOKMiddleware:
    """byok's beforeware as ASGI middleware: same checks and answers, no FastHTML `before` cost."""

    def __init__(
        self,
        app: ASGIApp,  # the inner ASGI app (Starlette passes it)
        manager: BYOKManager,  # the manager to expose, check and clean
        policy: SecurityPolicy | None = None,  # None = the one setup_byok gave the manager
        user_id_func: UserIdFunc | None = None,  # request -> user id, sync or async
        enable_security_checks: bool = True,  # HTTPS in production, session cookie hardening
        enable_cleanup: bool = True,  # remove expired keys once per interval per user
        chain: BeforewareChain | None = None,  # a ready chain (overrides the four above)
        skip: Sequence[str] | None = None,  # path regexes (fullmatch) left alone
    ):
        self.app = app
        self.manager = manager
        self.chain = chain or byok_chain(
            manager, policy, user_id_func, enable_security_checks, enable_cleanup
        )
        session = _session_layer(app)
        if session is not None:  # work inside the session: cleanup and user ids may need it
            self.gate = _Gate(session.app, self.chain.function, skip or ())
            session.app = self.gate
            self._call: ASGIApp = app
        else:
            self.gate = _Gate(app, self.chain.function, skip or ())
            self._call = self.gate

    async def __call__(
        self,
        scope: Scope,  # the ASGI connection scope
        receive: Receive,  # ASGI receive channel
        send: Send,  # ASGI send channel
    ) -> None:
        """Run byok's chain on HTTP requests (where the gate sits); pass everything else."""
        await self._call(scope, receive, send)


def byok_middleware(
    manager: BYOKManager,  # the manager, e.g. from setup_byok
    policy: SecurityPolicy | None = None,  # None = the one setup_byok gave the manager
    user_id_func: UserIdFunc | None = None,  # request -> user id, sync or async
    enable_security_checks: bool = True,  # HTTPS in production, session cookie hardening
    enable_cleanup: bool = True,  # remove expired keys once per interval per user
    chain: BeforewareChain | None = None,  # a ready chain (overrides the four above)
    skip: Sequence[str] | None = None,  # path regexes (fullmatch) left alone
) -> Middleware:
    """A Starlette `Middleware(BYOKMiddleware, …)` for `fast_app(middleware=[…])`."""
    return Middleware(
        BYOKMiddleware,
        manager=manager,
        policy=policy,
        user_id_func=user_id_func,
        enable_security_checks=enable_security_checks,
        enable_cleanup=enable_cleanup,
        chain=chain,
        skip=skip,
    )
