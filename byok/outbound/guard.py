"""The SSRF guard: a URL becomes a `Target` (checked addresses to connect to) or a
`BlockedURLError`, before any packet is sent. See `byok.outbound` for the model.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from byok.core.types import BYOKException

__all__ = [
    "BlockedURLError",
    "OutboundError",
    "OutboundTimeout",
    "Resolver",
    "Target",
    "TooLargeError",
    "URLGuard",
    "UnreachableError",
    "address_problem",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Iterable[str]]  # (host, port) -> IP addresses as text

MAX_URL_LENGTH = 2048  # longest URL accepted
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x20\x7f\\]")  # whitespace, control characters, backslash
_NUMERIC_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")  # one inet_aton part
_PATH_SAFE = "/%:@!$&'()*+,;=-._~?"  # kept as typed; anything else is percent-encoded


class OutboundError(BYOKException):
    """An outbound request failed; the message is for a user and never holds a secret."""


class BlockedURLError(OutboundError):
    """The SSRF guard refused the URL before any connection was made."""


class UnreachableError(OutboundError):
    """The host could not be resolved or reached (DNS, connection refused, TLS)."""


class OutboundTimeout(UnreachableError):
    """The request did not complete within its deadline."""


class TooLargeError(OutboundError):
    """The answer was larger than the policy's max_bytes."""


def _net(*cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean instance metadata
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.253",  # AWS DNS resolver
        "100.100.100.200",  # Alibaba Cloud metadata
        "168.63.129.16",  # Azure WireServer (a public-range address reachable from VMs)
        "fd00:ec2::254",  # AWS metadata over IPv6
    )
)
# (networks, reason) in order; the first match names why an address is refused
_CLASSES: tuple[tuple[tuple[Any, ...], str], ...] = (
    (_net("0.0.0.0/8", "::/128"), "an unspecified address"),
    (_net("127.0.0.0/8", "::1/128"), "a loopback address"),
    (_net("169.254.0.0/16", "fe80::/10"), "a link-local address"),
    (_net("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"), "a private network address"),
    (_net("100.64.0.0/10"), "a carrier-grade NAT address"),
    (_net("fc00::/7", "fec0::/10"), "an IPv6 unique-local address"),
    (_net("224.0.0.0/4", "ff00::/8"), "a multicast address"),
    (_net("240.0.0.0/4", "::/8"), "a reserved address"),  # ::/8: IETF-reserved, unrouted
    (_net("2001::/32"), "a Teredo tunnel address"),  # a client's tunnel, never a server
)
# what an allowed host name may resolve to (a local model server); never metadata or link-local
_BY_NAME = frozenset(
    {
        "a loopback address",
        "a private network address",
        "a carrier-grade NAT address",
        "an IPv6 unique-local address",
    }
)
_INSIDE = " inside an IPv6 address"


_SIIT = ipaddress.ip_network("::ffff:0:0:0/96")  # IPv4-translated (SIIT, RFC 6145 / 7915)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # NAT64's well-known prefix (RFC 6052)
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # local-use NAT64 (RFC 8215)
_TEREDO = ipaddress.ip_network("2001::/32")  # Teredo tunnels (RFC 4380)
_LOCAL_NAT64_LENGTHS = (96, 64, 56, 48)  # the RFC 6052 prefix lengths a /48 leaves open


def _rfc6052(
    value: int,  # an IPv6 address as an integer
    length: int,  # the NAT64 prefix length (32-64 or 96)
) -> ipaddress.IPv4Address:
    """The IPv4 address RFC 6052 embeds under a /`length` prefix (bits 64-71 are skipped)."""
    if length == 96:
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    above = 64 - length  # IPv4 bits before bit 64; the rest follow bits 64-71
    head = (value >> 64) & ((1 << above) - 1)
    tail = (value >> (24 + above)) & ((1 << (32 - above)) - 1)
    return ipaddress.IPv4Address((head << (32 - above)) | tail)


def _embedded_v4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address carries or reaches (mapped, compatible, SIIT, NAT64,
    6to4, Teredo); every reading is returned where the form leaves it open."""
    if ip.ipv4_mapped is not None:
        return (ip.ipv4_mapped,)
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    value = int(ip)
    if value >> 32 == 0 and value > 1:  # ::a.b.c.d, IPv4-compatible (deprecated)
        return (ipaddress.IPv4Address(value & 0xFFFFFFFF),)
    if ip in _SIIT or ip in _NAT64:  # ::ffff:0:a.b.c.d, 64:ff9b::a.b.c.d
        return (ipaddress.IPv4Address(value & 0xFFFFFFFF),)
    if ip in _NAT64_LOCAL:  # the operator picks the prefix length: every reading counts
        return tuple(dict.fromkeys(_rfc6052(value, n) for n in _LOCAL_NAT64_LENGTHS))
    if ip in _TEREDO and ip.teredo is not None:
        server, client = ip.teredo
        return (client, server)
    return ()


def address_problem(
    ip: IPAddress,  # a resolved address
) -> str | None:
    """Why the guard refuses this address by default ("a loopback address", ...), or None."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        for v4 in inner:
            problem = address_problem(v4)
            if problem:
                return f"{problem}{_INSIDE}"
        if inner and ip not in _TEREDO:  # a Teredo address is refused below whatever it holds
            return None
    if ip in _METADATA:
        return "a cloud metadata address"
    for networks, reason in _CLASSES:
        if any(ip in n for n in networks):
            return reason
    if not ip.is_global:
        return "a reserved or special-purpose address"
    return None


def _part_value(part: str) -> int:
    """One inet_aton part: 0x hex, leading-zero octal, else decimal."""
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    return int(part, 8 if part[0] == "0" else 10)


def _numeric_ipv4(host: str) -> ipaddress.IPv4Address | bool | None:
    """An IPv4 address spelled as inet_aton reads it (decimal, octal, hex, 1-4 parts); None for
    a host name; False for a number that is no address (too large)."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # a trailing dot
    if not 1 <= len(parts) <= 4 or not all(_NUMERIC_PART.fullmatch(p) for p in parts):
        return None
    nums = [_part_value(p) for p in parts]
    *head, last = nums
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return False
    value = last
    for i, n in enumerate(head):
        value |= n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


@dataclass(frozen=True)
class Target:
    """A URL the guard accepted: where to connect (checked addresses) and what to send."""

    scheme: str  # "http" or "https"
    host: str  # host name (IDNA) or address, for the Host header and TLS
    port: int  # TCP port
    path: str  # path and query, percent-encoded
    addresses: tuple[str, ...]  # every resolved address, each checked; connect to these only

    @property
    def origin(self) -> tuple[str, str, int]:
        """(scheme, host, port): a redirect leaving it drops the caller's headers."""
        return self.scheme, self.host, self.port

    @property
    def url(self) -> str:
        """The URL as it is requested (no credentials: the guard refuses them)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = {"http": 80, "https": 443}[self.scheme]
        port = "" if self.port == default else f":{self.port}"
        return f"{self.scheme}://{host}{port}{self.path}"


_DNS = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="byok-dns")


def _system_resolver(host: str, port: int) -> list[str]:
    """The system's addresses for host (getaddrinfo, TCP)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class URLGuard:
    """Parses, spells, resolves once and checks a URL; allowlists are the app's explicit opt-in."""

    def __init__(
        self,
        *,
        allow_hosts: Iterable[str] = (),  # host names allowed to resolve to private addresses
        allow_networks: Iterable[str] = (),  # CIDRs always allowed, e.g. "127.0.0.1/32"
        resolver: Resolver | None = None,  # (host, port) -> addresses; None = the system's
    ):
        if isinstance(allow_hosts, str) or isinstance(allow_networks, str):
            raise ValueError("allow_hosts and allow_networks are lists, not one string")
        self.allow_hosts = frozenset(h.strip().lower().rstrip(".") for h in allow_hosts)
        try:
            self.allow_networks = tuple(
                ipaddress.ip_network(n, strict=False) for n in allow_networks
            )
        except (TypeError, ValueError) as e:
            raise ValueError(f"allow_networks: {e}") from None
        self.resolver = resolver

    def _refuse(self, why: str) -> BlockedURLError:
        return BlockedURLError(why)

    def _check(self, ip: IPAddress, host: str) -> None:
        """Refuse an address unless it is public or the app allowed it."""
        if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
            raise self._refuse("IPv6 zone ids are not allowed")
        if any(ip.version == n.version and ip in n for n in self.allow_networks):
            return
        problem = address_problem(ip)
        if problem is None:
            return
        if host in self.allow_hosts and problem.removesuffix(_INSIDE) in _BY_NAME:
            return
        where = host if str(ip) == host else f"{host} ({ip})"
        raise self._refuse(f"{where} is {problem}; byok does not connect there")

    def _resolve(self, host: str, port: int, deadline: float) -> list[IPAddress]:
        """Every address of host, resolved once within the deadline."""
        if self.resolver is not None:
            found = list(self.resolver(host, port))
        else:
            future = _DNS.submit(_system_resolver, host, port)
            try:
                found = future.result(timeout=max(0.001, deadline - time.monotonic()))
            except concurrent.futures.TimeoutError:
                raise OutboundTimeout(f"looking up {host} took too long") from None
            except (OSError, UnicodeError):
                raise UnreachableError(f"{host} could not be found (DNS)") from None
        addresses = []
        for text in found:
            try:
                addresses.append(ipaddress.ip_address(str(text)))
            except ValueError:
                raise self._refuse(f"{host} resolved to something that is not an address") from None
        if not addresses:
            raise UnreachableError(f"{host} could not be found (DNS)")
        return addresses

    def target(
        self,
        url: str,  # an http(s) URL from the app or a user
        deadline: float | None = None,  # time.monotonic() limit for the DNS lookup
    ) -> Target:
        """Parse, resolve once and check every address; BlockedURLError before any connection."""
        if not isinstance(url, str) or not url:
            raise self._refuse("the URL is empty")
        if len(url) > MAX_URL_LENGTH:
            raise self._refuse(f"the URL is longer than {MAX_URL_LENGTH} characters")
        if _FORBIDDEN_CHARS.search(url):
            raise self._refuse("the URL contains whitespace, control characters or '\\'")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise self._refuse("the URL is malformed (host or port)") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise self._refuse("only http and https URLs are allowed")
        if "@" in parts.netloc:
            raise self._refuse("URLs may not carry credentials (user:password@)")
        raw = parts.hostname or ""
        if not raw:
            raise self._refuse("the URL has no host")
        if "%" in raw:
            raise self._refuse("IPv6 zone ids and percent-encoded hosts are not allowed")
        if port is None:
            port = 443 if scheme == "https" else 80
        if not 1 <= port <= 65535:
            raise self._refuse("the port must be 1-65535")
        host, literal = self._spell(raw)
        deadline = deadline if deadline is not None else time.monotonic() + 5.0
        ips = [literal] if literal is not None else self._resolve(host, port, deadline)
        for ip in ips:
            self._check(ip, host)
        path = quote(parts.path or "/", safe=_PATH_SAFE)
        if parts.query:
            path += "?" + quote(parts.query, safe=_PATH_SAFE)
        return Target(scheme, host, port, path, tuple(str(ip) for ip in ips))

    def _spell(self, raw: str) -> tuple[str, IPAddress | None]:
        """(host as sent, its address when the host is one: literal or numeric IPv4)."""
        host = raw.rstrip(".") or raw
        try:
            ip = ipaddress.ip_address(host)
            return str(ip), ip
        except ValueError:
            pass
        numeric = _numeric_ipv4(host)
        if numeric is False:
            raise self._refuse(f"{host} is a number that is not an IPv4 address")
        if numeric is not None:
            return str(numeric), numeric
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise self._refuse("the host name is not a valid domain name") from None
        if host == "localhost" or host.endswith(".localhost"):
            if host in self.allow_hosts:
                return host, None
            raise self._refuse(f"{host} is a loopback name; byok does not connect there")
        return host, None
