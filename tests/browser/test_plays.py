"""Plays in Chromium: every story's play passes in pytest (byok's own stories on the session's
gallery, a developer's package on a gallery `gallery_server` starts), with the same runner
(play.js) the Interactions panel uses; the panel runs a play step by step and shows a failed
step's error and a snapshot of the canvas; the story page loads its other panels on demand.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from byok_gallery.testing import assert_play_passes, gallery_server, play_params
from playwright.sync_api import Browser, Page, expect

from gallery.model.registry import load
from tests.support.browser import AXE_RUN, Watch, goto, new_context

pytestmark = pytest.mark.browser

DEV = ("examples.shopkit.stories", "tests.play_stories")  # a developer's packages
FAILING = "alert--deliberately-failing"  # tests/play_stories: its step 2 fails on purpose
RUN_TIMEOUT = 30_000  # ms: a loaded CI machine runs a 17-step play slowly


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in its own context (no theme or session from another test)."""
    ctx = new_context(browser)
    yield ctx.new_page()
    ctx.close()


@pytest.fixture(scope="module")
def dev_gallery() -> Iterator[str]:
    """The gallery for the developer's packages, as `byok_gallery.testing` starts it."""
    with gallery_server(*DEV) as url:
        yield url


@pytest.mark.parametrize("story", play_params())
def test_byok_story_play_passes(story, page: Page, gallery_url: str) -> None:
    assert_play_passes(story, page, gallery_url)


@pytest.mark.parametrize("story", play_params(DEV[0]))
def test_a_developers_story_play_passes(story, page: Page, dev_gallery: str) -> None:
    result = assert_play_passes(story, page, dev_gallery)
    assert result.passed and all(s.status == "passed" for s in result.steps)


def test_a_failing_play_names_its_step_and_saves_a_screenshot(
    page: Page, dev_gallery: str, tmp_path: Path
) -> None:
    story = load(DEV[1]).get(FAILING)
    assert story is not None
    with pytest.raises(AssertionError) as failed:
        assert_play_passes(story, page, dev_gallery, screenshots=tmp_path)
    message = str(failed.value)
    assert f"play of {FAILING} failed at step 2: " in message
    assert 'says "The real message.", not "a message that is not there"' in message
    assert "1. [passed]" in message and "3. [skipped]" in message and "4. [skipped]" in message
    shot = tmp_path / f"{FAILING}.png"
    assert shot.stat().st_size > 1000 and str(shot.resolve()) in message


def open_interactions(page: Page, url: str) -> None:
    goto(page, url)
    tab = page.locator('input[name="story-tab"][value="interactions"]')
    tab.hover()  # the panel loads on intent, before the click
    tab.click()


def test_the_panel_runs_a_play_step_by_step_and_reruns_it_on_a_fresh_sandbox(
    page: Page, gallery_url: str
) -> None:
    watch = Watch(page)
    open_interactions(page, gallery_url + "/story/key-management-card--stored")
    summary = page.locator("#play-summary")
    expect(summary).to_have_text("Passed: 5 of 5 steps.", timeout=RUN_TIMEOUT)  # runs on open
    rows = page.locator("#play-steps [data-play-step]")
    expect(rows).to_have_count(5)
    for i in range(5):
        expect(rows.nth(i)).to_have_attribute("data-status", "passed")
    delete = rows.nth(1)
    expect(delete).to_contain_text("DELETE /api/keys/openai → 200")
    expect(delete).to_contain_text("confirmed: Delete the OpenAI API key?")
    expect(page.locator('input[name="story-tab"][value="interactions"]')).to_have_attribute(
        "aria-label", "Interactions (passed)"
    )
    page.locator("[data-play-run]").click()  # again: the card is back, the sandbox is new
    expect(summary).to_have_text("Passed: 5 of 5 steps.", timeout=RUN_TIMEOUT)
    expect(page.locator("[data-play-run]")).to_have_text("Rerun")
    assert watch.take() == []
    assert page.evaluate(AXE_RUN, [{"include": [["#story-panels"]]}, None]) == []


def test_the_panel_shows_a_failed_step_its_error_and_a_snapshot(
    page: Page, dev_gallery: str
) -> None:
    open_interactions(page, f"{dev_gallery}/story/{FAILING}")
    expect(page.locator("#play-summary")).to_have_text(
        "Failed: 1 of 4 steps passed.", timeout=RUN_TIMEOUT
    )
    rows = page.locator("#play-steps [data-play-step]")
    statuses = [rows.nth(i).get_attribute("data-status") for i in range(4)]
    assert statuses == ["passed", "failed", "skipped", "skipped"]
    failed = rows.nth(1)
    expect(failed).to_contain_text('says "The real message.", not "a message that is not there"')
    shot = failed.locator("iframe[data-play-snapshot]")
    expect(shot).to_be_visible()
    assert shot.get_attribute("sandbox") == ""  # no script runs in the snapshot
    snapshot = page.frame_locator("#play-steps [data-play-step='1'] iframe")
    expect(snapshot.locator("#story-root")).to_contain_text("The real message.")
    assert snapshot.locator("script").count() == 0
    assert page.evaluate(AXE_RUN, [{"include": [["#play-steps"]]}, None]) == []


def test_a_story_without_a_play_says_how_to_add_one(page: Page, gallery_url: str) -> None:
    open_interactions(page, gallery_url + "/story/alert--info-filled")
    panel = page.locator("#interactions-panel")
    expect(panel).to_contain_text("No play for this story")
    expect(panel).to_contain_text("play.WaitRequest")


def test_other_panels_load_on_demand_and_keep_what_happened_meanwhile(
    page: Page, gallery_url: str
) -> None:
    watch = Watch(page)
    goto(page, gallery_url + "/story/key-input-form--openai?tab=code")  # a deep link
    expect(page.locator("#code-source")).to_be_visible()
    assert page.locator("#actions-panel[data-panel-src]").count() == 1  # not loaded yet
    frame = page.frame_locator("#canvas-frame")
    frame.locator("input[name=api_key]").fill("sk-proj-valid-" + "Qr7Ts6Uv" * 4)
    frame.get_by_role("button", name="Save key").click()
    actions = page.locator('input[name="story-tab"][value="actions"]')
    expect(actions).to_have_attribute("aria-label", "Actions (1)")  # counted while not shown
    actions.hover()
    expect(page.locator("#actions-panel[data-panel-src]")).to_have_count(0)  # loaded on hover
    actions.click()
    expect(page.locator("#actions-log li")).to_have_count(1)
    expect(page.locator("#actions-log li").first).to_contain_text("POST /api/keys/openai")
    page.locator('input[name="story-tab"][value="docs"]').click()  # no hover: loads on change
    expect(page.locator("#docs-panel table")).to_be_visible()
    assert "tab=docs" in page.url
    assert watch.take() == []
