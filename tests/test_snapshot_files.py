"""Every HTML snapshot file belongs to a test that exists: a renamed or removed test (or story)
takes its snapshot with it.

syrupy does not report an unused single-file snapshot whose test no longer exists (it only sees
the snapshots of tests that ran, and under xdist each worker sees a share of them), so the
folders are compared here with a fresh collection of their modules: the same answer whatever
this run selected and however it is spread over workers.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

TESTS = ROOT / "tests"


def snapshot_folders() -> dict[Path, Path]:
    """Each `__snapshots__/<module>/` folder -> the test module it belongs to."""
    found = {}
    for folder in sorted(TESTS.rglob("__snapshots__/*")):
        if folder.is_dir():
            found[folder] = folder.parent.parent / f"{folder.name}.py"
    return found


def collected_names(modules: list[Path]) -> dict[Path, set[str]]:
    """Test names (`test_x[param]`) each module collects, by a fresh `pytest --collect-only`."""
    args = [str(m.relative_to(ROOT)) for m in modules]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:xdist",
            "--snapshot-warn-unused",
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    names: dict[Path, set[str]] = {m: set() for m in modules}
    for line in out.stdout.splitlines():
        path, sep, name = line.partition("::")
        if sep and (ROOT / path) in names:
            names[ROOT / path].add(name.rsplit("::", 1)[-1])
    return names


def test_every_snapshot_file_has_its_test() -> None:
    folders = snapshot_folders()
    assert folders, "no snapshot folders found"
    missing_modules = [m for m in folders.values() if not m.is_file()]
    assert missing_modules == [], "snapshot folders of test modules that are gone: delete them"
    names = collected_names(sorted(set(folders.values())))
    orphans = []
    for folder, module in folders.items():
        for file in sorted(folder.glob("*.html")):
            test = re.sub(r"\.\d+$", "", file.stem)  # a test's 2nd snapshot is `<name>.1.html`
            if test not in names[module]:
                orphans.append(str(file.relative_to(ROOT)))
    assert orphans == [], "snapshots without a test: delete them (or --snapshot-update)"
