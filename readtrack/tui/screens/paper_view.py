"""The paper view: a plugin's page, its code and its recorded results side by side, to read a paper.

Three tabs. *Page*: the paper's title, arXiv id and synced abstract over the plugin's docstring rendered as
Markdown. *Code*: ``model.py``, ``experiment.py`` and the plugin's other files, highlighted, with a search
(``/``, then Enter or ``n`` for the next match) to find what the page's equation numbers point at. *Results*:
the newest run per device with its check, target and bench tables, and the recent runs with the trend of
the main number. *Paper*: the cached PDF's text page by page, headings in bold, the search term the view
was opened with (from the search screen) highlighted, ``n``/``N`` through its hits. *Practice*: the plugin's
exercise to implement yourself, checked and trained with your code (`readtrack.tui.widgets.practice_pane`).
*Related*: the paper's references and citations on Semantic Scholar, those of your list with their status
(`readtrack.tui.widgets.related_pane`); fetched when the tab is first shown, never when the view opens.
Enter runs the plugin. While that exercise is unsolved, the Code tab keeps ``model.py`` (the model solution)
hidden behind a warning until ``v``.
A paper without a plugin opens on its Paper tab, with its title and abstract on the Page tab; the key bar
offers only what does something for the paper (no Code, Results or Run without a plugin, no Practice
without an exercise). Everything is read as text and from the history database in a worker thread
(`readtrack.plugins.pages`): opening the view never imports torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Input, Markdown, Static, TabbedContent, TabPane

from readtrack.base.errors import ReadtrackError, one_line
from readtrack.base.safe_text import visible
from readtrack.catalog.model import Paper
from readtrack.history.spread import GroupRecord
from readtrack.tui.screens.dialogs import ChoiceScreen, HelpScreen, binding_help
from readtrack.tui.widgets.key_bar import KeyBar
from readtrack.tui.widgets.pdf_pane import PdfPane
from readtrack.tui.widgets.practice_pane import PracticePane
from readtrack.tui.widgets.related_pane import ROW_KEYS, RelatedList, RelatedPane

if TYPE_CHECKING:
    from readtrack.practice import PracticePlugin, Status

TABS = ("page", "code", "results", "pdf", "practice", "related")
PLUGIN_TABS = ("code", "results", "practice")  # what a paper without a plugin has nothing to show in
SOLVED: tuple[Status, ...] = ("checks pass", "claim reproduced")  # the learner's code passes the check


class PaperView(Screen[None]):
    """One paper's plugin to read: page, code, results."""

    DEFAULT_CSS = """
    PaperView #page-head { padding: 0 1; }
    PaperView #page-body { padding: 0 1; }
    PaperView #code-search { display: none; height: 1; border: none; padding: 0 1; background: $boost; }
    PaperView #code-search.-shown { display: block; }
    PaperView .code-file { margin-bottom: 1; }
    PaperView #results-body { padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "tab('page')", "Page", tooltip="Page tab: the paper's abstract, and its plugin's page"),
        Binding(
            "2",
            "tab('code')",
            "Code",
            tooltip="Code tab: the implementation, highlighted (not a hidden solution)",
        ),
        Binding(
            "3", "tab('results')", "Results", tooltip="Results tab: the newest run per device, the history"
        ),
        Binding(
            "4",
            "tab('pdf')",
            "Paper",
            tooltip="Paper tab: the PDF's text page by page, the search term highlighted",
        ),
        Binding(
            "5",
            "tab('practice')",
            "Practice",
            tooltip="Practice tab: implement the plugin's exercise yourself",
        ),
        Binding(
            "6",
            "tab('related')",
            "Related",
            tooltip="Related tab: the paper's references and citations (Semantic Scholar), yours marked",
        ),
        Binding("slash", "search", "Search code", tooltip="Find text in the code (Enter: next match)"),
        Binding("n", "next_match", "Next match", show=False, tooltip="Next match of the code or PDF search"),
        Binding("N", "previous_match", "Previous match", show=False, tooltip="Previous match"),
        Binding("enter", "run", "Run", tooltip="Run the plugin: check, train, bench"),
        Binding(
            "v",
            "show_solution",
            "Show solution",
            tooltip="Show model.py, the model solution of the practice exercise you have not solved yet",
        ),
        Binding("L", "lineage", "Lineage", show=False, tooltip="The lineage this paper belongs to, in time"),
        Binding("question_mark", "help", "Help", tooltip="These keys"),
        Binding("escape", "back", "Back", tooltip="Close the code search, else back to where you were"),
    ]

    def __init__(
        self, paper: Paper, plugin: str | None, query: str | None = None, at: tuple[str, int] | None = None
    ) -> None:
        """``query``: a search term to highlight in the Paper tab (which the view opens on); ``at``: a file of
        the plugin and a line (a search hit in its code) to open the Code tab at instead."""
        super().__init__()
        self.paper, self.plugin, self.search_term = paper, plugin, query
        self.at = at  # shown once, when the code is first loaded
        self.sources: list[tuple[str, str]] = []  # (file name, text)
        self.matches: list[tuple[int, int]] = []  # (file index, line number from 1)
        self.match_index = -1
        self.code_files: list[Static] = []  # the Code tab's widgets, one per file of `sources`
        self.exercise: PracticePlugin | None = None  # the plugin's practice exercises (once loaded)
        self.practice_status: Status = "not started"  # the learner's status on them (readtrack.practice)
        self.solution_shown = False  # v: model.py shown though the exercise is unsolved
        self.practice_tab = False  # the Practice tab was added (the exercises read)

    def compose(self) -> ComposeResult:
        yield Header()
        initial = "pdf" if self.search_term or self.plugin is None else "page"
        initial = "code" if self.at and self.plugin else initial
        # Only the tabs the paper has: no Code or Results without a plugin, and Practice is added once the
        # plugin's exercises are read (`_show`). Never hidden and shown: Textual's Tabs.hide/show queue an
        # underline move that a view closed meanwhile leaves to run on its removed tabs (NoMatches).
        with TabbedContent(initial=initial, id="paper-tabs"):
            with TabPane("Page", id="page"), VerticalScroll(id="page-scroll"):
                yield Static(Text("Loading…", style="dim"), id="page-head")
                yield Markdown(id="page-body")
            if self.plugin is not None:
                with TabPane("Code", id="code"):
                    yield Input(placeholder="search the code: Enter finds the next match", id="code-search")
                    yield VerticalScroll(id="code-scroll")
                with TabPane("Results", id="results"), VerticalScroll(id="results-scroll"):
                    yield Static(id="results-body")
            with TabPane("Paper", id="pdf"):
                yield PdfPane(id="pdf-scroll")
            with TabPane("Related", id="related"):
                yield RelatedPane(self.paper.id, id="related-pane")
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = visible(f"{self.plugin or self.paper.id} · {self.paper.display_title}")
        self._load()
        self._load_pdf()
        self.call_after_refresh(self._focus_tab)

    #: the widget of each tab that scrolls (and so takes Page Down and the arrows)
    SCROLLERS: ClassVar[dict[str, str]] = {
        "page": "#page-scroll",
        "code": "#code-scroll",
        "results": "#results-scroll",
        "pdf": "#pdf-scroll",
        "practice": "#practice-pane",
        "related": "#related-list",
    }

    def _focus_tab(self) -> None:
        """Focus what scrolls in the open tab: the reader's keys move its text at once (the tab bar, which
        has the focus otherwise, ignores Page Down and the arrows up and down)."""
        scroller = self.SCROLLERS.get(self.query_one(TabbedContent).active)
        if scroller is not None:
            self.query_one(scroller).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only what does something for this paper is a key (and in the key bar): no Code, Results, code
        search or Run without a plugin, no Practice without an exercise, v only over a hidden solution."""
        if action == "tab" and parameters and parameters[0] == "practice":
            return self.exercise is not None
        if action in ("search", "run") or (action == "tab" and parameters and parameters[0] in PLUGIN_TABS):
            return self.plugin is not None
        if action == "show_solution":
            return self.solution_hidden and self.query_one(TabbedContent).active == "code"
        return True

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.refresh_bindings()  # v is a key on the Code tab only

    @on(TabbedContent.TabActivated, pane="#related")
    def _related_shown(self) -> None:
        self.query_one(RelatedPane).load()  # the first showing asks Semantic Scholar; no request before

    @on(RelatedList.Open)
    def _open_related(self, event: RelatedList.Open) -> None:
        open_paper(self.app, event.paper)

    @work(thread=True, exclusive=True, group="paper-view")
    def _load(self) -> None:
        from readtrack.plugins.pages import read_page

        if self.plugin is None:
            abstract = _abstract(self.paper)
            message = f"{self.paper.id} has no plugin: its Paper tab (4) shows the PDF's text"
            self.app.call_from_thread(self._show_head, abstract, message)
            return
        try:
            page = read_page(self.plugin)
        except ReadtrackError as err:
            self.app.call_from_thread(self._show_error, str(err))
            return
        abstract, runs, runs_error = _abstract_and_runs(self.paper, self.plugin)
        exercise, status = _practice_of(self.plugin)
        self.app.call_from_thread(self._show, page, abstract, runs, runs_error, exercise, status)

    def _show_error(self, message: str) -> None:
        if not self._gone:
            self.query_one("#page-head", Static).update(Text(message, style="red"))

    def _show(
        self,
        page: Any,
        abstract: str | None,
        runs: list[Any],
        runs_error: str | None,
        exercise: PracticePlugin | None = None,
        status: Status = "not started",
    ) -> None:
        if self._gone:
            return  # closed while the worker read: nothing to show
        if exercise is not None and self.plugin is not None and not self.practice_tab:
            self.practice_tab = True  # now: a second load may come before the pane is mounted
            pane = TabPane("Practice", PracticePane(self.plugin, id="practice-pane"), id="practice")
            self.query_one(TabbedContent).add_pane(pane, before="related")  # the first load: the tab appears
        self.exercise, self.practice_status = exercise, status
        self.refresh_bindings()
        self._show_head(abstract)
        self.query_one("#page-body", Markdown).update(visible(page.markdown(), multiline=True))
        self.sources = [(f.name, f.text) for f in page.files]
        self._show_code()
        self.query_one("#results-body", Static).update(_results(runs, runs_error))
        if self.at is not None:  # once: a reload after a run keeps the reader where they are
            name, line = self.at
            self.at = None
            index = next((i for i, (file, _) in enumerate(self.sources) if file == name), None)
            if index is not None and self._hidden(index):
                self.sub_title = f"{name}:{line} is in the model solution, hidden: v shows it"
            elif index is not None:
                self._show_line_once_laid_out(index, line)

    @property
    def _gone(self) -> bool:
        """The view is closed or being closed (Escape, or the app quitting, which may remove its children
        first): a worker's answer arriving now has nothing to land in."""
        return not self.is_attached or self not in self.app.screen_stack or not self.query("#page-head")

    def _show_head(self, abstract: str | None, note: str = "") -> None:
        """The paper's title, arXiv id, code links and synced abstract over the page (``note`` under them)."""
        if self._gone:
            return
        head = Text()
        head.append(visible(self.paper.display_title), style="bold")
        if self.paper.arxiv:
            head.append(f"   arXiv {self.paper.arxiv}", style="cyan")
        for link in self.paper.code:  # the paper's own code, beside the plugin's
            head.append(f"\ncode {visible(link)}", style="dim")
        head.append("\n")
        shown = visible(abstract, multiline=True) if abstract else None  # a server's text, written out
        head.append(shown or "(abstract not synced: `s` on the paper, or `readtrack sync`)", style="dim")
        if note:
            head.append(f"\n\n{note}", style="yellow")
        self.query_one("#page-head", Static).update(head)

    @property
    def solution_hidden(self) -> bool:
        """model.py is kept out of sight: the plugin's exercise is unsolved and v was not pressed."""
        return self.exercise is not None and self.practice_status not in SOLVED and not self.solution_shown

    def _hidden(self, index: int) -> bool:
        """Whether source file ``index`` is the model solution, hidden."""
        solution = self.exercise.model_file.name if self.exercise is not None else None
        return self.solution_hidden and self.sources[index][0] == solution

    def _show_code(self) -> None:
        """One Static per source file, updated in place: the view loads again each time a run screen on top
        of it closes, and widgets being removed still hold their place until the removal is awaited."""
        for index, widget in enumerate(self.code_files[: len(self.sources)]):
            widget.update(self._code(index))
        for widget in self.code_files[len(self.sources) :]:
            widget.remove()
        added = [
            Static(self._code(i), classes="code-file") for i in range(len(self.code_files), len(self.sources))
        ]
        self.code_files = self.code_files[: len(self.sources)] + added
        self.query_one("#code-scroll", VerticalScroll).mount_all(added)
        self.matches = self._find(self.query_one("#code-search", Input).value)  # the lines may have moved
        self.match_index = -1

    def _code(self, index: int, highlight: int | None = None) -> RenderableType:
        name, text = self.sources[index]
        if self._hidden(index) and self.exercise is not None:
            targets = ", ".join(self.exercise.targets)
            warning = Text(f"Hidden: {name} is the model solution of the practice exercise ", style="yellow")
            warning.append(f"({targets}), which you have not solved yet (status: {self.practice_status}). ")
            warning.append("v shows it anyway; 5 opens the exercise.", style="bold")
            return Group(Rule(name, align="left", style="dim"), warning)
        lines = {highlight} if highlight else None
        syntax = Syntax(text, "python", line_numbers=True, highlight_lines=lines)
        return Group(Rule(name, align="left", style="dim"), syntax)

    # -- actions -----------------------------------------------------------------------------------------

    def action_tab(self, tab: str) -> None:
        if not self.check_action("tab", (tab,)) or not self.query(f"TabPane#{tab}"):
            return  # not this paper's, or Practice read but its pane not yet mounted
        self.query_one(TabbedContent).active = tab
        self._focus_tab()  # the Practice tab's keys (h, e, c, t) are its pane's

    def action_search(self) -> None:
        self.action_tab("code")
        search = self.query_one("#code-search", Input)
        search.add_class("-shown")
        search.focus()

    @on(Input.Submitted, "#code-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self.matches = self._find(event.value)
        self.match_index = -1
        hidden = len(self._find(event.value, hidden=True)) - len(self.matches)
        if hidden and not self.matches:
            self.notify(f"{hidden} match(es) in the model solution, hidden: v shows it", severity="warning")
            return
        self.action_next_match()

    def _find(self, text: str, hidden: bool = False) -> list[tuple[int, int]]:
        """(file index, line number) of each line of the code holding ``text``, case aside; a hidden model
        solution's lines only with ``hidden``."""
        needle = text.strip().lower()
        return [
            (i, number)
            for i, (_, source) in enumerate(self.sources)
            if hidden or not self._hidden(i)
            for number, line in enumerate(source.splitlines(), start=1)
            if needle and needle in line.lower()
        ]

    def action_show_solution(self) -> None:
        self.solution_shown = True
        self._show_code()
        self.refresh_bindings()

    @on(PracticePane.Graded)
    def _graded(self) -> None:
        self._load()  # solved now? then model.py is no longer hidden

    @work(thread=True, exclusive=True, group="paper-view-pdf")
    def _load_pdf(self) -> None:
        from readtrack.arxiv.pdftext import extract
        from readtrack.catalog.pdfcache import paper_pdf_path

        path = paper_pdf_path(self.paper)
        if path is None:
            message = Text(f"No PDF of {self.paper.id} yet. ", style="dim")
            message.append("Fetch it: o (open, fetching it first) or s (sync) on the paper in the list, ")
            message.append(f"or `readtrack sync {self.paper.id}`.")
            self.app.call_from_thread(self._show_pdf_message, message)
            return
        text = extract(path)
        if text.problem:
            message = Text(f"The PDF {path.name} has no text: {text.problem}", style="yellow")
            self.app.call_from_thread(self._show_pdf_message, message)
            return
        self.app.call_from_thread(self._show_pdf, text.pages)

    def _pdf_pane(self) -> PdfPane | None:
        """The Paper tab's pane, or None once the view is closing: the worker's answers land on the app's
        thread after it (Escape while the PDF was read), with nothing left to show them in."""
        return next(iter(self.query(PdfPane)), None)

    def _show_pdf_message(self, message: Text) -> None:
        if pane := self._pdf_pane():
            pane.show_message(message)

    def _show_pdf(self, pages: list[str]) -> None:
        pane = self._pdf_pane()
        if pane is None:
            return
        pane.show_pages(pages, self.search_term)
        if pane.hits and self.query_one(TabbedContent).active == "pdf":
            self.call_after_refresh(self._step_pdf, True)

    def _step_pdf(self, forward: bool) -> None:
        pane = self._pdf_pane()
        if pane is None:
            return
        where = pane.step(forward)
        if where is None:
            self.notify("No hit of the search term in the PDF", severity="warning")
        else:
            self.sub_title = where

    def action_previous_match(self) -> None:
        if self.query_one(TabbedContent).active == "pdf":
            self._step_pdf(False)

    def action_next_match(self) -> None:
        if self.query_one(TabbedContent).active == "pdf":
            self._step_pdf(True)
            return
        if not self.matches:
            if any(search.value for search in self.query("#code-search").results(Input)):  # none: no plugin
                self.notify("No match in the code", severity="warning")
            return
        previous = self.matches[self.match_index] if self.match_index >= 0 else None
        self.match_index = (self.match_index + 1) % len(self.matches)
        index, line = self.matches[self.match_index]
        if previous is not None and previous[0] != index:
            self.code_files[previous[0]].update(self._code(previous[0]))
        where = self._show_line(index, line)
        self.sub_title = f"match {self.match_index + 1} of {len(self.matches)}: {where}"

    def _show_line_once_laid_out(self, index: int, line: int, tries: int = 40) -> None:
        """`_show_line` once the file's widget, just mounted, has its height: scrolling before the layout
        stops at the top (the container is not yet tall enough). Gives up waiting after 2 s."""
        if self.code_files[index].size.height > line or tries <= 0:
            self._show_line(index, line)
        else:
            self.set_timer(0.05, lambda: self._show_line_once_laid_out(index, line, tries - 1))

    def _show_line(self, index: int, line: int) -> str:
        """Highlight ``line`` of source file ``index`` and scroll it into the upper third of the Code tab;
        returns ``model.py:42`` (also the sub-title until a search says otherwise)."""
        widget = self.code_files[index]
        widget.update(self._code(index, highlight=line))
        scroll = self.query_one("#code-scroll", VerticalScroll)
        top = widget.virtual_region.y + line  # the rule takes the first row
        scroll.scroll_to(y=max(top - scroll.size.height // 3, 0), animate=False)
        self.sub_title = where = f"{self.sources[index][0]}:{line}"
        return where

    def action_run(self) -> None:
        from readtrack.tui.screens.run_screen import RunScreen

        if self.plugin is None:
            self.notify(f"{self.paper.id} has no plugin to run", severity="warning")
            return
        plugin = self.plugin

        def back(_: None) -> None:  # the run added to the history
            self._load()

        self.app.push_screen(RunScreen(plugin, self.paper), back)

    def action_lineage(self) -> None:
        from readtrack.base.paths import catalog_path
        from readtrack.tui.screens.lineage_screen import LineageScreen

        path = getattr(self.app, "catalog_path", None) or catalog_path()
        plugins = (self.plugin,) if self.plugin else tuple(self.paper.plugins)
        self.app.push_screen(LineageScreen(path, self.paper.id, plugins, self.paper.section))

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen([], help_sections()))

    def action_back(self) -> None:
        for search in self.query("#code-search").results(Input):  # none without a plugin
            if search.has_focus or search.has_class("-shown"):
                search.remove_class("-shown")
                self.query_one("#code-scroll").focus()
                return
        self.dismiss()


def help_sections() -> list[tuple[str, list[tuple[str, str]]]]:
    """The paper view's keys and its Practice tab's, titled, for the help screen."""
    return [
        ("The paper view (p, or Enter on a search hit): tabs and keys", binding_help(PaperView.BINDINGS)),
        ("Its Practice tab (5): the paper's exercise, done yourself", binding_help(PracticePane.BINDINGS)),
        (
            "Its Related tab (6): references and citations from Semantic Scholar",
            binding_help([*ROW_KEYS, *RelatedPane.BINDINGS]),
        ),
    ]


def open_paper(app: App[Any], paper: Paper) -> None:
    """The view of a paper of the list, of its plugin; with several, asking which (as ``p`` on the list)."""
    if len(paper.plugins) < 2:
        app.push_screen(PaperView(paper, paper.plugins[0] if paper.plugins else None))
        return

    def chosen(plugin: str | None) -> None:
        if plugin is not None:
            app.push_screen(PaperView(paper, plugin))

    question = f"{paper.id} has {len(paper.plugins)} plugins: which one to read?"
    app.push_screen(ChoiceScreen(question, paper.plugins), chosen)


def _abstract(paper: Paper) -> str | None:
    """The synced abstract, None when not synced."""
    try:
        from readtrack.render.details import synced_details

        return synced_details(paper).get("abstract")
    except Exception:  # the abstract is a nicety: the page must open without it
        return None


def _practice_of(plugin: str) -> tuple[PracticePlugin | None, Status]:
    """The plugin's practice exercises (None without any) and the learner's status on them."""
    from readtrack import practice

    try:
        return practice.practice_plugin(plugin), practice.practice_marks().get(plugin, "not started")
    except (ReadtrackError, OSError):
        return None, "not started"


def _abstract_and_runs(paper: Paper, plugin: str) -> tuple[str | None, list[Any], str | None]:
    """The synced abstract (None when not synced) and the plugin's recent runs, or why they are missing."""
    abstract = _abstract(paper)
    try:
        from readtrack.history.runs import entries

        return abstract, entries(plugin, limit=20), None
    except Exception as err:
        return abstract, [], one_line(err)


def _results(runs: list[Any], runs_error: str | None) -> RenderableType:
    """The newest multi-seed run and the newest run per device, newest first, each headed by its setting
    first (``norm=none · seeds 0-1: passed …``) with what it says of the claim, then their tables; then the
    recent runs and their trend."""
    from readtrack.plugins.pages import latest_per_device
    from readtrack.tui.widgets.run_results import (
        claim_text,
        history_renderable,
        record_renderables,
        setting_text,
    )

    if runs_error:
        return Text(f"run history unavailable: {runs_error}", style="red")
    if not runs:
        return Text("No recorded runs yet: Enter runs the plugin (check, train, bench).", style="dim")
    shown: list[tuple[str, list[RenderableType]]] = []  # (when it started, its heading and tables)
    group = next((e for e in runs if isinstance(e, GroupRecord) and e.runs), None)
    if group is not None:  # the newest multi-seed run: per seed and the spread over seeds
        from readtrack.base.words import seeds_label
        from readtrack.render.batches import group_renderables

        title = setting_text(group.info.settings)
        title.append(f" · seeds {seeds_label(group.seeds)}: ", style="bold")
        title.append(group.status, style="bold green" if group.status == "passed" else "bold red")
        quick = " quick" if group.info.quick else ""
        title.append(
            f"  {group.started_at.replace('T', ' ')[:16]} UTC · {group.info.device}{quick}", style="dim"
        )
        heading = [Rule(style="dim"), *_headed(title, claim_text(group.runs))]
        shown.append((group.started_at, [*heading, *group_renderables(group, width=100)]))
    alone = [r for e in runs for r in (e.runs if isinstance(e, GroupRecord) else [e])]
    for kind, record in latest_per_device(alone).items():
        title = setting_text(record.info.settings)
        title.append(f" · {kind}: ", style="bold")
        title.append(record.status, style="bold green" if record.status == "passed" else "bold red")
        title.append(
            f"  {record.info.started_at.replace('T', ' ')[:16]} UTC"
            f"{' · quick' if record.info.quick else ''} · {record.info.device}",
            style="dim",
        )
        checks, bench = record_renderables(record)
        # a seed of the multi-seed run shown goes under it (a seed starts a moment after its group)
        mine = group is not None and any(record is run for run in group.runs)
        when = group.started_at if mine and group is not None else record.info.started_at
        shown.append((when, [Rule(style="dim"), *_headed(title, claim_text([record])), checks, bench]))
    shown.sort(key=lambda section: section[0], reverse=True)  # newest first; stable: a group over its seed
    parts = [part for _, section in shown for part in section]
    return Group(*parts, Rule(style="dim"), history_renderable(runs))


def _headed(title: Text, claim: Text | None) -> list[RenderableType]:
    """A run's heading, and under it what it says of the claim (when it says anything)."""
    return [title] if claim is None else [title, claim]
