"""A knob's allowed range is a promise: every value ``--set`` accepts runs (issue 55). For each built-in
plugin with knobs, the train stage runs, without an error, at the smallest experiment its ranges allow
(every number at its lowest, every choice at its first), and with its ablation switch at each other value
on the shortest budget; a turned run reports its targets without asserting them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_shelf_knobs import NUMBER_SWITCH  # the ablation switch when it is a number

from readtrack.plugins import knobs
from readtrack.plugins.discovery import plugin_config
from readtrack.plugins.records import NOT_CALIBRATED
from readtrack.runner import run_plugin

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
WITH_KNOBS = sorted(p.parent.name for p in PLUGINS.glob("*/config.py"))


def lowest(knob: knobs.Knob) -> Any:
    if knob.choices:
        return knob.choices[0]
    if knob.type == "bool" or knob.low is None:
        return knob.quick
    if knob.type == "int":
        step = knob.multiple_of or 1
        return -(-int(knob.low) // step) * step  # the smallest multiple ≥ low
    return float(knob.low)


def train(name: str, settings: dict[str, Any]) -> None:
    record = run_plugin(name.replace("_", "-"), device="cpu", quick=True, only="train", settings=settings,
                        keep_history=False, threads=1, timeout=120)  # fmt: skip
    (stage,) = record.stages
    assert stage.status != "error" and stage.status != "timeout", f"{name} {settings}: {stage.error}"
    assert not stage.targets, f"{name} {settings}: a run with knobs turned asserted a target"
    reported = [m for m in stage.measured if NOT_CALIBRATED in m.detail]
    assert reported, f"{name} {settings}: no target reported as not calibrated"


@pytest.mark.parametrize("name", WITH_KNOBS)
def test_the_smallest_experiment_the_ranges_allow_runs(name: str) -> None:
    found = knobs.knobs_of(plugin_config(name.replace("_", "-")) or type)
    train(name, {k.name: lowest(k) for k in found})


@pytest.mark.parametrize("name", WITH_KNOBS)
def test_the_ablation_switch_runs_at_every_value(name: str) -> None:
    found = {k.name: k for k in knobs.knobs_of(plugin_config(name.replace("_", "-")) or type)}
    budget = {"steps": lowest(found["steps"])} if "steps" in found else {}
    switch = (
        found[NUMBER_SWITCH[name]]
        if name in NUMBER_SWITCH
        else next(k for k in found.values() if k.choices or k.type == "bool")
    )
    if switch.choices:
        values = [v for v in switch.choices if v != switch.quick]
    elif switch.type == "bool":
        values = [not switch.quick]
    else:
        values = [lowest(switch)]
    for value in values:
        train(name, {**budget, switch.name: value})
