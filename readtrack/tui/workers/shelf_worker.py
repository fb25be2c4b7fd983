"""Running every plugin of a section (or of the whole list) from the TUI, in the background.

The run is a batch (`readtrack.batch.groups.run_batch`, what ``readtrack run --all`` uses) of the section's
working plugins, quick, one seed each, on the executor ``READTRACK_EXECUTOR`` names (this machine's
fork-server pool by default, ``ray`` a Ray cluster): each plugin runs in a process of its own (a crash in
one cannot reach the TUI), and each result, recorded in history as soon as its
run ends, is handed to the screen at once (``on_result``), so the table's badges fill in while the rest still
runs. ``cancel`` stops the batch (the pool's SIGTERM and grace): plugins that had not finished leave nothing
in history. The main screen's ``R`` runs the section's plugins, ``ctrl+r`` every plugin of the list.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.screen import Screen

from readtrack.catalog.model import Catalog, Section
from readtrack.tui.workers.handoff import hand_to

if TYPE_CHECKING:
    from readtrack.batch.groups import PluginOutcome


class ShelfWorker:
    """Starts one shelf run at a time for ``screen`` (the main screen: its ``#papers-pane`` subtitle shows
    the progress). In the UI thread: ``on_result(plugin, status)`` after each plugin, ``on_end()`` once at
    the end, after the summary was shown."""

    def __init__(
        self, screen: Screen[None], on_result: Callable[[str, str], None], on_end: Callable[[], object]
    ) -> None:
        self.screen, self.on_result, self.on_end = screen, on_result, on_end
        self.cancel_event: threading.Event | None = None

    @property
    def running(self) -> bool:
        return self.cancel_event is not None

    def run(self, catalog: Catalog, section: Section | None) -> None:
        """Run the working plugins of ``section``'s papers (of every paper when None), telling the user."""
        if self.cancel_event is not None:
            self.screen.notify("A shelf run is going on (Esc cancels it)", severity="warning")
            return
        from readtrack.plugins.discovery import discover

        papers = section.walk() if section is not None else catalog.papers()
        working = {p.name for p in discover() if p.status == "ok"}
        names = [n for n in dict.fromkeys(n for paper in papers for n in paper.plugins) if n in working]
        where = f"section {section.name}" if section is not None else "the list"
        if not names:
            self.screen.notify(f"No plugin runs a paper of {where}", severity="warning")
            return
        self.cancel_event = cancel = threading.Event()
        self.screen.notify(
            f"Running the {len(names)} plugins of {where} (quick) in the background; Esc cancels"
        )
        self.screen.run_worker(lambda: self._run(names, cancel), thread=True, group="shelf")

    def cancel(self) -> None:
        if self.cancel_event is not None and not self.cancel_event.is_set():
            self.cancel_event.set()
            self.screen.notify("Cancelling the shelf run: plugins that had not finished are not recorded")

    def _run(self, names: list[str], cancel: threading.Event) -> None:
        """In a worker thread: the batch, each plugin's end and the summary handed to the UI thread."""
        from readtrack.base.errors import ReadtrackError
        from readtrack.batch.groups import BatchCancelled, RunSettings, default_jobs, executor_for, run_batch
        from readtrack.runner.threads import resolve_threads

        done = 0

        def on_done(outcome: PluginOutcome) -> None:
            nonlocal done
            done += 1
            hand_to(self.screen, self._progress, done, len(names))
            hand_to(self.screen, self.on_result, outcome.plugin, outcome.status)

        outcomes: list[PluginOutcome] = []
        error = None
        try:
            settings = RunSettings(quick=True, threads=resolve_threads())
            workers = default_jobs()
            executor = executor_for(
                None, workers
            )  # READTRACK_EXECUTOR: this machine's pool, or a Ray cluster
            outcomes = run_batch(
                names, [0], settings, workers=workers, on_done=on_done, cancel=cancel, executor=executor
            )
        except BatchCancelled:
            pass  # the batch recorded what had finished; the badges show it
        except ReadtrackError as err:
            error = str(err)
        hand_to(self.screen, self._done, outcomes, error)

    def _progress(self, done: int, total: int) -> None:
        pane = self.screen.query_one("#papers-pane")
        pane.border_subtitle = f"shelf run: {done}/{total} plugins done · Esc cancels"

    def _done(self, outcomes: list[PluginOutcome], error: str | None) -> None:
        """The end, in the UI thread: every plugin's outcome (none when cancelled), or why none ran."""
        self.cancel_event = None
        if error is not None:
            self.screen.notify(f"Shelf run: {error}", severity="error")
        elif outcomes:
            passed = sum(o.status == "passed" for o in outcomes)
            status = "passed" if passed == len(outcomes) else "failed"
            note = f"Shelf run {status}: {passed} of {len(outcomes)} plugins passed"
            self.screen.notify(note, severity="information" if status == "passed" else "warning")
        else:
            self.screen.notify("Shelf run cancelled", severity="warning")
        self.on_end()
