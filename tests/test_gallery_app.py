"""The gallery package's shape and its app's route table: subpackages per concept, a FastHTML app
built directly (no fast_app routes to strip), answering only the routes it declares."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from gallery import app as gallery_app
from tests.support import SECRET

GALLERY = Path(gallery_app.__file__).resolve().parent
TOP_LEVEL = {  # what stays at the package's top: public API, entry points, the build hook
    "__init__.py",
    "__main__.py",
    "app.py",
    "testing.py",
    "_build_hook.py",
    "_editable_alias.py",
}
GET, BOTH = {"GET", "HEAD"}, {"GET", "HEAD", "OPTIONS"}
SAVES = {"POST", "PUT", "PATCH"}  # what byok's key forms can send (FormMethod)
ROUTES = {  # (path, methods): every route the live gallery answers
    ("/byok/{name}", frozenset(GET)),  # byok's own assets, mounted by its key routes
    ("/", frozenset(GET)),
    ("/index.json", frozenset(BOTH)),  # Storybook composition (CORS preflight)
    ("/assets/{name}", frozenset(GET)),  # a whitelist of files, never a folder
    ("/story/{slug}", frozenset(GET)),
    ("/story/{slug}/canvas", frozenset(GET)),
    ("/iframe.html", frozenset(BOTH)),  # Storybook composition (CORS preflight)
    ("/story/{slug}/panels", frozenset(GET)),
    ("/story/{slug}/panel/{name}", frozenset(GET)),
    ("/guide/{slug}", frozenset(GET)),
    ("/component/{slug}", frozenset(GET)),
    ("/playground", frozenset(GET)),
    ("/api/keys", frozenset(GET)),
    ("/api/keys", frozenset(SAVES)),
    ("/api/keys/{provider}", frozenset(SAVES)),
    ("/api/keys/{provider}", frozenset({"DELETE"})),
    ("/api/keys/{provider}/test", frozenset({"POST"})),
    ("/api/keys/{provider}/default", frozenset({"POST"})),
    ("/playground/api/notes", frozenset(GET)),
    ("/playground/api/notes", frozenset({"POST"})),
    ("/playground/try", frozenset({"POST"})),
    ("/sandbox/api/keys", frozenset(GET)),
    ("/sandbox/api/keys", frozenset(SAVES)),
    ("/sandbox/api/keys/{provider}", frozenset(SAVES)),
    ("/sandbox/api/keys/{provider}", frozenset({"DELETE"})),
    ("/sandbox/api/keys/{provider}/test", frozenset({"POST"})),
    ("/sandbox/api/keys/{provider}/default", frozenset({"POST"})),
    *(
        (base + tail, frozenset(methods))
        for base in ("/playground/api-keys", "/sandbox/account/api-keys")
        for tail, methods in (
            ("", GET),
            ("", {"POST"}),
            ("/{key_id}/roll", GET),
            ("/{key_id}/roll", {"POST"}),
            ("/{key_id}/revoke", {"POST"}),
            ("/{key_id}", {"DELETE"}),
            ("/{key_id}/delete", {"POST"}),
            ("/{key_id}/usage", GET),
        )
    ),
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The live gallery app on a throwaway playground database."""
    db = tmp_path_factory.mktemp("gallery-app") / "gallery.db"
    yield gallery_app.create_app(db_url=f"sqlite:///{db}", secret_key=SECRET)


def test_the_route_table_is_exactly_the_gallerys_routes(app: object) -> None:
    """No route the gallery did not declare: no static files by extension, no POST on pages."""
    routes = app.router.routes  # type: ignore[attr-defined]
    assert all(isinstance(r, Route) for r in routes)  # no Mount (a folder served whole)
    table = [(r.path, frozenset(r.methods or ())) for r in routes]
    assert len(table) == len(set(table))  # no route declared twice
    assert set(table) == ROUTES


@pytest.mark.parametrize(
    "path", ["/README.md", "/pyproject.toml", "/gallery/app.py", "/gallery/static/gallery.js"]
)
def test_no_file_of_the_working_directory_is_served(app: object, path: str) -> None:
    """fast_app's static route would serve ./README.md; the gallery answers 404."""
    assert TestClient(app).get(path).status_code == 404  # type: ignore[arg-type]


def test_a_page_answers_get_only(app: object) -> None:
    """POST to a page is 405 (FastHTML's `rt` default would have run the page's handler)."""
    client = TestClient(app)  # type: ignore[arg-type]
    assert client.get("/").status_code == 200
    assert client.post("/").status_code == 405
    assert client.post("/story/alert--info-filled").status_code == 405


def test_the_app_is_built_without_fast_app() -> None:
    """create_app builds FastHTML(...) itself: nothing in app.py calls fast_app."""
    tree = ast.parse((GALLERY / "app.py").read_text(encoding="utf-8"))
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert "fast_app" not in names | imported
    assert "FastHTML" in names


def test_the_package_is_subpackages_per_concept() -> None:
    """Top level: the public API, entry points and build hook; the rest in documented subpackages
    that define nothing themselves (no re-exports)."""
    assert {p.name for p in GALLERY.glob("*.py")} == TOP_LEVEL
    subpackages = sorted(p.parent for p in GALLERY.glob("*/__init__.py"))
    assert {"model", "args", "ui", "live", "build", "play", "stories"} <= {
        p.name for p in subpackages
    }
    for folder in subpackages:
        if folder.name == "stories":  # content, not code: the stories declare STORIES
            continue
        tree = ast.parse((folder / "__init__.py").read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{folder.name}/__init__.py says what the concept is"
        if (
            folder.name == "play"
        ):  # public API: a story's steps, `from byok_gallery.play import Click`
            continue
        assert len(tree.body) == 1, f"{folder.name}/__init__.py is its docstring only"
