"""The search screen (``f`` or the palette's "Search"): full-text search as you type, over what
`readtrack search` searches (`readtrack.search.query`), snippets highlighted; Enter opens the paper's view on
its Paper tab with the term highlighted; a hit in a plugin's code opens its Code tab at that line, a hit in
the plugin's page its Page tab. ↓ goes into the hits and ↑ from the first back to the query; Esc leaves the
search from either (the list's keys, ``?`` among them, are keys again, not letters of a query).

The index is refreshed in a worker when the screen opens (a first build reads every plugin and PDF); each
keystroke restarts a short timer, and the query runs in a worker after the typing pauses, so typing never
waits on SQLite.
"""

from __future__ import annotations

import re
import sqlite3
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from readtrack.base.errors import ReadtrackError, one_line
from readtrack.base.safe_text import visible
from readtrack.catalog.model import STATUS_GLYPHS, Catalog
from readtrack.search.query import Hit
from readtrack.tui.widgets.key_bar import KeyBar

DEBOUNCE_S = 0.15
LIMIT = 50


class HitList(OptionList):
    """The hits; ↑ on the first goes back to the query box (there is nothing above it to move to)."""

    def action_cursor_up(self) -> None:
        if self.highlighted in (None, 0):
            self.screen.query_one("#search-query", Input).focus()
        else:
            super().action_cursor_up()


class SearchScreen(Screen[None]):
    """A query box over a list of hits."""

    DEFAULT_CSS = """
    SearchScreen #search-query { margin: 0 1; }
    SearchScreen #search-results { height: 1fr; margin: 0 1; }
    SearchScreen #search-status { height: 1; padding: 0 2; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "results", "Results", show=False, tooltip="Into the hits"),
        Binding("escape", "back", "Back", tooltip="Back to the list, from the query or the hits"),
    ]
    HELP_TITLE = "The search (f on the list)"
    MOVE_KEYS: ClassVar[list[tuple[str, str]]] = [
        ("↑ ↓", "Move through the hits; ↑ on the first goes back to the query"),
        ("Enter", "Open the paper's view at the hit (its Paper, Code or Page tab)"),
        ("?", "These keys (in the hits: in the query it is a letter)"),
    ]

    def __init__(self, catalog: Catalog, query: str = "") -> None:
        super().__init__()
        self.catalog = catalog
        self.initial = query
        self.hits: list[Hit] = []
        self.shown_query: str | None = None  # the query whose hits the list shows (None: none shown yet)
        self.query_text = query
        self.index_ready = False
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(
            self.initial,
            placeholder='words, "a phrase", prefix*, OR, NOT, title: notes: pdf: code: status:read tag:x',
            id="search-query",
        )
        yield Static("", id="search-status")
        yield HitList(id="search-results")
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = "Search"
        self.query_one("#search-query", Input).focus()
        self._status("indexing…")
        self._refresh_index()

    def _status(self, text: str) -> None:
        self.query_one("#search-status", Static).update(text)

    @work(thread=True, exclusive=True, group="search-index")
    def _refresh_index(self) -> None:
        from readtrack.search import index as search_index

        try:
            report = search_index.refresh(self.catalog)
        except (ReadtrackError, OSError, sqlite3.Error) as err:
            self.app.call_from_thread(self._status, f"search index unavailable: {one_line(err)}")
            return
        self.app.call_from_thread(self._index_refreshed, report.pdf_pages)

    def _index_refreshed(self, pages: int) -> None:
        self.index_ready = True
        self._status(f"index updated ({pages} PDF pages read)" if pages else "")
        if self.query_text:
            self._search(self.query_text)

    @on(Input.Changed, "#search-query")
    def _changed(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_S, lambda: self._search(self.query_text))

    @on(Input.Submitted, "#search-query")
    def _submitted(self) -> None:
        if self.hits:
            self.action_results()

    @work(thread=True, exclusive=True, group="search")
    def _search(self, text: str) -> None:
        if not self.index_ready:
            return  # the index worker runs the query when it is done
        if not text:
            self.app.call_from_thread(self._show, text, [], "")
            return
        from readtrack.base.store import opened
        from readtrack.search import query as search

        try:
            query = search.parse(as_you_type(text))
            with opened("") as db:
                hits = search.run(query, db, limit=LIMIT, text=text)
        except ReadtrackError as err:
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._show, text, [], str(err))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, text, hits, "")

    def _show(self, text: str, hits: list[Hit], problem: str) -> None:
        if text != self.query_text:
            return  # typed on meanwhile: a newer search is coming
        self.hits, self.shown_query = hits, text
        results = self.query_one("#search-results", OptionList)
        results.clear_options()
        results.add_options(Option(hit_text(hit)) for hit in hits)
        if problem:
            self._status(problem)
        elif text:
            more = "+" if len(hits) == LIMIT else ""
            self._status(f"{len(hits)}{more} hits · Enter opens the paper" if hits else "no match")
        else:
            self._status("")

    def action_results(self) -> None:
        results = self.query_one("#search-results", OptionList)
        if results.option_count:
            results.focus()
            if results.highlighted is None:
                results.highlighted = 0

    @on(OptionList.OptionSelected, "#search-results")
    def _open(self, event: OptionList.OptionSelected) -> None:
        from readtrack.tui.screens.paper_view import PaperView

        hit = self.hits[event.option_index]
        paper = self.catalog.get(hit.paper_id)
        plugin = None
        if hit.file is not None:  # a hit in a plugin: that plugin's view
            plugin = next((p for p in paper.plugins if hit.file.startswith(p.replace("-", "_") + "/")), None)
        plugin = plugin or (paper.plugins[0] if paper.plugins else None)
        at: tuple[str, int] | None = None
        query: str | None = self.query_text
        if hit.field == "code" and hit.file is not None and hit.line is not None:  # its Code tab, at the line
            at = (hit.file.split("/", 1)[-1], hit.line)
        elif hit.field == "page":  # the plugin's page: the view's Page tab, not the PDF's
            query = None
        self.app.push_screen(PaperView(paper, plugin, query=query, at=at))

    def action_back(self) -> None:
        """Esc leaves the search at once. It used to go from the hits to the query box first, where the next
        key a person meant for the list (``?`` for help) was typed into the query instead."""
        self.dismiss()


def as_you_type(text: str) -> str:
    """The query with its last word, while still being typed, searched as a prefix (``quorb`` finds
    "quorbix"); a field filter, an operator or a quoted phrase is left as written."""
    words = text.split(" ")
    last = words[-1]
    if re.fullmatch(r"\w+", last) and last not in ("AND", "OR", "NOT"):
        words[-1] = last + "*"
    return " ".join(words)


def hit_text(hit: Hit, width: int = 160) -> Text:
    """One hit as a line of the list: glyph, id, where, and the snippet with its matches highlighted."""
    from readtrack.render.search import window

    text = Text(f"{STATUS_GLYPHS.get(hit.status, ' ')} ")
    text.append(f"{visible(hit.paper_id):<22} ", style="bold")
    text.append(f"{visible(hit.where):<18} ", style="cyan")
    snippet, spans = window(hit, width)
    part = Text(snippet)
    for start, end in spans:
        part.stylize("bold black on yellow", start, end)
    text.append_text(part)
    return text
