"""pytest helpers for a developer's own stories: one readable HTML snapshot per story.

```python
import pytest
from byok_gallery.testing import assert_story_snapshot, story_params

@pytest.mark.parametrize("story", story_params("myapp.stories"))
def test_story(story, snapshot):
    assert_story_snapshot(story, snapshot)
```

`pytest --snapshot-update` writes `__snapshots__/<test module>/test_story[<slug>].html` beside the
test (syrupy); review the files, commit them, and a later change to a component's HTML fails the
test with a diff. Needs pytest and syrupy (test dependencies, not byok's).

Stories' plays run in Chromium with `assert_play_passes` (gallery.play.harness: `play_params`,
`gallery_server`; needs pytest-playwright): the same runner as the Interactions panel.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from .model.registry import Story, load
from .play.harness import PlayResult, assert_play_passes, gallery_server, play_params, run_play

__all__ = [
    "HTMLSnapshot",
    "PlayResult",
    "assert_play_passes",
    "assert_story_snapshot",
    "gallery_server",
    "play_params",
    "run_play",
    "story_params",
    "uncovered",
]

_REPR = re.compile(r"object at 0x[0-9a-f]+")  # a Python object rendered by mistake


class HTMLSnapshot(SingleFileSnapshotExtension):
    """One .html file per snapshot (`__snapshots__/<module>/<test>[<param>].html`)."""

    _write_mode = WriteMode.TEXT
    file_extension = "html"


def story_params(
    *packages: str,  # story packages, e.g. "myapp.stories"
) -> list[Any]:
    """Every story of the packages as a pytest param whose id is its slug (for parametrize)."""
    import pytest

    return [pytest.param(s, id=s.slug) for s in load(*packages)]


def assert_story_snapshot(
    story: Story,  # a story (from story_params)
    snapshot: Any,  # syrupy's `snapshot` fixture
) -> None:
    """The story renders the same HTML twice, no object repr, and matches its snapshot."""
    html = story.render()
    assert html == story.render(), f"{story.slug} renders differently each time"
    found = _REPR.search(html)
    assert found is None, f"{story.slug} renders a Python object: {found and found.group()}"
    assert html == snapshot.use_extension(HTMLSnapshot)


def uncovered(
    components: ModuleType | Iterable[Callable[..., Any]],  # a module (its capitalised functions)
    *packages: str,  # the story packages that should cover them
) -> list[str]:
    """Names of the components that no story of the packages shows (empty: all covered)."""
    if isinstance(components, ModuleType):
        names = getattr(components, "__all__", None) or dir(components)
        module = components
        components = [
            f
            for n in names
            if n[:1].isupper()
            and callable(f := getattr(module, n))
            and not isinstance(f, type)
            and getattr(f, "__module__", "") == module.__name__
        ]
    shown = {s.component for s in load(*packages)}
    return [c.__name__ for c in components if c not in shown]
