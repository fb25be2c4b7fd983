"""SVG snapshots of the main screen and the run screen at a fixed size (pytest-textual-snapshot).

Update them after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update`` and look
at the SVGs before committing. The run screen shows two runs stored in the real history with fixed numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from readtrack.history import runs as history
from readtrack.plugins.records import BenchRow, Comparison, RunInfo, RunRecord, StageResult, Target
from readtrack.tui.app import ReadtrackApp

SIZE = (100, 30)


@pytest.fixture(autouse=True)
def home_is_the_data_dir(readtrack_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The header shows the catalog as ``~/papers.yaml`` instead of a tmp path that changes every run."""
    monkeypatch.setenv("HOME", str(readtrack_home))


@pytest.fixture(autouse=True)
def frozen_list(catalog_file: Path) -> None:
    """A frozen copy of the seed list (tests/data/papers-frozen.yaml): the snapshots do not change each time
    a plugin is linked from the shipped list."""
    frozen = Path(__file__).resolve().parents[1] / "data" / "papers-frozen.yaml"
    catalog_file.write_text(frozen.read_text(encoding="utf-8"), encoding="utf-8")


async def settled(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def fixed_run(run_id: str, started: str, final_loss: float, ours_s: float) -> RunRecord:
    info = RunInfo(
        run_id=run_id,
        plugin="adamw",
        paper_id="adamw",
        device="cpu",
        stages=["check", "train", "bench"],
        quick=True,
        seed=0,
        started_at=started,
    )
    check = StageResult(
        "check",
        "passed",
        0.4,
        comparisons=[
            Comparison(
                "AdamW step vs torch.optim.AdamW",
                True,
                max_abs=2e-16,
                max_rel=1e-15,
                worst=2e-6,
                atol=1e-10,
                rtol=1e-8,
                dtype="float64",
            )
        ],
    )
    curve = [(step, 2.3 / (1 + step / 4) + 0.01 * (step % 3)) for step in range(40)]
    train = StageResult(
        "train",
        "passed",
        2.1,
        targets=[Target("final loss", final_loss, 0.5, higher_is_better=False, detail="decoupled decay")],
        curves={"loss": curve},
    )
    bench = StageResult(
        "bench",
        "passed",
        1.2,
        bench=[
            BenchRow("torch.optim.AdamW", 0.0012, 0.0001, 20, baseline=True, ratio=1.0),
            BenchRow("ours", ours_s, 0.0001, 20, ratio=ours_s / 0.0012),
        ],
    )
    return RunRecord(info, "passed", 3.7, [check, train, bench])


def test_main_screen(snap_compare: Callable[..., bool], catalog_file: Path) -> None:
    assert snap_compare(ReadtrackApp(catalog_file), terminal_size=SIZE, press=["j"], run_before=settled)


def test_main_screen_filtered(snap_compare: Callable[..., bool], catalog_file: Path) -> None:
    async def filtered(pilot: Pilot[None]) -> Any:
        await settled(pilot)
        await pilot.press("slash", *"attention", "enter")
        await settled(pilot)

    assert snap_compare(ReadtrackApp(catalog_file), terminal_size=SIZE, run_before=filtered)


def test_run_screen_with_recorded_runs(snap_compare: Callable[..., bool], catalog_file: Path) -> None:
    history.record_finished(fixed_run("run-1", "2026-01-02T03:04:05+00:00", 0.31, 0.0016))
    history.record_finished(fixed_run("run-2", "2026-01-03T03:04:05+00:00", 0.24, 0.0014))

    async def open_run_screen(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await pilot.press("enter")  # adamw's plugin: the screen shows its newest recorded run
        await settled(pilot)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause(0.2)  # the record's tables below the fold are laid out: a stable scrollbar

    assert snap_compare(ReadtrackApp(catalog_file), terminal_size=SIZE, run_before=open_run_screen)


def test_the_run_screen_marks_a_noisy_bench_row(catalog_file: Path) -> None:
    """A bench row whose IQR is over 20% of its median shows its ratio with a `?` and the footnote, in the
    TUI as in the CLI (both draw through readtrack.render.runs.stage_tables)."""
    import asyncio

    from rich.console import Console

    record = fixed_run("run-1", "2026-01-02T03:04:05+00:00", 0.31, 0.0016)
    bench = record.stages[-1]
    bench.bench[1].iqr_s, bench.bench[1].noisy = 0.0009, True  # IQR 56% of its median
    history.record_finished(record)

    async def run() -> str:
        app = ReadtrackApp(catalog_file)
        async with app.run_test(size=SIZE) as pilot:
            await settled(pilot)
            await pilot.press("enter")  # adamw's plugin: the newest recorded run
            await settled(pilot)
            console = Console(width=100, record=True)
            console.print(app.screen.query_one("#run-bench", Static).content)
            return console.export_text()

    text = asyncio.run(run())
    (ours,) = [line for line in text.splitlines() if line.lstrip().startswith("ours")]
    assert "× ?" in ours
    assert "? noisy" in text


def test_paper_view_page(snap_compare: Callable[..., bool], catalog_file: Path) -> None:
    async def open_paper_view(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await pilot.press("p")  # adamw's page beside the paper
        await settled(pilot)
        await pilot.pause(0.2)

    assert snap_compare(ReadtrackApp(catalog_file), terminal_size=SIZE, run_before=open_paper_view)
