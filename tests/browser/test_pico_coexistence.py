"""byok's components keep their look in an app that leaves FastHTML's defaults on.

The app is the one-argument set-up: `fast_app(hdrs=front_end().headers())` with Pico CSS and the
default headers left on, `setup_byok` and `mount_key_routes`, and no `.serve(app)`. Chromium
loads it with the CDN files fast_app links answered locally (Pico CSS 2 from node_modules, the
same htmx as byok's), then once more with Pico refused: every byok element must have the same
computed style in both loads (the font and text colour they inherit from the page aside), while the page's own button keeps Pico's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.conftest import ROOT, unavailable
from tests.support.browser import PICO, REMOTE, cdn

pytestmark = pytest.mark.browser


APP = """
from fasthtml.common import H1, Button, Div, Main, fast_app

from byok.components import Alert, KeyInputForm, SuccessIcon, front_end
from byok.middleware import setup_byok
from byok.routes import mount_key_routes

SECRET = "pico-coexistence-secret-0123456789"
before, byok = setup_byok(SECRET)
app, rt = fast_app(before=before, secret_key=SECRET, hdrs=front_end().headers())
mount_key_routes(app, byok, providers=["openai"])


@rt("/")
def index():
    return Main(
        H1("My shop"),
        Button("Pico's own button", id="own"),
        Div(SuccessIcon(), id="icon"),
        Alert("That key was refused", kind="error", id="refused"),
        KeyInputForm(provider="openai"),
        cls="container",
    )
"""

# the page's font and text colour are inherited (the components take them from the page)
PROPS = [
    *("background-color", "background-image", "box-shadow", "opacity"),
    *("border-top-width", "border-top-style", "border-top-left-radius", "outline-style"),
    *("padding-top", "padding-right", "padding-bottom", "padding-left"),
    *("margin-top", "margin-right", "margin-bottom", "margin-left"),
    *("font-size", "font-weight", "line-height", "text-decoration-line", "text-align"),
    *("display", "position", "flex-direction", "align-items", "gap", "cursor"),
]
# every element of byok's components: the alert, the form (and everything in them), the icon
SAMPLE = """(props) => Array.from(document.querySelectorAll(
    '#icon svg, #icon svg *, #refused, #refused *, form[id^=byok-form], form[id^=byok-form] *'
  )).map(el => {
    const s = getComputedStyle(el);
    return [el.tagName.toLowerCase() + (el.id ? '#' + el.id : ''),
            props.map(p => s.getPropertyValue(p))];
  })"""


def load(page: Page, base: str, pico: bool) -> tuple[list, dict]:
    page.unroute(REMOTE)
    page.route(REMOTE, cdn(pico))
    statuses: dict[str, int] = {}
    page.on("response", lambda r: statuses.__setitem__(r.url, r.status))
    page.goto(base + "/")
    page.wait_for_function("window.byokLoaded === true && !!window.htmx")
    return page.evaluate(SAMPLE, PROPS), statuses


def test_components_keep_their_look_with_picos_defaults_left_on(
    live_server, page: Page, tmp_path: Path
) -> None:
    if not PICO.is_file():
        unavailable("node_modules/@anyblades/pico missing: run `npm ci`")
    (tmp_path / "pico_shop.py").write_text(APP)
    base = live_server("pico_shop:app", env={"PYTHONPATH": f"{tmp_path}:{ROOT}"})

    with_pico, statuses = load(page, base, pico=True)
    assert {u: s for u, s in statuses.items() if "/byok/" in u} == {
        base + "/byok/byok.css": 200,
        base + "/byok/htmx.js": 200,
        base + "/byok/byok.js": 200,
    }  # served with no `.serve(app)`
    own = page.locator("#own").evaluate("el => getComputedStyle(el).backgroundColor")
    assert own == "rgb(1, 114, 173)"  # Pico's primary: the page's own look is Pico's
    icon = page.locator("#icon svg").bounding_box()
    assert icon is not None and icon["width"] <= 24 and icon["height"] <= 24  # not page-sized
    drawn = page.locator("#icon svg path").first.bounding_box()  # its path keeps its `d`
    assert drawn is not None and drawn["width"] > 0 and drawn["height"] > 0
    alert = page.locator("#refused").evaluate(
        "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).borderTopLeftRadius]"
    )
    assert alert[0].startswith("oklch(0.71 0.194 13.428") and alert[1] != "0px"  # daisyUI's
    button = page.locator("form[id^=byok-form] button[type=submit]")
    assert button.evaluate("el => getComputedStyle(el).marginBottom") == "0px"  # not Pico's

    without_pico, _ = load(page, base, pico=False)
    assert page.locator("#own").evaluate("el => getComputedStyle(el).backgroundColor") != own
    assert len(with_pico) > 20 and [e for e, _ in with_pico] == [e for e, _ in without_pico]
    changed = [
        f"{element} {prop}: {a!r} with Pico, {b!r} without"
        for (element, old), (_, new) in zip(with_pico, without_pico, strict=True)
        for prop, a, b in zip(PROPS, old, new, strict=True)
        if a != b
    ]
    assert changed == [], "\n".join(changed[:30])
