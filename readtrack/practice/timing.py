"""How long practice lets a stage run: from how long the plugin's own model solution takes on this machine.

A fixed 60 s stopped correct code: the gqa plugin's train stage takes 135 s on 2 cores, and the message
blamed an endless loop. So each stage's timeout is :data:`FACTOR` times the median of the model solution's
recorded runs of that stage (``readtrack run NAME`` records them, in the same mode: quick or full), never
under :data:`MINIMUM`; with none recorded, the plugin's own stage timeout (what ``readtrack run`` allows).
A timeout says how long the model solution takes, and what to do about it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

#: A stage may take this many times the model solution's median time.
FACTOR = 3.0
#: ... and never less than this many seconds (a loaded machine, a slow first import).
MINIMUM = 60.0
#: The most recent runs read from history.
RECENT = 50


@dataclass(frozen=True)
class ModelTime:
    """The model solution's recorded time for one stage in one mode."""

    median_s: float
    runs: int


def model_time(plugin: str, stage: str, quick: bool) -> ModelTime | None:
    """The median duration of ``stage`` in the plugin's own passed runs in history (``quick`` or full), or
    None when none is recorded (or the history cannot be read)."""
    from readtrack.history import runs as history

    try:
        runs = history.runs(plugin, limit=RECENT)
    except Exception:  # an unreadable database: the declared timeout applies
        return None
    times = [
        stage_result.duration_s
        for run in runs
        if run.info.quick == quick
        for stage_result in run.stages
        if stage_result.stage == stage and stage_result.status == "passed" and stage_result.duration_s > 0
    ]
    return ModelTime(statistics.median(times), len(times)) if times else None


def stage_timeout(plugin: str, stage: str, quick: bool, declared: float) -> float:
    """Seconds ``stage`` may run in practice (see the module docstring)."""
    known = model_time(plugin, stage, quick)
    return declared if known is None else max(MINIMUM, FACTOR * known.median_s)


def stage_limits(
    plugin: str, *, quick: bool, train_quick: bool, timeout: float | None, declared: float | None = None
) -> dict[str, float]:
    """Each stage's timeout in one attempt: ``timeout`` when given, else `stage_timeout` of the check (at
    ``quick`` sizes) and of the train stage (at ``train_quick`` sizes); ``declared`` is the plugin's own
    stage timeout (looked up when not given)."""
    if timeout is not None:
        return {"check": timeout, "train": timeout}
    if declared is None:
        from readtrack.plugins.discovery import load_plugin

        declared = load_plugin(plugin).info.stage_timeout
    return {
        "check": stage_timeout(plugin, "check", quick, declared),
        "train": stage_timeout(plugin, "train", train_quick, declared),
    }


def timeout_advice(plugin: str, stage: str, quick: bool) -> str:
    """What a timeout message adds: the model solution's time here, and the options that give more."""
    mode = "--quick" if quick else "full"
    known = model_time(plugin, stage, quick)
    if known is None:
        timing = (
            f"no {mode} run of the model solution is recorded here to compare with "
            f"(`readtrack run {plugin}{' --quick' if quick else ''} --only {stage}` records one)"
        )
    else:
        runs = "one run" if known.runs == 1 else f"median of {known.runs} runs"
        timing = f"the model solution's {stage} takes {known.median_s:.0f} s here ({mode}, {runs})"
    smaller = "" if quick or stage != "train" else "; without `--full`, practice trains at quick sizes"
    return f"{timing[0].upper()}{timing[1:]}; `--timeout S` allows more{smaller}."
