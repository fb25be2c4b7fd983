"""The executor seam: where runs run.

An :class:`Executor` is given `RunRequest`\\ s, runs them (in processes of its own, so a run that crashes,
hangs or changes torch's global state touches no other, and gives the numbers it gives alone), streams each
run's events as they happen, stops everything when cancelled, and hands back one `Outcome` per request. The
driver (`readtrack.batch.groups`) alone writes the history, from the outcomes. Today's implementation is the
fork-server pool on this machine (`readtrack.batch.pool.ForkServerPool`); another machine, or a cluster, is
another implementation of the same protocol. Torch-free.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from readtrack.batch.request import RunRequest
from readtrack.plugins.records import RunRecord

#: ``on_event(request, event)``: each event of each run, tagged with its ``plugin`` and ``seed``.
OnEvent = Callable[[RunRequest, dict[str, Any]], None]


@dataclass
class Outcome:
    """How a request ended: its record, or (when the run gave none) why not. ``result`` is what a worker
    that is no run reported at its end (practice's grading: its ``practice`` event); ``output`` the first
    characters its process printed on stderr (what the plugin or the learner's code printed); ``stopped``
    says why the executor stopped its process, if it did (``"timeout"``: a stage past its timeout and the
    grace, ``"startup"``: no first stage in time). ``wall_s`` runs from handing the request to a worker to
    its end (a process's start and imports included); ``worker_run`` says which request of its worker
    process it was (1: the first, which paid the worker's start; 0: not known)."""

    job: RunRequest
    record: RunRecord | None
    exit_code: int
    error: str | None = None
    wall_s: float = 0.0
    result: dict[str, Any] | None = None
    output: str = ""
    stopped: str | None = None
    worker_run: int = 0


class JobsCancelled(KeyboardInterrupt):
    """Raised by an executor when cancelled; ``outcomes`` holds the requests that had ended by then, and
    ``cut_short`` those that were running and recorded themselves as cancelled within the grace (a run
    stopped mid-stage: its record says what it had done)."""

    def __init__(self, outcomes: list[Outcome], cut_short: list[Outcome] | None = None) -> None:
        super().__init__("cancelled")
        self.outcomes = outcomes
        self.cut_short = cut_short or []


class Executor(Protocol):
    """Runs requests and reports them (see the module docstring)."""

    def run(
        self,
        requests: Sequence[RunRequest],
        *,
        on_event: OnEvent | None = None,
        on_end: Callable[[Outcome], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> list[Outcome]:
        """Run ``requests`` and return their outcomes in the requests' order. ``on_event`` hears every event
        (from any thread, one at a time), ``on_end(outcome)`` each request's end in the calling thread.
        Ctrl-C (KeyboardInterrupt in the calling thread) or setting ``cancel`` stops every run, each recording
        itself as cancelled within the grace, and raises :class:`JobsCancelled`."""
        ...


@contextmanager
def stop_asked(cancel: threading.Event | None = None) -> Iterator[Callable[[], bool]]:
    """Within: Ctrl+C is noted instead of raising KeyboardInterrupt wherever the main thread happens to be;
    yields ``asked()``, true once Ctrl+C came or ``cancel`` is set, for an executor's loop to check between
    two steps: it never stops between taking a finished run's outcome and handing it on (a run that had
    finished is then recorded as finished). A second Ctrl+C, once the executor is stopping (outside this
    block), interrupts as usual. Off the main thread (the TUI's worker) no handler is set: ``cancel`` says."""
    interrupted = threading.Event()

    def asked() -> bool:
        return interrupted.is_set() or (cancel is not None and cancel.is_set())

    if threading.current_thread() is not threading.main_thread():
        yield asked
        return
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda signum, frame: interrupted.set())
    try:
        yield asked
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
