"""A Storybook 9 build of byok's stories, for the gallery benchmark (`bench/gallery_browser.py`).

`storybook` and `@storybook/html-vite` 9.1.20 (and vite) are installed from npm into a cache
folder (`~/.cache/byok-bench/`, never the project's package.json), one html story per HTML
snapshot (`tests/snapshots/__snapshots__/`: the story returns the snapshot's markup, styled by
byok.css), built once per set of snapshots with `storybook build` and served by a static file
server on 127.0.0.1. One story (`CONTROL`) takes an argument with a text control, so a control
change can be timed against the gallery's.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from bench.servers import process_server

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = ROOT / "tests" / "snapshots" / "__snapshots__" / "test_stories"
CACHE = Path(os.environ.get("BYOK_BENCH_CACHE", Path.home() / ".cache" / "byok-bench"))
PACKAGES = {  # exact versions: the Storybook the issue measured (9.1.20, not 9.1.21)
    "storybook": "9.1.20",
    "@storybook/html-vite": "9.1.20",
    "vite": "7.3.8",
}
_HEAD = re.compile(r"<!-- (?P<slug>[^:]+): (?P<title>.+) · (?P<name>.+) -->\n")


class Control(NamedTuple):
    """The story whose argument the benchmark changes, on both sides."""

    slug: str  # the gallery's story slug
    arg: str  # the argument's name (the gallery's control and Storybook's)
    value: str  # its value in the story (replaced in Storybook's markup by the argument)


CONTROL = Control("alert--with-title", "title", "No API key yet")


class SnapshotStory(NamedTuple):
    """One HTML snapshot: the gallery's story slug, its Storybook title and name, its markup."""

    slug: str  # e.g. "alert--error-soft"
    title: str  # e.g. "Feedback/Alert"
    name: str  # e.g. "Error, soft"
    html: str  # the story's exact HTML


def snapshot_stories(folder: Path = SNAPSHOTS) -> list[SnapshotStory]:
    """Every story snapshot in `folder`, sorted by slug."""
    out = []
    for path in sorted(folder.glob("test_story_html[[]*[]].html")):
        text = path.read_text(encoding="utf-8")
        head = _HEAD.match(text)
        if head is None:
            raise ValueError(f"{path.name}: no '<!-- slug: title · name -->' first line")
        html = text[head.end() :].rstrip("\n")
        out.append(SnapshotStory(head["slug"], head["title"], head["name"], html))
    return out


def _story_module(title: str, stories: list[SnapshotStory]) -> str:
    """One CSF file: a title and one html story per snapshot (markup in a marked wrapper)."""
    lines = [f"export default {{ title: {json.dumps(title)} }};", ""]
    for i, s in enumerate(stories):
        html = f'<div data-bench-story="{s.slug}">{s.html}</div>'
        if s.slug == CONTROL.slug:
            marker = f">{CONTROL.value}<"
            if marker not in html:
                raise ValueError(f"{s.slug}: {CONTROL.value!r} not found in its snapshot")
            before, after = html.split(marker, 1)
            lines += [
                'const escape = (t) => String(t).replace(/[&<>"]/g, (c) =>',
                '  ({"&": "&amp;", "<": "&lt;", ">": "&gt;", \'"\': "&quot;"})[c]);',
                f"export const S{i} = {{",
                f"  name: {json.dumps(s.name)},",
                f"  args: {{ {CONTROL.arg}: {json.dumps(CONTROL.value)} }},",
                f'  argTypes: {{ {CONTROL.arg}: {{ control: "text" }} }},',
                f"  render: (args) => {json.dumps(before + '>')} + escape(args.{CONTROL.arg})"
                f" + {json.dumps('<' + after)},",
                "};",
            ]
        else:
            lines.append(
                f"export const S{i} = {{ name: {json.dumps(s.name)}, "
                f"render: () => {json.dumps(html)} }};"
            )
    return "\n".join(lines) + "\n"


def project_files(stories: list[SnapshotStory], css: Path) -> dict[str, str]:
    """Relative path -> text of the Storybook project (config, stories); byok.css is copied."""
    by_title: dict[str, list[SnapshotStory]] = defaultdict(list)
    for s in stories:
        by_title[s.title].append(s)
    files = {
        ".storybook/main.js": (
            "export default {\n"
            '  stories: ["../stories/*.stories.js"],\n'
            '  framework: { name: "@storybook/html-vite", options: {} },\n'
            '  staticDirs: ["../static"],\n'
            "  core: { disableTelemetry: true, disableWhatsNewNotifications: true },\n"
            "};\n"
        ),
        ".storybook/preview-head.html": '<link rel="stylesheet" href="./byok.css">\n',
        ".storybook/manager.js": (  # the manager's API, for a story in a collapsed component
            'import { addons } from "storybook/manager-api";\n'
            'addons.register("byok-bench", (api) => { window.__benchApi = api; });\n'
        ),
    }
    for i, (title, group) in enumerate(sorted(by_title.items())):
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        files[f"stories/{i:02d}-{slug}.stories.js"] = _story_module(title, group)
    files["static/.css-hash"] = hashlib.sha256(css.read_bytes()).hexdigest()
    return files


def _npm(args: list[str], cwd: Path) -> None:
    subprocess.run(["npm", *args], cwd=cwd, check=True, stdout=sys.stderr)


def install(cache: Path = CACHE) -> Path:
    """The folder with Storybook's packages installed (npm, once per PACKAGES)."""
    tag = "-".join(f"{k.split('/')[-1]}{v}" for k, v in PACKAGES.items())
    folder = cache / f"storybook-{tag}"
    if (folder / "node_modules" / ".bin" / "storybook").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    package = {"name": "byok-bench-storybook", "private": True, "type": "module"}
    package["dependencies"] = PACKAGES
    (folder / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    print(f"installing {', '.join(f'{k}@{v}' for k, v in PACKAGES.items())} …", file=sys.stderr)
    _npm(["install", "--no-audit", "--no-fund", "--loglevel=error"], folder)
    return folder


def build(
    css: Path,  # byok.css (the prebuilt stylesheet the gallery's canvas uses)
    cache: Path = CACHE,  # where the packages and builds are kept
) -> Path:
    """The static Storybook build of the snapshot stories (built once per snapshots and css)."""
    packages = install(cache)
    files = project_files(snapshot_stories(), css)
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]
    project = packages / "builds" / digest
    out = project / "storybook-static"
    if (out / "index.json").is_file():
        return out
    if project.exists():
        shutil.rmtree(project)
    for rel, text in files.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(text, encoding="utf-8")
    shutil.copyfile(css, project / "static" / "byok.css")
    (project / "node_modules").symlink_to(packages / "node_modules")
    print(f"building Storybook ({len(snapshot_stories())} stories) …", file=sys.stderr)
    env = {**os.environ, "STORYBOOK_DISABLE_TELEMETRY": "1", "CI": "true"}
    cmd = [str(packages / "node_modules" / ".bin" / "storybook"), "build", "--quiet"]
    cmd += ["--disable-telemetry", "-o", str(out)]
    subprocess.run(cmd, cwd=project, env=env, check=True, stdout=sys.stderr)
    return out


def story_ids(out: Path) -> dict[str, str]:
    """Gallery slug -> Storybook story id, from the build's index.json (by title and name)."""
    entries = json.loads((out / "index.json").read_text())["entries"].values()
    by_name = {(e["title"], e["name"]): e["id"] for e in entries if e.get("type") == "story"}
    return {s.slug: by_name[(s.title, s.name)] for s in snapshot_stories()}


@contextmanager
def serve(
    out: Path,  # the static build
    port: int,  # a free port on 127.0.0.1
) -> Iterator[str]:
    """A static file server for the build; yields its base URL."""
    cmd = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    with process_server([*cmd, "--directory", str(out)], port, ready="/index.json") as base:
        yield base
