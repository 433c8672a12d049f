"""The separator between the canvas and the docked panels, in Chromium at 1280×800: dragged with
the mouse or moved with the arrow keys it resizes them, the size is remembered across a reload,
and the canvas and the panels stay on screen at either end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import Watch, goto, new_context

pytestmark = pytest.mark.browser

STORY = "alert--with-title"
SCREEN = {"width": 1280, "height": 800}
SEPARATOR = '#story > [role="separator"][aria-controls="story-panels"]'


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A 1280×800 page in its own context (its own localStorage)."""
    ctx = new_context(browser)
    page = ctx.new_page()
    page.set_viewport_size(SCREEN)
    yield page
    ctx.close()


def height(page: Page, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    assert box is not None
    return box["height"]


def on_screen(page: Page) -> None:
    """The canvas's stage and the panels' tabs are both inside the window."""
    for selector in ("#canvas-stage", "#story-panels"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["height"] >= 40, selector
        assert box["y"] >= 0 and box["y"] + 40 <= SCREEN["height"], selector
    panels = page.locator("#story-panels").bounding_box()
    assert panels is not None and panels["y"] + panels["height"] <= SCREEN["height"]


def value(page: Page) -> int:
    return int(page.locator(SEPARATOR).get_attribute("aria-valuenow") or "-1")


def test_dragging_the_separator_resizes_the_panels_and_is_remembered(
    page: Page, gallery_url: str
) -> None:
    watch = Watch(page)
    goto(page, f"{gallery_url}/story/{STORY}?tab=controls")
    separator = page.locator(SEPARATOR)
    expect(separator).to_be_visible()
    expect(separator).to_have_attribute("aria-orientation", "horizontal")
    panels0, stage0, value0 = (
        height(page, "#story-panels"),
        height(page, "#canvas-stage"),
        value(page),
    )
    box = separator.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y - 60, steps=6)  # over the canvas iframe: the drag keeps going
    page.mouse.move(x, y - 120, steps=6)
    page.mouse.up()
    panels1, stage1 = height(page, "#story-panels"), height(page, "#canvas-stage")
    assert panels1 == pytest.approx(panels0 + 120, abs=8)
    assert stage1 == pytest.approx(stage0 - 120, abs=8)
    remembered = value(page)
    assert remembered > value0
    on_screen(page)

    page.reload()
    expect(page.locator(SEPARATOR)).to_have_attribute("aria-valuenow", str(remembered))
    assert height(page, "#story-panels") == pytest.approx(panels1, abs=2)

    # a story switch keeps it too (the new page's panels get the remembered size)
    page.locator('#story-tree a[href="/story/alert--dismissible"]').click()
    expect(page).to_have_url(f"{gallery_url}/story/alert--dismissible")
    expect(page.locator(SEPARATOR)).to_have_attribute("aria-valuenow", str(remembered))
    assert height(page, "#story-panels") == pytest.approx(panels1, abs=2)
    assert watch.take() == []


def test_the_arrow_keys_move_the_separator_within_bounds(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/story/{STORY}?tab=controls")
    separator = page.locator(SEPARATOR)
    separator.focus()
    start, panels0 = value(page), height(page, "#story-panels")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert value(page) == start - 10
    assert height(page, "#story-panels") < panels0 - 40
    page.keyboard.press("ArrowUp")
    assert value(page) == start - 5

    page.keyboard.press("End")  # the largest the panels get: the canvas still on screen
    largest = value(page)
    assert largest == int(separator.get_attribute("aria-valuemax") or "0") > start
    on_screen(page)
    page.keyboard.press("ArrowUp")
    assert value(page) == largest  # bounded

    page.keyboard.press("Home")  # the smallest: the panels' tabs still on screen
    assert value(page) == int(separator.get_attribute("aria-valuemin") or "-1") < start
    on_screen(page)

    page.reload()
    assert value(page) == int(page.locator(SEPARATOR).get_attribute("aria-valuemin") or "-1")
