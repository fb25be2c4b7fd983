"""The contract every discovered paper plugin keeps: on the CPU in quick mode, its check passes, its
claim's targets are reached, and its benchmark yields numbers (``readtrack check-plugin``'s rules of a run).

Parametrized over ``discover()`` (built-in and installed plugins), so a new plugin is covered the moment it
exists; a broken one fails here with its error.
"""

from __future__ import annotations

import math
import re

import pytest

from readtrack.history import runs as history
from readtrack.plugins import discovery as plugins
from readtrack.plugins.records import BenchRow
from readtrack.runner import run_plugin
from readtrack.standard import run_findings

FOUND = plugins.discover(include_user=False)
BENCH_SECONDS = 0.05


@pytest.mark.parametrize("plugin", FOUND, ids=[p.name for p in FOUND])
def test_plugin_checks_reaches_its_targets_and_benchmarks(plugin: plugins.Plugin) -> None:
    assert isinstance(plugin, plugins.LoadedPlugin), f"{plugin.name} is broken: {plugin.error}"
    # The runner's default thread policy (one thread) applies: numbers as a reader gets them, and no
    # spin-waiting second thread (it made a quick run 5-10x slower beside any other torch process).
    # The bench must yield numbers here, not precise ones: 0.05 s a row instead of up to 0.6 (the shelf's
    # benches were 2.2 s a plugin, about 40% of this test).
    record = run_plugin(plugin.name, device="cpu", quick=True, seed=0, bench_seconds=BENCH_SECONDS)
    assert record.info.threads == 1
    stages = {s.stage: s for s in record.stages}
    problems = [
        f"check {c.name}: {c.max_abs} {c.detail}" for c in stages["check"].comparisons if not c.passed
    ]
    problems += [f"target {t.name}: {t.value} vs {t.target}" for t in stages["train"].targets if not t.passed]
    # the rules `readtrack check-plugin` says from a quick run: every stage passes, a target asserted (issue
    # 54: every quick run asserts its paper's claim), a baseline row in the bench
    problems += [finding.line() for finding in run_findings(record) if not finding.ok]
    assert not problems, "\n".join(problems)

    assert stages["check"].comparisons, "the check stage compared nothing"
    rows = stages["bench"].bench
    assert rows and all(r.error is None and r.median_s > 0 and math.isfinite(r.median_s) for r in rows)
    assert not wrong_baselines(rows)
    assert record.status == "passed"
    assert history.last_run(plugin.name).status == "passed"  # type: ignore[union-attr]


def wrong_baselines(rows: list[BenchRow]) -> list[str]:
    """The rows whose ratio divides a training step (forward and backward) by another kind of work's time
    (issue 73: transformer's ``forward+backward`` row was "3.1×" its forward baseline). A part of a step
    against the step is a share, and allowed: fill_in_the_middle's "fim_batch alone" is 4 % of its step."""
    wrong = []
    for row in rows:
        if row.ratio is None:
            continue
        base = next(
            (b for b in rows if b.baseline and b.median_s * row.ratio == pytest.approx(row.median_s)), None
        )
        if base is None:
            wrong.append(f"{row.label}: a ratio of no baseline row")
        elif training_step(row.label) and not training_step(base.label):
            wrong.append(f"{row.label} against {base.label}")
    return wrong


def training_step(label: str) -> bool:
    """Whether a bench row's label says it times a training step: forward and backward."""
    return re.search(r"forward ?\+ ?backward|training step", label) is not None
