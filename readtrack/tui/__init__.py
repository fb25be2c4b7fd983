"""The Textual TUI: what `readtrack` opens when given no command.

This module stays light: `readtrack --help` imports it through the CLI, so textual is imported only
inside `run_tui`.
"""

from __future__ import annotations

import sys
from pathlib import Path

CRASH_LOG = "tui-crash.log"  # in the data dir: the traceback of the TUI's last crash


def run_tui(catalog: Path | None = None, debug: bool = False) -> None:
    """Open the TUI on ``catalog`` (default: the active papers.yaml) and return when the user quits.

    An exception no code caught is a bug: Textual ends the app, and this raises a `ReadtrackError` (exit 1)
    whose one line names the error and the file holding its traceback. With ``debug`` the traceback is
    printed as Textual draws it, and the exit status is 1 too."""
    import io

    from rich.console import Console

    from readtrack.base.errors import ReadtrackError, one_line
    from readtrack.tui.app import ReadtrackApp

    app = ReadtrackApp(catalog)
    traceback = io.StringIO()
    if not debug:  # Textual prints the traceback (with locals) on this console when the app ends
        app.error_console = Console(file=traceback, width=120, markup=False, highlight=False)
    app.run()
    if app.crash is None:
        return
    if debug:
        sys.exit(1)
    where = "run `readtrack --debug` to see its traceback"
    try:
        from readtrack.base.paths import data_dir

        log = data_dir() / CRASH_LOG
        log.write_text(traceback.getvalue(), encoding="utf-8")
        where = f"its traceback is in {log}"
    except OSError:
        pass
    raise ReadtrackError(f"the TUI stopped on an unexpected error (a bug): {one_line(app.crash)}; {where}")
