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
    stopped mid-stage: its record says what it had done). ``signum``: the signal that stopped it (SIGINT
    for Ctrl+C and for a ``cancel`` event); a command that ends so exits 128 + ``signum``."""

    def __init__(self, outcomes: list[Outcome], cut_short: list[Outcome] | None = None) -> None:
        super().__init__("cancelled")
        self.outcomes = outcomes
        self.cut_short = cut_short or []
        self.signum = _noted[0] if _noted else int(signal.SIGINT)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


#: The signals that stop runs as Ctrl+C does: closing the terminal (SIGHUP), `kill`, `timeout` or a
#: scheduler (SIGTERM). Each is taken only where it is not ignored (``nohup`` keeps a run going).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_noted: list[int] = []  # the stop signal the last `stop_asked` took, for `JobsCancelled.signum`


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where it lands as SIGINT raises KeyboardInterrupt (`stop_like_ctrl_c`):
    whatever catches Ctrl+C stops on it the same way."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def stop_like_ctrl_c() -> list[int]:
    """From now on, in this process's main thread, SIGTERM and SIGHUP raise `Stopped` where they land (unless
    ignored), as SIGINT raises KeyboardInterrupt: a command that runs plugins then stops them on either as on
    Ctrl+C (issue 94: closing the terminal, `kill` or `timeout` left the runs going, unrecorded). Returns
    the list the signals taken are appended to. Off the main thread, nothing changes."""
    taken: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        return taken

    def stop(signum: int, frame: object) -> None:
        taken.append(signum)
        raise Stopped(signum)

    for sig in STOP_SIGNALS[1:]:
        if signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, stop)
    return taken


def exit_code_of(interrupt: BaseException) -> int:
    """The exit status of a command ended by ``interrupt``: 128 + its signal (130 for Ctrl+C)."""
    return 128 + int(getattr(interrupt, "signum", signal.SIGINT))


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
    """Within: Ctrl+C (and SIGTERM or SIGHUP: `STOP_SIGNALS`) is noted instead of raising KeyboardInterrupt
    wherever the main thread happens to be; yields ``asked()``, true once Ctrl+C came or ``cancel`` is set,
    for an executor's loop to check between
    two steps: it never stops between taking a finished run's outcome and handing it on (a run that had
    finished is then recorded as finished). A second Ctrl+C, once the executor is stopping (outside this
    block), interrupts as usual. Off the main thread (the TUI's worker) no handler is set: ``cancel`` says."""
    interrupted = threading.Event()
    _noted.clear()

    def asked() -> bool:
        return interrupted.is_set() or (cancel is not None and cancel.is_set())

    if threading.current_thread() is not threading.main_thread():
        yield asked
        return

    def note(signum: int, frame: object) -> None:
        if not _noted:
            _noted.append(signum)
        interrupted.set()

    taken = [signal.SIGINT]  # SIGTERM and SIGHUP as well, unless ignored (``nohup``)
    taken += [sig for sig in STOP_SIGNALS[1:] if signal.getsignal(sig) is not signal.SIG_IGN]
    previous = {sig: signal.signal(sig, note) for sig in taken}
    try:
        yield asked
    finally:
        for sig, handler in previous.items():
            default = signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL
            signal.signal(sig, handler if handler is not None else default)
