"""The TUI's header says when the list is the bundled sample a first run wrote (issue 41, F), and shows it
whole: at 120 columns the sample's notice cut the progress and coverage off with an ellipsis (issue 73)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.pilot import Pilot
from tui_driver import main_screen, run_app, screen_text

from readtrack.base.paths import SAMPLE_HEADER
from readtrack.tui.app import ReadtrackApp


async def header(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[str | None, str]:
    return main_screen(app).title, screen_text(app).splitlines()[0]


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_the_header_says_the_sample_is_the_sample_and_is_not_cut(
    catalog_file: Path, size: tuple[int, int]
) -> None:
    catalog_file.write_text(SAMPLE_HEADER + catalog_file.read_text())  # as a first run writes it
    title, line = run_app(catalog_file, header, size=size)
    assert title == "readtrack · the sample list: `readtrack init` starts your own"
    assert title in line and "…" not in line  # whole, nothing cut
    assert re.search(r" — \d+/\d+ read", line)  # the progress always stays
    if size[0] >= 120:  # and the coverage fits beside it
        assert re.search(r"\d+/\d+ read · ▶ 0 of \d+ plugins passing on cpu", line)


def test_the_users_own_list_has_the_plain_title_and_its_path_when_there_is_room(catalog_file: Path) -> None:
    title, line = run_app(catalog_file, header, size=(200, 40))
    assert title in (None, "readtrack")
    assert re.search(r"readtrack — \d+/\d+ read · ▶ 0 of \d+ plugins passing on cpu · \S*papers\.yaml", line)
