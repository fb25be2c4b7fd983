"""The human report of a run shows everything each stage recorded, whatever the stage."""

from __future__ import annotations

from rich.console import Console

from readtrack.plugins.records import BenchRow, Comparison, Measured, RunInfo, RunRecord, StageResult, Target
from readtrack.render.runs import render_record


def test_a_bench_stage_shows_its_own_checks_targets_and_measured_values() -> None:
    info = RunInfo("r1", "flashattention", "flashattention", "cpu", ["bench"], True, 0, "2026-11-21T00:00:00")
    bench = StageResult(
        "bench",
        "failed",
        comparisons=[Comparison("peak memory of naive / flash at least 8", False, "property", max_abs=5.0)],
        targets=[Target("relative error at N=4096", 2e-6, 1e-5, higher_is_better=False)],
        measured=[Measured("time flash / SDPA at N=4096", 1.97)],
        bench=[BenchRow("SDPA N=4096", 0.3, 0.01, 5, baseline=True)],
    )
    console = Console(record=True, width=120)
    render_record(RunRecord(info, "failed", 1.0, [bench]), console)
    text = console.export_text()
    assert "bench: checks" in text and "peak memory of naive / flash at least 8" in text
    assert "bench: targets" in text and "relative error at N=4096" in text
    assert "time flash / SDPA at N=4096" in text and "1.97" in text
    assert "SDPA N=4096" in text and "baseline" in text
