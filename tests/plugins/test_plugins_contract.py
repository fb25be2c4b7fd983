"""The contract every discovered paper plugin keeps, on the CPU, at the smallest experiment its knobs allow
(every number at its lowest, every choice at its first: `smallest`): its check passes, its train stage goes
through the claim path (``ctx.target``, reported as not calibrated since knobs are turned), its benchmark
yields numbers with a baseline, and the run is recorded as passed (``readtrack check-plugin``'s rules of a
run, the target rule read from the record below).

The claim itself, a quick run's targets at their calibrated defaults, is proven where it is calibrated, on 20
seeds and two torch releases, not on one seed again here: ``tests/history/test_calibration.py`` holds each
built-in plugin to its ``calibration.json`` (made on the code as it is now, every asserted target meeting the
3-sd rule), and each plugin's own tests prove its train stage fails when its idea is broken.

Parametrized over ``discover()`` (built-in and installed plugins), so a new plugin is covered the moment it
exists; a broken one fails here with its error. This run also proves knobs' promise at one end of their
ranges (issue 55: every value ``--set`` accepts runs; ``test_knob_ranges.py`` turns the ablation switches).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest

from readtrack import practice
from readtrack.history import calibration
from readtrack.history import runs as history
from readtrack.plugins import discovery as plugins
from readtrack.plugins import knobs
from readtrack.plugins.records import NOT_CALIBRATED, BenchRow
from readtrack.runner import run_plugin
from readtrack.standard import run_findings

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
FOUND = plugins.discover(include_user=False)
BENCH_SECONDS = 0.05


def lowest(knob: knobs.Knob) -> Any:
    """A knob's smallest allowed value: its first choice, its lowest number (an int's smallest multiple of
    ``multiple_of`` at or above it), or its quick default when it has no range (a switch)."""
    if knob.choices:
        return knob.choices[0]
    if knob.type == "bool" or knob.low is None:
        return knob.quick
    if knob.type == "int":
        step = knob.multiple_of or 1
        return -(-int(knob.low) // step) * step
    return float(knob.low)


def smallest(name: str) -> dict[str, Any]:
    """The settings of the smallest experiment plugin ``name``'s knobs allow."""
    return {k.name: lowest(k) for k in knobs.knobs_of(plugins.plugin_config(name) or type)}


@pytest.mark.parametrize("plugin", FOUND, ids=[p.name for p in FOUND])
def test_plugin_checks_claims_benchmarks_and_is_recorded_at_its_smallest_experiment(
    plugin: plugins.Plugin,
) -> None:
    assert isinstance(plugin, plugins.LoadedPlugin), f"{plugin.name} is broken: {plugin.error}"
    settings = smallest(plugin.name)
    assert settings, f"{plugin.name} has no knobs: its train stage cannot be made small"
    # The runner's default thread policy (one thread) applies; the bench must yield numbers here, not
    # precise ones: 0.05 s a row.
    # A plugin with exercises has its check stage run on the CPU, through `run_plugin` as here, by practice's
    # grading of its model solution (tests/practice/test_practice.py) and on the emulated CUDA device by
    # tests/runner/test_plugins_on_emulated_cuda.py: here its train and bench stages (issue 91)
    practiced = {p.name for p in practice.practice_plugins()}
    stages_run = ("train", "bench") if plugin.name in practiced else None
    record = run_plugin(
        plugin.name,
        only=stages_run,
        device="cpu",
        quick=True,
        seed=0,
        bench_seconds=BENCH_SECONDS,
        settings=settings,
        timeout=120,
    )
    assert record.info.threads == 1 and record.info.settings.items() <= settings.items()
    stages = {s.stage: s for s in record.stages}
    problems = [
        f"check {c.name}: {c.max_abs} {c.detail}"
        for c in (stages["check"].comparisons if "check" in stages else [])
        if not c.passed
    ]
    # `readtrack check-plugin`'s rules of a run: every stage passes and the bench has a baseline row (the
    # target rule is for a run at the calibrated defaults: below, from the record)
    problems += [f.line() for f in run_findings(record) if f.rule != "target" and not f.ok]
    assert not problems, "\n".join(problems)
    assert stages_run or stages["check"].comparisons, "the check stage compared nothing"

    train = stages["train"]
    assert not train.targets, "a run with knobs turned asserted a target"
    claims = [m for m in train.measured if NOT_CALIBRATED in m.detail and m.claim is not None]
    assert claims, "the train stage reported no claim (ctx.target) at its smallest experiment"
    if plugin.source == "built-in":  # its quick claim is calibrated: asserted by a run at the defaults
        folder = PLUGINS / plugin.info.package.rsplit(".", 1)[-1]
        quick = [c for c in calibration.load(folder) if c.mode == "quick"]
        assert any(n.kind == "target" for c in quick for n in c.numbers), "no quick target calibrated"

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
