"""Testing a paper plugin with pytest: helpers and fixtures installed with readtrack.

pytest loads this module in every session where readtrack is installed (entry point ``pytest11``), so a
plugin's tests need nothing but ``from readtrack.testing import ...``. It adds no autouse fixture and no
hook: a project that does not ask for them is untouched, and importing it does not import torch.

Every run made here goes through readtrack's real runner, exactly as ``readtrack run NAME`` does (the
seeding, the determinism, the tolerances, the harness), and is kept out of history: a deliberately broken
run in a test never shows up in ``readtrack plugins`` or the TUI. The ``readtrack_home`` fixture gives a test
a data folder of its own besides, for a test that records on purpose.

    from readtrack.testing import check_catches, run_stage, reported

    def test_the_check_catches_a_missing_scale(monkeypatch):
        experiments = load_plugin("swish").experiments
        monkeypatch.setattr(experiments, "swish", lambda x, beta: x * torch.sigmoid(x))
        check_catches("swish", "swish vs the reference")

Helpers: :func:`run` (all stages, or ``only=``), :func:`run_stage`, :func:`failures`, :func:`check_catches`,
:func:`reported`, :func:`reported_claim`, :func:`mistakes` and :func:`assert_mistakes_caught` (each wrong
solution of ``mistakes.py`` fails the check naming its comparison, the model solution passes), and
:func:`emulated_cuda` (CUDA's device rules on the CPU). Fixture: ``readtrack_home``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from readtrack.practice.mistakes import Mistake, mistakes

if TYPE_CHECKING:
    from readtrack.plugins.records import Measured, RunRecord, StageResult, Target

__all__ = [
    "Mistake",
    "assert_mistakes_caught",
    "check_catches",
    "emulated_cuda",
    "failures",
    "mistakes",
    "reported",
    "reported_claim",
    "run",
    "run_stage",
]


def run(
    plugin: str,
    *,
    only: str | None = None,
    device: str = "cpu",
    quick: bool = True,
    seed: int = 0,
    settings: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> RunRecord:
    """Run ``plugin`` (every stage, or ``only`` one) through the runner and return its record, unrecorded.
    ``settings`` are knob values (``{"depth": 2}``, checked as ``--set`` checks them); ``options`` reach the
    plugin as ``ctx.options``."""
    from readtrack.runner import run_plugin

    return run_plugin(
        plugin,
        device=device,
        quick=quick,
        seed=seed,
        only=only,
        options=options,
        settings=settings,
        keep_history=False,
    )


def run_stage(
    plugin: str,
    stage: str,
    *,
    quick: bool = True,
    seed: int = 0,
    device: str = "cpu",
    settings: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> StageResult:
    """Run one stage of ``plugin`` and return its result. Monkeypatching the plugin's modules first (a
    deliberately broken implementation) shows that its check can fail."""
    record = run(
        plugin, only=stage, device=device, quick=quick, seed=seed, settings=settings, options=options
    )
    (result,) = record.stages
    return result


def failures(result: StageResult) -> list[str]:
    """What failed in a stage, one line each, readable in an assertion message."""
    bad = [f"{c.name}: worst err/tol {c.worst} {c.detail}" for c in result.comparisons if not c.passed]
    bad += [f"{t.name}: {t.value} vs {t.target}" for t in result.targets if not t.passed]
    bad += [f"{r.label}: {r.error}" for r in result.bench if r.error]
    if result.error:
        bad.append(f"{result.status}: {result.error}")
    return bad


def check_catches(
    plugin: str, *prefixes: str, device: str = "cpu", options: dict[str, Any] | None = None
) -> list[str]:
    """Run ``plugin``'s check stage, after the test has monkeypatched a deliberately broken implementation in,
    and assert that it fails with, for each of ``prefixes``, a failed comparison whose name starts with it.
    Returns the failed comparisons' names for further assertions."""
    result = run_stage(plugin, "check", device=device, options=options)
    assert result.verdict() == "failed", "the check stage passed with the broken implementation"
    failed = [c.name for c in result.comparisons if not c.passed]
    for prefix in prefixes:
        assert any(name.startswith(prefix) for name in failed), (prefix, failures(result))
    return failed


def _reported(result: StageResult, prefix: str) -> Measured:
    found = [m for m in result.measured if m.name.startswith(prefix)]
    assert len(found) == 1, (prefix, [m.name for m in result.measured])
    return found[0]


def reported(result: StageResult, prefix: str) -> float:
    """The one number a stage reported, not asserted, under a name starting with ``prefix`` (a target whose
    seed-to-seed spread is too wide to assert: ``ctx.target(..., asserted=False)``, or ``ctx.measured``)."""
    return _reported(result, prefix).value


def reported_claim(result: StageResult, prefix: str) -> Target:
    """That reported number held to the threshold its detail names ("the claim: ≥ 0.05"), as the Target it
    would be if asserted, so that a can-fail test can show a broken variant's number misses the claim
    (``not .passed``; a NaN misses it, as it fails a target)."""
    from readtrack.plugins.records import Target

    m = _reported(result, prefix)
    claim = re.search(r"the claim: ([≥≤]) (\S+)\)$", m.detail)
    assert claim, (prefix, m.detail)
    return Target(m.name, m.value, float(claim[2]), higher_is_better=claim[1] == "≥", detail=m.detail)


def assert_mistakes_caught(plugin: str) -> list[Mistake]:
    """Grade ``plugin``'s model solution and every wrong solution in its ``mistakes.py`` as ``readtrack
    practice`` grades a reader's: the model solution passes, each mistake fails with its first failing
    comparison named as its ``fails`` says, and every exercise has at least one mistake. Unrecorded."""
    from readtrack.practice.mistakes import judged

    wrong, problems = judged(plugin)
    assert not problems, f"{plugin}: " + "\n".join(problems)
    return wrong


def emulated_cuda() -> str:
    """Install the emulated CUDA device (CUDA's device rules, the CPU's numbers) in this process and return
    "" , or the reason it cannot be (a torch older than 2.8). Call it before the process's first backward
    pass, which fixes the devices autograd knows: at the top of a test module
    (``NO_EMULATOR = emulated_cuda()``, then ``@pytest.mark.skipif(bool(NO_EMULATOR), reason=NO_EMULATOR)``).
    Then run with ``device="emu"``."""
    from readtrack.runner import cuda_emulator

    try:
        cuda_emulator.install()
    except RuntimeError as err:
        return str(err)
    return ""


@pytest.fixture
def readtrack_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A data folder of the test's own (``READTRACK_HOME``): whatever the test records lands there."""
    home = tmp_path_factory.mktemp("readtrack-home")
    monkeypatch.setenv("READTRACK_HOME", str(home))
    yield home
