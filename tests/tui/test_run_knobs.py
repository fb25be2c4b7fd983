"""The run screen's knobs and its save-the-plot key (issue 55, items 5 and 6), as a reader uses them: a real
fake plugin with a ``config.py`` on disk, turned through the Knobs panel, run through the screen's own
`readtrack run --json` subprocess, its record read back from the real history, its plot saved as a PNG."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fake_plugins import KNOBBY_CONFIG, write_plugin
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input, Static
from tui_driver import (
    open_run_screen,
    read_the_whole_pane,
    region_text,
    run_app,
    screen_text,
    settle,
    wait_until,
    words_shown,
)

from readtrack.catalog import edits
from readtrack.history import runs as history
from readtrack.plugins.records import RunRecord
from readtrack.tui.app import ReadtrackApp
from readtrack.tui.screens.run_screen import RunScreen
from readtrack.tui.widgets.knobs_panel import TURNED, KnobsPanel

# check and train only (no bench: the run takes a second); train reads every knob and says so.
EXPERIMENT = """
from .config import Config


def check(ctx):
    ctx.check_property("always", True)


def train(ctx):
    cfg = ctx.config(Config)
    loss = 1.0
    for step in range(cfg.steps):
        loss *= cfg.decay
        ctx.metric("loss", step, loss)
    ctx.log(f"steps={cfg.steps} decay={cfg.decay} arm={cfg.arm} width={cfg.width} warmup={cfg.warmup}")
    ctx.target("final loss", loss, 0.5, higher_is_better=False)
"""

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def knobby(user_dir: Path, catalog_file: Path) -> Path:
    """adamw's plugin is ``knobby``: Enter on the list's first row opens its run screen."""
    folder = write_plugin(user_dir, "knobby", EXPERIMENT)
    decay = 'help="the loss\'s factor per step"'  # and what its special value means (knob(means=...))
    (folder / "config.py").write_text(
        KNOBBY_CONFIG.replace(decay, decay + ', means={0.0: "no loss after step 0"}')
    )
    edits.set_fields(catalog_file, "adamw", {"plugin": "knobby"})
    return folder


def plain(renderable: object) -> str:
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def notices(app: ReadtrackApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def panel_words(app: ReadtrackApp, panel: KnobsPanel) -> list[str]:
    return words_shown(region_text(app, panel))


def rows(app: ReadtrackApp, panel: KnobsPanel) -> dict[str, list[str]]:
    """Each knob's row as shown in the panel: its words (the line a name starts, and the line under it)."""
    lines = [line.strip("│ ") for line in region_text(app, panel)]
    found = {}
    for i, line in enumerate(lines):
        words = line.split()
        name = words[1] if words[:1] == [TURNED] and len(words) > 1 else words[0] if words else ""
        if name in {k.name for k in panel.knobs}:
            follow = lines[i + 1].split() if i + 1 < len(lines) else []
            found[name] = words + (follow if follow[:2] in (["one", "of"], ["true", "or"]) else [])
    return found


def test_turn_knobs_run_with_them_see_the_settings_reset_and_save_the_plot(
    knobby: Path, catalog_file: Path, readtrack_home: Path
) -> None:
    """The journey of issue 55's item 6 and item 5's TUI part: see the knobs and their quick defaults, type
    a wrong value (the CLI's message, nothing changes), turn a number and a choice, switch to full and back
    (the knobs not turned follow), run: the recorded run has exactly those settings and the experiment ran
    with them; the result pane names them and reports its target as not calibrated; reset one, then all;
    p saves the shown run's plot as a PNG in the data dir's plots folder and the notice names the file."""

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> dict[str, object]:
        screen, panel = await open_run_screen(app, pilot)
        seen: dict[str, object] = {"start": rows(app, panel)}
        await pilot.press("K")  # the knobs: the first, steps, highlighted
        assert screen.focused is panel.query_one("#knobs-list")
        await pilot.press("e")
        field = panel.query_one("#knobs-input", Input)
        assert screen.focused is field and field.value == "10"
        await pilot.press(*"abc", "enter")
        await settle(app, pilot)
        seen["refused"] = " ".join(panel_words(app, panel))
        assert panel.settings() == {} and screen.focused is field  # open to correct it
        await pilot.press("escape")  # leaves the field: the value is as it was
        assert screen.focused is panel.query_one("#knobs-list") and panel.settings() == {}
        await pilot.press("e", "ctrl+u", *"5000", "enter")  # out of range
        await settle(app, pilot)
        seen["too_high"] = " ".join(panel_words(app, panel))
        await pilot.press("ctrl+u", *"7", "enter")
        await pilot.press("j", "j", "space")  # arm: fast → slow
        await pilot.press("j")  # width: highlighted, its meaning shown
        await settle(app, pilot)
        seen["turned"] = rows(app, panel)
        seen["meaning"] = " ".join(panel_words(app, panel))
        await pilot.press("f")  # full: steps and arm stay as turned, width follows (16)
        await settle(app, pilot)
        seen["full"] = rows(app, panel)
        await pilot.press("f")  # back to quick
        await settle(app, pilot)
        seen["quick"] = rows(app, panel)
        await pilot.press("enter")  # runs, from the knobs as from anywhere on the screen
        assert screen.running
        await pilot.press("space")  # arm, while the run goes: refused, unchanged
        seen["while_running"] = (panel.settings(), " ".join(panel_words(app, panel)))
        await wait_until(pilot, lambda: not screen.running and screen.record is not None, timeout=120)
        await settle(app, pilot)
        history_pane = screen.query_one("#run-history", Static)
        await wait_until(pilot, lambda: "Recent runs" in plain(history_pane.content))
        await pilot.press("tab")  # the knobs → the result pane
        seen["result"] = " ".join(words_shown(await read_the_whole_pane(app, pilot, "#run-results")))
        seen["history"] = plain(screen.query_one("#run-history", Static).content)
        await pilot.press("K", "g", "j", "j", "r")  # the first, down to arm: back to its default
        seen["one_reset"] = panel.settings()
        await pilot.press("R")
        await settle(app, pilot)
        seen["all_reset"] = (panel.settings(), rows(app, panel), panel.border_title)
        await pilot.press("p")
        await wait_until(pilot, lambda: any("Saved the plot" in notice for notice in notices(app)), 60)
        seen["notices"] = notices(app)
        return seen

    seen = run_app(catalog_file, steps, size=(120, 40))

    start = seen["start"]
    assert start["steps"][:3] == ["steps", "10", "10"]  # value, the quick default
    assert start["width"][:3] == ["width", "8", "8"]
    assert " ".join(start["arm"]).endswith("one of fast, slow")
    assert " ".join(start["steps"]).endswith("1 to 1000")
    # in the panel's words, not the CLI's "--set steps=abc: …" (issue 73)
    assert "steps: 'abc' is not a whole number (1 to 1000)" in str(seen["refused"])
    assert "steps: 5000 is out of range (1 to 1000)" in str(seen["too_high"])
    assert "--set" not in str(seen["refused"]) + str(seen["too_high"])
    turned = seen["turned"]
    assert turned["steps"][:4] == ["●", "steps", "7", "10"]
    assert turned["arm"][:4] == ["●", "arm", "slow", "fast"]
    assert turned["width"][:3] == ["width", "8", "8"]  # not turned: no mark
    assert "width: units per layer" in str(seen["meaning"])
    full = seen["full"]
    assert full["steps"][:4] == ["●", "steps", "7", "20"] and full["width"][:3] == ["width", "16", "16"]
    assert seen["quick"]["width"][:3] == ["width", "8", "8"]

    settings, words = seen["while_running"]
    assert settings == {"steps": 7, "arm": "slow"} and "a run is going with these settings" in words

    (record,) = history.entries("knobby")
    assert isinstance(record, RunRecord) and record.status == "passed" and record.info.quick
    assert record.info.settings == {"steps": 7, "arm": "slow"}  # exactly what was turned, as --set keeps it
    train = record.stages[1]
    assert not train.targets and train.measured[0].value == pytest.approx(0.8**7)  # 7 steps ran
    result = str(seen["result"])
    assert result.startswith("Result steps=7 arm=slow · passed")  # the setting first (issue 73)
    assert "the claim is not asserted with steps=7 arm=slow" in result
    assert "not asserted with these settings, not calibrated for them" in result
    title, head, row = str(seen["history"]).splitlines()[:3]  # the recent runs: the setting first
    assert head.split()[0] == "setting" and row.split()[:2] == ["steps=7", "arm=slow"]
    assert title == "Recent runs · number: final loss"  # its target, reported: the run's main number
    assert f" {0.8**7:.4g} " in row

    assert seen["one_reset"] == {"steps": 7}
    settings, after, title = seen["all_reset"]
    assert settings == {} and title == "Knobs" and all("●" not in row for row in after.values())

    plot = readtrack_home / "plots" / f"knobby-{record.info.run_id[:12]}.png"
    assert any(str(plot) in notice for notice in seen["notices"])  # the notice names the full path
    data = plot.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5_000
    from matplotlib.image import imread

    picture = imread(plot)
    assert picture.shape[0] > 300 and picture.shape[1] > 600 and float(picture.std()) > 0.05  # not blank


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_every_knob_shows_its_value_default_allowed_and_meaning_at_both_sizes(
    knobby: Path, catalog_file: Path, size: tuple[int, int]
) -> None:
    """At 80x24 (beside the live pane, taller while focused) and 120x40 (over it): each knob's row has its
    name, value, default and what it allows, whole; moving through them shows each one's meaning whole."""

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[dict[str, list[str]], list[str], str]:
        _, panel = await open_run_screen(app, pilot)
        await pilot.press("K")
        await settle(app, pilot)
        shown = rows(app, panel)
        meanings = []
        for _ in panel.knobs:
            meanings.append(" ".join(panel_words(app, panel)))
            await pilot.press("j")
            await settle(app, pilot)
        return shown, meanings, screen_text(app).splitlines()[-1]

    shown, meanings, key_bar = run_app(catalog_file, steps, size=size)
    assert set(shown) == {"steps", "decay", "arm", "width", "warmup"}
    assert " ".join(shown["steps"]) == "steps 10 10 1 to 1000"
    assert " ".join(shown["decay"]) == "decay 0.8 0.8 0 to 1"
    assert " ".join(shown["arm"]) == "arm fast fast one of fast, slow"
    assert " ".join(shown["warmup"]) == "warmup true true true or false"
    for name, meaning in zip(["steps", "decay", "arm", "width", "warmup"], meanings, strict=True):
        assert f"{name}:" in meaning, meaning
    assert "steps: training steps (paper: 100k)" in meanings[0]
    assert "arm: which arm of the comparison (paper: fast)" in meanings[2]
    assert "decay: the loss's factor per step; 0.0: no loss after step 0" in meanings[1]
    assert "⏎ Run" in key_bar and "? Help" in key_bar  # and the knobs' own keys in the border


def test_a_plugin_without_knobs_shows_no_panel_and_p_says_there_is_no_run_yet(
    user_dir: Path, catalog_file: Path
) -> None:
    write_plugin(user_dir, "plain")
    edits.set_fields(catalog_file, "adamw", {"plugin": "plain"})

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[bool, str, list[str]]:
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RunScreen))
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("K", "p")  # nothing to turn; nothing shown to plot
        await settle(app, pilot)
        return screen.query_one(KnobsPanel).display, screen_text(app), notices(app)

    shown, text, said = run_app(catalog_file, steps, size=(80, 24))
    assert not shown and "Knobs" not in text and "K Knobs" not in text
    assert said == ["No run shown yet to plot: Enter runs the plugin"]


OPEN_RUN_SCREEN = """
import asyncio, sys
from pathlib import Path
from readtrack.tui.app import ReadtrackApp
from readtrack.tui.widgets.knobs_panel import TURNED, KnobsPanel

async def main():
    app = ReadtrackApp(Path(sys.argv[1]))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.press("enter")  # the run screen: its knobs and the recorded run are read
        for _ in range(300):
            await pilot.pause(0.05)
            panels = app.screen.query(KnobsPanel)
            if panels and panels.first().knobs and app.screen.shown is not None:
                break
        await app.workers.wait_for_complete()
        print("torch" in sys.modules, "matplotlib" in sys.modules)
        await pilot.press("p")
        for _ in range(600):
            await pilot.pause(0.05)
            if any("Saved the plot" in str(n.message) for n in app._notifications):
                break
        print("matplotlib" in sys.modules)

asyncio.run(main())
"""


def test_the_run_screen_and_its_knobs_import_neither_torch_nor_matplotlib_until_p(
    knobby: Path, catalog_file: Path, readtrack_home: Path
) -> None:
    record = RunRecord.from_dict(
        {
            "info": {
                "run_id": "0123456789abcdef",
                "plugin": "knobby",
                "paper_id": "adamw",
                "device": "cpu",
                "stages": ["train"],
                "quick": True,
                "seed": 0,
                "started_at": "2026-01-02T03:04:05+00:00",
                "settings": {"decay": 0.5},
            },
            "status": "passed",
            "duration_s": 1.0,
            "stages": [
                {
                    "stage": "train",
                    "status": "passed",
                    "duration_s": 1.0,
                    "curves": {"loss": [[0, 1.0], [1, 0.5]]},
                }
            ],
        }
    )
    history.record_finished(record)
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(OPEN_RUN_SCREEN), str(catalog_file)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "True"]
    saved = readtrack_home / "plots" / "knobby-0123456789ab.png"
    assert saved.read_bytes().startswith(PNG_MAGIC)


def test_a_config_that_does_not_load_is_said_in_the_panel_and_the_screen_works(
    user_dir: Path, catalog_file: Path
) -> None:
    """A ``config.py`` whose field is not a knob: one line in the panel naming it and its file and line,
    nothing to turn, and the screen still answers (Esc goes back to the list)."""
    folder = write_plugin(user_dir, "badknobs", EXPERIMENT)
    (folder / "config.py").write_text(KNOBBY_CONFIG.replace('knob(True, help="warm up first")', "True"))
    edits.set_fields(catalog_file, "adamw", {"plugin": "badknobs"})

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[str, bool]:
        _, panel = await open_run_screen(app, pilot, lambda panel: bool(panel.display))
        text = " ".join(panel_words(app, panel))
        await pilot.press("K", "space", "escape")
        await settle(app, pilot)
        return text, isinstance(app.screen, RunScreen)

    text, still_there = run_app(catalog_file, steps, size=(120, 40))
    line = next(n for n, t in enumerate((folder / "config.py").read_text().splitlines(), 1) if "warmup" in t)
    where = f"{folder / 'config.py'}:{line}:"  # the file and line, whole (wrapped in the narrow panel)
    assert f"knobsunavailable:pluginbadknobsisbroken:{where}Config.warmupisnotaknob(...)" in text.replace(
        " ", ""
    )
    assert not still_there


MANY_KNOBS = """
from dataclasses import dataclass

from readtrack.plugins.knobs import knob


@dataclass(frozen=True)
class Config:
    arm: str = knob("fast", choices=("fast", "slow"), help="which arm of the comparison")
""" + "".join(
    f'    k{i:02d}: int = knob({i}, low=0, high=100, help="knob number {i}")\n' for i in range(1, 25)
)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_a_value_typed_for_the_last_of_many_knobs_is_seen_where_it_is_typed(
    user_dir: Path, catalog_file: Path, size: tuple[int, int]
) -> None:
    """A plugin with more knobs than the panel has rows for (gpt's 8 at 40 lines were enough): e on the last
    one opens the field where the reader sees it, the typed text shows, and a refused value's message too
    (the field used to sit under the list, cut off by the panel's height: typing went on out of sight)."""
    folder = write_plugin(user_dir, "many", EXPERIMENT.replace("cfg.steps", "cfg.k01"))
    (folder / "config.py").write_text(MANY_KNOBS)
    edits.set_fields(catalog_file, "adamw", {"plugin": "many"})

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[str, str, str | None]:
        screen, panel = await open_run_screen(app, pilot)
        await pilot.press("K", "G", "e")
        field = panel.query_one("#knobs-input", Input)
        assert screen.focused is field and field.value == "24"
        await pilot.press("ctrl+u", *"abc")
        await settle(app, pilot)
        typed = " ".join(panel_words(app, panel))
        await pilot.press("enter")
        await settle(app, pilot)
        return typed, " ".join(panel_words(app, panel)), panel.highlighted and panel.highlighted.name

    typed, refused, highlighted = run_app(catalog_file, steps, size=size)
    assert highlighted == "k24"
    assert "abc" in typed.split() and "k24" in typed.split()  # the field, and the knob it is for
    assert "k24: 'abc' is not a whole number (0 to 100)" in refused
