"""Running every plugin of a section (or of the whole list) from the TUI, in the background.

The run is the CLI's own ``python -m readtrack run --all [--section S] --quick --json`` in a subprocess (its
parallel workers are readtrack.batch.groups's; a crash in one cannot reach the TUI). A worker thread reads its
JSON-lines events: each plugin's result, recorded in history as soon as its run ends, is handed to the
screen at once (``on_result``), so the table's badges fill in while the rest still runs. ``cancel`` sends
SIGINT: the batch stops its workers, and plugins that had not finished leave nothing in history. The
main screen's ``R`` runs the section's plugins, ``ctrl+r`` every plugin of the list.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from collections.abc import Callable
from typing import Any

from textual.screen import Screen

from readtrack.base.processes import python_module
from readtrack.catalog.model import Catalog, Section


def shelf_command(section: str | None, quick: bool = True) -> list[str]:
    """The subprocess: the shelf runner of ``readtrack run --all`` (one section's plugins when given)."""
    argv = python_module("readtrack", "run", "--all", "--json", "--device", "auto")
    argv += ["--section", section] if section else []
    return [*argv, "--quick"] if quick else argv


class ShelfWorker:
    """Starts one shelf run at a time for ``screen`` (the main screen: its ``#papers-pane`` subtitle shows
    the progress). In the UI thread: ``on_result(plugin, status)`` after each plugin, ``on_end()`` once at
    the end, after the summary was shown."""

    def __init__(
        self, screen: Screen[None], on_result: Callable[[str, str], None], on_end: Callable[[], object]
    ) -> None:
        self.screen, self.on_result, self.on_end = screen, on_result, on_end
        self.process: subprocess.Popen[str] | None = None

    @property
    def running(self) -> bool:
        return self.process is not None

    def run(self, catalog: Catalog, section: Section | None) -> None:
        """Run the working plugins of ``section``'s papers (of every paper when None), telling the user."""
        if self.process is not None:
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
        try:
            self.process = subprocess.Popen(
                shelf_command(section.name if section is not None else None),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                bufsize=1,
                start_new_session=True,  # the TUI's Ctrl-C is not the shelf's
            )
        except OSError as err:
            self.screen.notify(f"cannot start the shelf run: {err}", severity="error")
            return
        self.screen.notify(
            f"Running the {len(names)} plugins of {where} (quick) in the background; Esc cancels"
        )
        process = self.process
        self.screen.run_worker(lambda: self._read(process, len(names)), thread=True, group="shelf")

    def cancel(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.screen.notify("Cancelling the shelf run: plugins that had not finished are not recorded")

    def _read(self, process: subprocess.Popen[str], total: int) -> None:
        assert process.stdout is not None and process.stderr is not None
        app = self.screen.app
        errors: list[str] = []
        stderr = process.stderr
        reader = threading.Thread(target=lambda: errors.extend(stderr), daemon=True)
        reader.start()
        done, summary = 0, None
        for line in process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            kind = event.get("type")
            if kind == "plugin_done":
                done += 1
                app.call_from_thread(self._progress, done, total)
                app.call_from_thread(self.on_result, str(event["plugin"]), str(event["status"]))
            elif kind == "batch":
                summary = event
        code = process.wait()
        reader.join(timeout=2)
        if summary is None:
            last = next((e.strip() for e in reversed(errors) if e.strip()), "")
            summary = {"status": "error", "message": last or f"the shelf run ended with exit status {code}"}
        app.call_from_thread(self._done, summary)

    def _progress(self, done: int, total: int) -> None:
        pane = self.screen.query_one("#papers-pane")
        pane.border_subtitle = f"shelf run: {done}/{total} plugins done · Esc cancels"

    def _done(self, summary: dict[str, Any]) -> None:
        self.process = None
        status = summary.get("status")
        plugins = summary.get("plugins") or []
        if status == "error":
            self.screen.notify(f"Shelf run: {summary.get('message')}", severity="error")
        elif plugins:
            passed = sum(p.get("status") == "passed" for p in plugins)
            note = f"Shelf run {status}: {passed} of {len(plugins)} plugins passed"
            self.screen.notify(note, severity="information" if status == "passed" else "warning")
        else:
            self.screen.notify("Shelf run cancelled", severity="warning")
        self.on_end()
