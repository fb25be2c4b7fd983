"""Grading in a worker process, so the learner's code cannot hang, crash or flood readtrack.

An attempt is a `GradeRequest` (a `RunRequest` with the learner's file) run on the executor seam: this
machine's pool (`readtrack.batch.pool.ForkServerPool`), with this module as its worker,
``python -m readtrack.practice.isolation --one REQUEST``. The worker grades in its own process
(:func:`readtrack.practice.grading.grade_here`) and writes the run's events and, last, the result as JSON
lines on its events pipe; whatever the learner's code prints (Python or C) goes to its stderr. The pool:

- keeps the first characters of that output (`readtrack.batch.pool.OUTPUT_LIMIT`) and says how much more
  there was;
- kills the worker when a stage runs past its timeout plus a grace (the worker's own timer stops any
  Python loop first; a loop that swallows the timer, or a long native call, meets the kill), or when it has
  not begun a stage within :data:`STARTUP_S`;

and this module turns a worker that dies without a result (``os._exit``, a segfault, a kill) into a failed
attempt, and one that dies before it said it was ready (``{"type": "ready"}``, once readtrack's own modules
and the plugin are imported, before the learner's code is) into readtrack's error, never the learner's.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from readtrack.batch.executor import JobsCancelled, Outcome
from readtrack.batch.pool import ForkServerPool
from readtrack.batch.request import RunRequest
from readtrack.plugins import events as run_events
from readtrack.plugins.records import Emit
from readtrack.practice.declared import PracticePlugin
from readtrack.practice.result import AttemptStatus, PracticeResult
from readtrack.practice.timing import timeout_advice

#: Seconds the worker may take to start (import torch, load the plugin) before its first stage.
STARTUP_S = 120.0
#: This module, the pool's worker for an attempt.
WORKER = "readtrack.practice.isolation"


@dataclass(frozen=True)
class GradeRequest(RunRequest):
    """An attempt: the plugin's check (and train with ``train``, at ``train_quick`` size) run with the
    learner's ``solution`` file standing in for the model solution; ``quick`` sizes the check."""

    solution: str = ""
    train: bool = False
    train_quick: bool = False


@dataclass
class _Heard:
    """What the attempt's worker has said so far: that it is ready, and the stage it began last."""

    ready: bool = False
    stage: str | None = None


def grade_isolated(
    plugin: PracticePlugin,
    path: Path,
    *,
    train: bool = False,
    quick: bool = False,
    train_quick: bool | None = None,
    seed: int = 0,
    timeout: float | None = None,
    device: str = "auto",
    emit: Emit | None = None,
    cancel: threading.Event | None = None,
    settings: dict[str, Any] | None = None,
) -> PracticeResult:
    """Grade ``path`` for ``plugin`` in a worker process (see the module docstring); not recorded."""
    request = GradeRequest(
        plugin=plugin.name, seed=seed, settings=tuple((settings or {}).items()), device=device, quick=quick,
        timeout=timeout, solution=str(path), train=train,
        train_quick=quick if train_quick is None else train_quick,
    )  # fmt: skip
    said = _Heard()

    def on_event(_: RunRequest, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == run_events.READY:
            said.ready = True
        elif kind in (run_events.PRACTICE, run_events.JOB):
            pass
        else:
            if run_events.is_stage(event, "start"):
                said.stage = str(event.get("stage"))
            if emit is not None:
                emit(event)

    pool = ForkServerPool(1, fork=False, server=WORKER, startup_s=STARTUP_S)
    try:
        (outcome,) = pool.run([request], on_event=on_event, cancel=cancel)
    except JobsCancelled as stop:
        cut = stop.cut_short[0] if stop.cut_short else None
        result = _died(plugin, path, None, said.stage, "cancelled")
        result.output = cut.output if cut is not None else ""
        return result
    return _result(plugin, path, request, outcome, said)


def _result(
    plugin: PracticePlugin, path: Path, request: GradeRequest, outcome: Outcome, said: _Heard
) -> PracticeResult:
    """The attempt's result from how its worker ended."""
    stage = said.stage
    if outcome.result is not None:
        result = PracticeResult.from_dict(outcome.result)
    elif outcome.stopped == "timeout":
        sized = request.quick if stage == "check" else request.train_quick
        killed = f"{outcome.error}: an endless loop? {timeout_advice(plugin.name, stage or 'check', sized)}"
        result = _died(plugin, path, outcome.exit_code, stage, killed)
    elif outcome.stopped == "startup":
        result = _died(
            plugin, path, outcome.exit_code, stage, f"the worker did not start within {STARTUP_S:g} s"
        )
    elif not said.ready:
        last = next((line for line in reversed(outcome.output.splitlines()) if line.strip()), "")
        error = f"readtrack's grading process failed to start (exit code {outcome.exit_code}): {last}"
        return PracticeResult(plugin.name, plugin.targets, str(path.resolve()), "error", error=error)
    else:
        result = _died(plugin, path, outcome.exit_code, stage, None)
    result.output = outcome.output
    return result


def _died(
    plugin: PracticePlugin, path: Path, code: int | None, stage: str | None, killed: str | None
) -> PracticeResult:
    status: AttemptStatus = "crashed"
    where = f"during {stage}" if stage else "before the check began"
    if killed == "cancelled":
        error = f"cancelled {where}"
    elif killed:
        status, error = "timeout", killed
    elif code is not None and code < 0:
        error = f"your code's process was killed by {signal.Signals(-code).name} {where}"
    else:
        error = f"your code's process ended with exit code {code} {where} (os._exit? sys.exit?)"
    return PracticeResult(plugin.name, plugin.targets, str(path.resolve()), status, error=error)


# -- the worker ------------------------------------------------------------------------------------------
def _worker(argv: list[str]) -> int:
    if argv[:1] != ["--one"] or len(argv) != 2:
        print(f"usage: python -m {WORKER} --one REQUEST", file=sys.stderr)
        return 2
    request = GradeRequest.from_json(argv[1])
    # The events keep stdout's pipe on a descriptor of their own; descriptor 1 becomes stderr, where the
    # learner's prints, Python's or C's, go and where the pool caps them.
    events = os.fdopen(os.dup(1), "w", encoding="utf-8")
    # What libraries print while they load is not the learner's output: torch's "Failed to initialize
    # NumPy" where numpy is missing was shown as "your code printed". It goes nowhere; the learner's prints
    # (their module is imported later, by the grading) and warnings raised in a stage (the run's log) don't.
    learner_stderr = os.dup(2)
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), 2)
        try:
            import torch  # noqa: F401  (imported here for what it prints)

            from readtrack.base.errors import ReadtrackError
            from readtrack.plugins.records import json_lines
            from readtrack.practice.declared import practice_plugin
            from readtrack.practice.grading import grade_here
        finally:  # a failure here is readtrack's: its traceback on stderr, and no "ready" (the parent tells)
            os.dup2(learner_stderr, 2)
            os.close(learner_stderr)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    write = json_lines(events)
    plugin = practice_plugin(request.plugin)
    write({"type": run_events.READY})  # readtrack's part is loaded: what fails from here on is the attempt's
    solution = Path(request.solution)
    try:
        result = grade_here(
            plugin,
            solution,
            train=request.train,
            quick=request.quick,
            train_quick=request.train_quick,
            seed=request.seed,
            timeout=request.timeout,
            device=request.device,
            emit=write,
            settings=dict(request.settings),
        )
    except ReadtrackError as err:  # the learner renamed the class, no device: one line, not a crash
        result = PracticeResult(plugin.name, plugin.targets, str(solution.resolve()), "error", error=str(err))
    write({"type": run_events.PRACTICE, "result": result.to_dict()})
    events.close()
    return 0


if __name__ == "__main__":
    sys.exit(_worker(sys.argv[1:]))
