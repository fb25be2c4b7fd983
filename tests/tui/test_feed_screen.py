"""New on arXiv (F on the list) through Pilot, against the fake arXiv on 127.0.0.1 with the feed's own test
list and entries (tests/feed/test_feed_cli.py): rows ranked with why, the abstract, adding to the Inbox and
seeing it on the list, dismissing for good, refreshing, offline, nothing read, and the keys in help."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import run_cli
from fakearxiv import FakeArxiv, FakePaper, serving
from textual.pilot import Pilot
from textual.widgets import OptionList, Static
from tui_driver import main_screen, run_app, screen_text, settle, table, wait_until

from readtrack.catalog import metadata
from readtrack.tui.app import MainScreen, ReadtrackApp
from readtrack.tui.screens.dialogs import HelpScreen, PromptScreen
from readtrack.tui.screens.feed_screen import FeedList, FeedScreen
from tests.feed.test_feed_cli import HAND, HELD, LIST, SYNCED, real_entries, stamp, submitted

WIDE, NARROW = (120, 40), (80, 24)

NOTHING_READ = """\
version: 1
sections:
  - name: Later
    papers:
      - id: someday
        title: Some paper for later
"""


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArxiv]:
    with serving(monkeypatch, auto=False) as fake:
        fake.add(*HAND, *real_entries())
        yield fake


@pytest.fixture
def reader(catalog_file: Path) -> Path:
    catalog_file.write_text(LIST, encoding="utf-8")
    metadata.save(SYNCED)
    return catalog_file


def status(app: ReadtrackApp) -> str:
    return str(app.screen.query_one("#feed-status", Static).render())


def rows(app: ReadtrackApp) -> list[str]:
    return [row.arxiv_id for row in app.screen.query_one(FeedList).rows]


async def open_feed(app: ReadtrackApp, pilot: Pilot[None]) -> FeedScreen:
    await pilot.press("F")
    await wait_until(pilot, lambda: isinstance(app.screen, FeedScreen) and not app.screen.fetching, 30)
    await settle(app, pilot)
    assert isinstance(app.screen, FeedScreen)
    return app.screen


def cli_feed(*args: str) -> list[dict[str, object]]:
    result = run_cli("feed", "--json", *args)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert isinstance(listed, list)
    return listed


@pytest.mark.parametrize("size", [WIDE, NARROW])
def test_f_ranks_the_days_arxiv_with_why_readable_and_enter_shows_the_abstract(
    server: FakeArxiv, reader: Path, size: tuple[int, int]
) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[list[str], str, str, str]:
        screen = await open_feed(app, pilot)
        shown, before = rows(app), screen_text(app)
        first = screen.query_one(FeedList).rows[0]
        await pilot.press("enter")
        await settle(app, pilot)
        pane = str(screen.query_one("#feed-abstract", Static).render())
        assert first.abstract.split()[0] in pane and f"Why: {first.why}" in " ".join(pane.split())
        await pilot.press("escape")  # the abstract closes first
        assert app.screen is screen and not screen.query_one("#feed-abstract-pane").has_class("-shown")
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        return shown, before, pane, first.why

    shown, text, pane, why = run_app(reader, steps, size=size)
    assert set(shown[:2]) == {"2604.00001", "2604.00002"} and not HELD & set(shown)
    assert len(shown) == 13 and "2604.00007" not in shown
    assert "13 new · 16 submissions in cs.LG cs.CL" in text
    assert "  1  " + submitted(shown[0]) + "     8%" in text  # number, date, standing (1 of 13), ...
    assert "ranked by 2 papers you read or are reading: rough until about 10 are" in text
    # the whole why of the top row, on screen at this width: every word of it, none cut
    assert "why: near " in text and "words:" in why
    frame = " │▊▎▁▂▃▄▅▆▇█"  # the frame's glyphs, and the scrollbar's thumb
    on_screen = " ".join(line.strip(frame) for line in text.splitlines()).split()
    assert " ".join(why.split()) in " ".join(on_screen), text
    # and every title whole, wrapped, not cut (issue 94: about 35 characters at 80 columns)
    titles = [str(p.title) for p in [*HAND, *real_entries()] if p.arxiv_id in shown[:2]]
    assert titles and all(" ".join(t.split()) in " ".join(on_screen) for t in titles), text
    assert f"{shown[0]}v1 · submitted" in pane and "top 8% of 13" in pane
    # shown once, as the CLI's feed: the rows shown here are not listed again
    assert not {r["arxiv_id"] for r in cli_feed()} & set(shown)


def test_a_adds_to_the_inbox_shown_on_return_and_x_dismisses_for_good(
    server: FakeArxiv, reader: Path
) -> None:
    before = reader.read_text(encoding="utf-8")

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[str, str]:
        screen = await open_feed(app, pilot)
        added, dismissed = rows(app)[0], rows(app)[1]
        assert "13 new" in status(app) and "3 in your list, 0 dismissed" in status(app)
        await pilot.press("a")
        await wait_until(pilot, lambda: added not in rows(app))
        assert rows(app)[0] == dismissed  # the cursor moved on to the next row
        await pilot.press("x")
        await wait_until(pilot, lambda: dismissed not in rows(app))
        assert len(rows(app)) == 11
        # the status line counts them as they go (issue 94: "0 dismissed" after x)
        assert "11 new" in status(app) and "4 in your list, 1 dismissed" in status(app)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen) and screen.added is not None
        await settle(app, pilot)
        current = table(app).current
        assert current is not None and current.paper.arxiv == added  # the Inbox, on the paper added
        assert "Inbox" in str(main_screen(app).query_one("#papers-pane").border_title)
        return added, dismissed

    added, dismissed = run_app(reader, steps, size=NARROW)
    after = reader.read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n")) and "  - name: Inbox" in after
    assert f'arxiv: "{added}"' in after and "Suggested by `readtrack feed`" in after
    assert dismissed not in after
    again = {r["arxiv_id"] for r in cli_feed("--all")}
    assert added not in again and dismissed not in again and len(again) == 11


def test_r_asks_arxiv_again_and_keeps_the_rows_still_on_screen(server: FakeArxiv, reader: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        screen = await open_feed(app, pilot)
        first = rows(app)
        assert server.total_requests == 1
        server.add(FakePaper("2604.00099", title="Fresh Attention Tiling for Long Sequences in SRAM",
                             abstract="IO-aware attention tiling, long sequences.", categories=["cs.LG"],
                             published=stamp(0.1)))  # fmt: skip
        await pilot.press("r")
        await wait_until(pilot, lambda: not screen.fetching and "2604.00099" in rows(app), 30)
        assert server.total_requests == 2  # not the cached window
        assert set(rows(app)) == set(first) | {"2604.00099"}  # the rows on screen stay, the new one joins
        await pilot.press("escape")
        await open_feed(app, pilot)  # again within the hour: the cached window, every row shown already
        assert server.total_requests == 2 and rows(app) == []
        assert status(app).startswith("Nothing new to show") and "(c to choose)" in status(app)
        assert not app.screen.query_one(FeedList).display

    run_app(reader, steps, size=WIDE)


def test_capital_a_shows_again_what_was_shown_using_nothing_up(server: FakeArxiv, reader: Path) -> None:
    """Issue 94: with every row shown before, the screen only suggested other categories, and nothing like
    `feed --all` existed here. ``A`` shows the whole window again and uses nothing up; ``A`` again: the
    new only."""
    first = [str(row["arxiv_id"]) for row in cli_feed()]  # the day's rows, used up by the CLI

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        screen = await open_feed(app, pilot)
        assert rows(app) == [] and "A shows again what was shown before" in status(app)
        await pilot.press("A")
        await wait_until(pilot, lambda: not screen.fetching and bool(rows(app)), 30)
        assert set(first) <= set(rows(app)) and "shown before or not (A: only the new)" in status(app)
        await pilot.press("A")
        await wait_until(pilot, lambda: not screen.fetching and rows(app) == [], 30)

    run_app(reader, steps, size=WIDE)
    assert server.total_requests == 1  # the hour's window each time


def test_a_terminal_resized_on_the_feed_lays_the_sections_out_again_on_return(
    server: FakeArxiv, reader: Path
) -> None:
    """Issue 94: resized from 120 to 80 columns on the feed screen, then Esc: the Sections pane kept the names
    cut for 120 columns, wrapped over two lines each."""

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await open_feed(app, pilot)
        await pilot.resize_terminal(*NARROW)
        await settle(app, pilot)
        await pilot.press("escape")
        await settle(app, pilot)
        main = main_screen(app)
        sections = main.query_one("#sections", OptionList)
        width = sections.scrollable_content_region.width
        assert main._sections_width == width
        prompts = [str(sections.get_option_at_index(i).prompt) for i in range(sections.option_count)]
        assert prompts and all(len(prompt) <= width for prompt in prompts), (width, prompts)  # one line each

    run_app(reader, steps, size=WIDE)


def test_offline_the_screen_is_one_line_with_the_network_hint(
    reader: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    monkeypatch.setenv("READTRACK_ARXIV_API", f"http://127.0.0.1:{port}/api/query")
    monkeypatch.setenv("READTRACK_ARXIV_DELAY", "0")

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> str:
        await open_feed(app, pilot)
        message = status(app)
        assert not app.screen.query_one(FeedList).display  # no empty framed box under the line
        assert not app.screen.query_one("#feed-columns").display
        text = screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        assert "╭" not in text and message in " ".join(text.split()), text
        return message

    message = run_app(reader, steps, size=NARROW)
    assert "\n" not in message and message.startswith("cannot fetch the feed from arXiv: cannot reach")
    assert "(is the network up?)" in message and "nothing changed" in message


def test_nothing_read_says_so_then_c_picks_categories_and_the_newest_come_first(
    server: FakeArxiv, catalog_file: Path
) -> None:
    catalog_file.write_text(NOTHING_READ, encoding="utf-8")

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        screen = await open_feed(app, pilot)
        assert status(app).startswith("No categories to follow: nothing read or being read yet. c chooses")
        assert server.total_requests == 0
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen))
        await pilot.press(*"cs.lgg", "enter")  # a typo: refused with the closest names, nothing fetched
        await settle(app, pilot)
        assert app.screen is screen and server.total_requests == 0
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptScreen))
        await pilot.press("ctrl+u", *"cs.cl", "enter")
        await wait_until(pilot, lambda: not screen.fetching and bool(rows(app)), 30)
        assert rows(app) == ["2604.00002"]  # the one cs.CL entry
        assert "newest first" in status(app) and "categories" not in status(app).split("\n")[0][:3]
        assert "why: newest first" in screen_text(app)

    run_app(catalog_file, steps, size=NARROW)


def test_a_wait_arxiv_asks_for_is_said_while_it_lasts(server: FakeArxiv, reader: Path) -> None:
    server.fail("/api/query", "503", retry_after="2")

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("F")
        await wait_until(pilot, lambda: "waiting 2 s as it asked" in status(app), 10)
        assert "arXiv answered HTTP 503" in status(app)
        screen = app.screen
        assert isinstance(screen, FeedScreen)
        await wait_until(pilot, lambda: not screen.fetching, 30)
        assert len(rows(app)) == 13 and "2 requests to arXiv now" in status(app)  # the refused one counts

    run_app(reader, steps, size=WIDE)


def test_question_mark_lists_f_on_the_list_and_the_screens_keys(server: FakeArxiv, reader: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[set[str], set[str]]:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert isinstance(app.screen, HelpScreen)
        on_list = {key for key, what in app.screen.keys if "The day's arXiv" in what}
        await pilot.press("escape")
        await open_feed(app, pilot)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert isinstance(app.screen, HelpScreen)
        here = {key for _, section in app.screen.sections for key, _ in section}
        return on_list, here

    on_list, here = run_app(reader, steps, size=NARROW)
    assert on_list == {"F"}
    assert {"Enter", "a", "x", "r", "c", "Esc", "?"} <= here
    manual = (Path(__file__).resolve().parents[2] / "docs" / "tui.md").read_text(encoding="utf-8")
    assert "| `F` |" in manual


def test_opening_the_tui_imports_neither_the_feed_nor_scikit_learn(catalog_file: Path) -> None:
    code = (
        "import asyncio, sys\nfrom pathlib import Path\nfrom readtrack.tui.app import ReadtrackApp\n"
        "async def main():\n    app = ReadtrackApp(Path(sys.argv[1]))\n"
        "    async with app.run_test(size=(100, 30)) as pilot:\n        await pilot.pause()\n"
        "        await app.workers.wait_for_complete()\n"
        "    feed = ('sklearn', 'readtrack.feed.core', 'readtrack.feed.rank')\n"
        "    print([m for m in feed if m in sys.modules])\n"
        "asyncio.run(main())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(catalog_file)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]"]
