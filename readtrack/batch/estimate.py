"""The time a batch or a sweep announces before it starts, and how it compares with what it took (issue 84).

A run pays more than its stages: a worker process, ``import torch``, the plugin's import, the first
optimizer's ``torch._dynamo`` (a fork server pays the imports once, `readtrack.batch.forkserver`). So a run
is expected to take what like runs took end to end, as their batch saw it (`readtrack.history.run_times`),
in this order:

1. **like runs**: the median wall time of recorded runs of the same plugin, stages, size (quick or not),
   device asked, threads and executor kind;
2. **these stages elsewhere**: the same plugin, stages and size on any executor, device or threads;
3. **stage times + start**: the median time of each stage (`readtrack.history.sweeps.stage_times`) plus
   what a run pays to start on this machine (the median of wall time less the runner's own time, over
   every recorded run of the executor's kind);
4. else nothing is announced for it (``no recorded run``).

A fork server's first run pays the worker's start, its later runs do not (measured for quick adamw runs
on 2 shared cores: 3.4-6 s beyond the runner's own time against 0.13 s), so each level keeps a worker's
first run apart from later ones, and the runs are laid out as the pool hands them out (each to the worker
that frees first; a process of its own per run pays the start every time). Torch-free.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from readtrack.base.words import plural
from readtrack.history.run_times import Timed

#: What a run's expected time came from, best first (the module docstring's order).
Basis = Literal["like runs", "these stages elsewhere", "stage times + start"]
BASES: tuple[Basis, ...] = ("like runs", "these stages elsewhere", "stage times + start")


@dataclass(frozen=True)
class Shape:
    """What a run's time depends on: its plugin, the stages it runs, its size, the device asked and its
    threads."""

    plugin: str
    stages: tuple[str, ...]
    quick: bool
    device: str = "auto"
    threads: int = 1


@dataclass(frozen=True)
class Cost:
    """What a run is expected to take: as its worker's first run, and as a later one (a fork server's)."""

    first: float
    later: float
    basis: Basis


@dataclass(frozen=True)
class Estimate:
    """What a batch announces: ``seconds`` on ``lanes`` workers (None: no run to go by), and the line."""

    seconds: float | None
    lanes: int
    text: str

    def took(self, seconds: float) -> str:
        """``announced about 12 s, took 14 s``: the end of a batch beside its start."""
        if self.seconds is None:
            return f"took {duration(seconds)} (no time was announced: no recorded run to go by)"
        return f"announced about {duration(self.seconds)}, took {duration(seconds)}"

    def to_dict(self, taken_s: float) -> dict[str, float | None]:
        """What a batch's closing JSON line carries (seconds)."""
        return {"announced_s": self.seconds, "taken_s": taken_s}


def duration(seconds: float) -> str:
    """``9 s``, ``2 min 15 s``, ``25 min``, ``1.5 h``."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _split(found: Sequence[Timed], start_gap: float) -> tuple[float, float] | None:
    """A worker's first and later runs' median wall times of ``found``; the side with no run is the other
    less or plus ``start_gap`` (what a worker's start adds on this machine)."""
    first = _median([t.time.wall_s for t in found if t.time.first])
    later = _median([t.time.wall_s for t in found if not t.time.first])
    if first is None and later is None:
        return None
    if first is None:
        first = later + start_gap  # type: ignore[operator]
    if later is None:
        later = max(first - start_gap, 0.0)
    return first, later


@dataclass(frozen=True)
class Overheads:
    """What a run pays beyond its own time on this machine, on an executor kind: as a worker's first run and
    as a later one (None: no such run recorded)."""

    first: float | None
    later: float | None

    @classmethod
    def of(cls, timed: Sequence[Timed], kind: str) -> Overheads:
        mine = [t for t in timed if t.time.executor == kind] or list(timed)
        return cls(
            _median([t.overhead_s for t in mine if t.time.first]),
            _median([t.overhead_s for t in mine if not t.time.first]),
        )

    @property
    def start_gap(self) -> float:
        """What a worker's start adds to a run (0 when either side is not known)."""
        return max(self.first - self.later, 0.0) if self.first is not None and self.later is not None else 0.0


def cost(
    shape: Shape, kind: str, timed: Sequence[Timed], stage_times: Mapping[str, float], overheads: Overheads
) -> Cost | None:
    """What a run of ``shape`` on an executor of ``kind`` is expected to take (the module docstring's order),
    from ``timed`` (recorded runs of this size, any plugin) and its plugin's ``stage_times``; None when
    nothing recorded goes by."""
    gap = overheads.start_gap
    these = [t for t in timed if t.plugin == shape.plugin and set(t.stages) == set(shape.stages)]
    like = [
        t
        for t in these
        if t.time.executor == kind and t.time.device == shape.device and t.threads == shape.threads
    ]
    for basis, found in (("like runs", like), ("these stages elsewhere", these)):
        split = _split(found, gap)
        if split is not None:
            first, later = split
            return Cost(first, first if kind == "process" else later, basis)  # type: ignore[arg-type]
    if not shape.stages or any(s not in stage_times for s in shape.stages):
        return None
    stages = sum(stage_times[s] for s in shape.stages)
    start = overheads.first if overheads.first is not None else overheads.later
    if start is None:
        return None
    later = overheads.later if overheads.later is not None else max(start - gap, 0.0)
    return Cost(stages + start, stages + (start if kind == "process" else later), "stage times + start")


def makespan(costs: Sequence[Cost], workers: int) -> float:
    """How long ``costs`` take on ``workers``, laid out as the pool hands runs out: in order, each to the
    worker that frees first; a worker's first run costs ``first``, its later ones ``later``."""
    lanes: list[tuple[float, bool]] = [(0.0, False)] * max(1, min(workers, len(costs)))
    for each in costs:
        i = min(range(len(lanes)), key=lambda k: lanes[k][0])
        free, used = lanes[i]
        lanes[i] = (free + (each.later if used else each.first), True)
    return max(free for free, _ in lanes)


def estimate(
    runs: Sequence[Shape],
    workers: int,
    kind: str,
    timed: Sequence[Timed],
    stage_times: Mapping[str, Mapping[str, float]],
    machine: Sequence[Timed] | None = None,
) -> Estimate:
    """What ``runs`` (in the order they start) on ``workers`` of an executor of ``kind`` are expected to take,
    from ``timed`` (recorded runs of their plugins), their ``stage_times`` and what a run pays to start on
    this machine (from ``machine``'s runs, any plugin; ``timed``'s when None), and the line that says it:
    ``about 40 s on 2 workers (like runs' wall times)``; the runs nothing recorded goes by are counted
    out."""
    overheads = Overheads.of(timed if machine is None else machine, kind)
    costs = [cost(shape, kind, timed, stage_times.get(shape.plugin, {}), overheads) for shape in runs]
    known = [c for c in costs if c is not None]
    if not known:
        return Estimate(None, 0, "time: no recorded run of these stages to go by")
    lanes = max(1, min(workers, len(runs)))
    seconds = makespan(known, workers)
    used = [b for b in BASES if any(c.basis == b for c in known)]
    said = {
        "like runs": "like runs' wall times",
        "these stages elsewhere": "wall times of these stages on other settings",
        "stage times + start": "stage times + a run's start here",
    }
    text = f"about {duration(seconds)} on {plural(lanes, 'worker')} ({'; '.join(said[b] for b in used)}"
    missing = len(costs) - len(known)
    if missing:
        text += f"; {plural(missing, 'run')} not counted: no recorded run"
    return Estimate(seconds, lanes, text + ")")


def announce(runs: Sequence[Shape], workers: int, kind: str) -> Estimate:
    """`estimate` from history: the recorded run times of this size and each plugin's stage times."""
    from readtrack.history.run_times import timed_runs
    from readtrack.history.runs import connection
    from readtrack.history.sweeps import stage_times

    if not runs:
        return estimate(runs, workers, kind, [], {})
    quick = runs[0].quick  # a batch's runs share their size
    plugins = list(dict.fromkeys(shape.plugin for shape in runs))
    with connection() as conn:
        timed = [t for p in plugins for t in timed_runs(conn, quick, p, limit=PER_PLUGIN)]
        machine = timed_runs(conn, quick, limit=MACHINE)
    return estimate(runs, workers, kind, timed, {p: stage_times(p, quick) for p in plugins}, machine)


#: How many of a plugin's newest timed runs its like runs are looked for in, and how many of the machine's
#: (any plugin) a run's start is measured on.
PER_PLUGIN = 100
MACHINE = 200
