"""Issue 73, items 2 and 7 in the TUI: after a sweep every face names the setting first. The Results tab's
heading starts with the setting and says the claim is not asserted with it; the Details pane lists each
setting's run; the recent runs start with the setting, whole, under a heading naming the number the rows
show; the 80x24 run screen shows the run's own result without scrolling. One sweep recorded through the
history API (three settings of the fake ``knobby`` plugin, two seeds each), read at 120x40 and 80x24."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fake_plugins import KNOBBY_CONFIG, KNOBBY_EXPERIMENT, write_plugin
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static
from tui_driver import read_the_whole_pane, region_text, run_app, settle, wait_until, words_shown

from readtrack.catalog import edits
from readtrack.history import runs as history
from readtrack.history.spread import GroupRecord
from readtrack.plugins.records import Measured, RunInfo, RunRecord, StageResult, Target, claim_note
from readtrack.render.cells import fmt_number
from readtrack.tui.app import ReadtrackApp
from readtrack.tui.screens.paper_view import PaperView
from readtrack.tui.screens.run_screen import RunScreen

# The claim's two numbers, named as rmsnorm names them: the run of the defaults asserts them in this order,
# a run of turned knobs reports them in the other (which put one name over the other's values).
RATIO = "test loss without normalisation / with RMSNorm, each at its best lr"
PARITY = "test loss RMSNorm − nn.LayerNorm (parity), each at its best lr"
# (settings, its ratio, its parity, started): the defaults first, the newest last, as a sweep records them
SWEEP: list[tuple[dict[str, object], float, float, str]] = [
    ({}, 4.5, 0.03, "2026-03-01T10:00:00+00:00"),
    ({"decay": 0.25, "warmup": False}, 5.25, 0.01, "2026-03-01T10:01:00+00:00"),
    ({"arm": "slow", "width": 16}, 1.0, 0.84, "2026-03-01T10:02:00+00:00"),
]
LABELS = ["defaults", "decay=0.25 warmup=false", "arm=slow width=16"]


def setting_group(settings: dict[str, object], ratio: float, parity: float, started: str) -> GroupRecord:
    """One setting of the sweep: two seeds' runs, the claim asserted for the defaults, reported otherwise."""
    group_id = f"group-{len(settings)}-{ratio}"
    runs = []
    for seed in (0, 1):
        info = RunInfo(f"{group_id}-{seed}", "knobby", "adamw", "cpu", ["train"], True, seed, started,
                       settings=settings, sweep_id="5" * 32)  # fmt: skip
        if settings:
            measured = [
                Measured(PARITY, parity, claim_note(0.1, False, calibrated=False)),
                Measured(RATIO, ratio, claim_note(2.0, True, calibrated=False)),
            ]
            stage = StageResult("train", "passed", 1.0, measured=measured)
        else:
            targets = [Target(RATIO, ratio, 2.0), Target(PARITY, parity, 0.1, higher_is_better=False)]
            stage = StageResult("train", "passed", 1.0, targets=targets)
        runs.append(RunRecord(info, "passed", 1.0, [stage]))
    return GroupRecord(group_id, "knobby", [0, 1], started, "passed", 2.0, runs)


@pytest.fixture(autouse=True)
def a_recorded_sweep(user_dir: Path, catalog_file: Path) -> None:
    """The list's first paper runs ``knobby``, whose history holds a sweep of three settings."""
    folder = write_plugin(user_dir, "knobby", KNOBBY_EXPERIMENT)
    (folder / "config.py").write_text(KNOBBY_CONFIG)
    edits.set_fields(catalog_file, "adamw", {"plugin": "knobby"})
    for settings, ratio, parity, started in SWEEP:
        history.record_group(setting_group(settings, ratio, parity, started))


def plain(renderable: object) -> str:
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def rows_of_recent_runs(lines: list[str]) -> dict[str, list[str]]:
    """The recent runs' rows as shown, by setting: the setting's knobs as shown (on its line, or the first
    there and the others on the lines under it, where a setting wraps at its spaces), then the row's words."""
    last = max(i for i, line in enumerate(lines) if "Recent runs" in line)  # the pages overlap
    rows = [line.strip("│ ").split() for line in lines[last:]]
    found: dict[str, list[str]] = {}
    for i, words in enumerate(rows):
        for label in LABELS:
            knobs = label.split()
            if words[:1] != knobs[:1] or label in found:
                continue
            if words[: len(knobs)] == knobs:
                found[label] = words
            else:
                wrapped = [row[0] for row in rows[i + 1 : i + len(knobs)] if row]
                found[label] = words[:1] + wrapped + words[1:]
    return found


def assert_recent_runs_name_each_setting_and_one_number(lines: list[str]) -> None:
    section = words_shown(lines[max(i for i, line in enumerate(lines) if "Recent runs" in line) :])
    names = {word for text in (RATIO, PARITY, *LABELS) for word in text.split()}
    cut = [w for w in section if w not in names and any(n.startswith(w) and len(w) >= 4 for n in names)]
    assert not cut, cut  # no word split across lines ("nn.LayerNor" / "m", "norm=laye" / "r")
    text = " ".join(section)
    assert f"Recent runs · number: {RATIO}" in text  # the heading names the number every row shows
    rows = rows_of_recent_runs(lines)
    assert set(rows) == set(LABELS)
    for label, words in rows.items():  # each setting first on its row, wrapped at its spaces, knobs whole
        assert words[: len(label.split())] == label.split(), words
    for (_, ratio, _, _), label in zip(SWEEP, LABELS, strict=True):
        assert fmt_number(ratio) in rows[label], rows[label]  # that number, not the parity's


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_the_results_tab_names_the_setting_first_and_that_the_claim_is_not_asserted(
    catalog_file: Path, size: tuple[int, int]
) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> list[str]:
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PaperView))
        await settle(app, pilot)
        await pilot.press("3")
        await wait_until(
            pilot, lambda: "Recent runs" in plain(app.screen.query_one("#results-body", Static).content)
        )
        return await read_the_whole_pane(app, pilot, "#results-scroll")

    lines = run_app(catalog_file, steps, size=size)
    shown = [line.strip("│ ") for line in lines if line.strip("│ ─")]
    assert shown[0].startswith("arm=slow width=16 · seeds 0-1: passed")  # was "seeds 0-1: passed"
    assert " ".join(shown[1:3]).startswith("the claim is not asserted with arm=slow width=16")
    per_device = next(line for line in shown if " · cpu: " in line)  # the newest run alone, on cpu
    assert per_device.startswith("arm=slow width=16 · cpu: passed")
    assert_recent_runs_name_each_setting_and_one_number(lines)


def test_the_details_pane_lists_each_settings_run_by_its_setting(catalog_file: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> list[str]:
        details = app.screen.query_one("#details")
        await wait_until(pilot, lambda: "seeds 0-1" in " ".join(region_text(app, details)))
        return [line[2:-2].rstrip() for line in region_text(app, details)]  # less the border and padding

    lines = run_app(catalog_file, steps, size=(120, 40))
    listed = lines[next(i for i, line in enumerate(lines) if line.startswith("Plugin knobby")) + 1 :]
    runs: list[list[str]] = []  # each run: its first line, then those indented under it
    for line in (line for line in listed if line.strip("─")):  # blank lines and the lower border out
        if line.startswith(" "):
            runs[-1].append(line.strip())
        else:
            runs.append([line])
    assert [run[0] for run in runs] == [f"{label}: passed" for label in reversed(LABELS)]  # newest first
    # was "2026-03-01 10:02  passed    cpu quick  2.0 s", the setting nowhere (a row of each seed)
    assert " ".join(runs[0][1:]) == "seeds 0-1 · 2026-03-01 10:02 · cpu quick"


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_the_run_screen_shows_the_setting_its_result_and_the_recent_runs(
    catalog_file: Path, size: tuple[int, int]
) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[list[str], list[str], int]:
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.shown is not None)
        await settle(app, pilot)
        pane = app.screen.query_one("#run-results")
        first_page = region_text(app, pane)
        return first_page, await read_the_whole_pane(app, pilot, "#run-results"), pane.region.height

    first_page, lines, height = run_app(catalog_file, steps, size=size)
    shown = [line.strip("│ ") for line in first_page]
    assert shown[1].startswith("arm=slow width=16 · seeds 0-1: passed")  # under the pane's title
    assert "the claim is not asserted with arm=slow width=16" in " ".join(shown[2:4])
    assert "per seed" in shown  # the run's own result before the recent runs, without scrolling
    assert height >= size[1] // 2  # at 80x24 the result pane has the room (it had 10 of 24 rows)
    assert_recent_runs_name_each_setting_and_one_number(lines)
