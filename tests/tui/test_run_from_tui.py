"""Running a plugin from the TUI: real runs on the fork-server pool on tiny fake plugins in a tmp
READTRACK_PLUGINS_DIR (fast, and a plugin that hangs is easy to write), its record in the real history."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_plugins import FAILING, HANGING, write_plugin
from textual.pilot import Pilot
from textual.widgets import ProgressBar, RichLog
from tui_driver import read_the_whole_pane, run_app, run_first_section, screen_text, settle, wait_until

from readtrack.catalog import edits
from readtrack.history import runs as history
from readtrack.history.spread import GroupRecord
from readtrack.tui.app import ReadtrackApp
from readtrack.tui.screens.run_screen import RunScreen


@pytest.fixture
def plugins_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "plugins"
    monkeypatch.setenv("READTRACK_PLUGINS_DIR", str(folder))
    return folder


def run_screen(app: ReadtrackApp) -> RunScreen:
    assert isinstance(app.screen, RunScreen)
    return app.screen


def finished(app: ReadtrackApp) -> bool:
    screen = app.screen
    return isinstance(screen, RunScreen) and not screen.running and screen.stage_status != {}


def log_text(app: ReadtrackApp) -> str:
    return "\n".join(strip.text for strip in run_screen(app).query_one(RichLog).lines)


def test_enter_runs_the_plugin_and_shows_the_recorded_result(plugins_dir: Path, catalog_file: Path) -> None:
    write_plugin(plugins_dir, "tinyplug")
    edits.set_fields(catalog_file, "adamw", {"plugin": "tinyplug"})

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        await pilot.press("enter")  # the run screen for adamw's plugin
        await settle(app, pilot)
        await pilot.press("f", "f")  # full, back to quick: the options react
        assert run_screen(app).quick
        await pilot.press("enter")  # start
        await wait_until(pilot, lambda: finished(app) and run_screen(app).record is not None, timeout=90)
        await settle(app, pilot)
        text = screen_text(app)  # and the recent runs, under the run's own result (issue 73)
        text += "\n".join(await read_the_whole_pane(app, pilot, "#run-results"))
        await pilot.press("escape")  # back to the list: the badge now shows the passed run
        await settle(app, pilot)
        return text + "\n" + screen_text(app)

    text = run_app(catalog_file, steps, size=(120, 40))
    recorded = history.runs("tinyplug")
    assert len(recorded) == 1 and recorded[0].status == "passed" and recorded[0].info.quick
    when = recorded[0].info.started_at.replace("T", " ")[:16]
    assert f"passed  {when} UTC · cpu quick" in text  # the verdict line of the record, its date whole
    assert "training curve" in text  # the plot of the loss curve
    assert "Recent runs" in text
    assert "✓ tinyplug" in text  # the table's badge after going back


def test_escape_cancels_a_running_plugin_and_the_run_is_recorded_cancelled(
    plugins_dir: Path, catalog_file: Path
) -> None:
    write_plugin(plugins_dir, "hangs", HANGING)
    edits.set_fields(catalog_file, "adamw", {"plugin": "hangs"})

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "about to hang" in log_text(app), timeout=90)
        await pilot.press("escape")
        await wait_until(pilot, lambda: finished(app), timeout=30)
        await settle(app, pilot)
        assert "cancelled" in screen_text(app)

    run_app(catalog_file, steps, size=(120, 40))
    recorded = history.runs("hangs")
    assert [r.status for r in recorded] == ["cancelled"]


def test_an_unavailable_device_is_shown_not_run(plugins_dir: Path, catalog_file: Path) -> None:
    write_plugin(plugins_dir, "cpuonly", devices=("cpu",))
    edits.set_fields(catalog_file, "adamw", {"plugin": "cpuonly"})

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("d", "d")  # auto → cpu → cuda
        assert run_screen(app).device == "cuda"
        await pilot.press("enter")
        await wait_until(pilot, lambda: finished(app) or run_screen(app)._refused is not None, timeout=90)
        await wait_until(pilot, lambda: not run_screen(app).running, timeout=30)
        await settle(app, pilot)
        assert run_screen(app).query_one(ProgressBar).percentage == 0  # nothing ran: not 100%
        return screen_text(app)

    text = run_app(catalog_file, steps, size=(120, 40))
    assert "Not run:" in text and "cuda" in text
    assert history.runs("cpuonly") == []


def test_a_broken_plugin_is_shown_not_run(plugins_dir: Path, catalog_file: Path) -> None:
    write_plugin(plugins_dir, "broken", init="raise ImportError('missing dependency: foo')\n")
    edits.set_fields(catalog_file, "adamw", {"plugin": "broken"})

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: run_screen(app)._refused is not None, timeout=90)
        await wait_until(pilot, lambda: not run_screen(app).running, timeout=30)
        return run_screen(app)._refused or ""

    refused = run_app(catalog_file, steps, size=(120, 40))
    assert "broken" in refused


def test_the_seeds_field_runs_several_seeds_and_shows_each_and_the_spread(
    plugins_dir: Path, catalog_file: Path
) -> None:
    write_plugin(plugins_dir, "tinyplug")
    edits.set_fields(catalog_file, "adamw", {"plugin": "tinyplug"})

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        await pilot.press("enter")  # the run screen
        await settle(app, pilot)
        await pilot.press("s", *"0-2", "enter")  # s focuses the seeds field; Enter there starts the run
        done = lambda: not run_screen(app).running and run_screen(app).group is not None  # noqa: E731
        await wait_until(pilot, done, timeout=120)
        await settle(app, pilot)
        return screen_text(app)

    text = run_app(catalog_file, steps, size=(140, 50))
    assert "defaults · seeds 0-2: passed" in text and "the claim holds on every seed" in text  # setting first
    assert "seed 0" in text and "seed 2" in text and "over seeds" in text
    (group,) = history.entries("tinyplug")
    assert isinstance(group, GroupRecord) and group.seeds == [0, 1, 2] and group.status == "passed"


def test_a_malformed_seeds_field_is_refused_before_anything_runs(
    plugins_dir: Path, catalog_file: Path
) -> None:
    write_plugin(plugins_dir, "tinyplug")
    edits.set_fields(catalog_file, "adamw", {"plugin": "tinyplug"})

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("s", *"4-1", "enter")
        await settle(app, pilot)
        assert not run_screen(app).running
        return screen_text(app)

    assert "runs backwards" in run_app(catalog_file, steps, size=(140, 50))
    assert history.entries() == []


def test_run_section_runs_every_plugin_of_the_section_and_fills_the_badges(
    plugins_dir: Path, catalog_file: Path
) -> None:
    write_plugin(plugins_dir, "tinyplug")
    write_plugin(plugins_dir, "badplug", FAILING)
    edits.set_fields(catalog_file, "adamw", {"plugin": "tinyplug"})
    edits.set_fields(catalog_file, "lbfgs", {"plugin": "badplug"})

    text = run_app(catalog_file, run_first_section, size=(140, 40))
    assert "✓ tinyplug" in text and "✗ badplug" in text  # the badges, filled as the results came in
    statuses = {r.info.plugin: r.status for r in history.runs()}
    assert statuses == {"tinyplug": "passed", "badplug": "failed"}


def test_a_runs_late_events_after_the_screen_is_gone_are_dropped(
    plugins_dir: Path, catalog_file: Path
) -> None:
    """A cancelled batch still reports while its runs record themselves: after Esc or Ctrl+Q took the run
    screen away, those events must not reach its widgets (it ended the app with NoMatches: 'RichLog')."""
    import asyncio

    from readtrack.tui.workers.handoff import hand_to

    write_plugin(plugins_dir, "tinyplug")
    edits.set_fields(catalog_file, "adamw", {"plugin": "tinyplug"})

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> list[int]:
        await pilot.press("enter")  # the run screen
        await settle(app, pilot)
        gone = run_screen(app)
        await pilot.press("escape")  # back to the list
        await settle(app, pilot)
        called: list[int] = []
        late = {"type": "log", "stage": "train", "message": "late", "seed": 0}
        await asyncio.to_thread(hand_to, gone, gone._on_event, late)
        await asyncio.to_thread(hand_to, gone, called.append, 1)
        await asyncio.to_thread(hand_to, app.screen, called.append, 2)  # the screen shown gets its calls
        await settle(app, pilot)
        return called

    assert run_app(catalog_file, steps, size=(120, 40)) == [2]
