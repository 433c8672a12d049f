"""The playground's "Issue keys" section in Chromium: create a key, see it once, copy it, call
the sample API with it, roll it (the old key keeps working in its grace period), revoke it (403),
and axe-core on the section in each state.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import AXE_RUN, Watch, goto, new_context

pytestmark = pytest.mark.browser

SECTION = [["#issue-keys"]]  # axe context: the section only


def axe_clean(page: Page) -> None:
    violations: list[dict[str, Any]] = page.evaluate(AXE_RUN, [{"include": SECTION}, None])
    assert violations == [], violations


def call_api(page: Page, key: str, call: str = "get") -> str:
    """Send one try-it request; the answer's status."""
    panel = page.locator("#issue-keys")
    panel.get_by_label("API key", exact=True).fill(key)
    panel.get_by_label("Request").select_option(call)
    page.locator("#tryit-result").evaluate("e => e.replaceChildren()")
    panel.get_by_role("button", name="Send request").click()
    answer = page.locator("#tryit-result [data-tryit]")
    expect(answer).to_have_count(1)
    return answer.get_attribute("data-tryit") or ""


def test_create_reveal_copy_call_roll_revoke(browser: Browser, gallery_url: str) -> None:
    ctx = new_context(browser)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"])
    page = ctx.new_page()
    watch = Watch(page)
    try:
        page.mouse.move(0, 0)
        goto(page, f"{gallery_url}/playground")
        section = page.locator("#issue-keys")
        expect(section.get_by_text("No API keys yet")).to_be_visible()
        axe_clean(page)

        # a refused form: the message beside the field, what was typed kept
        section.get_by_label("Name").fill("")
        section.get_by_label("Name").evaluate("e => e.removeAttribute('required')")
        section.get_by_role("button", name="Create key").click()
        expect(section.locator("#byok-issued-validation-name")).to_contain_text(
            "Give the key a name"
        )
        expect(section.get_by_label("Rate limit (up to 60)")).to_have_value("3")

        section.get_by_label("Name").fill("Browser key")
        section.get_by_role("button", name="Create key").click()
        reveal = section.locator("[data-byok-reveal='shown']")
        expect(reveal).to_be_visible()
        key = reveal.locator("#byok-issued-plaintext").input_value()
        assert re.fullmatch(r"demo_test_[0-9A-Za-z]{49}", key)
        row = section.locator("tr[data-byok-key]")
        expect(row).to_have_count(1)
        expect(row).to_contain_text(key[:18] + "…")
        expect(page.locator("#toast-container")).to_contain_text("created")
        axe_clean(page)

        # copy: the clipboard holds the key, the status says so
        reveal.get_by_role("button", name="Copy the API key").click()
        expect(reveal.locator("[data-byok-copy-status]")).to_have_text("Copied to the clipboard.")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == key

        # call the API: 200 while it works; a scope it lacks is a 403
        assert call_api(page, copied) == "200"
        expect(page.locator("#tryit-result")).to_contain_text("ratelimit-limit: 3")
        expect(page.locator("#tryit-result")).to_contain_text(key[:18] + "…")
        assert key not in page.locator("#tryit-result").inner_text()  # masked in the curl line
        assert call_api(page, copied, "post") == "403"
        axe_clean(page)

        # "I have saved it": the key leaves the page, its masked form stays
        reveal.get_by_role("button", name="I have saved it").click()
        expect(section.locator("#byok-issued-plaintext")).to_have_count(0)
        expect(section.locator("[data-byok-reveal='dismissed']")).to_contain_text("…")
        assert key not in page.content().replace(page.locator("#tryit-key").input_value(), "")

        # roll with a 1-hour grace period: a new key; the old one still works
        row.get_by_role("link", name=re.compile("^Roll")).click()
        dialog = page.locator("dialog[open]")
        expect(dialog).to_be_visible()
        violations = page.evaluate(AXE_RUN, [{"include": [["dialog[open]"]]}, None])
        assert violations == [], violations
        dialog.get_by_label("Works for 1 more hour").check()
        dialog.get_by_role("button", name="Roll key").click()
        expect(page.locator("dialog")).to_have_count(0)  # closed on success
        new_key = section.locator("#byok-issued-plaintext").input_value()
        assert new_key != key and new_key.startswith("demo_test_")
        expect(section.locator("tr[data-byok-key]")).to_have_count(2)
        expect(section.locator("[data-byok-key-status='expiring']")).to_have_count(1)
        expect(page.locator("#toast-container")).to_contain_text("works for 1 hour")
        assert call_api(page, key) == "200"  # the old key, in its grace period
        assert call_api(page, new_key) == "200"
        assert call_api(page, new_key) == "429"  # the window carries over: 3 a minute in all

        # revoke the new key: the same call is a 403
        new_row = section.locator("tr.bg-success\\/10")
        page.once("dialog", lambda d: d.accept())  # hx-confirm
        new_row.get_by_role("button", name=re.compile("^Revoke")).click()
        expect(section.locator("[data-byok-key-status='revoked']")).to_have_count(1)
        assert call_api(page, new_key) == "403"
        expect(page.locator("#tryit-result")).to_contain_text("revoked_key")
        axe_clean(page)
        # the only HTTP errors are the deliberate 422 of the refused form
        assert [p for p in watch.take() if "422" not in p] == []
    finally:
        ctx.close()


def test_rate_limit_turns_into_429(page: Page, gallery_url: str) -> None:
    goto(page, f"{gallery_url}/playground")
    section = page.locator("#issue-keys")
    section.get_by_label("Name").fill("Limited")
    section.get_by_role("button", name="Create key").click()
    key = section.locator("#byok-issued-plaintext").input_value()
    statuses = [call_api(page, key) for _ in range(4)]
    assert statuses == ["200", "200", "200", "429"]
    result = page.locator("#tryit-result")
    expect(result).to_contain_text("retry-after:")
    expect(result).to_contain_text("ratelimit-remaining: 0")
