"""byok.outbound: the SSRF guard. Hostile URLs are refused before any connection: DNS answers
come from a resolver the tests inject and the connector fails the test if it is ever called, so
no packet leaves. The pinned client is then shown working against a real server on 127.0.0.1
(allowed explicitly), including a redirect to a forbidden address and DNS rebinding."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from byok.outbound import (
    BlockedURLError,
    OutboundPolicy,
    OutboundTimeout,
    TooLargeError,
    UnreachableError,
    URLGuard,
    address_problem,
)
from tests.fake_providers import FakeProviders

DNS = {  # the injected resolver's world: names an attacker controls, and their answers
    "metadata.attacker.example": ["169.254.169.254"],
    "gcp.attacker.example": ["169.254.169.254"],
    "internal.attacker.example": ["10.0.0.5"],
    "lan.attacker.example": ["192.168.1.1"],
    "docker.attacker.example": ["172.17.0.1"],
    "cgnat.attacker.example": ["100.64.0.1"],
    "loop.attacker.example": ["127.0.0.1"],
    "loop6.attacker.example": ["::1"],
    "ula.attacker.example": ["fd12:3456::1"],
    "mapped.attacker.example": ["::ffff:10.0.0.1"],
    "mixed.attacker.example": ["93.184.216.34", "127.0.0.1"],  # one bad address is enough
    "mixed6.attacker.example": ["2606:2800:220:1::1", "fe80::1"],
    "zero.attacker.example": ["0.0.0.0"],
    "multicast.attacker.example": ["239.1.2.3"],
    "garbage.attacker.example": ["not-an-address"],
    "public.example": ["93.184.216.34"],
    "ollama.internal": ["10.1.2.3"],
    "sneaky.internal": ["169.254.169.254"],
}

HOSTILE = [
    # schemes and credentials
    "file:///etc/passwd",
    "gopher://93.184.216.34:70/_stats",
    "ftp://public.example/",
    "dict://public.example:11211/stat",
    "javascript:alert(1)",
    "http://user:hunter2@public.example/",
    "http://public.example@169.254.169.254/",
    "http://public.example\\@127.0.0.1/",
    "http://public.example /",
    "http://[::1",
    "http://public.example:99999/",
    "http://public.example:0/",
    # loopback, in every spelling
    "http://127.0.0.1/",
    "http://127.0.0.1:5432/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.0x0.0x0.0x1/",
    "http://017700000001/",
    "http://0177.0.0.1/",
    "http://127.000.000.001/",
    "http://localhost/",
    "http://LOCALHOST.:8080/",
    "http://api.localhost/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::127.0.0.1]/",
    # unspecified
    "http://0.0.0.0/",
    "http://0/",
    "http://[::]/",
    # cloud metadata and link-local
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/",
    "http://0xa9fea9fe/",
    "http://0251.0376.0251.0376/",
    "http://169.254.170.2/v2/credentials",
    "http://100.100.100.200/latest/meta-data/",
    "http://168.63.129.16/metadata",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[fe80::1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:a9fe:a9fe::1]/",
    # private networks, CGNAT, ULA, multicast, reserved
    "http://10.0.0.1/",
    "http://10.255.255.255:6379/",
    "http://172.16.0.1/",
    "http://172.31.255.254/",
    "http://192.168.0.1/admin",
    "http://100.64.0.1/",
    "http://100.127.255.254/",
    "http://[fd00::1]/",
    "http://[fc00::1]/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://192.0.2.1/",
    "http://198.18.0.1/",
    "http://4294967296/",  # a number beyond IPv4
    "http://[fe80::1%25eth0]/",  # zone id
    # names resolving to forbidden addresses (DNS the attacker controls)
    *(f"https://{name}/" for name in DNS if name.endswith("attacker.example")),
]


def no_connect(address: str, port: int, timeout: float) -> socket.socket:
    raise AssertionError(f"a connection to {address}:{port} was attempted")


def resolver(host: str, port: int) -> list[str]:
    try:
        return DNS[host]
    except KeyError:
        raise AssertionError(f"unexpected DNS lookup of {host}") from None


def test_the_suite_is_large_enough() -> None:
    assert len(HOSTILE) >= 30
    assert len(set(HOSTILE)) == len(HOSTILE)


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_url_is_refused_before_any_connection(url: str) -> None:
    policy = OutboundPolicy(resolver=resolver, connect=no_connect)
    with pytest.raises(BlockedURLError) as refused:
        policy.fetch("GET", url, {"Authorization": "Bearer SECRET-KEY"})
    assert "SECRET-KEY" not in str(refused.value)
    assert "hunter2" not in str(refused.value)  # credentials in the URL are not repeated
    assert str(refused.value)


def test_public_address_passes_the_guard_and_is_pinned() -> None:
    calls: list[tuple[str, int]] = []

    def record(address: str, port: int, timeout: float) -> socket.socket:
        calls.append((address, port))
        raise ConnectionRefusedError  # nothing leaves this machine

    policy = OutboundPolicy(resolver=resolver, connect=record)
    target = policy.target("https://public.example/v1/models?limit=1")
    assert target.addresses == ("93.184.216.34",) and target.port == 443
    assert target.path == "/v1/models?limit=1"
    with pytest.raises(UnreachableError, match="refused"):
        policy.fetch("GET", "https://public.example/v1/models")
    assert calls == [("93.184.216.34", 443)]


def test_dns_is_asked_once_so_rebinding_cannot_swap_the_address() -> None:
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])  # a rebinding name
    lookups: list[str] = []
    connected: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        lookups.append(host)
        return next(answers)

    def record(address: str, port: int, timeout: float) -> socket.socket:
        connected.append(address)
        raise ConnectionRefusedError

    policy = OutboundPolicy(resolver=rebinding, connect=record)
    with pytest.raises(UnreachableError):
        policy.fetch("GET", "http://rebind.example/")
    assert lookups == ["rebind.example"] and connected == ["93.184.216.34"]


def test_numeric_spellings_mean_what_the_os_reads() -> None:
    guard = URLGuard(allow_networks=["0.0.0.0/0"])  # allow everything: look at the spelling
    for spelled, meant in [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.01", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1.258", "10.1.1.2"),
        ("0xA9FEA9FE", "169.254.169.254"),
    ]:
        assert guard.target(f"http://{spelled}/").addresses == (meant,)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.1.1", "private"),
        ("100.64.9.9", "carrier-grade NAT"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.1.1", "link-local"),
        ("fd00::1", "unique-local"),
        ("::ffff:10.0.0.1", "private network address inside an IPv6"),
        ("ff05::2", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("192.0.2.5", "reserved or special-purpose"),
    ],
)
def test_address_problem_names_the_reason(address: str, reason: str) -> None:
    assert reason in address_problem(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1::1", "1.1.1.1"])
def test_public_addresses_have_no_problem(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


def test_allow_hosts_admits_a_private_name_but_never_metadata() -> None:
    guard = URLGuard(allow_hosts=["ollama.internal", "sneaky.internal"], resolver=resolver)
    assert guard.target("http://ollama.internal:11434/v1").addresses == ("10.1.2.3",)
    with pytest.raises(BlockedURLError, match="metadata"):
        guard.target("http://sneaky.internal/")
    with pytest.raises(BlockedURLError, match="private"):
        URLGuard(resolver=resolver).target("http://ollama.internal:11434/v1")


def test_allow_networks_is_explicit() -> None:
    guard = URLGuard(allow_networks=["10.1.0.0/16"], resolver=resolver)
    assert guard.target("http://ollama.internal/").addresses == ("10.1.2.3",)
    with pytest.raises(BlockedURLError):
        guard.target("http://10.2.0.1/")


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="lists"):
        URLGuard(allow_hosts="localhost")
    with pytest.raises(ValueError, match="allow_networks"):
        URLGuard(allow_networks=["not a network"])
    for bad in ({"timeout": 0}, {"max_bytes": 0}, {"max_redirects": 11}, {"timeout": True}):
        with pytest.raises(ValueError):
            OutboundPolicy(**bad)


# --- the client against a real loopback server (allowed explicitly) ----------------------


def loopback(**kw) -> OutboundPolicy:
    return OutboundPolicy(allow_networks=["127.0.0.1/32"], **kw)


def test_fetch_reads_the_answer(fake_providers: FakeProviders) -> None:
    answer = loopback().fetch("GET", f"{fake_providers.url}/v1/models", {"api-key": "valid-k"})
    assert answer.status == 200 and answer.json()["data"]
    assert answer.headers["content-type"] == "application/json"


def test_pinned_connection_keeps_the_host_name(fake_providers: FakeProviders) -> None:
    port = fake_providers.url.rsplit(":", 1)[1]
    policy = OutboundPolicy(
        allow_hosts=["api.provider.test"],
        resolver=lambda h, p: ["127.0.0.1"] if h == "api.provider.test" else [],
    )
    answer = policy.fetch(
        "GET", f"http://api.provider.test:{port}/v1/models", {"api-key": "valid-k"}
    )
    assert answer.status == 200
    assert fake_providers.seen[0].headers["host"] == f"api.provider.test:{port}"


def test_answers_are_size_capped(fake_providers: FakeProviders) -> None:
    for kind in ("huge", "flood"):  # declared too large / no length at all
        with pytest.raises(TooLargeError, match="larger than 65,536 bytes"):
            loopback(max_bytes=65536).fetch("GET", f"{fake_providers.url}/", {"api-key": kind})


def test_one_deadline_for_the_whole_request(fake_providers: FakeProviders) -> None:
    for kind in ("slow", "trickle"):
        with pytest.raises(OutboundTimeout):
            loopback(timeout=0.2).fetch("GET", f"{fake_providers.url}/", {"api-key": kind})


def test_redirects_are_not_followed_by_default(fake_providers: FakeProviders) -> None:
    answer = loopback().fetch("GET", f"{fake_providers.url}/", {"api-key": "redirect"})
    assert answer.status == 302 and len(fake_providers.seen) == 1


def test_a_followed_redirect_to_a_forbidden_address_is_refused(
    fake_providers: FakeProviders,
) -> None:
    connected: list[str] = []

    def record(address: str, port: int, timeout: float) -> socket.socket:
        connected.append(address)
        return socket.create_connection((address, port), timeout)

    policy = loopback(max_redirects=3, connect=record)
    with pytest.raises(BlockedURLError, match="metadata"):
        policy.fetch("GET", f"{fake_providers.url}/", {"api-key": "redirect"})
    assert connected == ["127.0.0.1"]  # the metadata address never got a connection


def test_headers_are_dropped_when_a_redirect_leaves_the_origin() -> None:
    from byok.outbound.client import Answer

    sent: list[dict] = []

    class Recording(OutboundPolicy):
        def _send(self, method, target, headers, body, deadline):  # type: ignore[override]
            sent.append(dict(headers))
            if target.host == "public.example":
                return Answer(302, {"location": "https://other.example/x"}, b"", target.url)
            return Answer(200, {}, b"{}", target.url)

    dns = {"public.example": ["93.184.216.34"], "other.example": ["93.184.216.35"]}
    policy = Recording(max_redirects=2, resolver=lambda h, p: dns[h], connect=no_connect)
    assert (
        policy.fetch("GET", "https://public.example/", {"Authorization": "Bearer K"}).status == 200
    )
    assert sent == [{"Authorization": "Bearer K"}, {}]


def test_header_errors_never_repeat_the_header(fake_providers: FakeProviders) -> None:
    from byok.outbound import OutboundError

    with pytest.raises(OutboundError) as failed:
        loopback().fetch("GET", f"{fake_providers.url}/", {"api-key": "SECRET\r\nX: y"})
    assert "SECRET" not in str(failed.value)
