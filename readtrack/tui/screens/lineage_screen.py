"""The families of the list (``L`` on the list and on a paper's view): `readtrack lineage` in a screen.

The lineages are listed on the left (name, members read of members, the title); the highlighted one is drawn
on the right as the CLI draws it (`readtrack.render.lineages.chain`, wrapped to the pane): its members in
time, what each improved over which, and that step's number and verdict from the newest run recorded. The
screen opens on the lineage of the paper it was opened from (one whose member is that paper, or is run by its
plugin), else on one of the section the cursor is in, else on the first. The plugins' declarations, the list
and the runs are read in a worker thread when the screen opens (no plugin code runs, and no torch is
imported); what the declarations got wrong is said in the status line. Esc leaves.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from readtrack.base.errors import ReadtrackError
from readtrack.base.safe_text import visible
from readtrack.tui.screens.dialogs import HelpScreen, binding_help
from readtrack.tui.widgets.key_bar import KeyBar
from readtrack.tui.widgets.panes import ScrollPane
from readtrack.tui.workers.handoff import hand_to

if TYPE_CHECKING:
    from readtrack.catalog.model import Catalog, Paper
    from readtrack.history.lineages import LineageView

TITLE = "Lineages"
HELP = "L opens the lineage of the paper under the cursor (or of its section): its papers in time"


def chosen(
    views: list[LineageView], paper_id: str | None, plugins: tuple[str, ...], section: str | None
) -> int:
    """The index of the lineage to open on: the paper's, else the section's, else the first."""
    for index, lineage in enumerate(views):
        if any((row.paper is not None and row.paper.id == paper_id) or row.member.plugin in plugins
               for row in lineage.rows):  # fmt: skip
            return index
    for index, lineage in enumerate(views):
        if section and lineage.lineage.section == section:
            return index
    return 0


class LineageKey(Screen[None]):
    """``L`` on the main screen (`readtrack.tui.app.MainScreen` inherits it)."""

    path: Path
    catalog: Catalog | None
    section_index: int

    if TYPE_CHECKING:

        def _selected(self) -> Paper | None: ...

    def action_lineage(self) -> None:
        paper = self._selected()
        if paper is not None:  # a filter's row too: its own section
            section: str | None = paper.section
        else:
            section = self.catalog.sections[self.section_index].name if self.catalog is not None else None
        plugins = tuple(paper.plugins) if paper is not None else ()
        self.app.push_screen(LineageScreen(self.path, paper.id if paper else None, plugins, section))


class LineageScreen(Screen[None]):
    """The lineages on the left, the highlighted one in time on the right."""

    DEFAULT_CSS = """
    LineageScreen #lineage-status { height: auto; max-height: 4; padding: 0 1; }
    LineageScreen #lineage-list { width: 36; height: 1fr; }
    LineageScreen #lineage-pane { width: 1fr; height: 1fr; }
    LineageScreen #lineage-body { padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", tooltip="These keys"),
        Binding("escape", "back", "Back", tooltip="Back to where you were"),
    ]

    def __init__(
        self, path: Path, paper_id: str | None, plugins: tuple[str, ...], section: str | None
    ) -> None:
        super().__init__()
        self.path, self.paper_id, self.plugins, self.section = path, paper_id, plugins, section
        self.views: list[LineageView] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text("Reading the lineages the plugins declare…", style="dim"), id="lineage-status")
        with Horizontal():
            yield OptionList(id="lineage-list")
            with ScrollPane(id="lineage-pane"):
                yield Static(id="lineage-body")
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = TITLE
        self.query_one("#lineage-pane").border_title = "In time"
        self.query_one(OptionList).focus()
        self.run_worker(self._load, thread=True, exclusive=True, group="lineages")

    def _load(self) -> None:
        """In the worker: every lineage's view, its steps' numbers from the runs database."""
        from readtrack.history import lineages as view
        from readtrack.plugins.links import load

        try:
            families, plugins = view.discovered()
            catalog = load(self.path)
            views = [view.view(f, plugins, catalog, view.records_of) for f in families.lineages.values()]
        except ReadtrackError as err:
            hand_to(self, self._status, str(err))
            return
        problems = families.problems + [p for v in views for p in v.problems]
        hand_to(self, self._show, views, problems)

    def _status(self, message: str) -> None:
        self.query_one("#lineage-status", Static).update(Text(visible(message)))

    def _show(self, views: list[LineageView], problems: list[str]) -> None:
        self.views = views
        listed = self.query_one(OptionList)
        for lineage in views:
            line = Text(lineage.lineage.name, style="bold")
            line.append(f"  {lineage.read}/{len(lineage.rows)} read\n")
            line.append(visible(lineage.lineage.title), style="dim")
            listed.add_option(Option(line, id=lineage.lineage.name))
        said = f"{len(views)} lineages: ↑↓ choose, Esc back"
        self._status("; ".join([said, *problems]) if problems else said)
        if views:
            listed.highlighted = chosen(views, self.paper_id, self.plugins, self.section)

    @on(OptionList.OptionHighlighted, "#lineage-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        from readtrack.render.lineages import chain

        lineage = self.views[event.option_index]
        width = max(self.query_one("#lineage-pane").size.width - 4, 40)
        self.query_one("#lineage-body", Static).update(
            Text(visible("\n".join(chain(lineage, width)), multiline=True))
        )
        self.query_one("#lineage-pane", ScrollPane).scroll_home(animate=False)

    def action_help(self) -> None:
        self.app.push_screen(
            HelpScreen([], [(f"{TITLE} (L on the list or a paper's view)", binding_help(self.BINDINGS))])
        )

    def action_back(self) -> None:
        self.dismiss()
