"""Fit and finish of the gallery shell (issue 24, item 6), in Chromium: the shell's own stylesheet
applies (byok.css's scoped reset must not switch it off), a 390 px phone never scrolls sideways and
shows the whole theme picker, and the static export's "needs the live gallery" notice never covers
the story.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from gallery.build.export import export
from tests.support.browser import goto, new_context

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PAGES = ("/", "/story/key-management-card--stored", "/component/key-management-card")
FITS = "() => document.scrollingElement.scrollWidth <= window.innerWidth"
WIDE = """() => [...document.querySelectorAll("body *")]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .filter(e => { for (let a = e.parentElement; a; a = a.parentElement)
                   if (getComputedStyle(a).overflowX !== "visible") return false;
                 return true; })
  .slice(0, 6).map(e => e.tagName + "." + e.className + " " + e.getBoundingClientRect().right)"""
PICKER = """() => { const r = document.querySelector("[data-theme-select]").getBoundingClientRect();
  return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth && r.top >= 0; }"""
UNCOVERED = """() => { const b = document.querySelector("#story-root .badge");
  const r = b.getBoundingClientRect();
  const points = [[0.5, 0.5], [0.1, 0.1], [0.9, 0.1], [0.1, 0.9], [0.9, 0.9]];
  return points.every(([x, y]) => {
    const hit = document.elementFromPoint(r.left + r.width * x, r.top + r.height * y);
    return hit !== null && (hit === b || b.contains(hit)); }); }"""


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A page 390 px wide, as on a phone."""
    ctx = new_context(browser)
    page = ctx.new_page()
    page.set_viewport_size(PHONE)
    yield page
    ctx.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A desktop page in its own context."""
    ctx = new_context(browser)
    yield ctx.new_page()
    ctx.close()


def test_the_shell_stylesheet_applies(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/story/alert--info-filled")
    layout = page.locator(".gallery-layout").evaluate("e => getComputedStyle(e).display")
    skip = page.locator(".skip-link").evaluate("e => getComputedStyle(e).position")
    assert (layout, skip) == ("flex", "absolute")


@pytest.mark.parametrize("path", PAGES)
def test_a_phone_never_scrolls_sideways_and_shows_the_theme_picker(
    path: str, phone: Page, gallery_url: str
) -> None:
    goto(phone, gallery_url + path)
    expect(phone.locator("#sidebar")).to_be_hidden()  # behind the Menu button
    assert phone.evaluate(FITS), phone.evaluate(WIDE)
    assert phone.evaluate(PICKER)


def test_static_notice_never_covers_the_story(page: Page, tmp_path: Path) -> None:
    report = export(tmp_path / "site")
    story = "key-management-card--stored-with-test"  # Test is not recorded: it needs a server
    page.goto((report.root / "story" / f"{story}.html").as_uri())
    frame = page.frame_locator("#canvas-frame")
    expect(frame.locator("#story-root .badge")).to_be_visible()
    frame.get_by_role("button", name="Test").click()
    expect(frame.locator("[data-gallery-notice]")).to_contain_text("live gallery")
    canvas = page.frame(name="canvas")
    assert canvas is not None
    assert canvas.evaluate(UNCOVERED)


FIRST_CONTROL = """() => { const c = document.querySelector("#controls-form :is(input, select, textarea):not([type=hidden])");
  const r = c.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return {scrolled: window.scrollY, top: r.top, bottom: r.bottom, height: window.innerHeight,
          hit: hit !== null && (hit === c || c.contains(hit) || hit.contains(c))}; }"""


def test_panels_are_on_screen_beside_the_canvas_and_resizable(
    browser: Browser, gallery_url: str
) -> None:
    ctx = new_context(browser)
    page = ctx.new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    try:
        goto(page, f"{gallery_url}/story/key-management-card--stored")
        seen = page.evaluate(FIRST_CONTROL)
        assert seen["scrolled"] == 0 and seen["top"] >= 0 and seen["bottom"] <= seen["height"], seen
        assert seen["hit"], seen
        stage = page.locator("#canvas-stage").bounding_box()
        assert stage is not None and stage["height"] >= 200  # the canvas keeps room of its own
        # resizable: a separator above the panels (test_gallery_split.py drags it)
        expect(page.locator('#story > [role="separator"] + #story-panels')).to_be_visible()
    finally:
        ctx.close()


GAP = """() => { const t = document.querySelector("#story-root .card-title");
  const b = document.querySelector("#story-root .badge");
  return Math.round((b.getBoundingClientRect().left - t.getBoundingClientRect().right) * 10) / 10; }"""


def test_measure_shows_the_distance_between_two_elements(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/story/key-management-card--stored")
    frame = page.frame_locator("#canvas-frame")
    badge = frame.locator("#story-root .badge")
    expect(badge).to_be_visible()
    page.get_by_role("button", name="Measure").click()
    expect(page.get_by_role("button", name="Measure")).to_have_attribute("aria-pressed", "true")
    frame.locator("#story-root .card-title").click()
    badge.hover()
    canvas = page.frame(name="canvas")
    assert canvas is not None
    gap = canvas.evaluate(GAP)
    assert gap > 0
    summary = frame.locator("[data-gallery-measure]")
    expect(summary).to_have_attribute(
        "data-gallery-measure", re.compile(rf"^horizontal {gap:g} px;")
    )
    page.get_by_role("button", name="Measure").click()  # off: clicks press again
    expect(summary).to_have_count(0)
