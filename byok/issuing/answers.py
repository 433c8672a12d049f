"""What an API consumer is told besides the status, by the issued-key guards: the key's rate limit
as the IETF draft's `RateLimit-Limit`, `-Remaining`, `-Reset` and `-Policy` headers (on every
answer of a key whose limit was counted, the handler's own included), a request id on every
refusal (the client's `X-Request-Id` when sane, else a new one) and the app's `docs_url`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from fasthtml.common import HttpHeader
from starlette.requests import HTTPConnection
from starlette.responses import Response

from .limits import Quota

__all__ = [
    "REQUEST_ID_HEADER",
    "check_docs_url",
    "quota_headers",
    "request_id",
    "with_headers",
]

REQUEST_ID_HEADER = "X-Request-Id"  # the header a request id travels in, both ways
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+=/-]{0,127}")  # a client's id kept as it is
_URL_CHARS = re.compile(r"[\x21\x23-\x3b\x3d\x3f-\x7e]{1,2000}")  # ASCII, no space, " < > or \\


def request_id(
    request: HTTPConnection | None,  # the refused request (None: no request to read)
) -> str:
    """The client's X-Request-Id when it is 1-128 characters of letters, digits and `._:+=/-`
    (starting with a letter or digit), else a new random one (32 hex digits)."""
    sent = "" if request is None else request.headers.get(REQUEST_ID_HEADER, "").strip()
    return sent if _SANE_ID.fullmatch(sent) else uuid.uuid4().hex


def check_docs_url(
    url: Any,  # where the app documents its API's errors, given by the app
) -> str | None:
    """The URL (None stays None): an absolute http(s) URL or a path; else ValueError."""
    if url is None:
        return None
    if not isinstance(url, str) or not _URL_CHARS.fullmatch(url):
        raise ValueError(
            "docs_url must be a URL of printable ASCII without spaces, quotes or <>, e.g. "
            "'https://example.com/docs/errors'"
        )
    if not (url.startswith(("https://", "http://")) or (url[0] == "/" and url[1:2] != "/")):
        raise ValueError("docs_url must start with https://, http:// or a single /")
    return url


def quota_headers(
    quota: Quota,  # the key's rate limit after the call
) -> dict[str, str]:
    """The RateLimit-* headers (IETF draft-ietf-httpapi-ratelimit-headers names)."""
    return {
        "RateLimit-Limit": str(quota.limit),
        "RateLimit-Remaining": str(max(quota.remaining, 0)),
        "RateLimit-Reset": str(quota.reset),
        "RateLimit-Policy": f"{quota.limit};w={quota.window}",
    }


def with_headers(
    request: HTTPConnection,  # the request answered
    result: Any,  # what a handler returned (a Response, FT, a tuple, a dict, a string, None)
    headers: Mapping[str, str],  # the headers to add
) -> Any:
    """The handler's answer with these headers: set on a Response; under FastHTML, whatever
    else it returns gets them through `req.injects` (FastHTML's items added to every answer it
    builds), so a dict stays JSON and an FT tree HTML. Under FastAPI only a Response can."""
    if not headers:
        return result
    injects = getattr(request, "injects", None)  # set by FastHTML for each request
    if isinstance(injects, list):
        injects.extend(HttpHeader(k, v) for k, v in headers.items())
    if isinstance(result, Response):  # (an FtResponse takes the injects when FastHTML renders it)
        for name, value in headers.items():
            result.headers[name] = value
    return result
