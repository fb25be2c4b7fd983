"""Rich renderables for the CLI: the paper table, one paper's panel, progress per section, sync progress.

Kept apart from the commands so that `cli.py` stays a thin layer and the same views can be reused (the TUI's
sync panel shows sizes with `human_size`). rich is imported inside the functions that draw, its cell widths
once, when a text is not ASCII (`list` measures every row).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from readtrack.base.safe_text import visible
from readtrack.base.words import plural
from readtrack.catalog.model import (
    LINKED_BY_ARXIV,
    LINKED_BY_DOI,
    LINKED_BY_TITLE,
    STATUS_GLYPHS,
    Catalog,
    Paper,
)

if TYPE_CHECKING:
    from rich.panel import Panel
    from rich.table import Table

    from readtrack.arxiv.syncreport import BytesProgress, PaperResult, SyncEvent, SyncStarted
    from readtrack.catalog.pdfcache import CacheReport
    from readtrack.history.coverage import Coverage

STATUS_STYLES = {"todo": "", "reading": "yellow", "read": "green", "skipped": "dim"}
_LINKED_BY = {LINKED_BY_ARXIV: "arXiv id", LINKED_BY_DOI: "DOI", LINKED_BY_TITLE: "title and first author"}


def paper_table(
    catalog: Catalog,
    papers: list[Paper],
    *,
    width: int = 80,
    nested: bool = True,
    color: bool = True,
    cut: bool = True,
) -> str:
    """One line per paper: glyph, id, title (indented under its parent when ``nested``), year, arXiv id.

    Returned as finished terminal text (ANSI styles from rich's `Style` when ``color``) rather than a rich
    `Table`, which measures every cell: 1,000 papers render in milliseconds. Widths are computed here, titles
    are cut with an ellipsis so a row stays one line at any width, and the short columns never collapse.
    An id is never cut (it is what a user types): the title gives way, unless ``cut`` is False (a pipe:
    `readtrack list | grep` must find a title's last words). Text from the file is shown `visible`
    (control characters written out).
    """
    paint = _painter(color)
    ids = [visible(p.id) for p in papers]
    titles = [_indented(p, nested) for p in papers]
    badges = [_badge(p) for p in papers]
    id_width = max(map(_cells, ids), default=2)
    arxiv_width = max((len(p.arxiv or "") for p in papers), default=5)
    title_width = max(width - (1 + id_width + 4 + arxiv_width + 4 * 2), 20)
    if not cut:
        title_width = max([title_width, *(_cells(t) + len(b) for t, b in zip(titles, badges, strict=True))])
    lines = [paint(f"{'':1}  {'id':<{id_width}}  {'title':<{title_width}}  year  arXiv", "bold")]
    progress = {s.name: s.progress() for s in catalog.sections}
    section = None
    for paper, ident, title, badge in zip(papers, ids, titles, badges, strict=True):
        if paper.section != section:
            section = paper.section
            done, total = progress[section]
            lines.append(
                " " * (id_width + 5)
                + paint(_fit(f"{visible(section)}  {done}/{total}", title_width), "bold magenta")
            )
        style = STATUS_STYLES[paper.status]
        title = _fit(title, title_width - len(badge))
        pad = " " * (title_width - _cells(title) - len(badge))
        lines.append(
            paint(STATUS_GLYPHS[paper.status], style)
            + "  "
            + paint(ident + " " * (id_width - _cells(ident)), "cyan")
            + "  "
            + paint(title, style)
            + paint(badge, "bold blue")
            + f"{pad}  {paper.year or '':>4}  "
            + paint(visible(paper.arxiv) if paper.arxiv else "", "dim")
        )
    if not papers:
        lines.append(paint("no papers match", "dim"))
    return "\n".join(line.rstrip() for line in lines)


def _indented(paper: Paper, nested: bool) -> str:
    """A paper's title as its row shows it: under its parent when ``nested``."""
    return ("  " * paper.depth if nested else "") + visible(paper.display_title)


def _badge(paper: Paper) -> str:
    """After the title: ▶ for a paper with a plugin."""
    return "  ▶" if paper.plugins else ""


def _painter(color: bool) -> Callable[[str, str], str]:
    """``paint(text, style)``: ANSI-styled text through rich's `Style`, or the text itself without colour."""
    if not color:
        return lambda text, style: text
    from rich.style import Style

    cache: dict[str, Style] = {}

    def paint(text: str, style: str) -> str:
        if not style or not text:
            return text
        if style not in cache:
            cache[style] = Style.parse(style)
        return cache[style].render(text)

    return paint


def _cells(text: str) -> int:
    return len(text) if text.isascii() else _rich_cells().cell_len(text)


@functools.cache
def _rich_cells() -> ModuleType:
    """rich's cell widths, imported once the first text that is not ASCII needs them (its Unicode tables
    take a few ms to load; an ASCII list never does)."""
    import rich.cells

    return rich.cells


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal cells, ending in an ellipsis when cut."""
    if _cells(text) <= width:
        return text
    return _rich_cells().set_cell_size(text, max(width - 1, 0)) + "…"


# Values a user copies whole: folded onto the next line when they do not fit, never cut with an ellipsis.
LINK_KEYS = ("url", "code", "doi", "pdf_path")
_KEY_WIDTH = 9  # the longest key shown, "published"/"pdf_path", and a space


def paper_panel(details: dict[str, Any], *, full: bool = False) -> Panel:
    """The human view of `readtrack show`: text made visible (`readtrack.base.safe_text`), long notes and
    abstract cut (`readtrack.render.details.shown_details`); with ``full`` they are left to `full_blocks`."""
    from rich.console import Group
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from readtrack.render.details import shown_details

    details = shown_details(details, full=full)
    rows = Table.grid(padding=(0, 2))
    rows.add_column(style="bold", no_wrap=True)
    rows.add_column()
    status = details["status"]
    rows.add_row("status", Text(f"{STATUS_GLYPHS[status]} {status}", style=STATUS_STYLES[status]))
    for key in (
        "id",
        "section",
        "label",
        "arxiv",
        "related",
        "url",
        "code",
        "year",
        "tags",
        "plugins",
        "added",
        "read",
        "bibtex",
        "authors",
        "published",
        "categories",
        "journal_ref",
        "doi",
        "pdf_path",
    ):
        value = details.get(key)
        if value in (None, [], ""):
            continue
        text = ", ".join(value) if isinstance(value, list) else str(value)
        if key == "plugins" and details.get("plugin_link") in _LINKED_BY:
            text += f" (by {_LINKED_BY[details['plugin_link']]})"
        label = "venue" if key == "journal_ref" else key  # arXiv's journal reference, or an import's venue
        rows.add_row(label, Text(text, overflow="fold") if key in LINK_KEYS else escape(text))
    for plugin, run in (details.get("last_runs") or {}).items():
        seeds = run["seeds"]
        line = Text(f"{plugin}: ")
        line.append(run["status"], style="green" if run["status"] == "passed" else "red")
        setting = run["device"] + (f"×{run['threads']}" if run.get("threads") else "")
        seed_text = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {seeds[0]}…{seeds[-1]} ({len(seeds)})"
        when = run["started_at"][:16].replace("T", " ")
        line.append(f" · {setting}{' quick' if run['quick'] else ''} · {seed_text} · {when}")
        rows.add_row("last run", line)
    parts: list[Any] = [rows]
    for key, heading in (("abstract", "Abstract"), ("notes", "Notes")):
        if details.get(key) and not full:
            parts += [Text(""), Text(heading, style="bold"), Text(details[key])]
    return Panel(Group(*parts), title=escape(details["title"] or details["id"]), title_align="left")


def full_blocks(details: dict[str, Any]) -> str:
    """Abstract and notes whole, below the panel of ``show --full``: plain lines, as the terminal wraps
    them (rich would take a minute to lay out a 5 MB note)."""
    blocks = [
        f"\n{heading}\n{visible(details[key], multiline=True)}"
        for key, heading in (("abstract", "Abstract"), ("notes", "Notes"))
        if details.get(key)
    ]
    return "\n".join(blocks)


def panel_width(details: dict[str, Any]) -> int:
    """The width at which `paper_panel` shows each link of ``details`` on one line, and its title whole
    (for a pipe, which gets full lines: a URL folded in two is a URL cut)."""
    from readtrack.render.details import shown_details

    shown = shown_details({k: details.get(k) for k in LINK_KEYS})
    links = [", ".join(v) if isinstance(v, list) else str(v or "") for v in shown.values()]
    title = _cells(visible(details.get("title") or details.get("id") or "")) + 6  # "╭─ " and " ─╮"
    return max(max(len(link) for link in links) + _KEY_WIDTH + 2 + 4, title)


def stats_table(catalog: Catalog, covered: list[Coverage]) -> Table:
    """Progress per section with bars, its plugin coverage (``readtrack.history.coverage``), and the total."""
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold")
    table.add_column("section")
    table.add_column("read", justify="right")
    table.add_column("progress", width=24)
    table.add_column("", justify="right")
    table.add_column("▶ plugin", justify="right")
    table.add_column("run", justify="right")
    devices = list(covered[-1].passing)
    for device in devices:
        table.add_column(f"✓ {device}", justify="right")
    progress = [s.progress() for s in catalog.sections]
    progress.append((sum(d for d, _ in progress), sum(t for _, t in progress)))
    for row, (done, total) in zip(covered, progress, strict=True):  # the sections, then "all"
        table.add_row(
            Text(visible(row.name), style="bold" if row.name == "all" else ""),
            f"{done}/{total}",
            ProgressBar(total=max(total, 1), completed=done, width=24),
            f"{100 * done / max(total, 1):.0f}%",
            str(row.with_plugin or ""),
            str(row.run or ""),
            *(str(row.passing[d] or "") for d in devices),
        )
    return table


# -- sync and the PDF cache ---------------------------------------------------------------------------


def human_size(size: float) -> str:
    """A file size in decimal units, as download tools show it (``12.0 MB``)."""
    from rich.filesize import decimal

    return decimal(int(size))


class TerminalProgress:
    """The CLI's ``on_event``: a rich progress bar (papers, bytes, ETA) on a terminal, else plain lines."""

    def __init__(self, *, live: bool | None = None) -> None:
        self.live = sys.stderr.isatty() if live is None else live
        self._progress: Any = None
        self._papers_task: Any = None
        self._bytes_task: Any = None
        self._downloads: dict[str, tuple[int, int | None]] = {}

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, event: SyncEvent) -> None:
        # imported here: `list` draws with this module and never syncs (the event classes cost 13 ms)
        from readtrack.arxiv.syncreport import BytesProgress, Notice, PaperFinished, SyncStarted

        if isinstance(event, SyncStarted):
            self._start(event)
        elif isinstance(event, BytesProgress):
            self._bytes(event)
        elif isinstance(event, PaperFinished):
            self._paper(event.result)
        elif isinstance(event, Notice):
            self._print(event.message)

    def _start(self, event: SyncStarted) -> None:
        line = (
            f"syncing {plural(event.papers, 'paper')}: metadata for {plural(event.metadata, 'arXiv id')}, "
            f"{plural(event.downloads, 'download')}"
        )
        if not self.live:
            print(line, flush=True)
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("{task.description:<6}"),
            BarColumn(),
            TextColumn("{task.fields[info]}"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._progress.start()
        self._progress.console.print(line)
        self._papers_task = self._progress.add_task("papers", total=event.papers, info="")
        self._bytes_task = self._progress.add_task("bytes", total=None, info="")

    def _bytes(self, event: BytesProgress) -> None:
        self._downloads[event.target] = (event.done, event.total)
        if self._progress is None:
            return
        done = sum(d for d, _ in self._downloads.values())
        total = sum(t or d for d, t in self._downloads.values())
        self._progress.update(
            self._bytes_task,
            completed=done,
            total=total or None,
            info=f"{human_size(done)} / {human_size(total)}",
        )

    def _paper(self, result: PaperResult) -> None:
        sizes = sum(i.size for i in result.items if i.outcome == "synced")
        detail = "; ".join(result.reasons) if result.outcome == "failed" else ""
        if result.outcome == "link":
            detail = next((i.target for i in result.items if i.outcome == "link"), "")
        elif result.outcome == "synced" and sizes:
            detail = human_size(sizes)
        if self._progress is not None:
            self._progress.advance(self._papers_task)
            task = self._progress.tasks[self._papers_task]
            self._progress.update(self._papers_task, info=f"{int(task.completed)}/{int(task.total or 0)}")
            if result.outcome in ("failed", "link"):
                self._print(f"{result.outcome:<7} {visible(result.paper_id)}  {visible(detail)}")
            return
        print(f"{result.outcome:<7} {visible(result.paper_id)}  {visible(detail)}".rstrip(), flush=True)

    def _print(self, message: str) -> None:
        message = visible(message, multiline=True)  # a server's words, a file name
        if self._progress is not None:
            self._progress.console.print(message, markup=False, highlight=False)
        else:
            print(message, flush=True)


def doctor_lines(report: CacheReport, elsewhere: int = 0) -> list[str]:
    """`readtrack doctor`'s report: the cache's counts, one line per problem, and the count of every problem
    (``elsewhere``: those doctor said before the cache's, of the setup, the plugins and the cluster)."""
    lines = [
        f"PDF cache {report.folder}: {report.ok} of {plural(report.checked, 'recorded file')} fine, "
        f"{plural(report.not_downloaded, 'arXiv PDF')} not downloaded yet"
    ]
    lines += [f"  {p.kind:<10} {visible(p.name)}: {visible(p.detail)}" for p in report.problems]
    found = len(report.problems) + elsewhere
    lines.append(plural(found, "problem") if found else "no problems")
    return lines
