"""The panel under the table: a progress bar and one line per paper while `readtrack.arxiv.sync` runs, or the
report of an import (its problems listed one per line, where they stay readable until Esc closes it).

The panel only shows events (`readtrack.arxiv.syncreport`); the run itself is `readtrack.arxiv.sync.sync`,
called by `readtrack.tui.workers.sync_worker` from a worker thread. The table stays usable while it runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from readtrack.base.safe_text import visible

if TYPE_CHECKING:
    from textual.widgets import ProgressBar, RichLog

    from readtrack.arxiv.syncreport import SyncEvent, SyncReport

OUTCOME_STYLES = {
    "synced": ("✓", "green"),
    "cached": ("=", "dim"),
    "link": ("↗", "cyan"),
    "failed": ("✗", "red"),
}


class SyncPanel(Vertical):
    """Progress of one sync run; stays on screen with the summary until closed.

    The progress bar and the log are imported and mounted by the first sync, not with the screen: hidden
    until then, they still cost the TUI's first paint about 45 ms, a tenth of it."""

    def compose(self) -> ComposeResult:
        yield Static(id="sync-status")

    @property
    def bar(self) -> ProgressBar:
        from textual.widgets import ProgressBar

        return self.query_one(ProgressBar)

    @property
    def log_view(self) -> RichLog:
        from textual.widgets import RichLog

        return self.query_one(RichLog)

    def _mount_parts(self) -> None:
        from textual.widgets import ProgressBar, RichLog

        if not self.query(ProgressBar):
            self.mount(
                ProgressBar(id="sync-progress", show_eta=False),
                # min_width: RichLog's default (78) clips a long failure reason in a narrower pane
                RichLog(id="sync-log", wrap=True, markup=False, max_lines=2000, min_width=10),
            )

    def start(self, what: str) -> None:
        self._mount_parts()
        self.border_title = f"Sync: {what}"
        self.log_view.clear()
        self.bar.display = True
        self.bar.update(total=None, progress=0)
        self.status(f"Syncing {what}… (Esc cancels)")
        self.add_class("-shown")

    def status(self, message: str, style: str = "") -> None:
        self.query_one("#sync-status", Static).update(Text(visible(message, multiline=True), style=style))

    def log_line(self, message: str, style: str = "") -> None:
        self.log_view.write(Text(visible(message, multiline=True), style=style))  # ids, a server's words

    def show_event(self, event: SyncEvent) -> None:
        """One event of the run (see `readtrack.arxiv.sync`): progress, a paper's result, a download, a
        notice."""
        from readtrack.arxiv.syncreport import BytesProgress, Notice, PaperFinished, SyncStarted
        from readtrack.render.papers import human_size

        bar = self.bar
        if isinstance(event, SyncStarted):
            bar.update(total=max(event.papers, 1), progress=0)
            plan = f"{event.papers} papers: {event.metadata} to look up, {event.downloads} to download"
            self.status(plan + " (Esc cancels)")
        elif isinstance(event, PaperFinished):
            result = event.result
            glyph, style = OUTCOME_STYLES.get(result.outcome, ("·", ""))
            line = f"{glyph} {result.paper_id}: {result.outcome}"
            if result.reasons:
                line += f" ({'; '.join(result.reasons)})"
            self.log_line(line, style)
            bar.advance(1)
        elif isinstance(event, BytesProgress):
            total = f" of {human_size(event.total)}" if event.total else ""
            self.status(f"downloading {event.target}: {human_size(event.done)}{total} (Esc cancels)")
        elif isinstance(event, Notice):
            self.log_line(event.message, "yellow")

    def finish(self, report: SyncReport) -> None:
        from readtrack.arxiv.syncreport import summary_lines

        lines = summary_lines(report)
        bad = bool(report.failed or report.stopped or report.cancelled)
        headline = ("Cancelled: " if report.cancelled else "Done: ") + lines[0]
        self.status(headline + "  (Esc closes)", "bold red" if bad else "bold green")
        for line in lines[1:]:
            self.log_line(line, "red" if line.lstrip().startswith("failed") else "")
        bar = self.bar
        if bar.total is None:
            bar.update(total=1, progress=1)

    def show_report(self, title: str, lines: list[str], problems: int, failed: bool = False) -> None:
        """An import's report: its first line and the count of ``problems`` on top, then every other line
        (each problem in yellow), until Esc closes the panel."""
        self._mount_parts()
        self.border_title = title
        self.bar.display = False  # nothing is in progress
        self.log_view.clear()
        plural = "s" if problems != 1 else ""
        counted = f"{problems} problem{plural}, listed below" if problems else "no problem"
        if failed:
            self.status(f"{lines[0]}  (Esc closes)", "bold red")
        else:
            self.status(f"{lines[0]} · {counted}  (Esc closes)", "bold yellow" if problems else "bold green")
        listing = False
        for line in lines[1:]:
            self.log_line(line, "yellow" if listing and line.startswith(" ") else "")
            listing = listing or line.rstrip().endswith(("problem:", "problems:"))
        self.add_class("-shown")

    def fail(self, message: str) -> None:
        self.status(f"Sync failed: {message}  (Esc closes)", "bold red")
        self.log_line(message, "red")
        self.bar.update(total=1, progress=0)
