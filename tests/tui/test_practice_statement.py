"""Issue 73, item 7: the Practice tab shows an exercise's statement (a docstring hard-wrapped at ~90-110
columns) as paragraphs that wrap once, at the pane's width: a narrower pane wrapped each source line a
second time (a full line, then a stub of a word or two), a wider one kept the source's short lines. Blank
lines and indented equation lines stay as written. adamw's real exercise, read at 120x40 and 80x24."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from tui_driver import run_app, settle, wait_until

from readtrack import practice
from readtrack.catalog import edits
from readtrack.tui.app import ReadtrackApp
from readtrack.tui.screens.paper_view import PaperView

# The statement's last paragraph, from its first words to its last (one paragraph of seven source lines).
FIRST, LAST = "theta is θ_{t−1},", "its state."


@pytest.fixture(autouse=True)
def first_paper_runs_adamw(catalog_file: Path) -> None:
    edits.set_fields(catalog_file, "adamw", {"plugin": "adamw"})  # one plugin: p opens its view at once


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_a_statement_wraps_once_at_the_panes_width(catalog_file: Path, size: tuple[int, int]) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[list[str], int]:
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, PaperView) and app.screen.practice_tab)
        await settle(app, pilot)
        await pilot.press("5")
        await settle(app, pilot)
        body = app.screen.query_one("#practice-body")  # all its lines as painted, not a scrolled page
        strips = body.render_lines(Region(0, 0, body.size.width, body.size.height))
        return ["".join(segment.text for segment in strip) for strip in strips], body.content_region.width

    lines, width = run_app(catalog_file, steps, size=size)
    lines = [line.rstrip() for line in lines]
    start = next(i for i, line in enumerate(lines) if line.startswith(FIRST))
    end = next(i for i in range(start, len(lines)) if lines[i].endswith(LAST))
    paragraph = lines[start : end + 1]
    statement = practice.practice_plugin("adamw").exercises[0].statement
    source = statement[statement.index(FIRST) : statement.index(LAST) + len(LAST)]
    assert " ".join(paragraph).split() == source.split()  # every word, in order, none cut
    for line, after in itertools.pairwise(paragraph):  # each line full: the next word did not fit
        assert len(line) + 1 + len(after.split()[0]) > width, (line, after)
    for equation in ("    m_t = β₁ m_{t−1}", "    m̂_t = m_t / (1 − β₁ᵗ)", "    θ_t = θ_{t−1} (1 − lr·λ)"):
        assert any(line.startswith(equation) for line in lines), equation  # indented, on a line of its own
