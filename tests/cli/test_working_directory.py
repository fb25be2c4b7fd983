"""A folder named ``readtrack`` in the working directory (the repository cloned into ``~/readtrack``, the
command typed in ``~``) must not replace the readtrack that runs: every child process imports what its
parent imported (issue 71). The commands run through the installed ``readtrack`` script, as a reader's do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("readtrack")


@pytest.fixture
def home_with_a_clone(tmp_path: Path, readtrack_home: Path) -> Path:
    """``~`` holding a clone named readtrack: its root has no __init__.py, its plugins/ folder has one per
    paper, so Python would take them for the packages ``readtrack`` and ``readtrack.plugins``."""
    clone = tmp_path / "home"
    (clone / "readtrack" / "plugins" / "rmsnorm").mkdir(parents=True)
    (clone / "readtrack" / "plugins" / "rmsnorm" / "__init__.py").write_text('"""a copy"""\n')
    (clone / "readtrack" / "readtrack").mkdir()
    return clone


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
    return subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.skipif(not SCRIPT.exists(), reason="the readtrack script is not installed beside this Python")
def test_runs_on_several_seeds_work_beside_a_folder_named_readtrack(home_with_a_clone: Path) -> None:
    done = run(home_with_a_clone, "run", "rmsnorm", "--seeds", "0-1", "--quick", "--only", "check", "--json")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    batch = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")][-1]
    assert batch["type"] == "batch" and batch["status"] == "passed", batch
    assert "ModuleNotFoundError" not in done.stdout + done.stderr


@pytest.mark.skipif(not SCRIPT.exists(), reason="the readtrack script is not installed beside this Python")
def test_practice_grades_beside_a_folder_named_readtrack(home_with_a_clone: Path, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    assert run(home_with_a_clone, "practice", "rmsnorm", "--dir", str(workspace)).returncode == 0
    done = run(home_with_a_clone, "practice", "rmsnorm", "--dir", str(workspace), "--check", "--json")
    result = json.loads(done.stdout)
    assert result["status"] == "failed" or result["status"] == "error", result
    assert "NotImplementedError" in (result.get("error") or ""), result  # the stub's own words: it ran
    assert "ModuleNotFoundError" not in json.dumps(result)


@pytest.mark.skipif(not SCRIPT.exists(), reason="the readtrack script is not installed beside this Python")
def test_check_plugins_page_rule_works_beside_a_folder_named_readtrack(home_with_a_clone: Path) -> None:
    """Its probe (a fresh process finding the plugin) was started with ``sys.executable -c``, the working
    directory first on its path: "cannot import name 'discovery' from 'readtrack.plugins'"."""
    done = run(home_with_a_clone, "check-plugin", "rmsnorm", "--json")
    assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr[-2000:]  # a loaded machine: slow
    found = {finding["rule"]: finding for finding in json.loads(done.stdout)}
    assert found["page"] == {
        "rule": "page", "ok": True, "detail": "finding the plugin and its knobs imports no torch"
    }, found["page"]  # fmt: skip
