"""What a batch cut short left to run, read from history: ``readtrack run --resume ID`` (issue 83).

A group (``readtrack run NAME --seeds 0-4``) or a sweep (``--set lr=A,B``) cut short by Ctrl-C, a cancelled
batch or a killed process keeps the runs that finished. What is left, and what a resume runs:

- a seed with no run because the batch was cancelled before it finished (`CANCELLED_BEFORE_END`), and a
  run recorded as cancelled or interrupted;
- in a sweep, a setting with no group at all (cut short before any of its seeds finished): every seed.

A run that ended, failed or not (failed, an error, a timeout, or a worker that died without a record),
stays as it is: its verdict is a result, and a resume does not roll the dice again. ``--retry-failed`` runs
those too, each new run taking its seed's place in the group.

A resume runs what the group's runs were asked to be (`readtrack.history.runs.stored_requests`), kept with
every group and sweep recorded since; one recorded before that is refused, naming the command that runs it
again from the start. Torch-free, as all of history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from readtrack.base.errors import UsageError
from readtrack.history import runs as history
from readtrack.history import sweeps
from readtrack.history.spread import CANCELLED_BEFORE_END, GroupRecord
from readtrack.history.sweeps import Listed, SweepRecord
from readtrack.plugins.knobs import settings_label
from readtrack.plugins.records import RunRecord

#: A seed's run with one of these statuses did not finish: a resume runs it again.
UNFINISHED = ("cancelled", "interrupted", "running")


def seeds_left(group: GroupRecord, retry_failed: bool = False) -> list[int]:
    """The seeds of ``group`` a resume runs, in its order: those cancelled before they finished (no run, or
    a run that did not finish); with ``retry_failed``, every seed whose run did not pass too."""
    runs = {r.info.seed: r for r in group.runs}
    left = []
    for seed in group.seeds:
        run = runs.get(seed)
        if run is None:
            if retry_failed or group.missing.get(seed, CANCELLED_BEFORE_END) == CANCELLED_BEFORE_END:
                left.append(seed)
        elif run.status in UNFINISHED or (retry_failed and run.status != "passed"):
            left.append(seed)
    return left


@dataclass
class Setting:
    """One setting of a sweep (one group of a group's resume): its knobs, its group when it has one, and
    the seeds left to run."""

    settings: dict[str, Any]
    group: GroupRecord | None
    left: list[int]


@dataclass
class Resumable:
    """The group or sweep ``readtrack run --resume ID`` names: what it holds, what its runs were asked to
    be (``requests``: one for a group, one a setting for a sweep, as JSON; None when recorded before
    readtrack kept them), and what is left to run."""

    group: GroupRecord | None
    sweep: SweepRecord | None
    requests: list[str] | None
    settings: list[Setting]

    @property
    def ident(self) -> str:
        """The group's or the sweep's full id."""
        return self.sweep.sweep_id if self.sweep is not None else self.group.group_id  # type: ignore[union-attr]

    @property
    def plugin(self) -> str:
        return self.sweep.plugin if self.sweep is not None else self.group.plugin  # type: ignore[union-attr]

    @property
    def seeds(self) -> list[int]:
        return self.sweep.seeds if self.sweep is not None else self.group.seeds  # type: ignore[union-attr]

    @property
    def runs_left(self) -> int:
        return sum(len(s.left) for s in self.settings)

    @property
    def planned(self) -> int:
        return len(self.settings) * len(self.seeds)

    def what(self) -> str:
        """``the group 1a2b3c4d of rmsnorm`` or ``the sweep 1a2b3c4d of rmsnorm``."""
        return f"the {'sweep' if self.sweep is not None else 'group'} {self.ident[:8]} of {self.plugin}"

    def done(self) -> str:
        """``3 of 5 seeds finished`` (a sweep: ``4 of 6 runs finished``)."""
        unit = "runs" if self.sweep is not None else "seeds"
        return f"{self.planned - self.runs_left} of {self.planned} {unit} finished"


def find(ident: str, *, retry_failed: bool = False) -> Resumable:
    """The group or sweep whose id starts with ``ident`` (as `readtrack history` prints it; 4 characters
    or more), with what is left of it to run. A UsageError names an id that is no group's or sweep's: no
    one's, a run made alone, a seed's run of a group, a setting of a sweep (its sweep is named)."""
    found = sweeps.by_id(ident)
    if found is None:
        raise UsageError(f"{ident}: no group or sweep has such an id (`readtrack history` lists them)")
    if isinstance(found, SweepRecord):
        return _with_requests(_of_sweep(found, retry_failed))
    (entry,) = found
    if isinstance(entry, RunRecord):
        info = entry.info
        if info.sweep_id:
            raise UsageError(_part_of(ident, "a seed's run of the sweep", info.sweep_id))
        if info.group_id:
            raise UsageError(_part_of(ident, "a seed's run of the group", info.group_id))
        raise UsageError(
            f"{ident}: a run of {info.plugin} made alone, not a group or a sweep: nothing to resume "
            f"(`readtrack run {info.plugin}` runs it again)"
        )
    sweep_id = next((r.info.sweep_id for r in entry.runs if r.info.sweep_id), None)
    if sweep_id:
        raise UsageError(_part_of(ident, "one setting of the sweep", sweep_id))
    return _with_requests(_of_group(entry, retry_failed))


def _with_requests(resumable: Resumable) -> Resumable:
    """``resumable`` with what its runs were asked to be, read from history."""
    if resumable.sweep is not None:
        resumable.requests = history.stored_requests(sweep_id=resumable.ident)
    else:
        resumable.requests = history.stored_requests(group_id=resumable.ident)
    return resumable


def _of_sweep(sweep: SweepRecord, retry_failed: bool) -> Resumable:
    """A sweep and what is left of it: each setting's group (matched by its knobs) and seeds left, or,
    with no group, every seed."""
    by_label = {settings_label(g.info.settings): g for g in sweep.groups if g.runs}
    settings = []
    for turned in sweep.settings:
        group = by_label.get(settings_label(turned))
        left = seeds_left(group, retry_failed) if group is not None else list(sweep.seeds)
        settings.append(Setting(turned, group, left))
    return Resumable(None, sweep, None, settings)


def _of_group(group: GroupRecord, retry_failed: bool) -> Resumable:
    settings = [Setting(group.info.settings if group.runs else {}, group, seeds_left(group, retry_failed))]
    return Resumable(group, None, None, settings)


def _part_of(ident: str, what: str, whole: str) -> str:
    return f"{ident}: {what} {whole[:8]}: resume that (`readtrack run --resume {whole[:8]}`)"


def notes(entries: Sequence[Listed]) -> list[str]:
    """For `readtrack history`: a line per group or sweep listed that a resume can finish (cut short, and
    recorded with what its runs were asked to be): ``rmsnorm 1a2b3c4d: 3 of 5 seeds finished; resume with
    `readtrack run --resume 1a2b3c4d```."""
    found = []
    for entry in entries:
        if isinstance(entry, SweepRecord) and entry.status != "running":
            resumable = _of_sweep(entry, False)
        elif isinstance(entry, GroupRecord) and entry.runs:
            resumable = _of_group(entry, False)
        else:
            continue
        if resumable.runs_left and _with_requests(resumable).requests:
            short = resumable.ident[:8]
            how = f"resume with `readtrack run --resume {short}`"
            found.append(f"{resumable.plugin} {short}: {resumable.done()}; {how}")
    return found
