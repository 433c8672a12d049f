"""The static export replays an issued-key table's Revoke and Roll: its story is seeded with the
keys it shows, so the export recorded the live gallery's answers, and from file:// the buttons
answer as it did (the Actions panel says so) instead of showing the "needs the live gallery"
notice; the roll's one reveal is masked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from gallery.build.export import export
from gallery.build.recordings import ISSUED_MASK
from gallery.model.registry import Registry, registry
from tests.support.browser import Watch, goto, new_context, open_exported

TABLE = "issued-key-table--all-keys"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shown = Registry(
        s for s in registry() if s.component_name in ("IssuedKeyTable", "CreateKeyForm")
    )
    return export(tmp_path_factory.mktemp("replay-issued") / "site", reg=shown).root


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    ctx = new_context(browser)
    yield ctx.new_page()
    ctx.close()


def test_revoke_on_an_issued_key_table_replays_from_file(page: Page, site: Path) -> None:
    watch = Watch(page)
    open_exported(page, site, TABLE)
    frame = page.frame_locator("#canvas-frame")
    row = frame.locator("tr", has_text="Production server")
    expect(row.locator("[data-byok-key-status]")).to_have_text("Active")
    page.once("dialog", lambda d: d.accept())  # hx-confirm
    row.get_by_role("button", name=re.compile("^Revoke")).click()
    expect(frame.locator("#toast-container")).to_contain_text("“Production server” revoked")
    row = frame.locator("tr", has_text="Production server")
    expect(row.locator("[data-byok-key-status]")).to_have_text("Revoked")
    expect(frame.locator("[data-gallery-notice]")).to_have_count(0)
    page.get_by_role("radio", name=re.compile("^Actions")).check()
    entry = page.locator("#actions-log li").first
    expect(entry).to_contain_text("POST /account/api-keys/0b5e7f2a-0000-4000-8000-000000000001")
    expect(entry.locator("summary")).to_contain_text("200")
    expect(entry).to_contain_text("recorded")
    assert watch.take() == []


def test_roll_on_an_issued_key_table_replays_its_dialog_and_a_masked_reveal(
    page: Page, site: Path
) -> None:
    watch = Watch(page)
    open_exported(page, site, TABLE)
    frame = page.frame_locator("#canvas-frame")
    row = frame.locator("tr", has_text="Production server")
    row.get_by_role("link", name=re.compile("^Roll")).click()
    dialog = frame.locator("#byok-issued-dialog dialog, #byok-issued-dialog [role=dialog]").first
    expect(dialog).to_contain_text("Production server")
    # the modal is centred in the canvas, which may run below the page's fold: Enter submits it
    dialog.get_by_role("button", name=re.compile("^Roll key")).press("Enter")
    expect(frame.locator("#toast-container")).to_contain_text("“Production server” rolled")
    expect(frame.locator("#byok-issued-plaintext")).to_have_value(ISSUED_MASK)  # never a key
    expect(frame.locator("[data-gallery-notice]")).to_have_count(0)
    page.get_by_role("radio", name=re.compile("^Actions")).check()
    log = page.locator("#actions-log li")
    expect(log).to_have_count(2)
    expect(log.nth(0)).to_contain_text(
        "POST /account/api-keys/0b5e7f2a-0000-4000-8000-000000000001/roll"
    )
    expect(log.nth(1)).to_contain_text(
        "GET /account/api-keys/0b5e7f2a-0000-4000-8000-000000000001/roll"
    )
    for n in (0, 1):
        expect(log.nth(n)).to_contain_text("recorded")
    assert not re.search(r"demo_test_[A-Za-z0-9]{20,}", frame.locator("body").inner_html())
    assert watch.take() == []


def test_revoke_in_the_live_gallery_acts_on_the_seeded_key(page: Page, gallery_url: str) -> None:
    watch = Watch(page)
    goto(page, f"{gallery_url}/story/{TABLE}?tab=actions")
    frame = page.frame_locator("#canvas-frame")
    row = frame.locator("tr", has_text="Analytics job")
    expect(row.locator("[data-byok-key-status]")).to_have_text("Active")
    page.once("dialog", lambda d: d.accept())  # hx-confirm
    row.get_by_role("button", name=re.compile("^Revoke")).click()
    expect(frame.locator("#toast-container")).to_contain_text("“Analytics job” revoked")
    row = frame.locator("tr", has_text="Analytics job")
    expect(row.locator("[data-byok-key-status]")).to_have_text("Revoked")
    entry = page.locator("#actions-log li").first
    expect(entry.locator("summary")).to_contain_text("200")
    expect(entry).to_contain_text("POST /account/api-keys/0b5e7f2a-0000-4000-8000-000000000002")
    assert watch.take() == []


HTMX_ERRORS = """
for (const name of ["htmx:targetError", "htmx:oobErrorNoTarget", "htmx:swapError"]) {
  document.addEventListener(name, () => (window.__htmxErrors = window.__htmxErrors || []).push(name));
}
"""


def test_create_in_the_live_gallerys_create_key_form_shows_the_one_reveal(
    page: Page, gallery_url: str
) -> None:
    watch = Watch(page)
    page.context.add_init_script(HTMX_ERRORS)  # in the canvas too: what htmx could not place
    goto(page, f"{gallery_url}/story/create-key-form--empty?tab=actions")
    frame = page.frame_locator("#canvas-frame")
    form = frame.locator("#byok-create-key-form")
    form.get_by_label("Name").fill("CI deploy")
    form.get_by_role("checkbox").first.check()
    form.get_by_role("button", name=re.compile("^Create")).click()
    expect(frame.locator("#toast-container")).to_contain_text("“CI deploy” created")
    reveal = frame.locator("#byok-issued-reveal #byok-issued-plaintext")
    expect(reveal).to_have_count(1)
    expect(reveal).to_have_value(re.compile(r"^demo_test_[A-Za-z0-9]{20,}"))  # the one reveal
    expect(frame.locator("#byok-issued-keys")).to_contain_text("CI deploy")  # the table, refreshed
    entry = page.locator("#actions-log li").first
    expect(entry.locator("summary")).to_contain_text("200")
    canvas = page.locator("#canvas-frame").element_handle().content_frame()
    assert canvas.evaluate("window.__htmxErrors || []") == []
    assert watch.take() == []


def test_create_in_the_exported_create_key_form_replays_the_masked_reveal(
    page: Page, site: Path
) -> None:
    watch = Watch(page)
    page.context.add_init_script(HTMX_ERRORS)
    open_exported(page, site, "create-key-form--empty")
    frame = page.frame_locator("#canvas-frame")
    form = frame.locator("#byok-create-key-form")
    form.get_by_label("Name").fill("Demo key")
    form.get_by_role("checkbox").first.check()
    form.get_by_role("button", name=re.compile("^Create")).click()
    expect(frame.locator("#toast-container")).to_contain_text("created")
    reveal = frame.locator("#byok-issued-reveal #byok-issued-plaintext")
    expect(reveal).to_have_value(ISSUED_MASK)  # the one reveal, masked: never a key
    expect(frame.locator("[data-gallery-notice]")).to_have_count(0)
    canvas = page.locator("#canvas-frame").element_handle().content_frame()
    assert canvas.evaluate("window.__htmxErrors || []") == []
    assert watch.take() == []
