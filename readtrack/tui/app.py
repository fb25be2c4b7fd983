"""The TUI application and its main screen: sections, the paper table and the details of one papers.yaml.

The screen holds the layout, the key bindings and thin actions. Widgets only show things; every change goes
through `readtrack.catalog.edits` (the CLI's code), reading goes through `readtrack.catalog.model`,
`readtrack.render.details` and `readtrack.history.runs`. Anything that touches the disk or the network runs in
a worker thread and comes back with `call_from_thread`, so the screen never freezes. Loading, reloading on a
change on disk and applying edits are `readtrack.tui.workers.catalog_watch`; the actions that edit the list
(mark, notes, tags, add, import) `readtrack.tui.screens.list_edits`; syncing `tui.workers.sync_worker`;
running a plugin `readtrack.tui.screens.run_screen`; the header's words `readtrack.tui.widgets.header`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Header, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from readtrack.base.errors import ReadtrackError
from readtrack.base.safe_text import visible
from readtrack.catalog.model import Catalog, Paper
from readtrack.history.coverage import Coverage, coverage
from readtrack.plugins.links import load
from readtrack.tui.screens.dialogs import ChoiceScreen, HelpScreen, binding_help, key_label, screen_help
from readtrack.tui.screens.feed_screen import FeedKey
from readtrack.tui.screens.lineage_screen import HELP as LINEAGE_HELP
from readtrack.tui.screens.lineage_screen import LineageKey
from readtrack.tui.screens.list_edits import ListEditsScreen
from readtrack.tui.widgets import header
from readtrack.tui.widgets.header import HEADER_SIDES, SAMPLE_TITLE, coverage_line, fitted, short_path
from readtrack.tui.widgets.key_bar import KeyBar
from readtrack.tui.widgets.panes import ScrollPane
from readtrack.tui.widgets.paper_table import PaperTable, fit
from readtrack.tui.widgets.rows import IncrementalFilter, section_rows
from readtrack.tui.widgets.section_list import SectionList
from readtrack.tui.widgets.sync_panel import SyncPanel
from readtrack.tui.workers.catalog_watch import CatalogWatcher
from readtrack.tui.workers.shelf_worker import ShelfWorker
from readtrack.tui.workers.sync_worker import SyncWorker

SECTION_LIST_WIDTH = 20  # the section list's text width before the first layout (see app.tcss)
NEXT_TOOLTIP = "What to read next: papers your read ones cite and are cited by, ranked"


class MainScreen(ListEditsScreen, FeedKey, LineageKey):
    """Sections on the left, the selected section's papers (or a filter's) in the middle, details aside."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "space",
            "toggle_read",
            "Read/todo",
            tooltip="Mark the paper read (writes today's date as `read:`), or back to todo",
        ),
        Binding("r", "mark('reading')", "Reading", tooltip="Mark the paper as being read (again: todo)"),
        Binding("minus", "mark('skipped')", "Skip", tooltip="Mark the paper skipped (again: todo)"),
        Binding(
            "slash", "filter", "Filter", tooltip="Filter every section as you type (Enter keeps, Esc clears)"
        ),
        Binding(
            "n", "notes", "Notes", tooltip="Edit the paper's notes (Ctrl+S saves; Esc asks first if changed)"
        ),
        Binding("t", "tags", "Tags", tooltip="Edit the paper's tags"),
        Binding("a", "add", "Add", tooltip="Add a paper to this section: arXiv id, URL or title"),
        Binding("s", "sync", "Sync", tooltip="Sync the paper's arXiv metadata and PDF"),
        Binding("S", "sync_all", "Sync all", show=False, tooltip="Sync the whole list"),
        Binding("o", "open_pdf", "Open PDF", show=False, tooltip="Open the PDF (fetched first when missing)"),
        Binding("enter", "run_plugin", "Run", tooltip="Run the paper's plugin: check, train, bench"),
        Binding("p", "paper_view", "Page", tooltip="The paper view: PDF text, plugin page, code, results"),
        Binding(
            "R",
            "run_shelf('section')",
            "Run section",
            show=False,
            tooltip="Run every plugin of this section (quick) in the background; the badges fill in",
        ),
        Binding(
            "ctrl+r",
            "run_shelf('all')",
            "Run every plugin",
            show=False,
            tooltip="Run every plugin of the list (quick) in the background; Esc cancels",
        ),
        Binding("f", "search", "Search", tooltip="Full-text search: papers, notes, abstracts, PDFs, plugins"),
        Binding("N", "next_papers", "Next", show=False, tooltip=NEXT_TOOLTIP),
        Binding("F", "feed", "New on arXiv", show=False, tooltip="The day's arXiv, ranked by what you read"),
        Binding("L", "lineage", "Lineage", show=False, tooltip=LINEAGE_HELP),
        Binding(
            "escape",
            "escape",
            "Cancel",
            show=False,
            tooltip="Cancel a sync, close the panel under the list (sync, import report), clear the filter",
        ),
        Binding("question_mark", "help", "Help", tooltip="This list of keys"),
        Binding("q", "quit", "Quit"),
    ]
    # The key bar's order: what a narrow terminal (100 columns) must still show comes first (see KeyBar).
    KEY_BAR_FIRST: ClassVar[tuple[str, ...]] = (
        "run_plugin", "paper_view", "search", "toggle_read", "notes", "filter", "sync", "mark('reading')",
        "tags", "add", "mark('skipped')",
    )  # fmt: skip
    # Keys handled by the table and the section list, listed in help next to the ones above.
    MOVE_KEYS: ClassVar[list[tuple[str, str]]] = [
        ("↑ / k, ↓ / j", "Move the cursor (PgUp, PgDn, Home, End too)"),
        ("Tab / Shift+Tab", "Next / previous pane: table → details → section list"),
        ("↑ ↓ j k PgUp PgDn", "In the details (after Tab): scroll them"),
    ]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.catalog: Catalog | None = None
        self.watcher = CatalogWatcher(self, path, self._install)
        self.syncer = SyncWorker(self, lambda: self.query_one(SyncPanel), self._sync_finished)
        self.shelf = ShelfWorker(self, self._shelf_result, lambda: self._load_side_data())
        self.section_index = 0
        self.query_text = ""
        self.search_extra: dict[str, str] = {}
        # Derived once per load: every paper, each section's progress, the filter over them.
        self._papers: list[Paper] = []
        self._progress: list[tuple[int, int]] = []
        self._filter = IncrementalFilter([], {})
        self._sections_width = 0
        self.last_status: dict[str, str] = {}  # plugin -> its newest run's status, any device
        self.newest: dict[str, dict[str, str]] = {}  # plugin -> device kind -> newest status there
        self._coverage: list[Coverage] = []  # per section, then "all" (readtrack.history.coverage)
        self._details_of: Paper | None = None  # the paper the detail pane shows (a reload makes new ones)
        self._header_parts: list[str] = []  # the sub-title's parts, the first the last dropped

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            yield SectionList(id="sections")
            with Vertical(id="papers-pane"):
                yield PaperTable(id="papers")  # the filter box goes above it on the first "/"
                yield SyncPanel(id="sync")
            with ScrollPane(id="details"):
                yield Static(id="detail-body")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#sections").border_title = "Sections"
        self.query_one("#details").border_title = "Details"
        self.query_one(PaperTable).focus()
        self.watcher.start()
        self.call_after_refresh(self._load_side_data)  # after the first paint: it is not needed for it

    # -- loading (the watcher calls _install with each catalog) -----------------------------------------

    def _install(self, catalog: Catalog, keep: str | None = None) -> None:
        """Show ``catalog``; the cursor stays on ``keep`` (default: the paper it is on now)."""
        if keep is None:
            current = self.table.current
            keep = current.paper.id if current else None
        self.catalog = catalog
        self._papers = list(catalog.papers())
        self._progress = [section.progress() for section in catalog.sections]
        self._filter = IncrementalFilter(self._papers, self.search_extra)
        self.section_index = min(self.section_index, max(len(catalog.sections) - 1, 0))
        self._show_sections()
        self._show_rows(keep)
        self._show_progress()

    @work(thread=True, exclusive=True, group="side-data")
    def _load_side_data(self) -> None:
        """Synced text for the filter and each plugin's last run for the badges (off the UI thread)."""
        extra: dict[str, str] = {}
        newest: dict[str, dict[str, str]] = {}
        try:
            from readtrack.catalog import metadata

            catalog = self.catalog or load(self.path)
            for paper_id, record in metadata.for_papers(catalog).items():
                extra[paper_id] = " ".join([*record.authors, record.abstract or ""])
        except Exception as err:  # a broken cache (any error reading it) must not stop the list from working
            self.app.call_from_thread(self.notify, f"synced metadata unavailable: {err}", severity="warning")
        from readtrack.history.coverage import newest_statuses

        newest, problem = newest_statuses()
        if problem:  # same: badges and coverage are a nicety, the list must still open
            self.app.call_from_thread(self.notify, problem, severity="warning")
        marks: dict[str, str] = {}
        try:  # the practice marks: the cached exercise declarations and the attempts file
            from readtrack.practice import practice_marks

            marks = dict(practice_marks())
        except (ReadtrackError, OSError) as err:
            self.app.call_from_thread(self.notify, f"practice marks unavailable: {err}", severity="warning")
        self.app.call_from_thread(self._install_side_data, extra, newest, marks)

    def _install_side_data(
        self, extra: dict[str, str], newest: dict[str, dict[str, str]], marks: dict[str, str] | None = None
    ) -> None:
        from readtrack.history.runs import newest_status

        if marks is not None:
            self.table.set_practice(marks)
        self.search_extra = extra
        self._filter = IncrementalFilter(self._papers, extra)
        self.newest = newest
        self.last_status = newest_status(newest)
        self.table.set_last_status(self.last_status)
        if self.catalog is not None:  # not while the file is invalid
            self._show_rows()
            self._show_progress()

    # -- showing ---------------------------------------------------------------------------------------

    def _show_sections(self) -> None:
        assert self.catalog is not None
        sections = self.query_one("#sections", OptionList)
        # One line per section, the name cut to fit and the progress right-aligned ("Vision  2/12").
        width = sections.scrollable_content_region.width or SECTION_LIST_WIDTH
        self._sections_width = width
        options = []
        for section, (done, total) in zip(self.catalog.sections, self._progress, strict=True):
            count = f" {done}/{total}"
            prompt = Text(fit(visible(section.name), max(width - len(count), 4)))
            prompt.append(count, style="dim")
            options.append(Option(prompt))
        sections.clear_options()
        sections.add_options(options)
        if options:
            sections.highlighted = self.section_index

    def _show_rows(self, keep: str | None = None) -> None:
        if self.catalog is None:
            return
        table = self.table
        if keep is None and table.current is not None:
            keep = table.current.paper.id
        pane = self.query_one("#papers-pane")
        if self.query_text:
            rows = self._filter.rows(self.query_text)
            table.set_rows(rows, keep=keep, empty_message=f"Nothing matches {self.query_text!r} (Esc clears)")
            pane.border_title = f"Filter: {len(rows)} of {len(self._papers)} papers"
            pane.border_subtitle = ""
        elif self.catalog.sections:
            section = self.catalog.sections[self.section_index]
            table.set_rows(
                section_rows(section), keep=keep, empty_message="No papers in this section: a adds one"
            )
            done, total = self._progress[self.section_index]
            pane.border_title = Text(f"{visible(section.name)} {done}/{total}")  # not read as markup
            pane.border_subtitle = self._coverage_text(self.section_index)
        else:
            table.set_rows([], empty_message="No sections yet: a adds a paper")
            pane.border_title = "Papers"

    def _show_progress(self) -> None:
        assert self.catalog is not None
        done = sum(d for d, _ in self._progress)
        total = sum(t for _, t in self._progress)
        self._coverage = coverage(self.catalog, self.newest)
        passing = header.plugins_passing(self.catalog, self.newest)  # plugins, not papers or runs
        self._header_parts = [f"{done}/{total} read", passing, short_path(self.path)]
        self._show_header()
        if self.catalog.sections and not self.query_text:
            self.query_one("#papers-pane").border_subtitle = self._coverage_text(self.section_index)

    def _show_header(self) -> None:
        """Title and sub-title, whole at the terminal's width: the sample list says so (and how to start
        one's own) in the title; the sub-title's parts (progress, plugin coverage, the file) drop from the
        end where the header has no room for them, never cut mid-word."""
        sample = self.catalog is not None and self.catalog.sample
        self.title = f"readtrack · {SAMPLE_TITLE}" if sample else "readtrack"
        room = (self.size.width or self.app.size.width) - HEADER_SIDES - len(self.title) - len(" — ")
        self.sub_title = fitted(self._header_parts, room)

    def _coverage_text(self, index: int) -> str:
        """``▶ 2 with a plugin · 1 run · ✓ 1 cpu``: the section's plugin coverage, empty when none."""
        if index >= len(self._coverage) - 1 or not self._coverage[index].with_plugin:
            return ""
        return coverage_line(self._coverage[index])

    @on(PaperTable.Highlighted)
    def _show_details(self, event: PaperTable.Highlighted) -> None:
        paper = event.row.paper if event.row else None
        if paper is self._details_of:
            return  # the same paper (a filter keystroke that kept it): the pane is already right
        self._details_of = paper
        if paper is None:
            self.query_one("#detail-body", Static).update(Text("No paper selected", style="dim"))
            return
        self._fetch_details(paper)

    @work(thread=True, exclusive=True, group="details")
    def _fetch_details(self, paper: Paper) -> None:
        """Read and build the pane's content off the UI thread (long notes are cut there, see detail_view)."""
        from readtrack.tui.widgets.detail_view import detail_renderable, paper_and_runs

        shown = detail_renderable(*paper_and_runs(paper))

        def show() -> None:  # the pane looked up on the UI thread: a reload may have rebuilt it meanwhile
            for pane in self.query("#detail-body").results(Static):
                pane.update(shown)

        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(show)

    @on(OptionList.OptionHighlighted, "#sections")
    def _section_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index == self.section_index and self.table.rows:
            return
        self.section_index = event.option_index
        if not self.query_text:
            self._show_rows(keep="")
            self.table.cursor = 0

    def on_resize(self) -> None:
        # The section list's width follows the breakpoints: cut the names again once laid out; and on coming
        # back, as a resize while another screen was on top (the feed, a page) was not heard here.
        if self.catalog is not None:
            self.call_after_refresh(self._resize_sections)
            self._show_header()

    on_screen_resume = on_resize

    def _resize_sections(self) -> None:
        if self.query_one("#sections").scrollable_content_region.width != self._sections_width:
            self._show_sections()

    @on(OptionList.OptionSelected, "#sections")
    def _section_selected(self) -> None:
        self.table.focus()

    # -- filter --------------------------------------------------------------------------------------

    async def action_filter(self) -> None:
        filter_input = self._filter_box()
        if filter_input is None:  # mounted when first asked for: the first paint does without it
            words = "title, label, tags, notes, authors, abstract"
            filter_input = Input(placeholder=f"filter: words in {words}", id="filter")
            await self.query_one("#papers-pane").mount(filter_input, before=self.table)
        filter_input.add_class("-shown")
        self.set_focus(filter_input)
        self._filter.prepare()

    def _filter_box(self) -> Input | None:
        return next(iter(self.query("#filter").results(Input)), None)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self._show_rows()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.table.focus()
        if not self.query_text:
            self.query_one("#filter").remove_class("-shown")

    def action_escape(self) -> None:
        """Esc stops what is going on, innermost first: a running sync, the sync panel, the filter."""
        panel = self.query_one(SyncPanel)
        if self.syncer.running:
            self.syncer.cancel()
        elif self.shelf.running:
            self.shelf.cancel()
        elif panel.has_class("-shown"):
            panel.remove_class("-shown")
        else:
            self.action_clear_filter()

    def action_clear_filter(self) -> None:
        """Esc: the filter goes; the cursor stays on its paper, in that paper's section."""
        filter_input = self._filter_box()
        if filter_input is None or not filter_input.has_class("-shown"):
            return
        current = self.table.current
        filter_input.value = ""
        filter_input.remove_class("-shown")
        self.query_text = ""
        names = [section.name for section in self.catalog.sections] if self.catalog else []
        if current is not None and current.paper.section in names:  # a match may be in any section
            self.section_index = names.index(current.paper.section)  # first: the highlight finds it shown
            self.query_one("#sections", OptionList).highlighted = self.section_index
        self._show_rows(current.paper.id if current else None)
        self.table.focus()

    # -- plugins, sync, PDF ---------------------------------------------------------------------------

    def _with_plugin(self, what: str, then: Callable[[Paper, str], None]) -> None:
        """Call ``then(paper, plugin)`` for the selected paper's plugin, asking which when it has several."""
        paper = self._selected()
        if paper is None:
            return
        if not paper.plugins:
            self.notify(f"{paper.id} has no plugin to {what}", severity="warning")
        elif len(paper.plugins) == 1:
            then(paper, paper.plugins[0])
        else:

            def chosen(plugin: str | None) -> None:
                if plugin is not None:
                    then(paper, plugin)

            question = f"{paper.id} has {len(paper.plugins)} plugins: which one to {what}?"
            self.app.push_screen(ChoiceScreen(question, paper.plugins), chosen)

    def action_run_plugin(self) -> None:
        self._with_plugin("run", self._run_plugin)

    def _run_plugin(self, paper: Paper, plugin: str) -> None:
        from readtrack.tui.screens.run_screen import RunScreen

        def back(_: None) -> None:  # the run may have added to the history: new badge, new recent runs
            self._load_side_data()
            self._refresh_details()

        self.app.push_screen(RunScreen(plugin, paper), back)

    def action_search(self) -> None:
        from readtrack.tui.screens.search_screen import SearchScreen

        if self.catalog is not None:
            self.app.push_screen(SearchScreen(self.catalog, self.query_text))

    def action_next_papers(self) -> None:
        from readtrack.tui.screens.next_screen import NextScreen  # Semantic Scholar's client only on N

        self.app.push_screen(NextScreen())

    def action_paper_view(self) -> None:
        """The paper view of any paper: without a plugin it still has the paper's PDF text and abstract."""
        paper = self._selected()
        if paper is not None and not paper.plugins:
            self._paper_view(paper, None)
        elif paper is not None:
            self._with_plugin("read", self._paper_view)

    def _paper_view(self, paper: Paper, plugin: str | None) -> None:
        from readtrack.tui.screens.paper_view import PaperView

        def back(_: None) -> None:  # a run from the view may have added to the history
            self._load_side_data()

        self.app.push_screen(PaperView(paper, plugin), back)

    def action_run_shelf(self, scope: str) -> None:
        """Run every plugin of the section (``scope == 'section'``) or of the list, quick, in background."""
        if self.catalog is not None:
            section = self.catalog.sections[self.section_index] if scope == "section" else None
            self.shelf.run(self.catalog, section)

    def _shelf_result(self, plugin: str, status: str) -> None:
        self.last_status[plugin] = status
        self.table.set_last_status(self.last_status)
        self._show_rows()

    def action_sync(self) -> None:
        paper = self._selected()
        if paper is not None:
            self._start_sync([paper.id], paper.id)

    def action_sync_all(self) -> None:
        self._start_sync([], "the whole list")

    def _start_sync(self, paper_ids: list[str], what: str) -> None:
        if self.catalog is not None and not self.syncer.start(self.catalog, paper_ids, what):
            self.notify("A sync is already running (Esc cancels it)", severity="warning")

    def _sync_finished(self) -> None:
        self._load_side_data()
        self._refresh_details()

    def _refresh_details(self) -> None:
        row = self.table.current
        if row is not None:
            self._fetch_details(row.paper)

    def action_open_pdf(self) -> None:
        paper = self._selected()
        if paper is None or self.catalog is None:
            return
        self.notify(f"Opening {paper.id} (fetching the PDF first when it is missing)…")
        self._open_pdf(self.catalog, paper.id)

    @work(thread=True, group="open")
    def _open_pdf(self, catalog: Catalog, paper_id: str) -> None:
        from readtrack.arxiv.viewer import open_paper

        try:
            opened = open_paper(catalog, paper_id)
        except ReadtrackError as err:
            self.app.call_from_thread(self.notify, str(err), title="Cannot open", severity="error")
            return
        self.app.call_from_thread(self.notify, f"Opened {opened}")
        self.app.call_from_thread(self._refresh_details)

    # -- help ------------------------------------------------------------------------------------------

    def key_help(self) -> Iterator[tuple[str, str]]:
        """(keys, what they do) for the help screen, from the bindings themselves."""
        yield from binding_help(self.BINDINGS)
        yield from self.MOVE_KEYS

    def action_help(self) -> None:
        """The list's keys, then the paper view's (its tabs) and its Practice tab's."""
        from readtrack.tui.screens.paper_view import help_sections

        hint = "All of these are also in the command palette (Ctrl+P). Esc closes."
        self.app.push_screen(HelpScreen(self.key_help(), help_sections(), hint=hint))

    def action_quit(self) -> None:
        self.app.exit()


class ReadtrackApp(App[None]):
    """`readtrack` with no command."""

    CSS_PATH = "app.tcss"
    TITLE = "readtrack"
    # `?` on a screen that does not bind it (the search, the dialogs): that screen's keys. A focused text
    # field takes the `?` as a letter first, so it is help only where nothing is being typed.
    BINDINGS: ClassVar[list[BindingType]] = [Binding("question_mark", "keys_help", "Help", show=False)]
    # Under 120 columns the details go under the table; from 120 they get a column (see app.tcss).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # noqa: RUF012 - textual reads it as declared

    def __init__(self, catalog: Path | None = None) -> None:
        super().__init__()
        if catalog is None:
            from readtrack.base.paths import catalog_path

            catalog = catalog_path()
        self.catalog_path = catalog
        self.crash: Exception | None = None  # the first exception no code caught: it ended the app

    async def action_quit(self) -> None:
        """Ctrl+Q: with changed notes in the editor, it asks first, as Esc does (save and quit, quit
        without them, keep editing); a question already open stays. Otherwise quit."""
        from readtrack.tui.screens.dialogs import NotesScreen

        editor = next((s for s in reversed(self.screen_stack) if isinstance(s, NotesScreen)), None)
        if editor is None or not editor.changed():
            self.exit()
        elif editor is self.screen:
            editor.action_leave(quit_after=True)

    def _handle_exception(self, error: Exception) -> None:
        # Textual's hook for an exception no handler caught: it ends the app with return code 1 and draws
        # the traceback. Keep the error, for `run_tui` to say in one line why readtrack stopped.
        if self.crash is None:
            self.crash = error
        super()._handle_exception(error)

    def get_default_screen(self) -> Screen[Any]:
        return MainScreen(self.catalog_path)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification (screens' too) as plain text: a message quoting a title, a URL or an error
        has its control characters written out, and a ``[`` in it is not read as markup."""
        del markup
        message, title = visible(message, multiline=True), visible(title)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def action_keys_help(self) -> None:
        """The focused screen's keys, from its bindings (`screen_help`)."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen([], screen_help(self.screen), title="Keys of this screen"))

    def action_help_quit(self) -> None:
        """Ctrl+C: how to quit, in plain words. Textual's own message is markup (``Press [b]q[/b] ...``),
        which `notify` here shows as written, so it read as a literal ``[b]q[/b]``."""
        self.notify("Press q on the list, or Ctrl+Q anywhere, to quit", title="Do you want to quit?")

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, MainScreen):
            for binding in screen.BINDINGS:
                assert isinstance(binding, Binding)
                action = binding.action
                yield SystemCommand(
                    binding.description,
                    f"{binding.tooltip or binding.description} ({key_label(binding.key)})",
                    lambda action=action, screen=screen: screen.run_action(action),
                )
            yield SystemCommand(
                "Import library…",
                "Import a BibTeX, CSL-JSON or markdown file, or a Zotero data directory",
                lambda screen=screen: screen.run_action("import_library"),
            )
