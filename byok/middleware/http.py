"""HTTP answers shared by the beforeware, the guards and the routes: what a request expects (a page,
an htmx fragment or JSON) and a problem answered that way.

`problem_response` is the one shape of a refusal: JSON `{"error", "detail"}` for API clients, an
htmx fragment retargeted into the ToastContainer and marked with the `BYOK-Problem` header (which
byok.js swaps even on a 4xx), or a full page. A handler stops early by raising `Refused(answer)`;
`answering(handler)` turns it back into the response. `CheckedRouter` is FastHTML's `APIRouter`
whose routes all run the same checks first, as FastHTML per-route `before` functions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlsplit

from fasthtml.common import APIRouter, FtResponse, Main, Title
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, RedirectResponse, Response

from byok.components.alerts import Alert, SecurityAlert, Toast
from byok.components.variants import AlertKind, Severity
from byok.components.wiring import PROBLEM_HEADER, TOAST_CONTAINER_ID

__all__ = [
    "CheckedRouter",
    "Layout",
    "Refused",
    "RequestKind",
    "answering",
    "full_page",
    "next_of",
    "problem",
    "problem_response",
    "refusal",
    "request_kind",
    "safe_next",
    "sign_in",
    "wants_whole_page",
    "with_next",
]

Answer = Response | FtResponse  # what a check answers instead of the handler

Layout = Callable[..., Any]
"""`layout(*content, title=...)`: the app's own shell around a full page byok draws (never an
htmx fragment nor JSON). `content` is the page's body, in order (no Title, no Main: the shell
places it); `title` is the page's title. It returns what a FastHTML handler returns, e.g.
`(Title(title), Nav(...), Main(*content, cls="container"))`."""


class RequestKind(StrEnum):
    """What answer a request expects."""

    PAGE = "page"  # a browser navigation: HTML page, redirects
    HTMX = "htmx"  # an htmx request (HX-Request header): fragments, HX-* headers
    JSON = "json"  # an API client (Accept: application/json without text/html)


def request_kind(
    request: HTTPConnection,  # the incoming request
) -> RequestKind:
    """Whether the request wants a page, an htmx fragment or JSON."""
    headers = request.headers
    if "hx-request" in headers:
        return RequestKind.HTMX
    accept = headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        return RequestKind.JSON
    return RequestKind.PAGE


def wants_whole_page(
    request: HTTPConnection,  # an htmx request
) -> bool:
    """True for an htmx request that swaps the whole body: a boosted link or a history restore."""
    headers = request.headers
    return "hx-boosted" in headers or "hx-history-restore-request" in headers


def problem_response(
    request: HTTPConnection,  # the request being answered
    status: int,  # HTTP status (4xx / 503), never 500
    fragment: Any,  # what a person sees: an Alert, SecurityAlert or Toast
    code: str,  # machine-readable reason for JSON clients, e.g. "csrf"
    detail: str,  # the same reason in words (no secrets)
    title: str = "Request refused",  # page title for a full-page answer
    layout: Layout | None = None,  # the app's shell around a full page; None = Title + Main
) -> Answer:
    """A problem answered the way the request expects: JSON, an htmx toast or a full page."""
    kind = request_kind(request)
    if kind is RequestKind.JSON:
        return JSONResponse({"error": code, "detail": detail}, status_code=status)
    if kind is RequestKind.HTMX:  # byok.js swaps it into the ToastContainer, not the target
        headers = {
            "HX-Retarget": f"#{TOAST_CONTAINER_ID}",
            "HX-Reswap": "afterbegin",
            PROBLEM_HEADER: code,
        }
        return FtResponse(fragment, status_code=status, headers=headers)
    page = full_page(title, (fragment,), layout=layout, cls="p-6")
    return FtResponse(page, status_code=status)


def full_page(
    title: str,  # the page's title
    content: tuple[Any, ...],  # the page's body, in order
    *,
    after: tuple[Any, ...] = (),  # more body after it (scripts), outside the default Main
    layout: Layout | None = None,  # the app's shell; None = Title + Main
    cls: str | None = None,  # the default Main's class
) -> Any:
    """A full page byok draws: in the app's `layout` when it gave one, else Title + Main."""
    if layout is not None:
        return layout(*content, *after, title=title)
    return (Title(title), Main(*content, cls=cls) if cls else Main(*content), *after)


def refusal(
    request: HTTPConnection,  # the refused request
    status: int,  # HTTP status, e.g. 403
    message: str,  # what went wrong, for the user (no secrets)
    code: str = "forbidden",  # machine-readable reason for JSON clients
    severity: Severity = Severity.HIGH,  # how the SecurityAlert is coloured
) -> Answer:
    """A security refusal: JSON, or a SecurityAlert (toast for htmx, page otherwise)."""
    return problem_response(
        request, status, SecurityAlert(message, severity=severity), code, message
    )


def problem(
    request: HTTPConnection,  # the request being answered
    status: int,  # HTTP status, e.g. 404, 503
    code: str,  # machine-readable reason, e.g. "storage"
    detail: str,  # what went wrong, for the user (no secrets)
    title: str = "Request refused",  # page title for a full-page answer
    layout: Layout | None = None,  # the app's shell around a full page; None = Title + Main
) -> Answer:
    """A non-security problem (unknown item, storage down, not signed in): an error toast for
    htmx, an error Alert on a page, JSON otherwise."""
    fragment = (
        Toast(detail, AlertKind.ERROR, duration=0)
        if request_kind(request) is RequestKind.HTMX
        else Alert(detail, AlertKind.ERROR, title="Something went wrong")
    )
    return problem_response(request, status, fragment, code, detail, title=title, layout=layout)


class Refused(Exception):
    """Stops a handler early; `response` is its answer (turned back by `answering`)."""

    def __init__(
        self,
        response: Any,  # the answer the route gives instead
    ):
        super().__init__()
        self.response = response


def answering(
    handler: Callable[..., Awaitable[Any]],  # an async route handler that may raise Refused
) -> Callable[..., Awaitable[Any]]:
    """The handler as a route: a `Refused` it raises becomes its response."""

    @functools.wraps(handler)  # keeps the signature FastHTML reads the parameters from
    async def route(*args: Any, **kwargs: Any) -> Any:
        try:
            return await handler(*args, **kwargs)
        except Refused as refused:
            return refused.response

    return route


class CheckedRouter(APIRouter):
    """FastHTML's APIRouter whose every route first runs `checks` (FastHTML per-route `before`:
    the first to answer is the response) and whose handlers may raise `Refused`."""

    def __init__(
        self,
        *checks: Callable[..., Awaitable[Any]],  # async checks: an answer refuses, None passes
    ):
        super().__init__(body_wrap=None)  # None: full pages get the app's own body_wrap
        self.checks = checks

    def to_app(
        self,
        app: Any,  # the FastHTML app
    ) -> None:
        """Add the routes to `app`, each behind the checks."""
        for func, path, methods, name, schema, body_wrap in self.routes:
            route = app.route(
                path,
                methods=methods,
                name=name,
                include_in_schema=schema,
                body_wrap=body_wrap,
                before=list(self.checks),
            )
            route(answering(func))


_SAFE_NEXT = re.compile(r"/(?![/\\])[^\x00-\x1f\x7f\\]*")  # a local path, never "//" or "/\"


def safe_next(
    target: str | None,  # a would-be `next=` value
    default: str = "/",  # used when `target` is not a same-origin path
) -> str:
    """`target` when it is a same-origin absolute path (no scheme, host or '//'), else `default`."""
    if not isinstance(target, str) or len(target) > 2048 or not _SAFE_NEXT.fullmatch(target):
        return default
    try:
        parts = urlsplit(target)
    except ValueError:
        return default
    if parts.scheme or parts.netloc:
        return default
    return target


def with_next(
    url: str,  # where the user is sent, e.g. "/login" (may have a query already)
    target: str,  # where they come back to (a same-origin path)
) -> str:
    """`url` with `next=<target>` appended (URL-encoded)."""
    return f"{url}{'&' if '?' in url else '?'}next={quote(target, safe='/')}"


def next_of(
    request: HTTPConnection,  # the request of a user about to be sent elsewhere
) -> str:
    """Where the user was: the page (HX-Current-URL, same host only) or the request's own path."""
    current = request.headers.get("hx-current-url")
    if current:
        try:
            parts = urlsplit(current)
        except ValueError:  # e.g. "http://[x": not a URL, ignore it
            parts = None
        if parts is not None and parts.netloc.lower() == request.headers.get("host", "").lower():
            return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
    query = request.scope.get("query_string", b"").decode("latin-1")
    return safe_next(request.scope.get("path", "/") + (f"?{query}" if query else ""))


def sign_in(
    request: HTTPConnection,  # a signed-out user's request to a page that needs the user
    login_url: str | None,  # the app's sign-in page (setup_byok's login_url); None = a 401
    detail: str,  # why, for API clients and the 401 page
    title: str = "Sign in",  # page title of the 401 page (no login_url)
    layout: Layout | None = None,  # the app's shell around that page
) -> Answer:
    """Send a signed-out user to sign in: 303 to `login_url?next=<where they were>` (htmx:
    `HX-Redirect`); JSON clients (and every request when there is no login_url) get the 401."""
    kind = request_kind(request)
    if login_url is None or kind is RequestKind.JSON:
        return problem(request, 401, "sign_in", detail, title, layout)
    target = with_next(login_url, next_of(request))
    if kind is RequestKind.HTMX:
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
