"""A paper's `code:` links in the TUI: the details pane and the paper view show them (issue 32)."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static
from tui_driver import run_app, settle

from readtrack.catalog import edits
from readtrack.tui.app import ReadtrackApp
from readtrack.tui.screens.paper_view import PaperView

CODE = "https://github.com/loshchil/AdamW-and-SGDW"


def text_of(widget: Static) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def test_details_and_paper_view_show_the_code_links(catalog_file: Path) -> None:
    edits.set_fields(catalog_file, "adamw", {"plugin": "adamw", "code": [CODE]})

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[str, str]:
        details = text_of(app.screen.query_one("#detail-body", Static))  # adamw: the first paper
        await pilot.press("p")
        await settle(app, pilot)
        assert isinstance(app.screen, PaperView)
        return details, text_of(app.screen.query_one("#page-head", Static))

    details, head = run_app(catalog_file, steps)
    assert f"code {CODE}" in details
    assert f"code {CODE}" in head
