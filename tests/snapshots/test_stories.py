"""Every story of the gallery registry in one pass: its HTML is rendered once and checked every
way a user meets it (the snapshot file, the Code tab's snippet and runnable app, the gallery's
story page and canvas, byok.css's class list, no repr and no plaintext key).

Parametrized from the registry: a new story is tested here with no new test code. An unused or
missing snapshot fails the run (test_no_orphaned_snapshot_files); update with `--snapshot-update`
only after reading the diff.
"""

from __future__ import annotations

import ast
import html as html_module
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fastcore.xml import to_xml
from starlette.testclient import TestClient

from byok.components.assets import CLASS_LIST_PATH
from gallery import app as gallery_app
from gallery.model.registry import REQUEST, Story, registry
from gallery.model.runnable import runnable_app
from gallery.model.snippets import CLOCK_NAME
from tests.support import SECRET

STORIES = list(registry())
IDS = [s.slug for s in STORIES]


def snapshot_text(story: Story) -> str:
    """The snapshot file: a comment naming the story, then its exact HTML (byte for byte)."""
    return f"<!-- {story.slug}: {story.title} · {story.name} -->\n{story.render()}\n"


KNOWN_CLASSES = set(CLASS_LIST_PATH.read_text(encoding="utf-8").splitlines())  # byok.css's list


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The gallery app (its own SQLite file), to read each story's page and canvas."""
    db = tmp_path_factory.mktemp("stories-gallery") / "gallery.db"
    app = gallery_app.create_app(db_url=f"sqlite:///{db}", secret_key=SECRET)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


@pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP")
@pytest.mark.parametrize("story", STORIES, ids=IDS)
def test_story_html(story: Story, html_snapshot, gallery: TestClient) -> None:
    """One story, rendered once, checked every way (one registry-driven pass, see the docstring)."""
    html = story.render()
    assert snapshot_text(story) == html_snapshot
    # no builder repr, no plaintext key (the placeholder of an empty key input is not one)
    assert "object at 0x" not in html
    assert "sk-proj-" not in html.replace('placeholder="sk-proj-...', "")
    used = {c for m in re.finditer(r'class="([^"]*)"', html) for c in m[1].split()}
    assert used <= KNOWN_CLASSES, used - KNOWN_CLASSES  # byok.css has a rule for each
    check_snippet(story, html)
    check_runnable_app(story, html)
    check_gallery_pages(story, html, gallery)


CLOCK_LINE = f"{CLOCK_NAME} = datetime.now(UTC)"  # a dated snippet's one reading of the clock


def at_clock(code: str, story: Story) -> tuple[str, dict[str, object]]:
    """The code with its clock reading set to the story's fixed time (the real clock would give
    other `<time datetime=…>` values), and the namespace providing it. A story without a fixed
    time (or whose snippet has no dates) runs as written."""
    if story.clock is None or CLOCK_LINE not in code:
        return code, {}
    return code.replace(CLOCK_LINE, f"{CLOCK_NAME} = __story_clock__"), {
        "__story_clock__": story.clock
    }


def run_snippet(code: str, story: Story) -> object:
    """Execute a snippet (at the story's clock) and return the component it builds: the value of
    its last expression, or, for a snippet written as a route handler, what the handler returns
    for a request (a bare Starlette request, as without middleware)."""
    code, namespace = at_clock(code, story)
    tree = ast.parse(code)
    *body, last = tree.body
    if isinstance(last, ast.FunctionDef):
        exec(compile(tree, "<snippet>", "exec"), namespace)
        handler = namespace[last.name]
        assert [a.arg for a in last.args.args] == ["request"], "a handler takes the request"
        return handler(REQUEST.build())  # type: ignore[operator]
    assert isinstance(last, ast.Expr), "a snippet ends with the component call"
    exec(compile(ast.Module(body=body, type_ignores=[]), "<snippet>", "exec"), namespace)
    return eval(compile(ast.Expression(last.value), "<snippet>", "eval"), namespace)


def check_snippet(story: Story, html: str) -> None:
    """The Code tab's snippet uses byok's public API only, never carries the gallery's fixed
    clock (its dates follow the real one), and renders exactly the story at that clock."""
    code = story.snippet()
    assert "object at 0x" not in code
    assert "from gallery" not in code and "import gallery" not in code  # byok's public API only
    assert "request=None" not in code
    assert "datetime(2025" not in code and "datetime(" not in code.replace("datetime.now(", "")
    assert to_xml(run_snippet(code, story)) == html


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


def run_app(code: str, story: Story):
    """Execute a runnable-app file (at the story's clock) as an imported module (serve() only
    serves as __main__)."""
    code, namespace = at_clock(code, story)
    namespace["__name__"] = "story_app"
    exec(compile(code, "<app>", "exec"), namespace)
    return namespace["app"]


def check_runnable_app(story: Story, html: str) -> None:
    """The Code tab's "runnable app" is a complete app whose page shows the story's exact HTML."""
    code = runnable_app(story)
    assert "datetime(2025" not in code
    assert "from gallery" not in code and "import gallery" not in code
    with TestClient(run_app(code, story), base_url="http://127.0.0.1") as client:
        page = client.get("/")
        assert page.status_code == 200
        head = page.text[: page.text.index("</head>")]
        assert "byok.css" in head and "htmx" in head and "byok.js" in head  # the set-up
        if story.slug in SESSION_DEPENDENT:  # the app has sessions: the dashboard can read keys
            assert 'id="byok-dashboard"' in page.text
        else:
            assert html in page.text
        if story.interactive and "/api/keys" in html:
            token = json.loads(re.search(r"hx-headers='([^']+)'", page.text).group(1))
            saved = client.post(
                "/api/keys/openai",
                data={"api_key": "sk-proj-" + "Rn4" * 10},
                headers={"HX-Request": "true", **token},
            )
            assert saved.status_code == 200 and "OpenAI key saved" in saved.text


# a story showing a manager that cannot read without SessionMiddleware: every app has sessions
SESSION_DEPENDENT = {"key-manager-dashboard--storage-failure"}


def check_gallery_pages(story: Story, html: str, gallery: TestClient) -> None:
    """The gallery's story page (htmx fragment) names its canvas and carries the exact HTML
    (what Copy copies); the canvas is a full page holding the exact bytes and a toast container."""
    page = gallery.get(f"/story/{story.slug}?tab=html", headers={"HX-Request": "true"})
    assert page.status_code == 200
    frame = BeautifulSoup(page.text, "html.parser").select_one("iframe#canvas-frame")
    assert frame["src"] == f"/story/{story.slug}/canvas" and frame["title"].startswith("Canvas: ")
    found = re.search(r'<textarea[^>]*id="html-exact"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert found is not None, "no #html-exact"
    assert html_module.unescape(found.group(1)) == html
    canvas = gallery.get(f"/story/{story.slug}/canvas")
    assert canvas.status_code == 200 and canvas.text.startswith("<!doctype html>")
    assert story.canvas_html(html) in canvas.text  # the exact bytes, inside the canvas
    tree = BeautifulSoup(canvas.text, "html.parser")
    assert tree.select_one("main#story-root") is not None
    assert tree.select('[id="toast-container"]')
