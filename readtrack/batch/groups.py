"""Many plugin runs at once: one plugin on several seeds (``readtrack run NAME --seeds 0-4``) and the whole
shelf (``readtrack run --all``), in parallel worker processes.

Each run is a `RunRequest` handed to an executor (`readtrack.batch.executor`; by default the fork-server pool
of this machine, `readtrack.batch.pool`): a process of its own per run, so a plugin that crashes, hangs or
changes torch's global state cannot touch another, and a run's numbers are exactly those of the same run made
alone (the thread policy fixes the float sums; ``tests/batch/test_batch.py`` checks it). This process never
imports torch: it hands every event to ``on_event`` tagged with its request. A plugin's runs are recorded
in history together once they have all ended (see
:func:`readtrack.history.runs.record_group`); when the batch is cancelled, the seeds that had finished are
recorded as a ``cancelled`` group that names the seeds that did not, and nothing half-run is kept. A sweep
keeps what it set out to run with its first setting recorded, so history shows what a Ctrl-C left out.
More than `SEEDS_WITHOUT_ASKING` seeds per plugin start only when the user says so (``--yes``).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from readtrack.base.errors import UsageError
from readtrack.base.words import plural, seeds_label
from readtrack.batch.executor import Executor, JobsCancelled, OnEvent, Outcome
from readtrack.batch.pool import CANCEL_GRACE_S, ForkServerPool, Job, run_jobs
from readtrack.batch.request import RunRequest
from readtrack.history.run_times import RunTime
from readtrack.history.spread import CANCELLED_BEFORE_END, GroupRecord
from readtrack.plugins import events
from readtrack.plugins.knobs import value_text
from readtrack.plugins.records import RunRecord, RunStatus, float_or_nan, worst_status

if TYPE_CHECKING:
    from readtrack.history.runs import SweepPlan

__all__ = ["CANCEL_GRACE_S", "Job", "OnEvent", "Outcome", "RunRequest", "run_jobs"]  # the seam, re-exported

#: More seeds per plugin than this (``--seeds 0-1000`` for ``0-10``) start only when confirmed (``--yes``).
SEEDS_WITHOUT_ASKING = 50


def parse_seeds(text: str) -> list[int]:
    """``0-4`` → 0..4, ``0,3,7`` → those, ``5`` → five seeds 0..4 (a single number is a count: one seed
    is ``--seed``'s job). Ranges and lists mix (``0-2,10``); repeats are dropped, order is kept."""
    spec = text.strip()
    if re.fullmatch(r"\d+", spec):
        count = int(spec)
        if count < 1:
            raise UsageError(f"--seeds {text}: at least one seed")
        return list(range(count))
    seeds: list[int] = []
    for part in spec.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match:
            raise UsageError(f"--seeds {text!r}: use a count (5), a range (0-4) or a list (0,3,7)")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last < first:
            raise UsageError(f"--seeds {text!r}: the range {first}-{last} runs backwards")
        seeds.extend(range(first, last + 1))
    return list(dict.fromkeys(seeds))


def size_question(
    plugins: Sequence[str], seeds: Sequence[int], limit: int = SEEDS_WITHOUT_ASKING
) -> str | None:
    """What to ask before starting more than ``limit`` seeds per plugin; None within the limit."""
    if len(seeds) <= limit:
        return None
    named = ", ".join(plugins) if len(plugins) <= 3 else plural(len(plugins), "plugin")
    runs = plural(len(plugins) * len(seeds), "run")
    return f"{runs}: {named} on {plural(len(seeds), 'seed')} ({seeds_label(seeds)}), more than {limit}"


#: The executors a batch runs on (``--executor``; ``READTRACK_EXECUTOR`` when none is named, the TUI's too).
EXECUTORS = ("local", "ray")


def executor_for(name: str | None, workers: int, address: str | None = None) -> Executor:
    """The executor called ``name`` (else ``READTRACK_EXECUTOR``, else ``local``): this machine's fork-server
    pool of ``workers``, or a Ray cluster (`readtrack.batch.ray_executor`: the one at ``address``, else at
    ``RAY_ADDRESS``, else a Ray of ``workers`` CPUs started for the command). Ray is imported only by the
    latter, when it runs."""
    chosen = (name or os.environ.get("READTRACK_EXECUTOR") or "local").strip().lower()
    if chosen == "ray":
        from readtrack.batch.ray_executor import RayExecutor

        return RayExecutor(address=address, cpus=workers)
    if chosen != "local":
        where = "--executor" if name else "READTRACK_EXECUTOR"
        raise UsageError(f"{where} {chosen!r}: use one of {', '.join(EXECUTORS)}")
    if address:
        raise UsageError("--address names a Ray cluster: use it with --executor ray")
    return ForkServerPool(workers)


#: How many runs at once when ``--jobs`` is not given (and the CPUs of a Ray started for a command): a whole
#: number, 1 or more. Unset: the cores this process may use.
JOBS_VARIABLE = "READTRACK_JOBS"


def default_jobs() -> int:
    """How many workers by default: ``READTRACK_JOBS``, else the cores this process may use. A value that is
    not a whole number of at least 1 is a UsageError naming the variable."""
    text = os.environ.get(JOBS_VARIABLE, "").strip()
    if text:
        if not text.isdecimal() or int(text) < 1:
            raise UsageError(
                f"{JOBS_VARIABLE}={text!r}: give how many runs at once, a whole number of 1 or more"
            )
        return int(text)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class RunSettings:
    """What every run of a batch shares (the options of ``readtrack run``)."""

    device: str = "auto"
    quick: bool = False
    only: str | None = None
    timeout: float | None = None
    impl: str | None = None
    threads: int = 1
    settings: tuple[tuple[str, Any], ...] = ()  # knobs turned (``--set``), already checked
    #: a sweep's: the stages asked for that read no knob, run at the defaults only (`readtrack.batch.sweep`)
    knob_blind: tuple[str, ...] = ()

    def request(
        self,
        plugin: str,
        seed: int,
        group_id: str = "",
        turned: tuple[tuple[str, Any], ...] = (),
        stages: tuple[str, ...] | None = None,
    ) -> RunRequest:
        """The request of one run of the batch: ``plugin`` at ``seed`` with these settings and ``turned``
        (a sweep's setting) on top, ``stages`` instead of ``only`` when given (a sweep's setting runs the
        stages that read knobs); every field of these settings is a field of the request, by name."""
        shared = {**asdict(self), "settings": (*self.settings, *turned)}
        if stages is not None:
            shared["only"] = stages
        return RunRequest(plugin=plugin, seed=seed, group_id=group_id, **shared)


class BatchCancelled(JobsCancelled):
    """Raised by :func:`run_batch` when cancelled: ``outcomes`` holds the jobs that had ended by then,
    ``recorded`` each plugin (or sweep setting) whose runs went into history (all of its seeds, or, cut
    short, those that finished) and ``unfinished`` the seeds of each that did not finish."""

    def __init__(self, outcomes: list[Outcome]) -> None:
        super().__init__(outcomes)
        self.recorded: list[PluginOutcome] = []
        self.unfinished: dict[str, list[int]] = {}
        self.sweep_id: str | None = None  # a sweep's: where history keeps what was recorded
        #: the groups (or the sweep) recorded cut short, by id: what ``readtrack run --resume ID`` finishes
        self.resumable: list[str] = []

    def summary(self) -> str:
        """One line: what was recorded, what did not finish (and is not in history)."""
        runs = sum(len(o.new_runs) for o in self.recorded)
        kept = "; ".join(
            f"{o.arm_label(self.sweep_id is not None)} seeds {seeds_label([r.info.seed for r in o.new_runs])}"
            for o in self.recorded
            if o.new_runs
        )
        line = f"cancelled: recorded {plural(runs, 'finished run')}" + (f" ({kept})" if kept else "")
        if self.unfinished:
            lost = "; ".join(f"{p} seeds {seeds_label(s)}" for p, s in self.unfinished.items())
            line += f"; not finished, not recorded: {lost}"
        if len(self.resumable) == 1:
            line += f"; resume with `readtrack run --resume {self.resumable[0][:8]}`"
        elif self.resumable:
            ids = ", ".join(ident[:8] for ident in self.resumable)
            line += f"; resume each with `readtrack run --resume ID` ({ids})"
        if self.sweep_id and runs:
            line += f"; `readtrack history {self.sweep_id[:8]}` shows the sweep"
        return line


# -- groups ----------------------------------------------------------------------------------------
def new_group_id() -> str:
    return uuid4().hex


#: A plugin and the knobs its runs turn (``(("lr", 0.01),)``; none for its defaults): a sweep's setting.
Arm = tuple[str, tuple[tuple[str, Any], ...]]


def plan(
    arms: Sequence[Arm],
    seeds: Sequence[int],
    settings: RunSettings | None = None,
    stages: Sequence[tuple[str, ...] | None] = (),
) -> list[RunRequest]:
    """One request per arm (a plugin with its settings) and seed, arms in order, one group id per arm;
    ``stages[i]``, when given, the stages arm i runs (else the settings' ``only``)."""
    settings = settings or RunSettings()
    jobs: list[RunRequest] = []
    for i, (plugin, turned) in enumerate(arms):
        group_id = new_group_id()
        mine = stages[i] if i < len(stages) else None
        jobs.extend(settings.request(plugin, seed, group_id, turned, mine) for seed in seeds)
    return jobs


def group_of(outcomes: Sequence[Outcome], started_at: str, duration_s: float) -> GroupRecord:
    """The group record of one plugin's outcomes (in seed order); a seed without a record is ``missing``
    and makes the group an error."""
    job = outcomes[0].job
    runs = [o.record for o in outcomes if o.record is not None]
    missing = {o.job.seed: o.error or "no record" for o in outcomes if o.record is None}
    statuses: list[RunStatus] = [r.status for r in runs] + (["error"] if missing else [])
    return GroupRecord(
        group_id=job.group_id,
        plugin=job.plugin,
        seeds=[o.job.seed for o in outcomes],
        started_at=started_at,
        status=worst_status(statuses),
        duration_s=duration_s,
        runs=runs,
        missing=missing,
    )


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# -- a batch: plugins × seeds, recorded plugin by plugin --------------------------------------------
@dataclass
class PluginOutcome:
    """One plugin (a sweep: one setting of it) of a batch once all its seeds ended: a run (one seed) or a
    group (several, or any number in a sweep)."""

    plugin: str
    seeds: list[int]
    entry: RunRecord | GroupRecord | None
    error: str | None
    wall_s: float
    settings: tuple[tuple[str, Any], ...] = ()
    #: a resumed group's: the ids of the runs this batch added to it (None: every run is this batch's)
    fresh: frozenset[str] | None = None

    @property
    def label(self) -> str:
        """``rmsnorm`` or, in a sweep, ``rmsnorm lr=0.01``."""
        return " ".join([self.plugin, *(f"{k}={value_text(v)}" for k, v in self.settings)])

    def arm_label(self, swept: bool) -> str:
        """`label`, and in a sweep ``rmsnorm defaults`` for its setting of the defaults."""
        return f"{self.plugin} defaults" if swept and not self.settings else self.label

    @property
    def status(self) -> RunStatus:
        return self.entry.status if self.entry is not None else "error"

    @property
    def runs(self) -> list[RunRecord]:
        if isinstance(self.entry, GroupRecord):
            return self.entry.runs
        return [self.entry] if self.entry is not None else []

    @property
    def new_runs(self) -> list[RunRecord]:
        """The runs this batch recorded: `runs`, less a resumed group's runs recorded before."""
        return [r for r in self.runs if self.fresh is None or r.info.run_id in self.fresh]


def template(job: RunRequest) -> str:
    """What a group's runs were asked to be, as history keeps it with the group: ``job``'s request as JSON,
    its seed and group left out (a resume gives each run its own)."""
    return replace(job, seed=0, group_id="").to_json()


@dataclass
class Resumed:
    """What ``readtrack run --resume ID`` runs (`readtrack.batch.resume`): the requests left of a group or a
    sweep, each with the id of the group it was cut from (a sweep's setting that has no group yet: a new
    one); ``turned``, each group's setting of the sweep (its arm's knobs; none for a group); ``prior``,
    each group as history holds it; ``sweep``, the sweep's plan, and how long it has run so far."""

    jobs: list[RunRequest]
    turned: dict[str, tuple[tuple[str, Any], ...]] = field(default_factory=dict)
    prior: dict[str, GroupRecord] = field(default_factory=dict)
    sweep: SweepPlan | None = None
    sweep_duration_s: float = 0.0


def merged(old: GroupRecord, new: GroupRecord) -> GroupRecord:
    """A resumed group as it now stands: ``old`` (as history held it) with ``new`` (what the resume ran)
    in its seeds' places. A new run takes its seed's place (of no run, a cancelled run or, retried, a
    failed one), and so does a seed's new reason for having none; a seed cut short again keeps what it
    had. Its status is the worst of its runs', ``cancelled`` while a seed is left so, an error while one
    has no run for another reason; its duration, both parts'."""
    runs = {r.info.seed: r for r in old.runs}
    missing = dict(old.missing)
    for seed, why in new.missing.items():
        if seed not in runs or why != CANCELLED_BEFORE_END:
            runs.pop(seed, None)
            missing[seed] = why
    for run in new.runs:
        runs[run.info.seed] = run
        missing.pop(run.info.seed, None)
    order = {seed: i for i, seed in enumerate(old.seeds)}
    members = sorted(runs.values(), key=lambda r: order.get(r.info.seed, len(order)))
    statuses: list[RunStatus] = [r.status for r in members]
    statuses += ["error"] if any(why != CANCELLED_BEFORE_END for why in missing.values()) else []
    statuses += ["cancelled"] if CANCELLED_BEFORE_END in missing.values() else []
    took = sum(t for t in (float_or_nan(old.duration_s), new.duration_s) if t == t)  # NaN: not known
    return GroupRecord(
        old.group_id, old.plugin, list(old.seeds), old.started_at, worst_status(statuses), took, members,
        {seed: missing[seed] for seed in old.seeds if seed in missing},
    )  # fmt: skip


def run_batch(
    plugins: Sequence[str],
    seeds: Sequence[int],
    settings: RunSettings,
    *,
    workers: int,
    on_event: OnEvent | None = None,
    on_done: Callable[[PluginOutcome], None] | None = None,
    cancel: threading.Event | None = None,
    keep_history: bool = True,
    arms: Sequence[Arm] = (),
    sweep_id: str | None = None,
    executor: Executor | None = None,
    arm_stages: Sequence[tuple[str, ...] | None] = (),
    history_db: Path | None = None,
    resume: Resumed | None = None,
) -> list[PluginOutcome]:
    """Run every plugin on every seed on ``executor`` (by default this machine's fork-server pool of
    ``workers``) and return one outcome per plugin, in order.

    As soon as a plugin's last seed ends, its runs go into history (one run alone, several as a group, in
    one transaction) and ``on_done`` hears of it; a plugin still running when the batch is cancelled
    leaves no trace, but for a batch of one run, which records itself as cancelled (as ``readtrack run NAME``
    does). Raises :class:`BatchCancelled` (its ``outcomes`` are the jobs that ended).

    ``arms`` (a sweep: the plugin once per setting, `readtrack.batch.sweep`) replaces ``plugins``: one
    outcome per arm, each recorded as a group, its runs marked with ``sweep_id``; ``arm_stages[i]``, when
    given, the stages arm i runs (a sweep's `readtrack.batch.sweep.Sweep.stages`). ``history_db``: the
    database the runs are recorded in when not the data dir's (a calibration's, `readtrack.batch.calibrate`);
    this process's environment is not changed for it.

    ``resume`` (``readtrack run --resume``, `readtrack.batch.resume`) replaces all of that: its requests
    run, each into the group it was cut from, and each group is recorded as it now stands (its runs kept,
    the new ones in their seeds' places, `merged`)."""
    from readtrack.history import runs as history

    prior: dict[str, GroupRecord] = {}  # a resume's: each group as history held it, by id
    swept: SweepPlan | None = None  # what a sweep sets out to run, kept with its first setting recorded
    if resume is not None:
        jobs, turned, prior, swept = list(resume.jobs), dict(resume.turned), resume.prior, resume.sweep
        sweep_id = swept.sweep_id if swept is not None else None
    else:
        arms = list(arms) or [(plugin, ()) for plugin in plugins]
        jobs = plan(arms, seeds, settings, arm_stages)
        # each group's setting of the sweep (the knobs its arm turns, on top of those every run shares)
        turned = dict(zip(dict.fromkeys(j.group_id for j in jobs), (t for _, t in arms), strict=True))
    executor = executor or ForkServerPool(workers)
    kind = executor_kind(executor)
    began = time.perf_counter()
    by_group: dict[str, list[Job]] = {}
    for job in jobs:
        by_group.setdefault(job.group_id, []).append(job)
    # what each group's runs were asked to be, kept with it (what a later `--resume` runs)
    requests = {group_id: template(members[0]) for group_id, members in by_group.items()}
    if sweep_id is not None and resume is None:
        swept = history.SweepPlan(
            sweep_id, arms[0][0], [dict(t) for _, t in arms], list(seeds), now_iso(), list(requests.values())
        )
    if swept is not None and resume is not None and keep_history:
        history.sweep_resumed(swept.sweep_id)
    started: dict[str, tuple[str, float]] = {}
    ended: dict[Job, Outcome] = {}
    results: dict[str, PluginOutcome] = {}  # by group id

    def group(members: Sequence[Outcome], when: str, wall: float) -> GroupRecord:
        entry = group_of(members, when, wall)
        for run in entry.runs:
            run.info.sweep_id = sweep_id
        return entry

    def times(members: Sequence[Outcome]) -> dict[str, RunTime]:
        """What each run of ``members`` took, as this batch saw it (by run id)."""
        return {o.record.info.run_id: run_time(o, kind, workers) for o in members if o.record is not None}

    def keep(entry: GroupRecord, members: Sequence[Outcome]) -> GroupRecord:
        """``entry`` into history (a resumed group: as it now stands, `merged`), and what it is now."""
        old = prior.get(entry.group_id)
        if old is not None:
            entry = merged(old, entry)
        if keep_history:
            history.record_group(
                entry, swept, request=requests[entry.group_id], replacing=old is not None, db=history_db,
                times=times(members),
            )  # fmt: skip
        return entry

    def conclude_cut_short(group_id: str) -> None:
        """Cancelled: the seeds that finished, recorded as a ``cancelled`` group naming the rest."""
        jobs = by_group[group_id]
        members = [ended[j] for j in jobs if j in ended]
        if not members:
            return
        when, t0 = started[group_id]
        wall = time.perf_counter() - t0
        cut = group(members, when, wall)
        if not cut.runs:
            return
        cut.seeds = [j.seed for j in jobs]
        cut.missing.update({j.seed: CANCELLED_BEFORE_END for j in jobs if j not in ended})
        cut.status = worst_status([*(r.status for r in cut.runs), "cancelled"])
        fresh = frozenset(r.info.run_id for r in cut.runs) if group_id in prior else None
        seeds = list(cut.seeds)
        cut = keep(cut, members)
        outcome = PluginOutcome(jobs[0].plugin, seeds, cut, None, wall, turned[group_id], fresh)
        results[group_id] = outcome
        if on_done is not None:
            on_done(outcome)

    def conclude(group_id: str) -> None:
        members = [ended[j] for j in by_group[group_id]]
        when, t0 = started[group_id]
        wall = time.perf_counter() - t0
        first = members[0].job
        fresh = None
        if len(members) == 1 and sweep_id is None and group_id not in prior:
            (one,) = members
            if one.record is not None:
                one.record.info.group_id = None
            entry: RunRecord | GroupRecord | None = one.record
            error = one.error
            if keep_history and one.record is not None:
                history.record_finished(one.record, db=history_db, time=run_time(one, kind, workers))
        else:
            entry = group(members, when, wall)
            error = None if entry.runs else "; ".join(f"seed {s}: {w}" for s, w in entry.missing.items())
            fresh = frozenset(r.info.run_id for r in entry.runs) if group_id in prior else None
            # a resumed group is recorded as it now stands, whatever ran
            entry = keep(entry, members) if entry.runs or group_id in prior else None
        outcome = PluginOutcome(
            first.plugin, [m.job.seed for m in members], entry, error, wall, turned[group_id], fresh
        )
        results[group_id] = outcome
        if on_done is not None:
            on_done(outcome)

    def track(job: Job, event: dict[str, Any]) -> None:
        if events.is_job(event, "start"):
            started.setdefault(job.group_id, (now_iso(), time.perf_counter()))
        if on_event is not None:
            on_event(job, event)

    def on_job_end(outcome: Outcome) -> None:
        ended[outcome.job] = outcome
        if all(j in ended for j in by_group[outcome.job.group_id]):
            conclude(outcome.job.group_id)

    groups = list(by_group)  # in the arms' order
    try:
        executor.run(jobs, on_event=track, on_end=on_job_end, cancel=cancel)
    except JobsCancelled as cut:
        stop = BatchCancelled(cut.outcomes)
        stop.signum = cut.signum  # Ctrl+C, SIGTERM or SIGHUP: the exit status says which
        for outcome in stop.outcomes:  # ended, though Ctrl-C came before this thread was told (on_end)
            ended.setdefault(outcome.job, outcome)
        if len(jobs) == 1 and sweep_id is None and not prior:  # one run, stopped mid-stage: recorded as
            for outcome in cut.cut_short:  # cancelled, as `readtrack run NAME` records one stopped by Ctrl-C
                ended.setdefault(outcome.job, outcome)
        for group_id, members in by_group.items():
            if group_id in results:
                continue
            if all(j in ended for j in members):
                conclude(group_id)
            elif len(members) > 1 or sweep_id is not None or group_id in prior:
                conclude_cut_short(group_id)
        stop.recorded = [results[g] for g in groups if g in results]
        stop.sweep_id = sweep_id
        if keep_history and history_db is None:  # what `readtrack run --resume` can finish
            kept = [o.entry for o in stop.recorded if isinstance(o.entry, GroupRecord)]
            if sweep_id is not None:
                stop.resumable = [sweep_id] if kept or prior else []
            else:
                cut_short = [g.group_id for g in kept if g.status == "cancelled"]
                stop.resumable = list(dict.fromkeys([*cut_short, *(g for g in prior if g not in results)]))
        for job in jobs:
            if job not in ended:
                arm = PluginOutcome(job.plugin, [], None, None, 0.0, turned[job.group_id])
                stop.unfinished.setdefault(arm.arm_label(sweep_id is not None), []).append(job.seed)
        if swept is not None and keep_history:
            took = time.perf_counter() - began + (resume.sweep_duration_s if resume is not None else 0.0)
            history.sweep_ended(swept.sweep_id, "cancelled", took, db=history_db)
        raise stop from None
    if swept is not None and keep_history:
        took = time.perf_counter() - began + (resume.sweep_duration_s if resume is not None else 0.0)
        history.sweep_ended(swept.sweep_id, "finished", took, db=history_db)
    return [results[g] for g in groups]


def executor_kind(executor: Executor) -> str:
    """What a run pays to start on ``executor``: the pool's ``fork server`` or ``process``, else the
    executor's own name (``RayExecutor``: ``ray``)."""
    if isinstance(executor, ForkServerPool):
        return executor.kind
    return type(executor).__name__.removesuffix("Executor").lower() or "other"


def run_time(outcome: Outcome, kind: str, workers: int) -> RunTime:
    """What ``outcome``'s run took as the batch saw it, on an executor of ``kind`` with ``workers``."""
    return RunTime(outcome.wall_s, kind, outcome.worker_run, outcome.job.device, workers)


def exit_code(outcomes: Sequence[PluginOutcome]) -> int:
    """0 when every plugin passed on every seed, else 1."""
    return 0 if outcomes and all(o.status == "passed" for o in outcomes) else 1


def select_plugins(
    names: Sequence[str], *, run_all: bool = False, tag: str | None = None, section: str | None = None
) -> list[str]:
    """The plugins a batch runs: ``names`` (each checked), or with ``run_all`` every working plugin; either
    narrowed to the plugins of papers with ``tag`` or in ``section`` of the catalog (nested papers count
    for their top section). A UsageError names what is wrong."""
    from readtrack.plugins import discovery as registry

    if names and run_all:
        raise UsageError("name plugins or use --all, not both")
    if not names and not run_all:
        raise UsageError("name a plugin to run (see `readtrack plugins`), or use --all for every plugin")
    if names:
        chosen = [registry.load_plugin(name).name for name in dict.fromkeys(names)]
    else:
        chosen = [p.name for p in registry.discover() if p.status == "ok"]
    if tag or section:
        from readtrack.base.paths import catalog_path
        from readtrack.plugins.links import load

        catalog = load(catalog_path())
        papers = catalog.section(section).walk() if section else catalog.papers()
        wanted = {name for paper in papers if not tag or tag in paper.tags for name in paper.plugins}
        chosen = [name for name in chosen if name in wanted]
        if not chosen:
            where = [f"tagged {tag!r}"] if tag else []
            where += [f"in section {section!r}"] if section else []
            raise UsageError(f"no plugin runs a paper {' and '.join(where)}")
    return chosen
