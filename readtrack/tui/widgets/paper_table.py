"""The paper table: a virtual list that draws only the rows on screen.

Textual's DataTable measures every cell of every row when rows are added, which costs seconds on a
10,000-paper list; this widget uses the Line API (`ScrollView.render_line`) instead, so showing, filtering
and scrolling cost the same for 60 papers or 10,000. Line 0 is the column header and never scrolls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from readtrack.base.safe_text import visible
from readtrack.catalog.model import STATUS_GLYPHS, Paper
from readtrack.tui.widgets.rows import PaperRow

# The badge shows a plugin's newest run: passed, failed (any other outcome), running, or never run.
RUN_GLYPHS = {"passed": "✓", "running": "▶", None: "·"}
FAILED_GLYPH = "✗"
# After it, the practice mark of a paper whose plugin has exercises (`readtrack practice`): how far the
# learner got, filling up: not started, failing, checks pass, claim reproduced.
PRACTICE_GLYPHS = {"not started": "○", "failing": "◔", "checks pass": "◑", "claim reproduced": "●"}


def practice_mark(plugins: list[str], practice: Mapping[str, str]) -> str | None:
    """The practice status of the first of ``plugins`` with exercises (None when none has any)."""
    return next((practice[p] for p in plugins if p in practice), None)


def badge_text(plugin: str | None, last_status: str | None) -> str:
    """``✓ adamw`` after a passing run, ``✗ adamw`` after any other outcome, ``· adamw`` never run."""
    if not plugin:
        return ""
    return f"{RUN_GLYPHS.get(last_status, FAILED_GLYPH)} {plugin}"


def badges_text(plugins: list[str], last_status: Mapping[str, str]) -> str:
    """A paper's badge. One plugin: ``✓ adamw``. Several: how many passed, ``✗ 1/2 adamw, schedule-free``,
    with ``✓`` only when every one passed (the rule `readtrack.history.coverage` counts a paper passing by),
    ``✗`` when any failed, ``▶`` while one runs, ``·`` when some never ran."""
    if len(plugins) < 2:
        return badge_text(plugins[0] if plugins else None, last_status.get(plugins[0]) if plugins else None)
    statuses = [last_status.get(p) for p in plugins]
    passed = sum(s == "passed" for s in statuses)
    if passed == len(plugins):
        glyph = RUN_GLYPHS["passed"]
    elif any(s not in (None, "running", "passed") for s in statuses):
        glyph = FAILED_GLYPH
    else:
        glyph = RUN_GLYPHS["running" if "running" in statuses else None]
    return f"{glyph} {passed}/{len(plugins)} {', '.join(plugins)}"


def twin_labels(rows: list[PaperRow]) -> dict[str, str]:
    """For rows whose titles read alike, what tells each apart: its label when the title is not the label and
    no twin shares it, else its id (paper id -> the text shown after the title)."""
    by_title: dict[str, list[Paper]] = {}
    for row in rows:
        by_title.setdefault(row.paper.display_title.strip().casefold(), []).append(row.paper)
    shown: dict[str, str] = {}
    for twins in (t for t in by_title.values() if len(t) > 1):
        labels = [p.label if p.label and p.label != p.display_title else None for p in twins]
        unique = None not in labels and len(set(labels)) == len(labels)
        for paper, label in zip(twins, labels, strict=True):
            shown[paper.id] = label if unique and label else paper.id
    return shown


def fit(text: str, width: int) -> str:
    """``text`` padded or cut to exactly ``width`` cells, with an ellipsis when cut."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


class PaperTable(ScrollView, can_focus=True):
    """Papers with status glyph, title, year, arXiv id and plugin badge; ``cursor`` is the row index."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up_rows", "Page up", show=False),
        Binding("pagedown", "page_down_rows", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "paper-table--header",
        "paper-table--cursor",
        "paper-table--cursor-blurred",
        "paper-table--read",
        "paper-table--reading",
        "paper-table--skipped",
        "paper-table--dim",
        "paper-table--passed",
        "paper-table--failed",
    }

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)

    class Highlighted(Message):
        """The cursor moved to another paper (``row`` is None when the table is empty)."""

        def __init__(self, row: PaperRow | None) -> None:
            self.row = row
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[PaperRow] = []
        self.twins: dict[str, str] = {}  # paper id -> what tells it from a row titled alike
        self.last_status: Mapping[str, str] = {}
        self.practice: Mapping[str, str] = {}  # plugin -> the learner's practice status
        self.practice_styles: dict[str, Style] = {}  # practice status -> its colour, as `practice` shows it
        self.empty_message = "No papers"

    # -- data ----------------------------------------------------------------------------------------

    def set_rows(
        self, rows: list[PaperRow], *, keep: str | None = None, empty_message: str = "No papers"
    ) -> None:
        """Show ``rows``; the cursor stays on paper ``keep`` when still there, else on the same index."""
        self.rows = rows
        self.twins = twin_labels(rows)
        self.empty_message = empty_message
        self.virtual_size = Size(0, len(rows) + 1)
        index = next((i for i, row in enumerate(rows) if row.paper.id == keep), None) if keep else None
        self.cursor = index if index is not None else min(self.cursor, max(len(rows) - 1, 0))
        self.refresh()

    def set_last_status(self, last_status: Mapping[str, str]) -> None:
        self.last_status = last_status
        self.refresh()

    def set_practice(self, practice: Mapping[str, str]) -> None:
        # imported here, not at start-up: the marks come from readtrack.practice, loaded by then anyway
        from readtrack.practice.text import STATUS_STYLE

        self.practice = practice
        self.practice_styles = {status: Style.parse(style) for status, style in STATUS_STYLE.items()}
        self.refresh()

    @property
    def current(self) -> PaperRow | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def watch_cursor(self, old: int, new: int) -> None:
        clamped = max(0, min(new, len(self.rows) - 1))
        if clamped != new:
            self.cursor = clamped
            return
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.Highlighted(self.current))

    def _scroll_to_cursor(self) -> None:
        visible = max(self.scrollable_content_region.height - 1, 1)  # minus the header line
        top = round(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False, immediate=True)

    def on_resize(self) -> None:
        self._scroll_to_cursor()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- actions -------------------------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        if self.cursor > 0:
            self.cursor -= 1

    def action_cursor_down(self) -> None:
        if self.cursor < len(self.rows) - 1:
            self.cursor += 1

    def action_page_up_rows(self) -> None:
        self.cursor = max(self.cursor - max(self.scrollable_content_region.height - 2, 1), 0)

    def action_page_down_rows(self) -> None:
        self.cursor = min(self.cursor + max(self.scrollable_content_region.height - 2, 1), len(self.rows) - 1)

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = len(self.rows) - 1

    def on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        index = round(self.scroll_y) + offset.y - 1
        if 0 <= index < len(self.rows):
            self.cursor = index

    # -- drawing -------------------------------------------------------------------------------------

    def _columns(self, width: int) -> tuple[int, int, int, int, int]:
        """Widths of title, year, arXiv id, badge and practice mark; narrow tables drop the arXiv column."""
        badge = 12 if width >= 46 else 0
        mark = 2 if badge and self.practice else 0
        arxiv = 11 if width >= 72 else 0
        year = 5
        title = max(width - 2 - year - arxiv - badge - mark - 1, 8)
        return title, year, arxiv, badge, mark

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        title_w, year_w, arxiv_w, badge_w, mark_w = self._columns(width)
        if y == 0:
            cells = "  " + fit("Title", title_w) + fit(" Year", year_w) + fit(" arXiv", arxiv_w)
            cells += fit(" Plugin", badge_w) + fit(" ✎", mark_w)
            return Strip(
                [Segment(fit(cells, width), self.get_component_rich_style("paper-table--header"))], width
            )
        index = round(self.scroll_y) + y - 1
        if not self.rows:
            if y == 1:
                return Strip([Segment(fit("  " + self.empty_message, width), self.rich_style)], width)
            return Strip.blank(width, self.rich_style)
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        row = self.rows[index]
        paper = row.paper
        base = self.rich_style
        if index == self.cursor:
            name = "paper-table--cursor" if self.has_focus else "paper-table--cursor-blurred"
            base = base + self.get_component_rich_style(name)
        dim = self.get_component_rich_style("paper-table--dim", partial=True)
        glyph_style = base
        if paper.status in ("read", "reading", "skipped"):
            glyph_style = base + self.get_component_rich_style(f"paper-table--{paper.status}", partial=True)
        segments = [Segment(STATUS_GLYPHS[paper.status] + " ", glyph_style)]
        # After the title, dim: what tells it from a row titled alike, and a filter's rows come from every
        # section: which. They get up to a third of the room (half for both), the title the rest.
        extra = f" · {self.twins[paper.id]}" if paper.id in self.twins else ""
        extra += f" · {paper.section}" if row.show_section else ""
        title = paper.display_title if row.show_section else "  " * paper.depth + paper.display_title
        title, extra = visible(title), visible(extra)  # control characters from the file written out
        if extra:
            share = 2 if paper.id in self.twins and row.show_section else 3
            room = title_w - min(cell_len(extra), title_w // share)
            shown = fit(title, room) if cell_len(title) > room else title
            segments.append(Segment(shown, base))
            segments.append(Segment(fit(extra, title_w - cell_len(shown)), base + dim))
        else:
            segments.append(Segment(fit(title, title_w), base))
        segments.append(Segment(fit(f" {paper.year or ''}", year_w), base + dim))
        if arxiv_w:
            segments.append(Segment(fit(f" {visible(paper.arxiv or '')}", arxiv_w), base + dim))
        if badge_w:
            segments.append(Segment(" ", base))
            segments.append(
                Segment(fit(self._badge(paper.plugins), badge_w - 1), self._badge_style(paper.plugins, base))
            )
        if mark_w:
            mark = practice_mark(paper.plugins, self.practice)
            style = base + self.practice_styles[mark] if mark else base
            segments.append(Segment(fit(f" {PRACTICE_GLYPHS[mark]}" if mark else "", mark_w), style))
        used = sum(cell_len(s.text) for s in segments)
        if used < width:
            segments.append(Segment(" " * (width - used), base))
        return Strip(segments, width).crop(0, width)

    def _badge(self, plugins: list[str]) -> str:
        return badges_text(plugins, self.last_status)

    def _badge_style(self, plugins: list[str], base: Style) -> Style:
        """Red when any plugin's newest run failed, green when every one has passed, else plain."""
        statuses = [self.last_status.get(p) for p in plugins]
        if any(s not in (None, "running", "passed") for s in statuses):
            name = "paper-table--failed"
        elif statuses and all(s == "passed" for s in statuses):
            name = "paper-table--passed"
        else:
            return base
        return base + self.get_component_rich_style(name, partial=True)
