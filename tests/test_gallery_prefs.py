"""The visitor's remembered choices (gallery/ui/prefs.py): cookies gallery.js writes, which the
server renders each page with (theme, open groups, viewport, the panels' share), so no page reads
storage before its first paint; malformed cookies fall back to the defaults, never an error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup
from starlette.testclient import TestClient

from gallery import app as gallery_app
from gallery.ui.prefs import COOKIES, DEFAULTS, SPLIT_BOUNDS, Prefs
from tests.support import SECRET

STORY = "/story/alert--info-filled"


def cookie(value: Any) -> str:
    """A cookie's value as gallery.js writes it: encodeURIComponent(JSON.stringify(value))."""
    return quote(json.dumps(value), safe="")


def jar(**prefs: Any) -> dict[str, str]:
    return {COOKIES[name]: cookie(value) for name, value in prefs.items()}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("gallery-prefs") / "gallery.db"
    yield TestClient(gallery_app.create_app(db_url=f"sqlite:///{db}", secret_key=SECRET))


def page(client: TestClient, path: str, **prefs: Any) -> BeautifulSoup:
    client.cookies.clear()
    for name, value in jar(**prefs).items():
        client.cookies.set(name, value)
    answer = client.get(path)
    assert answer.status_code == 200, answer.text[:300]
    return BeautifulSoup(answer.text, "html.parser")


def storage_read(doc: BeautifulSoup) -> list[str]:
    """The page's inline scripts that read localStorage (each one holds up its parser)."""
    inline = [s.string or "" for s in doc.find_all("script") if not s.get("src")]
    return [s for s in inline if "localStorage" in s]


def test_the_cookies_gallery_js_writes_are_read_back() -> None:
    got = Prefs.of(
        jar(theme="dark", groups=["Cards", "Ünïcode & <co>"], viewport="mobile", split=31.6)
    )
    assert got == Prefs("dark", frozenset({"Cards", "Ünïcode & <co>"}), "mobile", 32)
    assert Prefs.of({}) == DEFAULTS == Prefs()


@pytest.mark.parametrize(
    "cookies",
    [
        {COOKIES["theme"]: cookie('dark" onload="x')},  # not a theme's name
        {COOKIES["theme"]: cookie(["dark"])},
        {COOKIES["theme"]: "%E0%A4%A"},  # a broken escape, then no JSON
        {COOKIES["theme"]: "dark"},  # not JSON (an old raw value)
        {COOKIES["groups"]: cookie("Cards")},  # not a list
        {COOKIES["groups"]: cookie(["x"] * 101)},  # more than any sidebar has
        {COOKIES["viewport"]: cookie("../etc")},
        {COOKIES["split"]: "NaN"},
        {COOKIES["split"]: "Infinity"},
        {COOKIES["split"]: cookie(True)},
        {COOKIES["split"]: cookie("40")},
        {name: "x" * 5000 for name in COOKIES.values()},  # larger than a browser keeps
    ],
)
def test_a_malformed_cookie_is_the_default(cookies: dict[str, str]) -> None:
    assert Prefs.of(cookies) == DEFAULTS


def test_a_share_out_of_bounds_is_bounded_and_strange_groups_are_dropped() -> None:
    low, high = SPLIT_BOUNDS
    assert Prefs.of(jar(split=-5)).split == low and Prefs.of(jar(split=10**9)).split == high
    groups = ["Cards", "", 7, None, "x" * 201, {"a": 1}]
    assert Prefs.of(jar(groups=groups)).groups == {"Cards"}


def test_a_story_page_is_rendered_as_the_visitor_left_it(client: TestClient) -> None:
    doc = page(client, STORY, theme="dark", groups=["Cards"], viewport="mobile", split=30)
    assert doc.html["data-theme"] == "dark"
    assert doc.select_one("[data-theme-select] option[selected]")["value"] == "dark"
    opened = {d["data-group"] for d in doc.select("#story-tree details[open]")}
    assert opened == {"Cards", "Feedback"}  # the visitor's, and the current story's
    viewport = doc.select_one('[data-canvas-setting="viewport"] option[selected]')
    assert viewport["value"] == "mobile"
    assert doc.select_one("#story-panels")["style"] == "height:30%"
    assert not storage_read(doc)


def test_a_first_visit_gets_the_defaults_and_reads_no_storage(client: TestClient) -> None:
    doc = page(client, STORY)
    assert not storage_read(doc)
    assert not doc.html.has_attr("data-theme") and not doc.html.has_attr("data-gallery-static")
    assert doc.select_one("[data-theme-select] option[selected]")["value"] == "light"
    assert {d["data-group"] for d in doc.select("#story-tree details[open]")} == {"Feedback"}
    assert doc.select_one('[data-canvas-setting="viewport"] option[selected]')["value"] == (
        "responsive"
    )
    assert not doc.select_one("#story-panels").has_attr("style")


def test_the_canvas_and_other_pages_take_the_theme(client: TestClient) -> None:
    for path in (f"{STORY}/canvas", "/", "/component/alert"):
        doc = page(client, path, theme="synthwave")
        assert doc.html["data-theme"] == "synthwave", path
        assert not storage_read(doc), path


def test_a_malformed_cookie_still_answers_the_page(client: TestClient) -> None:
    client.cookies.clear()
    for name in COOKIES.values():
        client.cookies.set(name, "%7B%22broken")
    answer = client.get(STORY)
    assert answer.status_code == 200
    doc = BeautifulSoup(answer.text, "html.parser")
    assert not doc.html.has_attr("data-theme")
