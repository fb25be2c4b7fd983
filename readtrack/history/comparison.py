"""Lining up the numbers of runs: two runs (or multi-seed runs) and how each number moved, for ``readtrack
compare NAME``; or several side by side, one column each, for a sweep's settings (issue 55).

Every check error, target, measured value and bench median of a run is a number; of a multi-seed run, its
mean over the seeds (passed when it passed on every seed). Where the columns were run with other settings
(``--set``), the knobs come first, as rows of their own: each column's value, the plugin's default where
the run did not turn the knob, so a reader sees which knob differs between columns. Torch-free; reading a
plugin's defaults imports only its ``config.py`` (`readtrack.plugins.knobs`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from readtrack.history.spread import GroupRecord, same_printed, spreads
from readtrack.plugins.knobs import Knob, setting_name
from readtrack.plugins.records import RunRecord, jsonable

#: A column: a run made alone, or the runs of one multi-seed run together.
Entry = RunRecord | GroupRecord

#: What a † beside a claim's number says, wherever runs are compared: a column with knobs turned reported it.
NOT_ASSERTED = (
    "not asserted with these settings: the claim's threshold is calibrated on the defaults, so a run with "
    "knobs turned reports the number without asserting it"
)


@dataclass
class Delta:
    """One number in two runs: ``change`` is new - old, ``ratio`` new / old (None when undefined)."""

    section: str  # check | target | measured | bench
    name: str
    old: float | None
    new: float | None
    old_passed: bool | None = None
    new_passed: bool | None = None
    unit: str = ""
    #: a bench median too noisy in either run (IQR over 20% of the median) for the change to mean much
    noisy: bool = False

    @property
    def change(self) -> float | None:
        if self.old is None or self.new is None or not (math.isfinite(self.old) and math.isfinite(self.new)):
            return None
        return self.new - self.old

    @property
    def ratio(self) -> float | None:
        if self.change is None or self.old is None or self.new is None or self.old == 0:
            return None
        return self.new / self.old

    @property
    def same(self) -> bool:
        """Both values print the same: equal to the 4 significant digits a table shows, or both at
        round-off (`readtrack.history.spread.same_printed`); both missing or NaN count as the same."""
        if self.old is None or self.new is None:
            return self.old is None and self.new is None
        return same_printed(self.old, self.new)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "change": self.change, "ratio": self.ratio}


@dataclass
class SettingRow:
    """One knob across the columns compared: its value in each; ``defaults[i]`` when column i did not turn
    it (its value is then the plugin's default for that run's size, None when that is unknown: the plugin
    is gone or broken)."""

    knob: str
    values: list[Any]
    defaults: list[bool]

    @property
    def differs(self) -> bool:
        """The knob is not the same in every column."""
        shown = zip(self.values, self.defaults, strict=True)
        return len({"default" if v is None and d else repr(v) for v, d in shown}) > 1

    def to_dict(self) -> dict[str, Any]:
        return {"knob": self.knob, "values": self.values, "defaults": self.defaults, "differs": self.differs}


@dataclass
class RunComparison:
    """The two newest finished runs of a plugin and how their numbers moved; ``settings`` the knobs, when
    the two were run with other settings."""

    plugin: str
    older: Entry
    newer: Entry
    deltas: list[Delta] = field(default_factory=list)
    settings: list[SettingRow] = field(default_factory=list)
    #: the ids ``readtrack compare`` was given (none: the plugin's two newest runs)
    ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        turned = {"settings": [s.to_dict() for s in self.settings]} if self.settings else {}
        return jsonable(
            {
                "plugin": self.plugin,
                "older": run_summary(self.older),
                "newer": run_summary(self.newer),
                **turned,
                "deltas": [d.to_dict() for d in self.deltas],
            }
        )


def run_summary(record: Entry) -> dict[str, Any]:
    """What a comparison says of one column: its ids, when, where, its status (of a group: the spread)."""
    info = record.info
    if isinstance(record, GroupRecord):
        return {
            **run_summary(record.runs[0]),
            "run_id": None,
            "group_id": record.group_id,
            "seeds": record.seeds,
            "status": record.status,
            "duration_s": record.duration_s,
            "spread": [s.to_dict() for s in spreads(record.runs)],
        }
    return {
        "run_id": info.run_id,
        "started_at": info.started_at,
        "device": info.device,
        "quick": info.quick,
        "seed": info.seed,
        "status": record.status,
        "duration_s": record.duration_s,
        "environment": info.environment,
        **({"settings": info.settings} if info.settings else {}),
    }


class _Number(NamedTuple):
    value: float | None
    passed: bool | None
    unit: str
    noisy: bool = False


def _numbers(entry: Entry) -> dict[tuple[str, str], _Number]:
    """Every number of a run; of a multi-seed run, each number's mean over its seeds (passed when it
    passed on every seed)."""
    if isinstance(entry, GroupRecord):
        per_seed = [_numbers(r) for r in entry.runs]
        keys = list(dict.fromkeys(k for numbers in per_seed for k in numbers))
        found = {}
        for key in keys:
            seen = [n[key] for n in per_seed if key in n]
            values = [x.value for x in seen if x.value is not None and math.isfinite(x.value)]
            passes = [x.passed for x in seen if x.passed is not None]
            found[key] = _Number(
                sum(values) / len(values) if values else None,
                (all(passes) and len(seen) == len(per_seed)) if passes else None,
                seen[0].unit,
                any(x.noisy for x in seen),
            )
        return found
    record = entry
    found = {}
    for stage in record.stages:
        for comp in stage.comparisons:
            unit = "max abs error" if comp.kind == "close" else "value"
            found[("check", comp.name)] = _Number(comp.max_abs, comp.passed, unit)
        for target in stage.targets:
            found[("target", target.name)] = _Number(target.value, target.passed, "")
        for measured in stage.measured:
            found[("measured", measured.name)] = _Number(measured.value, None, "")
        for row in stage.bench:
            median = None if row.error else row.median_s
            found[("bench", row.label)] = _Number(median, row.error is None, "median s", row.noisy)
    return found


def compare_records(older: Entry, newer: Entry) -> RunComparison:
    """Line up every check error, target, measured value and bench median of two runs (of a multi-seed
    run: the mean over its seeds), and their knobs when they were run with other settings."""
    settings = setting_rows([older, newer])
    old, new = _numbers(older), _numbers(newer)
    if settings:
        old, new = _claims_as_targets([old, new])
    missing = _Number(None, None, "")
    deltas = []
    for key in list(old) + [k for k in new if k not in old]:
        o, n = old.get(key, missing), new.get(key, missing)
        deltas.append(
            Delta(key[0], key[1], o.value, n.value, o.passed, n.passed, o.unit or n.unit, o.noisy or n.noisy)
        )
    return RunComparison(newer.info.plugin, older, newer, deltas, settings)


def _claims_as_targets(columns: list[dict[tuple[str, str], _Number]]) -> list[dict[tuple[str, str], _Number]]:
    """A target that a run with knobs turned reported instead of asserting it (a measured value of the
    same name) lined up with the target, in the columns that asserted it: one row, not two."""
    targets = {name for numbers in columns for section, name in numbers if section == "target"}

    def lined(numbers: dict[tuple[str, str], _Number], section: str, name: str) -> tuple[str, str]:
        reported = section == "measured" and name in targets and ("target", name) not in numbers
        return ("target", name) if reported else (section, name)

    return [{lined(numbers, *key): number for key, number in numbers.items()} for numbers in columns]


# -- settings --------------------------------------------------------------------------------------
def setting_rows(columns: Sequence[Entry]) -> list[SettingRow]:
    """The knobs of ``columns`` (each run's or group's turned knobs, `RunInfo.settings`) as rows, in the
    plugin's order; none when every column was run with the same settings."""
    turned = [c.info.settings for c in columns]
    if all(t == turned[0] for t in turned):
        return []
    plugin = columns[0].info.plugin
    by_size = {quick: knob_defaults(plugin, quick) for quick in {c.info.quick for c in columns}}
    declared = next((list(d) for d in by_size.values() if d), [])
    seen = list(dict.fromkeys(k for t in turned for k in t))
    rows = []
    for knob in [k for k in declared if k in seen] + [k for k in seen if k not in declared]:
        values = [
            t[knob] if knob in t else (by_size[c.info.quick] or {}).get(knob)
            for t, c in zip(turned, columns, strict=True)
        ]
        rows.append(SettingRow(knob, values, [knob not in t for t in turned]))
    return rows


def knob_defaults(plugin: str, quick: bool) -> dict[str, Any] | None:
    """``plugin``'s knobs and their defaults for a quick or a full run, in its order; None when they cannot
    be read (a plugin gone or broken since it ran: the comparison stands, its defaults unknown)."""
    declared = _declared_knobs(plugin)
    return None if declared is None else {k.name: k.default(quick) for k in declared}


def value_meanings(plugin: str, rows: Sequence[SettingRow]) -> list[str]:
    """What a special value among ``rows`` stands for, as its knob says (``knob(..., means=...)``): ``lr 0.0:
    each its best of 3e-3, 1e-2``, once each; none when the plugin's knobs cannot be read any more."""
    from readtrack.plugins.knobs import value_text

    declared = {k.name: k for k in _declared_knobs(plugin) or []}
    found = []
    for row in rows:
        knob = declared.get(row.knob)
        if knob is None:
            continue
        for value in row.values:
            meaning = knob.meaning(value) if value is not None else None
            line = f"{row.knob} {value_text(value)}: {meaning}" if meaning else ""
            if line and line not in found:
                found.append(line)
    return found


def _declared_knobs(plugin: str) -> list[Knob] | None:
    """``plugin``'s knobs as its ``config.py`` declares them now (none without one); None when they cannot be
    read: any error of a plugin's own declaration or config.py, or a plugin gone since it ran."""
    from readtrack.plugins import knobs
    from readtrack.plugins.discovery import plugin_config

    try:
        config = plugin_config(plugin)
        return knobs.knobs_of(config) if config is not None else []
    except Exception:  # a plugin's own code may raise anything: what it declared is unknown
        return None


# -- several side by side: a sweep -----------------------------------------------------------------
@dataclass
class LinedNumber:
    """One number across the columns: its value in each (None where a column lacks it) and verdict."""

    section: str  # check | target | measured | bench
    name: str
    values: list[float | None]
    passed: list[bool | None]
    unit: str = ""
    noisy: bool = False

    @property
    def same(self) -> bool:
        """The same value and verdict in every column (NaN and missing alike count as the same; values that
        print the same, or both at round-off, as the same: `same_printed`)."""
        values = [None if v is None or math.isnan(v) else v for v in self.values]
        first = values[0] if values else None
        alike = all(
            v is first or (v is not None and first is not None and same_printed(v, first)) for v in values
        )
        return alike and len(set(self.passed)) <= 1 and not self.noisy

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Lineup:
    """Runs or multi-seed runs side by side (a sweep's settings, ``readtrack compare SWEEP_ID``): the knobs
    that differ as rows of their own, then every number, one column each (a group's: the mean over
    seeds)."""

    plugin: str
    columns: list[Entry]
    settings: list[SettingRow]
    numbers: list[LinedNumber]
    sweep_id: str | None = None
    started_at: str = ""
    status: str = ""
    #: the ids ``readtrack compare`` was given (none: a sweep, the plugin's newest or named by its id alone)
    ids: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        """Each column's settings in one line (``defaults`` for a run of the defaults)."""
        return [setting_name(c.info.settings) for c in self.columns]

    @property
    def idents(self) -> list[str]:
        """Each column's id as ``readtrack history`` prints it (8 characters of a group's or a run's)."""
        return [(c.group_id if isinstance(c, GroupRecord) else c.info.run_id)[:8] for c in self.columns]

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "plugin": self.plugin,
                "sweep_id": self.sweep_id,
                "started_at": self.started_at,
                "status": self.status,
                "columns": [
                    {"label": label, "settings": c.info.settings, **run_summary(c)}
                    for label, c in zip(self.labels, self.columns, strict=True)
                ],
                "settings": [s.to_dict() for s in self.settings],
                "numbers": [n.to_dict() for n in self.numbers],
            }
        )


def line_up(columns: Sequence[Entry]) -> Lineup:
    """Every number of ``columns`` (one plugin's runs or groups) side by side, their knobs first."""
    per_column = _claims_as_targets([_numbers(c) for c in columns])
    keys = list(dict.fromkeys(k for numbers in per_column for k in numbers))
    missing = _Number(None, None, "")
    numbers = []
    for key in keys:
        found = [n.get(key, missing) for n in per_column]
        numbers.append(
            LinedNumber(
                key[0],
                key[1],
                [x.value for x in found],
                [x.passed for x in found],
                next((x.unit for x in found if x.unit), ""),
                any(x.noisy for x in found),
            )
        )
    plugin = columns[0].info.plugin if columns else ""
    return Lineup(plugin, list(columns), setting_rows(columns) if columns else [], numbers)
