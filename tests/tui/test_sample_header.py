"""The TUI's header says when the list is the bundled sample a first run wrote (issue 41, F)."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from tui_driver import main_screen, run_app

from readtrack.base.paths import SAMPLE_HEADER, SAMPLE_NOTICE
from readtrack.tui.app import ReadtrackApp


async def title(app: ReadtrackApp, pilot: Pilot[None]) -> str | None:
    return main_screen(app).title


def test_the_header_says_the_sample_is_the_sample(catalog_file: Path) -> None:
    catalog_file.write_text(SAMPLE_HEADER + catalog_file.read_text())  # as a first run writes it
    assert run_app(catalog_file, title) == f"readtrack · {SAMPLE_NOTICE}"


def test_the_users_own_list_has_the_plain_title(catalog_file: Path) -> None:
    assert run_app(catalog_file, title) in (None, "readtrack")
