"""A plugin's wrong solutions (its ``mistakes.py``) judged as ``readtrack practice`` grades a reader's: the
one judgement behind ``readtrack check-plugin``'s mistakes rule and ``readtrack.testing``'s
``assert_mistakes_caught``.

A wrong solution is a function of ``mistakes.py`` marked ``@mistake(target, fails=...)``
(``readtrack.api.mistake``): the plugin's check must fail it, its first failing comparison's name starting
with ``fails``. Nothing judged here is recorded.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Mistake:
    """One wrong solution of a plugin's ``mistakes.py``."""

    target: str  # the exercise it is a wrong solution of: "swish" or "RMSNorm.forward"
    function: Callable[..., Any]
    fails: str  # what the first failing comparison's name starts with
    name: str  # the function's name in mistakes.py


def mistakes(plugin: str) -> list[Mistake]:
    """The wrong solutions ``plugin``'s ``mistakes.py`` marks with ``@mistake`` (none without the file)."""
    from readtrack.plugins import discovery

    package = discovery.load_plugin(plugin).info.package
    try:
        module = importlib.import_module(f"{package}.mistakes")
    except ModuleNotFoundError as err:
        if err.name != f"{package}.mistakes":
            raise
        return []
    marked = [
        f for _, f in inspect.getmembers(module, inspect.isfunction) if hasattr(f, "__practice_mistake__")
    ]
    return [Mistake(f.__practice_mistake__[0], f, f.__practice_mistake__[1], f.__name__) for f in marked]


def judged(plugin: str) -> tuple[list[Mistake], list[str]]:
    """``plugin``'s wrong solutions, and what is wrong with them, one line each (none when all is well): no
    exercise declared, an exercise without a mistake, a model solution that fails its own check (first the
    function that changed an argument in place, when one did: exercises get copies) or draws the grader's
    notes, a mistake the check passes or fails on another comparison than its ``fails=``."""
    from readtrack import practice
    from readtrack.practice.in_place import EXERCISE_NOTE

    none = ["no exercise declared: declare(..., exercises=[Exercise(target=...)])"]
    if plugin not in {p.name for p in practice.practice_plugins()}:  # `readtrack check-plugin` goes on
        return [], none
    declared = practice.practice_plugin(plugin)
    if not declared.exercises:
        return [], none
    wrong = mistakes(plugin)
    uncovered = sorted(set(declared.targets) - {m.target for m in wrong})
    if uncovered:
        return wrong, [f"no @mistake in mistakes.py for {', '.join(uncovered)}"]
    problems = []
    solved = practice.check(plugin, declared.model_file, isolated=False, record=False)
    if not solved.passed:
        fails = f"the model solution fails its own check: {solved.summary()}"
        causes = [note for note in solved.notes if note.startswith(EXERCISE_NOTE)]  # an edit in place
        problems.append(f"{'; '.join(causes)} ({fails})" if causes else fails)
    elif solved.notes:  # it calls the library function the check compares with, or mis-shapes
        problems.append(f"the model solution draws the grader's notes: {'; '.join(solved.notes)}")
    for m in wrong:
        # only its first failing comparison is read: the rest of the check is not run (issue 91)
        result = practice.check(plugin, {m.target: m.function}, record=False, first_failure=True)
        if result.status != "failed":
            problems.append(f"mistake {m.name} was not caught: the check {result.status} with it")
            continue
        first = next(line for line in result.lines() if line.startswith("✗"))
        if not first.startswith(f"✗ {m.fails}"):
            problems.append(f"mistake {m.name} failed first on {first[2:]!r}, not on {m.fails!r}")
    return wrong, problems
