"""New on arXiv (``F`` on the list): the rows of `readtrack feed` in a screen of their own.

The listing is `readtrack.feed.core.feed`, as the CLI's: the newest submissions in the categories of what you
read, ranked by what you read, each row with why; the rows shown are remembered as shown, so the CLI's next
``feed`` does not list them again. It runs in a worker thread when the screen opens, with live progress (the
pages arXiv has answered, a wait arXiv asked for); the feed's code, and scikit-learn with its ranking, are
imported there, never at the TUI's start. ``a`` adds the highlighted row to the Inbox through
`readtrack.feed.core.add_rows` (``feed --add``'s code), ``x`` dismisses it (``feed --dismiss``'s), ``r``
asks arXiv again (``--refresh``; the rows still on screen stay), ``c`` picks the categories, ``A`` shows the
whole window again, what earlier feeds showed included, using nothing up (``--all``), Enter shows the
abstract and why in full, Esc closes it and then leaves (cancelling a fetch still going). Leaving after an add
hands the list as written back to the main screen, which shows the last paper added. Offline, or with nothing
read, the screen is the error's one line.
"""

from __future__ import annotations

import textwrap
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from readtrack.base.errors import AlreadyListed, ReadtrackError, one_line
from readtrack.base.safe_text import visible
from readtrack.base.words import plural
from readtrack.catalog.model import Catalog
from readtrack.tui.screens.dialogs import HelpScreen, HelpSection, PromptScreen, binding_help
from readtrack.tui.widgets.key_bar import KeyBar
from readtrack.tui.widgets.panes import ScrollPane
from readtrack.tui.widgets.paper_table import fit
from readtrack.tui.workers.handoff import hand_to

if TYPE_CHECKING:
    from readtrack.feed.core import FeedOptions, FeedResult, Row

TITLE = "New on arXiv"
CATEGORIES_WIDTH = 14  # the categories column at most: the title needs the room more (Enter shows them all)
WHY_INDENT = 5  # the why under a row starts under its title's number column
NO_CATEGORIES = "c chooses some (cs.LG, cs.CL …); with nothing read the newest come first"


@dataclass
class Added:
    """What the screen hands back on leaving after an add: the list as written, and the last paper added."""

    catalog: Catalog
    paper_id: str


def fetching(delay: float) -> str:
    pace = f"one request every {delay:g} s, as arXiv asks" if delay > 0 else "one request at a time"
    return f"Asking arXiv for the newest submissions ({pace})…"


def source_of(result: FeedResult) -> str:
    if result.pages == 0:
        return "the window fetched in the last hour (r asks arXiv again)"
    return f"{plural(result.pages, 'request')} to arXiv now"


def summary(result: FeedResult, shown: int, show_all: bool = False) -> Text:
    """The status line over the rows: what was listed, from what, and what the reader should know."""
    from readtrack.feed.core import age

    new = result.window - result.held - result.hidden
    listed = f"{shown} of {new} new" if shown < new else f"{shown} new"
    if not shown and result.hidden:  # said first, then what the window held
        listed = "Nothing new to show (A shows again what was shown before; c picks other categories)"
    elif not shown:
        listed = "Nothing new to show (c picks other categories)"
    elif show_all:
        listed = f"{shown} of the window, shown before or not (A: only the new)"
    text = Text(f"{listed} · {plural(result.window, 'submission')} in {' '.join(result.categories)} over ")
    text.append(f"{age(result.since)}, {result.held} in your list, {result.hidden} dismissed or shown before")
    text.append(f" · {source_of(result)}", style="dim")
    for note in result.notes:  # the core's words; here c chooses the categories
        text.append(f"\n{visible(note.replace('--category to choose', 'c to choose'))}", style="yellow")
    return text


def columns_of(rows: list[Row]) -> int:
    """The categories column's width for ``rows``."""
    return min(max([10, *(len(" ".join(row.categories)) for row in rows)]), CATEGORIES_WIDTH)


def heading(categories: int, width: int) -> Text:
    text = f"{'#':>3}  {'submitted':<10}  {'top':>5}  {'categories':<{categories}}  title"
    return Text(fit(text, width).rstrip(), style="dim")


def row_text(row: Row, categories: int, width: int) -> Text:
    """Number, date, standing (the top share of the window the row is in), categories and the title's start
    on the first line, the rest of the title under it, then why, each wrapped at ``width``: every word of
    both readable at 80 columns (issue 94: titles were cut to about 35 characters there)."""
    text = Text()
    text.append(f"{row.number:>3}  {row.date:<10}  ")
    text.append(f"{row.top_percent:>4}%" if row.of else f"{'-':>5}", style="bold")
    text.append("  ")
    text.append(fit(" ".join(row.categories), categories), style="cyan")
    text.append("  ")
    lead = 3 + 2 + 10 + 2 + 5 + 2 + categories + 2
    title = title_lines(visible(row.title), max(width - lead, 8), max(width - WHY_INDENT, 20))
    for n, line in enumerate(title):
        text.append(line if n == 0 else "\n" + " " * WHY_INDENT + line)
    why = textwrap.wrap(
        f"why: {visible(row.why)}",
        width=max(width - WHY_INDENT, 20),
        subsequent_indent="     ",
        break_on_hyphens=False,
    )
    for line in why:
        text.append("\n" + " " * WHY_INDENT + line, style="dim")
    return text


def title_lines(title: str, first: int, rest: int) -> list[str]:
    """``title`` wrapped: ``first`` columns on its first line, ``rest`` on the others."""
    head = textwrap.wrap(title, width=first, break_on_hyphens=False) or [""]
    tail = title[len(head[0]) :].strip()
    return [head[0], *textwrap.wrap(tail, width=rest, break_on_hyphens=False)]


def abstract_text(row: Row) -> Text:
    """Enter's pane: the title, the row's facts, why in full, the abstract."""
    text = Text(visible(row.title), style="bold")
    facts = [f"{row.arxiv_id}{row.version}", f"submitted {row.date}", " ".join(row.categories)]
    facts.append(row.standing)
    if row.doi:
        facts.append(f"DOI {row.doi}")
    text.append("\n" + visible(" · ".join(facts)), style="cyan")
    text.append("\nWhy: ", style="bold")
    text.append(visible(row.why))
    text.append("\n\n")
    text.append(visible(row.abstract, multiline=True) or "(no abstract)")
    return text


class FeedKey(Screen[None]):
    """``F`` on the main screen (`readtrack.tui.app.MainScreen` inherits it): this screen, and on coming back
    after an add, the list as written, in the section of the last paper added, the cursor on it (the
    catalog watcher's poll reloads again if the file changed since)."""

    path: Path
    section_index: int

    if TYPE_CHECKING:

        def _install(self, catalog: Catalog, keep: str | None = None) -> None: ...

    def action_feed(self) -> None:
        self.app.push_screen(FeedScreen(self.path), self._show_added)

    def _show_added(self, added: Added | None) -> None:
        if added is None:
            return
        try:
            paper = added.catalog.get(added.paper_id)
        except ReadtrackError:  # edited away meanwhile: the poll shows the file as it is
            return
        self.section_index = [section.name for section in added.catalog.sections].index(paper.section)
        self._install(added.catalog, keep=paper.id)


class FeedList(OptionList):
    """The ranked rows, two lines or more each (why under the title), one cursor; widths follow the pane."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter", "select", "Abstract", tooltip="Show the row's abstract and why in full (again: hide)"
        ),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows: list[Row] = []
        self._width = 0

    @property
    def text_width(self) -> int:
        return max(self.scrollable_content_region.width - 1, 40)  # a cell spare: never a wrapped title

    def show(self, rows: list[Row]) -> None:
        """``rows`` shown; the cursor stays at its place (the next row when its own went)."""
        at = self.highlighted
        self.rows = rows
        self._render_rows()
        self.highlighted = min(at, len(rows) - 1) if at is not None and rows else (0 if rows else None)

    def _render_rows(self) -> None:
        at = self.highlighted
        self._width = width = self.text_width
        categories = columns_of(self.rows)
        self.set_options([Option(row_text(row, categories, width)) for row in self.rows])
        self.highlighted = at if at is not None and at < len(self.rows) else None
        for columns in self.screen.query("#feed-columns").results(Static):
            columns.update(heading(categories, width + 1))

    def on_resize(self) -> None:
        if self.rows and self.text_width != self._width:
            self._render_rows()

    @property
    def current(self) -> Row | None:
        index = self.highlighted
        return self.rows[index] if index is not None and index < len(self.rows) else None


class FeedScreen(Screen[Added | None]):
    """A status line over the ranked rows, and the highlighted row's abstract under them on Enter."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "a", "add", "Add", tooltip="Add the paper to your list's Inbox, why in its notes (feed --add)"
        ),
        Binding(
            "x",
            "dismiss_row",
            "Dismiss",
            tooltip="Not for you: never shown again, and the ranking learns from it (feed --dismiss)",
        ),
        Binding(
            "r", "refresh", "Refresh", tooltip="Ask arXiv again, not the hour's cached window (--refresh)"
        ),
        Binding(
            "c", "categories", "Categories", tooltip="Choose the arXiv categories (empty: those you read)"
        ),
        Binding(
            "A",
            "show_all",
            "All",
            tooltip="Show again what earlier feeds showed, using nothing up (feed --all); again: back",
        ),
        Binding("question_mark", "help", "Help", tooltip="These keys"),
        Binding(
            "escape", "back", "Back", tooltip="Close the abstract, else back to the list (cancels a fetch)"
        ),
    ]
    HELP_TITLE = f"{TITLE} (F on the list)"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.categories: list[str] = []  # chosen with c; empty: the reader's
        self.show_all = False  # A: what earlier feeds showed too (feed --all), nothing used up
        self.result: FeedResult | None = None  # the last listing, its counts kept true as rows go
        self.cancel = threading.Event()  # the running fetch's: set on leaving or by a newer fetch
        self.fetching = False
        self.pending: set[str] = set()  # rows being added or dismissed (a second key on them waits)
        self.added: Added | None = None
        self.progress_lines: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="feed-status")
        yield Static(id="feed-columns")
        yield FeedList(id="feed-list")
        with ScrollPane(id="feed-abstract-pane"):
            yield Static(id="feed-abstract")
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = TITLE
        self.query_one("#feed-abstract-pane").border_title = "Abstract"
        self.query_one(FeedList).focus()
        self.query_one(FeedList).display = self.query_one("#feed-columns").display = False  # no empty box
        self._start(refresh=False)

    def on_unmount(self) -> None:
        self.cancel.set()

    @property
    def rows(self) -> list[Row]:
        return self.query_one(FeedList).rows

    # -- fetching --------------------------------------------------------------------------------------------

    def _start(self, *, refresh: bool) -> None:
        from readtrack.feed.core import FeedOptions

        self.cancel.set()
        self.cancel = cancel = threading.Event()
        self.fetching = True
        showing = frozenset(row.arxiv_id for row in self.rows) if refresh else frozenset()
        options = FeedOptions(
            categories=list(self.categories), refresh=refresh, showing=showing, show_all=self.show_all
        )
        self.progress_lines = {}
        self._status(Text("Ranking the newest submissions on arXiv by what you read…"))
        self.run_worker(lambda: self._fetch(options, cancel), thread=True, exclusive=True, group="feed")

    def _fetch(self, options: FeedOptions, cancel: threading.Event) -> None:
        """In the worker: the listing (`readtrack.feed.core.feed`), its progress said as it comes."""
        from readtrack.arxiv.http import Cancelled, HttpSettings
        from readtrack.feed import core
        from readtrack.plugins.links import load

        def say(key: str, line: str) -> None:
            if not cancel.is_set():
                hand_to(self, self._progress, key, line)

        def paged(pages: int) -> None:
            say(
                "pages", f"{plural(pages, 'page')} of submissions answered; the ranking comes once all are in"
            )

        def waiting(_url: str, reason: str, seconds: float, attempt: int, attempts: int) -> None:
            tries = f"try {attempt + 1} of {attempts}"
            say("wait", f"arXiv answered {reason}: waiting {seconds:.0f} s as it asked ({tries})")

        say("start", fetching(HttpSettings.from_env().arxiv_delay))
        try:
            catalog = load(self.path)
            result = core.feed(catalog, options, on_wait=waiting, on_page=paged, cancel=cancel)
        except Cancelled:
            return
        except core.NoCategories as err:
            message = f"No categories to follow: {err.why}. {NO_CATEGORIES}"
        except ReadtrackError as err:
            message = str(err)
        except Exception as err:  # a bug in the feed's code must not take the screen down with it
            message = f"unexpected {one_line(err)} (please report it)"
        else:
            if not cancel.is_set():
                hand_to(self, self._show, result)
            return
        if not cancel.is_set():
            hand_to(self, self._failed, message)

    def _progress(self, key: str, line: str) -> None:
        self.progress_lines[key] = line
        text = Text(self.progress_lines.get("start", ""))
        for name in ("pages", "wait"):
            if name in self.progress_lines:
                text.append(f"\n{visible(self.progress_lines[name])}", style="dim")
        self._status(text)

    def _show(self, result: FeedResult) -> None:
        self.fetching = False
        self.result = result
        self._status(summary(result, len(result.rows), self.show_all))
        self._show_rows(result.rows)

    def _failed(self, message: str) -> None:
        """The error's one line, and nothing else: no empty list under it."""
        self.fetching = False
        self._status(Text(visible(message), style="red"))
        self._show_rows([])

    def _show_rows(self, rows: list[Row]) -> None:
        found = self.query_one(FeedList)
        found.show(rows)
        found.display = bool(rows)
        self.query_one("#feed-columns").display = bool(rows)
        if not rows:
            self.query_one("#feed-abstract-pane").remove_class("-shown")
        self._show_abstract()

    def _status(self, text: Text) -> None:
        for status in self.query("#feed-status").results(Static):  # none once it is closing
            status.update(text)

    # -- the rows --------------------------------------------------------------------------------------------

    @on(OptionList.OptionSelected, "#feed-list")
    def _toggle_abstract(self) -> None:
        pane = self.query_one("#feed-abstract-pane")
        pane.toggle_class("-shown")
        self._show_abstract()

    @on(OptionList.OptionHighlighted, "#feed-list")
    def _show_abstract(self) -> None:
        pane = self.query_one("#feed-abstract-pane", ScrollPane)
        row = self.query_one(FeedList).current
        if pane.has_class("-shown") and row is not None:
            self.query_one("#feed-abstract", Static).update(abstract_text(row))
            pane.scroll_home(animate=False)

    def _acting_on(self) -> Row | None:
        row = self.query_one(FeedList).current
        if row is None or row.arxiv_id in self.pending:
            return None
        self.pending.add(row.arxiv_id)
        return row

    def action_add(self) -> None:
        row = self._acting_on()
        if row is not None:
            self.run_worker(lambda: self._add(row), thread=True, group="feed-add")

    def _add(self, row: Row) -> None:
        """In a worker: the row added to the Inbox (``feed --add``'s code), then gone from the rows."""
        from readtrack.feed.core import add_rows
        from readtrack.plugins.links import load

        try:
            section, papers = add_rows(self.path, [row.to_json()])
            catalog = load(self.path)
        except AlreadyListed as err:
            hand_to(self, self._not_done, row, f"Already in your list: {err}", "warning")
        except ReadtrackError as err:
            hand_to(self, self._not_done, row, f"Not added: {err}", "error")
        else:
            paper = papers[0]
            self.added = Added(catalog, paper.id)
            hand_to(self, self._done, row, f"Added {paper.id} to {section}: {paper.display_title}", "held")

    def action_dismiss_row(self) -> None:
        row = self._acting_on()
        if row is not None:
            self.run_worker(lambda: self._dismiss(row), thread=True, group="feed-dismiss")

    def _dismiss(self, row: Row) -> None:
        """In a worker: the row never shown again (``feed --dismiss``'s code), then gone from the rows."""
        from readtrack.feed.core import dismiss_rows

        try:
            dismiss_rows([row.to_json()])
        except ReadtrackError as err:
            hand_to(self, self._not_done, row, f"Not dismissed: {err}", "error")
        else:
            message = f"Dismissed {row.arxiv_id}: {row.title} (not shown again)"
            hand_to(self, self._done, row, message, "hidden")

    def _done(self, row: Row, message: str, counted: str) -> None:
        """The row gone from the rows, and counted where the status line counts it (``held``: in your list
        now; ``hidden``: dismissed), so that the line says what the screen shows."""
        self.pending.discard(row.arxiv_id)
        self._show_rows([r for r in self.rows if r.arxiv_id != row.arxiv_id])
        if self.result is not None:
            more = {counted: getattr(self.result, counted) + 1}
            self.result = replace(self.result, **more)
            self._status(summary(self.result, len(self.rows), self.show_all))
        self.notify(message)

    def _not_done(self, row: Row, message: str, severity: Any) -> None:
        self.pending.discard(row.arxiv_id)
        self.notify(message, severity=severity)

    # -- keys ------------------------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self._start(refresh=True)

    def action_show_all(self) -> None:
        """A: the whole window again, what earlier feeds showed included, nothing used up; A again: the new
        only (the hour's window: arXiv is not asked again)."""
        self.show_all = not self.show_all
        self._start(refresh=False)

    def action_categories(self) -> None:
        def chosen(text: str | None) -> None:
            if text is None:
                return
            names = text.replace(",", " ").split()
            if names:
                from readtrack.feed.categories import checked

                try:
                    names = checked(names)
                except ReadtrackError as err:
                    self.notify(str(err), title="Categories not changed", severity="error")
                    return
            self.categories = names
            self._start(refresh=False)

        question = "arXiv categories to follow here (empty: the categories of the papers you read)"
        self.app.push_screen(
            PromptScreen(question, " ".join(self.categories), placeholder="cs.LG cs.CL"), chosen
        )

    def help_sections(self) -> list[HelpSection]:
        return [(self.HELP_TITLE, binding_help([*FeedList.BINDINGS[:1], *self.BINDINGS]))]

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen([], self.help_sections()))

    def action_back(self) -> None:
        pane = self.query_one("#feed-abstract-pane")
        if pane.has_class("-shown"):
            pane.remove_class("-shown")
            return
        self.cancel.set()
        self.dismiss(self.added)
