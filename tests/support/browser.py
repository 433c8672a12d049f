"""Browser helpers shared by the Playwright modules: a fresh context with axe-core preloaded, a
watch on console errors and failed requests, the axe run, and "the page is styled"."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, Route

from byok.components.assets import HTMX_PATH
from gallery.ui.assets import locate

AXE = locate().axe()  # axe-core's script in node_modules (None when npm packages are missing)
AXE_RUN = """async ([context, rules]) => {
  const result = await axe.run(context || document, {resultTypes: ["violations"], rules: rules || {}});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
}"""
STYLED = """() => {
  const bar = document.querySelector("header.navbar");  /* bg-base-100: daisyUI + Tailwind */
  return bar !== null && getComputedStyle(bar).backgroundColor !== "rgba(0, 0, 0, 0)";
}"""


REMOTE = re.compile(r"^https://")  # everything fast_app's default headers load from a CDN
PICO = Path(__file__).parents[2] / "node_modules" / "@anyblades" / "pico" / "css" / "pico.min.css"


def cdn(pico: bool) -> Callable[[Route], None]:
    """Answers fast_app's CDN links locally (no machine here reaches a CDN): Pico (or a
    refusal), the same htmx as byok's, empty scripts for the rest."""

    def handle(route: Route) -> None:
        url = route.request.url
        if "pico" in url:
            if pico:
                route.fulfill(body=PICO.read_text(encoding="utf-8"), content_type="text/css")
            else:
                route.abort()
        elif "htmx.org" in url:
            route.fulfill(body=HTMX_PATH.read_bytes(), content_type="text/javascript")
        else:  # fasthtml.js, surreal, css-scope-inline: not needed here
            route.fulfill(body="", content_type="text/javascript")

    return handle


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


# a gallery page's scripts start after its load (gallery/ui/assets.py shell_loader): wait for them
GALLERY_READY = """() => document.documentElement.hasAttribute("data-gallery-ready")
  || !document.querySelector("header.navbar [data-theme-select]")"""


def goto(page: Page, url: str) -> None:
    page.goto(url, wait_until="load")
    page.wait_for_function(STYLED, timeout=10_000)
    page.wait_for_function(GALLERY_READY, timeout=10_000)


def open_exported(page: Page, site: Path, slug: str) -> None:
    """Open a story's page of a static export from file://, styled."""
    goto(page, (site / "story" / f"{slug}.html").as_uri())
