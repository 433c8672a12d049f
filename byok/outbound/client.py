"""The pinned HTTP client: `OutboundPolicy.fetch` sends one request to the addresses the guard
checked, under one deadline, reading at most `max_bytes`. See `byok.outbound` for the model.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from byok.core.bounds import bounded_int, bounded_seconds

from .guard import (
    OutboundError,
    OutboundTimeout,
    Resolver,
    Target,
    TooLargeError,
    UnreachableError,
    URLGuard,
)

__all__ = ["Answer", "Connector", "OutboundPolicy"]

Connector = Callable[[str, int, float], socket.socket]  # (address, port, timeout) -> socket

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 65536


@dataclass(frozen=True)
class Answer:
    """An HTTP answer read within the policy's limits."""

    status: int  # HTTP status code
    headers: Mapping[str, str]  # header names in lower case
    body: bytes  # at most max_bytes
    url: str  # the URL that gave this answer

    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None


def _tcp_connect(address: str, port: int, timeout: float) -> socket.socket:
    return socket.create_connection((address, port), timeout=timeout)


class _Pinned(http.client.HTTPConnection):
    """HTTP to a checked address; the Host header still names the host."""

    def __init__(self, target: Target, opener: Callable[[], socket.socket], timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._opener = opener

    def connect(self) -> None:
        self.sock = self._opener()


class _PinnedTLS(http.client.HTTPSConnection):
    """HTTPS to a checked address; the certificate is verified against the host name."""

    def __init__(
        self,
        target: Target,
        opener: Callable[[], socket.socket],
        timeout: float,
        context: ssl.SSLContext,
    ):
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._opener = opener

    def connect(self) -> None:
        self.sock = self._context.wrap_socket(self._opener(), server_hostname=self.host)


class OutboundPolicy:
    """The SSRF guard and the pinned HTTP client every byok outbound request goes through."""

    def __init__(
        self,
        *,
        allow_hosts: Iterable[str] = (),  # host names allowed to resolve to private addresses
        allow_networks: Iterable[str] = (),  # CIDRs always allowed, e.g. "127.0.0.1/32"
        timeout: float = 5.0,  # seconds for the whole request (DNS, connect, TLS, answer)
        max_bytes: int = 1 << 20,  # largest answer body read, in bytes
        max_redirects: int = 0,  # redirects followed (each re-checked); 0 = none
        resolver: Resolver | None = None,  # (host, port) -> addresses; None = the system's
        connect: Connector | None = None,  # (address, port, timeout) -> socket; None = TCP
        tls: ssl.SSLContext | None = None,  # TLS settings; None = the system's trust store
    ):
        timeout = bounded_seconds(timeout, "timeout", error=ValueError)  # finite: a deadline
        bounded_int(max_bytes, "max_bytes", low=1, error=ValueError)  # a read() size
        if not isinstance(max_redirects, int) or not 0 <= max_redirects <= 10:
            raise ValueError("max_redirects must be an int from 0 to 10")
        self.guard = URLGuard(
            allow_hosts=allow_hosts, allow_networks=allow_networks, resolver=resolver
        )
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.connect = connect or _tcp_connect
        self.tls = tls

    def target(
        self,
        url: str,  # an http(s) URL from the app or a user
    ) -> Target:
        """The guard's verdict on a URL: a Target, or BlockedURLError (nothing is sent)."""
        return self.guard.target(url, time.monotonic() + self.timeout)

    def fetch(
        self,
        method: str,  # "GET", "POST", ...
        url: str,  # the URL (checked by the guard first)
        headers: Mapping[str, str] | None = None,  # request headers (sent to the origin only)
        body: bytes | None = None,  # request body
    ) -> Answer:
        """One request within the policy: checked, pinned, size-capped, under one deadline."""
        deadline = time.monotonic() + self.timeout
        target = self.guard.target(url, deadline)
        origin, sent = target.origin, dict(headers or {})
        hops = 0
        while True:
            answer = self._send(method, target, sent, body, deadline)
            location = answer.headers.get("location")
            if answer.status not in _REDIRECTS or not location or hops == self.max_redirects:
                return answer
            hops += 1
            target = self.guard.target(urljoin(target.url, location), deadline)
            if answer.status == 303 or (answer.status in (301, 302) and method == "POST"):
                method, body = "GET", None
            if target.origin != origin:
                sent = {}  # never carry the caller's headers (credentials) to another origin

    def _opener(self, target: Target, deadline: float) -> Callable[[], socket.socket]:
        """Connects to the first checked address that accepts (never resolving again)."""

        def open_socket() -> socket.socket:
            refused = False
            for address in target.addresses:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    return self.connect(address, target.port, remaining)
                except TimeoutError:
                    break
                except OSError:
                    refused = True
            if refused:
                raise UnreachableError(f"{target.host} refused the connection")
            raise OutboundTimeout(f"{target.host} did not answer in time")

        return open_socket

    def _send(
        self,
        method: str,
        target: Target,
        headers: dict[str, str],
        body: bytes | None,
        deadline: float,
    ) -> Answer:
        """Send one request over a pinned connection and read its answer within the deadline."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise OutboundTimeout(f"{target.host} did not answer in time")
        opener = self._opener(target, deadline)
        if target.scheme == "https":
            context = self.tls or ssl.create_default_context()
            conn: http.client.HTTPConnection = _PinnedTLS(target, opener, remaining, context)
        else:
            conn = _Pinned(target, opener, remaining)
        expired = threading.Event()

        def abort() -> None:  # the deadline covers every read, even an answer sent byte by byte
            expired.set()
            sock = conn.sock
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(remaining, abort)
        timer.daemon = True
        timer.start()
        try:
            conn.request(method, target.path, body=body, headers=headers)
            answer = self._read(conn.getresponse(), target)
            if expired.is_set():  # cut short by the deadline: what was read is not the answer
                raise OutboundTimeout(f"{target.host} did not answer in time")
            return answer
        except OutboundError:
            raise
        except ValueError:  # http.client refused a header or the path: never repeat its text
            raise OutboundError("the request could not be built (an invalid header)") from None
        except ssl.SSLError:
            if expired.is_set():
                raise OutboundTimeout(f"{target.host} did not answer in time") from None
            raise UnreachableError(f"the secure connection to {target.host} failed") from None
        except (OSError, http.client.HTTPException) as e:
            if expired.is_set() or isinstance(e, TimeoutError):
                raise OutboundTimeout(f"{target.host} did not answer in time") from None
            raise UnreachableError(f"the connection to {target.host} failed") from None
        finally:
            timer.cancel()
            conn.close()

    def _read(self, response: http.client.HTTPResponse, target: Target) -> Answer:
        """Status, headers and a body of at most max_bytes (TooLargeError beyond)."""
        headers = {k.lower(): v for k, v in response.getheaders()}
        too_large = TooLargeError(
            f"the answer from {target.host} is larger than {self.max_bytes:,} bytes"
        )
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large
        chunks, size = [], 0
        while chunk := response.read(_CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                raise too_large
            chunks.append(chunk)
        return Answer(response.status, headers, b"".join(chunks), target.url)
