"""The gallery in a real browser (Debian's Chromium through Playwright), offline.

Every story page: no console error, no failed request, styles applied, axe-core finds no serious or
critical violation (in the page and, through axe's frame support, in its canvas). Then the canvas
(real viewport widths, zoom, resize), the Actions panel and the story sandbox, the Accessibility
panel, navigation shortcuts, Controls (reset, JSON errors), the playground, layout shift, and the
static export from file://. One page is reused for the sweep to keep the suite short.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, expect

from gallery.build.export import export
from gallery.model.registry import registry
from tests.support.browser import AXE_RUN, STYLED, Watch, goto, new_context

pytestmark = pytest.mark.browser

STORIES = list(registry())
SCREENSHOTS = (
    "key-manager-dashboard--three-keys-of-six",
    "alert--everything",
    "key-input-form--openai",
)
SKIP_TREE = {"exclude": [["#story-tree"]]}  # axe context: the page without the sidebar tree
OPENAI_KEY = "sk-proj-valid-" + "Zx9Yw8Vu" * 4  # the fake provider accepts "valid" keys


@pytest.fixture(scope="module")
def sweep(browser: Browser) -> Iterator[tuple[Page, Watch]]:
    """One page, reused to visit every story page in turn."""
    ctx = new_context(browser)
    page = ctx.new_page()
    yield page, Watch(page)
    ctx.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in its own context, so no test inherits another's theme or session."""
    ctx = new_context(browser)
    yield ctx.new_page()
    ctx.close()


def canvas_ready(page: Page) -> None:
    """Wait until the story's canvas has loaded and is styled."""
    page.wait_for_function(
        """() => { const f = document.getElementById("canvas-frame");
                   const d = f && f.contentDocument;
                   return d && d.readyState === "complete" && d.getElementById("story-root")
                     && getComputedStyle(d.body).backgroundColor !== "rgba(0, 0, 0, 0)"; }""",
        timeout=15_000,
    )


def frame_eval(page: Page, script: str) -> Any:
    """Evaluate in the canvas iframe."""
    frame = page.frame(name="canvas")
    assert frame is not None
    return frame.evaluate(script)


CLS = """() => new Promise(resolve => {
  let total = 0;
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value;
  }).observe({type: "layout-shift", buffered: true});
  setTimeout(() => resolve(total), 1500);
})"""


@pytest.mark.parametrize("slug", [s.slug for s in STORIES])
def test_story_page_is_clean_styled_and_accessible(
    slug: str, sweep: tuple[Page, Watch], gallery_url: str
) -> None:
    page, watch = sweep
    goto(page, f"{gallery_url}/story/{slug}")
    canvas_ready(page)
    # the story tree is the same markup on every page: checked in full on the other pages
    violations: list[dict[str, Any]] = page.evaluate(AXE_RUN, [SKIP_TREE, None])
    assert violations == [], violations
    assert watch.take() == []


# A kitchen sink shows several renderings of one component, so their ids repeat by design
# (e.g. two cards for "openai"); the label rules that follow from repeated ids are off there.
REPEATED_IDS = {"label-title-only": {"enabled": False}, "duplicate-id-aria": {"enabled": False}}


@pytest.mark.parametrize(
    "path",
    ["/", "/playground", *[f"/component/{slug}" for slug in registry().by_component]],
)
def test_other_pages_are_clean_and_accessible(
    path: str, sweep: tuple[Page, Watch], gallery_url: str
) -> None:
    page, watch = sweep
    goto(page, gallery_url + path)
    page.wait_for_load_state("networkidle")
    rules = REPEATED_IDS if path.startswith("/component/") else None
    violations: list[dict[str, Any]] = page.evaluate(AXE_RUN, [None, rules])
    assert violations == [], violations
    assert watch.take() == []


def test_primary_button_is_styled_in_the_canvas(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/story/key-input-form--openai")
    canvas_ready(page)
    button = page.frame_locator("#canvas-frame").locator(".btn-primary").first
    background = button.evaluate("b => getComputedStyle(b).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "rgb(239, 239, 239)", "rgb(240, 240, 240)")
    assert button.evaluate("b => getComputedStyle(b).borderRadius") != "0px"


MEDIA = """() => ({width: innerWidth, sm: matchMedia("(min-width: 640px)").matches,
                  md: matchMedia("(min-width: 768px)").matches,
                  lg: matchMedia("(min-width: 1024px)").matches})"""


def test_viewports_are_real_widths_inside_the_canvas(
    page: Page, gallery_url: str, results_dir: Path
) -> None:
    goto(page, f"{gallery_url}/story/key-manager-dashboard--three-keys-of-six")
    canvas_ready(page)
    viewport = page.get_by_label("Viewport")
    viewport.select_option("mobile")
    page.wait_for_timeout(150)
    assert frame_eval(page, MEDIA) == {"width": 375, "sm": False, "md": False, "lg": False}
    expect(page.locator("#canvas-size")).to_have_text(re.compile(r"^375 × 667$"))
    columns = frame_eval(
        page,
        "getComputedStyle(document.querySelector('#byok-dashboard .grid')).gridTemplateColumns",
    )
    assert len(columns.split()) == 1  # Tailwind's breakpoints see a phone: one column
    page.screenshot(path=str(results_dir / "phone-dashboard.png"), full_page=True)
    viewport.select_option("tablet")
    page.wait_for_timeout(150)
    assert frame_eval(page, MEDIA) == {"width": 768, "sm": True, "md": True, "lg": False}
    viewport.select_option("desktop")
    page.wait_for_timeout(150)
    assert frame_eval(page, MEDIA)["lg"] is True and frame_eval(page, "innerWidth") == 1280
    # dragging the handle resizes the canvas, and the size readout follows
    viewport.select_option("mobile")
    page.wait_for_timeout(150)
    page.locator("[data-canvas-resize]").scroll_into_view_if_needed()
    handle = page.locator("[data-canvas-resize]").bounding_box()
    page.mouse.move(handle["x"] + 5, handle["y"] + 5)
    page.mouse.down()
    page.mouse.move(handle["x"] + 305, handle["y"] + 5, steps=5)
    page.mouse.up()
    page.wait_for_timeout(150)
    width = frame_eval(page, "innerWidth")
    assert 660 <= width <= 690, width
    expect(page.locator("#canvas-size")).to_have_text(re.compile(rf"^{width} × "))
    # the keyboard resizes it too
    page.locator("[data-canvas-resize]").focus()
    page.keyboard.press("Shift+ArrowRight")
    page.wait_for_timeout(150)
    assert frame_eval(page, "innerWidth") == width + 50
    # zoom scales the box, not the viewport the component sees
    page.get_by_role("button", name="Zoom out").click()
    expect(page.locator("#canvas-zoom")).to_have_text("75%")
    assert frame_eval(page, "innerWidth") == width + 50


def test_canvas_tools_background_outline_layout(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/story/alert--info-filled")
    canvas_ready(page)
    page.get_by_label("Background").select_option("checkered")
    page.get_by_role("button", name="Outline").click()
    page.get_by_label("Layout").select_option("centered")
    page.wait_for_timeout(150)
    state = frame_eval(
        page,
        """() => ({bg: document.documentElement.dataset.background,
                   outline: document.documentElement.hasAttribute("data-outline"),
                   layout: document.body.dataset.layout,
                   ring: getComputedStyle(document.querySelector("#story-root .alert")).outlineStyle})""",
    )
    assert state == {"bg": "checkered", "outline": True, "layout": "centered", "ring": "solid"}
    href = page.get_by_role("link", name="Open canvas in a new tab").get_attribute("href")
    assert href == "/story/alert--info-filled/canvas"


def test_toast_stories_sit_in_a_toast_container(
    page: Page, gallery_url: str, results_dir: Path
) -> None:
    goto(page, f"{gallery_url}/story/toast--success")
    canvas_ready(page)
    box = frame_eval(
        page,
        """() => { const t = document.querySelector("#toast-container .alert").getBoundingClientRect();
                   return {right: innerWidth - t.right, top: t.top, width: t.width, w: innerWidth}; }""",
    )
    assert box["right"] < 40 and box["top"] < 40 and box["width"] < box["w"] / 2  # top end
    page.screenshot(path=str(results_dir / "toast-story.png"))
    goto(page, f"{gallery_url}/story/toast-container--bottom-start")
    canvas_ready(page)
    samples = frame_eval(page, "document.querySelectorAll('#toast-container .alert').length")
    assert samples == 2


def test_controls_reset_changed_markers_and_round_trip(page: Page, gallery_url: str) -> None:
    watch = Watch(page)
    goto(page, f"{gallery_url}/story/alert--info-filled?tab=controls")
    canvas_ready(page)
    form = page.locator("#controls-form")
    form.locator('select[name="kind"]').select_option("error")
    expect(page.frame_locator("#canvas-frame").locator("#story-root .alert-error")).to_be_visible()
    expect(page).to_have_url(re.compile(r"kind=error"))
    expect(page.locator("#code-source")).to_contain_text("kind=AlertKind.ERROR")
    field = form.locator('[data-control="kind"]')
    expect(field.locator("[data-changed-marker]")).to_be_visible()
    expect(form.locator("[data-changed-count]")).to_have_text("1 changed")
    form.locator('input[name="title"]').fill("Heads up")
    expect(page.frame_locator("#canvas-frame").locator("#story-root")).to_contain_text("Heads up")
    expect(form.locator("[data-changed-count]")).to_have_text("2 changed")
    field.get_by_role("button", name="Reset kind").click()
    expect(form.locator('select[name="kind"]')).to_have_value("info")
    expect(page.frame_locator("#canvas-frame").locator("#story-root .alert-info")).to_be_visible()
    expect(form.locator("[data-changed-count]")).to_have_text("1 changed")
    page.reload()  # the pushed URL reproduces the tweaked story
    canvas_ready(page)
    expect(page.frame_locator("#canvas-frame").locator("#story-root")).to_contain_text("Heads up")
    page.get_by_role("button", name="Reset all").click()
    expect(form.locator('input[name="title"]')).to_have_value("")
    expect(form.locator("[data-changed-count]")).to_have_text("")
    expect(page.frame_locator("#canvas-frame").locator("#story-root")).not_to_contain_text(
        "Heads up"
    )
    # a newer value may replace a canvas still loading (ERR_ABORTED): nothing else may fail
    assert [p for p in watch.take() if "ERR_ABORTED" not in p] == []


def test_json_control_errors_show_inline(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/story/multi-provider-key-form--three-providers?tab=controls")
    canvas_ready(page)
    editor = page.locator('#controls-form textarea[name="providers"]')
    editor.fill('["openai", ')
    error = page.locator("#control-providers-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("not valid JSON", ignore_case=True)  # gallery.js, then the server
    expect(editor).to_have_attribute("aria-invalid", "true")
    editor.fill('["groq", "mistral"]')
    expect(error).to_be_hidden()
    options = page.frame_locator("#canvas-frame").locator("select option")
    expect(options).to_have_count(2)
    page.locator('#controls-form input[name="default_provider"]').fill("nope")
    expect(page.locator("#controls-error")).to_contain_text("refused")


def test_actions_panel_logs_a_save_and_its_oob_toast_in_a_sandbox(
    page: Page, gallery_url: str, results_dir: Path
) -> None:
    watch = Watch(page)
    goto(page, f"{gallery_url}/story/key-input-form--openai?tab=actions")
    canvas_ready(page)
    canvas = page.frame_locator("#canvas-frame")
    canvas.get_by_label("OpenAI API key").fill(OPENAI_KEY)
    canvas.get_by_role("button", name=re.compile("Save key")).click()
    entry = page.locator("#actions-log li").first
    expect(entry).to_contain_text("POST /api/keys/openai")
    expect(canvas.locator("#toast-container")).to_contain_text("OpenAI key saved")
    entry.locator("summary").click()
    text = entry.inner_text()
    assert "/sandbox/api/keys/openai" in text and "HX-Request" in text and "X-CSRF-Token" in text
    assert "#toast-container" in text and "out of band" in text
    assert "api_key" in text and OPENAI_KEY not in text and OPENAI_KEY[-4:] in text  # masked
    assert OPENAI_KEY not in page.content()
    expect(page.get_by_role("radio", name="Actions (1)")).to_be_checked()
    page.locator("#actions-panel").scroll_into_view_if_needed()
    page.screenshot(path=str(results_dir / "actions-panel.png"))
    # the playground never saw it
    goto(page, f"{gallery_url}/playground")
    expect(page.locator("#byok-card-openai")).to_have_attribute("data-byok-card", "empty")
    # a refused save: the 422 with HX-Retarget, shown beside the field
    goto(page, f"{gallery_url}/story/key-input-form--openai?tab=actions")
    canvas_ready(page)
    canvas.get_by_label("OpenAI API key").fill("not-a-key")
    canvas.get_by_role("button", name=re.compile("Save key")).click()
    entry = page.locator("#actions-log li").first
    expect(entry).to_contain_text("422")
    entry.locator("summary").click()
    assert "HX-Retarget" in entry.inner_text() or "hx-retarget" in entry.inner_text()
    assert [p for p in watch.take() if "422" not in p] == []


def test_accessibility_panel_counts_and_highlights(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/story/alert--info-filled?tab=a11y")
    canvas_ready(page)
    expect(page.locator("#a11y-summary")).to_contain_text("No violations", timeout=15_000)
    frame_eval(
        page,
        """() => { const img = document.createElement("img"); img.src = "data:,";
                   document.getElementById("story-root").appendChild(img);
                   const b = document.createElement("button");
                   document.getElementById("story-root").appendChild(b); }""",
    )
    page.get_by_role("button", name="Run checks").click()
    expect(page.locator("#a11y-summary")).to_contain_text("2 violations", timeout=15_000)
    expect(page.locator("#a11y-list > li")).to_have_count(2)
    expect(page.get_by_role("radio", name="Accessibility (2)")).to_be_checked()
    page.locator('[data-violation="image-alt"] [data-a11y-target]').first.click()
    page.wait_for_timeout(200)
    assert frame_eval(page, "document.querySelector('img').hasAttribute('data-gallery-highlight')")
    # the panel itself passes axe
    violations = page.evaluate(AXE_RUN, [{"include": [["#a11y-panel"]]}, None])
    assert violations == [], violations


def test_new_panels_pass_axe_when_filled(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/story/key-input-form--openai?tab=actions")
    canvas_ready(page)
    canvas = page.frame_locator("#canvas-frame")
    canvas.get_by_label("OpenAI API key").fill(OPENAI_KEY)
    canvas.get_by_role("button", name=re.compile("Save key")).click()
    expect(page.locator("#actions-log li")).to_have_count(1)
    page.locator("#actions-log summary").first.click()
    for tab in ("Actions (1)", "Controls", "Code", "HTML", "Docs"):
        page.get_by_role("radio", name=tab).check()
        violations = page.evaluate(
            AXE_RUN, [{"exclude": [["#story-tree"], ["#canvas-frame"]]}, None]
        )
        assert violations == [], (tab, violations)
    page.get_by_role("radio", name="Code").check()
    page.locator("#code-panel summary").click()
    expect(page.get_by_role("button", name="Copy the runnable app")).to_be_visible()


def test_search_shortcuts_fuzzy_match_and_keys(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/")
    search = page.locator("#story-search")
    page.keyboard.press("/")
    expect(search).to_be_focused()
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("Control+k")
    expect(search).to_be_focused()
    search.press_sequentially("dashbord")  # a typo still finds the dashboard
    visible = page.locator("#story-tree li[data-search]:visible:has(a[data-story-link])")
    expect(page.locator('[data-component="KeyManagerDashboard"]')).to_be_visible()
    expect(page.locator('[data-component="Alert"]')).to_be_hidden()
    search.fill("toast con")
    page.dispatch_event("#story-search", "input")
    expect(visible).to_have_count(9)  # ToastContainer: 3 positions x 3 alignments
    search.press("ArrowDown")
    expect(page.locator("#story-tree a[data-story-link]:visible").first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#story-tree a[data-story-link]:visible").nth(1)).to_be_focused()
    page.keyboard.press("Escape")
    expect(search).to_be_focused()
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/story/toast-container--"))
    current = page.url
    page.keyboard.press("Alt+ArrowDown")
    expect(page).not_to_have_url(current)
    nxt = page.url
    here = page.locator('#story-tree a[aria-current="page"]')
    expect(here).to_have_attribute("href", urlparse(nxt).path)  # the new page is ready
    page.keyboard.press("Alt+ArrowUp")
    expect(page).to_have_url(current)
    assert nxt != current
    search.fill("zzzz")
    page.dispatch_event("#story-search", "input")
    expect(page.get_by_text("No story matches.")).to_be_visible()


def test_skip_link_sidebar_first_and_visible_focus(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/story/alert--info-filled")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["y"] >= 0  # visible when focused
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="byok gallery")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#story-search")).to_be_focused()
    ring = page.locator("#story-search").evaluate(
        "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert ring[0] == "solid" and float(ring[1].rstrip("px")) >= 2
    skip.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()


def test_choices_are_remembered_in_cookies_the_server_renders(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/story/alert--info-filled")
    canvas_ready(page)
    page.get_by_label("Viewport").select_option("mobile")
    with page.expect_response(re.compile(r"/story/alert--info-filled$")) as answer:
        page.reload()
    canvas_ready(page)
    # the server rendered the page as it was left: nothing read from storage before the paint
    assert 'value="mobile" selected' in answer.value.text()
    expect(page.get_by_label("Viewport")).to_have_value("mobile")
    assert page.evaluate("document.getElementById('canvas-box').offsetWidth") == 375
    assert page.evaluate("window.localStorage.length") == 0
    names = {c["name"] for c in page.context.cookies()}
    assert "byok-gallery-viewport" in names
    page.get_by_label("Viewport").select_option("responsive")


def test_groups_collapse_and_the_open_one_is_remembered(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/story/alert--info-filled")
    feedback = page.locator('details[data-group="Feedback"]')
    cards = page.locator('details[data-group="Cards"]')
    expect(feedback).to_have_attribute("open", "")
    assert cards.get_attribute("open") is None
    cards.locator("summary").click()
    expect(cards).to_have_attribute("open", "")
    page.wait_for_function("decodeURIComponent(document.cookie).includes('\"Cards\"')")
    page.reload()
    expect(page.locator('details[data-group="Cards"]')).to_have_attribute("open", "")
    box = page.locator("#story-search").bounding_box()
    page.locator("#sidebar").evaluate("s => s.scrollTop = 2000")
    assert page.locator("#story-search").bounding_box()["y"] == box["y"]  # sticky


def test_sidebar_navigation_swaps_main_without_reload(page: Page, gallery_url: str) -> None:
    watch = Watch(page)
    goto(page, f"{gallery_url}/")
    page.evaluate("window.__marker = 42")
    page.locator('details[data-group="Feedback"] summary').click()
    page.locator('#story-tree a[href="/story/security-alert--critical"]').click()
    expect(page).to_have_url(f"{gallery_url}/story/security-alert--critical")
    expect(page.locator("#main h1")).to_contain_text("SecurityAlert")
    assert page.evaluate("window.__marker") == 42  # same document: htmx swapped #main
    expect(page).to_have_title(re.compile("SecurityAlert · Critical"))
    expect(page.locator('#story-tree a[aria-current="page"]')).to_have_text("Critical")
    canvas_ready(page)
    page.go_back()
    expect(page).to_have_url(f"{gallery_url}/")
    assert watch.take() == []


def test_tabs_are_permalinks(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/story/alert--with-title")
    page.get_by_role("radio", name="HTML").check()
    expect(page).to_have_url(re.compile(r"\?tab=html$"))
    expect(page.locator("#html-source")).to_be_visible()
    page.reload()
    expect(page.get_by_role("radio", name="HTML")).to_be_checked()
    page.get_by_role("radio", name="Docs").check()
    expect(page.locator("#story .tab-content table").last).to_contain_text("optional bold title")


def test_theme_switcher_reaches_the_canvas_and_is_remembered(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/story/alert--info-filled")
    canvas_ready(page)
    light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.get_by_label("Theme").select_option("dark")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != light
    page.wait_for_timeout(100)
    assert frame_eval(page, "document.documentElement.dataset.theme") == "dark"
    page.reload()
    canvas_ready(page)
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert frame_eval(page, "document.documentElement.dataset.theme") == "dark"
    page.get_by_label("Theme").select_option("light")


def test_alert_dismisses_in_the_canvas(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/story/alert--dismissible")
    canvas_ready(page)
    alert = page.frame_locator("#canvas-frame").locator("#welcome-alert")
    expect(alert).to_be_visible()
    alert.get_by_role("button", name="Dismiss").click()
    expect(alert).to_have_count(0)


def test_toast_appears_and_dismisses_itself(page: Page, gallery_url: str) -> None:
    page.mouse.move(0, 0)
    goto(page, f"{gallery_url}/story/toast--auto-dismiss")
    toast = page.frame_locator("#canvas-frame").locator("[data-byok-dismiss-after]")
    expect(toast).to_be_visible()
    expect(toast).to_have_count(0, timeout=6_000)  # 3 s duration


def test_copy_buttons_copy_the_snippet_and_the_exact_html(
    browser: Browser, gallery_url: str
) -> None:
    ctx = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = ctx.new_page()
    story = registry().get("key-input-form--openai")
    assert story is not None
    try:
        goto(page, f"{gallery_url}/story/{story.slug}?tab=code")
        page.get_by_role("button", name="Copy the Python code").click()
        expect(page.locator('[data-copy-target="code-source"]')).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == story.snippet()
        page.get_by_role("radio", name="HTML").check()
        page.get_by_role("button", name="Copy the exact HTML").click()
        assert page.evaluate("navigator.clipboard.readText()") == story.render()
    finally:
        ctx.close()


def test_playground_add_card_test_delete(page: Page, gallery_url: str) -> None:
    watch = Watch(page)
    page.mouse.move(0, 0)
    goto(page, f"{gallery_url}/playground")
    card = page.locator("#byok-card-openai")
    expect(card).to_have_attribute("data-byok-card", "empty")

    # a malformed key: a validation message beside the field, nothing stored
    card.get_by_label("OpenAI API key").fill("not-a-key")
    card.get_by_role("button", name=re.compile("Save key")).click()
    expect(page.locator("#byok-validation-openai")).to_contain_text("does not look like an OpenAI")
    expect(card).to_have_attribute("data-byok-card", "empty")

    card.get_by_label("OpenAI API key").fill(OPENAI_KEY)
    card.get_by_role("button", name=re.compile("Save key")).click()
    expect(card).to_have_attribute("data-byok-card", "stored")
    expect(card).to_contain_text(OPENAI_KEY[-4:])
    assert OPENAI_KEY not in page.content()  # masked only
    toasts = page.locator("#toast-container")
    expect(toasts).to_contain_text("OpenAI key saved")
    toast_top = toasts.bounding_box()["y"]
    assert toast_top >= page.locator("header.navbar").bounding_box()["height"] - 1  # below the bar

    card.get_by_role("button", name=re.compile("^Test")).click()  # a real request, to the mock
    expect(page.locator("#byok-test-openai")).to_contain_text("OpenAI accepted this key")

    page.once("dialog", lambda d: d.accept())
    card.get_by_role("button", name=re.compile("^Delete")).click()
    expect(card).to_have_attribute("data-byok-card", "empty")
    expect(toasts).to_contain_text("OpenAI key removed")
    expect(toasts.get_by_text("OpenAI key saved")).to_have_count(0, timeout=6_000)  # auto-dismissed
    # the validation answer is a deliberate 422: the only HTTP error this flow may produce
    assert [p for p in watch.take() if "422" not in p] == []


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/story/key-manager-dashboard--three-keys-of-six",
        "/story/alert--info-filled",
        "/component/key-input-form",
        "/playground",
    ],
)
def test_layout_shift_is_small(path: str, page: Page, gallery_url: str) -> None:
    goto(page, gallery_url + path)
    shift = page.evaluate(CLS)
    assert shift <= 0.1, shift


def test_index_cards_have_previews_and_distinct_buttons(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/")
    cards = page.locator("#main li.card")
    count = cards.count()
    assert count == len(registry().by_component)
    buttons = page.locator("#main li.card .btn").all_inner_texts()
    assert len(set(buttons)) == count  # no 18 identical "First story" buttons
    expect(page.locator("header nav").get_by_text("index.json")).to_have_count(0)
    expect(page.locator("footer").get_by_role("link", name="index.json")).to_be_visible()
    first = cards.first.locator("iframe")
    first.scroll_into_view_if_needed()
    page.wait_for_function(
        """() => { const f = document.querySelector("#main li.card iframe");
                   return f.contentDocument && f.contentDocument.getElementById("story-root"); }""",
        timeout=15_000,
    )
    assert "`" not in page.locator("#main").inner_text()


def test_dark_code_blocks_keep_a_visible_edge(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/story/alert--info-filled?tab=code")
    page.get_by_label("Theme").select_option("dark")
    edge = page.locator("#code-source").evaluate(
        "e => [getComputedStyle(e).borderTopWidth, getComputedStyle(e).borderTopColor]"
    )
    page_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert edge[0] == "1px" and edge[1] != page_bg
    page.get_by_label("Theme").select_option("light")


TIMING_STORY = "key-manager-dashboard--three-keys-of-six"


def test_measure_story_switch_control_round_trip_and_cold_index(
    browser: Browser, gallery_url: str, results_dir: Path
) -> None:
    """Recorded, not asserted (speed is a benchmark's business): test-results/gallery/timings.json."""
    import json
    import time

    timings: dict[str, float] = {}
    ctx = new_context(browser)
    page = ctx.new_page()
    try:
        t0 = time.perf_counter()
        page.goto(f"{gallery_url}/", wait_until="load")
        page.wait_for_function(STYLED)
        timings["cold index load, ms"] = (time.perf_counter() - t0) * 1000
        page.locator('details[data-group="Dashboard"] summary').click()
        t0 = time.perf_counter()
        page.locator(f'#story-tree a[href="/story/{TIMING_STORY}"]').click()
        canvas_ready(page)
        timings["story switch (sidebar click to styled canvas), ms"] = (
            time.perf_counter() - t0
        ) * 1000
        page.get_by_role("radio", name="Controls").check()
        t0 = time.perf_counter()
        page.locator('#controls-form input[name="title"]').fill("Round trip")
        page.frame_locator("#canvas-frame").get_by_text("Round trip").wait_for()
        canvas_ready(page)
        timings["control round trip (input to styled canvas), ms"] = (
            time.perf_counter() - t0
        ) * 1000
    finally:
        ctx.close()
    (results_dir / "timings.json").write_text(json.dumps(timings, indent=2))
    print(timings)
    assert all(v > 0 for v in timings.values())


def test_screenshots_light_and_dark(page: Page, gallery_url: str, results_dir: Path) -> None:
    for theme in ("light", "dark"):
        goto(page, f"{gallery_url}/")
        page.get_by_label("Theme").select_option(theme)
        for slug in SCREENSHOTS:
            goto(page, f"{gallery_url}/story/{slug}")
            canvas_ready(page)
            expect(page.locator("html")).to_have_attribute("data-theme", theme)
            path = results_dir / f"{slug}-{theme}.png"
            page.screenshot(path=str(path), full_page=True)
            assert path.stat().st_size > 10_000
    page.get_by_label("Theme").select_option("light")


def test_static_export_works_from_files(page: Page, tmp_path: Path) -> None:
    report = export(tmp_path / "site")
    watch = Watch(page)
    index = (report.root / "index.html").as_uri()
    page.goto(index)
    page.wait_for_load_state("load")
    page.locator('details[data-group="Feedback"] summary').click()
    page.locator('a[href="story/alert--error-soft.html"]').first.click()
    expect(page).to_have_url(re.compile(r"story/alert--error-soft\.html$"))
    page.wait_for_function(STYLED, timeout=10_000)
    frame = page.frame_locator("#canvas-frame")
    expect(frame.locator("#story-root .alert-error")).to_be_visible()
    page.get_by_role("radio", name="HTML").check()
    expect(page.locator("#html-source")).to_be_visible()
    # the a11y panel works from disk too (axe-core runs inside the canvas)
    page.get_by_role("radio", name="Accessibility").check()
    expect(page.locator("#a11y-summary")).to_contain_text("No violations", timeout=15_000)
    # a request the export did not record (Test reaches a provider) says it needs the live
    # gallery instead of swapping in an error (recorded ones: test_export_replay.py)
    page.goto((report.root / "story" / "key-management-card--stored-with-test.html").as_uri())
    expect(page.get_by_role("note")).to_contain_text("need the live gallery")
    frame.get_by_role("button", name=re.compile("^Test")).click()
    expect(frame.locator("[data-gallery-notice]")).to_contain_text("live gallery")
    expect(frame.locator("#byok-card-anthropic")).to_be_visible()  # nothing swapped away
    page.get_by_role("radio", name=re.compile("^Actions")).check()
    expect(page.locator("#actions-log li").first).to_contain_text("blocked")
    # no server to read cookies: the export remembers the visitor's choices in localStorage
    page.get_by_label("Theme").select_option("dark")
    page.get_by_label("Viewport").select_option("tablet")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(page.get_by_label("Viewport")).to_have_value("tablet")
    page.evaluate("localStorage.clear()")
    assert watch.take() == []
