"""The events of a run, spelled once: what :func:`readtrack.runner.run_plugin` emits, what a batch adds
around each run, and what a worker says when a run's process ends. Torch-free.

Every event is a JSON object with a ``type`` (one of the names below). A run's own events (``start``,
``stage``, ``progress``, ``log``, ``metric``, ``result``, ``record``, ``error``) are those the hook
``readtrack_run_event`` and ``readtrack run --json`` see (`readtrack.plugins.hookspecs`). A batch tags each of
them with the run's ``plugin`` and ``seed`` and adds ``job`` events (``event``: ``start`` with the worker's
``pid``, ``end`` with the run's ``status``, ``error`` and ``wall_s``). A fork server ends each of its runs
with `output_mark` on stderr, then ``ended`` (the run's process ``exit`` code). ``readtrack run
--seeds/--all --json`` adds ``seed_record``, ``plugin_done`` and ``batch``; practice's grading worker
``ready`` and ``practice``. Their fields are described in `readtrack.plugins.hookspecs`; readers compare an
event's ``type`` with these constants, never with a string of their own.
"""

from __future__ import annotations

from typing import Any, Literal

START: Literal["start"] = "start"
STAGE: Literal["stage"] = "stage"
PROGRESS: Literal["progress"] = "progress"
LOG: Literal["log"] = "log"
METRIC: Literal["metric"] = "metric"
RESULT: Literal["result"] = "result"
RECORD: Literal["record"] = "record"
ERROR: Literal["error"] = "error"
JOB: Literal["job"] = "job"
#: A fork server's line after each run's process ended (``exit``: its exit code, negative for a signal).
ENDED: Literal["forkserver"] = "forkserver"
# ``readtrack run --seeds/--all --json``: a seed's record, a plugin's (or a sweep arm's) end, the batch's end
SEED_RECORD: Literal["seed_record"] = "seed_record"
PLUGIN_DONE: Literal["plugin_done"] = "plugin_done"
BATCH: Literal["batch"] = "batch"
# practice's grading worker: ready once readtrack's own part is loaded, then the attempt's result
READY: Literal["ready"] = "ready"
PRACTICE: Literal["practice"] = "practice"

Event = dict[str, Any]


def is_stage(event: Event, which: str | None = None) -> bool:
    """A stage's start or end (``which``: ``"start"``/``"end"``; None for either)."""
    return event.get("type") == STAGE and (which is None or event.get("event") == which)


def is_job(event: Event, which: str | None = None) -> bool:
    """A batch's start or end of one run (``which``: ``"start"``/``"end"``; None for either)."""
    return event.get("type") == JOB and (which is None or event.get("event") == which)


def job_start(plugin: str, seed: int, **more: Any) -> Event:
    """A batch's start of one run (``more``: the worker's ``pid``; on a cluster its ``node``, ``host``)."""
    return {"type": JOB, "event": "start", "plugin": plugin, "seed": seed, **more}


def job_end(plugin: str, seed: int, status: str, error: str | None, wall_s: float, **more: Any) -> Event:
    """A batch's end of one run: the run's ``status`` (``error`` when it gave no record; ``retried`` for an
    attempt a cluster lost and runs again, with ``retry``: true), why, and its wall time."""
    return {
        "type": JOB, "event": "end", "plugin": plugin, "seed": seed, "status": status, "error": error,
        "wall_s": wall_s, **more,
    }  # fmt: skip


def error(message: str, exit_code: int) -> Event:
    """A run refused before it began (no such plugin, no such device): the one event it sends."""
    return {"type": ERROR, "stage": None, "message": message, "exit_code": exit_code}


def ended(exit_code: int) -> Event:
    """A fork server's line after a run's process ended."""
    return {"type": ENDED, "exit": exit_code}


#: The environment variable that hands a fork server the mark it writes on stderr after each run's output,
#: before its `ended` line: the pool then knows it has read the whole of that run's output.
OUTPUT_MARK_VARIABLE = "READTRACK_FORKSERVER_MARK"


def output_mark(token: str) -> bytes:
    """The mark a fork server writes on stderr after a run's output (``token``: the pool's, per server), a
    line no print makes by chance."""
    return b"\0readtrack-forkserver:" + token.encode() + b"\0\n"
