"""The main screen's keys as a user meets them: Tab into the details and scroll them, the key bar at 100
columns, a paper with megabytes of notes selected without freezing."""

from __future__ import annotations

import io
import time
from pathlib import Path

from rich.console import Console
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Static
from tui_driver import main_screen, run_app, screen_text, settle, table, wait_until

from readtrack.catalog import edits
from readtrack.tui.app import ReadtrackApp
from readtrack.tui.screens.dialogs import HelpScreen, NotesScreen
from readtrack.tui.widgets.sync_panel import SyncPanel


def detail_text(app: ReadtrackApp) -> str:
    """The whole detail pane as plain text, scrolled out of view or not."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(main_screen(app).query_one("#detail-body", Static).content)
    return console.export_text()


def test_tab_focuses_the_details_and_j_k_scroll_them(catalog_file: Path) -> None:
    edits.note(catalog_file, "adamw", "\n".join(f"note line {i}" for i in range(80)))

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[float, float, float, str]:
        details: Widget = main_screen(app).query_one("#details")
        await wait_until(pilot, lambda: "note line 79" in detail_text(app))
        await pilot.press("tab")  # from the table to the details
        assert app.focused is details
        await pilot.press("j", "j", "j", "j")
        down = details.scroll_y
        await pilot.press("k")
        up = details.scroll_y
        await pilot.press("down")
        arrow = details.scroll_y
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_text = "\n".join(f"{keys}  {what}" for keys, what in app.screen.keys)
        return down, up, arrow, help_text

    down, up, arrow, help_text = run_app(catalog_file, steps)
    assert (down, up, arrow) == (4, 3, 4)
    assert "table → details → section list" in help_text  # where Tab goes, as it does
    assert "In the details (after Tab): scroll them" in help_text


def test_the_key_bar_keeps_run_page_and_search_at_100_columns(catalog_file: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        return screen_text(app).splitlines()[-1]

    bar = run_app(catalog_file, steps, size=(100, 30))
    for shown in (
        "⏎ Run",
        "p Page",
        "f Search",
        "space Read/todo",
        "n Notes",
        "/ Filter",
        "? Help",
        "q Quit",
    ):
        assert shown in bar
    assert bar.index("Run") < bar.index("Read/todo")  # the important keys first


def test_a_paper_with_a_5_mb_note_is_selected_without_freezing(tmp_path: Path) -> None:
    path = tmp_path / "papers.yaml"
    note_lines = ["word " * 20] * 50_000  # 5 MB
    path.write_text(
        "sections:\n  - name: A\n    papers:\n"
        "      - id: small\n        title: Small\n        status: todo\n"
        "      - id: big\n        title: Big\n        status: todo\n        notes: |\n"
        + "".join(f"          {line}\n" for line in note_lines),
        encoding="utf-8",
    )

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[float, str]:
        await pilot.press("j")  # select the big paper
        await wait_until(pilot, lambda: "readtrack note big" in detail_text(app), timeout=10)
        await pilot.pause()
        shown = detail_text(app)
        started = time.monotonic()
        await pilot.press("k")  # the app still answers a key at once
        answered = time.monotonic() - started
        assert table(app).cursor == 0
        await pilot.press("j", "n")  # the notes editor would wrap 5 MB at once: $EDITOR is the way
        await settle(app, pilot)
        assert not isinstance(app.screen, NotesScreen)
        notices = [str(n.message) for n in app._notifications]
        assert any("too long to edit here: `readtrack note big`" in n for n in notices)
        return answered, shown

    answered, shown = run_app(path, steps)
    assert answered < 1.0
    assert "word word" in shown
    assert "MB more; open with `readtrack note big`)" in shown


def test_sync_log_lines_wrap_in_the_pane_under_the_table(catalog_file: Path) -> None:
    reason = " ".join(f"reason{i}" for i in range(30))

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[list[str], int]:
        panel = main_screen(app).query_one(SyncPanel)
        panel.start("adamw")
        await pilot.pause()
        panel.log_line(f"✗ adamw: failed ({reason})")
        log = panel.log_view
        await wait_until(pilot, lambda: len(log.lines) > 1)  # written once the log has its size
        return [strip.text.rstrip() for strip in log.lines], log.scrollable_content_region.width

    lines, width = run_app(catalog_file, steps, size=(100, 30))
    assert max(len(line) for line in lines) <= width  # wrapped, nothing cut at the pane's edge
    assert " ".join(lines).split() == f"✗ adamw: failed ({reason})".split()  # every word whole
