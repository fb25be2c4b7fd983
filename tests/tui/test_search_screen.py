"""The TUI's search screen and the paper view's Paper tab through Pilot, on a real index and a real PDF."""

from __future__ import annotations

from pathlib import Path

import pdfgen
import pytest
from fake_plugins import write_plugin
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static, TabbedContent
from tui_driver import run_app, screen_text, settle, wait_until

from readtrack.catalog import edits
from readtrack.catalog.pdfcache import arxiv_pdf_path
from readtrack.tui.app import MainScreen, ReadtrackApp
from readtrack.tui.screens.dialogs import HelpScreen
from readtrack.tui.screens.paper_view import PaperView
from readtrack.tui.screens.search_screen import SearchScreen
from readtrack.tui.widgets.pdf_pane import PdfPane

PAGES = [
    "# 1 Introduction\nNothing to see on the first page.",
    "# 2 Method\nThe quorbix layer is defined here.\nMore text.",
    "# 3 Results\nA second quorbix mention on page three.",
]


def results(app: ReadtrackApp) -> list[str]:
    options = app.screen.query_one("#search-results", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def test_search_as_you_type_then_enter_opens_the_paper_tab_on_the_hits(catalog_file: Path) -> None:
    pdfgen.article(arxiv_pdf_path("2205.14135"), PAGES)  # flashattention's cached PDF
    edits.note(catalog_file, "bert", "quorbix in my notes too")

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("f")
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"quorb")  # debounced: the list follows the typing
        await wait_until(pilot, lambda: any("bert" in r for r in results(app)))
        await pilot.press("i", "x")
        # "quorb*" already listed the PDF's pages: wait for the list of "quorbix" itself, or its late
        # refresh replaces the list (and its highlight) after the test has moved into it
        await wait_until(pilot, lambda: getattr(app.screen, "shown_query", None) == "quorbix")
        assert any("p. 2" in r for r in results(app))
        shown = results(app)
        assert any("bert" in r and "notes" in r and "quorbix in my notes" in r for r in shown)
        assert any("flashattention" in r and "p. 3" in r for r in shown)
        status = str(app.screen.query_one("#search-status", Static).content)
        assert status.startswith(f"{len(shown)} hits")

        await pilot.press("down")  # into the results; move to the page-2 hit and open it
        index = next(i for i, r in enumerate(shown) if "p. 2" in r)
        app.screen.query_one("#search-results", OptionList).highlighted = index
        await pilot.press("enter")
        await wait_until(  # the paper view reads the page, code and PDF in workers: slow beside -n auto
            pilot,
            lambda: isinstance(app.screen, PaperView) and bool(app.screen.query_one(PdfPane).pages),
            timeout=45,
        )
        view = app.screen
        assert isinstance(view, PaperView)
        assert view.query_one(TabbedContent).active == "pdf"
        pane = view.query_one(PdfPane)
        assert pane.hits == [(1, 1), (2, 1)]  # page 2 line 2, page 3 line 2 (0-based)
        await wait_until(pilot, lambda: view.sub_title.startswith("hit 1 of 2"))
        await pilot.press("n")
        assert view.sub_title == "hit 2 of 2: p. 3"
        await pilot.press("N")
        assert view.sub_title == "hit 1 of 2: p. 2"
        await pilot.press("escape")
        assert isinstance(app.screen, SearchScreen)
        await pilot.press("escape")  # from the results, back to the list
        assert isinstance(app.screen, MainScreen)

    run_app(catalog_file, steps)


def test_esc_from_the_hits_leaves_the_search_so_question_mark_is_help_not_a_query(catalog_file: Path) -> None:
    """Issue 53: the first Esc from the hits only went back to the query box, where the `?` a person then
    pressed for help was typed into the query. ↑ on the first hit is the way back to the query."""

    async def search_attention(app: ReadtrackApp, pilot: Pilot[None]) -> tuple[SearchScreen, Input]:
        await pilot.press("f", *"attention")
        await wait_until(pilot, lambda: getattr(app.screen, "shown_query", None) == "attention")
        search = app.screen
        assert isinstance(search, SearchScreen) and search.hits
        return search, search.query_one("#search-query", Input)

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        _, query = await search_attention(app, pilot)
        await pilot.press("down", "escape")  # from the hits: out of the search at once
        assert isinstance(app.screen, MainScreen)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert query.value == "attention"  # no "?" typed into it

        await pilot.press("escape")
        search, query = await search_attention(app, pilot)
        await pilot.press("down", "down", "up")  # into the hits, one down and back to the first
        assert app.focused is search.query_one("#search-results")
        await pilot.press("up")  # above the first hit: the query, to refine it
        assert app.focused is query

    run_app(catalog_file, steps)


def test_a_malformed_query_says_so_and_the_paper_tab_says_how_to_fetch_a_missing_pdf(
    catalog_file: Path,
) -> None:
    edits.set_fields(catalog_file, "adamw", {"plugin": "adamw"})  # one plugin: p opens its view at once

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("f", *"attention AND")
        status = app.screen.query_one("#search-status", Static)
        await wait_until(pilot, lambda: "malformed query" in str(status.content))
        await pilot.press("escape")

        await pilot.press("p")  # adamw's plugin view; no PDF was synced
        await settle(app, pilot)
        await pilot.press("4")
        pane = app.screen.query_one(PdfPane)
        message = str(pane.query_one(".pdf-message", Static).content)
        assert "No PDF of adamw yet" in message and "o (open" in message and "s (sync)" in message

    run_app(catalog_file, steps)


def test_the_palette_has_a_search_command(catalog_file: Path) -> None:
    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert "Search" in commands
        await pilot.press("ctrl+p", *"Search")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, SearchScreen)

    run_app(catalog_file, steps)


def test_a_hit_in_plugin_code_opens_the_code_tab_at_that_line(
    catalog_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugins = tmp_path / "plugins"
    monkeypatch.setenv("READTRACK_PLUGINS_DIR", str(plugins))
    folder = write_plugin(plugins, "tinyplug")
    filler = "".join(f"x{i} = {i}\n" for i in range(120))
    (folder / "model.py").write_text(filler + "zorblaxian = 'the line to find'\n", encoding="utf-8")
    init = folder / "__init__.py"
    init.write_text('"""The quuxpagian idea."""\n' + init.read_text(), encoding="utf-8")
    edits.set_fields(catalog_file, "adamw", {"plugin": "tinyplug"})

    async def steps(app: ReadtrackApp, pilot: Pilot[None]) -> None:
        await pilot.press("f", *"zorblaxian")
        await wait_until(pilot, lambda: getattr(app.screen, "shown_query", None) == "zorblaxian", timeout=45)
        assert any("tinyplug/model.py:121" in r for r in results(app))
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PaperView) and app.screen.sub_title != "")
        view = app.screen
        assert isinstance(view, PaperView)
        assert view.query_one(TabbedContent).active == "code"  # not the Paper tab ("No PDF yet")
        assert view.sub_title == "model.py:121"
        await settle(app, pilot)
        scroll = view.query_one("#code-scroll", VerticalScroll)
        region = scroll.scrollable_content_region
        visible = screen_text(app).splitlines()[region.y : region.y + region.height]
        assert any("zorblaxian" in line for line in visible)  # scrolled to the hit

        await pilot.press("escape", "up", "end", "ctrl+u", *"quuxpagian")  # ↑ to the query: a page hit
        await wait_until(pilot, lambda: getattr(app.screen, "shown_query", None) == "quuxpagian")
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PaperView))
        assert app.screen.query_one(TabbedContent).active == "page"

    run_app(catalog_file, steps)
