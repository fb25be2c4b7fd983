"""``readtrack run --resume ID``: run what a cancelled group or sweep left, into the same group (issue 83).

What is left is history's to say (`readtrack.history.resume`: seeds cancelled before they finished, a run
cancelled or interrupted, a sweep's setting never recorded; failed runs too with ``--retry-failed``). How
each run is made is what the group kept (`readtrack.batch.groups.template`): the plugin, its knobs, quick or
full, the device, the stages, the stage timeout, the implementation and the thread count, exactly; a group
asked to run on ``auto`` runs on the device kind its runs ran on, so that a resume on another machine does
not mix devices in one group. The requests go to `readtrack.batch.groups.run_batch` as a
`readtrack.batch.groups.Resumed`, on whichever executor the command names. Options of ``readtrack run``
that would change any of that are refused (`contradictions`). Torch-free.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from readtrack.base.errors import UsageError
from readtrack.base.words import plural, seeds_label
from readtrack.batch.groups import PluginOutcome, Resumed, new_group_id, parse_seeds
from readtrack.batch.request import RunRequest
from readtrack.history import resume as left
from readtrack.history.runs import SweepPlan
from readtrack.plugins.declaration import STAGES
from readtrack.plugins.records import float_or_nan


@dataclass
class Resumption:
    """A resume before it starts: what history holds (``found``), the request of each setting (one for a
    group) and what will run (``resumed``)."""

    found: left.Resumable
    requests: list[RunRequest]
    resumed: Resumed

    @property
    def sweep_id(self) -> str | None:
        return self.found.sweep.sweep_id if self.found.sweep is not None else None

    def summary(self) -> str:
        """The plan in one line: ``rmsnorm group 1a2b3c4d: 2 of 5 seeds finished; resuming seeds 2-4 (3
        runs), quick, cpu, check``."""
        found = self.found
        kind = "sweep" if found.sweep is not None else "group"
        head = f"{found.plugin} {kind} {found.ident[:8]}: {found.done()}"
        if not self.resumed.jobs:
            return head
        seeds = sorted({job.seed for job in self.resumed.jobs})
        settings = [s for s in found.settings if s.left]
        what = f"seeds {seeds_label(seeds)}"
        if found.sweep is not None:
            what = f"{plural(len(settings), 'setting')} on {what}"
        first = self.resumed.jobs[0]
        how = ["quick" if first.quick else "full", first.device, _stages_text(first.only)]
        return f"{head}; resuming {what} ({plural(len(self.resumed.jobs), 'run')}), {', '.join(how)}"


def _stages_text(only: str | tuple[str, ...] | None) -> str:
    stages = _stages(only)
    return "every stage" if stages == STAGES else " and ".join(stages)


def _stages(only: str | tuple[str, ...] | None) -> tuple[str, ...]:
    if only is None:
        return tuple(STAGES)
    return (only,) if isinstance(only, str) else tuple(only)


def plan(ident: str, *, retry_failed: bool = False) -> Resumption:
    """What ``readtrack run --resume IDENT`` runs; a UsageError names an id that is no group's or sweep's,
    a sweep still running, or one recorded before readtrack kept what its runs were asked to be."""
    found = left.find(ident, retry_failed=retry_failed)
    if found.sweep is not None and found.sweep.status == "running":
        raise UsageError(f"{ident}: the sweep {found.ident[:8]} of {found.plugin} is still running")
    if not found.requests or len(found.requests) != len(found.settings):
        again = f"readtrack run {found.plugin} --seeds {seeds_label(found.seeds)}"
        raise UsageError(
            f"{ident}: {found.what()} was recorded before readtrack kept what its runs were asked to be "
            f"(the stages, the device, the timeout), so it cannot be resumed; run it again (`{again}`, "
            "with its options)"
        )
    requests = [_request(text, ident) for text in found.requests]
    jobs: list[RunRequest] = []
    turned: dict[str, tuple[tuple[str, Any], ...]] = {}
    prior = {}
    for setting, request in zip(found.settings, requests, strict=True):
        if not setting.left:
            continue
        group = setting.group
        group_id = group.group_id if group is not None else new_group_id()
        if group is not None:
            prior[group_id] = group
        device = _device(request.device, group)
        turned[group_id] = request.settings if found.sweep is not None else ()
        jobs += [replace(request, seed=seed, group_id=group_id, device=device) for seed in setting.left]
    swept = None
    duration = 0.0
    if found.sweep is not None:
        sweep = found.sweep
        swept = SweepPlan(sweep.sweep_id, sweep.plugin, sweep.settings, sweep.seeds, sweep.started_at,
                          list(found.requests))  # fmt: skip
        duration = float_or_nan(sweep.duration_s)
        duration = 0.0 if duration != duration else duration
    return Resumption(found, requests, Resumed(jobs, turned, prior, swept, duration))


@contextmanager
def holding(resumption: Resumption) -> Iterator[None]:
    """Hold the group's (or sweep's) resume lock for the block: a second ``run --resume`` of it meanwhile is
    refused at once, naming the holder, so that two never both run what was left (the later replacing the
    earlier's runs). The kernel drops the lock when its process ends, however it ends."""
    from readtrack.base.errors import LockedError
    from readtrack.base.paths import data_dir
    from readtrack.base.writelock import held_now

    found = resumption.found
    folder = data_dir() / "locks"
    folder.mkdir(exist_ok=True)
    kind = "sweep" if found.sweep is not None else "group"
    try:
        with held_now(folder / f"resume-{found.ident}"):
            yield
    except LockedError as holder:
        raise UsageError(
            f"--resume {found.ident[:8]}: the {kind} {found.ident[:8]} of {found.plugin} is being resumed by "
            f"another readtrack ({holder}); `readtrack history {found.plugin}` shows it when that ends"
        ) from None


def _request(text: str, ident: str) -> RunRequest:
    try:
        return RunRequest.from_json(text)
    except (ValueError, TypeError, KeyError) as err:
        raise UsageError(f"{ident}: what its runs were asked to be cannot be read back ({err})") from None


def _device(asked: str, group: left.GroupRecord | None) -> str:
    """The device a resumed run asks for: the group's own, but ``auto`` the kind its runs ran on (``cuda``
    for ``cuda:0``) when they all ran on one."""
    if asked.strip().lower() != "auto" or group is None or not group.runs:
        return asked
    kinds = {run.info.device.split(":")[0] for run in group.runs}
    return kinds.pop() if len(kinds) == 1 and kinds <= {"cpu", "cuda", "mps"} else asked


def contradictions(resumption: Resumption, given: dict[str, Any]) -> None:
    """Refuse, in one line, an option of ``readtrack run`` given with ``--resume`` that asks for another run
    than the group's: ``given`` holds the options given (each left out when not), by their flag."""
    found = resumption.found
    first = resumption.requests[0]
    kept = _first_left(resumption) or first
    who = f"--resume {found.ident[:8]}"

    def refuse(flag: str, value: object, theirs: object) -> None:
        asked = f"{flag} {value}" if value != "" else flag
        raise UsageError(
            f"{who} {asked}: {found.what()} ran with {theirs}; a resume runs what the group asked for "
            f"(leave {flag} out)"
        )

    for flag in ("--all", "--only-tag", "--section", "--set", "--no-record", "--group"):
        if given.get(flag):
            raise UsageError(f"{who} {flag}: a resume runs the group's own runs; leave {flag} out")
    names = given.get("NAME") or []
    if len(names) > 1 or (names and names[0] != found.plugin):
        raise UsageError(
            f"{who}: {found.what()} runs {found.plugin}, not {' '.join(names)}; leave the name out"
        )
    if given.get("--seeds") is not None and parse_seeds(given["--seeds"]) != list(found.seeds):
        refuse("--seeds", given["--seeds"], f"seeds {seeds_label(found.seeds)}")
    if given.get("--seed") is not None and [given["--seed"]] != list(found.seeds):
        refuse("--seed", given["--seed"], f"seeds {seeds_label(found.seeds)}")
    if given.get("--quick") and not first.quick:
        refuse("--quick", "", "full sizes")
    device = given.get("--device")
    if device and device.strip().lower() != "auto":
        theirs = kept.device.strip().lower()
        if device.strip().lower().split(":")[0] != theirs.split(":")[0]:
            refuse("--device", device, f"--device {kept.device}")
    if given.get("--only") is not None:
        asked = _stages(given["--only"])
        # a sweep's defaults run every stage asked for (another setting, those that read knobs)
        defaults = next((r for r in resumption.requests if not r.settings), first)
        if asked != _stages(defaults.only):
            refuse("--only", given["--only"], _stages_text(defaults.only))
    for flag, name in (("--timeout", "timeout"), ("--impl", "impl"), ("--threads", "threads")):
        value = given.get(flag)
        if value is not None and value != getattr(first, name):
            refuse(flag, value, f"{flag} {getattr(first, name)}" if getattr(first, name) is not None else
                   f"no {flag}")  # fmt: skip


def _first_left(resumption: Resumption) -> RunRequest | None:
    return resumption.resumed.jobs[0] if resumption.resumed.jobs else None


def nothing_left(resumption: Resumption, retry_failed: bool) -> str:
    """What ``--resume`` says when every run of the group finished."""
    found = resumption.found
    ended = [r for s in found.settings if s.group is not None for r in s.group.runs]
    failed = sum(r.status != "passed" for r in ended)
    missing = sum(len(s.group.missing) for s in found.settings if s.group is not None)
    line = f"{found.what()}: nothing left to resume ({found.done()})"
    if failed + missing and not retry_failed:
        line += f"; {plural(failed + missing, 'run')} did not pass: --retry-failed runs them again"
    return line


def sweep_outcomes(sweep_id: str) -> list[PluginOutcome]:
    """Every setting of the sweep as history now holds it, as a batch's outcomes (what its tables are
    made of once a resume has run)."""
    from readtrack.batch.sweep import recorded
    from readtrack.history.sweeps import sweep

    found = sweep(sweep_id)
    return [] if found is None else recorded(found)
