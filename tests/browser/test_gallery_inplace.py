"""In-place stories: a story switch and a control change update the canvas without reloading its
document (a mark set in the canvas survives), htmx runs on the swapped story (its requests reach
the story's sandbox and the Actions panel), an answer older than the one shown never replaces
it, and the browser's history still selects the story.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from playwright.sync_api import Error as PlaywrightError

from tests.support.browser import Watch, goto, new_context

pytestmark = pytest.mark.browser

OPENAI_KEY = "sk-proj-valid-" + "Qr7Ts6Uv" * 4  # the fake provider accepts "valid" keys
DASHBOARD = "key-manager-dashboard--three-keys-of-six"
MARK = "window.__marker = 'kept'"
MARKED = "window.__marker"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in its own context (no theme or session from another test)."""
    ctx = new_context(browser)
    yield ctx.new_page()
    ctx.close()


def canvas_ready(page: Page, slug: str) -> None:
    """Wait until the canvas shows `slug`, styled."""
    page.wait_for_function(
        """slug => { const f = document.getElementById("canvas-frame");
                   const d = f && f.contentDocument;
                   return d && d.readyState === "complete" && d.body.dataset.story === slug
                     && d.getElementById("story-root")
                     && getComputedStyle(d.body).backgroundColor !== "rgba(0, 0, 0, 0)"; }""",
        arg=slug,
        timeout=15_000,
    )


def canvas_eval(page: Page, script: str) -> object:
    """Evaluate in the canvas iframe."""
    frame = page.frame(name="canvas")
    assert frame is not None
    return frame.evaluate(script)


def open_story(page: Page, slug: str) -> None:
    """Click a story in the sidebar (its group opened first), as a visitor does."""
    link = page.locator(f'#story-tree a[href="/story/{slug}"]')
    group = link.locator("xpath=ancestor::details[1]")
    if group.get_attribute("open") is None:
        group.locator("summary").click()
    link.click()


def test_a_story_switch_keeps_the_canvas_document(page: Page, gallery_url: str) -> None:
    watch = Watch(page)
    goto(page, f"{gallery_url}/story/alert--info-filled")
    canvas_ready(page, "alert--info-filled")
    canvas_eval(page, MARK)
    open_story(page, DASHBOARD)
    expect(page).to_have_url(f"{gallery_url}/story/{DASHBOARD}")
    canvas_ready(page, DASHBOARD)
    canvas = page.frame_locator("#canvas-frame")
    expect(canvas.locator("#story-root #byok-dashboard")).to_be_visible()
    assert canvas_eval(page, MARKED) == "kept"  # the same document: swapped, not reloaded
    assert canvas_eval(page, "document.title").startswith("KeyManagerDashboard · ")
    frame = page.locator("#canvas-frame")
    expect(frame).to_have_attribute("title", re.compile("KeyManagerDashboard, Three keys of six"))
    expect(page.get_by_role("link", name="Open canvas in a new tab")).to_have_attribute(
        "href", f"/story/{DASHBOARD}/canvas"
    )
    # a smaller story after it, in the same document again
    open_story(page, "security-alert--critical")
    canvas_ready(page, "security-alert--critical")
    expect(canvas.locator("#byok-dashboard")).to_have_count(0)
    assert canvas_eval(page, MARKED) == "kept"
    # back and forward select the story (and its canvas)
    page.go_back()
    expect(page).to_have_url(f"{gallery_url}/story/{DASHBOARD}")
    canvas_ready(page, DASHBOARD)
    expect(page.locator('#story-tree a[aria-current="page"]')).to_have_text("Three keys of six")
    page.go_forward()
    expect(page).to_have_url(f"{gallery_url}/story/security-alert--critical")
    canvas_ready(page, "security-alert--critical")
    assert watch.take() == []


def test_a_control_change_keeps_the_canvas_document(page: Page, gallery_url: str) -> None:
    watch = Watch(page)
    goto(page, f"{gallery_url}/story/alert--with-title?tab=controls")
    canvas_ready(page, "alert--with-title")
    canvas_eval(page, MARK)
    form = page.locator("#controls-form")
    canvas = page.frame_locator("#canvas-frame")
    form.locator('select[name="kind"]').select_option("error")
    expect(canvas.locator("#story-root .alert-error")).to_be_visible()
    form.locator('input[name="title"]').fill("Heads up")
    expect(canvas.locator("#story-root")).to_contain_text("Heads up")
    expect(page).to_have_url(re.compile(r"kind=error.*title=Heads\+up|title=Heads\+up.*kind=error"))
    expect(page.locator("#code-source")).to_contain_text('title="Heads up"')
    expect(page.get_by_role("link", name="Open canvas in a new tab")).to_have_attribute(
        "href", re.compile(r"^/story/alert--with-title/canvas\?.*title=Heads\+up")
    )
    form.locator('[data-control="kind"]').get_by_role("button", name="Reset kind").click()
    expect(canvas.locator("#story-root .alert-warning")).to_be_visible()
    assert canvas_eval(page, MARKED) == "kept"
    assert watch.take() == []


def test_refused_arguments_keep_the_last_good_canvas(page: Page, gallery_url: str) -> None:
    watch = Watch(page)
    goto(page, f"{gallery_url}/story/multi-provider-key-form--three-providers?tab=controls")
    canvas_ready(page, "multi-provider-key-form--three-providers")
    canvas_eval(page, MARK)
    page.locator('#controls-form input[name="default_provider"]').fill("nope")
    expect(page.locator("#controls-error")).to_contain_text("refused")
    options = page.frame_locator("#canvas-frame").locator("select option")
    expect(options).to_have_count(3)  # the story as it was, not an error page
    assert canvas_eval(page, MARKED) == "kept"
    assert [p for p in watch.take() if "422" not in p] == []


def test_fast_typing_ends_with_the_last_value_whatever_order_the_answers_come_in(
    page: Page, gallery_url: str
) -> None:
    goto(page, f"{gallery_url}/story/alert--with-title?tab=controls")
    canvas_ready(page, "alert--with-title")
    canvas_eval(page, MARK)
    held: list[Route] = []
    canvas_requests = re.compile(r"/story/alert--with-title/canvas\?")
    page.route(canvas_requests, lambda route: held.append(route))
    title = page.locator('#controls-form input[name="title"]')
    title.fill("")
    title.press_sequentially("abcd")
    for _ in range(100):  # one canvas request per keystroke, none waits for another
        if len(held) >= 5:
            break
        page.wait_for_timeout(50)
    assert len(held) == 5, [r.request.url for r in held]
    typed = [re.search(r"title=([^&]*)", r.request.url).group(1) for r in held]
    assert typed == ["", "a", "ab", "abc", "abcd"]
    canvas = page.frame_locator("#canvas-frame").locator("#story-root")
    for route in reversed(held):  # the newest answer first, then every older one
        route.continue_()
    expect(canvas).to_contain_text("abcd")
    page.unroute(canvas_requests)
    page.wait_for_load_state("networkidle")
    expect(canvas.locator(".font-bold")).to_have_text("abcd")  # no older answer replaced it
    assert canvas_eval(page, MARKED) == "kept"


def test_the_canvas_follows_the_form_without_waiting_for_the_panels_answer(
    page: Page, gallery_url: str
) -> None:
    goto(page, f"{gallery_url}/story/alert--with-title?tab=controls")
    canvas_ready(page, "alert--with-title")
    page.locator('input[name="story-tab"][value="code"]').hover()  # loads the Code panel
    expect(page.locator("#code-source")).to_be_attached()
    held: list[Route] = []
    page.route(re.compile(r"/story/alert--with-title/panels\?"), lambda r: held.append(r))
    canvas = page.frame_locator("#canvas-frame").locator("#story-root")
    with page.expect_request(re.compile(r"/story/alert--with-title/panels\?")):
        page.locator('#controls-form input[name="title"]').fill("Straight in")
        expect(canvas).to_contain_text("Straight in")  # the canvas does not wait for the panels
        expect(page).to_have_url(re.compile(r"title=Straight\+in"))  # nor does the URL
    for _ in range(100):  # its route handler runs just after the request event
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the panels request is sent once the controls rest"
    expect(page.locator("#code-source")).not_to_contain_text("Straight in")  # still held
    for route in held:
        route.continue_()
    expect(page.locator("#code-source")).to_contain_text('title="Straight in"')


def test_htmx_runs_on_a_swapped_story_and_actions_are_logged(page: Page, gallery_url: str) -> None:
    watch = Watch(page)
    goto(page, f"{gallery_url}/story/alert--info-filled")
    canvas_ready(page, "alert--info-filled")
    canvas_eval(page, MARK)
    open_story(page, "key-input-form--openai")
    canvas_ready(page, "key-input-form--openai")
    assert canvas_eval(page, MARKED) == "kept"
    page.get_by_role("radio", name=re.compile("^Actions")).check()
    canvas = page.frame_locator("#canvas-frame")
    canvas.get_by_label("OpenAI API key").fill(OPENAI_KEY)
    canvas.get_by_role("button", name=re.compile("Save key")).click()
    entry = page.locator("#actions-log li").first
    expect(entry).to_contain_text("POST /api/keys/openai")
    expect(canvas.locator("#toast-container")).to_contain_text("OpenAI key saved")
    entry.locator("summary").click()
    text = entry.inner_text()
    assert "/sandbox/api/keys/openai" in text and "X-CSRF-Token" in text
    assert OPENAI_KEY not in text and OPENAI_KEY not in page.content()
    # a control change swaps the story again (a new log, a fresh sandbox): its form works too
    page.get_by_role("radio", name="Controls").check()
    page.locator('#controls-form input[name="submit_text"]').fill("Store key")
    expect(canvas.get_by_role("button", name=re.compile("Store key"))).to_be_visible()
    page.get_by_role("radio", name=re.compile("^Actions")).check()
    expect(page.locator("#actions-log li")).to_have_count(0)
    canvas.get_by_label("OpenAI API key").fill(OPENAI_KEY)
    canvas.get_by_role("button", name=re.compile("Store key")).click()
    expect(page.locator("#actions-log li").first).to_contain_text("POST /api/keys/openai")
    expect(canvas.locator("#toast-container")).to_contain_text("OpenAI key saved")
    assert canvas_eval(page, MARKED) == "kept"
    assert watch.take() == []


def test_a_story_clicked_before_the_last_ones_page_is_in_keeps_the_canvas(
    page: Page, gallery_url: str
) -> None:
    # the last story's page lands after the next click, before that click's canvas: it must not
    # take the canvas back (the bench once waited forever on the dashboard after a small story)
    goto(page, f"{gallery_url}/story/alert--info-filled")
    canvas_ready(page, "alert--info-filled")
    pages: list[Route] = []
    canvases: list[Route] = []
    page.route(re.compile(r"/story/security-alert--critical$"), lambda r: pages.append(r))
    open_story(page, "security-alert--critical")
    canvas_ready(page, "security-alert--critical")
    for _ in range(100):  # its page is asked for once its canvas shows it
        if pages:
            break
        page.wait_for_timeout(50)
    assert pages, "the page around the story is asked for"
    page.route(re.compile(rf"/story/{DASHBOARD}/canvas"), lambda r: canvases.append(r))
    open_story(page, DASHBOARD)
    for _ in range(100):
        if canvases:
            break
        page.wait_for_timeout(50)
    for route in pages:  # the older page answers now (if its request was not given up)
        with contextlib.suppress(PlaywrightError):  # aborted by the page: nothing to answer
            route.continue_()
    page.wait_for_timeout(300)
    for route in canvases:
        route.continue_()
    canvas_ready(page, DASHBOARD)
    expect(page).to_have_url(f"{gallery_url}/story/{DASHBOARD}")
    expect(page.locator("#story h1")).to_contain_text("KeyManagerDashboard")
    page.wait_for_timeout(300)  # nothing late takes it back
    assert canvas_eval(page, "document.body.dataset.story") == DASHBOARD
