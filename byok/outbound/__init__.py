"""Every outbound HTTP request byok makes, behind the SSRF guard (stdlib only: http.client).

A URL goes through one pipeline, `OutboundPolicy.target`, before any packet is sent:

1. parse: only ``http``/``https``; no credentials (``user:pass@``); no whitespace, control
   characters or backslashes; a port in 1-65535; IPv6 zone ids refused;
2. spell the host once: IPv4 in decimal, octal, hex or short form (``2130706433``,
   ``0177.0.0.1``, ``0x7f.1``, ``127.1``) is read as the address it means, IDNA names are
   encoded, ``localhost`` names are loopback without asking DNS;
3. resolve once (the injected resolver, else the system's) and check *every* address: loopback,
   private, link-local and cloud metadata, carrier-grade NAT, multicast, unspecified, reserved,
   IPv6 unique-local, and IPv4 embedded in IPv6 (mapped, compatible, NAT64, 6to4) are refused
   unless the app allowed them;
4. connect to the checked address (pinned: the name is never resolved again, so a DNS answer
   that changes between check and connect cannot redirect the request); TLS still verifies the
   certificate against the host name.

Answers are size-capped (``max_bytes``), the whole request has one deadline (``timeout``), and a
redirect is followed only when ``max_redirects`` allows it, through the same pipeline, without
the caller's headers when it leaves the origin. Nothing here logs or repeats a header value.

An app opts in to private addresses explicitly: ``allow_hosts`` (names that may resolve to
private addresses, e.g. a local Ollama) and ``allow_networks`` (CIDRs, e.g. ``10.0.0.0/8``);
metadata, unspecified and multicast addresses stay refused unless a network lists them.
"""

from .client import Answer, Connector, OutboundPolicy
from .guard import (
    BlockedURLError,
    OutboundError,
    OutboundTimeout,
    Resolver,
    Target,
    TooLargeError,
    UnreachableError,
    URLGuard,
    address_problem,
)

__all__ = [
    "Answer",
    "BlockedURLError",
    "Connector",
    "OutboundError",
    "OutboundPolicy",
    "OutboundTimeout",
    "Resolver",
    "Target",
    "TooLargeError",
    "URLGuard",
    "UnreachableError",
    "address_problem",
]
