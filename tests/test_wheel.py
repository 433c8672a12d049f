"""The built wheel, in a fresh virtualenv with no checkout: it installs `byok` and the gallery as
`byok_gallery` (no bare `gallery`), ships byok.css, byok.js and htmx, and serves a styled page.

Offline: the wheel is built with `uv build --offline` and installed with the project's locked
dependencies (`uv export --frozen`) from uv's cache, with no resolution (`--no-deps`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import ROOT, free_port, unavailable

APP = """
import byok, byok.components as bc
from fasthtml.common import Main, fast_app
from byok.components import KeyManagementCard, front_end

assets = front_end()
app, rt = fast_app(pico=False, default_hdrs=False, hdrs=assets.headers(), secret_key="s" * 32)
assets.serve(app)


@rt("/")
def index():
    card = KeyManagementCard("openai", True, "sk-...abcd", delete_action="/x", update_action="/x")
    return Main(card, data_byok_file=byok.__file__, cls="p-6")
"""


@contextlib.contextmanager
def serving(python: Path, folder: Path, module: str) -> Iterator[str]:
    """`uvicorn module:app` from the fresh venv in `folder` (no checkout in sight); its URL."""
    port = free_port()
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(
        [str(python), "-m", "uvicorn", f"{module}:app", "--port", str(port)],
        cwd=folder,
        env=clean_env(folder),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a loaded machine imports slowly
        while True:
            assert proc.poll() is None, (folder / "server.log").read_text()
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the app did not start"
                time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def run(*cmd: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    res = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert res.returncode == 0, f"{' '.join(cmd)}\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}"
    return res.stdout


def clean_env(tmp: Path) -> dict[str, str]:
    """An environment that cannot see the checkout (no PYTHONPATH, no project venv)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "XDG_DATA_HOME": str(tmp / "data"), "HOME": str(tmp / "home")}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(the wheel, the venv's python) — built and installed once for this module."""
    uv = shutil.which("uv")
    if uv is None:
        unavailable("uv not found on PATH")
    tmp = tmp_path_factory.mktemp("wheel")
    run(uv, "build", "--offline", "--wheel", "--out-dir", str(tmp / "dist"))
    (wheel,) = (tmp / "dist").glob("*.whl")
    venv = tmp / "venv"
    # the locked dependencies (uv.lock names each wheel's URL, so its cache serves them offline;
    # `uv pip install -r` would need the index pages cached, which a fresh machine lacks), then
    # the wheel alone, as a user installs it: nothing of the checkout goes into the venv
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)}
    sync = ("sync", "--frozen", "--offline", "--no-dev", "--no-install-project")
    run(uv, *sync, "--python", sys.executable, env=env)
    python = venv / "bin" / "python"
    run(uv, "pip", "install", "--offline", "--no-deps", "--python", str(python), str(wheel))
    run(uv, "pip", "check", "--python", str(python))  # the locked set is complete and consistent
    yield wheel, python


def test_wheel_holds_byok_the_gallery_under_its_own_name_and_the_assets(installed) -> None:
    wheel, _ = installed
    assert wheel.name.startswith("byok_fasthtml-")  # "byok" on the package index is another project
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if "/" in n and ".dist-info" not in n}
    assert tops == {"byok", "byok_gallery"}
    for path in (
        "byok/components/static/byok.css",
        "byok/components/static/byok-full.css",
        "byok/components/static/byok.js",
        "byok/components/static/htmx.min.js",
        "byok/components/static/THIRD-PARTY-LICENSES.txt",
        "byok/components/static/byok-classes.txt",
        "byok_gallery/static/gallery.js",
        "byok_gallery/static/gallery-byok.css",
        "byok_gallery/stories/alerts.py",
        "byok_gallery/stories/guides/01-choosing-a-key-form.md",  # the guides ship too
        "byok_gallery/static/compose.js",
        "byok_gallery/static/play.js",  # the play runner, and the steps it runs
        "byok_gallery/play/steps.py",
        "byok_gallery/testing.py",
    ):
        assert path in names, path
    gallery = ROOT / "gallery"  # every module (subpackages too) and every static file ships
    shipped = {
        "byok_gallery/" + p.relative_to(gallery).as_posix()
        for p in [*gallery.rglob("*.py"), *(gallery / "static").iterdir()]
        if not p.name.startswith(("_build_hook", "_editable_alias"))
    }
    assert shipped <= set(names), sorted(shipped - set(names))
    assert {"byok_gallery/model/registry.py", "byok_gallery/ui/pages.py"} <= shipped
    assert not [n for n in names if "_editable_alias" in n or "_build_hook" in n]
    with zipfile.ZipFile(wheel) as z:
        for name in ("byok.css", "byok-full.css"):
            assert (
                z.read(f"byok/components/static/{name}")
                == (ROOT / "byok/components/static" / name).read_bytes()
            )
        entry_points = z.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "byok-gallery = byok_gallery.__main__:main" in entry_points


def test_fresh_venv_imports_from_site_packages_with_no_bare_gallery(installed, tmp_path) -> None:
    _, python = installed
    out = run(
        str(python),
        "-c",
        "import byok, byok_gallery, byok_gallery.model.registry as r, importlib.util as u;"
        "print(byok.__file__); print(byok_gallery.__file__); print(r.DEFAULT_STORIES);"
        "print(u.find_spec('gallery')); print(len(r.registry()))",
        cwd=tmp_path,
        env=clean_env(tmp_path),
    ).split()
    site = str(python.parent.parent)
    assert out[0].startswith(site) and out[1].startswith(site)
    assert out[2] == "byok_gallery.stories" and out[3] == "None" and int(out[4]) > 50


def test_fresh_venv_gallery_command_exports_styled_pages(installed, tmp_path) -> None:
    _, python = installed
    gallery = python.parent / "byok-gallery"
    run(str(gallery), "export", str(tmp_path / "site"), cwd=tmp_path, env=clean_env(tmp_path))
    page = (tmp_path / "site" / "story" / "alert--error-soft.html").read_text()
    assert 'href="../assets/byok.css"' in page and "cdn" not in page
    css = (tmp_path / "site" / "assets" / "byok.css").read_bytes()  # the gallery's own build
    assert css == (ROOT / "gallery/static/gallery-byok.css").read_bytes()


def test_fresh_venv_serves_a_styled_page_offline(installed, tmp_path, page) -> None:
    _, python = installed
    (tmp_path / "shop.py").write_text(APP)
    with serving(python, tmp_path, "shop") as base:
        seen: list[tuple[str, int]] = []
        page.on("response", lambda r: seen.append((r.url, r.status)))
        page.goto(base + "/")
        page.wait_for_function("window.byokLoaded === true && !!window.htmx")
        byok_file = page.locator("main").get_attribute("data-byok-file")
        assert byok_file.startswith(str(python.parent.parent))  # not the checkout
        card = page.locator("#byok-card-openai")
        styles = card.evaluate(
            "el => { const s = getComputedStyle(el); return [s.borderTopLeftRadius, s.display,"
            " getComputedStyle(el.querySelector('.btn')).backgroundColor]; }"
        )
        assert styles[0] not in ("", "0px") and styles[1] == "flex"  # daisyUI's .card
        assert styles[2] not in ("", "rgba(0, 0, 0, 0)")  # .btn-primary has its colour
        assert {u for u, _ in seen} == {
            base + "/",
            base + "/byok/byok.css",
            base + "/byok/htmx.js",
            base + "/byok/byok.js",
        }
        assert all(status == 200 for _, status in seen), seen


# A newcomer's app, as the README and the docs write it: one `hdrs=` argument for the styles
# (FastHTML's defaults, Pico included, left on), the user told once (setup_byok's user_id_func and
# login_url), the gallery's Code-tab snippet pasted into a page, an "API keys" page under the
# app's KeyPolicy, and an API route behind require_scopes.
NEWCOMER = """
from fasthtml.common import Main, Redirect, Titled, fast_app

{imports}
from byok.components import front_end
from byok.issuing import KeyIssuer, KeyPolicy, RateLimit, mount_issuing_routes, require_scopes
from byok.middleware import setup_byok
from byok.routes import mount_key_routes

SECRET = "newcomer-secret-0123456789abcdef"


def signed_in(req):
    return req.session.get("user")


before, byok = setup_byok(
    SECRET, db="sqlite:///keys.db", user_id_func=signed_in, login_url="/login"
)
app, rt = fast_app(before=before, secret_key=SECRET, hdrs=front_end().headers())
mount_key_routes(app, byok, providers=["openai"])
issuer = KeyIssuer("sqlite:///issued.db", signing_secret=SECRET)
mount_issuing_routes(
    app,
    issuer,
    scopes={{"notes:read": "Read your notes"}},
    key_policy=KeyPolicy(rate_limit=RateLimit(5, "minute"), max_keys=3),
)


@rt("/login")
def login(req):
    req.session["user"] = "ada"  # the app's own sign-in, reduced to one line
    return Redirect(req.query_params.get("next") or "/")


@rt("/")
def index():
    return Titled("Settings", Main({snippet}))


@rt("/api/notes")
@require_scopes(issuer, "notes:read")
def notes():
    return {{"notes": []}}
"""


def test_a_newcomers_app_from_the_wheel_works_end_to_end(installed, tmp_path, page) -> None:
    from gallery.model.registry import registry
    from tests.support.browser import PICO, REMOTE, cdn

    if not PICO.is_file():
        unavailable("node_modules/@anyblades/pico missing: run `npm ci`")
    _, python = installed
    code = registry().get("key-input-form--openai").snippet().strip().splitlines()
    imports = "\n".join(line for line in code if line.startswith(("from ", "import ")))
    snippet = code[-1]  # exactly what the Code tab shows
    assert snippet == 'KeyInputForm(provider="openai")'
    app = NEWCOMER.format(imports=imports, snippet=snippet)
    (tmp_path / "newcomer.py").write_text(app)
    with serving(python, tmp_path, "newcomer") as base:
        page.route(REMOTE, cdn(pico=True))  # fast_app's CDN links, answered locally
        statuses: dict[str, int] = {}
        page.on("response", lambda r: statuses.__setitem__(r.url, r.status))
        # signed out: the dashboard sends the user to the app's login, which comes back
        page.goto(base + "/api/keys")
        assert statuses.get(base + "/login?next=/api/keys") == 303, statuses
        assert page.url == base + "/api/keys"
        # the pasted form: a refused key's message beside it, then a saved key
        page.goto(base + "/")
        page.wait_for_function("window.byokLoaded === true && !!window.htmx")
        form = page.locator("form[id^=byok-form]")
        form.get_by_label("OpenAI API key").fill("not-an-openai-key")
        form.get_by_role("button", name="Save key").click()
        message = form.locator("[role=alert]")
        expect(message).to_contain_text("sk-")  # the format it expected, next to the field
        form.get_by_label("OpenAI API key").fill("sk-proj-" + "N3wc0mer" * 5)
        form.get_by_role("button", name="Save key").click()
        expect(form).to_contain_text("OpenAI key saved")
        # styled by byok.css with Pico left on: byok's button is daisyUI's, not Pico's
        assert any("pico" in u for u in statuses), "Pico was left on"
        assert statuses[base + "/byok/byok.css"] == 200
        button = form.get_by_role("button", name="Save key")
        assert button.evaluate("el => getComputedStyle(el).marginBottom") == "0px"
        assert button.evaluate("el => getComputedStyle(el).backgroundColor") != "rgb(1, 114, 173)"
        page.goto(base + "/api/keys")
        expect(page.locator("#byok-card-openai")).to_contain_text("sk-p")  # stored, masked
        # the API-keys page under the app's policy: no rate to choose; the key gets 5/minute
        page.goto(base + "/account/api-keys")
        expect(page.get_by_label("Name")).to_be_visible()
        assert page.locator("[name=rate_requests]").count() == 0
        page.get_by_label("Name").fill("Laptop")
        page.get_by_label(re.compile("Read your notes")).check()
        page.get_by_role("button", name="Create key").click()
        plaintext = page.locator("#byok-issued-plaintext").input_value()
        assert plaintext
        answer = httpx.get(base + "/api/notes", headers={"Authorization": f"Bearer {plaintext}"})
        assert answer.status_code == 200 and answer.json() == {"notes": []}
        assert answer.headers["RateLimit-Limit"] == "5"
        assert answer.headers["RateLimit-Remaining"] == "4"
        assert "RateLimit-Reset" in answer.headers and "RateLimit-Policy" in answer.headers
