"""``readtrack doctor``'s checks of the setup itself: the database, and temp files of writes that never
finished; and its lines on the plugins (broken or shadowed ones, calibrations that are not fresh). (The PDF
cache has its own, `readtrack.catalog.pdfcache.doctor`.)"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from readtrack.base import store
from readtrack.base.atomic import StaleTemp, stale_temps
from readtrack.base.paths import data_dir, database_path


@dataclass
class SetupReport:
    """What is wrong with the database and the folders readtrack writes, and what ``--repair`` did."""

    database: Path
    database_problem: str | None = None  # left as it is (no --repair)
    repaired: store.Repair | None = None
    stale: list[StaleTemp] = field(default_factory=list)  # left as they are (no --repair)
    removed: list[StaleTemp] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.database_problem is None and not self.stale

    @property
    def database_usable(self) -> bool:
        return self.database_problem is None

    def lines(self) -> list[str]:
        lines = []
        if self.repaired is not None:
            lines += self.repaired.lines()
        elif self.database_problem is not None:
            lines.append(
                f"database {self.database}: {self.database_problem}; `readtrack doctor --repair` moves it "
                "aside, keeps what can still be read and rebuilds the search index"
            )
        lines += [
            f"  left-over  {t.path}: {t.describe()}; `readtrack doctor --repair` removes it"
            for t in self.stale
        ]
        lines += [f"  removed    {t.path}: {t.describe()}" for t in self.removed]
        return lines


def check_setup(catalog_file: Path, *, repair: bool = False) -> SetupReport:
    """Check (and with ``repair``, fix) the database and the temp files beside papers.yaml and in the data
    dir. A repaired database's search index is empty: the caller rebuilds it (`search_index.rebuild`)."""
    report = SetupReport(database_path())
    if repair:
        report.repaired = store.repair_database()
    else:
        report.database_problem = store.check_database()
    home = data_dir()
    found = stale_temps(catalog_file.parent, catalog_file.name)
    for folder in (home, home / "cache"):
        if folder != catalog_file.parent:
            found += stale_temps(folder)
    for temp in found:
        if repair:
            with contextlib.suppress(FileNotFoundError):
                temp.path.unlink()
            report.removed.append(temp)
        else:
            report.stale.append(temp)
    return report


def plugin_problems() -> list[str]:
    """One line per plugin that is found but cannot run: broken (an import error, a bad declaration) or
    shadowed (a second plugin of a name: only the first runs). A copy of a built-in plugin is not one."""
    from readtrack.plugins import discovery as plugins

    return [
        f"plugin {p.name} ({p.source}, {p.origin}): {p.error}" for p in plugins.discover() if p.status != "ok"
    ]


def calibration_line() -> str:
    """How many working plugins are calibrated on their code as it is, and which are not, by why (stale,
    incomplete, not calibrated): `readtrack.history.calibration_state`."""
    from readtrack.history.calibration_state import plugin_states, summary_line

    return summary_line(plugin_states())


def semantic_scholar_line() -> str:
    """Where ``refs``, ``cites`` and ``next`` ask, and whether a key is set (never any of its characters)."""
    from readtrack.related.s2 import DEFAULT_RECS_URL, KEY_VARIABLE, S2Settings

    settings = S2Settings.from_env()
    recs = f" and {settings.recs_url}" if settings.recs_url != DEFAULT_RECS_URL else ""
    return (
        f"Semantic Scholar: {settings.graph_url}{recs} ({KEY_VARIABLE} {settings.key_said}; "
        f"{settings.delay:g} s between requests)"
    )


def cluster_line(address: str | None = None) -> tuple[str, bool]:
    """The cluster ``--executor ray`` would use, and whether it is usable: the one at ``address`` or
    ``RAY_ADDRESS`` asked for its nodes, CPUs and GPUs (a few seconds at most), else the Ray a command
    would start here. Ray is imported only when a cluster is named."""
    import importlib.metadata
    import importlib.util

    from readtrack.base.errors import ReadtrackError
    from readtrack.batch.groups import default_jobs
    from readtrack.batch.ray_executor import INSTALL, cluster_address, cluster_summary

    if importlib.util.find_spec("ray") is None:
        return f"cluster: Ray is not installed (`--executor ray` needs it: {INSTALL})", True
    version = importlib.metadata.version("ray")
    if cluster_address(address) is None:
        return (
            f"cluster: Ray {version}; no RAY_ADDRESS, so `--executor ray` starts a Ray on this machine "
            f"({default_jobs()} CPUs, 127.0.0.1 only, no dashboard)",
            True,
        )
    try:
        return f"cluster: Ray {version}; {cluster_summary(address)}", True
    except ReadtrackError as err:
        return f"cluster: {err}", False
