"""Issue 73, item 6: `?` answers on every screen with that screen's keys, read from its bindings (the run
screen's K, d, f, s and its knobs panel's e, r, R were missing: `?` did nothing there); the manual's TUI page
names every tab of the paper view; a wrong value typed in the knobs panel is answered in the panel's words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fake_plugins import KNOBBY_CONFIG, KNOBBY_EXPERIMENT, write_plugin
from textual.binding import Binding, BindingType
from textual.pilot import Pilot
from tui_driver import open_run_screen, run_app, settle, wait_until

from readtrack.catalog import edits
from readtrack.plugins.knobs import Knob
from readtrack.tui.app import ReadtrackApp
from readtrack.tui.screens.dialogs import CatalogErrorScreen, ChoiceScreen, HelpScreen, key_label
from readtrack.tui.screens.paper_view import PaperView
from readtrack.tui.screens.run_screen import RunScreen
from readtrack.tui.screens.search_screen import SearchScreen
from readtrack.tui.widgets.knobs_panel import KnobsPanel

REPO = Path(__file__).resolve().parents[2]


async def help_rows(app: ReadtrackApp, pilot: Pilot[None]) -> set[tuple[str, str]]:
    """``?`` on the screen shown now: the help it opens, as (keys, what they do) rows; closed again."""
    under = app.screen
    await pilot.press("question_mark")
    await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
    shown = app.screen
    assert isinstance(shown, HelpScreen)
    rows = {*shown.keys, *(row for _, section in shown.sections for row in section)}
    await pilot.press("escape")
    assert app.screen is under  # Esc closes the help, back where it was
    return rows


def listed(bindings: list[BindingType]) -> set[tuple[str, str]]:
    """What help must list for ``bindings``: each one's keys and its tooltip (else its description)."""
    return {(key_label(b.key), b.tooltip or b.description) for b in bindings if isinstance(b, Binding)}


@pytest.fixture
def knobby(user_dir: Path, catalog_file: Path) -> None:
    """The list's first paper runs ``knobby``, a plugin with knobs."""
    folder = write_plugin(user_dir, "knobby", KNOBBY_EXPERIMENT)
    (folder / "config.py").write_text(KNOBBY_CONFIG)
    edits.set_fields(catalog_file, "adamw", {"plugin": "knobby"})


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_question_mark_on_the_run_screen_lists_its_keys_and_its_knobs_panels(
    knobby: None, catalog_file: Path, size: tuple[int, int]
) -> None:
    async def steps(
        app: ReadtrackApp, pilot: Pilot[None]
    ) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
        await open_run_screen(app, pilot)
        from_the_results = await help_rows(app, pilot)
        await pilot.press("K")  # in the knobs panel: the same help
        return from_the_results, await help_rows(app, pilot)

    from_the_results, from_the_knobs = run_app(catalog_file, steps, size=size)
    for rows in (from_the_results, from_the_knobs):
        assert listed(RunScreen.BINDINGS) <= rows and listed(KnobsPanel.BINDINGS) <= rows
        keys = {key for key, _ in rows}
        assert {
            "K",
            "d",
            "f",
            "s",
            "e",
            "r",
            "R",
            "p",
            "Enter",
            "Esc",
            "?",
        } <= keys  # the missing ones


def test_question_mark_on_the_search_hits_a_choice_and_the_paper_view_lists_their_keys(
    catalog_file: Path,
) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> dict[str, set[tuple[str, str]]]:
        seen = {}
        await pilot.press("enter")  # adamw has two plugins: which one to run?
        await wait_until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        seen["choice"] = await help_rows(app, pilot)
        await pilot.press("escape", "f", *"attention")
        await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen) and bool(app.screen.hits), 30)
        assert isinstance(app.screen, SearchScreen)
        search = app.screen
        await pilot.press("question_mark")  # in the query, a letter of it
        await wait_until(pilot, lambda: search.shown_query == "attention?")
        assert app.screen is search
        await pilot.press("backspace")
        await wait_until(pilot, lambda: search.shown_query == "attention" and bool(search.hits))
        await pilot.press("down")  # in the hits: the search's keys
        seen["search"] = await help_rows(app, pilot)
        await pilot.press("enter")  # the hit's paper, in its view
        await wait_until(pilot, lambda: isinstance(app.screen, PaperView))
        await settle(app, pilot)
        seen["paper view"] = await help_rows(app, pilot)
        return seen

    seen = run_app(catalog_file, steps, size=(120, 40))
    assert listed(ChoiceScreen.BINDINGS) | {("Enter", "Choose it")} <= seen["choice"]
    assert listed(SearchScreen.BINDINGS) <= seen["search"]
    assert any(key == "Enter" and "Open the paper's view" in what for key, what in seen["search"])
    assert listed(PaperView.BINDINGS) <= seen["paper view"]


def test_question_mark_on_the_bad_list_screen_lists_its_keys(tmp_path: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> set[tuple[str, str]]:
        assert isinstance(app.screen, CatalogErrorScreen)
        return await help_rows(app, pilot)

    assert listed(CatalogErrorScreen.BINDINGS) <= run_app(tmp_path / "nowhere.yaml", steps, size=(80, 24))


def test_the_manual_names_every_tab_of_the_paper_view_and_its_key() -> None:
    """The TUI page listed three tabs (Page, Code, Results) of the view's six."""
    manual = (REPO / "docs" / "tui.md").read_text(encoding="utf-8")
    tabs = [b for b in PaperView.BINDINGS if isinstance(b, Binding) and b.action.startswith("tab(")]
    assert len(tabs) == 6
    for tab in tabs:
        assert re.search(rf"\*{tab.description}\* \(`{tab.key}`", manual), tab.description


@pytest.mark.parametrize(
    ("knob", "typed", "answer"),
    [
        (Knob("depth", "int", 6, 6, "layers", low=1, high=64), "100", "depth: 100 is out of range (1 to 64)"),
        (
            Knob("depth", "int", 6, 6, "layers", low=1, high=64),
            "six",
            "depth: 'six' is not a whole number (1 to 64)",
        ),
        (Knob("lr", "float", 0.1, 0.1, "rate", low=0, high=1), "x", "lr: 'x' is not a number (0 to 1)"),
        (
            Knob("norm", "str", "rms", "rms", "what", choices=("rms", "none")),
            "ln",
            "norm: 'ln' is not one of rms, none",
        ),
        (
            Knob("width", "int", 32, 32, "units", low=8, multiple_of=8),
            "30",
            "width: 30 is not a multiple of 8",
        ),
        (Knob("warm", "bool", True, True, "warm up"), "maybe", "warm: 'maybe' is not true or false"),
        (
            Knob("depth", "int", 6, 6, "layers", low=1, high=64),
            "2,3",
            "depth: one value here (several are a sweep",
        ),
        (Knob("depth", "int", 6, 6, "layers", low=1, high=64), " ", "depth: type a value (1 to 64)"),
        (Knob("depth", "int", 6, 6, "layers", low=1, high=64), "12", None),
    ],
)
def test_a_refused_knob_value_is_answered_in_the_panels_words(
    knob: Knob, typed: str, answer: str | None
) -> None:
    """The panel named the CLI's flag ("--set depth=100: out of range, depth is 1 to 64"); it names the knob
    and what it allows, as its own columns do. The value it takes is the one `--set` would take."""
    from readtrack.tui.widgets.knobs_panel import refusal  # added for issue 73

    said = refusal(knob, typed, "toy")
    if answer is None:
        assert said is None
    else:  # the knob's name first, then what is wrong, never the CLI's "--set depth=100"
        assert said is not None and said.startswith(answer), said
