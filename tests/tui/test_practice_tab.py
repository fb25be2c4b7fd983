"""The paper view's Practice tab through Pilot: the statement, hints one by one, a check of the stub with its
progress and feedback, and the status the list shows; the TUI stays torch-free (grading is a process)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static, TabbedContent
from tui_driver import run_app, settle, wait_until

from readtrack import edits, practice
from readtrack.tui.app import ReadtrackApp
from readtrack.tui.paper_view import PaperView
from readtrack.tui.practice_pane import PracticePane


@pytest.fixture(autouse=True)
def first_paper_runs_rmsnorm(catalog_file: Path) -> None:
    edits.set_fields(catalog_file, "adamw", {"plugin": "rmsnorm"})  # the list's first paper


def pane_text(app: ReadtrackApp) -> str:
    body = app.screen.query_one("#practice-body", Static).content
    return str(body.plain if hasattr(body, "plain") else body)


def test_the_practice_tab_shows_the_exercise_and_checks_the_stub(catalog_file: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("p")
        await settle(app, pilot)
        assert isinstance(app.screen, PaperView)
        await pilot.press("5")
        assert app.screen.query_one(TabbedContent).active == "practice"
        assert app.focused is app.screen.query_one(PracticePane)
        text = pane_text(app)
        assert "status: not started" in text and "workspace: not created yet" in text
        assert "RMSNorm.forward, roughly 4 lines" in text and "RMS(a) = √((1/n) Σ_i a_i² + ε)" in text
        assert "hint 1 of 3" not in text and "(3 more hints: h)" in text

        await pilot.press("h")
        assert "hint 1 of 3: The dimensions to reduce" in pane_text(app) and "hint 2 of 3" not in pane_text(
            app
        )

        await pilot.press("c")  # the fresh stub: created, graded in its own process
        await wait_until(pilot, lambda: "failing: your code raised an error" in pane_text(app), timeout=120)
        text = pane_text(app)
        assert "error: NotImplementedError: RMSNorm.forward: not implemented yet" in text
        assert "status: failing" in text
        assert f"workspace: {practice.workspace_file(practice.practice_plugin('rmsnorm'))}" in text

    run_app(catalog_file, steps)
