"""The Textual TUI: what `readtrack` opens when given no command.

This module stays light: `readtrack --help` imports it through the CLI, so textual is imported only
inside `run_tui`.
"""

from __future__ import annotations

from pathlib import Path


def run_tui(catalog: Path | None = None) -> None:
    """Open the TUI on ``catalog`` (default: the active papers.yaml) and return when the user quits."""
    from readtrack.tui.app import ReadtrackApp

    ReadtrackApp(catalog).run()
