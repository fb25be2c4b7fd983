"""The paper view's Related tab and the rows of What to read next: Semantic Scholar's citation graph, seen
from the reader's list (`readtrack.related`).

`RelatedList` shows rows of `readtrack.related.graph.Row`, one a line: the paper's place in the list (status
glyph and id), year, citations, arXiv id, ▶ when a plugin runs it, and the title last, cut to the width; under
a suggestion of ``next``, why. Enter on a paper of the list posts `RelatedList.Open` (the screen opens its
view: a widget opens no screen), ``a`` adds the highlighted paper to "To read" in a worker, through the core
(`readtrack.related.suggested`): the list's own watcher sees the file change and reloads the main screen.

`RelatedPane` is the Related tab. Nothing is asked until the tab is first shown (`RelatedPane.load`), so
opening a paper's view makes no request; then the references and citations are fetched in a worker thread
(`fetch_related`, which the next screen uses too) with progress, and leaving the view sets the fetch's cancel
event. A failure (offline, a paper Semantic Scholar does not know) is the error's one line, in the tab, with
no empty list under it; offline, it asks what ``readtrack sync`` asks (`readtrack.arxiv.http.NETWORK_HINT`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from readtrack.base.errors import AlreadyListed, ReadtrackError, one_line
from readtrack.base.safe_text import visible
from readtrack.base.words import plural
from readtrack.catalog.model import STATUS_GLYPHS, Paper
from readtrack.related import suggested
from readtrack.related.suggested import SECTION
from readtrack.render.papers import STATUS_STYLES
from readtrack.tui.widgets.paper_table import fit
from readtrack.tui.workers.handoff import hand_to

if TYPE_CHECKING:
    from readtrack.related.graph import Listing, Related, Row
    from readtrack.related.s2 import SemanticScholar

T = TypeVar("T")
SHOWN = 50  # references, citations or suggestions shown (the most cited, the best ranked)
PLACE_WIDTH = 16  # the widest "☐ paper-id" column: the title needs the room more
FETCHING = "Fetching references and citations from Semantic Scholar…"
# What the rows answer to, as help lists them (j and k move too, as everywhere).
ROW_KEYS: list[BindingType] = [
    Binding("enter", "select", "Open", tooltip="Open the paper's view, when it is in your list"),
    Binding("a", "add", "Add", tooltip="Add the paper to your list's To read section"),
]


def list_path(app: App[Any]) -> Path:
    """The papers.yaml the app shows (`readtrack.tui.app.ReadtrackApp.catalog_path`), else readtrack's."""
    path = getattr(app, "catalog_path", None)
    if isinstance(path, Path):
        return path
    from readtrack.base.paths import catalog_path

    return catalog_path()


# -- fetching ------------------------------------------------------------------------------------------------


def fetch_related(
    screen: Screen[Any],
    path: Path,
    ask: Callable[[Related], T],
    *,
    refresh: bool,
    cancel: threading.Event,
    progress: Callable[[str], None],
    done: Callable[[T, str], None],
    failed: Callable[[str], None],
) -> None:
    """In a worker thread: ``ask`` the `Related` of the list at ``path``; in the UI thread, while ``screen``
    is shown, each progress line, then ``done(answer, where the answers came from)`` or ``failed(the error's
    one line)``. A fetch whose ``cancel`` was set (the view left, a newer fetch) says nothing more."""
    from readtrack.arxiv.http import Cancelled
    from readtrack.plugins.links import load
    from readtrack.related.graph import opened

    def say(text: str) -> None:
        if not cancel.is_set():
            hand_to(screen, progress, text.strip())

    def waiting(_url: str, reason: str, seconds: float, attempt: int, attempts: int) -> None:
        say(f"Semantic Scholar answered {reason}: waiting {seconds:.0f} s (try {attempt + 1} of {attempts})")

    try:
        catalog = load(path)
        with opened(catalog, refresh=refresh, on_progress=say, on_wait=waiting, cancel=cancel) as related:
            answer = ask(related)
            source = answers_from(related.client)
    except Cancelled:
        return
    except ReadtrackError as err:
        message = failure_line(err)
    except Exception as err:  # a bug in the graph's code must not take the view down with it
        message = f"unexpected {one_line(err)} (please report it)"
    else:
        if not cancel.is_set():
            hand_to(screen, done, answer, source)
        return
    if not cancel.is_set():
        hand_to(screen, failed, message)


def failure_line(err: ReadtrackError) -> str:
    """The error's one line; when no connection was made at all (`readtrack.arxiv.http.Unreachable`, the
    cause of the Semantic Scholar error that names what was asked), with sync's question after it."""
    from readtrack.arxiv.http import NETWORK_HINT, Unreachable

    message = str(err)
    cause = err if isinstance(err, Unreachable) else err.__cause__ or err.__context__
    if isinstance(cause, Unreachable) and NETWORK_HINT not in message:
        message += f"; {NETWORK_HINT}"
    return message


class Fetch:
    """One fetch at a time for a widget that shows rows under a status line (the Related tab, the next
    screen): the status says what is being fetched, then each progress line, then the failure's one line;
    a newer fetch cancels the one still going."""

    def __init__(self, owner: Widget, status_selector: str, fetching: str) -> None:
        self.owner = owner
        self.status_selector = status_selector
        self.fetching = fetching
        self.cancel = threading.Event()

    def start(
        self, ask: Callable[[Related], T], *, refresh: bool, done: Callable[[T, str], None], group: str
    ) -> None:
        self.cancel.set()
        self.cancel = cancel = threading.Event()
        self.status(Text(self.fetching))
        rows = self.owner.query_one(RelatedList)
        rows.show([])
        rows.display = True  # hidden by a failure: an empty box under its one line said nothing more
        owner = self.owner
        screen = owner if isinstance(owner, Screen) else owner.screen
        path = list_path(owner.app)

        def finish(answer: T, source: str) -> None:
            # leaving the view removes the list before its owner, and the screen goes last: a fetch ending
            # then has nowhere to go (its callback would raise NoMatches into the worker)
            if owner.is_attached and owner.query(RelatedList):
                done(answer, source)

        owner.run_worker(
            lambda: fetch_related(
                screen, path, ask, refresh=refresh, cancel=cancel,
                progress=self.progress, done=finish, failed=self.failed,
            ),
            thread=True, exclusive=True, group=group,
        )  # fmt: skip

    def status(self, text: Text) -> None:
        for status in self.owner.query(self.status_selector).results(Static):  # none once it is closing
            status.update(text)

    def progress(self, line: str) -> None:
        text = Text(self.fetching)
        text.append(f"\n{visible(line)}", style="dim")
        self.status(text)

    def failed(self, message: str) -> None:
        """The failure's one line, and no empty list under it."""
        self.status(Text(visible(message), style="red"))
        for rows in self.owner.query(RelatedList).results(RelatedList):
            rows.display = False


def answers_from(client: SemanticScholar) -> str:
    """Where the answers shown came from: how many from the cache and of when (r asks again)."""
    if not client.from_cache:
        return f"fetched now ({plural(client.requests, 'request')})"
    return f"{plural(client.from_cache, 'answer')} from the cache of {client.oldest} (r asks again)"


def add_paper(path: Path, row: Row, found_in: str | None) -> Paper:
    """In a worker: the row's paper added to "To read"; its notes say where it was found (``found_in``), or,
    for a suggestion of ``next``, why it was suggested (`readtrack.related.suggested.add_rows`)."""
    from readtrack.catalog import edits

    note = None
    if found_in is not None:
        note = f"Found among the {found_in} on Semantic Scholar (the Related tab), on {edits.today()}."
    (paper,) = suggested.add_rows(path, [row], note=note)
    return paper


# -- the rows ------------------------------------------------------------------------------------------------


@dataclass
class Part:
    """A heading over its rows: the references, the citations, or the suggestions. ``found_in`` is what a
    paper added from it says in its notes ("references of adamw"); None: a suggestion's own reason."""

    heading: Text
    rows: list[Row]
    found_in: str | None = None


@dataclass(frozen=True)
class Columns:
    """The widths of the columns before the title, fitted to the rows shown."""

    place: int
    cited: int
    ident: int

    @classmethod
    def of(cls, rows: list[Row]) -> Columns:
        places = [len(place_of(row)) for row in rows]
        return cls(
            min(max([7, *places]), PLACE_WIDTH),
            max([5, *(len(cited_of(row)) for row in rows)]),
            max([5, *(len(ident_of(row)) for row in rows)]),
        )

    def header(self, numbered: bool) -> Text:
        number = "  # " if numbered else ""
        cited, ident = f"{'cited':>{self.cited}}", f"{'arXiv':<{self.ident}}"
        return Text(f"{number}{'in list':<{self.place}}  year  {cited}  {ident}   title", style="dim")


def place_of(row: Row) -> str:
    """``☑ adamw`` for a paper of the list, else nothing."""
    if row.listed is None:
        return ""
    return f"{STATUS_GLYPHS[row.listed.status]} {visible(row.listed.id)}"


def cited_of(row: Row) -> str:
    return f"{row.paper.citations:,}" if row.paper.citations is not None else ""


def ident_of(row: Row) -> str:
    return row.paper.arxiv or "-"


def row_text(row: Row, columns: Columns, number: int | None = None) -> Text:
    """One row: place, year, citations, arXiv id, ▶, title; a suggestion's reason on a second line."""
    paper = row.paper
    status = STATUS_STYLES[row.listed.status] if row.listed else ""
    text = Text()
    if number is not None:
        text.append(f"{number:>3} ")
    text.append(f"{fit(place_of(row), columns.place):<{columns.place}}  ", style=status or "dim")
    text.append(f"{paper.year or '':>4}  {cited_of(row):>{columns.cited}}  ")
    text.append(f"{ident_of(row):<{columns.ident}} ", style="cyan" if paper.arxiv else "dim")
    text.append("▶ " if row.plugins else "  ", style="green")
    text.append(visible(paper.title) or f"({paper.ident})", style=status)
    if row.why:
        text.append(f"\n    {visible(row.why)}", style="dim")
    return text


def listing_heading(kind: str, listing: Listing, shown: int) -> Text:
    """``References: 20 of 44 (23 unresolved), most cited first`` or ``Citations: 50 of 2,507, most cited
    first (among the first 1,000 fetched, 3 unresolved)``: the count is of the papers that can be listed, the
    items Semantic Scholar has no paper for (``Listing.unresolved``) said apart."""
    unresolved = f"{listing.unresolved:,} unresolved" if listing.unresolved else ""
    total = max(listing.fetched - listing.unresolved, 0)
    if kind == "Citations" and listing.target.citations and not listing.complete:
        total = max(total, listing.target.citations)  # more than were fetched: Semantic Scholar's count
    if not total:
        none = f"none it has a paper for ({unresolved})" if unresolved else "none"
        return Text(f"{kind}: {none} on Semantic Scholar", style="bold")
    count = f"{shown} of {total:,}" if shown < total else f"{shown}"
    order = ", most cited first" if shown > 1 else ""
    if listing.complete:
        return Text(f"{kind}: {count}{f' ({unresolved})' if unresolved else ''}{order}", style="bold")
    among = f"among the first {listing.fetched:,} fetched" + (f", {unresolved}" if unresolved else "")
    return Text(f"{kind}: {count}{order} ({among})", style="bold")


class RelatedList(OptionList):
    """Rows under headings, one cursor through them all: Enter opens a listed paper, ``a`` adds one."""

    DEFAULT_CSS = """
    RelatedList { height: 1fr; text-wrap: nowrap; text-overflow: ellipsis; scrollbar-size-vertical: 1; }
    RelatedList > .option-list--option-disabled { color: $text; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        *ROW_KEYS,
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    class Open(Message):
        """Enter on a paper of the list: the screen opens its view."""

        def __init__(self, paper: Paper) -> None:
            super().__init__()
            self.paper = paper

    def __init__(self, *, numbered: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.numbered = numbered  # rows carry their rank (what `readtrack next --add N` takes)
        self.parts: list[Part] = []
        self.entries: list[tuple[Row, Part] | None] = []  # per option: its row and part; None for a heading

    def show(self, parts: list[Part]) -> None:
        self.parts = parts
        self._render_rows()
        self.highlighted = next((i for i, entry in enumerate(self.entries) if entry), None)

    def _render_rows(self) -> None:
        """Every option again (a row added to the list may widen the place column); the cursor stays."""
        highlighted = self.highlighted
        columns = Columns.of([row for part in self.parts for row in part.rows])
        options: list[Option] = []
        self.entries = []
        for part in self.parts:
            heading = part.heading.copy()
            if part.rows:
                heading.append("\n").append_text(columns.header(self.numbered))
            options.append(Option(heading, disabled=True))
            self.entries.append(None)
            for number, row in enumerate(part.rows, 1):
                options.append(Option(row_text(row, columns, number if self.numbered else None)))
                self.entries.append((row, part))
        self.set_options(options)
        self.highlighted = highlighted

    @property
    def current(self) -> tuple[Row, Part] | None:
        index = self.highlighted
        return self.entries[index] if index is not None and index < len(self.entries) else None

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        entry = self.current
        if entry is None:
            return
        row, _ = entry
        if row.listed is not None:
            self.post_message(self.Open(row.listed))
        else:
            self.notify(f"“{visible(row.paper.title)}” is not in your list: a adds it to {SECTION}")

    def action_add(self) -> None:
        entry = self.current
        if entry is None:
            return
        row, part = entry
        if row.listed is not None:
            self.notify(f"Already in your list: {row.listed.id} ({row.listed.status})", severity="warning")
            return
        screen, path = self.screen, list_path(self.app)
        self.run_worker(lambda: self._add(screen, path, row, part.found_in), thread=True, group="related-add")

    def _add(self, screen: Screen[Any], path: Path, row: Row, found_in: str | None) -> None:
        """In a worker: the write, then the row shown in the list (or why not, as a notification)."""
        try:
            paper = add_paper(path, row, found_in)
        except AlreadyListed as err:
            hand_to(screen, partial(self.notify, f"Already in your list: {err}", severity="warning"))
        except ReadtrackError as err:
            hand_to(screen, partial(self.notify, str(err), title="Not added", severity="error"))
        else:
            hand_to(screen, self._added, row, paper)

    def _added(self, row: Row, paper: Paper) -> None:
        row.listed = paper
        if self.is_attached:
            self._render_rows()
        why = " (why: in its notes)" if row.why else ""
        self.notify(f"Added {paper.id} to {SECTION}: {paper.display_title}{why}")


# -- the Related tab -----------------------------------------------------------------------------------------


class RelatedPane(Vertical):
    """The Related tab of one paper of the list (see the module docstring)."""

    DEFAULT_CSS = """
    RelatedPane #related-status { height: auto; max-height: 6; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "Refresh", tooltip="Fetch the references and citations again, not cached"),
    ]

    def __init__(self, paper_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.paper_id = paper_id
        self.started = False  # the tab was shown: a fetch was started
        self.fetch = Fetch(self, "#related-status", FETCHING)

    @property
    def cancel(self) -> threading.Event:
        """The running fetch's: set when the pane goes or a newer fetch starts."""
        return self.fetch.cancel

    def compose(self) -> ComposeResult:
        yield Static(Text("Fetched when this tab is first shown", style="dim"), id="related-status")
        yield RelatedList(id="related-list")

    def on_unmount(self) -> None:
        self.fetch.cancel.set()

    def load(self) -> None:
        """The tab's first showing fetches; later ones keep what is shown."""
        if not self.started:
            self._start(refresh=False)

    def action_refresh(self) -> None:
        self._start(refresh=True)

    def _start(self, *, refresh: bool) -> None:
        self.started = True
        paper_id = self.paper_id

        def ask(related: Related) -> tuple[Listing, Listing]:
            return related.refs(paper_id, sort="cited"), related.cites(paper_id, sort="cited")

        self.fetch.start(ask, refresh=refresh, done=self._show, group="related")

    def _show(self, answer: tuple[Listing, Listing], source: str) -> None:
        if not self.is_attached:
            return
        refs, cites = answer
        target = refs.target
        status = Text(f"“{visible(target.title)}” ({target.year or 'year unknown'}) on Semantic Scholar")
        status.append(f" · {source}", style="dim")
        for note in dict.fromkeys(refs.notes + cites.notes):
            status.append(f"\n{visible(note)}", style="yellow")
        self.fetch.status(status)
        # both most cited first (Semantic Scholar lists references in its own order)
        self.query_one(RelatedList).show(
            [self._part("References", refs, refs.rows), self._part("Citations", cites, cites.rows)]
        )

    def _part(self, kind: str, listing: Listing, rows: list[Row]) -> Part:
        shown = rows[:SHOWN]
        return Part(listing_heading(kind, listing, len(shown)), shown, f"{kind.lower()} of {self.paper_id}")
