"""The worker processes of a batch (`readtrack.batch`): at most N ``readtrack run … --json`` at a time, each
in its own session, their JSON-lines events read by one thread each and handed on tagged with their job;
Ctrl-C or a cancel event stops them all (SIGTERM, then SIGKILL after a grace period). Torch-free.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from readtrack.records import RunRecord

#: How long a worker may take to record its cancellation after SIGTERM before it is killed.
CANCEL_GRACE_S = 10.0


@dataclass(frozen=True)
class Job:
    """One run: a plugin at a seed with the knobs it turns (``--set``, one value each), in the group that
    collects its seeds."""

    plugin: str
    seed: int
    group_id: str
    settings: tuple[tuple[str, Any], ...] = ()


@dataclass
class Outcome:
    """How a job ended: its record, or (when the worker gave none) why not."""

    job: Job
    record: RunRecord | None
    exit_code: int
    error: str | None = None
    wall_s: float = 0.0


class JobsCancelled(KeyboardInterrupt):
    """Raised by :func:`run_jobs` when cancelled; ``outcomes`` holds the jobs that had ended by then."""

    def __init__(self, outcomes: list[Outcome]) -> None:
        super().__init__("cancelled")
        self.outcomes = outcomes


class Commands(Protocol):
    """What gives each job its worker's command line (`readtrack.batch.RunSettings`)."""

    def argv(self, job: Job) -> list[str]: ...


OnEvent = Callable[[Job, dict[str, Any]], None]


@dataclass
class _Worker:
    job: Job
    process: subprocess.Popen[str]
    started: float
    record: RunRecord | None = None
    error: str | None = None
    stderr: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    readers: list[threading.Thread] = field(default_factory=list)


def run_jobs(
    jobs: Sequence[Job],
    settings: Commands,
    *,
    workers: int,
    on_event: OnEvent | None = None,
    on_end: Callable[[Outcome], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[Outcome]:
    """Run ``jobs`` at most ``workers`` at a time and return their outcomes in the jobs' order.

    ``on_event(job, event)`` receives every JSON event of every worker (from reader threads, one at a time),
    plus ``{"type": "job", "event": "start" | "end", ...}`` around each; ``on_end(outcome)`` is called in
    this thread as each job ends. Ctrl-C (KeyboardInterrupt in this
    thread) or setting ``cancel`` stops every worker (SIGTERM, then SIGKILL after a grace period) and raises
    :class:`JobsCancelled` with the outcomes of the jobs that had already ended.
    """
    lock = threading.Lock()
    done: queue.Queue[_Worker] = queue.Queue()
    pending = deque(jobs)
    running: list[_Worker] = []
    ended: dict[Job, Outcome] = {}

    def tell(job: Job, event: dict[str, Any]) -> None:
        if on_event is not None:
            with lock:
                on_event(job, event)

    def start(job: Job) -> None:
        process = subprocess.Popen(
            settings.argv(job),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
            start_new_session=True,  # Ctrl-C reaches us only; we stop the workers ourselves
        )
        worker = _Worker(job, process, time.perf_counter())
        out = threading.Thread(target=_read_events, args=(worker, tell, done), daemon=True)
        err = threading.Thread(target=_read_stderr, args=(worker,), daemon=True)
        worker.readers = [out, err]
        running.append(worker)
        tell(
            job, {"type": "job", "event": "start", "plugin": job.plugin, "seed": job.seed, "pid": process.pid}
        )
        err.start()
        out.start()

    try:
        while pending or running:
            while pending and len(running) < max(1, workers):
                start(pending.popleft())
            try:
                worker = done.get(timeout=0.1)
            except queue.Empty:
                if cancel is not None and cancel.is_set():
                    raise KeyboardInterrupt from None
                continue
            running.remove(worker)
            outcome = _finish(worker)
            ended[worker.job] = outcome
            tell(
                worker.job,
                {
                    "type": "job",
                    "event": "end",
                    "plugin": worker.job.plugin,
                    "seed": worker.job.seed,
                    "status": outcome.record.status if outcome.record else "error",
                    "error": outcome.error,
                    "wall_s": outcome.wall_s,
                },
            )
            if on_end is not None:
                on_end(outcome)
    except KeyboardInterrupt:
        _stop(running)
        raise JobsCancelled([ended[j] for j in jobs if j in ended]) from None
    return [ended[j] for j in jobs]


def _read_events(
    worker: _Worker, tell: Callable[[Job, dict[str, Any]], None], done: queue.Queue[_Worker]
) -> None:
    """Read one worker's JSON lines until it closes stdout, then report it done."""
    assert worker.process.stdout is not None
    try:
        for line in worker.process.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # not ours (the runner sends a plugin's prints to stderr; be lenient anyway)
            if event.get("type") == "record":
                worker.record = RunRecord.from_dict(event["record"])
            elif event.get("type") == "error":
                worker.error = str(event.get("message"))
            tell(worker.job, {**event, "plugin": worker.job.plugin, "seed": worker.job.seed})
    finally:
        done.put(worker)


def _read_stderr(worker: _Worker) -> None:
    assert worker.process.stderr is not None
    for line in worker.process.stderr:
        worker.stderr.append(line.rstrip("\n"))


def _finish(worker: _Worker) -> Outcome:
    code = worker.process.wait()
    for reader in worker.readers:
        reader.join(timeout=5)
    error = worker.error
    if worker.record is None and error is None:
        last = next((line for line in reversed(worker.stderr) if line.strip()), "")
        error = f"the worker exited with code {code} without a record" + (f": {last}" if last else "")
    wall = time.perf_counter() - worker.started
    return Outcome(worker.job, worker.record, code, None if worker.record else error, wall)


def _stop(running: Iterable[_Worker]) -> None:
    """SIGTERM every worker (the runner records the stage as cancelled), SIGKILL what outlives the grace."""
    workers = list(running)
    for worker in workers:
        _signal(worker.process, signal.SIGTERM)
    deadline = time.monotonic() + CANCEL_GRACE_S
    for worker in workers:
        try:
            worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal(worker.process, signal.SIGKILL)
            worker.process.wait()


def _signal(process: subprocess.Popen[str], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)  # the worker's session: its own children too
