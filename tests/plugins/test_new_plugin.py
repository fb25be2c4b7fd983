"""`readtrack new-plugin`: a plugin scaffold that runs at once, its own tests, the paper linked, refusals."""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import run_cli

from readtrack.plugins.links import load


def changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_new_plugin_runs_at_once_passes_its_own_tests_and_links_the_paper(catalog_file: Path) -> None:
    before = catalog_file.read_text(encoding="utf-8")
    made = run_cli("new-plugin", "coqui-tts")
    assert made.returncode == 0, made.stderr
    folder = catalog_file.parent / "plugins" / "coqui_tts"  # the default: plugins/ beside papers.yaml
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".py") == [
        "__init__.py",
        "config.py",
        "experiment.py",
        "mistakes.py",
        "model.py",
        "test_coqui_tts.py",
    ]
    imported = {line.split()[1] for f in folder.glob("*.py") for line in f.read_text().splitlines()
                if line.startswith(("from readtrack", "import readtrack"))}  # fmt: skip
    assert imported == {"readtrack", "readtrack.api", "readtrack.testing"}  # the public API, nothing inside
    assert "linked: coqui-tts now runs coqui-tts" in made.stdout
    assert changed_lines(before, catalog_file.read_text(encoding="utf-8")) == ["+        plugin: coqui-tts"]
    page = (folder / "__init__.py").read_text(encoding="utf-8")
    paper = load(catalog_file).get("coqui-tts")
    assert f"title={paper.title!r}" in page and "TODO" in page

    run = run_cli("run", "coqui-tts", "--quick", "--device", "cpu", timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "check passed train passed bench passed" in run.stdout
    (record,) = json.loads(run_cli("history", "coqui-tts", "--json").stdout)
    rows = {row["label"]: row for stage in record["stages"] for row in stage["bench"]}
    for batch in (256, 4096):  # each size against its own reference, never the first size's (issue 41 #3)
        reference, idea = rows[f"reference, batch {batch}"], rows[f"Idea, batch {batch}"]
        assert reference["baseline"] and reference["ratio"] == 1.0
        assert idea["ratio"] == pytest.approx(idea["median_s"] / reference["median_s"])
    listed = run_cli("explain", "coqui-tts")
    assert "plugin coqui-tts (user folder)" in listed.stdout

    tests = subprocess.run(  # the scaffold's own tests: stages pass, and a broken idea fails the check
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "coqui_tts"],
        cwd=folder.parent,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "4 passed" in tests.stdout  # stages, emulated CUDA, a broken idea caught, every mistake caught
    after = json.loads(run_cli("history", "coqui-tts", "--json").stdout)
    assert after == [record]  # the tests' runs, the broken one too, left no trace

    again = run_cli("new-plugin", "coqui-tts")
    assert again.returncode == 2
    assert again.stderr.strip() == f"readtrack: {folder} already exists: not overwriting it"


@pytest.mark.parametrize("name", ["Bad", "under_score", "-lead", "double--hyphen", "9start", "trail-"])
def test_a_name_that_is_not_a_slug_is_refused(name: str, catalog_file: Path) -> None:
    result = run_cli("new-plugin", "--", name)
    assert result.returncode == 2
    assert "must be a slug" in result.stderr
    assert not (catalog_file.parent / "plugins").exists()


def test_a_taken_name_an_unknown_paper_and_a_paper_with_a_plugin(catalog_file: Path) -> None:
    taken = run_cli("new-plugin", "rope")  # a built-in plugin
    assert (taken.returncode, taken.stderr.strip()) == (
        2,
        "readtrack: a plugin called rope exists already (see `readtrack plugins`)",
    )
    unknown = run_cli("new-plugin", "mine", "--paper", "no-such-paper")
    assert unknown.returncode == 2 and "no-such-paper" in unknown.stderr
    assert not (catalog_file.parent / "plugins" / "mine").exists()

    before = catalog_file.read_text(encoding="utf-8")
    second = run_cli("new-plugin", "rmsnorm-variant", "--paper", "rmsnorm")  # a second plugin: a list
    assert second.returncode == 0, second.stderr
    assert "linked: rmsnorm now runs rmsnorm-variant (plugin: rmsnorm, rmsnorm-variant)" in second.stdout
    assert changed_lines(before, catalog_file.read_text(encoding="utf-8")) == [
        "-        plugin: rmsnorm",
        "+        plugin: [rmsnorm, rmsnorm-variant]",
    ]
    assert load(catalog_file).get("rmsnorm").plugins == ["rmsnorm", "rmsnorm-variant"]

    alone = run_cli("new-plugin", "my-idea")  # no paper of that name: a plugin of its own
    assert alone.returncode == 0
    assert "no paper called my-idea in the list" in alone.stdout
    assert "paper_id='my-idea'" in (catalog_file.parent / "plugins" / "my_idea" / "__init__.py").read_text()
