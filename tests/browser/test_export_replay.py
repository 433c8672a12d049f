"""The static export replays its recorded htmx answers: opened from file://, an interactive story
answers its main actions (a key form's Save, a card's Delete) as the live gallery did at export
time, and the Actions panel logs them as recorded; an action with no recording keeps the notice."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from gallery.build.export import export
from tests.support.browser import Watch, new_context, open_exported

TYPED_KEY = "sk-proj-" + "Ty9pEdKy" * 5  # what the person types (the recording used a demo key)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export(tmp_path_factory.mktemp("replay") / "site").root


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    ctx = new_context(browser)
    yield ctx.new_page()
    ctx.close()


def test_a_key_forms_save_answers_from_its_recording(page: Page, site: Path) -> None:
    watch = Watch(page)
    open_exported(page, site, "key-input-form--openai")
    frame = page.frame_locator("#canvas-frame")
    frame.get_by_label("OpenAI API key").fill(TYPED_KEY)
    frame.get_by_role("button", name=re.compile("Save key")).click()
    expect(frame.locator("#toast-container")).to_contain_text("OpenAI key saved")
    expect(frame.locator("[data-byok-card='stored']")).to_contain_text("Stored")
    expect(frame.locator("[data-gallery-notice]")).to_have_count(0)
    page.get_by_role("radio", name=re.compile("^Actions")).check()
    entry = page.locator("#actions-log li").first
    expect(entry).to_contain_text("POST /api/keys/openai")
    expect(entry.locator("summary")).to_contain_text("200")
    expect(entry).to_contain_text("recorded")
    assert TYPED_KEY not in page.content()
    assert watch.take() == []


def test_a_cards_delete_replays_and_an_unrecorded_test_keeps_the_notice(
    page: Page, site: Path
) -> None:
    open_exported(page, site, "key-management-card--stored-with-test")
    frame = page.frame_locator("#canvas-frame")
    frame.get_by_role("button", name=re.compile("^Test")).click()  # reaches a provider: not kept
    expect(frame.locator("[data-gallery-notice]")).to_contain_text("live gallery")
    page.once("dialog", lambda d: d.accept())  # hx-confirm
    frame.get_by_role("button", name=re.compile("^Delete")).click()
    expect(frame.locator("[data-byok-card='empty']")).to_contain_text("Not set")
    expect(frame.locator("#toast-container")).to_contain_text("key removed")
    page.get_by_role("radio", name=re.compile("^Actions")).check()
    expect(page.locator("#actions-log li")).to_have_count(2)
    expect(page.locator("#actions-log li").nth(0)).to_contain_text("DELETE /api/keys/anthropic")
    expect(page.locator("#actions-log li").nth(1)).to_contain_text("blocked")  # newest first
