"""The gallery: registry and coverage rule, snippets, controls, docs, routes, playground, export.

Everything iterates the same registry as the app and the snapshot tests.
"""

from __future__ import annotations

import html as html_module
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

import byok.components as components
from byok.components.assets import HTMX_NPM, InBrowser
from byok.core.providers import BUILTIN_PROVIDERS
from gallery import app as gallery_app
from gallery.__main__ import _parser, main
from gallery.args.controls import ControlError, controls_form, editable, parse_args, query_args
from gallery.build.export import export
from gallery.build.recordings import demo_key, read_recordings
from gallery.live.playground import (
    ALLOW_ENV,
    PROVIDER_URL_ENV,
    PROVIDERS,
    Playground,
    default_verifier,
)
from gallery.model.introspect import Control, params, signature_text, variant_axes
from gallery.model.registry import Call, Registry, Story, registry, slugify
from gallery.model.runnable import runnable_app
from gallery.ui.assets import (
    AXE,
    NPM_FILES,
    THEME_SCRIPT,
    Assets,
    find_node_modules,
    locate,
    shell_loader,
)
from gallery.ui.canvas import VIEWPORTS
from gallery.ui.guides import Guide, find_guides, guide_page
from gallery.ui.pretty import pretty_html
from tests.fake_providers import FakeProviders, Server
from tests.support import SECRET, examples

ROOT = Path(__file__).resolve().parent.parent
REG = registry()
STORY_LIST = list(REG)


def effective_args(story: Story) -> dict[str, Any]:
    """The story's arguments with the signature's defaults filled in."""
    out = {p.name: p.default for p in params(story.component) if not p.required}
    return out | dict(story.args)


def walk(value: Any) -> Iterator[Any]:
    """Every value inside a story argument (lists, dicts, tuples, nested calls)."""
    yield value
    if isinstance(value, Call):
        for v in value.args.values():
            yield from walk(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from walk(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from walk(k)
            yield from walk(v)


# ----------------------------------------------------------------------------- coverage rule


def public_components() -> list[Any]:
    """byok.components' public components: COMPONENTS, and every capitalised function exported."""
    exported = [
        getattr(components, n)
        for n in components.__all__
        if n[:1].isupper()
        and callable(getattr(components, n))
        and not isinstance(getattr(components, n), type)
    ]
    return list(dict.fromkeys([*components.COMPONENTS, *exported]))


def test_every_public_component_has_stories() -> None:
    covered = {s.component for s in REG}
    missing = [c.__name__ for c in public_components() if c not in covered]
    assert not missing, f"components without a story: {missing}"
    assert len(covered) >= 18


def test_every_variant_value_appears_in_a_story() -> None:
    missing = []
    for component in public_components():
        stories = [s for s in REG if s.component is component]
        for name, values in variant_axes(component).items():
            shown = {effective_args(s).get(name) for s in stories}
            missing += [f"{component.__name__}.{name}={v!r}" for v in values if v not in shown]
    assert not missing, f"variant values no story shows: {missing}"


def test_every_variant_enum_value_appears_somewhere() -> None:
    """Enums used inside arguments (e.g. FieldType in extra_fields) are covered too."""
    seen = {
        v
        for s in REG
        for arg in effective_args(s).values()
        for v in walk(arg)
        if isinstance(v, Enum)
    }
    missing = [f"{e.__name__}.{m.name}" for e in components.VARIANTS for m in e if m not in seen]
    assert not missing, missing


def test_variant_axes_are_found_on_signatures() -> None:
    from byok.components import Alert, AlertKind, AlertStyle, ToastContainer

    axes = variant_axes(Alert)
    assert axes["kind"] == tuple(AlertKind)
    assert axes["style"] == tuple(AlertStyle)
    assert set(variant_axes(ToastContainer)) == {"position", "align"}


# ----------------------------------------------------------------------------- registry


def test_slugs_are_unique_and_url_safe() -> None:
    slugs = [s.slug for s in REG]
    assert len(slugs) == len(set(slugs)) == len(REG)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*--[a-z0-9]+(-[a-z0-9]+)*", s) for s in slugs)
    assert slugify("KeyManagementCard", camel=True) == "key-management-card"
    assert slugify("OpenAI") == "openai"
    assert slugify("Error, soft") == "error-soft"


def test_duplicate_slug_is_refused() -> None:
    from byok.components import Alert

    with pytest.raises(ValueError, match="share the slug"):
        Registry([Story(Alert, "A b", {"message": "x"}), Story(Alert, "A-B", {"message": "y"})])


def test_story_refuses_arguments_a_snippet_cannot_spell() -> None:
    from byok.components import Alert

    with pytest.raises(TypeError, match="Call"):
        Story(Alert, "Raw", {"message": Alert("raw element")})
    with pytest.raises(TypeError):
        Story(Alert, "Object", {"message": object()})


def test_story_args_are_read_only_and_with_args_copies() -> None:
    story = REG.get("alert--info-filled")
    assert story is not None
    with pytest.raises(TypeError):
        story.args["kind"] = "error"  # type: ignore[index]
    tweaked = story.with_args({"title": "Hi"})
    assert tweaked.args["title"] == "Hi" and "title" not in story.args
    assert tweaked.slug == story.slug


def test_groups_and_order_follow_the_story_modules() -> None:
    tree = REG.tree()
    assert list(tree)[:2] == ["Feedback", "Forms"]
    assert all(s.source.startswith("gallery/stories/") for s in REG)


# ----------------------------------------------------------------------------- snippets


def test_snippets_are_ruff_clean(tmp_path: Path) -> None:
    """Every Code tab snippet passes `ruff check` and `ruff format --check` (project config)."""
    folder = tmp_path / "snippets"
    folder.mkdir()
    for i, s in enumerate(REG):
        (folder / f"s{i:03d}_{s.slug.replace('-', '_')}.py").write_text(s.snippet())
        (folder / f"a{i:03d}_{s.slug.replace('-', '_')}.py").write_text(runnable_app(s))
    ruff = [sys.executable, "-m", "ruff"]
    config = ["--config", str(ROOT / "pyproject.toml")]
    check = subprocess.run(
        [*ruff, "check", *config, "--no-cache", str(folder)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout[-3000:]
    fmt = subprocess.run(
        [*ruff, "format", *config, "--check", "--no-cache", str(folder)],
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout[-3000:]


def test_snippet_spells_enums_by_name_and_imports_them() -> None:
    story = REG.get("alert--error-soft")
    assert story is not None
    code = story.snippet()
    assert code.startswith("from byok.components import Alert, AlertKind, AlertStyle\n\n")
    assert "kind=AlertKind.ERROR" in code and "style=AlertStyle.SOFT" in code
    assert "'error'" not in code


def test_snippet_writes_nested_calls_and_datetimes() -> None:
    code = REG.get("key-manager-dashboard--three-keys-of-six").snippet()  # type: ignore[union-attr]
    assert "from datetime import UTC, datetime" in code
    assert "from byok.components import KeyManagerDashboard, KeyOverview" in code
    assert "keys={" in code and '"openai": KeyOverview(' in code
    assert "    now = datetime.now(UTC)\n    return KeyManagerDashboard(\n" in code
    assert "from starlette.requests import Request" in code and "request=request," in code
    assert "def keys_page(request: Request):\n    now = datetime.now(UTC)\n" in code
    assert "created_at=now - timedelta(days=3)," in code and "now=now," in code


def test_no_snippet_carries_the_gallery_clock() -> None:
    """The stories fix the time (2025-06-01) for stable snapshots; the Code tab's snippet and
    runnable app read the real clock instead, dates relative to it."""
    dated = 0
    for story in REG:
        for code in (story.snippet(), runnable_app(story)):
            assert "datetime(2025" not in code, story.slug
        if story.clock is not None and "now - timedelta(" in story.snippet():
            dated += 1
            assert "now = datetime.now(UTC)" in story.snippet()
    assert dated >= 10  # the cards, dashboards and issued-key tables
    empty = REG.get("key-management-card--empty")  # nothing dated: no clock at all
    assert empty is not None and "now" not in empty.snippet()


# ----------------------------------------------------------------------------- introspection


def test_every_parameter_of_every_component_has_a_comment() -> None:
    missing = [
        f"{c.__name__}.{p.name}" for c in public_components() for p in params(c) if not p.comment
    ]
    assert not missing, f"parameters without an inline comment: {missing}"


def test_params_read_types_defaults_and_comments_from_source() -> None:
    from byok.components import Alert, KeyManagementCard

    by_name = {p.name: p for p in params(Alert)}
    assert by_name["message"].required and by_name["message"].comment == "the alert text (escaped)"
    assert (
        by_name["kind"].type_text == "AlertKind"
        and by_name["kind"].default_text == "AlertKind.INFO"
    )
    assert by_name["style"].control is Control.CHOICE and by_name["style"].optional
    assert by_name["dismissible"].control is Control.BOOL
    card = {p.name: p for p in params(KeyManagementCard)}
    assert card["test_url"].comment.startswith("URL of the")  # keyword-only, after `*,`
    assert card["created_at"].control is Control.DATETIME  # str | datetime: a datetime input
    assert card["provider_config"].control is Control.JSON
    sig = signature_text(Alert)
    assert sig.startswith("Alert(\n    message: str,\n") and sig.endswith(") -> FT")


def test_comment_parser_handles_wrapped_parameters() -> None:
    from byok.core.storage import BYOKManager

    by_name = {p.name: p for p in params(BYOKManager)}
    assert by_name["db_url"].comment.startswith("database URL or fastsql Database")
    assert by_name["secret_key"].comment.startswith("the app secret")


# ----------------------------------------------------------------------------- controls


def test_controls_form_has_a_widget_per_editable_parameter() -> None:
    from byok.components import Alert

    form = BeautifulSoup(
        gallery_app.to_xml(controls_form(Alert, {"message": "m"}, "/x")), "html.parser"
    )
    kind = form.find("select", attrs={"name": "kind"})
    assert [o["value"] for o in kind.find_all("option")] == ["info", "success", "warning", "error"]
    style = form.find("select", attrs={"name": "style"})
    assert style.find("option")["value"] == ""  # optional: a "(none)" choice
    assert form.find("input", attrs={"name": "dismissible", "type": "checkbox"})
    assert form.find("input", attrs={"name": "dismissible", "type": "hidden", "value": "false"})
    assert form.find("input", attrs={"name": "message", "type": "text"})["value"] == "m"
    assert form.find("form")["hx-get"] == "/x"
    for p in editable(Alert):
        assert form.find(attrs={"name": p.name}) is not None


def test_controls_form_is_disabled_without_a_server() -> None:
    from byok.components import Alert

    html = gallery_app.to_xml(controls_form(Alert, {"message": "m"}, None))
    assert "hx-get" not in html and "disabled" in html and "uv run gallery" in html


def test_parse_args_converts_each_control_type() -> None:
    from byok.components import Alert, AlertKind, AlertStyle, Toast

    q = {"kind": ["error"], "style": [""], "dismissible": ["false", "true"], "title": ["Hi"]}
    assert parse_args(Alert, q) == {
        "kind": AlertKind.ERROR,
        "style": None,
        "dismissible": True,
        "title": "Hi",
    }
    assert parse_args(Alert, {"dismissible": ["false"]}) == {"dismissible": False}
    assert parse_args(Alert, {"style": ["dash"], "unknown": ["x"]}) == {"style": AlertStyle.DASH}
    assert parse_args(Toast, {"duration": ["250"]}) == {"duration": 250}
    for bad in ({"kind": ["purple"]}, {"dismissible": ["maybe"]}, {"title": ["x" * 5000]}):
        with pytest.raises(ControlError):
            parse_args(Alert, bad)
    with pytest.raises(ControlError, match="whole number"):
        parse_args(Toast, {"duration": ["1.5"]})


def test_query_args_round_trip_through_parse_args() -> None:
    for s in REG:
        args = effective_args(s)
        pairs = query_args(s.component, args, s.args)
        query: dict[str, list[str]] = {}
        for k, v in pairs:
            query.setdefault(k, []).append(v)
        parsed = parse_args(s.component, query, s.args)
        for name, value in parsed.items():
            assert value == args[name] or (value in ("", None) and args[name] in ("", None)), (
                s.slug,
                name,
            )


# ----------------------------------------------------------------------------- the app


@pytest.fixture(scope="module")
def providers_mock() -> Iterator[FakeProviders]:
    """The local fake provider server the playground's checks are pointed at."""
    with Server() as state:
        yield state


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory, providers_mock: FakeProviders
) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("gallery") / "gallery.db"
    with pytest.MonkeyPatch.context() as env:
        env.setenv(PROVIDER_URL_ENV, providers_mock.url)
        env.setenv(ALLOW_ENV, "127.0.0.1/32")
        app = gallery_app.create_app(db_url=f"sqlite:///{db}", secret_key=SECRET)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


HX = {"HX-Request": "true"}


def soup(text: str) -> BeautifulSoup:
    return BeautifulSoup(text, "html.parser")


def exact_html(text: str) -> str:
    """What the HTML panel's copy button copies (the hidden textarea's value)."""
    found = re.search(r'<textarea[^>]*id="html-exact"[^>]*>(.*?)</textarea>', text, re.S)
    assert found is not None, "no #html-exact"
    return html_module.unescape(found.group(1))


def test_index_lists_every_story_and_component(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    page = soup(r.text)
    links = {a["href"] for a in page.select("#story-tree a")}
    assert {f"/story/{s.slug}" for s in REG} <= links
    assert {f"/component/{slug}" for slug in REG.by_component} <= links
    assert len(page.select("#main li.card")) == len(REG.by_component)
    assert page.find("input", attrs={"data-story-filter": "story-tree"})


def test_story_direct_load_is_a_full_page_htmx_gets_a_fragment(client: TestClient) -> None:
    full = client.get("/story/alert--error-soft")
    assert full.status_code == 200 and full.text.startswith("<!doctype html>")
    assert soup(full.text).select_one("nav #story-tree") is not None
    assert "HX-Request" in full.headers["vary"]
    frag = client.get("/story/alert--error-soft", headers=HX)
    assert frag.status_code == 200
    assert "<html" not in frag.text and "story-tree" not in frag.text
    assert "<title>Alert · Error, soft · byok gallery</title>" in frag.text
    assert 'id="story"' in frag.text
    restore = client.get(
        "/story/alert--error-soft", headers={**HX, "HX-History-Restore-Request": "true"}
    )
    assert restore.text.startswith("<!doctype html>")


def test_sidebar_links_navigate_with_htmx_into_main(client: TestClient) -> None:
    nav = soup(client.get("/").text).select_one("aside nav")
    assert nav["data-boost"] == "true" and nav["hx-target"] == "#main"
    assert nav["hx-push-url"] == "true"


def test_every_component_docs_page_renders(client: TestClient) -> None:
    """(Each story's page and canvas: tests/snapshots/test_stories.py, with its other checks.)"""
    for slug, _, stories in REG.components():
        r = client.get(f"/component/{slug}", headers=HX)
        assert r.status_code == 200
        assert r.text.count('aria-label="Open story: ') == len(stories)
        page = soup(r.text)
        assert len(page.select("iframe.gallery-preview")) == len(stories)
        assert page.select_one("table")  # the parameter table
        assert "`" not in page.get_text()  # descriptions: backticks became <code>


def test_story_tabs_show_controls_actions_a11y_code_html_docs(client: TestClient) -> None:
    story = REG.get("alert--everything")
    assert story is not None
    page = soup(client.get(f"/story/{story.slug}", headers=HX).text)
    toolbar = page.select_one('[role="toolbar"]')
    tabs = page.select('input[name="story-tab"]')
    values = ["controls", "actions", "interactions", "a11y", "code", "html", "docs"]
    assert [t["value"] for t in tabs] == values
    assert [t["value"] for t in tabs if t.has_attr("checked")] == ["controls"]
    # only the selected tab's panel is in the page; the others name the route that loads them
    assert page.select_one("#controls-form") is not None and page.select_one("#code-source") is None
    lazy = {el["id"]: el["data-panel-src"] for el in page.select("[data-panel-src]")}
    assert lazy == {f"{v}-panel": f"/story/{story.slug}/panel/{v}" for v in values[1:]}
    text = "".join(client.get(src).text for src in lazy.values())
    page = soup(text + client.get(f"/story/{story.slug}/panel/controls").text)
    assert [el["id"] for el in page.select("[id$='-panel']") if el.parent.name == "[document]"] == [
        f"{v}-panel" for v in [*values[1:], "controls"]
    ]
    assert page.select_one("#code-source").get_text() == story.snippet()
    assert page.select_one("#app-source").get_text() == runnable_app(story)
    assert exact_html(text) == story.render()
    shown = page.select_one("#html-source").get_text()
    assert shown == pretty_html(story.render()) and shown.count("\n") > 10  # indented
    docs = page.select("table")[-1]
    names = [row.find("td").get_text(strip=True) for row in docs.select("tbody tr")]
    assert names == [p.name for p in params(story.component)]
    assert "the alert text (escaped)" in docs.get_text()
    assert page.select_one("#controls-form")["hx-get"] == f"/story/{story.slug}/panels"
    assert page.select_one("#actions-log") is not None and page.select_one("#a11y-summary")
    assert [o["value"] for o in toolbar.select('select[name="viewport"] option')] == list(VIEWPORTS)
    assert toolbar.select_one("#canvas-open")["href"] == f"/story/{story.slug}/canvas"


def test_tab_permalink_selects_the_tab(client: TestClient) -> None:
    for tab in ("html", "docs", "code", "actions", "a11y"):
        page = soup(client.get(f"/story/alert--info-filled?tab={tab}", headers=HX).text)
        checked = [
            t["value"] for t in page.select('input[name="story-tab"]') if t.has_attr("checked")
        ]
        assert checked == [tab]
    page = soup(client.get("/story/alert--info-filled?tab=nonsense", headers=HX).text)
    assert [t["value"] for t in page.select('input[name="story-tab"][checked]')] == ["controls"]


def test_url_arguments_rerender_the_story(client: TestClient) -> None:
    r = client.get("/story/alert--info-filled?kind=error&title=Heads+up&dismissible=true")
    assert r.status_code == 200
    page = soup(r.text)
    src = page.select_one("#canvas-frame")["src"]
    path, _, query = src.partition("?")
    assert path == "/story/alert--info-filled/canvas"
    assert sorted(query.split("&")) == ["dismissible=true", "kind=error", "title=Heads+up"]
    canvas = soup(client.get(src).text).select_one("#story-root")
    assert "alert-error" in canvas.div["class"] and "Heads up" in canvas.get_text()
    assert canvas.select_one("[data-byok-dismiss]") is not None
    code = soup(client.get(f"{r.url.path}/panel/code?{r.url.query.decode()}").text)
    code = code.select_one("#code-source").get_text()
    assert "kind=AlertKind.ERROR" in code and 'title="Heads up"' in code
    assert page.select_one('select[name="kind"] option[selected]')["value"] == "error"
    assert page.select_one('select[name="kind"]')["data-default"] == "info"  # the reset value


def test_panels_answer_rerenders_code_and_html(client: TestClient) -> None:
    r = client.get("/story/alert--info-filled/panels?kind=warning&style=dash&dismissible=false")
    assert r.status_code == 200
    page = soup(r.text)
    assert page.select_one('#code-panel[hx-swap-oob="true"]') is not None
    assert page.select_one('#html-panel[hx-swap-oob="true"]') is not None
    assert "style=AlertStyle.DASH" in page.select_one("#code-source").get_text()
    assert "alert-dash" in exact_html(r.text)
    # the URL is the canvas answer's to give (below): a panels answer lands later, after a rest
    assert "hx-push-url" not in r.headers and "hx-trigger" not in r.headers


def test_a_canvas_answer_for_arguments_names_the_story_page_url(client: TestClient) -> None:
    r = client.get("/story/alert--info-filled/canvas?kind=warning&style=dash&dismissible=false")
    assert "alert-warning" in r.text and "alert-dash" in r.text
    # only what differs from the story, so it can be shared
    assert (
        r.headers["gallery-story-url"]
        == "/story/alert--info-filled?tab=controls&kind=warning&style=dash"
    )
    plain = client.get("/story/alert--info-filled/canvas")  # a story switch: no arguments
    assert "gallery-story-url" not in plain.headers
    composed = client.get("/iframe.html?id=alert--info-filled&viewMode=story")
    assert "gallery-story-url" not in composed.headers


def test_json_and_number_controls_report_errors_inline(client: TestClient) -> None:
    base = "/story/key-manager-dashboard--no-keys-yet/panels"
    bad = client.get(base, params={"providers": '["openai", '})
    assert bad.status_code == 422
    slot = soup(bad.text).select_one("#control-providers-error")
    assert slot["hx-swap-oob"] == "true" and "not valid JSON" in slot.get_text()
    assert not slot.has_attr("hidden")
    wrong = client.get(base, params={"providers": '{"a": 1}'})
    assert "must be a JSON array" in soup(wrong.text).select_one("#control-providers-error").text
    ok = client.get(base, params={"providers": '["groq"]'})
    assert ok.status_code == 200
    assert 'providers=["groq"]' in soup(ok.text).select_one("#code-source").get_text()
    assert soup(ok.text).select_one("#control-providers-error").has_attr("hidden")  # cleared
    many = client.get("/story/dashboard-skeleton--three-cards/panels", params={"cards": "49"})
    assert "must be at most 48" in many.text
    form = soup(client.get("/story/dashboard-skeleton--three-cards", headers=HX).text)
    cards = form.select_one('input[name="cards"]')
    assert cards["type"] == "number" and cards["min"] == "0" and cards["max"] == "48"
    refused = client.get("/story/toast-container--top-end/panels", params={"id": "not an id"})
    assert refused.status_code == 422
    assert "refused" in soup(refused.text).select_one("#controls-error").get_text()


def test_bad_arguments_answer_422_never_500(client: TestClient) -> None:
    for url in (
        "/story/alert--info-filled?kind=purple",
        "/story/toast-container--top-end?id=not%20an%20id",
        "/story/toast--info?duration=-5",
        "/story/toast--info?duration=abc",
        "/story/alert--info-filled/canvas?kind=purple",
        "/story/alert--info-filled/panels?kind=purple",
    ):
        r = client.get(url, headers=HX)
        assert r.status_code == 422, url
        assert 'role="alert"' in r.text or "must be" in r.text, url
    page = client.get("/story/toast--info?duration=-5")
    assert page.text.startswith("<!doctype html>")
    slot = soup(page.text).select_one("#control-duration-error")
    assert "at least 0" in slot.get_text() and not slot.has_attr("hidden")  # shown in place


def test_unknown_pages_are_404(client: TestClient) -> None:
    for url in ("/story/nope", "/component/nope", "/nope", "/story/nope/canvas"):
        assert client.get(url).status_code == 404, url
    assert "Not found" in client.get("/story/nope").text


def test_index_json_lists_every_story(client: TestClient) -> None:
    data = client.get("/index.json").json()
    assert data["v"] == 5
    assert list(data["entries"]) == [s.slug for s in REG]
    entry = data["entries"]["alert--error-soft"]
    assert entry == {
        "type": "story",
        "id": "alert--error-soft",
        "tags": ["dev", "test"],
        "title": "Feedback/Alert",
        "name": "Error, soft",
        "component": "Alert",
        "group": "Feedback",
        "importPath": "gallery/stories/alerts.py",
        "description": "An error alert in the soft style.",
        "args": {
            "message": "That key was rejected by the provider.",
            "kind": "error",
            "style": "soft",
        },
        "parameters": {"layout": "padded"},
    }
    json.dumps(data)  # plain JSON all the way down


def test_assets_are_served_from_a_whitelist_only(client: TestClient) -> None:
    assets = locate()
    for name in assets.files():
        r = client.get(f"/assets/{name}")
        assert r.status_code == 200, name
    for url in (
        "/assets/nope.js",
        "/assets/..%2Fpyproject.toml",
        "/pyproject.toml",
        "/gallery/app.py",
        "/README.md",
        "/.sesskey",
        "/uv.lock",
    ):
        assert client.get(url).status_code == 404, url


def test_an_asset_answers_from_memory_with_a_validator_and_a_changed_file_is_read_again(
    tmp_path,
) -> None:
    from gallery.ui.assets import served

    path = tmp_path / "x.js"
    path.write_text("let a = 1;")
    first = served(path)
    assert (first.body, first.media_type) == (b"let a = 1;", "text/javascript; charset=utf-8")
    path.write_text("let a = 22;")  # the hot reload edits files under a running gallery
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    second = served(path)
    assert second.body == b"let a = 22;" and second.etag != first.etag


def test_an_asset_asked_again_with_its_etag_is_not_sent_again(client: TestClient) -> None:
    answer = client.get("/assets/gallery.js")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(
        "text/javascript"
    )
    again = client.get("/assets/gallery.js", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304 and not again.content
    other = client.get("/assets/gallery.js", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200 and other.content == answer.content


def test_pages_reference_local_assets_only(client: TestClient) -> None:
    head = soup(client.get("/").text).head
    tags = head.find_all(["script", "link"])
    urls = [u for t in tags if (u := t.get("src") or t.get("href"))]
    assert urls and all(u.startswith("/assets/") or u == "data:," for u in urls), urls
    inline = [t.string for t in tags if t.name == "script" and not t.get("src")]
    # the one inline script starts the shell's scripts once the canvas has loaded (live, the
    # remembered theme comes from a cookie: no script reads storage)
    assert inline == [shell_loader(["/assets/gallery.js", "/assets/htmx.js", "/assets/byok.js"])]
    assert soup(client.get("/").text).find(id="asset-notice") is None


def test_missing_node_modules_falls_back_to_cdn_with_a_notice() -> None:
    assets = Assets(InBrowser(None))  # `gallery --assets browser` without `npm ci`
    html = gallery_app.to_xml(gallery_app.document(gallery_app.LIVE, "x", "y", assets))
    notice = soup(html).find(id="asset-notice")
    assert notice is not None and "npm ci" in notice.get_text()
    for name, npm in NPM_FILES.items():
        assert npm.cdn in html, name
    assert "/assets/gallery.js" in html and "/assets/byok.js" in html  # shipped with Python
    assert "/assets/htmx.js" in html  # vendored: never from the CDN


def test_find_node_modules_honours_the_override(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BYOK_NODE_MODULES", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    found = find_node_modules()
    assert found is None or found != tmp_path  # an empty folder is never chosen
    for npm in NPM_FILES.values():
        (tmp_path / npm.package / npm.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / npm.package / npm.path).write_text("x")
    assert find_node_modules() == tmp_path


def test_pinned_asset_versions_match_package_json_and_lock() -> None:
    pkg = json.loads((ROOT / "package.json").read_text())["dependencies"]
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    for npm in [*NPM_FILES.values(), AXE, HTMX_NPM]:
        assert pkg[npm.package] == npm.version, npm.package
        assert lock[f"node_modules/{npm.package}"]["version"] == npm.version


# ----------------------------------------------------------------------------- playground


OPENAI_KEY = "sk-proj-valid-" + "A1b2C3d4" * 4  # the fake provider accepts "valid" keys


def csrf(client: TestClient) -> dict[str, str]:
    """The CSRF header the gallery page gives htmx (hx-headers on <body>)."""
    body = soup(client.get("/playground").text).body
    return json.loads(body["hx-headers"])


def card_state(html: str, provider: str = "openai") -> str:
    return soup(html).select_one(f"#byok-card-{provider}")["data-byok-card"]


def test_every_full_page_carries_the_csrf_header(client: TestClient) -> None:
    headers = csrf(client)
    assert list(headers) == ["X-CSRF-Token"] and len(headers["X-CSRF-Token"]) >= 32
    assert json.loads(soup(client.get("/").text).body["hx-headers"]) == headers  # per session
    assert "X-CSRF-Token" not in client.get("/", headers=HX).text  # fragments: body keeps it


def test_a_kept_story_page_carries_each_sessions_own_token(client: TestClient) -> None:
    """A story page as declared is rendered once and kept; each session still gets its own
    token in it, and the page is the one rendered afresh (an argument in the URL)."""
    gallery_app._declared_story.cache_clear()
    url = "/story/alert--info-filled"
    other = TestClient(client.app, base_url="http://127.0.0.1")
    first, second = client.get(url), other.get(url)
    assert (
        gallery_app._declared_story.cache_info().hits == 1
    )  # the second visitor's is the kept one
    mine, theirs = (json.loads(soup(r.text).body["hx-headers"]) for r in (first, second))
    assert mine == csrf(client) and theirs == csrf(other) and mine != theirs
    assert mine["X-CSRF-Token"] not in second.text and gallery_app._TOKEN_MARK not in second.text
    fresh = client.get(url + "?message=Keys+are+encrypted+before+they+are+stored.")
    assert fresh.status_code == first.status_code == 200
    assert fresh.text == first.text  # the declared arguments, spelled out: the same bytes
    assert client.get(url + "?tab=code").text != first.text  # another tab, another kept page


def test_playground_flow_add_card_test_delete(
    client: TestClient, providers_mock: FakeProviders
) -> None:
    page = client.get("/playground")
    assert page.status_code == 200 and card_state(page.text) == "empty"
    h = {**HX, **csrf(client)}

    saved = client.post("/api/keys/openai", data={"api_key": OPENAI_KEY}, headers=h)
    assert saved.status_code == 200
    assert card_state(saved.text) == "stored"
    assert soup(saved.text).select_one('#toast-container[hx-swap-oob="beforeend"]') is not None
    assert "OpenAI key saved" in saved.text
    assert OPENAI_KEY not in saved.text and OPENAI_KEY[-4:] in saved.text  # masked only

    again = client.post("/api/keys/openai", data={"api_key": OPENAI_KEY}, headers=h)
    assert "OpenAI key updated" in again.text

    tested = client.post("/api/keys/openai/test", headers=h)
    assert tested.status_code == 200 and "OpenAI accepted this key" in tested.text
    assert providers_mock.seen[-1].path == "/openai/models"  # a real request, key in a header
    assert providers_mock.seen[-1].headers["authorization"] == f"Bearer {OPENAI_KEY}"

    dashboard = client.get("/playground").text
    assert OPENAI_KEY not in dashboard and card_state(dashboard) == "stored"

    deleted = client.delete("/api/keys/openai", headers=h)
    assert deleted.status_code == 200 and card_state(deleted.text) == "empty"
    assert "OpenAI key removed" in deleted.text


def test_playground_rejects_bad_input_and_foreign_requests(client: TestClient) -> None:
    h = {**HX, **csrf(client)}
    r = client.post("/api/keys/openai", data={"api_key": "not-an-openai-key"}, headers=h)
    assert r.status_code == 422
    assert r.headers["hx-retarget"] == "#byok-validation-openai"
    assert "not-an-openai-key" not in r.text
    assert client.post("/api/keys/openai", data={}, headers=h).status_code == 422
    assert (
        client.post("/api/keys/openai", data={"api_key": "x" * 5000}, headers=h).status_code == 422
    )
    assert client.post("/api/keys/evil", data={"api_key": OPENAI_KEY}, headers=h).status_code == 404
    no_token = client.post("/api/keys/openai", data={"api_key": OPENAI_KEY}, headers=HX)
    assert no_token.status_code == 403
    cross = client.post(
        "/api/keys/openai",
        data={"api_key": OPENAI_KEY},
        headers={**h, "Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403
    assert card_state(client.get("/playground").text) == "empty"  # nothing stored by any of them


def canvas_session(client: TestClient, slug: str) -> dict[str, str]:
    """The headers canvas.js sends from a story's canvas: CSRF token and sandbox token."""
    body = soup(client.get(f"/story/{slug}/canvas").text).body
    return {**HX, **json.loads(body["hx-headers"]), "Gallery-Sandbox": body["data-sandbox"]}


def test_story_forms_talk_to_their_own_sandbox_never_the_playground(
    client: TestClient, tmp_path: Path
) -> None:
    playground_db = soup(client.get("/playground").text)  # the visitor's playground: empty
    assert card_state(str(playground_db)) == "empty"
    h = canvas_session(client, "key-input-form--openai")
    saved = client.post("/sandbox/api/keys/openai", data={"api_key": OPENAI_KEY}, headers=h)
    assert saved.status_code == 200 and "OpenAI key saved" in saved.text
    assert 'hx-swap-oob="beforeend"' in saved.text  # the toast, out of band
    assert card_state(client.get("/playground").text) == "empty"  # the playground is untouched
    tested = client.post("/sandbox/api/keys/openai/test", headers=h)
    assert "OpenAI accepted this key" in tested.text  # the sandbox's key, checked for real
    again = canvas_session(client, "key-input-form--openai")  # a reload: a new, empty sandbox
    assert again["Gallery-Sandbox"] != h["Gallery-Sandbox"]
    fresh = client.post("/sandbox/api/keys/openai/test", headers=again)
    assert "Key works" not in fresh.text
    unknown = {**h, "Gallery-Sandbox": "0" * 24}
    assert (
        client.post(
            "/sandbox/api/keys/openai", data={"api_key": OPENAI_KEY}, headers=unknown
        ).status_code
        >= 400
    )
    no_csrf = {k: v for k, v in h.items() if k != "X-CSRF-Token"}
    refused = client.post("/sandbox/api/keys/openai", data={"api_key": OPENAI_KEY}, headers=no_csrf)
    assert refused.status_code == 403 and "byok-problem" in refused.headers


def test_a_seeded_story_starts_with_its_key_in_its_sandbox(client: TestClient) -> None:
    h = canvas_session(client, "key-management-card--stored-with-test")
    tested = client.post("/sandbox/api/keys/anthropic/test", headers=h)
    assert tested.status_code == 200 and "No key stored" not in tested.text
    assert "Anthropic accepted this key" in tested.text  # the seeded key, checked for real
    other = canvas_session(client, "key-input-form--openai")  # an unseeded story: empty
    assert "No key stored" in client.post("/sandbox/api/keys/anthropic/test", headers=other).text


def test_every_seed_is_accepted_by_the_sandbox(client: TestClient) -> None:
    sandboxes = client.app.state.sandboxes
    seeded = [s for s in REG if s.seed is not None]
    assert seeded  # "Stored, with test" at least
    for story in seeded:
        token = sandboxes.open(story.slug)  # a key its provider refuses would raise here
        owner = f"sandbox-{token}"
        for provider, key in story.seed.keys.items():
            assert sandboxes.manager.get_key(None, provider, user_id=owner) == key


def test_issued_key_stories_talk_to_their_own_sandbox_issuer(client: TestClient) -> None:
    body = soup(client.get("/story/create-key-form--empty/canvas").text).body
    assert body["data-sandbox-paths"].split() == ["/api/keys", "/account/api-keys"]
    h = canvas_session(client, "create-key-form--empty")
    form = {"name": "Sandbox key", "scopes": ["notes:read"], "expires": "never"}
    made = client.post("/sandbox/account/api-keys", data=form, headers=h)
    assert made.status_code == 200, made.text[:400]
    shown = re.search(r"demo_test_[A-Za-z0-9]+", made.text)
    assert shown is not None  # the one reveal, from the sandbox's issuer
    playground = client.get("/playground").text
    assert "Sandbox key" not in playground and shown.group(0) not in playground
    other = canvas_session(client, "create-key-form--empty")  # a reload: a new, empty sandbox
    listed = client.get("/sandbox/account/api-keys", headers=other)
    assert "Sandbox key" not in listed.text
    story_key = "/sandbox/account/api-keys/0b5e7f2a-0000-4000-8000-000000000001/revoke"
    assert client.post(story_key, headers=h).status_code == 404  # a story's record: not theirs
    unknown = {**h, "Gallery-Sandbox": "0" * 24}
    assert client.post("/sandbox/account/api-keys", data=form, headers=unknown).status_code >= 400


def test_sandboxes_are_capped_and_cleared(monkeypatch) -> None:
    from gallery.live import sandbox

    monkeypatch.setattr(sandbox, "MAX_SANDBOXES", 2)
    boxes = sandbox.Sandboxes(SECRET)
    try:
        first = boxes.open("a")
        boxes.manager.set_key(None, "openai", OPENAI_KEY, user_id=f"sandbox-{first}")
        boxes.open("b")
        boxes.open("c")
        assert len(boxes) == 2
        assert boxes.manager.list_providers(None, f"sandbox-{first}") == []  # cleared
    finally:
        boxes.close()
    assert not boxes.folder.exists()


def test_multi_provider_form_saves_through_the_routes(client: TestClient) -> None:
    h = {**HX, **csrf(client)}
    r = client.post("/api/keys", data={"provider": "groq", "api_key": "gsk_" + "x" * 40}, headers=h)
    assert r.status_code == 200 and "Groq key saved" in r.text
    assert 'id="byok-validation-multi"' in r.text
    assert client.get("/api/keys", headers=HX).status_code == 200  # the skeleton story loads it
    client.delete("/api/keys/groq", headers=h)


def test_playground_users_are_separate_sessions(tmp_path: Path) -> None:
    app = gallery_app.create_app(db_url=f"sqlite:///{tmp_path / 'g.db'}", secret_key=SECRET)
    with TestClient(app) as a, TestClient(app) as b:
        a.post("/api/keys/openai", data={"api_key": OPENAI_KEY}, headers={**HX, **csrf(a)})
        assert card_state(a.get("/playground").text) == "stored"
        assert card_state(b.get("/playground").text) == "empty"
    raw = (tmp_path / "g.db").read_bytes()
    assert OPENAI_KEY.encode() not in raw  # only ciphertext at rest


def test_playground_verifier_is_the_builtin_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PROVIDER_URL_ENV, raising=False)
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    plain = default_verifier()
    assert plain.provider_config is None and plain.outbound.guard.allow_networks == ()
    monkeypatch.setenv(PROVIDER_URL_ENV, "http://127.0.0.1:9/")
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.1/32, 10.0.0.0/8")
    mocked = default_verifier()
    assert mocked.provider_config["openai"] == {"api_base": "http://127.0.0.1:9/openai"}
    assert [str(n) for n in mocked.outbound.guard.allow_networks] == ["127.0.0.1/32", "10.0.0.0/8"]
    assert set(PROVIDERS) >= {"openai", "anthropic"}


def test_playground_defaults_use_env_and_data_dir(tmp_path: Path, monkeypatch) -> None:
    from gallery.live import playground

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("BYOK_GALLERY_DB", raising=False)
    monkeypatch.delenv("BYOK_GALLERY_SECRET", raising=False)
    assert playground.default_db_url() == f"sqlite:///{tmp_path / 'byok-gallery' / 'gallery.db'}"
    secret = playground.default_secret()
    path = tmp_path / "byok-gallery" / "secret"
    assert len(secret) >= 32 and path.read_text().strip() == secret
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert playground.default_secret() == secret  # kept
    monkeypatch.setenv("BYOK_GALLERY_DB", "sqlite:///elsewhere.db")
    assert playground.default_db_url() == "sqlite:///elsewhere.db"
    pg = Playground.create(db_url=f"sqlite:///{tmp_path / 'p.db'}", secret_key=SECRET)
    assert pg.manager.database is not None


# ----------------------------------------------------------------------------- export and CLI


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory):
    return export(tmp_path_factory.mktemp("export") / "site")


def test_export_writes_every_page_and_the_assets(exported) -> None:
    report = exported
    root = report.root
    guides = len(find_guides())  # byok's own guides/ folder
    assert guides >= 2
    assert report.pages == 1 + 2 * len(REG) + len(REG.by_component) + guides  # story + canvas each
    assert (root / "index.html").is_file() and (root / "index.json").is_file()
    for s in REG:
        assert (root / "story" / f"{s.slug}.html").is_file(), s.slug
        canvas = (root / "canvas" / f"{s.slug}.html").read_text()
        assert s.canvas_html() in canvas and 'data-static="true"' in canvas, s.slug
    for slug in REG.by_component:
        assert (root / "component" / f"{slug}.html").is_file()
    for name in locate().files():
        assert (root / "assets" / name).is_file(), name
    assert json.loads((root / "index.json").read_text())["entries"].keys() == REG.by_slug.keys()

    text = (root / "story" / "alert--error-soft.html").read_text()
    page = soup(text)
    assert page.select_one("#canvas-frame")["src"] == "../canvas/alert--error-soft.html"
    assert exact_html(text) == REG.get("alert--error-soft").render()  # type: ignore[union-attr]
    hrefs = [a["href"] for a in page.find_all("a", href=True)]
    local = [h for h in hrefs if not h.startswith(("http", "#"))]
    assert local and not any(h.startswith("/") for h in local), local  # relative links only
    assert "../story/alert--info-filled.html" in hrefs
    for target in local:
        assert (root / "story" / target.split("#")[0]).resolve().is_file(), target
    assert not page.select("[data-boost], [hx-push-url]") and page.select_one(
        "#controls-form fieldset"
    )
    tags = page.head.find_all(["script", "link"])
    head_urls = [u for t in tags if (u := t.get("src") or t.get("href"))]
    assert all(u.startswith("../assets/") or u == "data:," for u in head_urls)
    shell = shell_loader([f"../assets/{n}" for n in ("gallery.js", "htmx.js", "byok.js")])
    assert [t.string for t in tags if t.name == "script" and not t.get("src")] == [
        THEME_SCRIPT,
        shell,
    ]
    index_links = [
        a["href"] for a in soup((root / "index.html").read_text()).find_all("a", href=True)
    ]
    assert "story/alert--error-soft.html" in index_links


def test_cli_export_is_deterministic_and_defaults(exported, tmp_path: Path, capsys) -> None:
    assert main(["export", str(tmp_path / "out")]) == 0
    assert "pages" in capsys.readouterr().out
    first = sorted(p.relative_to(exported.root) for p in exported.root.rglob("*") if p.is_file())
    second = sorted(
        p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*") if p.is_file()
    )
    assert first == second
    for rel in first:
        assert (exported.root / rel).read_bytes() == (tmp_path / "out" / rel).read_bytes(), rel
    args = _parser().parse_args([])
    assert (args.host, args.port, args.command) == ("127.0.0.1", 5001, None)
    args = _parser().parse_args(["--host", "0.0.0.0", "--port", "8000"])
    assert (args.host, args.port) == ("0.0.0.0", 8000)


def recordings_in(canvas: Path) -> list[dict[str, Any]]:
    """The recorded answers an exported canvas carries ([] when none)."""
    script = soup(canvas.read_text()).select_one("script#gallery-recordings")
    saved = read_recordings(script.string) if script else []  # its answers, pieces put together
    return [{**r._asdict(), "headers": [list(h) for h in r.headers]} for r in saved]


def test_the_export_records_the_interactive_stories_answers(exported) -> None:
    root = exported.root
    saved = recordings_in(root / "canvas" / "key-input-form--openai.html")
    assert [(r["method"], r["path"], r["status"]) for r in saved] == [
        ("POST", "/api/keys/openai", 200)
    ]
    assert "OpenAI key saved: sk-D...Q7x2" in saved[0]["body"]  # the masked demo key
    assert 'data-byok-card="stored"' in saved[0]["body"]
    assert "/sandbox/" not in saved[0]["body"]  # the component's own paths, replayed again
    card = recordings_in(root / "canvas" / "key-management-card--stored-with-test.html")
    assert [(r["method"], r["path"]) for r in card] == [("DELETE", "/api/keys/anthropic")]
    refused = recordings_in(root / "canvas" / "key-input-form--custom-provider.html")[0]
    assert refused["status"] == 404  # a refusal is recorded with the headers htmx acts on
    assert ["hx-retarget", "#toast-container"] in refused["headers"]
    created = recordings_in(root / "canvas" / "create-key-form--empty.html")
    assert [(r["method"], r["path"], r["status"]) for r in created] == [
        ("POST", "/account/api-keys", 200)
    ]
    assert 'value="demo_test_recorded••••••••"' in created[0]["body"]  # the reveal, masked
    assert recordings_in(root / "canvas" / "alert--error-soft.html") == []
    recorded = [s for s in REG if recordings_in(root / "canvas" / f"{s.slug}.html")]
    assert len(recorded) >= 30


def test_no_recording_holds_a_plaintext_key(exported) -> None:
    demo = {demo_key(p) for p in (*BUILTIN_PROVIDERS, "acme-ai", "my_local_llm")}
    for canvas in (exported.root / "canvas").glob("*.html"):
        text = json.dumps(recordings_in(canvas))
        assert not any(key in text for key in demo), canvas.name
        assert not re.search(r"demo_test_[A-Za-z0-9]{20,}", text), canvas.name  # issued: masked
        assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d", text)  # times fixed


def test_gallery_entry_point_is_declared() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert 'byok-gallery = "byok_gallery.__main__:main"' in text  # the wheel's package name
    assert 'gallery = "byok_gallery.__main__:main"' in text


def test_key_overview_reads_a_real_manager_like_the_dashboard() -> None:
    """key_overview() is what the dashboard reads from a manager: its stories pass the same data."""
    from byok.components import KeyManagerDashboard, KeyOverview, key_overview
    from byok.core.storage import BYOKManager
    from byok.core.types import BYOKConfig, StorageBackend

    config = BYOKConfig(storage_backend=StorageBackend.DATABASE, require_https=False)
    manager = BYOKManager(SECRET, db_url="sqlite://", config=config)
    manager.set_key(None, "openai", "sk-proj-" + "Zz9" * 10, user_id="u1")
    overview = key_overview(None, manager, ["openai", "groq"], "u1")
    assert list(overview) == ["openai"]
    found = overview["openai"]
    assert isinstance(found, KeyOverview) and found.masked_key.endswith("9Zz9")
    assert "Zz9" * 10 not in repr(found) and not found.unreadable
    from_manager = KeyManagerDashboard(None, ["openai", "groq"], manager, "u1")
    from_data = KeyManagerDashboard(None, ["openai", "groq"], keys=overview)
    assert gallery_app.to_xml(from_manager) == gallery_app.to_xml(from_data)


def test_enum_values_are_written_by_name_in_index_json() -> None:
    entry = REG.index()["entries"]["key-input-form--extra-fields"]
    types = [f[1] for f in entry["args"]["extra_fields"]]
    assert types == [m.value for m in components.FieldType]
    assert all(not isinstance(t, Enum) for t in types)


def test_the_served_gallery_does_not_write_sesskey_in_cwd(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    gallery_app.create_app(db_url=f"sqlite:///{tmp_path / 'g.db'}", secret_key=SECRET)
    assert not (tmp_path / ".sesskey").exists()
    assert os.listdir(tmp_path) == ["g.db"] or set(os.listdir(tmp_path)) <= {
        "g.db",
        "g.db-wal",
        "g.db-shm",
    }


@settings(
    max_examples=examples(120),  # 120 in the deep profile
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_random_control_values_never_answer_500(client: TestClient, data: st.DataObject) -> None:
    story = data.draw(st.sampled_from(STORY_LIST))
    names = [p.name for p in editable(story.component)] + ["tab", "junk"]
    query = data.draw(st.lists(st.tuples(st.sampled_from(names), st.text(max_size=30)), max_size=4))
    for path in (f"/story/{story.slug}", f"/story/{story.slug}/canvas"):
        r = client.get(path, params=query, headers=HX)
        assert r.status_code in (200, 422), (path, query, r.status_code)


def test_guides_are_pages_listed_first_in_the_sidebar_and_searchable(client: TestClient) -> None:
    page = soup(client.get("/guide/choosing-a-key-form").text)
    assert page.find("h1").get_text() == "Choosing a key form"
    embeds = [f["data-src"] for f in page.select("#guide iframe.gallery-preview")]
    assert embeds == [
        "/story/key-input-form--openai/canvas",
        "/story/multi-provider-key-form--three-providers/canvas",
        "/story/inline-key-input--compact/canvas",
        "/story/key-management-card--stored-with-test/canvas",
    ]
    assert page.select_one('#guide a[href="/story/key-input-form--openai"]') is not None
    first_group = page.select_one("#story-tree > li details")
    assert first_group["data-group"] == "Guides" and first_group.has_attr("open")
    links = first_group.select("[data-guide-link]")
    assert [a.get_text() for a in links][:2] == [
        "Choosing a key form",
        "Telling the user what happened",
    ]
    assert "toasts" in links[1].find_parent("li")["data-search"]  # its headings are searched
    index = soup(client.get("/").text)
    assert index.select_one("#story-tree [data-guide-link=telling-the-user]") is not None
    assert client.get("/guide/nothing-here").status_code == 404


def test_a_guide_naming_an_unknown_story_says_so_in_its_place(tmp_path: Path) -> None:
    path = tmp_path / "typo.md"
    path.write_text('# Typo\n\nBefore.\n\n{{ story "alert--no-such" }}\n\nAfter.\n')
    html = gallery_app.to_xml(guide_page(gallery_app.LIVE, Guide("typo", "Typo", path), REG))
    assert "No story 'alert--no-such' to show here." in html and "alert-warning" in html
    assert html.index("Before.") < html.index("No story") < html.index("After.")
    assert "{{" not in html


def test_the_export_writes_guides_with_relative_links(exported) -> None:
    page = (exported.root / "guide" / "choosing-a-key-form.html").read_text()
    assert 'data-src="../canvas/key-input-form--openai.html"' in page
    assert 'href="../story/key-input-form--openai.html"' in page
