"""A knob's allowed range is a promise: every value ``--set`` accepts runs (issue 55). For each built-in
plugin with knobs, the train stage runs, without an error, with its ablation switch at each other value in
the smallest experiment its ranges allow (every other number at its lowest, every other choice at its first);
a turned run reports its targets without asserting them. The smallest experiment itself, every stage of it,
is the contract's run (``test_plugins_contract.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_plugins_contract import lowest, smallest
from test_shelf_knobs import NUMBER_SWITCH  # the ablation switch when it is a number

from readtrack.plugins import knobs
from readtrack.plugins.discovery import plugin_config
from readtrack.plugins.records import NOT_CALIBRATED
from readtrack.runner import run_plugin

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
WITH_KNOBS = sorted(p.parent.name for p in PLUGINS.glob("*/config.py"))


def train(name: str, settings: dict[str, Any]) -> None:
    record = run_plugin(name.replace("_", "-"), device="cpu", quick=True, only="train", settings=settings,
                        keep_history=False, threads=1, timeout=120)  # fmt: skip
    (stage,) = record.stages
    assert stage.status != "error" and stage.status != "timeout", f"{name} {settings}: {stage.error}"
    assert not stage.targets, f"{name} {settings}: a run with knobs turned asserted a target"
    reported = [m for m in stage.measured if NOT_CALIBRATED in m.detail]
    assert reported, f"{name} {settings}: no target reported as not calibrated"


@pytest.mark.parametrize("name", WITH_KNOBS)
def test_the_ablation_switch_runs_at_every_value(name: str) -> None:
    found = {k.name: k for k in knobs.knobs_of(plugin_config(name.replace("_", "-")) or type)}
    budget = smallest(name.replace("_", "-"))  # the smallest experiment, the switch turned in it
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
