"""Journeys through the real TUI with Pilot: the paths a person takes across screens, start to end and back.

Each screen has its own tests; these follow a user from the list into a paper's view, through its tabs, to
the run screen and back, into the search and back, and to the help, asserting on each step what the
terminal shows. The way between screens is where the first newcomer's crash was (run screen → back).
"""

from __future__ import annotations

import asyncio
import io
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from fake_plugins import write_plugin
from rich.console import Console
from terminal import Terminal
from textual.pilot import Pilot
from textual.widgets import OptionList, Static, TabbedContent
from tui_driver import screen_text, settle, wait_until

from readtrack.catalog import edits
from readtrack.history import runs as history
from readtrack.plugins.links import load
from readtrack.tui.app import MainScreen, ReadtrackApp
from readtrack.tui.screens.dialogs import ChoiceScreen, HelpScreen, PromptScreen
from readtrack.tui.screens.paper_view import PaperView
from readtrack.tui.screens.run_screen import RunScreen
from readtrack.tui.screens.search_screen import SearchScreen

SIZE = (120, 40)
T = TypeVar("T")


def run_app(path: Path, steps: Callable[[ReadtrackApp, Pilot[None]], Awaitable[T]]) -> T:
    """`tui_driver.run_app` with notifications shown, as a user sees them (run_test hides them)."""

    async def main() -> T:
        app = ReadtrackApp(path)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(app, pilot)
            return await steps(app, pilot)

    return asyncio.run(main())


def view(app: ReadtrackApp) -> PaperView:
    assert isinstance(app.screen, PaperView), type(app.screen).__name__
    return app.screen


async def open_view_loaded(app: ReadtrackApp, pilot: Pilot[None]) -> PaperView:
    """Wait until the paper view on top has read its page (the worker's `_show` or `_show_error` ran)."""
    await wait_until(pilot, lambda: isinstance(app.screen, PaperView) and "Loading" not in head(app))
    await settle(app, pilot)
    return view(app)


def head(app: ReadtrackApp) -> str:
    return str(app.screen.query_one("#page-head", Static).content)


def code_files(app: ReadtrackApp) -> list[str]:
    """The file names the Code tab shows, one per file widget (a duplicate would show twice)."""
    names = []
    for widget in view(app).query("#code-scroll Static").results(Static):
        console = Console(width=100, record=True, file=io.StringIO())
        console.print(widget.content)
        names.append(console.export_text().split(" ", 1)[0])
    return names


async def shows(app: ReadtrackApp, pilot: Pilot[None], *texts: str) -> str:
    """Wait until the terminal shows each of ``texts`` (a new tab paints after a few refreshes); the text."""
    try:
        await wait_until(pilot, lambda: all(t in screen_text(app) for t in texts), timeout=10)
    except AssertionError:
        raise AssertionError(f"not all of {texts} shown on:\n{screen_text(app)}") from None
    return screen_text(app)


async def tab(app: ReadtrackApp, pilot: Pilot[None], key: str, *texts: str) -> str:
    """Press a tab's key and wait until it shows ``texts``; what the terminal shows then."""
    await pilot.press(key)
    return await shows(app, pilot, *texts)


def test_run_screen_and_back_to_the_paper_view_does_not_crash(catalog_file: Path) -> None:
    """The newcomer's crash: p on a plugin paper, Enter (run screen), Esc killed the app with DuplicateIds
    (the view loaded again on resume and mounted its code files a second time). Twice, to be sure a resume
    after a resume holds too; the Code tab then still shows each file once."""
    edits.set_fields(catalog_file, "adamw", {"plugin": "adamw"})

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("p")
        await open_view_loaded(app, pilot)
        first = code_files(app)
        assert first[:2] == ["model.py", "experiment.py"]
        for _ in range(2):
            await pilot.press("enter")
            assert isinstance(app.screen, RunScreen)
            await settle(app, pilot)
            await pilot.press("escape")
            await settle(app, pilot)
            assert code_files(app) == first
        await shows(app, pilot, "Decoupled Weight Decay Regularization   arXiv 1711.05101")
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)

    run_app(catalog_file, steps)


def test_a_plugin_papers_journey_through_every_tab_the_run_screen_search_and_help(catalog_file: Path) -> None:
    """adamw as shipped (two plugins): the list, the choice of plugin, each tab, the run screen and back, a
    code search, back to the list, the search screen into the paper and back, the help, and out."""

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await shows(app, pilot, "Optimization algorithm 1/2", "Decoupled Weight Decay")

        await pilot.press("p")  # two plugins: which one?
        assert isinstance(app.screen, ChoiceScreen)
        await shows(app, pilot, "adamw has 2 plugins: which one to read?")
        await pilot.press("enter")  # the first, adamw
        await open_view_loaded(app, pilot)
        assert view(app).query_one(TabbedContent).active == "page"
        header = "adamw · Decoupled Weight Decay Regularization"
        await shows(app, pilot, header, "arXiv 1711.05101", "abstract not synced", "Claim.")

        await tab(app, pilot, "2", "model.py ─", "Hidden: model.py is the model solution")  # unsolved
        await pilot.press("v")  # shown anyway: the first file, numbered
        await shows(app, pilot, "model.py ─", "   1 ")
        await tab(app, pilot, "3", "No recorded runs yet: Enter runs the plugin")
        await tab(app, pilot, "4", "No PDF of adamw yet. Fetch it: o (open, fetching it first) or s (sync)")
        await tab(app, pilot, "1", "Claim.")

        await pilot.press("enter")  # the run screen, not started
        assert isinstance(app.screen, RunScreen)
        await shows(app, pilot, "device  auto", "Enter runs the plugin.", "No recorded runs yet.")
        await pilot.press("escape")  # back: the view as it was, loaded again
        await settle(app, pilot)
        assert view(app).query_one(TabbedContent).active == "page"
        await shows(app, pilot, "Decoupled Weight Decay Regularization   arXiv 1711.05101")

        await pilot.press("slash", *"def check", "enter")  # the code search after the resume
        await settle(app, pilot)
        assert (view(app).sub_title or "").startswith("match 1 of 1: experiment.py:")
        await shows(app, pilot, "def check(ctx")
        await pilot.press("escape", "escape")  # closes the search box, then the view
        assert isinstance(app.screen, MainScreen)

        await pilot.press("f")  # the search screen: a hit, into the paper, back
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"decoupled weight")
        await wait_until(pilot, lambda: getattr(app.screen, "shown_query", None) == "decoupled weight")
        await shows(app, pilot, "adamw", "hits · Enter opens the paper")
        await pilot.press("down", "enter")
        await open_view_loaded(app, pilot)
        assert view(app).query_one(TabbedContent).active == "pdf"  # opened on the term
        await shows(app, pilot, "No PDF of adamw yet")
        await pilot.press("escape")
        assert isinstance(app.screen, SearchScreen)
        await pilot.press("escape")  # from the results, back to the list
        assert isinstance(app.screen, MainScreen)

        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await shows(app, pilot, "readtrack keys", "The paper view: PDF text, plugin page")
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        await shows(app, pilot, "Decoupled Weight Decay")

    run_app(catalog_file, steps)


def test_a_plain_papers_journey_added_then_read_through_the_search(catalog_file: Path) -> None:
    """A paper without a plugin, added in the TUI: p opens its view on the Paper tab, whose key bar offers
    no tab, search or run it has nothing for; Enter on the list says there is nothing to run; the search
    opens the same view; back to the list."""
    title = "Quorbix Nets"

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("a")
        assert isinstance(app.screen, PromptScreen)
        await shows(app, pilot, "Add a paper to Optimization algorithm")
        await pilot.press(*title, "enter")
        await wait_until(pilot, lambda: "Quorbix Nets" in screen_text(app))
        await settle(app, pilot)
        assert isinstance(app.screen, MainScreen)
        await shows(app, pilot, "Optimization algorithm 1/3")
        current = app.screen.query_one("#papers").current  # type: ignore[attr-defined]
        paper_id = current.paper.id
        assert paper_id.startswith("quorbix")

        await pilot.press("p")  # its view: the PDF's text (how to fetch it), the title and abstract
        await open_view_loaded(app, pilot)
        assert view(app).query_one(TabbedContent).active == "pdf"
        keys = (await shows(app, pilot, f"No PDF of {paper_id} yet", "4 Paper")).splitlines()[-1]
        assert "Practice" not in keys and "Run" not in keys and "Code" not in keys
        await tab(app, pilot, "1", title, f"{paper_id} has no plugin: its Paper tab (4) shows the PDF's text")
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await shows(app, pilot, f"{paper_id} has no plugin to run")

        await pilot.press("f", *"quorbix")
        await wait_until(pilot, lambda: getattr(app.screen, "shown_query", None) == "quorbix")
        options = app.screen.query_one("#search-results", OptionList)
        assert options.option_count >= 1 and paper_id in screen_text(app)
        await pilot.press("down", "enter")
        await open_view_loaded(app, pilot)
        assert view(app).query_one(TabbedContent).active == "pdf"
        await shows(app, pilot, f"No PDF of {paper_id} yet")
        keys = screen_text(app).splitlines()[-1]  # the same view as p's: no Practice, no Run (issue 53)
        assert "Practice" not in keys and "Run" not in keys and "Search code" not in keys
        await tab(app, pilot, "1", f"{paper_id} has no plugin: its Paper tab (4) shows the PDF's text")
        await pilot.press("2", "enter")  # keys the bar leaves out do nothing
        await pilot.pause()
        assert isinstance(app.screen, PaperView) and view(app).query_one(TabbedContent).active == "page"
        await pilot.press("escape", "escape")  # the view, then the results: the list
        assert isinstance(app.screen, MainScreen)
        await pilot.press("question_mark", "escape", "q")

    run_app(catalog_file, steps)
    added = load(catalog_file).sections[0].papers[-1]
    assert added.title == title and added.plugins == []


def test_running_from_the_paper_view_shows_the_run_on_its_results_tab(
    user_dir: Path, catalog_file: Path
) -> None:
    """p, Enter, Enter runs the (tiny, fake) plugin; Esc back to the view: its Results tab has the run."""
    write_plugin(user_dir, "tinyplug")
    edits.set_fields(catalog_file, "adamw", {"plugin": "tinyplug"})

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        await pilot.press("p")
        await open_view_loaded(app, pilot)
        await tab(app, pilot, "3", "No recorded runs yet")
        await pilot.press("enter", "enter")  # the run screen, and run (quick)
        assert isinstance(app.screen, RunScreen)
        screen = app.screen
        await wait_until(pilot, lambda: not screen.running and screen.record is not None, timeout=90)
        await settle(app, pilot)
        await pilot.press("escape")
        await settle(app, pilot)
        assert view(app).query_one(TabbedContent).active == "results"
        return screen_text(app)

    text = run_app(catalog_file, steps)
    assert [r.status for r in history.runs("tinyplug")] == ["passed"]
    assert "cpu: passed" in text and "Recent runs" in text


# A bug put into one action, for the tests below: the TUI as it would be with a crash left in it.
CRASHING = """
import sys
from readtrack.tui.app import MainScreen

def broken_help(self):
    raise RuntimeError("a bug in the help action")

MainScreen.action_help = broken_help
sys.argv = ["readtrack", "--catalog", *sys.argv[1:]]
from readtrack.cli.launch import main
main()
"""


def crash_in_a_terminal(catalog_file: Path, *args: str) -> tuple[int | None, str]:
    """readtrack in a real terminal, ? pressed (the broken action): its exit code and what it printed
    (the terminal's control sequences left out)."""
    term = Terminal([sys.executable, "-c", CRASHING, str(catalog_file), *args], columns=120, lines=30)
    try:
        term.wait_for("Decoupled Weight Decay", timeout=60)
        term.type("?")
    finally:
        code = term.close(timeout=30)
    return code, re.sub(r"\x1b\[[0-9;?<>=$]*[A-Za-z~]", "", term.output.decode(errors="replace"))


def test_a_crash_in_the_tui_exits_1_with_one_line_and_the_traceback_in_a_file(
    catalog_file: Path, readtrack_home: Path
) -> None:
    code, output = crash_in_a_terminal(catalog_file)
    assert code == 1, output[-600:]
    log = readtrack_home / "tui-crash.log"
    said = output[output.rindex("readtrack: ") :].rstrip()  # after the TUI has left the screen
    assert said == (
        "readtrack: the TUI stopped on an unexpected error (a bug): RuntimeError: a bug in the help action; "
        f"its traceback is in {log}"
    )
    assert "Traceback" not in output  # not on the terminal: in the file
    traceback = log.read_text()
    assert "broken_help" in traceback and "RuntimeError: a bug in the help action" in traceback


def test_with_debug_a_crash_prints_the_traceback_and_exits_1(catalog_file: Path) -> None:
    code, output = crash_in_a_terminal(catalog_file, "--debug")
    assert code == 1, output[-600:]
    assert "Traceback" in output and "RuntimeError: a bug in the help action" in output
