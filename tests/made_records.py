"""Records made by hand for tests of history, reports and their text (no run behind them): one of each
kind of stage, with numbers fixed so that a test can name them, and `store` to keep one as a finished run."""

from __future__ import annotations

import math

from readtrack.history import runs as history
from readtrack.plugins.records import (
    BenchRow,
    Comparison,
    Measured,
    RunInfo,
    RunRecord,
    RunStatus,
    StageResult,
    Target,
)


def make_record(
    plugin: str = "toy",
    *,
    run_id: str = "r1",
    started_at: str = "2026-01-01T10:00:00+00:00",
    max_abs: float = 1e-7,
    accuracy: float = 0.95,
    median_s: float = 0.010,
    status: RunStatus = "passed",
) -> RunRecord:
    info = RunInfo(
        run_id=run_id,
        plugin=plugin,
        paper_id=f"paper-{plugin}",
        device="cpu",
        stages=["check", "train", "bench"],
        quick=True,
        seed=3,
        started_at=started_at,
        environment={"device": "cpu", "torch": "2.13.0+cpu", "cpu_threads": 2},
        options={"impl": "torch"},
    )
    stages = [
        StageResult(
            "check",
            "passed",
            0.5,
            comparisons=[Comparison("out vs ref", True, "close", max_abs, 2e-6, 1e-5, 1e-4, "float32")],
        ),
        StageResult(
            "train",
            "passed",
            2.0,
            targets=[Target("accuracy", accuracy, 0.9), Target("diverged loss", math.nan, 1.0, False)],
            measured=[Measured("speed-up", 1.3, "noisy")],
            curves={"loss": [(0, 2.3), (10, 0.4)]},
        ),
        StageResult(
            "bench",
            "passed",
            1.0,
            bench=[
                BenchRow("base", median_s, 0.001, 20, baseline=True, ratio=1.0, peak_mem_bytes=1024),
                BenchRow("fast", median_s / 2, 0.001, 40, ratio=0.5, throughput=1e6, unit="tokens/s"),
            ],
        ),
    ]
    return RunRecord(info=info, status=status, duration_s=3.5, stages=stages)


def store(record: RunRecord) -> None:
    history.record_started(record.info)
    history.record_finished(record)
