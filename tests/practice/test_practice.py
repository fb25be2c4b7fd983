"""Practice exercises of every plugin that declares them, graded in this process (fast): the model solution
passes, the fresh stub fails with the "not implemented" message, and each wrong solution of the plugin's
``mistakes.py`` fails with a message naming the failing comparison first.

A plugin gets these tests by declaring ``exercises=[...]`` and writing ``mistakes.py``; nothing here changes.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from readtrack import practice
from readtrack.practice.declared import cleaned
from readtrack.practice.workspace import NOT_IMPLEMENTED, open_workspace

PLUGINS = practice.practice_plugins()
NAMES = [p.name for p in PLUGINS]


def _mistakes(plugin: practice.PracticePlugin) -> list[tuple[str, Callable[..., Any], str]]:
    """(target, wrong function, the comparison name its failure must start with) from ``mistakes.py``."""
    from readtrack.plugins import discovery as plugins

    package = plugins.load_plugin(plugin.name).info.package
    module = importlib.import_module(f"{package}.mistakes")
    marked = [
        f for _, f in inspect.getmembers(module, inspect.isfunction) if hasattr(f, "__practice_mistake__")
    ]
    return [(f.__practice_mistake__[0], f, f.__practice_mistake__[1]) for f in marked]


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
    plugin = practice.practice_plugin(name)
    mistakes = _mistakes(plugin)
    assert mistakes, f"{plugin.folder}/mistakes.py has no @mistake(...) function"
    assert {target for target, _, _ in mistakes} >= set(plugin.targets)

    solved = practice.check(name, plugin.model_file, isolated=False, record=False)
    assert solved.passed, str(solved)
    assert not solved.notes, solved.notes  # the model solution neither calls the reference nor mis-shapes

    for target, wrong, fails in mistakes:
        result = practice.check(name, {target: wrong}, record=False)
        assert result.status == "failed", str(result)
        first_failing = next(line for line in result.lines() if line.startswith("✗"))
        assert first_failing.startswith(f"✗ {fails}"), f"{wrong.__doc__}\n{result}"
        assert "max error" in first_failing or ":" in first_failing


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
