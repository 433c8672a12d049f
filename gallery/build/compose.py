"""Composition: a team's Storybook 9 includes this gallery as a ref, next to its own stories.

Storybook's manager reads a ref's `index.json` (version 5: `type`, `id`, `title`, `name`,
`importPath`, `tags`) with a credentialed `fetch` from another origin, lists the entries in its
sidebar, and shows a chosen story in an iframe on `{url}/iframe.html?id=…&viewMode=story&refId=…`.
The gallery answers both: `/index.json` (CORS for any origin, credentials allowed: it holds no
secret) and `/iframe.html` (the bare story, the same document as its canvas; CORS without
credentials, so no other origin can read the session's CSRF token through it). A static export
writes `iframe.html` as a small page that forwards to the story's canvas file.

In the other Storybook's `.storybook/main.ts`:

    refs: { byok: { title: "byok components", url: "http://127.0.0.1:5001" } }
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request

from ..model.registry import Registry, Story

__all__ = ["IFRAME_PATH", "cors_headers", "refs_entry", "static_iframe_page", "story_for"]

IFRAME_PATH = "/iframe.html"  # where Storybook's manager loads a ref's story
REF_SEPARATOR = "_"  # Storybook prefixes a ref's story ids with "<refId>_"


def cors_headers(
    req: Request,  # the incoming request (its Origin is echoed)
    *,
    credentials: bool,  # allow a credentialed read (only for answers that hold no secret)
) -> Mapping[str, str]:
    """The CORS headers another origin's Storybook needs to read the answer."""
    origin = req.headers.get("origin")
    if not credentials or origin is None:
        return {"Access-Control-Allow-Origin": "*"}
    return {  # a credentialed fetch needs its own origin echoed, never "*"
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


def story_for(
    reg: Registry,  # the stories served
    requested: str,  # the `id` query parameter: a story id, maybe "<refId>_"-prefixed
) -> Story | None:
    """The story Storybook asks for (with or without its ref's prefix), or None."""
    found = reg.get(requested)
    if found is None and REF_SEPARATOR in requested:  # story ids never hold "_"
        found = reg.get(requested.split(REF_SEPARATOR, 1)[1])
    return found


def static_iframe_page() -> str:
    """An export's iframe.html: forwards `?id=…` to `canvas/<id>.html` (file:// included)."""
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>story</title>"
        "<script>(function () {"
        "var id = new URLSearchParams(location.search).get('id') || '';"
        f"id = id.indexOf('{REF_SEPARATOR}') < 0 ? id : id.split('{REF_SEPARATOR}')[1];"
        "if (/^[a-z0-9-]+$/.test(id)) location.replace('canvas/' + id + '.html');"
        "else document.write('No such story');"
        "})();</script></head><body></body></html>\n"
    )


def refs_entry(
    url: str,  # where the gallery is served, e.g. "http://127.0.0.1:5001"
    title: str = "byok components",  # the ref's heading in the other Storybook's sidebar
    ref_id: str = "byok",  # the ref's key (prefixes its story ids)
) -> str:
    """The `refs` entry of a Storybook 9 `main.ts` that composes this gallery."""
    return f'refs: {{ {ref_id}: {{ title: "{title}", url: "{url.rstrip("/")}" }} }}'
