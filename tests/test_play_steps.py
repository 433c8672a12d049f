"""Plays declared in Python (gallery.play): typed steps with their own JSON and label, clear errors
at declaration time, the play-fn tag in /index.json, the Interactions panel's markup, and the story
page holding only the selected tab's panel (the others load from their route).

The plays themselves run in Chromium: tests/browser/test_plays.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from bs4 import BeautifulSoup
from byok_gallery import Click, ExpectText, Fill, Role, Story, Text, play
from starlette.testclient import TestClient

from byok.components import Alert
from gallery.app import create_app
from gallery.model.registry import registry
from tests.support import SECRET

HX = {"HX-Request": "true"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("play") / "gallery.db"
    with TestClient(create_app(db_url=f"sqlite:///{db}", secret_key=SECRET)) as c:
        yield c


def alert(**extra: object) -> Story:
    return Story(Alert, "Played", {"message": "Hello"}, **extra)  # type: ignore[arg-type]


def test_each_step_writes_its_own_json_and_label() -> None:
    steps = [
        Fill(Role("textbox", name="OpenAI API key"), "sk-proj-abcdefghijklmnop"),
        play.Select("#kind", "error"),
        play.Press(Text("Name"), "Enter"),
        Click(Role("button", name="Save key", exact=True)),
        play.WaitRequest("post", "/api/keys/openai", status=200, timeout=2),
        play.WaitSwap("#byok-card-openai"),
        ExpectText("#toast-container", "saved"),
        play.ExpectVisible(Role("alert")),
        play.ExpectHidden(".spinner"),
        play.ExpectCount("li", 3),
        play.ExpectAttribute("button", "aria-pressed", None),
    ]
    out = [s.to_json() for s in steps]
    assert [s["do"] for s in out] == [
        "fill",
        "select",
        "press",
        "click",
        "wait-request",
        "wait-swap",
        "expect-text",
        "expect-visible",
        "expect-hidden",
        "expect-count",
        "expect-attribute",
    ]
    assert out[0]["target"] == {"role": "textbox", "name": "OpenAI API key", "exact": False}
    assert out[0]["label"] == 'fill textbox "OpenAI API key" with "sk-p…mnop"'  # a key: masked
    assert "abcdefghij" not in json.dumps(out[0]["label"])
    assert out[2]["target"] == {"text": "Name", "exact": False} and out[2]["key"] == "Enter"
    assert out[4] | {"label": ""} == {
        "do": "wait-request",
        "label": "",
        "target": None,
        "timeout": 2000,
        "method": "POST",
        "path": "/api/keys/openai",
        "status": 200,
    }
    assert out[6]["target"] == {"css": "#toast-container"} and out[6]["timeout"] == 5000
    assert out[10]["value"] is None and out[10]["label"].endswith("[aria-pressed] absent")
    assert alert(play=steps).play == tuple(steps)  # a list becomes a tuple: the story is frozen


@pytest.mark.parametrize(
    ("given", "error", "says"),
    [
        (Click("#save"), TypeError, "a list of steps"),
        ("click #save", TypeError, "a list of steps"),
        ([Click("#save"), "ExpectText"], TypeError, "play step 2 is a str"),
        ([{"do": "click"}], TypeError, "play step 1 is a dict"),
    ],
)
def test_a_story_refuses_a_play_that_is_not_a_list_of_steps(
    given: object, error: type[Exception], says: str
) -> None:
    with pytest.raises(error, match=says):
        alert(play=given)


@pytest.mark.parametrize(
    ("make", "error", "says"),
    [
        (lambda: Click(3), TypeError, "CSS selector"),
        (lambda: Click(""), ValueError, "must not be empty"),
        (lambda: Role("bogus"), ValueError, "role 'bogus' is not one of"),
        (lambda: Role("button", name=""), ValueError, "must not be empty"),
        (lambda: Fill("#key", 123), TypeError, "Fill's value must be a str"),
        (lambda: play.Press("#key", "Ctrl+A"), ValueError, "one key name"),
        (lambda: play.WaitRequest("FETCH"), ValueError, "method must be one of"),
        (lambda: play.WaitRequest(path="api/keys"), ValueError, "starts with /"),
        (lambda: play.WaitRequest(status=99), ValueError, "HTTP status"),
        (lambda: play.WaitRequest(status="200"), TypeError, "status is an int"),
        (lambda: play.ExpectCount("li", -1), ValueError, "negative"),
        (lambda: play.ExpectCount("li", True), TypeError, "count is an int"),
        (lambda: ExpectText("#x", "a", timeout=0), ValueError, "timeout"),
        (lambda: ExpectText("#x", "a", timeout="5"), TypeError, "timeout"),
    ],
)
def test_a_bad_step_is_a_clear_error_when_it_is_declared(
    make: object, error: type[Exception], says: str
) -> None:
    with pytest.raises(error, match=says):
        make()  # type: ignore[operator]


def test_every_interactive_kind_of_story_has_a_play() -> None:
    """Save (a valid key, a refused one), delete, test, dismiss (alert, toast), a toast's timeout,
    and the issued-keys page (create, reveal, copy, roll, revoke)."""
    reg = registry()
    played = {s.slug for s in reg if s.play}
    assert {
        "key-input-form--openai",
        "key-input-form--anthropic",
        "key-management-card--stored",
        "key-management-card--stored-with-test",
        "alert--dismissible",
        "alert--everything",
        "toast--info",
        "toast--auto-dismiss",
        "issued-panel--create-reveal-roll-revoke",
    } <= played
    issued = reg.get("issued-panel--create-reveal-roll-revoke")
    assert issued is not None
    labels = " ".join(s.label() for s in issued.play)
    for word in ("Create key", "Copy", "Roll", "Revoke"):
        assert word in labels


_ACTS = re.compile(r'\sdata-byok-(dismiss|dialog-close)="')  # a dismiss / close control


def test_every_story_a_user_can_act_on_has_a_play() -> None:
    """Every story whose HTML calls the server (hx-get/post/put/patch/delete), or has a dismiss
    or close control, declares a play: a new interactive story cannot forget one."""
    acts = [s for s in registry() if s.interactive or _ACTS.search(s.canvas_html())]
    assert len(acts) >= 80  # byok's forms, cards, dashboard, issued keys, alerts and toasts
    assert [s.slug for s in acts if not s.play] == []


def test_index_json_tags_stories_with_a_play(client: TestClient) -> None:
    entries = client.get("/index.json").json()["entries"]
    played = {s.slug for s in registry() if s.play}
    assert played and len(played) < len(entries)
    for slug, entry in entries.items():
        assert ("play-fn" in entry["tags"]) == (slug in played), slug
        assert {"dev", "test"} <= set(entry["tags"])


def test_the_interactions_panel_carries_the_steps_or_says_how_to_add_a_play(
    client: TestClient,
) -> None:
    story = registry().get("key-management-card--stored")
    assert story is not None
    panel = BeautifulSoup(client.get(f"/story/{story.slug}/panel/interactions").text, "html.parser")
    steps = json.loads(panel.select_one("script#play-json").get_text())
    assert steps == [s.to_json() for s in story.play]
    rows = panel.select("#play-steps [data-play-step]")
    assert [r.select("span")[2].get_text() for r in rows] == [s.label() for s in story.play]
    assert panel.select_one("[data-play-run]").get_text() == "Run"

    none = client.get("/story/alert--info-filled/panel/interactions").text
    page = BeautifulSoup(none, "html.parser")
    assert "No play for this story" in page.get_text() and "play.Click" in page.get_text()
    assert page.select_one("#play-json") is None


def test_a_play_label_cannot_close_the_json_script() -> None:
    from gallery.play.panel import steps_json

    story = alert(play=[ExpectText("#x", "</script><b>")])
    assert "</script>" not in steps_json(story)
    assert json.loads(steps_json(story))[0]["text"] == "</script><b>"


def test_the_story_page_holds_only_the_selected_panel(client: TestClient) -> None:
    for tab in ("interactions", "code", "docs"):
        page = BeautifulSoup(
            client.get(f"/story/alert--dismissible?tab={tab}", headers=HX).text, "html.parser"
        )
        loaded = [
            p["id"] for p in page.select("[id$='-panel']") if not p.has_attr("data-panel-src")
        ]
        assert loaded == [f"{tab}-panel"]
        lazy = page.select("[data-panel-src]")
        assert len(lazy) == 6 and all(p.get_text() == "" for p in lazy)
    # the placeholders carry the story's arguments: the panel shows what the canvas shows
    page = BeautifulSoup(
        client.get("/story/alert--dismissible?kind=error", headers=HX).text, "html.parser"
    )
    src = page.select_one("#code-panel")["data-panel-src"]
    assert src == "/story/alert--dismissible/panel/code?kind=error"
    assert "AlertKind.ERROR" in BeautifulSoup(client.get(src).text, "html.parser").get_text()
    assert client.get("/story/alert--dismissible/panel/nope").status_code == 404
    assert client.get("/story/no-such-story/panel/code").status_code == 404
