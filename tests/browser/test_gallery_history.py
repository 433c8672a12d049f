"""Back and Forward in place: the browser's history buttons restore the previous story (and the
control values in its URL) without reloading the page or the canvas's document."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import Watch, goto, new_context

pytestmark = pytest.mark.browser

FIRST, SECOND = "alert--with-title", "security-alert--critical"
MARK = "() => { window.__kept = 'yes'; }"  # lost on a reload of the page or the canvas
KEPT = "() => window.__kept"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in its own context."""
    ctx = new_context(browser)
    yield ctx.new_page()
    ctx.close()


def canvas_shows(page: Page, slug: str) -> None:
    """Wait until the canvas iframe shows `slug`."""
    page.wait_for_function(
        """slug => { const d = document.getElementById("canvas-frame")?.contentDocument;
                   return d && d.body && d.body.dataset.story === slug
                     && d.getElementById("story-root"); }""",
        arg=slug,
        timeout=15_000,
    )


def open_story(page: Page, slug: str) -> None:
    """Click a story in the sidebar (its group opened first)."""
    link = page.locator(f'#story-tree a[href="/story/{slug}"]')
    group = link.locator("xpath=ancestor::details[1]")
    if group.get_attribute("open") is None:
        group.locator("summary").click()
    link.click()


def marked(page: Page) -> tuple[object, object]:
    """The page's mark and the canvas's mark."""
    frame = page.frame(name="canvas")
    assert frame is not None
    return page.evaluate(KEPT), frame.evaluate(KEPT)


def test_back_and_forward_restore_the_story_in_place(page: Page, gallery_url: str) -> None:
    watch = Watch(page)
    goto(page, f"{gallery_url}/story/{FIRST}")
    canvas_shows(page, FIRST)
    page.evaluate(MARK)
    page.frame(name="canvas").evaluate(MARK)  # type: ignore[union-attr]
    open_story(page, SECOND)
    canvas_shows(page, SECOND)
    expect(page).to_have_url(f"{gallery_url}/story/{SECOND}")
    expect(page.locator("#story h1")).to_contain_text("SecurityAlert")

    page.go_back()
    expect(page).to_have_url(f"{gallery_url}/story/{FIRST}")
    canvas_shows(page, FIRST)
    expect(page.locator("#story h1")).to_contain_text("Alert · With title")
    expect(page).to_have_title(re.compile(r"^Alert · With title"))
    expect(page.locator('#story-tree a[aria-current="page"]')).to_have_attribute(
        "href", f"/story/{FIRST}"
    )
    assert marked(page) == ("yes", "yes")  # neither the page nor the canvas was reloaded

    page.go_forward()
    expect(page).to_have_url(f"{gallery_url}/story/{SECOND}")
    canvas_shows(page, SECOND)
    expect(page.locator("#story h1")).to_contain_text("SecurityAlert")
    assert marked(page) == ("yes", "yes")
    assert watch.take() == []


def test_back_restores_the_control_values_in_the_url(page: Page, gallery_url: str) -> None:
    watch = Watch(page)
    goto(page, f"{gallery_url}/story/{FIRST}?tab=controls")
    canvas_shows(page, FIRST)
    page.evaluate(MARK)
    page.locator('#controls-form select[name="kind"]').select_option("error")
    canvas = page.frame_locator("#canvas-frame")
    expect(canvas.locator("#story-root .alert-error")).to_be_visible()
    expect(page).to_have_url(re.compile(r"kind=error"))
    open_story(page, SECOND)
    canvas_shows(page, SECOND)
    expect(page).to_have_url(f"{gallery_url}/story/{SECOND}")  # its page is in, too

    page.go_back()
    expect(page).to_have_url(re.compile(rf"/story/{FIRST}\?.*kind=error"))
    canvas_shows(page, FIRST)
    expect(canvas.locator("#story-root .alert-error")).to_be_visible()
    expect(page.locator('#controls-form select[name="kind"]')).to_have_value("error")
    assert page.evaluate(KEPT) == "yes"

    page.go_back()  # the story as declared, before the control change
    expect(page).to_have_url(re.compile(rf"/story/{FIRST}(\?tab=controls)?$"))
    expect(canvas.locator("#story-root .alert-warning")).to_be_visible()
    expect(page.locator('#controls-form select[name="kind"]')).to_have_value("warning")
    assert page.evaluate(KEPT) == "yes"
    assert watch.take() == []
