"""The gallery in a real browser (Debian's Chromium through Playwright), offline.

Every story page: no console error, no failed request, styles applied, axe-core finds no serious or
critical violation. Then the interactions: controls, search, tabs, themes, viewport, dismiss,
toasts, htmx navigation, copy, the playground flow, and the static export. One browser and one
page are reused for the story sweep to keep the suite within a couple of minutes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from gallery.assets import locate
from gallery.export import export
from gallery.registry import registry

pytestmark = pytest.mark.browser

STORIES = list(registry())
AXE = locate().axe()
SCREENSHOTS = (
    "key-manager-dashboard--three-keys-of-six",
    "alert--everything",
    "key-input-form--openai",
)
AXE_RUN = """async ([context, rules]) => {
  const result = await axe.run(context || document, {resultTypes: ["violations"], rules: rules || {}});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
}"""
SKIP_TREE = {"exclude": [["#story-tree"]]}  # axe context: the page without the sidebar tree
STYLED = """() => {
  const bar = document.querySelector("header.navbar");  /* bg-base-100: daisyUI + Tailwind */
  return bar !== null && getComputedStyle(bar).backgroundColor !== "rgba(0, 0, 0, 0)";
}"""
OPENAI_KEY = "sk-proj-valid-" + "Zx9Yw8Vu" * 4  # the fake provider accepts "valid" keys


class Watch:
    """Console errors, failed requests and HTTP error answers seen by a page."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on(
            "console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}")
        )
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}"))
        page.on(
            "response",
            lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"),
        )

    def take(self) -> list[str]:
        out, self.problems[:] = list(self.problems), []
        return out


def new_context(browser: Browser) -> BrowserContext:
    """A fresh context (own localStorage and cookies) at desktop size, axe-core preloaded."""
    assert AXE is not None, "axe-core missing from node_modules: run `npm ci`"
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.add_init_script(path=str(AXE))  # evaluated in each page, not sent per call
    return ctx


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


def goto(page: Page, url: str) -> None:
    page.goto(url, wait_until="load")
    page.wait_for_function(STYLED, timeout=10_000)


@pytest.mark.parametrize("slug", [s.slug for s in STORIES])
def test_story_page_is_clean_styled_and_accessible(
    slug: str, sweep: tuple[Page, Watch], gallery_url: str
) -> None:
    page, watch = sweep
    goto(page, f"{gallery_url}/story/{slug}")
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
    rules = REPEATED_IDS if path.startswith("/component/") else None
    violations: list[dict[str, Any]] = page.evaluate(AXE_RUN, [None, rules])
    assert violations == [], violations
    assert watch.take() == []


def test_primary_button_is_styled(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/story/key-input-form--openai")
    button = page.locator("#canvas .btn-primary").first
    background = button.evaluate("b => getComputedStyle(b).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "rgb(239, 239, 239)", "rgb(240, 240, 240)")
    radius = button.evaluate("b => getComputedStyle(b).borderRadius")
    assert radius != "0px"


def test_controls_rerender_canvas_code_and_url(page: Page, gallery_url: str) -> None:
    watch = Watch(page)
    goto(page, f"{gallery_url}/story/alert--info-filled?tab=controls")
    form = page.locator("#controls-form")
    form.locator('select[name="kind"]').select_option("error")
    expect(page.locator("#canvas .alert-error")).to_be_visible()
    expect(page).to_have_url(re.compile(r"kind=error"))
    expect(page.locator("#code-source")).to_contain_text("kind=AlertKind.ERROR")
    form.locator('input[type="checkbox"][name="dismissible"]').check()
    expect(page.locator("#canvas [data-byok-dismiss]")).to_be_visible()
    form.locator('input[name="title"]').fill("Heads up")
    expect(page.locator("#canvas")).to_contain_text("Heads up")
    expect(page).to_have_url(re.compile(r"title=Heads\+up"))
    # the pushed URL reproduces the tweaked story on a direct load
    page.reload()
    expect(page.locator("#canvas .alert-error")).to_contain_text("Heads up")
    expect(page.locator('input[name="story-tab"][value="controls"]')).to_be_checked()
    assert watch.take() == []


def test_search_filters_the_sidebar_as_you_type(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/")
    search = page.get_by_placeholder("Search stories")
    links = page.locator("#story-tree li[data-search]")
    total = links.count()
    search.press_sequentially("toast con")
    visible = page.locator("#story-tree li[data-search]:visible")
    expect(visible).to_have_count(9)  # ToastContainer: 3 positions x 3 alignments
    expect(page.locator('[data-component="Alert"]')).to_be_hidden()
    search.fill("zzzz")
    page.dispatch_event("[data-story-filter]", "input")
    expect(page.get_by_text("No story matches.")).to_be_visible()
    search.fill("")
    page.dispatch_event("[data-story-filter]", "input")
    expect(page.locator("#story-tree li[data-search]:visible")).to_have_count(total)


def test_sidebar_navigation_swaps_main_without_reload(page: Page, gallery_url: str) -> None:
    watch = Watch(page)
    goto(page, f"{gallery_url}/")
    page.evaluate("window.__marker = 42")
    page.locator('#story-tree a[href="/story/security-alert--critical"]').click()
    expect(page).to_have_url(f"{gallery_url}/story/security-alert--critical")
    expect(page.locator("#main h1")).to_contain_text("SecurityAlert")
    assert page.evaluate("window.__marker") == 42  # same document: htmx swapped #main
    expect(page).to_have_title(re.compile("SecurityAlert · Critical"))
    expect(page.locator('#story-tree a[aria-current="page"]')).to_have_text("Critical")
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
    expect(page.locator("#html-source")).to_be_visible()
    page.get_by_role("radio", name="Docs").check()
    expect(page.locator(".tab-content table")).to_contain_text("optional bold title")


def test_theme_switcher_is_remembered(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/story/alert--info-filled")
    light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.get_by_label("Theme").select_option("dark")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != light
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(page.get_by_label("Theme")).to_have_value("dark")
    page.get_by_label("Theme").select_option("light")


def test_viewport_switcher_narrows_the_canvas(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/story/key-manager-dashboard--three-keys-of-six")
    page.get_by_role("button", name="Mobile").click()
    expect(page.get_by_role("button", name="Mobile")).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(250)  # the width transition
    assert page.locator("#canvas").bounding_box()["width"] <= 375
    page.get_by_role("button", name="Tablet").click()
    page.wait_for_timeout(250)
    assert 375 < page.locator("#canvas").bounding_box()["width"] <= 768
    page.get_by_role("button", name="Desktop").click()
    page.wait_for_timeout(250)
    assert page.locator("#canvas").bounding_box()["width"] > 768


def test_alert_dismisses(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/story/alert--dismissible")
    alert = page.locator("#canvas #welcome-alert")
    expect(alert).to_be_visible()
    alert.get_by_role("button", name="Dismiss").click()
    expect(alert).to_have_count(0)


def test_toast_appears_and_dismisses_itself(page: Page, gallery_url: str) -> None:
    page.mouse.move(0, 0)
    goto(page, f"{gallery_url}/story/toast--auto-dismiss")
    toast = page.locator("#canvas [data-byok-dismiss-after]")
    expect(toast).to_be_visible()
    expect(toast).to_have_count(0, timeout=6_000)  # 3 s duration


def test_copy_button_copies_the_snippet(browser: Browser, gallery_url: str) -> None:
    ctx = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = ctx.new_page()
    try:
        goto(page, f"{gallery_url}/story/alert--error-soft")
        page.get_by_role("button", name="Copy the Python code").click()
        expect(page.locator('[data-copy-target="code-source"]')).to_have_text("Copied")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == registry().get("alert--error-soft").snippet()  # type: ignore[union-attr]
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
    expect(page.locator("#byok-validation-openai")).to_contain_text("does not look like")
    expect(card).to_have_attribute("data-byok-card", "empty")

    card.get_by_label("OpenAI API key").fill(OPENAI_KEY)
    card.get_by_role("button", name=re.compile("Save key")).click()
    expect(card).to_have_attribute("data-byok-card", "stored")
    expect(card).to_contain_text(OPENAI_KEY[-4:])
    assert OPENAI_KEY not in page.content()  # masked only
    toasts = page.locator("#toast-container")
    expect(toasts).to_contain_text("OpenAI key saved")

    card.get_by_role("button", name=re.compile("^Test")).click()  # a real request, to the mock
    expect(page.locator("#byok-test-openai")).to_contain_text("OpenAI accepted this key")

    page.once("dialog", lambda d: d.accept())
    card.get_by_role("button", name=re.compile("^Delete")).click()
    expect(card).to_have_attribute("data-byok-card", "empty")
    expect(toasts).to_contain_text("OpenAI key removed")
    expect(toasts.get_by_text("OpenAI key saved")).to_have_count(0, timeout=6_000)  # auto-dismissed
    # the validation answer is a deliberate 422: the only HTTP error this flow may produce
    assert [p for p in watch.take() if "422" not in p] == []


def test_screenshots_light_and_dark(page: Page, gallery_url: str, results_dir: Path) -> None:
    for theme in ("light", "dark"):
        goto(page, f"{gallery_url}/")
        page.get_by_label("Theme").select_option(theme)
        for slug in SCREENSHOTS:
            goto(page, f"{gallery_url}/story/{slug}")
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
    page.wait_for_load_state("networkidle")
    page.locator('a[href="story/alert--error-soft.html"]').first.click()
    expect(page).to_have_url(re.compile(r"story/alert--error-soft\.html$"))
    page.wait_for_function(STYLED, timeout=10_000)
    expect(page.locator("#canvas .alert-error")).to_be_visible()
    page.get_by_role("radio", name="HTML").check()
    expect(page.locator("#html-source")).to_be_visible()
    assert watch.take() == []
