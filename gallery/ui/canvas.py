"""A story's canvas: the component alone on a chrome-free page, shown in the story page's iframe.

The page carries what an app's page would: byok's front end (byok.css, htmx, byok.js: the exact
`FrontEnd.headers()`, no gallery htmx-config; then the developer's `--css` stylesheets), a
ToastContainer for out-of-band toasts and the session's CSRF header. The remembered theme is on
<html> from the first paint (live: the visitor's cookie; an export: an inline script);
canvas.js (deferred, before htmx) applies the theme, background, outline and layout the story
page asks for, logs every htmx request to the Actions panel, sends the key routes to the story's
sandbox, and runs axe-core for the Accessibility panel.
Its URL carries the story's arguments, so it is also the endpoint for visual tests.
"""

from __future__ import annotations

from fastcore.xml import FT, Safe
from fasthtml.common import Body, Head, Html, Link, Main, Meta, Script, Style, Title

from byok.components import TOAST_CONTAINER_ID, ToastContainer

from ..live.sandbox import HEADER, SANDBOX_URL, SANDBOXED
from ..model.registry import Story
from .assets import GALLERY_FILES, THEME_SCRIPT, Assets, locate, served
from .site import Site

__all__ = ["VIEWPORTS", "canvas_document", "canvas_error_document"]

# name -> (label, width, height) in CSS pixels; "responsive" fills the stage
VIEWPORTS: dict[str, tuple[str, int | None, int | None]] = {
    "responsive": ("Responsive", None, None),
    "mobile-s": ("Small mobile · 320", 320, 568),
    "mobile": ("Mobile · 375", 375, 667),
    "tablet": ("Tablet · 768", 768, 1024),
    "laptop": ("Laptop · 1024", 1024, 768),
    "desktop": ("Desktop · 1280", 1280, 800),
    "wide": ("Wide · 1536", 1536, 864),
}


def _head(site: Site, title: str, assets: Assets, composed: bool = False) -> FT:
    return Head(
        Title(f"{title} · canvas"),
        Link(rel="icon", href="data:,"),
        Script(THEME_SCRIPT) if site.static else None,  # the remembered theme (live: a cookie)
        Script(src=site.assets + "canvas.js", defer=True),  # actions, sandbox, a11y, in place
        Script(src=site.assets + "play.js", defer=True),  # the play runner (Interactions, pytest)
        # in the page, not linked: one request fewer before the first paint (bench "cold load")
        Style(served(GALLERY_FILES["canvas.css"]).body.decode()),
        *assets.page_headers(site.assets),  # byok's front end (+ --css), as an app's page has it
        Meta(name="byok-gallery-axe", content=site.assets + "axe.min.js"),
        Script(src=site.assets + "compose.js") if composed else None,
    )


def canvas_document(
    site: Site,  # how links are written
    story: Story,  # the story, with the arguments to show
    html: str,  # the story's HTML (story.render())
    assets: Assets | None = None,  # where assets come from (default: located once)
    sandbox: str | None = None,  # the sandbox token (live), None in an export
    hx_headers: str | None = None,  # the session's CSRF header JSON (live)
    *,
    composed: bool = False,  # shown by another Storybook's manager (/iframe.html)
    theme: str | None = None,  # the visitor's remembered theme (live: Prefs)
) -> FT:
    """The canvas page of a story."""
    assets = assets or locate()
    shown = story.canvas_html(html)
    toasts = "" if f'id="{TOAST_CONTAINER_ID}"' in shown else ToastContainer()
    data = {}
    if sandbox:
        data = {
            "data_sandbox_url": SANDBOX_URL,
            "data_sandbox": sandbox,
            "data_sandbox_paths": " ".join(SANDBOXED),
        }
    return Html(
        _head(site, f"{story.component_name} · {story.name}", assets, composed),
        Body(
            Main(Safe(shown), id="story-root", aria_label=f"{story.component_name}: {story.name}"),
            toasts,
            cls="bg-base-100 text-base-content",
            data_layout=story.layout,
            data_story=story.slug,
            data_static="true" if site.static else None,
            data_sandbox_header=HEADER,
            hx_headers=hx_headers,
            **data,
        ),
        lang="en",
        data_theme=theme,
    )


def canvas_error_document(
    site: Site,  # how links are written
    story: Story,  # the story whose arguments were refused
    message: str,  # what was wrong
    assets: Assets | None = None,  # where assets come from
    theme: str | None = None,  # the visitor's remembered theme (live: Prefs)
) -> FT:
    """The canvas page when the arguments are refused (answered with 422)."""
    from fasthtml.common import Div, Span

    assets = assets or locate()
    return Html(
        _head(site, f"{story.component_name} · {story.name}", assets),
        Body(
            Main(
                Div(Span(message), role="alert", cls="alert alert-error alert-soft"),
                id="story-root",
                aria_label="Refused arguments",
            ),
            cls="bg-base-100 text-base-content",
            data_layout="padded",
            data_story=story.slug,
        ),
        lang="en",
        data_theme=theme,
    )
