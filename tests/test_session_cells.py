"""The session cell, named (`Cell`): the layout on the wire is the one byok wrote before (a JSON
list of four items, or six with an endpoint or a default flag), so sessions written by an
earlier byok keep working, and a save writes exactly the lists it wrote before."""

from __future__ import annotations

import base64
import json

import pytest

from byok.core.endpoints import Endpoint
from byok.core.security import Keyring, bind
from byok.core.storage import BYOKManager
from byok.core.storage.cells import Cell, cell_of
from byok.core.types import BYOKConfig, StorageError
from tests.support.storage import SECRET, FakeRequest

SID = "earlier-session-id"
AZURE = '{"base_url":"https://r.openai.azure.com","deployment":"gpt-4o"}'  # canonical JSON


def test_a_cell_names_its_fields_whatever_its_length() -> None:
    short = cell_of(["tok", 1_700_000_000, None, 1_700_000_100], "openai")
    assert short == Cell("tok", 1_700_000_000, None, 1_700_000_100, None, 0)
    assert (short.created, short.written, short.endpoint, short.default) == (
        1_700_000_000, 1_700_000_100, None, 0
    )  # fmt: skip
    full = cell_of(["tok", 1, 2, 3, AZURE, 1], "openai")
    assert (full.expires, full.endpoint, full.default) == (2, AZURE, 1)
    for bad in (["tok", 1, 2], ["tok", 1, 2, 3, None], ("tok", 1, 2, 3), "tok", None, {}):
        with pytest.raises(StorageError, match="malformed session entry for provider 'openai'"):
            cell_of(bad, "openai")


def test_the_wire_keeps_the_short_cell_for_a_plain_key() -> None:
    assert Cell("t", 1, None, 3).wire() == ["t", 1, None, 3]
    assert Cell("t", 1, None, 3, None, 1).wire() == ["t", 1, None, 3, None, 1]
    assert Cell("t", 1, 2, 3, AZURE, 0).wire() == ["t", 1, 2, 3, AZURE, 0]
    assert json.loads(json.dumps(Cell("t", 1, 2, 3, AZURE, 1).wire())) == ["t", 1, 2, 3, AZURE, 1]


def _sealed(plain: str, provider: str, endpoint: str | None = None) -> str:
    ring = Keyring.from_secret(SECRET)
    bound = Endpoint.decode(endpoint).encode() if endpoint else b""
    sealed = ring.seal(plain, bind(f"session:{SID}", provider, bound))
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()


def test_a_session_an_earlier_byok_wrote_reads_and_updates_the_same() -> None:
    """Cells as byok wrote them before they were named (through JSON, as the cookie carries
    them): a default flagged without an endpoint, a default flag cleared (six items), a
    labelled key with an endpoint, a four-item cell."""
    cells = {
        "openai": [_sealed("sk-old-default-000000000000", "openai"), 1_700_000_000, None,
                   1_700_000_000, None, 0],
        "openai#main": [_sealed("sk-main-00000000000000000000", "openai"), 1_700_000_100, None,
                        1_700_000_100, None, 1],
        "openai#azure": [_sealed("sk-azure-0000000000000000000", "openai", AZURE), 1_700_000_200,
                         None, 1_700_000_200, AZURE, 0],
        "anthropic": [_sealed("sk-ant-000000000000000000000", "anthropic"), 1_700_000_300, None,
                      1_700_000_300],
    }  # fmt: skip
    wire = json.dumps({"byok_keys": {"sid": SID, "k": {"": cells}}})
    req = FakeRequest(json.loads(wire))
    m = BYOKManager(SECRET, config=BYOKConfig(default_ttl=None))
    assert m.get_key(req, "openai") == "sk-main-00000000000000000000"  # the flagged one
    assert m.get_key(req, "openai", label="") == "sk-old-default-000000000000"
    creds = m.get_credentials(req, "openai", label="azure")
    assert creds.api_key == "sk-azure-0000000000000000000" and creds.endpoint.deployment == "gpt-4o"
    assert m.get_key(req, "anthropic") == "sk-ant-000000000000000000000"
    assert [(k.provider, k.label, k.is_default) for k in m.list_keys(req)] == [
        ("anthropic", "", True), ("openai", "", False), ("openai", "azure", False),
        ("openai", "main", True),
    ]  # fmt: skip
    m.set_default(req, "openai", "azure")
    after = json.loads(json.dumps(req.session))["byok_keys"]["k"][""]
    assert after["openai#main"][4:] in ([], [None, 0])  # its flag cleared
    assert after["openai#azure"][4:] == [AZURE, 1]
    assert after["anthropic"] == cells["anthropic"]  # untouched
    assert m.get_key(FakeRequest(json.loads(json.dumps(req.session))), "openai") == (
        "sk-azure-0000000000000000000"
    )


def test_a_save_writes_the_lists_it_wrote_before() -> None:
    req = FakeRequest()
    m = BYOKManager(SECRET, config=BYOKConfig(default_ttl=None))
    m.set_key(req, "openai", "sk-first-0000000000000000000")  # the provider's default
    m.set_key(req, "openai", "sk-work-00000000000000000000", label="work")
    m.set_key(req, "openai", "sk-proxy-0000000000000000000", label="proxy",
              endpoint=Endpoint("https://proxy.example/v1"))  # fmt: skip
    cells = json.loads(json.dumps(req.session))["byok_keys"]["k"][""]
    first, work, proxy = cells["openai"], cells["openai#work"], cells["openai#proxy"]
    assert len(first) == 6 and first[4:] == [None, 1]
    assert len(work) == 4 and work[2] is None
    assert proxy[4:] == ['{"base_url":"https://proxy.example/v1"}', 0]
    assert all(isinstance(c[0], str) and "=" not in c[0] for c in (first, work, proxy))
    assert all(isinstance(v, int) for c in (first, work, proxy) for v in (c[1], c[3]))
