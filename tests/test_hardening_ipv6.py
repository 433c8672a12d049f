"""Issue 22, defect 7: the SSRF guard reads every IPv6 form that carries an IPv4 address
(IPv4-mapped, IPv4-compatible, SIIT ::ffff:0:a.b.c.d, 6to4, NAT64 64:ff9b::/96 and the
local-use 64:ff9b:1::/48 at every RFC 6052 prefix length, Teredo) and judges it by that
address's class. No packet leaves: literals, and names answered by an injected resolver."""

from __future__ import annotations

import ipaddress

import pytest

from byok.outbound import BlockedURLError, URLGuard, address_problem

# --------------------------------------------------------------------------- 7: IPv6 forms

V4 = {  # an IPv4 address of each class, and the reason the guard gives for it
    "127.0.0.1": "loopback",
    "10.0.0.1": "private network",
    "169.254.169.254": "cloud metadata",
    "169.254.1.1": "link-local",
    "100.64.0.1": "carrier-grade NAT",
    "0.0.0.0": "unspecified",
    "224.0.0.1": "multicast",
}
PUBLIC = "8.8.8.8"


def _u32(v4: str) -> int:
    return int(ipaddress.IPv4Address(v4))


def _groups(value: int) -> str:
    """An IPv6 address from an integer, spelled in full (8 groups)."""
    return ":".join(f"{(value >> (112 - 16 * i)) & 0xFFFF:x}" for i in range(8))


def _nat64_local(v4: str, length: int) -> str:
    """RFC 6052's layout under a /length prefix inside 64:ff9b:1::/48 (bits 64-71 stay 0)."""
    a = _u32(v4)
    prefix = int(ipaddress.IPv6Address("64:ff9b:1::"))
    if length == 96:
        return _groups(prefix | a)
    above = 64 - length  # IPv4 bits before bit 64
    head, tail = a >> (32 - above), a & ((1 << (32 - above)) - 1)
    return _groups(prefix | head << 64 | tail << (56 - (32 - above)))


def _teredo(client: str, server: str = "65.54.227.120") -> str:
    """A Teredo address: 2001:0, the server, flags and port, the client's address inverted."""
    return _groups(
        0x20010000 << 96 | _u32(server) << 64 | 0x8000_63BF << 32 | ~_u32(client) & 0xFFFFFFFF
    )


FORMS = {  # each IPv6 form that carries an IPv4 address: IPv4 text -> the IPv6 address
    "mapped": lambda v4: f"::ffff:{v4}",
    "compatible": lambda v4: _groups(_u32(v4)) if _u32(v4) > 1 else f"::{v4}",
    "siit": lambda v4: f"::ffff:0:{v4}",
    "6to4": lambda v4: _groups(0x2002 << 112 | _u32(v4) << 80 | 1),
    "nat64": lambda v4: f"64:ff9b::{v4}",
    "nat64-local/96": lambda v4: _nat64_local(v4, 96),
    "nat64-local/64": lambda v4: _nat64_local(v4, 64),
    "nat64-local/56": lambda v4: _nat64_local(v4, 56),
    "nat64-local/48": lambda v4: _nat64_local(v4, 48),
    "teredo": _teredo,
}


def _guard() -> URLGuard:
    def resolver(host: str, port: int) -> list[str]:
        return [DNS[host]]

    return URLGuard(resolver=resolver)


DNS: dict[str, str] = {}


CASES = [  # ::0.0.0.0 is :: itself, refused as the unspecified address (not as a form)
    (form, v4) for form in FORMS for v4 in V4 if (form, v4) != ("compatible", "0.0.0.0")
]


@pytest.mark.parametrize(("form", "v4"), CASES)
def test_an_ipv6_form_carrying_a_forbidden_ipv4_is_refused_by_its_class(form: str, v4: str) -> None:
    """Literal and resolved: ::ffff:0:127.0.0.1 is loopback, as ::ffff:127.0.0.1 already was.
    (A local-use NAT64 address is named by the first of its readings that is refused.)"""
    address = FORMS[form](v4)
    problem = address_problem(ipaddress.ip_address(address))
    assert problem is not None and problem.endswith("inside an IPv6 address")
    reason = "inside an IPv6 address" if form.startswith("nat64-local/") else V4[v4]
    assert reason in problem
    name = f"{form.replace('/', '-')}.attacker.example"
    DNS[name] = address
    for url in (f"http://[{address}]/", f"http://{name}/"):
        with pytest.raises(BlockedURLError, match=reason):
            _guard().target(url)


@pytest.mark.parametrize("form", ["mapped", "compatible", "siit", "6to4", "nat64"])
def test_an_ipv6_form_carrying_a_public_ipv4_is_judged_as_that_address(form: str) -> None:
    """NAT64 and its kin reach the IPv4 address they carry: a public one passes, as 8.8.8.8."""
    address = FORMS[form](PUBLIC)
    assert address_problem(ipaddress.ip_address(address)) is None
    target = _guard().target(f"http://[{address}]/")
    assert target.addresses == (str(ipaddress.ip_address(address)),)


def test_a_local_nat64_address_is_refused_when_any_prefix_length_reads_a_forbidden_ipv4() -> None:
    """64:ff9b:1::/48 leaves the prefix length to the operator: 64:ff9b:1:7f00:0:100:: is
    127.0.0.1 under a /48, though only its last 32 bits (0.0.0.1 under a /96) were read before.
    An address public under every reading passes."""
    assert _nat64_local("127.0.0.1", 48) == "64:ff9b:1:7f00:0:100:0:0"
    loopback48 = ipaddress.ip_address("64:ff9b:1:7f00:0:100::")
    assert address_problem(loopback48) is not None
    private48 = ipaddress.ip_address(_nat64_local("10.0.0.1", 48))
    assert address_problem(private48) is not None
    everywhere_public = "64:ff9b:1:808:8:800:808:808"  # 8.8.8.8 under /48, /56, /64 and /96
    assert address_problem(ipaddress.ip_address(everywhere_public)) is None


def test_teredo_is_refused_whatever_it_carries() -> None:
    """A Teredo address is a client's tunnel, never a server to call: refused, and named by
    the forbidden IPv4 it carries when it carries one."""
    assert "Teredo" in address_problem(ipaddress.ip_address(_teredo(PUBLIC)))
    assert "loopback" in address_problem(ipaddress.ip_address(_teredo("127.0.0.1")))


def test_the_rest_of_the_ietf_reserved_block_is_refused() -> None:
    """::/8 outside the forms above (e.g. ::1:7f00:1) is never routed on the internet."""
    assert "reserved" in address_problem(ipaddress.ip_address("::1:7f00:1"))
    assert "reserved" in address_problem(ipaddress.ip_address("::ffff:1:7f00:1"))
