"""The run screen's p: the picture of the run it shows, as ``readtrack plot`` draws it
(`readtrack.render.pictures`), saved as a PNG in the data dir's ``plots`` folder, and a notice naming the
file.

matplotlib is imported here, in a worker, only when the key is pressed: never at the TUI's start.
"""

from __future__ import annotations

from pathlib import Path

from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import get_current_worker

from readtrack.base.errors import one_line
from readtrack.history.spread import GroupRecord
from readtrack.plugins.records import RunRecord


def plot_path(entry: RunRecord | GroupRecord) -> Path:
    """Where ``entry``'s picture goes: the data dir's ``plots`` folder, one PNG a run (saving the same run
    again replaces it)."""
    from readtrack.base.paths import data_dir

    ident = (entry.group_id if isinstance(entry, GroupRecord) else "") or entry.info.run_id
    folder = data_dir() / "plots"
    folder.mkdir(exist_ok=True)
    return folder / f"{entry.info.plugin}-{ident[:12]}.png"


def save_plot(screen: Screen[None], entry: RunRecord | GroupRecord) -> None:
    """Draw and save ``entry``'s picture in a worker of ``screen`` (a second press while one is drawn
    replaces it); a notice says where, or why not."""
    screen.notify("Saving the plot…", timeout=2)
    screen.run_worker(lambda: _save(screen, entry), thread=True, exclusive=True, group="run-plot")


def _save(screen: Screen[None], entry: RunRecord | GroupRecord) -> None:
    from readtrack.render.pictures import figure, save

    try:
        path = save(figure([entry]), plot_path(entry))
    except Exception as err:  # nothing to plot, a data dir not writable: said, never fatal
        _tell(screen, f"Plot not saved: {one_line(err)}", "error")
        return
    _tell(screen, f"Saved the plot (the data dir's plots folder): {path}", "information")


def _tell(screen: Screen[None], message: str, severity: SeverityLevel) -> None:
    if not get_current_worker().is_cancelled:  # a press after it: that one says
        screen.app.call_from_thread(screen.notify, message, severity=severity, timeout=20)
