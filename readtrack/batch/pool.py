"""The fork-server pool: the executor that runs requests on this machine, at most N at a time.

Each worker is a `readtrack.batch.forkserver` on Linux: it imports torch once and forks a fresh child per
request, so a sweep of quick runs does not pay two seconds of imports per run. Elsewhere (or with
``fork=False``) each request is a process of its own (``python -m SERVER --one REQUEST``; practice's grading
worker is such a server too). Their JSON-lines events are read by one thread per worker and handed on tagged
with their request; what a worker prints on stderr is kept (its first :data:`OUTPUT_LIMIT` characters, and
its last lines for errors). A stage that runs past the timeout its start event names, by more than
:data:`STAGE_GRACE_S` (a loop that swallows the runner's own timer, a long native call), has its process
killed. Ctrl-C or a cancel event stops them all (SIGTERM, then SIGKILL after :data:`CANCEL_GRACE_S`).
Torch-free.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from readtrack.base.processes import python_module
from readtrack.batch.executor import JobsCancelled, OnEvent, Outcome, stop_asked
from readtrack.batch.request import RunRequest
from readtrack.plugins import events
from readtrack.plugins.records import RunRecord

Job = RunRequest  # what the pool calls a request it runs


def forkserver_available() -> bool:
    """Whether runs can be forked from a server here: Linux (fork after importing torch is the pattern
    torch's own DataLoader relies on there; on macOS it is unsafe, Windows has no fork)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


#: How long a worker may take to record its cancellation after SIGTERM before it is killed: the one grace
#: every face waits (the CLI's Ctrl-C, the TUI's Esc, a cancelled shelf run).
CANCEL_GRACE_S = 10.0
#: The module every worker process runs (unless the pool is given another that speaks the same protocol).
SERVER = "readtrack.batch.forkserver"
#: Seconds a stage may run past its timeout before its process is killed.
STAGE_GRACE_S = 3.0
#: Characters of a worker's stderr kept with its outcome (the rest is read and dropped, and counted).
OUTPUT_LIMIT = 4000
#: Seconds an ended request waits for its fork server's stderr to have been read up to the request's end
#: (already in the pipe when the end is said: only a reader thread starved of time waits at all).
OUTPUT_WAIT_S = 10.0


@dataclass
class _Worker:
    """One worker process: a run of its own, or a fork server that runs job after job (``serves``)."""

    process: subprocess.Popen[bytes]
    serves: bool
    job: Job | None = None
    started: float = 0.0
    record: RunRecord | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    exit_code: int | None = None  # a fork server's report of its child's exit
    stderr: _Output = field(default_factory=lambda: _Output(OUTPUT_LIMIT))
    readers: list[threading.Thread] = field(default_factory=list)
    deadline: float | None = None  # when the running stage (or the start) is past its time: killed then
    running: str | None = None  # the stage running now, from its start event
    stopped: str | None = None  # why the pool killed it: "timeout" or "startup"
    stop_message: str | None = None
    #: where its reader hands events and the jobs it ends: those of the `run_jobs` call that runs it now
    tell: Callable[[Job, dict[str, Any]], None] = lambda job, event: None
    done: queue.Queue[tuple[_Worker, Job]] = field(default_factory=queue.Queue)
    #: a fork server's: the mark it writes on stderr after each request's output (`forkserver.output_ended`)
    mark: bytes = b""
    sent: int = 0  # requests handed to the server
    said: int = 0  # marks its stderr reader has read: the requests whose output is all in `stderr`
    heard: threading.Condition = field(default_factory=threading.Condition)
    stderr_closed: bool = False

    def begin(self, job: Job, startup_s: float | None = None) -> None:
        self.job, self.started = job, time.perf_counter()
        self.record, self.result, self.error, self.exit_code = None, None, None, None
        self.running, self.stopped, self.stop_message = None, None, None
        self.deadline = time.monotonic() + startup_s if startup_s else None
        self.stderr.clear()


class _Output:
    """The first ``limit`` characters a stream carried, how many more bytes there were, and its last lines
    (a flood of prints never fills memory nor blocks the worker: the rest is read and dropped)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.head = bytearray()
        self.dropped = 0
        self.tail: deque[bytes] = deque(maxlen=20)
        self._partial = b""
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self.head, self.dropped, self._partial = bytearray(), 0, b""
            self.tail.clear()

    def add(self, chunk: bytes) -> None:
        with self._lock:
            room = max(self.limit - len(self.head), 0)
            self.head += chunk[:room]
            self.dropped += max(len(chunk) - room, 0)
            lines = (self._partial + chunk).split(b"\n")
            self._partial = lines.pop()[-4096:]
            self.tail.extend(line[-4096:] for line in lines)

    def text(self) -> str:
        with self._lock:
            text = self.head.decode("utf-8", "replace").rstrip("\n")
            return text + (f"\n… [{self.dropped:,} more bytes not shown]" if self.dropped else "")

    def last_line(self) -> str:
        with self._lock:
            lines = [*self.tail, self._partial]
        return next((d for line in reversed(lines) if (d := line.decode("utf-8", "replace").strip())), "")


@dataclass(frozen=True)
class ForkServerPool:
    """The executor of this machine (`readtrack.batch.executor.Executor`): ``workers`` processes at a time,
    fork servers where forking is safe (``fork=False``: a process of its own per request)."""

    workers: int = 1
    fork: bool = True
    server: str = SERVER
    startup_s: float | None = None  # a worker with no stage started after this long is killed (None: never)

    @property
    def kind(self) -> str:
        """``fork server`` (a worker forks each run from a process that imported torch once) or ``process``
        (each run a process of its own): what a run pays to start (`readtrack.batch.estimate`)."""
        return "fork server" if self.fork and forkserver_available() else "process"

    def run(
        self,
        requests: Sequence[RunRequest],
        *,
        on_event: OnEvent | None = None,
        on_end: Callable[[Outcome], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> list[Outcome]:
        return run_jobs(
            requests, workers=self.workers, on_event=on_event, on_end=on_end, cancel=cancel, fork=self.fork,
            server=self.server, startup_s=self.startup_s,
        )  # fmt: skip


def run_jobs(
    jobs: Sequence[Job],
    *,
    workers: int,
    on_event: OnEvent | None = None,
    on_end: Callable[[Outcome], None] | None = None,
    cancel: threading.Event | None = None,
    fork: bool = True,
    server: str = SERVER,
    startup_s: float | None = None,
    keep: list[_Worker] | None = None,
) -> list[Outcome]:
    """Run ``jobs`` at most ``workers`` at a time and return their outcomes in the jobs' order.

    ``on_event(job, event)`` receives every JSON event of every worker (from reader threads, one at a time),
    plus ``{"type": "job", "event": "start" | "end", ...}`` around each; ``on_end(outcome)`` is called in
    this thread as each job ends. Ctrl-C (taken between two steps of the loop: `stop_asked`) or setting
    ``cancel`` stops every worker (SIGTERM, then SIGKILL after a grace period) and raises
    :class:`JobsCancelled` with the outcomes of the jobs that had already ended. Any other exception (an
    ``on_end`` that raises) stops every worker the same way, ``keep``'s included, before it goes on.

    ``keep``: fork servers kept between calls (a Ray worker's, `readtrack.batch.ray_worker`), taken from it
    first and left in it at the end, idle, instead of being closed (a cancelled call stops them all).
    """
    lock = threading.Lock()
    done: queue.Queue[tuple[_Worker, Job]] = queue.Queue()
    pending = deque(jobs)
    idle: list[_Worker] = keep if keep is not None else []  # fork servers waiting for their next job
    tell = tell_of(lock, on_event)
    for kept in idle:  # kept from an earlier call: their readers now report to this one
        kept.tell, kept.done = tell, done
    busy: list[_Worker] = []
    ended: dict[Job, Outcome] = {}
    forking = fork and forkserver_available()

    def spawn(argv: list[str], serves: bool) -> _Worker:
        token = secrets.token_hex(8) if serves else ""
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if serves else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # Ctrl-C reaches us only; we stop the workers ourselves
            env={**os.environ, events.OUTPUT_MARK_VARIABLE: token} if serves else None,
        )
        worker = _Worker(
            process, serves, tell=tell, done=done, mark=events.output_mark(token) if serves else b""
        )
        worker.readers = [
            threading.Thread(target=_read_stderr, args=(worker,), daemon=True),
            threading.Thread(target=_read_events, args=(worker,), daemon=True),
        ]
        return worker

    def start(job: Job) -> None:
        told: list[int] = []

        def announce(worker: _Worker) -> None:  # the job's start, once, before its worker can answer it
            if not told:
                told.append(worker.process.pid)
                tell(job, events.job_start(job.plugin, job.seed, pid=worker.process.pid))

        if not forking:
            worker = spawn(python_module(server, "--one", job.to_json()), serves=False)
            worker.begin(job, startup_s)
        elif (handed := _hand_over(idle, job, startup_s, announce)) is not None:
            worker = handed
        else:
            worker = spawn(python_module(server), serves=True)
            worker.begin(job, startup_s)
            _send(worker, job)  # a server that dies at once: its reader ends the job
        busy.append(worker)
        announce(worker)  # a new worker's readers start below, after it
        for reader in worker.readers:
            if not reader.is_alive() and reader.ident is None:
                reader.start()

    try:
        with stop_asked(cancel) as asked:
            while pending or busy:
                if asked():
                    raise KeyboardInterrupt
                while pending and len(busy) < max(1, workers):
                    start(pending.popleft())
                try:
                    worker, job = done.get(timeout=0.1)
                except queue.Empty:
                    _watch(busy)
                    continue
                if worker not in busy:  # a server that died as it was handed a job, since replaced
                    continue
                busy.remove(worker)
                outcome = _finish(worker, job)
                if worker.serves and worker.process.poll() is None:
                    idle.append(worker)
                ended[job] = outcome
                status = outcome.record.status if outcome.record else "error"
                tell(job, events.job_end(job.plugin, job.seed, status, outcome.error, outcome.wall_s))
                if on_end is not None:
                    on_end(outcome)
    except KeyboardInterrupt:
        stopped = busy + idle
        idle.clear()
        _stop(stopped)
        raise JobsCancelled([ended[j] for j in jobs if j in ended], _cut_short(busy, done)) from None
    except BaseException:  # on_end's history write hit a full disk, a worker could not start: none is left
        stopped = busy + idle
        idle.clear()
        _stop(stopped)
        raise
    if keep is None:
        _close(idle)
    return [ended[j] for j in jobs]


def tell_of(lock: threading.Lock, on_event: OnEvent | None) -> Callable[[Job, dict[str, Any]], None]:
    """``on_event`` called under ``lock`` (one event at a time, whichever reader thread has it)."""

    def tell(job: Job, event: dict[str, Any]) -> None:
        if on_event is not None:
            with lock:
                on_event(job, event)

    return tell


def _watch(busy: list[_Worker]) -> None:
    """Kill each worker whose stage (or start) is past its deadline: its reader then ends its job."""
    now = time.monotonic()
    for worker in busy:
        if worker.deadline is not None and now > worker.deadline and worker.stopped is None:
            worker.stopped = "timeout" if worker.running else "startup"
            _signal(worker.process, signal.SIGKILL)


def _cut_short(stopped: list[_Worker], done: queue.Queue[tuple[_Worker, Job]]) -> list[Outcome]:
    """The runs that were running when cancelled and recorded themselves as cancelled before their process
    was gone (every process is gone by now: its reader ends its job)."""
    for worker in stopped:  # each reader ends once its process is gone, handing over the job it held
        for reader in worker.readers:
            if reader.ident is not None:
                reader.join(timeout=5)
    outcomes = []
    while True:
        try:
            worker, job = done.get_nowait()
        except queue.Empty:
            break
        if worker in stopped:
            outcome = _finish(worker, job)
            if outcome.record is not None:
                outcomes.append(outcome)
    return outcomes


def _send(server: _Worker, job: Job) -> bool:
    """Give a fork server its next request; False when it is gone (its stdin closed under us)."""
    try:
        server.process.stdin.write((job.to_json() + "\n").encode())  # type: ignore[union-attr]
        server.process.stdin.flush()  # type: ignore[union-attr]
    except (BrokenPipeError, OSError, ValueError):
        return False
    server.sent += 1
    return True


def _hand_over(
    idle: list[_Worker], job: Job, startup_s: float | None, announce: Callable[[_Worker], None]
) -> _Worker | None:
    """An idle fork server that took ``job`` (servers that died while idle are dropped), or None. Its reader
    threads already run, so the job's start is told (``announce``) before the server has the job: the run
    it forks could otherwise be heard first (a Ray worker's kept servers, issue 91's runs)."""
    while idle:
        server = idle.pop()
        if server.process.poll() is not None:
            continue
        server.begin(job, startup_s)
        announce(server)
        if _send(server, job):
            return server
        server.job = None  # gone between the two: a late end of its reader is ignored (not busy)
    return None


def _read_events(worker: _Worker) -> None:
    """Read a worker's JSON lines until it closes stdout; report each job done as it ends (a fork server's
    end line, or the end of a process of its own, or of a server that died mid-job) to the worker's
    ``tell`` and ``done``, those of the call that runs it now."""
    assert worker.process.stdout is not None
    try:
        for line in io.TextIOWrapper(worker.process.stdout, encoding="utf-8", errors="replace"):
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # not ours (the runner sends a plugin's prints to stderr; be lenient anyway)
            job = worker.job
            if job is None or not isinstance(event, dict):
                continue
            if worker.serves and event.get("type") == events.ENDED:
                worker.exit_code = int(event.get("exit", 1))
                worker.job = None
                worker.done.put((worker, job))
                continue
            if events.is_stage(event, "start"):
                worker.running = str(event.get("stage"))
                limit = float(event.get("timeout_s") or 0)
                worker.deadline = time.monotonic() + limit + STAGE_GRACE_S if limit > 0 else None
                worker.stop_message = f"{worker.running} ran past its {limit:g} s timeout"
            elif events.is_stage(event, "end"):
                worker.running, worker.deadline = None, None
            elif event.get("type") == events.PRACTICE:
                worker.result = dict(event["result"])
            if event.get("type") == events.RECORD:
                worker.record = RunRecord.from_dict(event["record"])
            elif event.get("type") == events.ERROR:
                worker.error = str(event.get("message"))
            worker.tell(job, {**event, "plugin": job.plugin, "seed": job.seed})
    finally:
        if worker.job is not None:
            job, worker.job = worker.job, None
            worker.done.put((worker, job))


def _read_stderr(worker: _Worker) -> None:
    """Keep a worker's stderr in its `_Output`; a fork server's marks (the end of a request's output) are
    counted in ``said``, not kept, so `_finish` knows when a request's output is all read."""
    stream = worker.process.stderr
    assert stream is not None
    mark, pending = worker.mark, b""
    try:
        while chunk := stream.read1(65536):  # type: ignore[attr-defined]
            if not mark:
                worker.stderr.add(chunk)
                continue
            data = pending + chunk
            while (at := data.find(mark)) >= 0:
                worker.stderr.add(data[:at])
                data = data[at + len(mark) :]
                with worker.heard:
                    worker.said += 1
                    worker.heard.notify_all()
            held = next(
                (k for k in range(min(len(mark) - 1, len(data)), 0, -1) if data.endswith(mark[:k])), 0
            )
            worker.stderr.add(data[: len(data) - held])  # a mark's start waits for the next chunk
            pending = data[len(data) - held :]
        worker.stderr.add(pending)
    finally:
        with worker.heard:
            worker.stderr_closed = True
            worker.heard.notify_all()


def _all_said(worker: _Worker) -> None:
    """Wait until a fork server's stderr has been read up to the end of every request it was sent (or has
    closed): the outcome then holds the whole of its run's output, and none of it reaches the next run's."""
    with worker.heard:
        worker.heard.wait_for(lambda: worker.said >= worker.sent or worker.stderr_closed, OUTPUT_WAIT_S)


def _finish(worker: _Worker, job: Job) -> Outcome:
    """The outcome of ``job``, which ``worker`` has just ended (a process of its own has exited)."""
    code = worker.exit_code
    if code is None:  # the process is gone: its own exit code (a server that died: its signal)
        code = worker.process.wait()
        for reader in worker.readers:
            reader.join(timeout=5)
    else:  # a fork server said the run's end: its stderr read up to there, before the next run begins
        _all_said(worker)
    error = worker.error
    if worker.stopped == "timeout":
        error = f"{worker.stop_message} and its process was stopped"
    elif worker.stopped == "startup":
        error = "the worker did not start its first stage in time and was stopped"
    elif worker.record is None and worker.result is None and error is None:
        last = worker.stderr.last_line()
        error = f"the worker exited with code {code} without a record" + (f": {last}" if last else "")
    wall = time.perf_counter() - worker.started
    kept = worker.record is not None and worker.stopped is None
    return Outcome(
        job, worker.record, code, None if kept else error, wall, worker.result, worker.stderr.text(),
        worker.stopped, worker.sent if worker.serves else 1,
    )  # fmt: skip


def _close(servers: Iterable[_Worker]) -> None:
    """End idle fork servers: the end of their stdin; SIGTERM what does not leave within the grace."""
    servers = list(servers)
    for server in servers:
        with contextlib.suppress(OSError):
            server.process.stdin.close()  # type: ignore[union-attr]
    _stop(servers, signum=None)


def _stop(running: Iterable[_Worker], signum: int | None = signal.SIGTERM) -> None:
    """SIGTERM every worker (the runner records the stage as cancelled), SIGKILL what outlives the grace
    (``signum=None``: send nothing first, only wait for them to leave)."""
    workers = list(running)
    for worker in workers:
        if signum is not None:
            _signal(worker.process, signum)
    deadline = time.monotonic() + CANCEL_GRACE_S
    for worker in workers:
        try:
            worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal(worker.process, signal.SIGKILL)
            worker.process.wait()


def _signal(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)  # the worker's session: its own children too
