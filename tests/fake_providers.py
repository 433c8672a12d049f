"""A real HTTP server on 127.0.0.1 that answers key checks the way the providers do.

The key chooses the answer (its first "-"-separated word naming one, so `sk-proj-valid-…`
still fits OpenAI's key pattern): ``valid`` → 200 with the provider's
JSON shape, ``invalid`` → 401 (Gemini: 400 with ``API_KEY_INVALID``), ``forbidden`` → 403,
``ratelimit`` → 429 with ``Retry-After: 7``, ``slow`` → answers after `SLOW_SECONDS`, ``error``
→ 500, ``down`` → 503, ``huge`` → a body larger than any cap, ``flood`` → an endless body without a length, ``trickle`` → a body
sent a byte at a time, ``redirect`` → 302 to the cloud metadata address, ``html`` → 200 with a web page, ``missing`` → 404. Every request is recorded
(method, path, headers) so tests can see exactly what was sent.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLOW_SECONDS = 2.0  # how long a "slow" key waits before answering
KEY_HEADERS = ("authorization", "x-api-key", "x-goog-api-key", "api-key")  # where keys travel
SHAPES = {  # KeyCheck.expect -> a valid answer of that shape
    "data": {"object": "list", "data": [{"id": "model-1"}]},
    "models": {"models": [{"name": "models/model-1"}]},
    "[]": [{"id": "model-1"}],
    "name": {"name": "someone", "type": "user"},
    "username": {"type": "user", "username": "someone"},
    None: {"data": [{"id": "model-1"}]},
}


@dataclass
class Seen:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass
class FakeProviders:
    """The running server: its base URL and what it saw."""

    url: str
    seen: list[Seen] = field(default_factory=list)
    shape: object = "data"  # which valid-answer shape to send (set per test)
    gemini: bool = False  # answer an invalid key the way Gemini does (400 API_KEY_INVALID)
    trickled: list[int] = field(default_factory=list)  # per trickle answer: bytes the client took


KINDS = frozenset(
    [
        "valid",
        "invalid",
        "forbidden",
        "ratelimit",
        "slow",
        "error",
        "down",
        "huge",
        "flood",
        "trickle",
        "redirect",
        "html",
        "missing",
    ]
)


def kind_of(key: str) -> str:
    """The answer a key asks for: its first "-"-separated word starting with one (sk-proj-valid-…,
    or validAAAA… for patterns without "-"); longer kinds first, so "invalid" is not "valid"."""
    ordered = sorted(KINDS, key=len, reverse=True)
    return next((k for w in key.split("-") for k in ordered if w.startswith(k)), "")


def _key(headers: dict[str, str]) -> str:
    for name in KEY_HEADERS:
        if name in headers:
            return headers[name].removeprefix("Bearer ").strip()
    return ""


def _handler(state: FakeProviders) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _send(self, status: int, body: bytes, ctype: str, extra: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, data: object, extra: dict | None = None) -> None:
            self._send(status, json.dumps(data).encode(), "application/json", extra)

        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.seen.append(Seen("GET", self.path, headers))
            kind = kind_of(_key(headers))
            if kind == "valid":
                self._json(200, SHAPES[state.shape])
            elif kind == "invalid" and state.gemini:
                error = {"code": 400, "status": "INVALID_ARGUMENT", "details": [
                    {"reason": "API_KEY_INVALID"}]}  # fmt: skip
                self._json(400, {"error": error})
            elif kind == "invalid" or not kind:
                self._json(
                    401, {"error": {"message": f"Incorrect API key provided: {_key(headers)}"}}
                )
            elif kind == "forbidden":
                self._json(403, {"error": "forbidden"})
            elif kind == "ratelimit":
                self._json(429, {"error": "slow down"}, {"Retry-After": "7"})
            elif kind == "slow":
                time.sleep(SLOW_SECONDS)
                self._json(200, SHAPES[state.shape])
            elif kind == "error":
                self._json(500, {"error": "internal"})
            elif kind == "down":
                self._json(503, {"error": "overloaded"})
            elif kind == "huge":
                self._send(200, b"[" + b"0," * (3 << 20) + b"0]", "application/json")
            elif kind == "flood":  # no Content-Length: only the reader's cap stops it
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                for _ in range(48):
                    self.wfile.write(b" " * 65536)
            elif kind == "trickle":  # headers at once, then a byte at a time
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "40")
                self.end_headers()
                sent = 0
                try:
                    for _ in range(40):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        sent += 1
                        time.sleep(SLOW_SECONDS / 40)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up before the whole body
                finally:
                    state.trickled.append(sent)
            elif kind == "redirect":
                self._send(302, b"", "text/plain", {"Location": "http://169.254.169.254/latest/"})
            elif kind == "html":
                self._send(200, b"<html><body>Welcome</body></html>", "text/html")
            elif kind == "missing":
                self._json(404, {"error": "not found"})
            else:
                self._json(401, {"error": "unknown key"})

    return Handler


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up early (the point of the slow answers) is not an error


class Server:
    """Start/stop the fake provider server on a free 127.0.0.1 port."""

    def __init__(self) -> None:
        self.httpd = _Quiet(("127.0.0.1", 0), BaseHTTPRequestHandler)
        host, port = self.httpd.server_address[:2]
        self.state = FakeProviders(f"http://{host}:{port}")
        self.httpd.RequestHandlerClass = _handler(self.state)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> FakeProviders:
        self.thread.start()
        return self.state

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
