"""A developer's own components in the gallery: examples/shopkit (two components, their stories).

What a FastHTML developer does: the documented snapshot helper over their story package, the
coverage helper, and the whole gallery (sidebar, controls, code, HTML, docs, export) for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from starlette.testclient import TestClient

import examples.shopkit.components as shop
from gallery import Call, StoriesError, Story, load, use_stories
from gallery.__main__ import main
from gallery.app import create_app
from gallery.model.registry import registry
from gallery.testing import assert_story_snapshot, story_params, uncovered
from gallery.ui.assets import assets_for

ROOT = Path(__file__).resolve().parent.parent
STORIES = "examples.shopkit.stories"
SHOP_CSS = ROOT / "examples" / "shopkit" / "shopkit.css"


@pytest.mark.parametrize("story", story_params(STORIES))
def test_story(story: Story, snapshot) -> None:
    assert_story_snapshot(story, snapshot)


def test_every_shopkit_component_has_a_story() -> None:
    assert uncovered(shop, STORIES) == []
    assert uncovered([shop.PriceTag, load().stories[0].component], STORIES) == [
        load().stories[0].component.__name__
    ]


def test_the_snapshot_helper_refuses_a_story_rendering_an_object(snapshot) -> None:
    def Leaky(item: str = "x") -> str:  # a component returning a repr by mistake
        return f"<b>{object()}</b>"

    with pytest.raises(AssertionError, match="renders"):
        assert_story_snapshot(Story(Leaky, "Leaky"), snapshot)


def test_a_bad_story_package_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(StoriesError, match="no_such_pkg"):
        load("no_such_pkg.stories")
    (tmp_path / "junkstories").mkdir()
    (tmp_path / "junkstories" / "__init__.py").write_text("")
    (tmp_path / "junkstories" / "bad.py").write_text("STORIES = ['not a story']\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(StoriesError, match=r"junkstories\.bad\.STORIES holds a str"):
        load("junkstories")
    before = registry()
    with pytest.raises(StoriesError):
        use_stories("junkstories")
    assert registry() is before  # a broken package leaves the gallery as it was


@pytest.fixture
def shop_client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(
        db_url=f"sqlite:///{tmp_path / 'g.db'}",
        secret_key="own-stories-secret-0123456789abcdef",
        stories=[STORIES],
        assets=assets_for("prebuilt", (SHOP_CSS,)),
    )
    try:
        yield TestClient(app)
    finally:
        use_stories()  # back to byok's own stories for the other tests


def test_the_gallery_shows_a_developers_own_components(shop_client: TestClient) -> None:
    index = BeautifulSoup(shop_client.get("/").text, "html.parser")
    assert index.h1.get_text() == "Components"
    tree = index.find(id="story-tree")
    assert [li["data-component"] for li in tree.find_all("li", attrs={"data-component": True})] == [
        "PriceTag",
        "StockBadge",
    ]
    assert "Alert" not in tree.get_text()  # only the developer's stories
    assert STORIES in index.footer.get_text()
    head = [link["href"] for link in index.head.find_all("link", rel="stylesheet")]
    assert head == ["/assets/byok.css", "/assets/gallery.css", "/assets/extra-1-shopkit.css"]
    assert shop_client.get("/assets/extra-1-shopkit.css").text == SHOP_CSS.read_text()

    page = BeautifulSoup(shop_client.get("/story/price-tag--on-sale").text, "html.parser")
    assert page.find(id="canvas-frame")["src"] == "/story/price-tag--on-sale/canvas"
    canvas = BeautifulSoup(shop_client.get("/story/price-tag--on-sale/canvas").text, "html.parser")
    assert canvas.find(id="story-root").find(class_="shopkit-was").get_text() == "24.00 EUR"
    styles = [link["href"] for link in canvas.head.find_all("link", rel="stylesheet")]
    assert styles == ["/assets/byok.css", "/assets/extra-1-shopkit.css"]  # the developer's last
    inline = canvas.head.find("style")  # the canvas's layouts, in the page (one request fewer)
    assert inline.find_next("link", rel="stylesheet")["href"] == "/assets/byok.css"
    assert "#story-root" in inline.string and "/assets/canvas.css" not in str(canvas.head)
    code = shop_client.get("/story/price-tag--on-sale/panel/code").text
    code = BeautifulSoup(code, "html.parser").find(id="code-source").get_text()
    assert "from examples.shopkit.components import PriceTag" in code
    assert 'PriceTag(amount=19.5, was=24.0, label="Sale price")' in code
    docs = shop_client.get("/story/price-tag--on-sale/panel/docs").text
    docs = BeautifulSoup(docs, "html.parser").get_text(" ")
    assert "examples.shopkit.components" in docs and "the price before a sale" in docs
    controls = {i["name"] for i in page.select("#story form [name]")}
    assert {"amount", "currency", "was", "label"} <= controls

    tweaked = shop_client.get("/story/stock-badge--in", params={"level": "out", "tab": "html"})
    assert tweaked.status_code == 200 and "Sold out" in tweaked.text
    refused = shop_client.get("/story/price-tag--regular", params={"currency": "euro"})
    assert refused.status_code == 422 and "three-letter code" in refused.text
    assert shop_client.get("/component/stock-badge").status_code == 200
    assert set(shop_client.get("/index.json").json()["entries"]) == {s.slug for s in load(STORIES)}


def test_the_cli_exports_a_developers_stories(tmp_path: Path, capsys) -> None:
    try:
        code = main(["export", str(tmp_path / "out"), "--stories", STORIES, "--css", str(SHOP_CSS)])
    finally:
        use_stories()
    assert code == 0 and "pages" in capsys.readouterr().out
    pages = sorted(p.name for p in (tmp_path / "out" / "story").glob("*.html"))
    assert pages == sorted(f"{s.slug}.html" for s in load(STORIES))
    assert (tmp_path / "out" / "assets" / "extra-1-shopkit.css").read_text() == SHOP_CSS.read_text()


def test_the_cli_refuses_a_missing_package_or_stylesheet(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(["export", "x", "--stories", "no_such_pkg.stories"])
    assert e.value.code == 2 and "cannot import story package" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["export", "x", "--css", "no/such.css"])
    assert e.value.code == 2 and "stylesheet not found: no/such.css" in capsys.readouterr().err


def test_story_arguments_can_be_component_calls() -> None:
    story = Story(shop.StockBadge, "Nested", {"level": shop.Stock.LOW, "count": 2})
    assert "Only a few left: 2 left" in story.render()
    assert Call(shop.StockBadge, {"level": "out"}).build() is not None
