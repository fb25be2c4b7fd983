"""The citation graph in the TUI, through Pilot against a fake Semantic Scholar on loopback (tests/fakes2.py):
the paper view's Related tab (6) and What to read next (N on the list), adding from both, offline, and no
request before the reader asks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes2 import FakeS2
from textual.pilot import Pilot
from textual.widgets import Static
from tui_driver import main_screen, run_app, screen_text, settle, wait_until

from readtrack.catalog import edits
from readtrack.catalog.reader import load
from readtrack.related.graph import Listing
from readtrack.related.s2 import S2Paper
from readtrack.tui.app import MainScreen, ReadtrackApp
from readtrack.tui.screens.dialogs import HelpScreen
from readtrack.tui.screens.next_screen import NextScreen
from readtrack.tui.screens.paper_view import PaperView
from readtrack.tui.widgets.related_pane import RelatedList, RelatedPane, listing_heading

LIST = """\
version: 1
sections:
  - name: Optimization
    papers:
      - id: adamw
        title: Decoupled Weight Decay Regularization
        status: todo
        arxiv: "1711.05101"
        year: 2017
      - id: adam
        title: "Adam: A Method for Stochastic Optimization"
        status: todo
        arxiv: "1412.6980"
        year: 2014
"""
WIDE, NARROW = (120, 40), (80, 24)


@pytest.fixture
def small_list(catalog_file: Path) -> Path:
    """Two papers, nothing read yet."""
    catalog_file.write_text(LIST, encoding="utf-8")
    return catalog_file


def point_readtrack_at(server: FakeS2, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READTRACK_S2_URL", server.url)
    monkeypatch.setenv("READTRACK_S2_RECS_URL", server.recs_url)
    monkeypatch.setenv("READTRACK_S2_DELAY", "0")


def build_graph(server: FakeS2) -> None:
    """adamw cites adam (in the list), a classic, the Transformer (a plugin runs it) and a DOI-only paper; two
    newer papers cite adamw, and one of them cites the Transformer too."""
    add = server.add_paper
    add("adamw", "Decoupled Weight Decay Regularization", arxiv="1711.05101", date="2017-11-14")
    add("adam", "Adam: A Method for Stochastic Optimization", arxiv="1412.6980", year=2014)
    add("sgd", "On the Momentum of Gradient Descent", arxiv="1501.00001", year=1999, extra_citations=5000)
    add("transformer", "Attention Is All You Need", arxiv="1706.03762", year=2017, extra_citations=90000)
    add("doi-only", "A Paper With Only a DOI", doi="10.1000/doi-only", year=2001)
    add("newer-a", "Newer Work Citing AdamW", arxiv="2301.00001", date="2023-01-05")
    add("newer-b", "Much Cited Newer Work", arxiv="2302.00002", date="2023-02-05", extra_citations=50)
    for cited in ("adam", "sgd", "transformer", "doi-only"):
        server.cite("adamw", cited)
    for citing in ("newer-a", "newer-b"):
        server.cite(citing, "adamw")
    server.cite("newer-b", "transformer")


@pytest.fixture
def s2(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeS2]:
    with FakeS2.running() as server:
        build_graph(server)
        point_readtrack_at(server, monkeypatch)
        yield server


def status_of(app: ReadtrackApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


def rows_shown(app: ReadtrackApp) -> list[str]:
    """The option list's rows as text (headings left out)."""
    options = app.screen.query_one(RelatedList)
    return [str(options.get_option_at_index(i).prompt) for i, e in enumerate(options.entries) if e]


def notices(app: ReadtrackApp) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


def names(main: MainScreen) -> list[str]:
    assert main.catalog is not None
    return [section.name for section in main.catalog.sections]


def test_the_related_tab_shows_references_and_citations_and_adds_a_paper(
    small_list: Path, s2: FakeS2
) -> None:
    edits.mark(small_list, "adam", "reading")

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("p")  # adamw: its view opens on another tab and asks Semantic Scholar nothing
        await settle(app, pilot)
        await pilot.press("4", "1")
        await settle(app, pilot)
        assert isinstance(app.screen, PaperView) and s2.count() == 0

        await pilot.press("6")
        await wait_until(pilot, lambda: len(rows_shown(app)) == 6, timeout=5)
        text = screen_text(app)
        assert "References: 4, most cited first" in text and "Citations: 2, most cited first" in text
        rows = rows_shown(app)
        assert "1706.03762" in rows[0] and "▶" in rows[0]  # the most cited first; a plugin runs it
        adam = next(row for row in rows if "Adam: A Method" in row)
        assert adam.startswith("◐ adam")  # in the list: its status glyph and id
        assert rows[4].endswith("Much Cited Newer Work")  # citations: the most cited first
        assert "Semantic Scholar" in status_of(app, "#related-status")

        await pilot.press("a")  # on the Transformer, not in the list
        await wait_until(pilot, lambda: rows_shown(app)[0].startswith("☐ "), timeout=5)
        added = next(p for p in load(small_list, cache=False).papers() if p.arxiv == "1706.03762")
        assert added.section == "To read" and added.title == "Attention Is All You Need"
        assert added.notes and "references of adamw" in added.notes
        await pilot.press("a")  # again: it is listed now
        await pilot.pause()
        assert "Already in your list" in notices(app)

        await pilot.press("down", "enter")  # not in the list: nothing to open, and how to add it
        assert "is not in your list: a adds it to To read" in notices(app)
        await pilot.press("down", "enter")  # adam, listed: its own view opens
        await settle(app, pilot)
        assert isinstance(app.screen, PaperView) and app.screen.paper.id == "adam"
        await pilot.press("escape", "escape")
        main = main_screen(app)
        await wait_until(pilot, lambda: main.catalog is not None and "To read" in names(main), timeout=5)

    run_app(small_list, steps, size=WIDE)


def test_offline_the_related_tab_says_so_in_one_line_within_3_s(
    small_list: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeS2.running() as gone:
        point_readtrack_at(gone, monkeypatch)  # a port nothing listens on once it stops

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("p", "6")
        await wait_until(pilot, lambda: "Fetching" not in status_of(app, "#related-status"), timeout=3)
        message = status_of(app, "#related-status")
        assert "Semantic Scholar" in message and "\n" not in message, message
        assert rows_shown(app) == []
        await pilot.press("2", "escape")  # the rest of the view, and the way back, still work
        assert isinstance(app.screen, MainScreen)

    run_app(small_list, steps, size=NARROW)


def test_leaving_the_view_while_it_fetches_cancels_the_fetch(small_list: Path, s2: FakeS2) -> None:
    s2.latency = 2.0  # each reply: the view is left while the first is on its way, on a loaded machine too

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("p", "6")
        await wait_until(pilot, lambda: s2.count() == 1)
        pane = app.screen.query_one(RelatedPane)
        await pilot.press("escape")
        assert pane.cancel.is_set() and s2.in_flight == 1  # left before the first reply came
        await wait_until(pilot, lambda: s2.in_flight == 0, timeout=10)
        await pilot.pause(1.0)  # a fetch going on asks for the references the moment that reply comes
        assert s2.count() == 1

    run_app(small_list, steps, size=NARROW)


def test_n_ranks_what_to_read_next_once_a_paper_is_read_and_a_adds_one(small_list: Path, s2: FakeS2) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("N")  # nothing read yet: one line says so, asking Semantic Scholar nothing
        await wait_until(pilot, lambda: "nothing read yet" in status_of(app, "#next-status"), timeout=3)
        assert isinstance(app.screen, NextScreen) and s2.count() == 0
        await pilot.press("escape", "space")  # adamw read
        await wait_until(pilot, lambda: "status: read" in small_list.read_text(encoding="utf-8"))

        await pilot.press("N")
        await wait_until(pilot, lambda: bool(rows_shown(app)), timeout=5)
        rows = rows_shown(app)
        assert rows[0].startswith("  1 ") and "Attention Is All You Need" in rows[0]  # cited and co-cited
        why = rows[0].splitlines()[1]  # under the row, why: the core's reasons, as `readtrack next` says them
        assert "cited by 1" in why and "adamw" in why and "a plugin runs it (transformer)" in why
        assert any("Much Cited Newer Work" in row and "cites 1" in row for row in rows)
        assert not any("Adam: A Method" in row for row in rows)  # in the list: not a suggestion
        assert "Ranked by the 1 paper you read" in status_of(app, "#next-status")

        await pilot.press("a")
        await wait_until(pilot, lambda: "☐ " in rows_shown(app)[0], timeout=5)
        added = next(p for p in load(small_list, cache=False).papers() if p.arxiv == "1706.03762")
        assert added.section == "To read"
        assert added.notes and added.notes.startswith("Suggested by `readtrack next` on ")
        assert why.strip() in added.notes

        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "Add the paper to your list's To read section" in screen_text(app)
        await pilot.press("escape", "escape")
        main = main_screen(app)
        await wait_until(pilot, lambda: "To read" in names(main), timeout=5)  # the list reloaded

    run_app(small_list, steps, size=NARROW)


def test_the_related_headings_count_the_papers_listed_and_say_how_many_were_unresolved(
    small_list: Path, s2: FakeS2
) -> None:
    """adamw's references are the real recorded ones (67 items, 23 of them with no paper on Semantic Scholar):
    the heading counts the 44 that can be listed and says the 23 apart, at 80 columns (was "44 of 67")."""
    from fakes2 import recorded

    items = [
        item
        for name in ("00", "01")
        for item in recorded(f"rec__test_get_paper_references__{name}.json")["body"]["data"]
    ]
    assert len(items) == 67 and sum(1 for item in items if not item["citedPaper"]["paperId"]) == 23
    s2.record("adamw", "references", items)
    s2.page_max = 50

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("p", "6")
        await wait_until(pilot, lambda: len(rows_shown(app)) == 44 + 2, timeout=10)
        assert "References: 44 (23 unresolved), most cited first" in screen_text(app)  # on screen, whole
        headings = [str(part.heading) for part in app.screen.query_one(RelatedList).parts]
        assert headings == [
            "References: 44 (23 unresolved), most cited first",
            "Citations: 2, most cited first",
        ]

    run_app(small_list, steps, size=NARROW)


def test_a_heading_says_of_how_many_papers_and_the_unresolved_apart() -> None:
    target = S2Paper("x", "T", citations=2507)

    def heading(kind: str, fetched: int, unresolved: int, shown: int, complete: bool = True) -> str:
        return str(listing_heading(kind, Listing(target, [], fetched, complete, [], unresolved), shown))

    assert heading("References", 67, 23, 20) == "References: 20 of 44 (23 unresolved), most cited first"
    assert heading("References", 44, 0, 20) == "References: 20 of 44, most cited first"
    assert (
        heading("References", 3, 3, 0)
        == "References: none it has a paper for (3 unresolved) on Semantic Scholar"
    )
    assert heading("References", 0, 0, 0) == "References: none on Semantic Scholar"
    assert heading("Citations", 1000, 3, 50, complete=False) == (
        "Citations: 50 of 2,507, most cited first (among the first 1,000 fetched, 3 unresolved)"
    )
