"""Sweeps: a plugin's knobs at several values, every combination on every seed (issue 55).

``readtrack run rmsnorm --set lr=1e-3,3e-3,1e-2 --set steps=200,400 --seeds 0-2`` is six settings × three
seeds: each setting is an *arm*, run on every seed in the batch's worker processes (`readtrack.batch.groups`)
and recorded as a group of its own, every run marked with the sweep's id. The defaults are an arm too, added
when no combination is them, so that every setting is compared with what the plugin was calibrated on.

A stage that reads none of the knobs a sweep turns is not swept: it runs at the defaults only (a sweep
of ``lr`` runs a bench that reads ``seq_len`` alone once). Which knobs each stage may read is read from
``experiment.py`` with `ast`, nothing imported, following ``ctx.config(Config)`` through the module
(`readtrack.batch.knob_readers`; every knob when it escapes). The runner double-checks the stages judged
to read no knob at all (``blind``): one that calls ``ctx.config`` all the same says so
(`readtrack.runner.context.RunContext.config`), and the sweep prints that warning.

Before it starts, a sweep is a `Sweep`: settings × seeds = runs, and the time like runs took before, end
to end (`readtrack.batch.estimate`), said in one line (`Sweep.summary`).

The end is one table per number the train stage reports: each setting's mean ± sd and 95% interval over
seeds (Student's t, `readtrack.history.spread`; a ratio's on the log scale), the defaults' row marked, and
which settings differ from the defaults beyond their intervals (the two intervals do not overlap: a rough,
conservative test). Below `readtrack.history.spread.MIN_RUNS` runs on either side nothing is claimed: the
row says it has too few runs. Torch-free.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from readtrack.base.words import plural
from readtrack.batch.estimate import Estimate, Shape
from readtrack.batch.groups import Arm, PluginOutcome
from readtrack.batch.knob_readers import EVERY_STAGE as EVERY_STAGE  # the knobs each stage reads, here too
from readtrack.batch.knob_readers import KnobReaders as KnobReaders
from readtrack.batch.knob_readers import knob_readers as knob_readers
from readtrack.batch.knob_readers import plugin_knob_readers as plugin_knob_readers
from readtrack.history.spread import MIN_RUNS, Spread, same_printed, spreads
from readtrack.plugins.declaration import STAGES
from readtrack.plugins.knobs import off_default, setting_name, settings_label
from readtrack.plugins.records import float_or_nan

if TYPE_CHECKING:
    from readtrack.history.sweeps import SweepRecord


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


# -- a sweep before it starts ------------------------------------------------------------------------
#: A sweep of more runs than this asks before it starts, on a terminal (``--yes`` skips the question).
RUNS_WITHOUT_ASKING = 20


def asks(runs: int, confirmed: bool, on_terminal: bool) -> bool:
    """Whether a sweep of ``runs`` asks before it starts: above `RUNS_WITHOUT_ASKING` on a terminal, unless
    ``confirmed`` (``--yes``). In a pipe it runs without asking (its plan line printed all the same)."""
    return runs > RUNS_WITHOUT_ASKING and not confirmed and on_terminal


@dataclass(frozen=True)
class Sweep:
    """What a sweep will run: its arms (settings) on its seeds, each arm's stages (the defaults run every
    stage asked for; another setting only those that read a knob turned), the knobs it turns, the stages
    asked for that read none of them (``unswept``: run at the defaults only) and, of those, the ones that
    read no knob at all (``blind``: the runner warns if one calls ``ctx.config``)."""

    plugin: str
    arms: list[Arm]
    seeds: list[int]
    stages: list[tuple[str, ...]]  # per arm, in its order
    blind: tuple[str, ...] = ()
    unswept: tuple[str, ...] = ()
    turned: tuple[str, ...] = ()

    @property
    def runs(self) -> int:
        return len(self.arms) * len(self.seeds)

    @property
    def swept(self) -> bool:
        """More than the defaults' setting is left to run (a stage that reads knobs was asked for)."""
        return len(self.arms) > 1

    def only(self, index: int, asked: str | None) -> str | tuple[str, ...] | None:
        """The ``only`` of the requests of arm ``index``: what was asked (``--only``, or None for every
        stage) when the arm runs all of it, else the stages it runs."""
        every = (asked,) if asked else STAGES
        return asked if self.stages[index] == tuple(every) else self.stages[index]

    def blind_note(self) -> str:
        """``check and bench read no knob: run once at the defaults``, or ``bench does not read lr: ...``
        when a stage left at the defaults reads other knobs (empty when every stage reads a knob turned)."""
        unswept = self.unswept or self.blind
        if not unswept:
            return ""
        named = " and ".join(unswept)
        one = len(unswept) == 1
        if all(s in self.blind for s in unswept) or not self.turned:
            what = f"{'reads' if one else 'read'} no knob"
        else:
            knobs = ", ".join(self.turned[:-1]) + (" or " if len(self.turned) > 1 else "") + self.turned[-1]
            what = f"{'does' if one else 'do'} not read {knobs}"
        where = "run once at the defaults" if len(self.seeds) == 1 else "run at the defaults only"
        return f"{named} {what}: {where}"

    def summary(self, expected: Estimate) -> str:
        """The plan in one line: settings × seeds = runs, which stages run at the defaults only, and the
        time ``expected`` (`readtrack.batch.estimate.announce` of `shapes`)."""
        size = f"{plural(len(self.arms), 'setting')} × {plural(len(self.seeds), 'seed')} = "
        note = self.blind_note()
        return (
            f"{self.plugin} sweep: {size}{plural(self.runs, 'run')}"
            + (f" ({note})" if note else "")
            + f"; {expected.text}"
        )

    def shapes(self, quick: bool, device: str, threads: int) -> list[Shape]:
        """Each run, in the order the batch starts them (setting by setting, seed by seed), as its time
        is looked up."""
        return [
            Shape(self.plugin, stages, quick, device, threads) for stages in self.stages for _ in self.seeds
        ]

    def lines(self) -> list[str]:
        """Each setting and the stages it runs, for ``--dry-run``."""
        labels = [setting_name(dict(turned)) for _, turned in self.arms]
        width = max(len(label) for label in labels)
        return [
            f"  {label:<{width}}  {', '.join(stages)}"
            for label, stages in zip(labels, self.stages, strict=True)
        ]


def batch_shapes(
    plugins: Sequence[str], seeds: Sequence[int], asked: str | None, quick: bool, device: str, threads: int
) -> list[Shape]:
    """Each run of a batch of ``plugins`` × ``seeds`` (the stages ``asked``; None for all), in the order it
    starts them (plugin by plugin, seed by seed)."""
    stages = (asked,) if asked else STAGES
    return [Shape(plugin, stages, quick, device, threads) for plugin in plugins for _ in seeds]


def batch_summary(plugins: Sequence[str], seeds: Sequence[int], expected: Estimate) -> str:
    """The plan of a batch in one line, as `Sweep.summary` says a sweep's: plugins × seeds = runs and the
    time ``expected``."""
    runs = len(plugins) * len(seeds)
    size = f"{plural(len(seeds), 'seed')} = {plural(runs, 'run')}"
    size = f"{plugins[0]}: {size}" if len(plugins) == 1 else f"{plural(len(plugins), 'plugin')} × {size}"
    return f"{size}; {expected.text}"


def sweep_of(
    plugin: str, arms_: Sequence[Arm], seeds: Sequence[int], asked: str | None, readers: KnobReaders
) -> Sweep:
    """The `Sweep` of ``arms_`` on ``seeds``, the stages ``asked`` (``--only``; None for all) divided by
    ``readers``: a setting other than the defaults runs only the stages that read a knob the arms turn,
    and one left with none is dropped."""
    every = (asked,) if asked else STAGES
    turned = tuple(dict.fromkeys(key for _, settings in arms_ for key, _ in settings))
    blind = readers.blind(every)
    unswept = tuple(s for s in every if s in blind or (turned and not readers.reads(s, turned)))
    swept = tuple(s for s in every if s not in unswept)
    kept: list[Arm] = []
    stages: list[tuple[str, ...]] = []
    for arm in arms_:
        mine = tuple(every) if not arm[1] else swept
        if mine:
            kept.append(arm)
            stages.append(mine)
    return Sweep(plugin, kept, list(seeds), stages, blind, unswept, turned)


# -- the end: a table per number ----------------------------------------------------------------------
#: What a row says beside the defaults: ``same`` (the means print the same: equal to the 4 significant digits
#: a table shows, or both at round-off, `readtrack.history.spread.same_printed`), ``differs`` (else, the 95%
#: intervals do not overlap), ``within`` (they overlap), ``too few runs`` (fewer than `MIN_RUNS` on either
#: side: no verdict), ``no interval`` (a number missing or not finite on either side) or ``defaults`` (the
#: defaults' row itself).
Verdict = Literal["same", "differs", "within", "too few runs", "no interval", "defaults"]

#: What a row says of the claim (a target's threshold): ``asserted`` (the run judged it), ``not asserted
#: with these settings`` (knobs turned: the threshold was calibrated on the defaults), ``not asserted at
#: this size`` (a quick run of the defaults that only reports it); None for a number that is no claim.
ClaimState = Literal["asserted", "not asserted with these settings", "not asserted at this size"]


@dataclass
class Row:
    """One setting's spread of one number over seeds, and how it stands beside the defaults'."""

    settings: str  # "lr=0.01 steps=200", "" for the defaults
    spread: Spread
    verdict: Verdict
    #: the fewest runs of this row and the defaults' (what ``too few runs`` counts)
    fewest: int = 0
    claim: ClaimState | None = None

    @property
    def defaults(self) -> bool:
        return not self.settings

    @property
    def runs(self) -> int:
        """How many runs (one per seed) recorded this number."""
        return len(self.spread.finite)

    @property
    def differs(self) -> bool | None:
        """The interval lies apart from the defaults' (True), overlaps it or has the same mean as printed
        (False), or no verdict (None)."""
        return {"differs": True, "within": False, "same": False}.get(self.verdict)

    def to_dict(self) -> dict[str, object]:
        low, high = self.spread.ci95
        return {
            "settings": self.settings,
            "defaults": self.defaults,
            "runs": self.runs,
            "mean": _number(self.spread.mean),
            "sd": _number(self.spread.std),
            "ci95": [_number(low), _number(high)],
            "ci95_scale": "log" if self.spread.log_scale else "linear",
            "verdict": self.verdict,
            "differs_from_defaults": self.differs,
            "claim": self.claim,
            **({"passed": self.spread.n_passed} if self.claim == "asserted" else {}),
        }


@dataclass
class NumberTable:
    """A number of the train stage across the sweep's settings."""

    name: str
    target: float | None
    higher_is_better: bool
    rows: list[Row] = field(default_factory=list)

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
            verdict, fewest = (
                compared(spread, defaults.get(name)) if label else ("defaults", len(spread.finite))
            )
            rows.append(Row(label, spread, verdict, fewest, _claim(spread, label)))
        first = next(found[name] for _, found in per_arm if name in found)
        made.append(NumberTable(name, first.target, first.higher_is_better, rows))
    return made


def recorded(found: SweepRecord) -> list[PluginOutcome]:
    """A sweep as history holds it as the outcomes of its batch: each setting with runs, in the sweep's
    order. `tables` of them are the tables the run printed at its end (``readtrack history SWEEP_ID``,
    ``compare SWEEP_ID`` and ``run --resume`` print them again)."""
    return [
        PluginOutcome(g.plugin, g.seeds, g, None, float_or_nan(g.duration_s), tuple(g.info.settings.items()))
        for g in found.groups
        if g.runs
    ]


def compared(spread: Spread, base: Spread | None) -> tuple[Verdict, int]:
    """How ``spread`` stands beside the defaults' ``base``, and the fewest runs of the two: no verdict
    below `MIN_RUNS` runs on either side (two seeds' t interval is ±12.7 standard errors wide)."""
    if base is None:
        return "no interval", len(spread.finite)
    fewest = min(len(spread.finite), len(base.finite))
    if fewest < MIN_RUNS:
        return ("too few runs" if fewest > 0 else "no interval"), fewest
    if same_printed(spread.mean, base.mean):  # 0.6773 beside 0.6773 (a last bit apart): not "differs"
        return "same", fewest
    apart = _apart(spread.ci95, base.ci95)
    return ("no interval" if apart is None else "differs" if apart else "within"), fewest


def _claim(spread: Spread, label: str) -> ClaimState | None:
    if spread.target is None:
        return None
    if spread.kind == "target":
        return "asserted"
    return "not asserted with these settings" if label else "not asserted at this size"


def _apart(a: tuple[float, float], b: tuple[float, float]) -> bool | None:
    if any(math.isnan(x) for x in (*a, *b)):
        return None
    return a[1] < b[0] or b[1] < a[0]


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None
