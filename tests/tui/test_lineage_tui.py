"""``L``: the lineage of the paper under the cursor, in time, from the list and from a paper's view (issue
92), through the real TUI (Pilot)."""

from __future__ import annotations

from pathlib import Path

from made_records import make_record, store
from test_keys_everywhere import help_rows
from textual.pilot import Pilot
from textual.widgets import OptionList
from tui_driver import main_screen, read_the_whole_pane, run_app, screen_text, settle, wait_until, words_shown

from readtrack.plugins.records import StageResult, Target
from readtrack.tui.app import MainScreen, ReadtrackApp
from readtrack.tui.screens.lineage_screen import HELP, LineageScreen
from readtrack.tui.screens.paper_view import PaperView


async def open_lineages(app: ReadtrackApp, pilot: Pilot[None]) -> LineageScreen:
    await pilot.press("L")
    await wait_until(pilot, lambda: isinstance(app.screen, LineageScreen) and bool(app.screen.views))
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, LineageScreen)
    return screen


async def help_rows_of_the_view(app: ReadtrackApp, pilot: Pilot[None]) -> set[tuple[str, str]]:
    await pilot.press("p")
    await wait_until(pilot, lambda: isinstance(app.screen, PaperView))
    rows = await help_rows(app, pilot)
    await pilot.press("escape")
    await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
    return rows


def highlighted(screen: LineageScreen) -> str:
    listed = screen.query_one(OptionList)
    assert listed.highlighted is not None
    return screen.views[listed.highlighted].lineage.name


def test_l_opens_the_papers_lineage_in_time_from_the_list_and_from_its_view(catalog_file: Path) -> None:
    gru = make_record("gru", run_id="gru-run-1")
    target = Target("GRU: test MSE on the adding problem", 0.0041, 0.05, higher_is_better=False)
    gru.stages = [StageResult("train", "passed", 1.0, targets=[target])]
    store(gru)

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("slash", *"gru", "enter")
        await settle(app, pilot)
        screen = await open_lineages(app, pilot)
        assert highlighted(screen) == "recurrent"  # the paper's family
        words = " ".join(words_shown(await read_the_whole_pane(app, pilot, "#lineage-pane")))
        assert "Recurrent networks: RNN, LSTM, GRU; S4 and Mamba" in words
        assert "Jun 2014 gru Learning Phrase Representations" in words
        assert "0.0041 (≤ 0.05), held (quick run, seed 3, gru-run-" in words
        assert "RMS error predicting a XOR bit: not run (readtrack run rnn --quick)" in words
        assert "7 lineages" in screen_text(app)
        await pilot.press("down")  # the next family, drawn at once
        await settle(app, pilot)
        assert "The CNN case study" in " ".join(
            words_shown(await read_the_whole_pane(app, pilot, "#lineage-pane"))
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PaperView))
        await settle(app, pilot)
        from_view = await open_lineages(app, pilot)
        assert highlighted(from_view) == "recurrent"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, PaperView))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen))
        assert ("L", HELP) in await help_rows(app, pilot)  # the list's help names the key
        on_view = await help_rows_of_the_view(app, pilot)
        assert ("L", "The lineage this paper belongs to, in time") in on_view

    run_app(catalog_file, steps, size=(120, 40))


def test_a_paper_of_no_family_opens_its_sections_lineage(catalog_file: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        await pilot.press("slash", *"coco", "enter")  # Vision: the CNN case study and detection's section
        await settle(app, pilot)
        assert main_screen(app).catalog is not None
        screen = await open_lineages(app, pilot)
        name = highlighted(screen)
        await pilot.press("escape")
        return name

    assert run_app(catalog_file, steps, size=(100, 30)) == "cnn"
