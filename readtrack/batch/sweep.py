"""Sweeps: a plugin's knobs at several values, every combination on every seed (issue 55).

``readtrack run rmsnorm --set lr=1e-3,3e-3,1e-2 --set steps=200,400 --seeds 0-2`` is six settings × three
seeds: each setting is an *arm*, run on every seed in the batch's worker processes (`readtrack.batch.groups`)
and recorded as a group of its own, every run marked with the sweep's id. The defaults are an arm too, added
when no combination is them, so that every setting is compared with what the plugin was calibrated on.

The end is one table per number the train stage reports: each setting's mean ± sd and 95% interval over
seeds (Student's t, `readtrack.history.spread`), the defaults' row marked, and which settings differ from the
defaults beyond their intervals (the two intervals do not overlap: a rough, conservative test; with one
seed there is no interval and nothing is claimed). Torch-free.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from readtrack.batch.groups import Arm, PluginOutcome
from readtrack.history.spread import Spread, spreads
from readtrack.plugins.knobs import off_default, settings_label


def plan(plugin: str, config: type | None, quick: bool, values: Mapping[str, Sequence[Any]]) -> list[Arm]:
    """What ``--set`` asks for (knob -> its values, checked): one arm, the settings less what equals the
    defaults, when each knob has one value; a sweep's arms (`arms`) when one has several."""
    if config is None:
        return [(plugin, ())]
    if any(len(v) > 1 for v in values.values()):
        return arms(plugin, config, quick, values)
    return [(plugin, tuple(off_default(config, quick, {k: v[0] for k, v in values.items()}).items()))]


def arms(plugin: str, config: type, quick: bool, values: Mapping[str, Sequence[Any]]) -> list[Arm]:
    """Every combination of ``values`` (knob -> its values, checked), in the order given, each less what
    equals the defaults; the defaults first when no combination is them."""
    keys = list(values)
    found: list[Arm] = []
    for combination in itertools.product(*(values[k] for k in keys)):
        turned = off_default(config, quick, dict(zip(keys, combination, strict=True)))
        arm: Arm = (plugin, tuple(turned.items()))
        if arm not in found:
            found.append(arm)
    if (plugin, ()) not in found:
        found.insert(0, (plugin, ()))
    return found


@dataclass
class Row:
    """One setting's spread of one number over seeds."""

    settings: str  # "lr=0.01 steps=200", "" for the defaults
    spread: Spread
    #: the interval lies apart from the defaults' (True), overlaps it (False), or cannot tell (None)
    differs: bool | None

    @property
    def defaults(self) -> bool:
        return not self.settings

    def to_dict(self) -> dict[str, object]:
        low, high = self.spread.ci95
        return {
            "settings": self.settings,
            "defaults": self.defaults,
            "n": len(self.spread.finite),
            "mean": _number(self.spread.mean),
            "sd": _number(self.spread.std),
            "ci95": [_number(low), _number(high)],
            "differs_from_defaults": self.differs,
        }


@dataclass
class NumberTable:
    """A number of the train stage across the sweep's settings."""

    name: str
    target: float | None
    higher_is_better: bool
    rows: list[Row]

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "target": self.target,
            "higher_is_better": self.higher_is_better,
            "rows": [r.to_dict() for r in self.rows],
        }


def tables(outcomes: Sequence[PluginOutcome]) -> list[NumberTable]:
    """One table per number (in the order the runs report them), one row per setting that has runs."""
    per_arm = [(settings_label(dict(o.settings)), {s.name: s for s in spreads(o.runs)}) for o in outcomes]
    defaults = next((found for label, found in per_arm if not label), {})
    names = list(dict.fromkeys(name for _, found in per_arm for name in found))
    made = []
    for name in names:
        rows = []
        for label, found in per_arm:
            if name not in found:
                continue
            spread = found[name]
            base = defaults.get(name)
            differs = None if label == "" or base is None else _apart(spread.ci95, base.ci95)
            rows.append(Row(label, spread, differs))
        first = next(found[name] for _, found in per_arm if name in found)
        made.append(NumberTable(name, first.target, first.higher_is_better, rows))
    return made


def _apart(a: tuple[float, float], b: tuple[float, float]) -> bool | None:
    if any(math.isnan(x) for x in (*a, *b)):
        return None
    return a[1] < b[0] or b[1] < a[0]


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None
