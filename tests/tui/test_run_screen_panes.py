"""The run screen's panes as a user reads them: the result pane scrolls with the keys the key bar names, the
live log wraps, the history names its main number, progress is honest, curves are readable. Runs recorded in
the real history, and the runner's own JSON events fed to the screen (no plugin is run)."""

from __future__ import annotations

import io
import itertools
import re
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import ProgressBar, RichLog, Static
from textual_plotext import PlotextPlot
from tui_driver import read_the_whole_pane, run_app, screen_text, settle, wait_until

from readtrack.catalog import edits
from readtrack.history import runs as history
from readtrack.plugins.records import Comparison, RunInfo, RunRecord, StageResult, Target
from readtrack.tui.app import ReadtrackApp
from readtrack.tui.screens.run_screen import RunScreen


def recorded_run(run_id: str, started: str, final_loss: float) -> RunRecord:
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
    train = StageResult(
        "train",
        "passed",
        2.0,
        targets=[Target("final loss", final_loss, 0.5, higher_is_better=False)],
        curves={"loss": [(step, 2.0 / (1 + step)) for step in range(30)]},
    )
    return RunRecord(
        info, "passed", 3.0, [StageResult("check", "passed", 0.5), train, StageResult("bench", "skipped")]
    )


@pytest.fixture(autouse=True)
def one_plugin(catalog_file: Path) -> None:
    """adamw with its one plugin, and runs in its history: Enter opens its run screen on the newest."""
    edits.set_fields(catalog_file, "adamw", {"plugin": "adamw"})
    for i in range(6):
        history.record_finished(recorded_run(f"run-{i}", f"2026-01-0{i + 1}T03:04:05+00:00", 0.3 - i / 100))


def text_of(renderable: object, width: int = 100) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


async def open_run_screen(app: ReadtrackApp, pilot: Pilot[None]) -> RunScreen:
    """Enter, and wait until the screen shows the newest recorded run (read from the history in a worker)."""
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.stage_status != {})
    await settle(app, pilot)
    assert isinstance(app.screen, RunScreen)
    return app.screen


def test_the_result_pane_scrolls_with_the_keys_the_key_bar_names(catalog_file: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[float, float, str, bool]:
        screen = await open_run_screen(app, pilot)
        results = screen.query_one("#run-results")
        assert screen.focused is results  # no Tab needed
        await pilot.press("j", "j", "pagedown")
        scrolled = results.scroll_y
        text = screen_text(app)
        await pilot.press("tab")
        log_focused = screen.focused is screen.query_one("#run-log")
        await pilot.press("g")
        return scrolled, results.scroll_y, text, log_focused

    scrolled, after_tab, text, log_focused = run_app(catalog_file, steps, size=(100, 30))
    assert scrolled > 2
    assert after_tab == scrolled and log_focused  # Tab gives the keys to the live log
    assert "? Help" in text.splitlines()[-1]  # the key bar names help (Tab among the keys it lists)
    assert "PgUp PgDn j k scroll · Tab: the other pane" in text  # and the focused pane's border names Tab


def test_at_80_columns_the_key_bar_still_names_the_way_back(catalog_file: Path) -> None:
    """Esc (cancel a run, or back to the list) was the first hint dropped at 80 columns: a newcomer saw no
    way out. Now Tab's goes, which the focused pane's border names, and p's, which ? lists (issue 73: ?
    answers on the run screen too, and the bar says so)."""

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        await open_run_screen(app, pilot)
        return screen_text(app).splitlines()[-1]

    bar = run_app(catalog_file, steps, size=(80, 24))
    keys = ("⏎ Run", "esc Cancel/back", "d Device", "f Quick/full", "s Seeds", "K Knobs", "? Help")
    assert all(shown in bar for shown in keys), bar


def test_long_log_lines_wrap_at_word_ends_in_the_live_pane(catalog_file: Path) -> None:
    sentence = " ".join(f"word{i}" for i in range(40))

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[list[str], int]:
        screen = await open_run_screen(app, pilot)
        screen._on_event({"type": "log", "stage": "train", "message": sentence})
        log = screen.query_one(RichLog)
        await wait_until(pilot, lambda: any("word39" in strip.text for strip in log.lines))
        return [strip.text.rstrip() for strip in log.lines], log.scrollable_content_region.width

    lines, width = run_app(catalog_file, steps, size=(120, 40))
    assert max(len(line) for line in lines) <= width  # nothing cut off at the pane's edge
    assert " ".join(lines).split() == sentence.split()  # every word whole


def test_the_history_names_its_main_number(catalog_file: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        screen = await open_run_screen(app, pilot)
        return text_of(screen.query_one("#run-history", Static).content)

    shown = run_app(catalog_file, steps)
    assert "Recent runs · number: final loss" in shown  # the plugin's first target, not "main number"
    header = next(line for line in shown.splitlines() if "started (UTC)" in line)
    assert header.split()[0] == "setting" and "number" in header.split()  # the setting first (issue 73)
    assert "main number" not in shown


def test_progress_counts_the_stages_that_ran_never_100_percent_for_one_that_did_not(
    catalog_file: Path,
) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> list[float | None]:
        screen = await open_run_screen(app, pilot)
        bar = screen.query_one(ProgressBar)
        seen = [bar.percentage]  # the newest record: check and train ran, bench was skipped
        screen.stage_status = {}
        screen._on_event(
            {"type": "start", "stage": None, "run": {"device": "cpu", "stages": ["check", "train", "bench"]}}
        )
        for event in (
            {"type": "stage", "stage": "check", "event": "start"},
            {"type": "stage", "stage": "check", "event": "end", "status": "passed", "duration_s": 0.1},
            {"type": "stage", "stage": "train", "event": "start"},
        ):
            screen._on_event(event)
        seen.append(bar.percentage)  # training, no progress reported yet
        screen._on_event({"type": "progress", "stage": "train", "done": 1, "total": 2, "message": ""})
        seen.append(bar.percentage)
        screen.stage_status = {}  # a run refused before it began: "Not run: CUDA is not available"
        screen._on_event({"type": "error", "stage": None, "message": "CUDA is not available", "exit_code": 2})
        screen._finished([])
        seen.append(bar.percentage)
        return seen

    record, training, half_train, refused = run_app(catalog_file, steps)
    assert record == pytest.approx(2 / 3)
    assert training == pytest.approx(1 / 3)  # a number, not the animated "--%"
    assert half_train == pytest.approx(1.5 / 3)
    assert refused == 0  # was 100%


def y_ticks(plot_text: str) -> list[float]:
    return [float(m.group(1)) for m in re.finditer(r"^\s*([0-9.e+-]+)┤", plot_text, re.MULTILINE)]


def test_curves_spanning_decades_get_a_log_axis_and_the_legend_sits_outside(catalog_file: Path) -> None:
    decaying = {
        "train loss": [(s, 5.0 * 0.9**s) for s in range(60)],  # 5 to 0.01: 2.7 decades
        "val loss": [(s, 6.0 * 0.9**s) for s in range(60)],
    }
    flat = {"accuracy": [(s, 0.5 + s / 200) for s in range(60)]}
    diverged = {"loss": [(0, 5.0), (1, 0.01), (2, float("nan")), (3, float("inf"))]}  # blew up: still drawn

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> list[tuple[str, str]]:
        screen = await open_run_screen(app, pilot)
        drawn = []
        for curves in (decaying, flat, diverged):
            screen._plot(curves)
            await pilot.pause()
            plot = screen.query_one(PlotextPlot).render()
            assert isinstance(plot, Text)
            drawn.append((plot.plain, text_of(screen.query_one("#run-legend", Static).content)))
        return drawn

    (log_plot, log_legend), (linear_plot, linear_legend), (diverged_plot, _) = run_app(
        catalog_file, steps, size=(120, 40)
    )
    assert "(log y axis)" in diverged_plot
    assert "(log y axis)" in log_plot
    ticks = y_ticks(log_plot)
    ratios = [a / b for a, b in itertools.pairwise(ticks)]
    assert len(ticks) >= 3 and ratios == pytest.approx([10.0] * len(ratios))  # ticked at the decades
    assert "train loss" not in log_plot and "val loss" not in log_plot  # no legend over the curves
    assert "━━ train loss" in log_legend and "━━ val loss" in log_legend  # it is under the plot
    assert "(log y axis)" not in linear_plot and "━━ accuracy" in linear_legend


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_the_result_pane_shows_check_names_and_dates_whole(catalog_file: Path, size: tuple[int, int]) -> None:
    """Issue 53: the result pane cut a check name (``AdamW step vs torch.optim.Ada…``) and, with a long
    main number in the history, the dates (``2026-01-04 0…``), at 120 columns and at 80."""
    name = "KL of two Gaussians vs torch.distributions.kl_divergence, 7 pairs"
    newest = recorded_run("run-long", "2026-02-03T04:05:06+00:00", 0.2)
    newest.stages[0].comparisons = [Comparison(name, True, max_abs=1e-16, worst=1e-6, atol=1e-10, rtol=1e-8)]
    newest.stages[1].targets[0].name = "top-1 accuracy on the held-out split of the toy task"
    history.record_finished(newest)

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> list[str]:
        await open_run_screen(app, pilot)
        return await read_the_whole_pane(app, pilot, "#run-results")

    lines = run_app(catalog_file, steps, size=size)
    text = "\n".join(lines)
    assert "check: implementation vs reference" in text and "Recent runs" in text
    assert not [line for line in lines if "…" in line]  # nothing cut short
    for day in ["2026-02-03", *(f"2026-01-0{i + 1}" for i in range(6))]:  # every run's date, with its time
        assert re.search(rf"{day} \d\d:\d\d", text), day
    words = " ".join(line.strip("│ ") for line in lines).split()
    assert all(word in words for word in ["KL", "of", "two", "Gaussians", "vs"])
