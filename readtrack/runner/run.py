"""Running a paper plugin: check, then train, then bench, with seeds, timeouts, cancellation and history.

One function, :func:`run_plugin`, serves the CLI (``readtrack run``) and the TUI. It resolves the device,
tells lifecycle hooks the run started (history inserts a row), runs each stage of the plugin's experiments
module with a fresh :class:`~readtrack.runner.context.RunContext` seeding, streams every event to ``emit`` and
to ``readtrack_run_progress`` hooks, and ends with ``readtrack_run_finished`` and a ``record`` event holding
the whole :class:`~readtrack.plugins.records.RunRecord`. Nothing a plugin does crashes the caller:

- an exception in a stage records ``error`` (its one-line message; the traceback in ``traceback``);
- an experiments module that does not import records ``error`` on the first stage as one line naming the
  plugin's file and line (``/home/me/swish/experiment.py:7: NameError: ...``), and skips the rest;
- a stage longer than its timeout is stopped and recorded as ``timeout``, and later stages are skipped. In
  the main thread the stop is a ``SIGALRM`` timer whose handler raises :class:`StageTimeout` into the stage;
  elsewhere a watchdog thread raises it asynchronously. Either lands between Python bytecodes, so a single
  long native call (one huge matmul) finishes first, but any Python-level loop or ``time.sleep`` is cut;
- Ctrl-C (SIGINT), SIGTERM or the ``cancel`` event stop the run as ``cancelled`` (`readtrack run` exits 130
  for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP).

Seeds: before every stage Python's, torch's (all devices) and numpy's generators are seeded with the run's
seed and torch is asked for deterministic algorithms (except while benchmarking, which times the kernels a
user's own code would get), so a CPU run repeats exactly and ``--only train`` gives what ``train`` gives
inside a full run.

Devices: every stage runs with the run's device current (``cuda:N`` as ``torch.cuda.device(N)``), so work
that names no index lands on it. Check and train compute float32 in IEEE (TF32 off for products,
convolutions and recurrent layers: a check then means the same on every device, see
:func:`readtrack.runner.devices.ieee_float32`); bench keeps the user's defaults, recorded in the environment.

Threads: a CPU run computes with one intra-op and one inter-op thread unless asked otherwise (``threads``,
``--threads N``, ``READTRACK_THREADS``), whatever ``OMP_NUM_THREADS`` says. Float sums split across N threads
add in another order, so a run's numbers would otherwise depend on the machine it ran on; and the tiny models
of the plugins gain nothing from a second thread while losing up to 12x when its spin-waits meet a busy core
(``benchmarks/bench_runs.py``). The count is set before the plugin's first torch op and stored in the record.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from types import FrameType
from typing import Any
from uuid import uuid4

import pluggy
from pluggy import HookCaller

from readtrack.base.errors import ReadtrackError, UsageError, located, one_line
from readtrack.plugins import events
from readtrack.plugins.declaration import STAGES
from readtrack.plugins.records import Emit, RunInfo, RunRecord, RunStatus, StageResult
from readtrack.runner import devices
from readtrack.runner.context import FirstFailure, RunContext
from readtrack.runner.threads import resolve_threads

EXIT_PASSED, EXIT_FAILED, EXIT_CANCELLED = 0, 1, 130


class StageTimeout(BaseException):
    """Raised into a stage that ran past its timeout (a BaseException: ``except Exception`` cannot eat it)."""


class RunCancelled(KeyboardInterrupt):
    """Raised into a run stopped by SIGTERM or its ``cancel`` event (Ctrl-C raises KeyboardInterrupt)."""


def exit_code(record: RunRecord) -> int:
    """0 when every stage passed, 130 when cancelled, 1 otherwise (a check failed, a target was missed,
    an error or a timeout)."""
    if record.status == "passed":
        return EXIT_PASSED
    if record.status == "cancelled":
        return EXIT_CANCELLED
    return EXIT_FAILED


def run_plugin(
    name: str,
    *,
    device: str = "auto",
    quick: bool = False,
    seed: int = 0,
    only: str | Sequence[str] | None = None,
    timeout: float | None = None,
    options: dict[str, Any] | None = None,
    threads: int | None = None,
    emit: Emit | None = None,
    cancel: threading.Event | None = None,
    keep_history: bool = True,
    group_id: str | None = None,
    settings: dict[str, Any] | None = None,
    bench_seconds: float | None = None,
    knob_blind: Sequence[str] = (),
    first_failure: bool = False,
) -> RunRecord:
    """Run plugin ``name`` and return its record (see the module docstring).

    ``only`` runs one stage (or those named, in their usual order: a sweep's setting runs the stages that read
    knobs); ``timeout`` overrides the plugin's per-stage timeout (seconds, 0 = none);
    ``threads`` is torch's CPU thread count (None: ``READTRACK_THREADS``, else 1); ``keep_history=False``
    keeps the run out of history (a multi-seed or shelf run records its runs itself, together, at its end),
    ``group_id`` names the group such a run belongs to;
    ``options`` reach the plugin as ``ctx.options`` (``{"impl": "triton"}``); ``settings`` are knob values
    (``{"lr": 0.01}``, checked against the plugin's ``config.py``; the record keeps those off the defaults,
    and with any, targets are reported, not asserted); ``emit`` receives every event
    dict as it happens; setting ``cancel`` from another thread stops the run as cancelled;
    ``bench_seconds`` caps the time each bench row spends timing (`BenchHarness`; None: the mode's);
    ``knob_blind`` names the stages a sweep judged to read no knob (`RunContext.config` warns if one does);
    ``first_failure`` ends the check stage at its first failing comparison (`FirstFailure`).
    Raises UsageError (unknown plugin, bad stage), PluginError (broken plugin) or DeviceError before
    anything runs; everything after that ends up in the returned record.
    """
    from readtrack.history.calibration import package_fingerprint
    from readtrack.plugins import discovery as plugins
    from readtrack.plugins import knobs
    from readtrack.runner.bench import BenchHarness

    plugin = plugins.load_plugin(name)
    info = plugin.info
    asked = [only] if isinstance(only, str) else list(only or ())
    for stage in asked:
        if stage not in STAGES:
            raise UsageError(f"unknown stage {stage!r}: use one of {', '.join(STAGES)}")
    stages = [s for s in STAGES if s in asked] if asked else list(STAGES)
    resolved = devices.resolve_device(device, info.devices, plugin=name)
    limit = info.stage_timeout if timeout is None else timeout
    turned = knobs.checked(info.name, info.package, quick, settings or {})
    n_threads = apply_thread_policy(resolve_threads(threads))
    run = RunInfo(
        run_id=uuid4().hex,
        plugin=info.name,
        paper_id=info.paper_id,
        device=resolved,
        stages=stages,
        quick=quick,
        seed=seed,
        started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        # the plugin's code fingerprint: which code a recorded number came from (benchmarks/calibrate.py)
        environment={**devices.describe_environment(resolved), "code": package_fingerprint(info.package)},
        options=dict(options or {}),
        threads=n_threads,
        group_id=group_id,
        settings=turned,
    )
    hooks = plugins.discovery().hooks
    from readtrack.history.runs import RECORDER_NAME, HistoryRecorder

    if not hooks.has_plugin(RECORDER_NAME):  # history records runs as any observer would: through the hooks
        hooks.register(HistoryRecorder(), name=RECORDER_NAME)
    # Without history the recorder is left out of the lifecycle hooks; every other observer still hears.

    skip = () if keep_history else (RECORDER_NAME,)

    def send(event: dict[str, Any]) -> None:
        # "start" and "record" bracket the stream; hooks get those from readtrack_run_started/finished.
        if event["type"] not in ("start", "record"):
            notify(hooks, hooks.hook.readtrack_run_progress, skip, run=run, event=event)
        if emit is not None:
            emit(event)

    harness = BenchHarness(resolved, quick=quick, seconds=bench_seconds)
    ctx = RunContext(
        device=resolved,
        quick=quick,
        seed=seed,
        emit=send,
        bench=harness,
        options=run.options,
        settings=turned,
        knob_blind=knob_blind,
        first_failure=first_failure,
    )
    results: list[StageResult] = []
    started = time.perf_counter()
    try:
        notify(hooks, hooks.hook.readtrack_run_started, skip, run=run)
        send({"type": events.START, "stage": None, "run": asdict(run)})
        with _cancel_on_sigterm(), _reproducible(seed):
            _run_stages(plugin, ctx, stages, limit, cancel, send, results)
    except KeyboardInterrupt:
        # Ctrl-C between stages (inside a stage it is recorded by _run_stage).
        _finish_cancelled(results, stages, send)
    with _ignore_sigint():  # a second Ctrl-C must not lose the record
        record = RunRecord(run, _overall(results), time.perf_counter() - started, results)
        notify(hooks, hooks.hook.readtrack_run_finished, skip, run=run, record=record)
        send({"type": events.RECORD, "stage": None, "record": record.to_dict()})
    return record


def _run_stages(
    plugin: Any,
    ctx: RunContext,
    stages: list[str],
    limit: float,
    cancel: threading.Event | None,
    send: Emit,
    results: list[StageResult],
) -> None:
    try:
        experiments = plugin.experiments
    except (Exception, SystemExit) as err:  # one line naming the plugin's file and line, when it is its own
        from readtrack.plugins.discovery import plugin_folder

        module = f"{plugin.info.package}.{plugin.info.experiments}"
        place = located(err, plugin_folder(plugin.info))
        error = place or f"cannot import {module}: {one_line(err)}"
        failed = StageResult(
            stages[0], "error", error=error, traceback=None if place else traceback.format_exc()
        )
        _announce(send, failed)
        results.append(failed)
        _skip_rest(results, stages, send)
        return
    for stage in stages:
        fn = getattr(experiments, stage, None)
        if fn is None:
            skipped = StageResult(stage, "skipped")
            _announce(send, skipped)
            results.append(skipped)
            continue
        result = _run_stage(ctx, stage, fn, limit, cancel, send)
        results.append(result)
        if result.status in ("timeout", "cancelled"):
            _skip_rest(results, stages, send)
            return


def _run_stage(
    ctx: RunContext,
    stage: str,
    fn: Callable[[RunContext], Any],
    limit: float,
    cancel: threading.Event | None,
    send: Emit,
) -> StageResult:
    result = ctx.begin_stage(stage)
    send({"type": events.STAGE, "stage": stage, "event": "start", "timeout_s": limit})
    if stage == "bench" and ctx.device.startswith("emu"):
        ctx.log(
            "the emulated device times the emulator on the CPU, not a GPU: read its bench for errors only"
        )
    seed_everything(ctx.seed)
    start = time.perf_counter()
    try:
        with (
            _stage_guard(limit, cancel),
            _warnings_to_log(ctx),
            devices.current(ctx.device),
            _as_users_run_it() if stage == "bench" else devices.ieee_float32(),
        ):
            fn(ctx)
    except FirstFailure:  # what was asked: the rest of the check is not run
        result.status = "failed"
    except StageTimeout:
        result.status = "timeout"
        result.error = f"stage {stage} ran past its {limit:g} s timeout and was stopped"
    except KeyboardInterrupt:
        result.status = "cancelled"
        result.error = f"cancelled during {stage}"
    except (Exception, SystemExit) as err:
        result.status = "error"
        result.error = one_line(err)
        result.traceback = traceback.format_exc()
    else:
        result.status = result.verdict()
        if result.status == "failed" and not (result.comparisons or result.targets or result.bench):
            result.error = f"{stage} recorded nothing to judge (no check, target or benchmark)"
    result.duration_s = time.perf_counter() - start
    _announce(send, result, started=True)
    return result


def _announce(send: Emit, result: StageResult, *, started: bool = False) -> None:
    if not started:
        send({"type": events.STAGE, "stage": result.stage, "event": "start"})
    send(
        {
            "type": events.STAGE,
            "stage": result.stage,
            "event": "end",
            "status": result.status,
            "duration_s": result.duration_s,
            "error": result.error,
        }
    )


def _skip_rest(results: list[StageResult], stages: list[str], send: Emit) -> None:
    done = {r.stage for r in results}
    for stage in stages:
        if stage not in done:
            skipped = StageResult(stage, "skipped")
            _announce(send, skipped)
            results.append(skipped)


def _finish_cancelled(results: list[StageResult], stages: list[str], send: Emit) -> None:
    if not any(r.status == "cancelled" for r in results):
        done = {r.stage for r in results}
        pending = next((s for s in stages if s not in done), None)
        if pending is not None:
            results.append(StageResult(pending, "cancelled", error=f"cancelled before {pending}"))
    with contextlib.suppress(KeyboardInterrupt):
        _skip_rest(results, stages, send)


def _overall(results: list[StageResult]) -> RunStatus:
    statuses = [r.status for r in results]
    worst_first: tuple[RunStatus, ...] = ("cancelled", "timeout", "error", "failed")
    for status in worst_first:
        if status in statuses:
            return status
    return "passed" if "passed" in statuses else "failed"


def run_streaming_json(emit: Emit, start: Callable[[Emit], RunRecord]) -> RunRecord:
    """``start(emit)`` (a call of :func:`run_plugin`) for ``readtrack run --json``: events go to ``emit``
    (JSON lines: `json_lines`, or `UntilClosed` when the reader may go away and the run must go on),
    anything the plugin prints goes to stderr (it would break the stream), and an error that stops the run
    before it starts becomes an ``error`` event before it propagates."""
    try:
        with contextlib.redirect_stdout(sys.stderr):
            return start(emit)
    except ReadtrackError as err:
        emit(events.error(str(err), err.exit_code))
        raise


# -- lifecycle hooks --------------------------------------------------------------------------------
def notify(
    manager: pluggy.PluginManager, hook: HookCaller, skip: tuple[str, ...] = (), **kwargs: Any
) -> None:
    """Call lifecycle ``hook`` (``manager.hook.readtrack_run_started`` ...) through pluggy, one observer at a
    time: an observer that raises is reported and skipped, so an exporter's bug cannot lose the run or keep
    the other observers (the history recorder among them) from seeing it. Observers registered under a
    name in ``skip`` are not called."""
    implementers = list(dict.fromkeys(impl.plugin for impl in hook.get_hookimpls()))
    everyone = manager.get_plugins()
    for plugin in implementers:
        if manager.get_name(plugin) in skip:
            continue
        call = manager.subset_hook_caller(hook.name, remove_plugins=[p for p in everyone if p is not plugin])
        try:
            call(**kwargs)
        except Exception as err:
            name = manager.get_name(plugin)
            print(f"readtrack: plugin {name} failed in {hook.name}: {one_line(err)}", file=sys.stderr)


# -- threads ---------------------------------------------------------------------------------------
def apply_thread_policy(threads: int) -> int:
    """Make torch compute with ``threads`` intra-op and inter-op threads from now on; returns the count.

    torch fixes its inter-op pool when it first uses it and refuses a later change: then the pool keeps its
    size (it only runs ``torch.jit.fork`` tasks, which no plugin uses, so results do not depend on it)."""
    import torch

    torch.set_num_threads(threads)
    if torch.get_num_interop_threads() != threads:
        with contextlib.suppress(RuntimeError):
            torch.set_num_interop_threads(threads)
    return torch.get_num_threads()


# -- seeds and determinism --------------------------------------------------------------------------
def seed_everything(seed: int) -> None:
    """Seed Python's, torch's (every device) and numpy's random generators."""
    import torch

    random.seed(seed)
    torch.manual_seed(seed)
    with contextlib.suppress(ImportError):  # a dependency, but a process may run without it
        import numpy

        numpy.random.seed(seed % 2**32)


def set_deterministic(mode: bool, warn_only: bool = False) -> None:
    """``torch.use_deterministic_algorithms(mode, warn_only=...)`` without its import of ``torch._inductor``
    (1.9 s on a 2-core CPU, most of a quick run's overhead), which it makes only to set inductor's own flag:
    a flag for ``torch.compile``. Once inductor is loaded (a plugin compiled something), or if torch's
    private setter is gone (``tests/runner/test_runner.py`` notices), the public call sets both."""
    import torch

    setter = getattr(torch._C, "_set_deterministic_algorithms", None)
    if setter is None or "torch._inductor.config" in sys.modules:
        torch.use_deterministic_algorithms(mode, warn_only=warn_only)
    else:
        setter(mode, warn_only=warn_only)


@contextlib.contextmanager
def _reproducible(seed: int) -> Iterator[None]:
    """Deterministic algorithms and flushed denormals for the run; the previous settings come back after."""
    import torch

    # cuBLAS needs this before CUDA starts to be deterministic; harmless elsewhere.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    cudnn_deterministic, cudnn_benchmark = torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark
    set_deterministic(True, warn_only=True)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    # Denormals made a deep plain network 5x slower on CPU (PLUGINS.md); they carry no signal at our scale.
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        set_deterministic(deterministic, warn_only=warn_only)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = (
            cudnn_deterministic,
            cudnn_benchmark,
        )
        torch.set_flush_denormal(False)


@contextlib.contextmanager
def _warnings_to_log(ctx: RunContext) -> Iterator[None]:
    """Python warnings raised in a stage go to the run's log, once each, not raw to stderr: torch's "...
    defaults to a non-deterministic algorithm" (the run's determinism is warn-only; seen on CUDA for the
    memory-efficient and cuDNN attention backward), a deprecation in a library, a plugin's own warning. The
    filters in force still decide which warnings are raised at all."""
    seen: set[str] = set()

    def to_log(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
        text = f"{category.__name__}: {str(message).strip().partition(chr(10))[0]}"
        if text not in seen:
            seen.add(text)
            ctx.log(f"warning: {text}")

    with warnings.catch_warnings():
        warnings.showwarning = to_log
        yield


@contextlib.contextmanager
def _as_users_run_it() -> Iterator[None]:
    """Benchmarks time the kernels a user's own code gets: deterministic algorithms off (on CUDA they can
    pick slower kernels, e.g. for attention's backward) for the bench stage; seeds still apply."""
    import torch

    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    set_deterministic(False)
    try:
        yield
    finally:
        set_deterministic(deterministic, warn_only=warn_only)


# -- stopping a stage -------------------------------------------------------------------------------
def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def _stage_guard(seconds: float, cancel: threading.Event | None) -> Iterator[None]:
    """Raise StageTimeout into the block after ``seconds`` (0: never); RunCancelled once ``cancel`` is set."""
    use_alarm = seconds > 0 and _in_main_thread() and hasattr(signal, "setitimer")
    deadline = seconds if seconds > 0 and not use_alarm else None
    with contextlib.ExitStack() as stack:
        if use_alarm:
            stack.enter_context(_alarm(seconds))
        if deadline is not None or cancel is not None:
            stack.enter_context(_watchdog(threading.get_ident(), deadline, cancel))
        yield


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise StageTimeout()

    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    # Someone else's timer (pytest-timeout uses SIGALRM too) is put back afterwards, minus the time spent.
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.monotonic()
    try:
        yield
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            signal.signal(signal.SIGALRM, previous_handler)
            if previous_delay > 0:
                left = max(previous_delay - (time.monotonic() - start), 1e-3)
                signal.setitimer(signal.ITIMER_REAL, left, previous_interval)


def _raise_in_thread(thread_id: int, exc: type[BaseException] | None) -> None:
    # CPython's documented C API; with None it clears an exception that was not raised yet.
    target = ctypes.py_object(exc) if exc is not None else None
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), target)


@contextlib.contextmanager
def _watchdog(thread_id: int, seconds: float | None, cancel: threading.Event | None) -> Iterator[None]:
    """A thread that raises StageTimeout or RunCancelled into ``thread_id`` (for runs off the main thread,
    where no signal can reach the stage, and for the ``cancel`` event)."""
    done = threading.Event()
    lock = threading.Lock()
    fired = False
    deadline = time.monotonic() + seconds if seconds is not None else None

    def watch() -> None:
        nonlocal fired
        while not done.wait(0.05):
            reason: type[BaseException] | None = None
            if cancel is not None and cancel.is_set():
                reason = RunCancelled
            elif deadline is not None and time.monotonic() >= deadline:
                reason = StageTimeout
            if reason is not None:
                with lock:
                    if not done.is_set():
                        fired = True
                        _raise_in_thread(thread_id, reason)
                return

    watcher = threading.Thread(target=watch, name="readtrack-stage-watchdog", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        with lock:
            done.set()
            if fired:
                _raise_in_thread(thread_id, None)  # the stage ended anyway: drop a still-pending exception
        watcher.join()


@contextlib.contextmanager
def _cancel_on_sigterm() -> Iterator[None]:
    """SIGTERM (how a shell stops a child) cancels the run like Ctrl-C does, and Ctrl-C (SIGINT, how the TUI
    cancels its run) does so even when the process started with SIGINT ignored, as a background job of a
    non-interactive shell does: Python then installs no KeyboardInterrupt handler of its own."""
    if not _in_main_thread():
        yield
        return

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise RunCancelled()

    previous = signal.getsignal(signal.SIGTERM)
    taken = previous in (signal.SIG_DFL, signal.SIG_IGN, None)  # else the command's own (`readtrack run`'s
    if taken:  # raises KeyboardInterrupt too, and says which signal came)
        signal.signal(signal.SIGTERM, on_term)
    previous_int = signal.getsignal(signal.SIGINT)
    if previous_int == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if taken:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        if previous_int == signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def _ignore_sigint() -> Iterator[None]:
    if not _in_main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
