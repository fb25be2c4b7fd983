"""The one timing harness of readtrack: what a plugin's ``bench(ctx)`` uses as ``ctx.bench``.

``ctx.bench.measure(label, fn, ...)`` times ``fn()`` on the run's device and returns a
:class:`~readtrack.plugins.records.BenchRow`:

- warm-up: one call first (it also surfaces an exception as a row with ``error`` set, not a crash);
- CPU: ``torch.utils.benchmark.Timer`` with ``num_threads=torch.get_num_threads()`` (its default is one
  thread), in blocks of ``blocked_autorange``; CUDA: one pair of CUDA events around each call; MPS: wall
  time around each call between ``torch.mps.synchronize()`` calls;
- adaptive: samples are taken until their interquartile range is under ``SETTLED`` (10%) of the median,
  or until the time budget (``MAX_RUN_TIME``, shorter in quick mode) is spent; the row keeps the median
  and IQR of the per-call times, and a row whose IQR is still over ``NOISE_LIMIT`` (20%) of its median is
  marked ``noisy``: shown, but flagged as not reliable (a machine busy with something else does that);
- throughput: ``tokens / median`` in the plugin's ``unit`` (default ``tokens/s``) and ``flops / median`` as
  TFLOP/s, with the analytic FLOP formula kept as text (FlopCounterMode misses SDPA on CPU);
- peak memory the call needs beyond what was allocated before it: on CUDA from the allocator's peak
  statistics, on the CPU from the process's resident-set high-water mark (Linux /proc; ``None`` where that
  cannot be reset);
- ``ratio`` = this row's median / the median of its baseline (a row measured with ``baseline=True`` in the
  same stage), so ``ratio < 1`` means faster than the baseline and ``ratio > 1`` slower. A row's baseline is
  the one of its ``group`` when it names one (``group=size``: each size against its own reference); else the
  baseline of the same ``shape`` when there is one; else the stage's first baseline (one reference for every
  size: a scaling ratio). A stage that marks a baseline per size thus never divides by another size's time.

torch is imported inside the methods, so the runner can build a harness before any plugin code runs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import statistics
import timeit
import traceback
from collections.abc import Callable, Hashable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from readtrack.base.errors import one_line
from readtrack.plugins import events as run_events
from readtrack.plugins.records import NOISE_LIMIT, BenchRow, Emit, StageResult
from readtrack.runner.devices import synchronize

# Seconds of measurement per row: at least MIN_RUN_TIME, then on until the samples settle (IQR under
# SETTLED of the median) or MAX_RUN_TIME is spent. Quick runs use the shorter pair.
MIN_RUN_TIME, MAX_RUN_TIME = 0.5, 3.0
QUICK_MIN_RUN_TIME, QUICK_MAX_RUN_TIME = 0.1, 0.6
SETTLED = 0.1
# Samples per row: at least MIN_CALLS (a median and an IQR need a few), at most MAX_CALLS.
MIN_CALLS, MAX_CALLS = 5, 1000


class BenchHarness:
    """Times callables on one device and records the rows into the current stage (see module docstring)."""

    def __init__(self, device: str = "cpu", *, quick: bool = False, seconds: float | None = None) -> None:
        """``seconds``: the most a row spends timing (None: the mode's, ``QUICK_MAX_RUN_TIME`` or
        ``MAX_RUN_TIME``), its minimum shrunk to fit: a smoke run that needs numbers, not precise ones."""
        self.device = device
        self.quick = quick
        self.min_run_time = QUICK_MIN_RUN_TIME if quick else MIN_RUN_TIME
        self.max_run_time = QUICK_MAX_RUN_TIME if quick else MAX_RUN_TIME
        if seconds is not None:
            self.max_run_time = seconds
            self.min_run_time = min(self.min_run_time, seconds)
        self.rows: list[BenchRow] = []
        self._groups: dict[int, Hashable] = {}  # id(row) -> the group= it was measured with
        self._emit: Emit = lambda event: None
        self._collected = False  # whether a full garbage collection ran before a memory measurement

    def attach(self, result: StageResult, emit: Emit) -> None:
        """Record into ``result`` and report through ``emit`` (called by ``RunContext.begin_stage``)."""
        self.rows = result.bench
        self._emit = emit

    def measure(
        self,
        label: str,
        fn: Callable[[], Any],
        *,
        baseline: bool = False,
        group: Hashable = None,
        flops: float | None = None,
        flop_formula: str | None = None,
        tokens: float | None = None,
        unit: str | None = None,
        shape: Any = None,
        dtype: Any = None,
        params: dict[str, Any] | None = None,
    ) -> BenchRow:
        """Time ``fn()`` and return its row; ``fn`` raising gives a row with ``error`` set.

        ``baseline`` marks the row the others of its ``group`` (else of its ``shape``) are divided by; see the
        module docstring for how a row's baseline is chosen.
        """
        row = BenchRow(
            label=label,
            median_s=float("nan"),
            iqr_s=float("nan"),
            runs=0,
            baseline=baseline,
            unit=(unit or "tokens/s") if tokens is not None else unit,
            flops=float(flops) if flops is not None else None,
            flop_formula=flop_formula,
            shape=_as_text(shape),
            dtype=_as_text(dtype),
            params=dict(params or {}),
        )
        try:
            fn()  # warm-up: allocator, lazy init, kernel selection
            times = self._time(fn)
            row.peak_mem_bytes = self._peak_memory(fn)
        except Exception as err:
            row.error = one_line(err)
            self._emit(
                {"type": run_events.LOG, "stage": "bench", "message": f"{label}: {traceback.format_exc()}"}
            )
        else:
            row.runs = len(times)
            row.median_s = statistics.median(times)
            row.iqr_s = _iqr(times)
            row.noisy = not row.spread <= NOISE_LIMIT
            if row.median_s > 0:
                if tokens is not None:
                    row.throughput = float(tokens) / row.median_s
                if flops is not None:
                    row.tflops = float(flops) / row.median_s / 1e12
        self.rows.append(row)
        if group is not None:
            self._groups[id(row)] = group
        self._update_ratios()
        self._emit({"type": run_events.RESULT, "stage": "bench", "kind": "bench", "data": asdict(row)})
        return row

    # -- timing ---------------------------------------------------------------------------------
    def _time(self, fn: Callable[[], Any]) -> list[float]:
        if self.device.startswith("cuda"):
            return self._time_cuda(fn)
        if self.device == "mps":
            return self._time_synchronised(fn)
        return self._time_cpu(fn)

    def _time_cpu(self, fn: Callable[[], Any]) -> list[float]:
        import torch

        benchmark = _torch_benchmark()

        # timeit.default_timer: the CPU needs no accelerator synchronisation (the default timer would sync
        # a GPU that happens to be present). Each sample is one block of calls, averaged per call.
        timer = benchmark.Timer(
            stmt="fn()",
            globals={"fn": fn},
            num_threads=torch.get_num_threads(),
            timer=timeit.default_timer,
        )
        # Blocks of MIN_RUN_TIME until the samples settle or MAX_RUN_TIME of wall clock is spent. (Not
        # adaptive_autorange: its stop test sorts every sample after every block, which on a noisy machine
        # never settles and ran a 40 µs call for over 300 s.)
        deadline = timeit.default_timer() + self.max_run_time
        times: list[float] = []
        while True:
            times += timer.blocked_autorange(min_run_time=self.min_run_time).times
            settled = len(times) >= MIN_CALLS and _iqr(times) <= SETTLED * statistics.median(times)
            if settled or timeit.default_timer() >= deadline or len(times) >= MAX_CALLS:
                break
        # A slow call fills the budget in a few blocks: time single calls until a median and IQR make sense.
        while len(times) < MIN_CALLS:
            start = timeit.default_timer()
            fn()
            times.append(timeit.default_timer() - start)
        return times

    def _time_cuda(self, fn: Callable[[], Any]) -> list[float]:
        import torch

        synchronize(self.device)
        events: list[tuple[Any, Any]] = []
        while True:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            events.append((start, end))
            if len(events) >= MIN_CALLS and len(events) % 5 == 0:
                end.synchronize()
                times = [s.elapsed_time(e) / 1e3 for s, e in events]
                if self._enough(times):
                    return times

    def _time_synchronised(self, fn: Callable[[], Any]) -> list[float]:
        times: list[float] = []
        while len(times) < MIN_CALLS or not self._enough(times):
            synchronize(self.device)
            start = timeit.default_timer()
            fn()
            synchronize(self.device)
            times.append(timeit.default_timer() - start)
        return times

    def _enough(self, times: list[float]) -> bool:
        """Stop when the budget is spent, or past the minimum time once the samples have settled."""
        spent = sum(times)
        if spent >= self.max_run_time or len(times) >= MAX_CALLS:
            return True
        return spent >= self.min_run_time and _iqr(times) <= SETTLED * statistics.median(times)

    # -- memory ---------------------------------------------------------------------------------
    def _peak_memory(self, fn: Callable[[], Any]) -> int | None:
        if self.device.startswith("cuda"):
            import torch

            synchronize(self.device)
            before = torch.cuda.memory_allocated(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            fn()
            synchronize(self.device)
            return max(0, int(torch.cuda.max_memory_allocated(self.device)) - before)
        if self.device == "cpu":
            # the first row collects every generation; later rows the young ones, which hold what the rows
            # before left (a full collection rescanned every object of torch's and the plugin's, ~0.1 s a
            # row: half of a quick bench stage's time on the CPU, issue 91)
            full, self._collected = not self._collected, True
            return cpu_peak_growth(fn, full=full)
        return None  # MPS exposes no peak statistic

    def _update_ratios(self) -> None:
        for row in self.rows:
            base = self.baseline_of(row)
            if base is None or row.error is not None or not base.median_s > 0:
                row.ratio = None
            else:
                row.ratio = row.median_s / base.median_s

    def baseline_of(self, row: BenchRow) -> BenchRow | None:
        """The row ``row`` is compared with: its group's baseline, else its shape's, else the first one."""
        group = self._groups.get(id(row))
        bases = [r for r in self.rows if r.baseline and r.error is None and self._groups.get(id(r)) == group]
        if group is not None:
            return bases[0] if bases else None
        same_shape = [r for r in bases if r.shape == row.shape]
        return next(iter(same_shape or bases), None)


_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kib(field: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def cpu_peak_growth(fn: Callable[[], Any], *, full: bool = True) -> int | None:
    """Bytes the process's resident set grew to during ``fn()`` above where it started.

    Writing ``5`` to /proc/self/clear_refs resets the high-water mark (VmHWM) to the current RSS; VmHWM
    after the call minus VmRSS before it is the call's peak growth. ``None`` where /proc cannot do that
    (not Linux, or a read-only /proc). ``full=False`` collects only the young generations of garbage first.
    """
    _return_free_memory(full)
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return None
    before = _status_kib("VmRSS")
    fn()
    peak = _status_kib("VmHWM")
    if before is None or peak is None:
        return None
    return max(0, peak - before) * 1024


def _return_free_memory(full: bool = True) -> None:
    # glibc keeps freed blocks resident, which would hide the growth of a call that reuses them: collect
    # Python garbage and hand free heap memory back to the OS first, so VmRSS is a fair starting point.
    gc.collect(2 if full else 1)
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _iqr(times: list[float]) -> float:
    if len(times) < 2:
        return float("nan")
    q1, _, q3 = statistics.quantiles(times, n=4, method="inclusive")
    return q3 - q1


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        return "×".join(str(v) for v in value) if all(isinstance(v, int) for v in value) else str(value)
    return str(value).removeprefix("torch.")


def _torch_benchmark() -> Any:
    """``torch.utils.benchmark``, imported without the line a CUDA build of torch logs on a machine with no
    GPU ("No CUDA runtime is found, using CUDA_HOME=..."): the module imports ``torch.utils.cpp_extension``,
    which says so at import, about building C++ extensions, which readtrack never does."""
    import logging

    logger = logging.getLogger("torch.utils.cpp_extension")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        from torch.utils import benchmark
    finally:
        logger.setLevel(level)
    return benchmark
