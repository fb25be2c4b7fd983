"""Running `readtrack.arxiv.sync.sync` from the TUI: in a worker thread, its events shown by the `SyncPanel`.

One sync at a time; `cancel` asks it to stop (downloads stop at their next chunk). The screen is told when
a run ends, however it ends, so it can refresh what the sync may have changed (metadata, PDFs).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual.screen import Screen

from readtrack.base.errors import ReadtrackError, one_line
from readtrack.catalog.model import Catalog
from readtrack.tui.widgets.sync_panel import SyncPanel


class SyncWorker:
    """Starts syncs for ``screen`` and feeds ``panel``; ``finished`` is called in the UI thread at the end."""

    def __init__(
        self, screen: Screen[None], panel: Callable[[], SyncPanel], finished: Callable[[], None]
    ) -> None:
        self.screen, self._panel, self._finished = screen, panel, finished
        self._cancel: threading.Event | None = None  # set while a sync runs

    @property
    def running(self) -> bool:
        return self._cancel is not None

    def start(self, catalog: Catalog, paper_ids: list[str], what: str) -> bool:
        """Sync ``paper_ids`` of ``catalog`` (all when empty); False when a sync is already running."""
        if self._cancel is not None:
            return False
        self._cancel = cancel = threading.Event()
        self._panel().start(what)
        self.screen.run_worker(lambda: self._run(catalog, paper_ids, cancel), thread=True, group="sync")
        return True

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self._panel().status("Cancelling… (downloads stop at the next chunk)", "yellow")

    def _run(self, catalog: Catalog, paper_ids: list[str], cancel: threading.Event) -> None:
        from readtrack.arxiv.sync import sync
        from readtrack.search.index import refresh_list

        app, panel = self.screen.app, self._panel()
        try:
            report = sync(
                catalog,
                paper_ids,
                on_event=lambda event: app.call_from_thread(panel.show_event, event),
                cancel=cancel,
                index=refresh_list,
            )
        except ReadtrackError as err:
            app.call_from_thread(panel.fail, str(err))
        except Exception as err:  # a bug in sync must not take the reading list down with it
            app.call_from_thread(panel.fail, f"unexpected {one_line(err)} (please report it)")
        else:
            app.call_from_thread(panel.finish, report)
        finally:
            app.call_from_thread(self._done)

    def _done(self) -> None:
        self._cancel = None
        self._finished()
