"""Running a built-in paper plugin's stage exactly as ``readtrack run`` does (the runner's seeding,
determinism and harness), for the tests that are specific to one plugin, such as its can-fail test."""

from __future__ import annotations

import re
from typing import Any

from readtrack.plugins.records import Measured, StageResult, Target
from readtrack.runner import run_plugin


def run_stage(
    plugin: str, stage: str, *, quick: bool = True, seed: int = 0, options: dict[str, Any] | None = None
) -> StageResult:
    """Run one stage of a plugin on the CPU through the runner and return its result. Monkeypatching the
    plugin's modules first (a deliberately broken implementation) shows that its check can fail."""
    record = run_plugin(plugin, device="cpu", quick=quick, seed=seed, only=stage, options=options)
    (result,) = record.stages
    return result


def failures(result: StageResult) -> list[str]:
    """What failed in a stage, readable in an assertion message."""
    bad = [f"{c.name}: worst err/tol {c.worst} {c.detail}" for c in result.comparisons if not c.passed]
    bad += [f"{t.name}: {t.value} vs {t.target}" for t in result.targets if not t.passed]
    bad += [f"{r.label}: {r.error}" for r in result.bench if r.error]
    if result.error:
        bad.append(f"{result.status}: {result.error}")
    return bad


def check_catches(plugin: str, *prefixes: str, options: dict[str, Any] | None = None) -> list[str]:
    """Run a plugin's check stage, after the test has monkeypatched a deliberately broken implementation in,
    and assert that it fails with, for each of ``prefixes``, a failed comparison whose name starts with it.
    Returns the failed comparisons' names for further assertions."""
    result = run_stage(plugin, "check", options=options)
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
    """The one number a stage reported, not asserted, under a name starting with ``prefix``: a quick run's
    target whose seed-to-seed spread is too wide for the calibration rule (``ctx.target(..., asserted=False)``
    records it as a measured number)."""
    return _reported(result, prefix).value


def reported_claim(result: StageResult, prefix: str) -> Target:
    """That reported number held to the threshold its detail names ("the claim: ≥ 0.05"), as the Target it
    would be if asserted, so that a can-fail test can show a broken variant's number misses the claim
    (``not .passed``; a NaN misses it, as it fails a target)."""
    m = _reported(result, prefix)
    claim = re.search(r"the claim: ([≥≤]) (\S+)\)$", m.detail)
    assert claim, (prefix, m.detail)
    return Target(m.name, m.value, float(claim[2]), higher_is_better=claim[1] == "≥", detail=m.detail)
