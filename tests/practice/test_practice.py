"""Practice exercises of every plugin that declares them, graded in this process (fast): the model solution
passes, the fresh stub fails with the "not implemented" message, and each wrong solution of the plugin's
``mistakes.py`` fails with a message naming the failing comparison first (``readtrack.testing``).

A plugin gets these tests by declaring ``exercises=[...]`` and writing ``mistakes.py``; nothing here changes.
A plugin outside the repository gets them too: an installed package's (its entry point) always, a folder's
when ``READTRACK_PLUGINS_DIR`` names its plugin folder as pytest starts (``READTRACK_PLUGINS_DIR=~/plugins
pytest tests/practice/test_practice.py -k NAME``): each test keeps that folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from readtrack import practice
from readtrack.practice.declared import cleaned
from readtrack.practice.workspace import NOT_IMPLEMENTED, open_workspace
from readtrack.testing import assert_mistakes_caught

OUTSIDE = os.environ.get("READTRACK_PLUGINS_DIR")  # the user's plugin folder, as the tests were started
PLUGINS = practice.practice_plugins()
NAMES = [p.name for p in PLUGINS]


@pytest.fixture(autouse=True)
def outside_plugins(readtrack_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's plugin folder the exercises were collected from, kept for each test (each test's own data
    dir and list would otherwise hide it)."""
    if OUTSIDE:
        monkeypatch.setenv("READTRACK_PLUGINS_DIR", OUTSIDE)


def test_the_six_exercises_of_issue_40_are_declared() -> None:
    wanted = {
        "rmsnorm": "RMSNorm.forward",
        "layernorm": "LayerNorm.forward",
        "rope": "apply_rotary",
        "gqa": "grouped_query_attention",
        "sliding-window-attention": "sliding_window_attention",
        "mixtral": "SparseMoE.route",
    }
    declared = {p.name: p.targets for p in PLUGINS}
    for name, target in wanted.items():
        assert target in declared.get(name, []), f"{name}: {target} is not an exercise"


@pytest.mark.parametrize("name", NAMES)
def test_the_declaration_read_as_text_is_the_imported_one(name: str) -> None:
    from readtrack.plugins import discovery as plugins

    imported = plugins.load_plugin(name).info.exercises
    read = practice.practice_plugin(name).exercises
    assert read == cleaned(imported)


@pytest.mark.parametrize("name", NAMES)
def test_every_mistake_fails_naming_its_comparison_and_the_model_solution_passes(name: str) -> None:
    assert_mistakes_caught(name)  # what a plugin author's test calls (readtrack.testing)


@pytest.mark.parametrize("name", NAMES)
def test_the_fresh_stub_fails_saying_what_is_not_implemented(name: str, tmp_path: Path) -> None:
    plugin = practice.practice_plugin(name)
    workspace = open_workspace(plugin, tmp_path)
    result = practice.check(name, workspace.path, isolated=False, record=False)
    assert result.status == "error"
    assert NOT_IMPLEMENTED in (result.error or "")
    # the traceback points into the learner's own file, at the stub's line, and nowhere else
    assert f'File "{workspace.path.resolve()}"' in (result.traceback or "")
    assert "readtrack/" not in (result.traceback or "") and "experiment.py" not in (result.traceback or "")
