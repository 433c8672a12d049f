"""The byok gallery: every component in every variant, as stories (`uv run gallery`).

Installed from the wheel it is `byok_gallery` (the checkout's `gallery/` folder; in a checkout
both names work). Its public API, for a developer's own stories (`gallery --stories PKG`):
`Story` (one rendering of a component, its canvas `Layout`), `Call` (a component call as an
argument), `Seed` / `IssuedSeed` (a story's sandbox's starting data: stored and issued keys), `REQUEST` (the route's request as an argument), `Registry`,
`load` / `use_stories` (`registry.registry()` is what the gallery shows), `StoriesError`, and
`byok_gallery.testing` (a pytest snapshot helper).
"""

from __future__ import annotations

from .model.registry import (
    REQUEST,
    Call,
    IssuedSeed,
    Layout,
    Registry,
    Seed,
    StoriesError,
    Story,
    load,
    use_stories,
)

__all__ = [
    "REQUEST",
    "Call",
    "IssuedSeed",
    "Layout",
    "Registry",
    "Seed",
    "StoriesError",
    "Story",
    "load",
    "use_stories",
]
