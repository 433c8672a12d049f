"""Seeded sandboxes with issued keys: `Seed(issued=...)` is checked where it is declared, a
seeded story's sandbox holds its keys (made by the real KeyIssuer on SQLite at fixed times), the
story's own Roll / Revoke / Delete act on them, and the export records those answers with no key
in them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from byok.components import StatusFilter
from byok.issuing import KeyStatus, RateLimit, RateLimitWindow
from byok.utils.helpers import format_expiration, format_key_age
from gallery import app as gallery_app
from gallery.build.recordings import (
    ISSUED_MASK,
    Recorder,
    Recording,
    read_recordings,
    recordings_json,
)
from gallery.live.sandbox import Sandboxes
from gallery.model.registry import Story, registry
from gallery.model.seeds import DEMO_NOW, IssuedSeed, Seed
from tests.support import SECRET

TABLE = "issued-key-table--all-keys"  # five records: live, expiring, revoked, rolled, expired
STORY_ID = "0b5e7f2a-0000-4000-8000-{:012d}"  # the story's record ids
LIVE = STORY_ID.format(1)  # "Production server"


@pytest.fixture
def sandboxes(tmp_path: Path) -> Iterator[Sandboxes]:
    boxes = Sandboxes(SECRET, folder=tmp_path)
    yield boxes
    boxes.close()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("seeds") / "gallery.db"
    app = gallery_app.create_app(db_url=f"sqlite:///{db}", secret_key=SECRET)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def canvas_headers(client: TestClient, slug: str) -> dict[str, str]:
    """The headers the story's canvas sends to its (new) sandbox."""
    canvas = client.get(f"/story/{slug}/canvas").text
    token = re.search(r'data-sandbox="([0-9a-f]+)"', canvas)
    csrf = re.search(r"hx-headers='(\{[^']*\})'", canvas)
    assert token and csrf
    return {"Gallery-Sandbox": token.group(1), "HX-Request": "true", **json.loads(csrf.group(1))}


def test_a_seeded_storys_sandbox_lists_its_seeded_keys(sandboxes: Sandboxes) -> None:
    token = sandboxes.open(TABLE)
    org = sandboxes.org(token)
    keys = sandboxes.issuer.list_org_keys(org)
    assert sorted(k.metadata.name for k in keys) == sorted(
        [
            "Production server",
            "Analytics job",
            "Old laptop",
            "Staging (rolled)",
            "Trial integration",
        ]
    )
    by_name = {k.metadata.name: k for k in keys}
    live = by_name["Production server"]
    assert DEMO_NOW - live.created_at - timedelta(days=40) < timedelta(milliseconds=1)
    assert live.last_used_at == DEMO_NOW - timedelta(hours=1)  # used through the real issuer
    assert live.metadata.rate_limit == RateLimit(600, RateLimitWindow.minute)
    assert by_name["Old laptop"].revoked_at == DEMO_NOW - timedelta(days=20)
    revoked = sandboxes.issuer.list_org_keys(org, status=KeyStatus.revoked)
    expired = sandboxes.issuer.list_org_keys(org, status=KeyStatus.expired)
    assert [k.metadata.name for k in revoked] == ["Old laptop"]
    assert [k.metadata.name for k in expired] == ["Trial integration"]
    seeded = sandboxes.seeded(token)  # the story's ids -> the issued keys
    assert sorted(seeded) == [STORY_ID.format(n) for n in range(1, 6)]
    assert seeded[LIVE] == live.id
    other = sandboxes.open("create-key-form--empty")  # an unseeded story: no keys
    assert sandboxes.issuer.list_org_keys(sandboxes.org(other)) == []
    assert sandboxes.seeded(other) == {}


def test_seeded_sandboxes_are_alike_but_their_own(sandboxes: Sandboxes) -> None:
    one, two = sandboxes.open(TABLE), sandboxes.open(TABLE)
    a = sandboxes.issuer.list_org_keys(sandboxes.org(one))
    b = sandboxes.issuer.list_org_keys(sandboxes.org(two))
    assert [(k.metadata, k.created_at, k.last_used_at, k.revoked_at) for k in a] == [
        (k.metadata, k.created_at, k.last_used_at, k.revoked_at) for k in b
    ]  # the same times each run: the answers of the sandbox are deterministic
    assert not {k.id for k in a} & {k.id for k in b}


def test_the_storys_revoke_acts_on_its_seeded_key(client: TestClient) -> None:
    h = canvas_headers(client, TABLE)
    boxes = client.app.state.sandboxes
    issued = boxes.seeded(h["Gallery-Sandbox"])[LIVE]
    path = f"/sandbox/account/api-keys/{LIVE}/revoke?status=all&page=1"
    revoked = client.post(path, headers=h)
    assert revoked.status_code == 200, revoked.text[:300]
    assert "API key “Production server” revoked" in revoked.text
    assert boxes.issuer.get_key(issued).revoked_at == DEMO_NOW  # the sandbox's frozen clock
    other = canvas_headers(client, TABLE)  # another canvas load: its own, untouched keys
    mine = boxes.seeded(other["Gallery-Sandbox"])[LIVE]
    assert boxes.issuer.get_key(mine).revoked_at is None
    rolled = client.post(
        f"/sandbox/account/api-keys/{LIVE}/roll", data={"grace": "0"}, headers=other
    )
    assert rolled.status_code == 200 and "rolled" in rolled.text
    assert boxes.issuer.get_key(mine).rolled_to is not None
    deleted = client.delete(f"/sandbox/account/api-keys/{STORY_ID.format(2)}", headers=other)
    assert deleted.status_code == 200 and "“Analytics job” deleted" in deleted.text
    unknown = {**h, "Gallery-Sandbox": "0" * 24}  # no sandbox: no key, nothing changes
    assert client.post(path, headers=unknown).status_code >= 400


SEEDED_TABLES = [
    s for s in registry() if s.component_name == "IssuedKeyTable" and s.seed and s.seed.issued
]


@pytest.mark.parametrize("story", SEEDED_TABLES, ids=[s.slug for s in SEEDED_TABLES])
def test_a_seeded_tables_sandbox_answers_the_rows_the_story_shows(
    client: TestClient, story: Story
) -> None:
    """After an action the table is the sandbox's answer in the story's view: it must list the
    same keys on the same page as the story (its page size is the sandbox's)."""
    h = canvas_headers(client, story.slug)
    stands = {v: k for k, v in client.app.state.sandboxes.seeded(h["Gallery-Sandbox"]).items()}
    status = StatusFilter(story.args.get("status", StatusFilter.ALL)).value
    view = f"status={status}&page={story.args.get('page', 1)}"
    answer = client.get(f"/sandbox/account/api-keys?{view}", headers=h)
    assert answer.status_code == 200, answer.text[:300]
    rows = re.findall(r'data-byok-key="([0-9a-f-]{36})"', answer.text)
    assert [stands.get(r, r) for r in rows] == re.findall(
        r'data-byok-key="([0-9a-f-]{36})"', story.render()
    )


@pytest.fixture(scope="module")
def answers() -> list[Recording]:
    """What the export records for the table story's actions."""
    recorder = Recorder()
    try:
        return recorder.story(registry().get(TABLE))
    finally:
        recorder.close()


def test_the_export_records_the_seeded_actions_without_a_key(answers: list[Recording]) -> None:
    done = {(r.method, r.path.split("?")[0]): r for r in answers}
    base = "/account/api-keys/" + LIVE
    for method, path in [("GET", base + "/roll"), ("POST", base + "/roll")]:
        assert done[method, path].status == 200  # the Roll button's dialog, then its roll
    assert done["POST", base + "/revoke"].status == 200
    assert done["DELETE", base].status == 200
    assert done["DELETE", "/account/api-keys/" + STORY_ID.format(3)].status == 200  # revoked one
    roll = done["POST", base + "/roll"].body
    assert f'value="{ISSUED_MASK}"' in roll  # the one reveal, masked
    dialog = done["GET", base + "/roll"].body
    assert f'hx-post="{base}/roll?status=all&amp;page=1"' in dialog  # the story's id again
    text = json.dumps([r._asdict() for r in answers])
    assert not re.search(r"demo_test_[A-Za-z0-9]{20,}", text)
    assert "/sandbox/" not in text
    seeded_ids = re.findall(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", text
    )
    assert all(i.startswith(("0b5e7f2a-", "00000000-")) for i in seeded_ids)


def test_a_canvas_stores_each_distinct_piece_of_its_answers_once(
    answers: list[Recording],
) -> None:
    """The table's answers repeat its rows (each Revoke/Delete answers the whole table): the
    canvas keeps each distinct piece once, and reading it back gives the answers exactly."""
    saved = recordings_json(answers)
    assert len(saved) < sum(len(r.body) for r in answers) / 2
    assert read_recordings(saved) == answers
    assert "</" not in saved  # safe inside the canvas's <script>


TIME = re.compile(r'<time datetime="([^"]+)" title="\1">([^<]*)</time>')


def test_recorded_times_agree_with_their_words(answers: list[Recording]) -> None:
    """A seeded key's times are the demo clock's (deterministic): a recording keeps them, so a
    `<time>` says the moment its words ("12 days ago") count from DEMO_NOW, as the story does."""
    times = set(TIME.findall("".join(r.body for r in answers)))
    assert len(times) > 5
    for iso, words in times:
        at = datetime.fromisoformat(iso)
        said = (
            format_key_age(at, DEMO_NOW),
            format_expiration(at, DEMO_NOW).removeprefix("Expires "),
        )
        assert words in said, (iso, words)
    assert set(TIME.findall(registry().get(TABLE).render())) <= times  # the story's own times


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"scopes": "notes:read"}, TypeError, "scopes is a tuple"),
        ({"story_id": "key-1"}, ValueError, "story_id must be a lower-case UUID"),
        ({"created": 3}, TypeError, "created must be a timedelta"),
        ({"used": timedelta(days=5), "created": timedelta(days=1)}, ValueError, "from 0 to"),
        ({"revoked": timedelta(days=-1)}, ValueError, "from 0 to"),
        ({"expires": timedelta(days=-2)}, ValueError, "expire before it was created"),
        (
            {"used": timedelta(hours=1), "revoked": timedelta(hours=5)},
            ValueError,
            "used once revoked",
        ),
        ({"name": "x" * 500}, ValueError, "IssuedSeed"),
    ],
)
def test_an_issued_seed_is_checked_where_it_is_declared(
    kwargs: dict, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        IssuedSeed(**{"name": "CI deploy", "scopes": ("notes:read",), **kwargs})


def test_a_seed_refuses_what_is_not_an_issued_seed_and_twins() -> None:
    with pytest.raises(TypeError, match="IssuedSeed"):
        Seed(issued=({"name": "CI deploy"},))  # type: ignore[arg-type]
    twin = IssuedSeed("CI deploy", ("notes:read",), story_id=LIVE)
    with pytest.raises(ValueError, match="same story_id"):
        Seed(issued=(twin, twin))
    assert Seed(issued=[twin]).issued == (twin,)  # a list is kept as a tuple
