"""The timing harness: medians and IQRs, throughput, ratios against the baseline, errors as rows, peak
memory, and the environment a record carries. Ratios are checked with wide margins, never absolute times."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest
import torch

import readtrack
from readtrack.plugins.records import NOISE_LIMIT, StageResult
from readtrack.runner.bench import BenchHarness, cpu_peak_growth
from readtrack.runner.devices import describe_environment, environment_line


def harness(quick: bool = True) -> tuple[BenchHarness, StageResult, list[dict[str, Any]]]:
    bench = BenchHarness("cpu", quick=quick)
    result = StageResult("bench", "running")
    events: list[dict[str, Any]] = []
    bench.attach(result, events.append)
    return bench, result, events


def test_rows_carry_median_iqr_throughput_and_tflops() -> None:
    bench, result, events = harness(quick=False)
    a = torch.randn(128, 128)
    row = bench.measure(
        "matmul 128",
        lambda: a @ a,
        tokens=128,
        flops=2 * 128**3,
        flop_formula="2·n³",
        shape=(128, 128),
        dtype=torch.float32,
        params={"n": 128},
    )
    assert row.error is None and row.runs >= 3
    assert row.median_s > 0 and row.iqr_s >= 0 and not math.isnan(row.iqr_s)
    assert row.throughput == pytest.approx(128 / row.median_s)
    assert row.unit == "tokens/s"
    assert row.tflops == pytest.approx(2 * 128**3 / row.median_s / 1e12)
    assert (row.flop_formula, row.shape, row.dtype, row.params) == ("2·n³", "128×128", "float32", {"n": 128})
    assert result.bench == [row]
    assert events == [{"type": "result", "stage": "bench", "kind": "bench", "data": events[0]["data"]}]
    assert events[0]["data"]["label"] == "matmul 128"


def test_ratio_is_median_over_the_baseline_median_even_when_the_baseline_comes_later() -> None:
    bench, _, _ = harness()
    slow = bench.measure("sleep 8 ms", lambda: time.sleep(0.008))
    assert slow.ratio is None  # no baseline yet
    base = bench.measure("sleep 1 ms", lambda: time.sleep(0.001), baseline=True)
    assert base.ratio == 1.0
    assert slow.ratio is not None and slow.ratio > 2.5  # ~8x; wide margin for a busy machine
    assert slow.ratio == pytest.approx(slow.median_s / base.median_s)


def sleeper(ms: float) -> Any:
    return lambda: time.sleep(ms / 1000)


def test_a_baseline_per_size_divides_each_size_by_its_own_baseline() -> None:
    """The scaffold's bug (issue 41 #3): an idea 0.5x the reference's time at the larger size showed 4x."""
    bench, _, _ = harness()
    bench.measure("reference, 1", sleeper(1), baseline=True, shape=(1,))
    small = bench.measure("idea, 1", sleeper(2), shape=(1,))
    bench.measure("reference, 2", sleeper(8), baseline=True, shape=(2,))
    large = bench.measure("idea, 2", sleeper(4), shape=(2,))
    assert small.ratio is not None and small.ratio > 1.3  # ~2x
    assert large.ratio is not None and large.ratio < 0.8  # ~0.5x: faster than its own reference


def test_an_explicit_group_beats_the_shape_and_one_baseline_still_serves_every_size() -> None:
    bench, _, _ = harness()
    base = bench.measure("reference", sleeper(1), baseline=True, shape=(4,))
    scaled = bench.measure("reference at twice the size", sleeper(8), shape=(8,))
    assert scaled.ratio == pytest.approx(scaled.median_s / base.median_s)  # one baseline: a scaling ratio
    other = bench.measure("other reference", sleeper(8), baseline=True, group="other", shape=(4,))
    grouped = bench.measure("other idea", sleeper(4), group="other", shape=(4,))
    assert grouped.ratio == pytest.approx(grouped.median_s / other.median_s)
    assert scaled.ratio == pytest.approx(scaled.median_s / base.median_s)  # the ungrouped rows keep theirs
    orphan = bench.measure("no baseline in its group", sleeper(1), group="lonely")
    assert orphan.ratio is None


def test_an_exception_in_the_timed_function_is_a_row_with_an_error() -> None:
    bench, result, events = harness()
    bench.measure("base", lambda: None, baseline=True)
    row = bench.measure("broken", lambda: 1 / 0, tokens=10)
    assert row.error == "ZeroDivisionError: division by zero"
    assert row.ratio is None and row.throughput is None and math.isnan(row.median_s)
    assert len(result.bench) == 2
    assert any(e["type"] == "log" and "ZeroDivisionError" in e["message"] for e in events)
    assert result.verdict() == "failed"  # a bench stage with a broken row does not pass


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc to reset VmHWM")
def test_cpu_peak_memory_sees_a_64_mib_temporary_and_not_a_tiny_one() -> None:
    def big() -> None:
        torch.ones(16 * 1024 * 1024).sum()  # 64 MiB of float32, freed on return

    def tiny() -> None:
        torch.ones(16).sum()

    peak = cpu_peak_growth(big)
    if peak is None:
        pytest.skip("this /proc refuses clear_refs")
    assert peak >= 48 * 2**20
    small = cpu_peak_growth(tiny)
    assert small is not None and small < 8 * 2**20
    bench, _, _ = harness()
    row = bench.measure("big", big)
    assert row.peak_mem_bytes is not None and row.peak_mem_bytes >= 48 * 2**20


def test_environment_names_the_versions_and_threads() -> None:
    env = describe_environment("cpu")
    assert env["torch"] == torch.__version__
    assert env["readtrack"] == readtrack.__version__
    assert env["cpu_threads"] == torch.get_num_threads()
    assert env["cpu_kernels"] == torch.backends.cpu.get_cpu_capability() != ""
    assert env["device"] == "cpu" and env["device_name"]
    line = environment_line(env)
    assert f"torch {torch.__version__}" in line and f"readtrack {readtrack.__version__}" in line
    assert f"{env['cpu_kernels']} kernels" in line
    assert "kernels" not in environment_line({**env, "cpu_kernels": None})  # an older record
    assert " · 1 thread · " in environment_line({**env, "cpu_threads": 1})  # not "1 threads"
    assert " · 4 threads · " in environment_line({**env, "cpu_threads": 4})


def test_a_steady_call_is_timed_until_settled_and_not_flagged_noisy() -> None:
    bench, _, _ = harness()
    a = torch.randn(64, 64)
    row = bench.measure("matmul 64", lambda: a @ a, baseline=True)
    assert row.runs >= 5 and not math.isnan(row.iqr_s)
    # A machine busy with other work can still make this noisy; the flag must then match the numbers.
    assert row.noisy == (row.iqr_s / row.median_s > NOISE_LIMIT)


def test_seconds_caps_the_time_a_row_spends_timing() -> None:
    """A call that never settles (it sleeps 1 or 3 ms in turn) is timed for the whole budget: the mode's
    0.6 s, or the ``seconds`` a smoke run asks for, and still gives a median from at least 5 calls. Counted in
    calls, not seconds: a loaded machine stretches every call alike."""
    calls = iter(range(10**6))

    def unsettled() -> None:
        time.sleep(0.003 if next(calls) % 2 else 0.001)

    runs = {}
    for seconds in (None, 0.05):
        bench = BenchHarness("cpu", quick=True, seconds=seconds)
        bench.attach(StageResult("bench", "running"), lambda event: None)
        row = bench.measure("unsettled", unsettled)
        assert row.error is None and row.runs >= 5 and row.median_s > 0
        runs[seconds] = row.runs
    assert runs[0.05] < runs[None] / 4, runs  # a budget 12 times smaller


def test_a_call_whose_time_jumps_around_is_flagged_noisy_and_shown_so() -> None:
    from rich.console import Console

    from readtrack.render.runs import stage_tables

    calls = iter(range(10**6))

    def erratic() -> None:  # alternately ~0.2 ms and ~5 ms: an IQR far above 20% of the median
        time.sleep(0.005 if next(calls) % 2 else 0.0002)

    bench, result, _ = harness()
    bench.measure("steady", lambda: time.sleep(0.001), baseline=True)
    row = bench.measure("erratic", erratic)
    assert row.noisy and row.spread > NOISE_LIMIT
    console = Console(width=120, record=True)
    results, bench_tables = stage_tables(result)
    for renderable in (*results, *bench_tables):
        console.print(renderable)
    lines = console.export_text().splitlines()
    (erratic_line,) = [line for line in lines if line.lstrip().startswith("erratic")]
    assert "× ?" in erratic_line  # its ratio is shown, marked as not reliable
    assert any(line.startswith("? noisy") for line in lines)


def test_a_bench_stage_collects_every_generation_once_not_at_every_row() -> None:
    """Each row's memory measurement collects garbage first; a full collection rescans every object torch and
    the plugin made (~0.1 s a row, half of a quick CPU bench stage, issue 91): the first row's collects every
    generation, later rows' the young ones, which hold what the rows before left behind."""
    import gc

    full: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(1)

    bench, _, _ = harness()
    gc.callbacks.append(count)
    try:
        for n in range(4):
            row = bench.measure(f"row {n}", lambda: torch.ones(64).sum())
            assert row.peak_mem_bytes is not None or not Path("/proc/self/clear_refs").exists()
    finally:
        gc.callbacks.remove(count)
    assert 1 <= len(full) <= 2, len(full)  # the first row's (an automatic one may come on top), not four
