"""Every story of the gallery registry, snapshot-tested as one readable .html file, and its Code
snippet executed to check that it renders exactly the story's HTML.

Parametrized from the registry: a new story is tested here with no new test code. Unused
snapshots fail the run (syrupy); update with `--snapshot-update` only after reading the diff.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from fastcore.xml import to_xml
from starlette.testclient import TestClient

from gallery.registry import REQUEST, Story, registry
from gallery.runnable import runnable_app

STORIES = list(registry())
IDS = [s.slug for s in STORIES]


def snapshot_text(story: Story) -> str:
    """The snapshot file: a comment naming the story, then its exact HTML (byte for byte)."""
    return f"<!-- {story.slug}: {story.title} · {story.name} -->\n{story.render()}\n"


@pytest.mark.parametrize("story", STORIES, ids=IDS)
def test_story_html(story: Story, html_snapshot) -> None:
    assert snapshot_text(story) == html_snapshot


def run_snippet(code: str) -> object:
    """Execute a snippet and return the component it builds: the value of its last expression,
    or, for a snippet written as a route handler, what the handler returns for a request (a
    bare Starlette request, as without middleware)."""
    tree = ast.parse(code)
    *body, last = tree.body
    namespace: dict[str, object] = {}
    if isinstance(last, ast.FunctionDef):
        exec(compile(tree, "<snippet>", "exec"), namespace)
        handler = namespace[last.name]
        assert [a.arg for a in last.args.args] == ["request"], "a handler takes the request"
        return handler(REQUEST.build())  # type: ignore[operator]
    assert isinstance(last, ast.Expr), "a snippet ends with the component call"
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


def run_app(code: str):
    """Execute a runnable-app file as an imported module (serve() only serves as __main__)."""
    namespace: dict[str, object] = {"__name__": "story_app"}
    exec(compile(code, "<app>", "exec"), namespace)
    return namespace["app"]


@pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP")
@pytest.mark.parametrize("story", STORIES, ids=IDS)
def test_runnable_app_serves_the_story(story: Story) -> None:
    """The Code tab's "runnable app" is a complete app whose page shows the story's exact HTML."""
    code = runnable_app(story)
    assert "from gallery" not in code and "import gallery" not in code
    with TestClient(run_app(code), base_url="http://127.0.0.1") as client:
        page = client.get("/")
        assert page.status_code == 200
        head = page.text[: page.text.index("</head>")]
        assert "byok.css" in head and "htmx" in head and "byok.js" in head  # the set-up
        if story.slug in SESSION_DEPENDENT:  # the app has sessions: the dashboard can read keys
            assert 'id="byok-dashboard"' in page.text
        else:
            assert story.render() in page.text
        if story.interactive and "/api/keys" in story.render():
            token = json.loads(re.search(r"hx-headers='([^']+)'", page.text).group(1))
            saved = client.post(
                "/api/keys/openai",
                data={"api_key": "sk-proj-" + "Rn4" * 10},
                headers={"HX-Request": "true", **token},
            )
            assert saved.status_code == 200 and "OpenAI key saved" in saved.text


# a story showing a manager that cannot read without SessionMiddleware: every app has sessions
SESSION_DEPENDENT = {"key-manager-dashboard--storage-failure"}
