"""Every story of the gallery registry, snapshot-tested as one readable .html file, and its Code
snippet executed to check that it renders exactly the story's HTML.

Parametrized from the registry: a new story is tested here with no new test code. Unused
snapshots fail the run (syrupy); update with `--snapshot-update` only after reading the diff.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from fastcore.xml import to_xml

from gallery.registry import REQUEST, Story, registry

STORIES = list(registry())
IDS = [s.slug for s in STORIES]


def snapshot_text(story: Story) -> str:
    """The snapshot file: a comment naming the story, then its exact HTML (byte for byte)."""
    return f"<!-- {story.slug}: {story.title} · {story.name} -->\n{story.render()}\n"


@pytest.mark.parametrize("story", STORIES, ids=IDS)
def test_story_html(story: Story, html_snapshot) -> None:
    assert snapshot_text(story) == html_snapshot


def run_snippet(code: str) -> object:
    """Execute a snippet (imports, then one expression) and return the expression's value.

    `request` is bound as in a route handler without middleware (a snippet that says it runs
    inside a route uses it)."""
    tree = ast.parse(code)
    *body, last = tree.body
    assert isinstance(last, ast.Expr), "a snippet ends with the component call"
    namespace: dict[str, object] = {"request": REQUEST.build()}
    exec(compile(ast.Module(body=body, type_ignores=[]), "<snippet>", "exec"), namespace)
    return eval(compile(ast.Expression(last.value), "<snippet>", "eval"), namespace)


@pytest.mark.parametrize("story", STORIES, ids=IDS)
def test_snippet_renders_the_story(story: Story) -> None:
    code = story.snippet()
    assert "object at 0x" not in code
    assert "from gallery" not in code and "import gallery" not in code  # byok's public API only
    assert "request=None" not in code
    assert to_xml(run_snippet(code)) == story.render()


def test_no_orphaned_snapshot_files() -> None:
    """A story renamed or removed must take its snapshot with it.

    syrupy 7 does not report a single-file snapshot whose parameter no longer exists (it only
    sees locations of tests that ran), so the folder is compared with the registry here.
    """
    folder = Path(__file__).parent / "__snapshots__" / Path(__file__).stem
    expected = {f"test_story_html[{slug}].html" for slug in IDS}
    present = {p.name for p in folder.glob("test_story_html[[]*.html")}
    assert present - expected == set(), "orphaned snapshots: delete them"
    assert expected - present == set(), "missing snapshots: run --snapshot-update and review"
