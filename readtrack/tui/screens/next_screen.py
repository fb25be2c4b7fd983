"""What to read next (``N`` on the list): the suggestions of `readtrack next`, ranked, in a screen of their
own.

Papers that the ones you read or are reading cite or are cited by, and Semantic Scholar's recommendations,
ranked by the core (`readtrack.related.graph.Related.suggest`: the ranking and each row's reasons are its
own).
They are fetched in a worker when the screen opens, with progress; they are remembered as the CLI's ``next``
remembers them, so that ``readtrack add ID`` of one later gets its reason too. Esc leaves (and cancels a
fetch). Enter opens a listed paper's view; ``a`` adds the highlighted suggestion to "To read" with why in its
notes (`readtrack.tui.widgets.related_pane`), and the list reloads from the file as after any edit. Offline,
or with nothing read yet, the screen shows the error's one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Header, Static

from readtrack.base.safe_text import visible
from readtrack.base.words import plural
from readtrack.tui.screens.dialogs import HelpScreen, binding_help
from readtrack.tui.screens.paper_view import open_paper
from readtrack.tui.widgets.key_bar import KeyBar
from readtrack.tui.widgets.related_pane import ROW_KEYS, SHOWN, Fetch, Part, RelatedList

if TYPE_CHECKING:
    from readtrack.related.graph import Related, Suggestions

FETCHING = "Ranking what to read next from the papers you read or are reading (Semantic Scholar)…"


def suggest(related: Related) -> Suggestions:
    """In the fetch's worker: the ranked suggestions, remembered for a later ``readtrack add``."""
    from readtrack.related import suggested

    found = related.suggest()
    suggested.remember(related.client.cache, found.rows)
    return found


class NextScreen(Screen[None]):
    """A status line over the ranked suggestions."""

    DEFAULT_CSS = """
    NextScreen #next-status { height: auto; max-height: 6; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "Refresh", tooltip="Rank again from fresh answers (not the cache)"),
        Binding("question_mark", "help", "Help", tooltip="These keys"),
        Binding("escape", "back", "Back", tooltip="Back to the list (a fetch still going is cancelled)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.fetch = Fetch(self, "#next-status", FETCHING)  # cancelled on leaving, or by a newer fetch

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="next-status")
        yield RelatedList(numbered=True, id="next-list")
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = "What to read next"
        self.query_one(RelatedList).focus()
        self._start(refresh=False)

    def on_unmount(self) -> None:
        self.fetch.cancel.set()

    def _start(self, *, refresh: bool) -> None:
        self.fetch.start(suggest, refresh=refresh, done=self._show, group="next")

    def _show(self, found: Suggestions, source: str) -> None:
        rows = found.rows[:SHOWN]
        status = Text(f"Ranked by the {plural(found.ranked_by, 'paper')} you read or are reading")
        status.append(f" · {source}", style="dim")
        for note in found.notes:
            status.append(f"\n{visible(note)}", style="yellow")
        self.fetch.status(status)
        heading = f"{len(rows)} of {len(found.rows):,} candidates" if found.rows else "No candidates found"
        self.query_one(RelatedList).show([Part(Text(heading, style="bold"), rows)])

    @on(RelatedList.Open)
    def _open(self, event: RelatedList.Open) -> None:
        open_paper(self.app, event.paper)

    def action_refresh(self) -> None:
        self._start(refresh=True)

    def action_help(self) -> None:
        keys = binding_help([*ROW_KEYS, *self.BINDINGS])
        self.app.push_screen(HelpScreen([], [("What to read next (N on the list)", keys)]))

    def action_back(self) -> None:
        self.dismiss()
