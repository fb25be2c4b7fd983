"""The paper view's Practice tab through Pilot: the statement, hints one by one, a check of the stub with its
progress and feedback, and the status the list shows; the TUI stays torch-free (grading is a process)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static, TabbedContent
from tui_driver import run_app, screen_text, settle, wait_until

from readtrack import practice
from readtrack.catalog import edits
from readtrack.tui.app import ReadtrackApp
from readtrack.tui.screens.paper_view import PaperView
from readtrack.tui.widgets.practice_pane import PracticePane


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


def code_tab(app: ReadtrackApp) -> list[str]:
    """The text of each file of the Code tab, as drawn."""
    view = app.screen
    assert isinstance(view, PaperView)
    texts = []
    for widget in view.code_files:
        console = Console(width=100, record=True, file=io.StringIO())
        console.print(widget.content)
        texts.append(console.export_text())
    return texts


def test_the_code_tab_hides_the_model_solution_until_the_exercise_is_solved(catalog_file: Path) -> None:
    """Issue 53: the Code tab showed model.py, the model solution, while the exercise was unsolved. It warns
    instead, v shows it anyway, and once the learner's code passes the check it is shown as any file."""
    plugin = practice.practice_plugin("rmsnorm")

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("p")
        await settle(app, pilot)
        await pilot.press("2")
        model, experiment = code_tab(app)[:2]
        assert model.startswith("model.py ─") and "class RMSNorm" not in model
        assert "Hidden: model.py is the model solution of the practice exercise (RMSNorm.forward)" in model
        assert "not solved yet (status: not started)" in model and "v shows it anyway" in model
        assert experiment.startswith("experiment.py ─") and "def check(ctx" in experiment  # the rest shows
        assert "v Show solution" in screen_text(app).splitlines()[-1]
        await pilot.press("slash", *"class RMSNorm", "enter")  # the search does not give it away either
        await settle(app, pilot)
        assert any("in the model solution, hidden: v shows it" in str(n.message) for n in app._notifications)
        assert not (app.screen.sub_title or "").startswith("match")
        await pilot.press("escape", "v")
        assert "class RMSNorm(nn.Module)" in code_tab(app)[0]  # asked for: shown
        assert "Show solution" not in screen_text(app).splitlines()[-1]

        await pilot.press("escape", "p")  # a new view: hidden again, the exercise is still unsolved
        await settle(app, pilot)
        await pilot.press("2")
        assert "Hidden: model.py" in code_tab(app)[0]
        workspace = practice.workspace_file(plugin)  # the learner solves it: the check passes
        workspace.parent.mkdir(parents=True, exist_ok=True)
        workspace.write_text(plugin.model_file.read_text(encoding="utf-8"), encoding="utf-8")
        await pilot.press("5", "c")
        await wait_until(pilot, lambda: "status: checks pass" in pane_text(app), timeout=180)
        await settle(app, pilot)
        await pilot.press("2")
        assert "class RMSNorm(nn.Module)" in code_tab(app)[0]  # solved: no warning, no v
        assert "Show solution" not in screen_text(app).splitlines()[-1]

    run_app(catalog_file, steps, size=(120, 40))
