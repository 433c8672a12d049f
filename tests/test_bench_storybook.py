"""The Storybook side of the gallery benchmark, without npm: every HTML snapshot becomes a story
whose markup is the snapshot's, the control story takes its argument, the generated modules are
valid JavaScript, and the table judges byok ÷ Storybook against the issue's bars."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bench.gallery_browser import METRICS, table
from bench.storybook import CONTROL, SNAPSHOTS, project_files, snapshot_stories
from gallery.model.registry import registry
from gallery.ui.assets import locate


def test_every_snapshot_becomes_a_story_with_its_markup() -> None:
    stories = snapshot_stories()
    assert len(stories) == len(list(SNAPSHOTS.glob("*.html"))) == len(registry())
    assert {s.slug for s in stories} == {s.slug for s in registry()}
    by_slug = {s.slug: s for s in registry()}
    for s in stories:
        assert s.html == by_slug[s.slug].render()
        assert s.title == by_slug[s.slug].title and s.name == by_slug[s.slug].name
    files = project_files(stories, locate().files()["byok.css"])
    modules = "".join(text for rel, text in files.items() if rel.startswith("stories/"))
    for s in stories:
        if s.slug != CONTROL.slug:
            assert json.dumps(f'<div data-bench-story="{s.slug}">{s.html}</div>') in modules
    assert '"@storybook/html-vite"' in files[".storybook/main.js"]
    assert f'argTypes: {{ {CONTROL.arg}: {{ control: "text" }} }}' in modules


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_generated_story_modules_are_valid_javascript(tmp_path: Path) -> None:
    files = project_files(snapshot_stories(), locate().files()["byok.css"])
    for rel, text in files.items():
        if rel.endswith(".js"):
            path = tmp_path / (Path(rel).stem + ".mjs")
            path.write_text(text)
            subprocess.run(["node", "--check", str(path)], check=True)


def test_the_table_gives_ratios_and_judges_the_bars() -> None:
    samples = {
        "byok": {"cold": [100.0], "small": [50.0], "dashboard": [200.0], "control": [30.0]},
        "Storybook 9": {
            "cold": [1000.0],
            "small": [100.0],
            "dashboard": [100.0],
            "control": [60.0],
        },
    }
    text = table(samples)
    lines = {line.split("  ")[0]: " ".join(line.split()) for line in text.splitlines()}
    assert lines[METRICS[0].label].endswith("0.10× ≤ 0.2× pass")
    assert lines[METRICS[2].label].endswith("2.00× ≤ 1× FAIL")
    assert lines[METRICS[3].label].endswith("0.50× ≤ 1× pass")
