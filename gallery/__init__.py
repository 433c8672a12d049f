"""The byok gallery: every component in every variant, as stories (`uv run gallery`).

Installed from the wheel it is `byok_gallery` (the checkout's `gallery/` folder; in a checkout
both names work). Its public API, for a developer's own stories (`gallery --stories PKG`):
`Story` (one rendering of a component, its canvas `Layout`), `Call` (a component call as an
argument), `Seed` / `IssuedSeed` (a story's sandbox's starting data: stored and issued keys), `REQUEST` (the route's request as an argument), `Registry`,
`load` / `use_stories` (`registry.registry()` is what the gallery shows), `StoriesError`, and
`byok_gallery.testing` (pytest helpers: snapshots, and `assert_play_passes`), and `play` (a
story's interaction steps: `Story(..., play=[Fill(...), Click(...), ExpectText(...)])`, run in the
Interactions panel and in pytest; see `gallery.play`).
"""

from __future__ import annotations

from . import play
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
from .play import (
    Click,
    ExpectAttribute,
    ExpectCount,
    ExpectHidden,
    ExpectText,
    ExpectVisible,
    Fill,
    Press,
    Role,
    Select,
    Text,
    WaitRequest,
    WaitSwap,
)

__all__ = [
    "REQUEST",
    "Call",
    "Click",
    "ExpectAttribute",
    "ExpectCount",
    "ExpectHidden",
    "ExpectText",
    "ExpectVisible",
    "Fill",
    "IssuedSeed",
    "Layout",
    "Press",
    "Registry",
    "Role",
    "Seed",
    "Select",
    "StoriesError",
    "Story",
    "Text",
    "WaitRequest",
    "WaitSwap",
    "load",
    "play",
    "use_stories",
]
