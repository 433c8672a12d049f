"""Guides in Chromium: a guide's embedded stories are live canvases, and the sidebar search finds
a guide by its headings."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def test_a_guides_stories_are_live_and_its_headings_are_searched(
    page: Page, gallery_url: str
) -> None:
    page.goto(f"{gallery_url}/guide/choosing-a-key-form")
    form = page.frame_locator('#guide iframe[title="Canvas: KeyInputForm, OpenAI"]')
    expect(form.locator("input[type=password]")).to_be_visible(timeout=15_000)
    frame = '#guide iframe[title="Canvas: KeyManagementCard, Stored, with test"]'
    page.locator(frame).scroll_into_view_if_needed()  # previews load when near the viewport
    card = page.frame_locator(frame)
    card.get_by_role("button", name="Test").click()  # the story's seeded sandbox key, checked
    expect(card.locator("body")).to_contain_text("Anthropic accepted this key", timeout=15_000)
    page.fill("#story-search", "toasts")
    expect(page.locator("#story-tree [data-guide-link=telling-the-user]")).to_be_visible()
    expect(page.locator("#story-tree [data-story-link=key-input-form--openai]")).to_be_hidden()
