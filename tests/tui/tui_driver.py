"""Driving the real TUI through Textual's Pilot on the test's own papers.yaml (see tests/conftest.py)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from textual.css.query import NoMatches
from textual.pilot import Pilot
from textual.widget import Widget

from readtrack.tui.app import MainScreen, ReadtrackApp
from readtrack.tui.screens.run_screen import RunScreen
from readtrack.tui.widgets.knobs_panel import KnobsPanel
from readtrack.tui.widgets.paper_table import PaperTable

T = TypeVar("T")
SIZE = (100, 30)


async def settle(app: ReadtrackApp, pilot: Pilot[None]) -> None:
    """Let pending messages and worker threads (edits, reloads, details) finish."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


#: How often `wait_until` looks again: a test waits on average half of it past the moment its condition holds
#: (0.1 s made that 50 ms on each of a few hundred waits, issue 91).
POLL = 0.02


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Pause until ``condition()`` holds (the reload poll runs once a second); fail after ``timeout``.
    A query that finds nothing yet (a screen pushed but not composed) counts as not yet."""
    deadline = time.monotonic() + timeout
    while not _holds(condition):
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(POLL)


def _holds(condition: Callable[[], bool]) -> bool:
    try:
        return condition()
    except NoMatches:
        return False


async def open_run_screen(
    app: ReadtrackApp,
    pilot: Pilot[None],
    ready: Callable[[KnobsPanel], bool] = lambda panel: bool(panel.knobs),
) -> tuple[RunScreen, KnobsPanel]:
    """Enter on the list's row: the run screen and its knobs panel, once ``ready(panel)`` holds (a worker
    reads the knobs; a plugin whose config.py is broken shows its error instead: ``panel.display``),
    settled."""
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, RunScreen))
    screen = app.screen
    assert isinstance(screen, RunScreen)
    panel = screen.query_one(KnobsPanel)
    await wait_until(pilot, lambda: ready(panel), timeout=30)
    await settle(app, pilot)
    return screen, panel


def run_app(
    path: Path, steps: Callable[[ReadtrackApp, Pilot[None]], Awaitable[T]], size: tuple[int, int] = SIZE
) -> T:
    """Open the TUI on ``path``, wait for the first load, run ``steps`` and return what they return."""

    async def main() -> T:
        app = ReadtrackApp(path)
        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            return await steps(app, pilot)

    return asyncio.run(main())


def main_screen(app: ReadtrackApp) -> MainScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, MainScreen)
    return screen


def table(app: ReadtrackApp) -> PaperTable:
    return main_screen(app).query_one(PaperTable)


def shown_ids(app: ReadtrackApp) -> list[str]:
    return [row.paper.id for row in table(app).rows]


def screen_text(app: ReadtrackApp) -> str:
    """What the terminal shows, as plain text lines."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def region_text(app: ReadtrackApp, widget: Widget) -> list[str]:
    """The lines the terminal shows inside ``widget``'s region (its border included), as plain text."""
    region = widget.region
    lines = screen_text(app).splitlines()[region.y : region.bottom]
    return [line[region.x : region.right] for line in lines]


async def read_the_whole_pane(app: ReadtrackApp, pilot: Pilot[None], pane_id: str) -> list[str]:
    """Every line a reader sees in the pane, scrolling it from its top to its end a page at a time."""
    pane = app.screen.query_one(pane_id)
    lines: list[str] = []
    pane.scroll_home(animate=False)
    await pilot.pause()
    while True:
        lines += region_text(app, pane)
        if pane.scroll_y >= pane.max_scroll_y:
            return lines
        pane.scroll_to(y=pane.scroll_y + pane.scrollable_content_region.height, animate=False)
        await pilot.pause()


def words_shown(lines: list[str]) -> list[str]:
    """The words of ``lines`` as a reader takes them in, box-drawing borders and scrollbars left out."""
    return re.sub(r"[│╭╮╰╯─▊▎▔▁▂▃▄▅▆▇█]", " ", " ".join(lines)).split()


async def run_first_section(app: ReadtrackApp, pilot: Pilot[None]) -> str:
    """``R`` on the first section (adamw and lbfgs): its shelf run, waited for; the screen afterwards."""
    await pilot.press("R")
    screen = app.screen
    await wait_until(pilot, lambda: screen.shelf.running, timeout=10)  # type: ignore[attr-defined]
    await wait_until(pilot, lambda: not screen.shelf.running, timeout=180)  # type: ignore[attr-defined]
    await settle(app, pilot)
    return screen_text(app)
