"""The documentation cannot rot: every ```python block of docs/**/*.md and README.md runs, and the
site builds with `mkdocs build --strict`, offline.

A block runs in a fresh namespace, in a temporary working directory (so the SQLite files it makes
land there), with the environment a deployment would give it (APP_SECRET, BYOK_SECRET,
BYOK_SECRET_V1; DATABASE_URL, pointing at a throwaway PostgreSQL, and MYSQL_URL, at a throwaway
MariaDB, only for the blocks that read them), restored afterwards.
A block preceded by `<!-- no-run -->` (one that starts a server) is only compiled.
"""

from __future__ import annotations

import ast
import html
import os
import re
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCS = ROOT / "docs"
NO_RUN = "<!-- no-run -->"  # marker on the line before a block that must only be compiled
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```python[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S
)
DOC_ENV = {  # what the examples read from the environment, as a deployment would set it
    "APP_SECRET": "docs-example-app-secret-0123456789abcdef",
    "BYOK_SECRET": "docs-example-byok-secret-0123456789abcdef",
    "BYOK_SECRET_V1": "docs-example-old-secret-0123456789abcdef",
}
MAX_NO_RUN = 4  # "sparingly": a few server-starting blocks at most


@dataclass(frozen=True)
class Block:
    """One fenced Python block of a page."""

    path: Path  # the markdown file
    line: int  # 1-based line of the opening fence
    code: str  # the dedented source
    run: bool  # False when marked no-run (compile only)

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def doc_pages() -> list[Path]:
    """README.md and every markdown page of the site."""
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def extract(path: Path) -> list[Block]:
    """The python blocks of one markdown file, in order (indented ones, e.g. in tabs, too)."""
    text = path.read_text(encoding="utf-8")
    blocks = []
    for m in FENCE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        before = [ln.strip() for ln in text[: m.start()].splitlines() if ln.strip()]
        body = textwrap.dedent(m.group("body"))
        blocks.append(Block(path, line, body, run=not (before and before[-1] == NO_RUN)))
    return blocks


BLOCKS = [b for p in doc_pages() for b in extract(p)]


def test_blocks_are_found() -> None:
    """The extractor finds the examples (a broken regex would make every test below vacuous)."""
    pages = {b.path.name for b in BLOCKS}
    assert {"README.md", "index.md", "getting-started.md", "storage.md", "security.md"} <= pages
    assert len(BLOCKS) >= 20
    assert sum(not b.run for b in BLOCKS) <= MAX_NO_RUN


def test_extract_handles_markers_and_indentation(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# t\n\n```python\nx = 1\n```\n\n<!-- no-run -->\n```python\nserve()\n```\n\n"
        '=== "Tab"\n\n    ```python\n    y = 2\n    ```\n\n```bash\nls\n```\n'
    )
    got = [(b.line, b.code, b.run) for b in extract(page)]
    assert got == [(3, "x = 1\n", True), (8, "serve()\n", False), (14, "y = 2\n", True)]


@pytest.fixture
def example_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A temporary working directory and the examples' environment; everything restored after."""
    saved_env = dict(os.environ)
    saved_path = list(sys.path)
    monkeypatch.chdir(tmp_path)
    os.environ.update(DOC_ENV)
    import uvicorn

    def no_server(*args, **kwargs):
        raise AssertionError("a docs example tried to start a server: mark it <!-- no-run -->")

    monkeypatch.setattr(uvicorn, "run", no_server)
    yield tmp_path
    os.environ.clear()
    os.environ.update(saved_env)
    sys.path[:] = saved_path


@pytest.mark.filterwarnings("ignore::byok.core.types.SecurityWarning")  # plain-HTTP test client
@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_example(block: Block, example_env: Path, request: pytest.FixtureRequest) -> None:
    """Every docs example compiles; every one not marked no-run also runs without error."""
    # padded so that tracebacks point at the real line of the markdown file
    code = compile("\n" * block.line + block.code, str(block.path), "exec")
    if not block.run:
        return
    if "DATABASE_URL" in block.code:  # the PostgreSQL examples get a real PostgreSQL
        os.environ["DATABASE_URL"] = request.getfixturevalue("pg_url")
    if "MYSQL_URL" in block.code:  # the MySQL examples get a real MariaDB
        os.environ["MYSQL_URL"] = request.getfixturevalue("mariadb_url")
    namespace = {"__name__": "__docs_example__", "__file__": str(example_env / "example.py")}
    exec(code, namespace)


def test_no_run_blocks_parse() -> None:
    """no-run blocks are still valid Python (ast-checked here as well as compiled above)."""
    for b in BLOCKS:
        if not b.run:
            ast.parse(b.code, filename=b.id)


# --------------------------------------------------------------------------- site build

OFFLINE_ENV = {  # any attempt to fetch over HTTP(S) goes to a closed port and fails
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "no_proxy": "",
    "NO_PROXY": "",
    "NO_MKDOCS_2_WARNING": "1",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once with `mkdocs build --strict` and no network."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, **OFFLINE_ENV}
    start = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    elapsed = time.perf_counter() - start
    assert res.returncode == 0, f"mkdocs build --strict failed:\n{res.stdout}\n{res.stderr}"
    assert "WARNING" not in res.stderr, res.stderr
    print(f"mkdocs build --strict: {elapsed:.2f} s")
    return out


def test_site_builds_strict_offline(site: Path) -> None:
    """Every page of the nav is built."""
    for page in sorted(DOCS.rglob("*.md")):
        rel = page.relative_to(DOCS).with_suffix("")
        target = site / "index.html" if rel.name == "index" and rel.parent == Path() else None
        if target is None:
            target = (
                site / rel.parent / "index.html"
                if rel.name == "index"
                else site / rel / "index.html"
            )
        assert target.is_file(), f"{page} was not built"


def test_site_loads_nothing_remote(site: Path) -> None:
    """No web fonts, CDN scripts or stylesheets: the built site works offline too."""
    remote = re.compile(r"""<(?:script|link)[^>]+(?:src|href)=["']https?://""", re.I)
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not remote.search(text), f"{page} loads a remote resource"
        assert "fonts.googleapis.com" not in text and "fonts.gstatic.com" not in text


def _inline_comment(path: Path, func: str, param: str) -> str:
    """The inline comment of one parameter in byok's source (what the API pages must show)."""
    import io
    import tokenize

    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    node = next(
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == func
    )
    arg = next(a for a in [*node.args.args, *node.args.kwonlyargs] if a.arg == param)
    line = source.splitlines()[arg.end_lineno - 1]
    tokens = tokenize.generate_tokens(io.StringIO(line + "\n").readline)
    return next(t.string for t in tokens if t.type == tokenize.COMMENT).lstrip("#").strip()


@pytest.mark.parametrize(
    ("module", "page", "func", "param"),
    [
        ("byok/core/storage/manager.py", "reference/storage", "set_key", "api_key"),
        ("byok/core/masking.py", "reference/security", "mask_key", "visible_chars"),
    ],
)
def test_api_reference_shows_parameter_comments(
    site: Path, module: str, page: str, func: str, param: str
) -> None:
    """The API pages render each parameter's inline `# comment` as its description."""
    comment = _inline_comment(ROOT / module, func, param)
    built = (site / page / "index.html").read_text(encoding="utf-8")
    assert html.escape(comment, quote=False) in built or comment in built


def test_components_page_covers_every_component() -> None:
    """components.md has, for every public component: a section, a picture and a gallery link."""
    from byok.components import COMPONENTS
    from gallery.model.registry import registry

    text = (DOCS / "components.md").read_text(encoding="utf-8")
    headings = {
        name.strip()
        for line in text.splitlines()
        if line.startswith("### ")
        for name in line[4:].split(",")
    }
    slug_of = {component: slug for slug, component, _ in registry().components()}
    for component in COMPONENTS:
        name, slug = component.__name__, slug_of[component]
        assert name in headings, f"components.md has no section for {name}"
        assert f"](gallery/component/{slug}.html)" in text, f"no gallery link for {name}"
        picture = DOCS / "assets" / "components" / f"{slug}.png"
        assert f"](assets/components/{slug}.png)" in text and picture.is_file(), name


def test_pictures_are_real_screenshots() -> None:
    """The pictures are PNG screenshots (docs/_ext/screenshots.py), not placeholders."""
    for picture in [
        DOCS / "assets" / "gallery.png",
        *(DOCS / "assets" / "components").glob("*.png"),
    ]:
        data = picture.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), picture
        assert len(data) > 1000, f"{picture} is suspiciously small"


def _byok_imports(path: Path) -> set[str]:
    """The byok modules a source file imports (relative imports resolved), any depth."""
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("byok")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name.startswith("byok"):
                found.add(name)
    return found


def _group(module: str) -> str:
    """The architecture page's name for a module: core.<x>, utils.helpers, components, …"""
    parts = module.split(".")[1:]
    if not parts:
        return "byok"
    if parts[0] in ("core", "utils") and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def test_architecture_import_table_is_true() -> None:
    """docs/architecture.md's 'who imports whom' table matches the imports in byok/."""
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    table = text.split("## Who imports whom", 1)[1].split("```text", 1)[1].split("```", 1)[0]
    allowed: dict[str, set[str]] = {}
    for line in table.strip().splitlines():
        name, _, rest = line.partition(" ")
        deps = rest.split("←", 1)[1] if "←" in rest else ""
        allowed[name.removesuffix(".*")] = {d.strip().removesuffix(".*") for d in deps.split(",")}
    for path in sorted((ROOT / "byok").rglob("*.py")):
        group = _group(".".join(path.relative_to(ROOT).with_suffix("").parts))
        if group not in allowed:
            continue  # byok/__init__.py and package __init__ files re-export
        for target in _byok_imports(path):
            dep = _group(target)
            ok = (
                dep == group
                or dep in allowed[group]
                or (dep.startswith("core.") and "core" in allowed[group])
            )
            assert ok, f"{path.relative_to(ROOT)} imports {target}: not in architecture.md"
    crypto_users = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "byok").rglob("*.py")
        if "cryptography" in p.read_text(encoding="utf-8")
    ]
    assert crypto_users == ["byok/core/security.py"]


DOC_BLOCKS = [b for b in BLOCKS if b.path.parent == DOCS]


@pytest.fixture(scope="module")
def ruff_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Problems ruff finds in each docs example (format for the page's width, then lint), by id.

    One ruff run over all examples (written as files) instead of two processes per example.
    """
    root = tmp_path_factory.mktemp("examples")
    files = {}
    for n, block in enumerate(DOC_BLOCKS):
        path = root / f"example_{n:03d}.py"
        path.write_text(block.code, encoding="utf-8")
        files[path.name] = block.id
    ruff = [sys.executable, "-m", "ruff"]
    common = ["--isolated", "--line-length", "88"]
    report = dict.fromkeys(files.values(), "")
    fmt = subprocess.run(
        [*ruff, "format", "--check", *common, str(root)], cwd=ROOT, capture_output=True, text=True
    )
    for line in fmt.stdout.splitlines():
        for name, block_id in files.items():
            if name in line:
                report[block_id] += f"not ruff-formatted for 88 columns: {line}\n"
    # F811: FastHTML's style names several handlers get/post on purpose
    rules = ["--select", "F,I,B,UP,SIM", "--ignore", "F811", "--output-format", "concise"]
    lint = subprocess.run(
        [*ruff, "check", *common, *rules, str(root)], cwd=ROOT, capture_output=True, text=True
    )
    for line in lint.stdout.splitlines():
        for name, block_id in files.items():
            if name in line:
                report[block_id] += line + "\n"
    assert fmt.returncode in (0, 1) and lint.returncode in (0, 1), fmt.stderr + lint.stderr
    return report


@pytest.mark.parametrize("block", DOC_BLOCKS, ids=lambda b: b.id)
def test_example_is_tidy(block: Block, ruff_report: dict[str, str]) -> None:
    """Docs examples are ruff-formatted for the page's width and lint-clean (copied as is)."""
    assert not ruff_report[block.id], ruff_report[block.id]


REFERENCE_MODULES = (  # cjm-fasthtml-byok 0.0.3's modules; byok keeps the same paths
    "core.types",
    "core.security",
    "core.storage",
    "components.alerts",
    "components.forms",
    "middleware.beforeware",
    "utils.helpers",
)


@pytest.mark.parametrize("module", REFERENCE_MODULES)
def test_migration_table_lists_every_reference_name(module: str) -> None:
    """Every public name of the reference is in the migration guide and importable from byok."""
    import importlib

    reference = importlib.import_module(f"cjm_fasthtml_byok.{module}")
    ours = importlib.import_module(f"byok.{module}")
    page = (DOCS / "migration.md").read_text(encoding="utf-8")
    section = page.split(f"### `{module}`", 1)[1].split("\n### ", 1)[0]
    for name in reference.__all__:
        listed = re.search(rf"`{re.escape(name)}[`(]", section)
        assert listed, f"migration.md: {module}.{name} is not in its table"
        assert hasattr(ours, name), f"byok.{module} lacks {name}"


def test_provider_table_is_the_registry() -> None:
    """docs/providers.md lists every registry provider with its check's request and source."""
    from byok.core.providers import BUILTIN_PROVIDERS

    text = (DOCS / "providers.md").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.startswith("| `")]
    rows = {line.split("|")[1].strip().strip("`"): line for line in lines}
    assert set(rows) >= set(BUILTIN_PROVIDERS)
    for pid, info in BUILTIN_PROVIDERS.items():
        assert f"`{info.check.describe()}`" in rows[pid], pid
        assert f"({info.check.source})" in rows[pid], pid
        assert (info.api_base or "the key's base URL") in rows[pid], pid


_DIRECTIVE = re.compile(r"^::: (\S+)\n((?:[ \t]+\S.*\n?)*)", re.M)  # `::: path` + its options


def _reference_pages() -> list[tuple[str, str]]:
    """(page, first documented path) of every API reference page with `::: path` directives."""
    pages = []
    for md in sorted((DOCS / "reference").glob("*.md")):
        found = _DIRECTIVE.search(md.read_text(encoding="utf-8"))
        if found:
            pages.append((md.stem, found.group(1)))
    return pages


def _documented(page: str) -> list[str]:
    """The heading ids a reference page must have: for each directive, the members it lists, else
    every name in its module's `__all__`, else (a class or function) the object itself."""
    import importlib

    ids = []
    for path, options in _DIRECTIVE.findall((DOCS / "reference" / f"{page}.md").read_text("utf-8")):
        listed = re.findall(r"^\s+- (\w+)\s*$", options, re.M)
        try:
            names = listed or importlib.import_module(path).__all__
        except ModuleNotFoundError:  # a class or function path: its own heading
            ids.append(path)
            continue
        ids += [f"{path}.{n}" for n in names]
    return ids


RAW_TAGS = ["script", "style", "details", "summary", "time", "head", "body", "form", "input"]


@pytest.mark.parametrize(("page", "module"), _reference_pages())
def test_reference_page_renders_every_documented_name(site: Path, page: str, module: str) -> None:
    """Every documented name has its heading, and no raw HTML from a docstring or comment
    swallows part of the page (a `<script>` hides what follows, a `<details>` folds a table)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(
        (site / "reference" / page / "index.html").read_text("utf-8"), "html.parser"
    )
    missing = [i for i in _documented(page) if soup.find(id=i) is None]
    assert not missing, f"{page}: no heading for {missing}"
    contents = soup.select("div.doc-contents")
    assert contents, f"{page}: no API contents"
    raw = {t.name for block in contents for t in block.find_all(RAW_TAGS)}
    assert not raw, f"{page}: raw HTML in the API text: {sorted(raw)}"
