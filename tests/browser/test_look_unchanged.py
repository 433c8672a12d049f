"""Every story looks as it did with the in-browser stylesheet, now that pages load byok.css.

The gallery is exported twice: once with byok.css (the default), once as before (daisyUI's
whole stylesheet, its themes and Tailwind's in-browser compiler from node_modules). Chromium
opens the same pages of both: every story's canvas (the component as an app shows it), the
index, every component's docs page and two story pages (the gallery's own chrome), in light and
dark and at a phone's width; then the dashboard's canvas in every theme. On each page, every
visible element's computed style (colours, borders, spacing, type, layout, size) must be equal
in both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from byok.components.assets import InBrowser, find_node_modules
from gallery.app import THEMES
from gallery.build.export import export
from gallery.model.registry import registry
from gallery.ui.assets import Assets
from tests.conftest import unavailable

pytestmark = pytest.mark.browser

PROPS = [
    *("color", "background-color", "background-image", "opacity", "box-shadow", "visibility"),
    *("border-top-width", "border-right-width", "border-bottom-width", "border-left-width"),
    *("border-top-style", "border-top-color", "border-left-color", "border-top-left-radius"),
    *("border-bottom-right-radius", "outline-style"),
    *("padding-top", "padding-right", "padding-bottom", "padding-left"),
    *("margin-top", "margin-right", "margin-bottom", "margin-left"),
    *("font-family", "font-size", "font-weight", "font-style", "line-height", "letter-spacing"),
    *("text-align", "text-decoration-line", "text-transform", "white-space"),
    *("display", "position", "flex-direction", "flex-wrap", "align-items", "justify-content"),
    *("gap", "grid-template-columns", "width", "height", "z-index", "overflow-x", "cursor"),
]
SAMPLE = """(props) => Array.from(document.querySelectorAll('body *')).map(el => {
  const s = getComputedStyle(el), r = el.getBoundingClientRect();
  const id = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.getAttribute('class') ? '.' + el.getAttribute('class').trim().split(/\\s+/).join('.') : '');
  if (s.display === 'none' || s.visibility === 'hidden' || s.opacity === '0' ||
      (r.width === 0 && r.height === 0)) return [id, null];  /* not seen: not compared */
  return [id, props.map(p => s.getPropertyValue(p))];
})"""
# styled means Tailwind's utilities apply (flex-1 on #main), not only daisyUI's components
STYLED = "() => getComputedStyle(document.querySelector('main#main')).flexGrow === '1'"
# a canvas is styled when its body has the theme's colour (bg-base-100) and the story is laid out
CANVAS_STYLED = """() => document.readyState === 'complete' && document.getElementById('story-root')
  && getComputedStyle(document.body).backgroundColor !== 'rgba(0, 0, 0, 0)'"""
# the embedded canvases (docs pages, index previews) have loaded and kept their heights for 1 s:
# they grow to their content when it reports its size, later on a loaded machine
IFRAMES_STILL = """() => {
  const frames = Array.from(document.querySelectorAll('iframe[src]'));
  if (frames.some(f => !f.dataset.lookLoaded)) return false;
  const now = frames.map(f => f.getBoundingClientRect().height).join(',');
  if (window.__lookHeights !== now) { window.__lookHeights = now; window.__lookSame = 0; }
  return ++window.__lookSame >= 5;
}"""
# marks each iframe once it has loaded (a capturing listener sees every element's load event)
MARK_LOADS = """document.addEventListener('load', e => {
  if (e.target.tagName === 'IFRAME') e.target.dataset.lookLoaded = '1';
}, true)"""
NO_MOTION = "*, *::before, *::after { transition: none !important; animation: none !important }"
DASHBOARD = "key-manager-dashboard--three-keys-of-six"
# toasts stay: byok.js arms no dismiss timer on an element that has one (the page keeps still)
KEEP_TOASTS = "Object.defineProperty(Element.prototype, 'byokTimer', {value: 1, writable: true})"


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(before, after): the gallery exported with the in-browser build and with byok.css."""
    nm = find_node_modules()
    if nm is None:
        unavailable("node_modules missing (the stylesheet of before): run `npm ci`")
    root = tmp_path_factory.mktemp("look")
    before = export(root / "before", assets=Assets(InBrowser(nm))).root
    after = export(root / "after", assets=Assets()).root
    yield before, after


VIEWS = [("light", 1280), ("dark", 1280), ("light", 375)]  # theme, viewport width


def pages() -> list[tuple[str, list[tuple[str, int]]]]:
    """(page, the views to compare it in): every canvas, the index, every component's docs
    page, two story pages."""
    docs_pages = [f"component/{slug}.html" for slug in registry().by_component]
    every_theme = [(t, 1280) for t in THEMES if t not in ("light", "dark")]
    canvases = [
        (f"canvas/{s.slug}.html", VIEWS + every_theme if s.slug == DASHBOARD else VIEWS)
        for s in registry()
    ]
    return [
        ("index.html", VIEWS),
        (f"story/{DASHBOARD}.html", VIEWS),
        ("story/alert--everything.html", VIEWS),
        *[(rel, VIEWS) for rel in docs_pages],
        *canvases,
    ]


def samples(page: Page, url: str, views: list[tuple[str, int]]) -> dict[tuple[str, int], list]:
    """The page's computed styles in each view (one load; theme and width switched in place)."""
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url)
    page.wait_for_function(CANVAS_STYLED if "/canvas/" in url else STYLED)
    page.wait_for_function(IFRAMES_STILL, polling=200, timeout=30_000)
    page.add_style_tag(content=NO_MOTION)
    page.evaluate("document.fonts.ready")
    framed = page.evaluate("document.querySelectorAll('iframe[src]').length > 0")
    out, shown_width = {}, 1280
    for theme, width in views:
        page.set_viewport_size({"width": width, "height": 900})
        page.evaluate(f"document.documentElement.setAttribute('data-theme', {theme!r})")
        if framed and width != shown_width:  # the canvases reflow, then report their new heights
            page.evaluate("window.__lookSame = 0")
            page.wait_for_function(IFRAMES_STILL, polling=200, timeout=30_000)
        shown_width = width
        out[theme, width] = page.evaluate(SAMPLE, PROPS)
    return out


def differences(before: list, after: list) -> list[str]:
    if [e for e, _ in before] != [e for e, _ in after]:
        return ["the two pages hold different elements"]
    out = []
    for (element, old), (_, new) in zip(before, after, strict=True):
        if old is None or new is None:
            if (old is None) != (new is None):
                out.append(f"{element}: {'shown' if new else 'hidden'} only with byok.css")
            continue
        out += [
            f"{element} {prop}: {a!r} -> {b!r}"
            for prop, a, b in zip(PROPS, old, new, strict=True)
            if a != b
        ]
    return out


def test_every_story_looks_as_before(browser: Browser, exports: tuple[Path, Path]) -> None:
    before, after = exports
    old_page, new_page = browser.new_page(), browser.new_page()
    for page in (old_page, new_page):
        page.add_init_script(KEEP_TOASTS)
        page.add_init_script(MARK_LOADS)
    report: list[str] = []
    compared = 0
    for rel, views in pages():
        old = samples(old_page, (before / rel).as_uri(), views)
        new = samples(new_page, (after / rel).as_uri(), views)
        for view in views:
            compared += sum(1 for _, v in new[view] if v is not None)
            report += [f"{rel} {view}: {d}" for d in differences(old[view], new[view])[:5]]
    old_page.close()
    new_page.close()
    assert compared > 5000  # the comparison really saw the pages
    assert report == [], "\n".join(report[:40])
