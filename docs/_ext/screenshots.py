"""Take the docs' pictures from the real gallery: `uv run python docs/_ext/screenshots.py`.

- `docs/assets/gallery.png`: a gallery story page, as a visitor sees it.
- `docs/assets/components/<component>.png`: a few stories of each component, rendered by the
  gallery's registry (the same HTML the snapshot tests pin) on a page with the gallery's assets.
- `docs/assets/<page>.png` (`PAGES`): a whole page composed of stories, e.g. the issued-key
  page (its form, the one reveal and the table).

It exports the gallery to a temporary folder with the in-browser build (daisyUI + Tailwind from
node_modules, run `npm ci` first: the shot pages' own layout classes are not all in byok.css) and drives Debian's Chromium through Playwright, offline. Re-run it after a
visual change to the components; the pictures are committed.
"""

from __future__ import annotations

import html
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from byok.components.assets import InBrowser, find_node_modules  # noqa: E402
from gallery.build.export import export  # noqa: E402
from gallery.model.registry import registry  # noqa: E402
from gallery.ui.assets import Assets  # noqa: E402

ASSETS = ROOT / "docs" / "assets"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]
HOME_STORY = "key-manager-dashboard--three-keys-of-six"  # the story on the home page picture

# component slug -> (stories shown, canvas width in px)
SHOTS: dict[str, tuple[tuple[str, ...], int]] = {
    "info-icon": (("size-sm", "size-base", "size-lg", "size-xl", "size-xxl"), 360),
    "success-icon": (("size-sm", "size-base", "size-lg", "size-xl", "size-xxl"), 360),
    "warning-icon": (("size-sm", "size-base", "size-lg", "size-xl", "size-xxl"), 360),
    "error-icon": (("size-sm", "size-base", "size-lg", "size-xl", "size-xxl"), 360),
    "alert": (("info-filled", "success-soft", "warning-outline", "error-dash", "everything"), 640),
    "security-alert": (("low", "medium", "high", "critical", "with-action"), 640),
    "key-status-notification": (("added", "deleted", "expired", "invalid"), 640),
    "toast": (("info", "success", "warning", "error"), 420),
    "toast-container": (("bottom-end",), 420),
    "validation-message": (("invalid", "valid"), 480),
    "alert-stack": (("overflow",), 640),
    "key-input-form": (("openai",), 560),
    "multi-provider-key-form": (("three-providers",), 560),
    "inline-key-input": (("compact", "wide"), 560),
    "key-management-card": (("stored", "expiring-soon", "empty"), 420),
    "key-test-result": (("pending", "valid", "rejected", "error"), 420),
    "key-manager-dashboard": (("three-keys-of-six",), 1100),
    "dashboard-skeleton": (("three-cards",), 1100),
    "key-status-badge": (("active", "expiring", "expired", "revoked"), 420),
    "usage-sparkline": (("bars", "line", "never-used"), 420),
    "issued-key-reveal": (("shown-once", "dismissed"), 640),
    "scope-picker": (("three-scopes",), 480),
    "create-key-form": (("empty",), 760),
    "roll-key-dialog": (("inline-day",), 560),
    "issued-key-table": (("all-keys",), 1100),
}
# pictures of a whole page, composed of stories: name -> (stories, width)
PAGES: dict[str, tuple[tuple[str, ...], int]] = {
    "issuing-page": (
        (
            "create-key-form--empty",
            "issued-key-reveal--shown-once",
            "issued-key-table--with-usage-and-a-new-key",
        ),
        1100,
    ),
}
ROW = {  # side by side
    "info-icon",
    "success-icon",
    "warning-icon",
    "error-icon",
    "key-test-result",
    "key-status-badge",
    "usage-sparkline",
}


def _page(assets: Path, body: str, width: int, row: bool) -> str:
    """A minimal page with the gallery's CSS and the Tailwind browser build."""
    layout = "flex flex-row flex-wrap items-center gap-6" if row else "flex flex-col gap-4"
    return (
        '<!doctype html><html data-theme="light"><head><meta charset="utf-8">'
        f'<link rel="stylesheet" href="{assets / "daisyui.css"}">'
        f'<link rel="stylesheet" href="{assets / "themes.css"}">'
        f'<script src="{assets / "tailwind.js"}"></script>'
        f'<script src="{assets / "htmx.js"}"></script></head>'
        '<body class="bg-base-100 text-base-content">'
        f'<div id="shot" class="{layout} p-6" style="width:{width}px">{body}</div>'
        "</body></html>"
    )


def _toast_container(story_html: str) -> str:
    """A ToastContainer is an empty fixed box: show it holding two toasts, in a framed area."""
    reg = registry()
    toasts = "".join(reg.get(f"toast--{k}").render() for k in ("success", "info"))
    inner = story_html.replace("></div>", f">{toasts}</div>", 1)
    inner = inner.replace('class="toast ', 'class="toast absolute ', 1)
    return (
        '<div class="relative h-56 w-full rounded-box border border-base-300 bg-base-200">'
        f"{inner}</div>"
    )


def main() -> int:
    reg = registry()
    out = Path(tempfile.mkdtemp(prefix="byok-shots-"))
    report = export(out, assets=Assets(InBrowser(find_node_modules())))
    if not report.local_assets:
        print("node_modules missing: run `npm ci` first", file=sys.stderr)
        return 1
    assets = out / "assets"
    (ASSETS / "components").mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, device_scale_factor=1)
        page.goto((out / "story" / f"{HOME_STORY}.html").as_uri())
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
        # show the sidebar from its top (brand and search), not scrolled to the current story
        page.evaluate("document.querySelectorAll('*').forEach(e => { e.scrollTop = 0; })")
        page.screenshot(path=str(ASSETS / "gallery.png"))
        print("docs/assets/gallery.png")
        for slug, (names, width) in SHOTS.items():
            parts = []
            for name in names:
                story = reg.get(f"{slug}--{name}")
                if story is None:  # renamed in the gallery: fall back to its first story
                    story = reg.by_component[slug][0]
                    print(f"warning: no story {slug}--{name}, using {story.slug}", file=sys.stderr)
                story_html = story.render()
                if slug == "toast-container":
                    story_html = _toast_container(story_html)
                parts.append(f'<div title="{html.escape(name)}">{story_html}</div>')
            shot = out / f"shot-{slug}.html"
            shot.write_text(_page(assets, "".join(parts), width, slug in ROW), encoding="utf-8")
            page.set_viewport_size({"width": max(width + 40, 400), "height": 800})
            page.goto(shot.as_uri())
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(200)
            target = ASSETS / "components" / f"{slug}.png"
            page.locator("#shot").screenshot(path=str(target))
            print(target.relative_to(ROOT))
        for name, (slugs, width) in PAGES.items():
            body = "".join(reg.get(slug).render() for slug in slugs)
            shot = out / f"page-{name}.html"
            shot.write_text(_page(assets, body, width, False), encoding="utf-8")
            page.set_viewport_size({"width": width + 40, "height": 800})
            page.goto(shot.as_uri())
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(200)
            target = ASSETS / f"{name}.png"
            page.locator("#shot").screenshot(path=str(target))
            print(target.relative_to(ROOT))
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
