"""Grading in a worker process, so the learner's code cannot hang, crash or flood readtrack.

The worker is ``python -m readtrack.practice.isolation NAME FILE ...``: it grades in its own process
(:func:`readtrack.practice.grading.grade_here`) and writes the run's events and, last, the result as JSON
lines on a pipe of its own; whatever the learner's code prints (Python or C) goes to its stderr. The parent:

- keeps the first :data:`OUTPUT_LIMIT` characters of that output and says how much more there was;
- kills the worker when a stage runs past its timeout plus a grace (the worker's own timer stops any
  Python loop first; a loop that swallows the timer, or a long native call, meets the kill);
- turns a worker that dies without a result (``os._exit``, a segfault, a kill) into a failed attempt, and
  one that dies before it said it was ready (``{"type": "ready"}``, once readtrack's own modules and the
  plugin are imported, before the learner's code is) into readtrack's error, never the learner's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from readtrack.base.processes import python_module
from readtrack.plugins import events as run_events
from readtrack.plugins.records import Emit
from readtrack.practice.declared import PracticePlugin
from readtrack.practice.result import AttemptStatus, PracticeResult
from readtrack.practice.timing import stage_limits, timeout_advice

#: Characters of the learner's printed output kept with the result.
OUTPUT_LIMIT = 4000
#: Seconds a stage may run past its timeout before the worker is killed.
GRACE_S = 3.0
#: Seconds the worker may take to start (import torch, load the plugin) before its first stage.
STARTUP_S = 120.0


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
    train_quick = quick if train_quick is None else train_quick
    limits = stage_limits(plugin.name, quick=quick, train_quick=train_quick, timeout=timeout)
    command = python_module("readtrack.practice.isolation", plugin.name, str(path))
    command += ["--seed", str(seed), "--device", device]
    command += ["--timeout", str(timeout)] if timeout is not None else []
    command += ["--train"] if train else []
    command += ["--quick"] if quick else []
    command += ["--train-quick"] if train_quick else []
    command += ["--settings", json.dumps(settings or {})]
    read_end, write_end = os.pipe()
    env = {**os.environ, "READTRACK_PRACTICE_EVENTS_FD": str(write_end)}
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        pass_fds=(write_end,),
        env=env,
        start_new_session=True,  # a kill reaches whatever the learner's code started too
    )
    os.close(write_end)
    events: queue.Queue[dict[str, Any] | None] = queue.Queue()
    output = _Capped(OUTPUT_LIMIT)
    assert process.stderr is not None
    readers = [
        threading.Thread(target=_read_events, args=(os.fdopen(read_end, "rb"), events), daemon=True),
        threading.Thread(target=output.drain, args=(process.stderr,), daemon=True),
    ]
    for reader in readers:
        reader.start()
    result: PracticeResult | None = None
    stage, killed, ready = None, None, False
    deadline = time.monotonic() + STARTUP_S
    try:
        while True:
            if cancel is not None and cancel.is_set():
                killed = "cancelled"
                _kill(process)
                break
            try:
                event = events.get(timeout=min(0.2, max(deadline - time.monotonic(), 0.01)))
            except queue.Empty:
                if time.monotonic() > deadline:
                    killed = f"the worker did not start within {STARTUP_S:g} s"
                    if stage is not None:
                        sized = quick if stage == "check" else train_quick
                        advice = timeout_advice(plugin.name, stage, sized)
                        killed = (
                            f"{stage} ran past its {limits[stage]:g} s timeout and its process was stopped: "
                            f"an endless loop? {advice}"
                        )
                    _kill(process)
                    break
                continue
            if event is None:  # the worker closed its pipe: it ended
                break
            if event.get("type") == run_events.PRACTICE:
                result = PracticeResult.from_dict(event["result"])
                continue
            if event.get("type") == run_events.READY:
                ready = True
                continue
            if event.get("type") == run_events.STAGE and event.get("event") == "start":
                stage = str(event.get("stage"))
                limit = limits.get(stage, 0.0)
                deadline = time.monotonic() + (limit if limit > 0 else 1e9) + GRACE_S
            elif event.get("type") == run_events.STAGE and event.get("event") == "end":
                deadline = time.monotonic() + STARTUP_S
            if emit is not None:
                emit(event)
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            _kill(process)
            process.wait()
        for reader in readers:
            reader.join(timeout=5)
    if result is None and not ready and killed is None:
        last = next((line for line in reversed(output.text().splitlines()) if line.strip()), "")
        error = f"readtrack's grading process failed to start (exit code {process.returncode}): {last}"
        return PracticeResult(plugin.name, plugin.targets, str(path.resolve()), "error", error=error)
    if result is None:
        result = _died(plugin, path, process.returncode, stage, killed)
    result.output = output.text()
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


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _read_events(stream: IO[bytes], events: queue.Queue[dict[str, Any] | None]) -> None:
    with stream:
        for raw in stream:
            with contextlib.suppress(ValueError):
                events.put(json.loads(raw))
    events.put(None)


class _Capped:
    """The first ``limit`` characters of a stream, and how many more there were (the rest is read and
    dropped, so a flood of prints never fills memory nor blocks the worker)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0

    def drain(self, stream: IO[bytes]) -> None:
        with stream:
            while chunk := stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536):
                room = max(self.limit - len(self.kept), 0)
                self.kept += chunk[:room]
                self.dropped += max(len(chunk) - room, 0)

    def text(self) -> str:
        text = self.kept.decode("utf-8", "replace").rstrip("\n")
        if self.dropped:
            text += f"\n… [{self.dropped:,} more bytes not shown]"
        return text


# -- the worker ------------------------------------------------------------------------------------------
def _worker(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="readtrack.practice.isolation")
    parser.add_argument("name")
    parser.add_argument("path", type=Path)
    parser.add_argument("--train", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("--train-quick", action="store_true")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--settings", default="{}", help="the train stage's knobs, as JSON")
    args = parser.parse_args(argv)
    events_fd = int(os.environ.pop("READTRACK_PRACTICE_EVENTS_FD"))
    os.set_inheritable(events_fd, False)  # a process the learner's code starts must not hold the pipe open
    events = os.fdopen(events_fd, "w", encoding="utf-8")
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
    os.dup2(2, 1)  # the learner's prints, Python's or C's, go where the parent caps them

    write: Callable[[dict[str, Any]], None] = json_lines(events)
    plugin = practice_plugin(args.name)
    write({"type": run_events.READY})  # readtrack's part is loaded: what fails from here on is the attempt's
    try:
        result = grade_here(
            plugin,
            args.path,
            train=args.train,
            quick=args.quick,
            train_quick=args.train_quick,
            seed=args.seed,
            timeout=args.timeout,
            device=args.device,
            emit=write,
            settings=json.loads(args.settings),
        )
    except ReadtrackError as err:  # the learner renamed the class, no device: one line, not a crash
        solution = str(args.path.resolve())
        result = PracticeResult(plugin.name, plugin.targets, solution, "error", error=str(err))
    write({"type": run_events.PRACTICE, "result": result.to_dict()})
    events.close()
    return 0


if __name__ == "__main__":
    sys.exit(_worker(sys.argv[1:]))
