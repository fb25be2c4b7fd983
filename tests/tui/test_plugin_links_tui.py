"""The TUI's list runs what `list` links (issue 53, item 6): a paper imported with its DOI and no arXiv id
shows resnet's badge and Enter opens resnet's run screen; LSTM, known by its title and first author, shows
lstm's; a book chapter of the same title by another author shows none. Through Pilot, on a real import."""

from __future__ import annotations

from pathlib import Path

from cli_runner import run_cli
from textual.pilot import Pilot
from tui_driver import run_app, screen_text, settle, table

from readtrack.tui.app import ReadtrackApp
from readtrack.tui.screens.run_screen import RunScreen

SCHOLAR = Path(__file__).parents[1] / "data" / "library" / "same-paper-scholar.bib"


def test_the_list_shows_and_runs_the_plugins_found_by_doi_and_title(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    assert run_cli("--catalog", str(path), "init", "--empty").returncode == 0
    result = run_cli("--catalog", str(path), "import", str(SCHOLAR))
    assert result.returncode == 0, result.stdout + result.stderr

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[str, str | None]:
        text = screen_text(app)
        ids = [row.paper.id for row in table(app).rows]
        resnet = next(row.paper.id for row in table(app).rows if row.paper.title.startswith("Deep Residual"))
        await pilot.press(*["down"] * ids.index(resnet), "enter")  # as a reader: to its row, then Enter
        await settle(app, pilot)
        screen = app.screen
        return text, screen.plugin if isinstance(screen, RunScreen) else None

    text, opened = run_app(path, steps, size=(140, 30))
    lines = text.splitlines()
    assert "resnet" in next(line for line in lines if "Deep Residual Learning" in line), text
    lstm = [line for line in lines if "Long short-term memory" in line]
    assert sorted("lstm" in line for line in lstm) == [False, True], text  # Hochreiter's, not Graves's
    assert opened == "resnet"  # Enter on the paper opens its plugin's run screen (nothing runs yet)
