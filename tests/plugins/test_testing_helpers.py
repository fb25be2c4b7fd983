"""readtrack.testing, the helpers a plugin author's tests import: runs leave history alone, a mistake the
check misses is reported by name, and a monkeypatch by dotted name still reaches the run after practice
grading has swapped the plugin's modules in and out. The scaffold's plugin is the subject."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from readtrack.history import runs as history
from readtrack.plugins import discovery
from readtrack.plugins.scaffold import new_plugin
from readtrack.testing import assert_mistakes_caught, check_catches, mistakes, run, run_stage


@pytest.fixture
def idea(user_dir: Path, catalog_file: Path) -> str:
    """A fresh scaffold plugin ``idea`` in the test's user plugin folder."""
    new_plugin("idea", catalog_file)
    discovery.discover(refresh=True)
    return "idea"


def test_runs_made_by_the_helpers_are_not_recorded(idea: str) -> None:
    assert run(idea, only="check").status == "passed"
    assert run_stage(idea, "train").verdict() == "passed"
    assert history.entries(idea) == []


def test_every_scaffolded_mistake_is_caught_and_one_the_check_misses_is_named(
    idea: str, user_dir: Path
) -> None:
    caught = assert_mistakes_caught(idea)
    assert [m.name for m in caught] == ["forward_without_the_residual"]
    wrong = user_dir / "idea" / "mistakes.py"
    wrong.write_text(
        wrong.read_text()
        + '\n\n@mistake("Idea.forward", fails="Idea vs the reference")\n'
        + "def forward_that_is_right(self, x):\n"
        + '    """The model solution itself: no check can catch it."""\n'
        + "    return x + self.w2(F.gelu(self.w1(x)))\n"
    )
    sys.modules.pop(f"{discovery.load_plugin(idea).info.package}.mistakes", None)
    assert len(mistakes(idea)) == 2
    with pytest.raises(AssertionError, match="mistake forward_that_is_right was not caught"):
        assert_mistakes_caught(idea)


def test_a_monkeypatch_by_name_reaches_the_run_after_practice_grading(
    idea: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = discovery.load_plugin(idea).info.package
    experiments = discovery.load_plugin(idea).experiments  # imported before, as a test module's import does
    assert_mistakes_caught(idea)  # grading imports the plugin's modules afresh, then puts them back

    class Broken(experiments.Idea):  # type: ignore[name-defined]
        def forward(self, x):  # type: ignore[no-untyped-def]
            return 2 * super().forward(x)

    monkeypatch.setattr(f"{package}.experiment.Idea", Broken)
    assert check_catches(idea, "Idea vs the reference")


def test_pytest_loads_the_helpers_wherever_readtrack_is_installed(tmp_path: Path) -> None:
    (plugin,) = [e for e in metadata.entry_points(group="pytest11") if e.value == "readtrack.testing"]
    assert plugin.name == "readtrack"
    (tmp_path / "test_home.py").write_text(
        "import os\n\n\ndef test_it(readtrack_home):\n"
        "    assert os.environ['READTRACK_HOME'] == str(readtrack_home)\n"
    )
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "1 passed" in ran.stdout
