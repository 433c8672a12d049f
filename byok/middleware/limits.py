"""Limits on request bodies, enforced before FastHTML parses them.

FastHTML parses every request's body before any beforeware or handler runs, and a JSON body
nested about a thousand levels deep (2 KB of ``[``) makes that parse raise `RecursionError`: a
500 on every route, before any check of byok's can answer. `BodyLimit` is a small ASGI
middleware that reads the body first and answers 413 for one over `max_bytes` and 400 for JSON
nested deeper than `max_depth`, then hands the body on unchanged. `mount_key_routes` installs
it for its own prefix; an app protects its own routes with
``app.add_middleware(BodyLimit, paths=["/"])``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fasthtml.common import Body, Head, Html, Main, Title, to_xml
from starlette.requests import HTTPConnection
from starlette.responses import HTMLResponse, JSONResponse, Response

from byok.components.alerts import Alert, Toast
from byok.components.variants import AlertKind
from byok.components.wiring import PROBLEM_HEADER, TOAST_CONTAINER_ID

from .beforeware import RequestKind, request_kind

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_DEPTH", "BodyLimit", "json_too_deep"]

log = logging.getLogger("byok")

DEFAULT_MAX_BYTES = 64 * 1024  # a key route's body is a key (≤ 1 KB), a provider and a token
DEFAULT_MAX_DEPTH = 32  # JSON nesting accepted; the key routes take flat objects
_OPENERS, _CLOSERS = frozenset(b"[{"), frozenset(b"]}")
_QUOTE, _BACKSLASH = ord('"'), ord("\\")


def json_too_deep(
    body: bytes,  # a request body (JSON, possibly malformed)
    max_depth: int,  # deepest nesting accepted
) -> bool:
    """True when `body` nests arrays / objects deeper than `max_depth` (strings are skipped)."""
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False  # cannot be deeper than it has brackets
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPENERS:
            depth += 1
            if depth > max_depth:
                return True
        elif byte in _CLOSERS:
            depth -= 1
    return False


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class BodyLimit:
    """ASGI middleware: 413 for a body over `max_bytes`, 400 for JSON nested over `max_depth`,
    on paths under `paths` (other requests pass untouched)."""

    def __init__(
        self,
        app: Any,  # the ASGI app to wrap
        paths: Sequence[str] = ("/",),  # path prefixes the limits apply to
        max_bytes: int = DEFAULT_MAX_BYTES,  # largest body accepted, in bytes
        max_depth: int = DEFAULT_MAX_DEPTH,  # deepest JSON nesting accepted
    ):
        self.app = app
        self.prefixes = tuple(p.rstrip("/") for p in paths)
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    def applies(
        self,
        path: str,  # the request path
    ) -> bool:
        """True when `path` is under one of the prefixes."""
        return any(not p or path == p or path.startswith(p + "/") for p in self.prefixes)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.applies(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        length = conn.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(conn, 413, "body_too_large")(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(conn, 413, "body_too_large")(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if _is_json(conn.headers.get("content-type", "")) and json_too_deep(body, self.max_depth):
            await self._refuse(conn, 400, "body_too_deep")(scope, receive, send)
            return
        request = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replay([request], receive), send)

    def _refuse(self, conn: HTTPConnection, status: int, code: str) -> Response:
        """The refusal, in the form the request expects (JSON, an htmx toast, a page)."""
        detail = (
            f"The request body is larger than {self.max_bytes} bytes"
            if status == 413
            else f"The request body nests JSON deeper than {self.max_depth} levels"
        )
        log.warning("byok refused a request body on %s: %s", conn.url.path, code)
        kind = request_kind(conn)
        if kind is RequestKind.JSON:
            return JSONResponse({"error": code, "detail": detail}, status_code=status)
        if kind is RequestKind.HTMX:  # as problem_response answers: a toast byok.js shows
            headers = {
                "HX-Retarget": f"#{TOAST_CONTAINER_ID}",
                "HX-Reswap": "afterbegin",
                PROBLEM_HEADER: code,
            }
            toast = Toast(detail, AlertKind.ERROR, duration=0)
            return HTMLResponse(to_xml(toast), status_code=status, headers=headers)
        page = Html(
            Head(Title("Request refused")),
            Body(Main(Alert(detail, AlertKind.ERROR, title="Request refused"), cls="p-6")),
        )
        return HTMLResponse(to_xml(page), status_code=status)


def _replay(messages: list[dict], receive: Any) -> Any:
    """A `receive` that gives back the messages already read, then the client's own."""

    async def replayed() -> dict:
        return messages.pop(0) if messages else await receive()

    return replayed
