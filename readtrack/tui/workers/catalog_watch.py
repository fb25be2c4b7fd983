"""Keeping the TUI's papers.yaml current: the first load, a poll for changes on disk, edits one at a time.

`CatalogWatcher` belongs to a screen and hands it each catalog to show through ``install``. The file is
polled every `POLL_SECONDS`: when it changes on disk (an editor, the CLI), it is reloaded in a worker thread
and the cursor stays on the same paper; when it becomes invalid, a `CatalogErrorScreen` says where and why
until the file is fixed. Edits (`readtrack.catalog.edits` calls) run in a worker, one at a time, and the poll
skips while one is writing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from textual.screen import Screen
from textual.worker import get_current_worker

from readtrack.base.errors import CatalogError, ReadtrackError
from readtrack.catalog.model import Catalog
from readtrack.plugins.links import load
from readtrack.tui.screens.dialogs import CatalogErrorScreen

POLL_SECONDS = 1.0
FileSignature = tuple[int, int] | None
Install = Callable[[Catalog, "str | None"], None]  # (catalog, the paper id to keep the cursor on, or None)


def file_signature(path: Path) -> FileSignature:
    """(mtime_ns, size) of papers.yaml, None when it is missing: what the reload poll compares."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


class CatalogWatcher:
    """Loads ``path`` for ``screen``, reloads it when it changes on disk, and applies edits to it."""

    def __init__(self, screen: Screen[None], path: Path, install: Install) -> None:
        self.screen, self.path, self._install = screen, path, install
        self.signature: FileSignature = None
        self._edit_lock = threading.Lock()
        self._error_screen: CatalogErrorScreen | None = None

    def start(self) -> None:
        """The first load, in the UI thread (the first paint needs it anyway), then the poll."""
        signature = file_signature(self.path)
        try:
            catalog = load(self.path)
        except CatalogError as err:
            self._show_error(str(err), signature)
        else:
            self._show(catalog, signature, None)
        self.screen.set_interval(POLL_SECONDS, self._poll)

    def _poll(self) -> None:
        signature = file_signature(self.path)
        if signature != self.signature and not self._edit_lock.locked():
            self.reload(signature)

    def reload(self, signature: FileSignature = None) -> None:
        """Load the file again in a worker (a newer reload cancels an older one)."""
        self.screen.run_worker(
            lambda: self._reload_in_thread(signature), thread=True, exclusive=True, group="reload"
        )

    def _reload_in_thread(self, signature: FileSignature) -> None:
        try:
            catalog = load(self.path)
        except CatalogError as err:
            self.screen.app.call_from_thread(self._show_error, str(err), signature)
            return
        if not get_current_worker().is_cancelled:
            self.screen.app.call_from_thread(self._show, catalog, signature, None)

    def edit(
        self,
        change: Callable[[], Catalog],
        keep: Callable[[], str | None] | None = None,
        done: str | None = None,
    ) -> None:
        """Run ``change`` (an `edits` call) in a worker, then show the catalog, cursor on ``keep()``; a
        refused edit is a notification and a reload (the screen may have shown it already)."""
        self.screen.run_worker(lambda: self._edit_in_thread(change, keep, done), thread=True, group="edits")

    def _edit_in_thread(
        self, change: Callable[[], Catalog], keep: Callable[[], str | None] | None, done: str | None
    ) -> None:
        app = self.screen.app
        with self._edit_lock:
            try:
                catalog = change()
                signature = file_signature(self.path)
            except ReadtrackError as err:
                app.call_from_thread(self.screen.notify, str(err), title="Not saved", severity="error")
                app.call_from_thread(self.reload, None)
                return
            app.call_from_thread(self._show, catalog, signature, keep() if keep else None)
            if done:
                app.call_from_thread(self.screen.notify, done)

    def _show(self, catalog: Catalog, signature: FileSignature, keep: str | None) -> None:
        self.signature = signature
        if self._error_screen is not None:
            self.screen.app.pop_screen()
            self._error_screen = None
        self._install(catalog, keep)

    def _show_error(self, message: str, signature: FileSignature) -> None:
        self.signature = signature
        if self._error_screen is None:
            self._error_screen = CatalogErrorScreen(message, str(self.path))
            self.screen.app.push_screen(self._error_screen)
        else:
            self._error_screen.show(message)
