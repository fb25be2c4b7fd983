"""The readtrack plugin contract: every hook a plugin may implement, and when it is called.

readtrack uses pluggy with the project name ``readtrack``. A *paper plugin* is a package (built-in under
``plugins/<paper_id>/``, an installed distribution exposing the entry-point group ``readtrack``, or a folder
in the user's plugin directory) whose light ``__init__.py`` implements :func:`readtrack_paper_plugins`.
*Lifecycle* hooks (:func:`readtrack_run_started`, :func:`readtrack_run_progress`,
:func:`readtrack_run_finished`) let any plugin observe runs: readtrack's own run history is recorded by a
plugin of exactly this kind (``readtrack.history.runs``), so users can add exporters the same way. They
speak the run's record (`readtrack.plugins.records`), which is part of this contract.

Hook implementations are marked with ``readtrack.hookimpl`` (`readtrack.plugins.markers`, re-exported from
here). Importing this module must stay cheap: no torch, no textual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from readtrack.plugins.markers import PROJECT, hookimpl, hookspec

if TYPE_CHECKING:
    from readtrack.plugins.declaration import PaperPlugin
    from readtrack.plugins.lineages import Lineage, Member
    from readtrack.plugins.records import RunInfo, RunRecord

__all__ = [
    "PROJECT",
    "hookimpl",
    "hookspec",
    "readtrack_lineages",
    "readtrack_paper_plugins",
    "readtrack_run_finished",
    "readtrack_run_progress",
    "readtrack_run_started",
]


@hookspec
def readtrack_paper_plugins() -> list[PaperPlugin]:
    """Declare the paper plugins this module provides.

    Called once when plugins are discovered, for listing (``readtrack plugins``, the TUI's badges) and
    before running. Return a list of :class:`readtrack.plugins.declaration.PaperPlugin` declarations. This
    hook runs while listing, so the module implementing it must not import torch or other heavy modules at
    import time: name the implementation and experiment modules in the declaration instead and readtrack
    imports them only when the plugin runs.

    An exception raised here marks the module's plugins as broken (with the error) instead of crashing.
    """
    raise NotImplementedError


@hookspec
def readtrack_run_started(run: RunInfo) -> None:
    """A plugin run is about to start its first stage.

    ``run`` says which plugin, paper, device, stages, seed and quick mode, and carries the run's id and
    environment (device name, library versions). Return value is ignored.
    """


@hookspec
def readtrack_run_progress(run: RunInfo, event: dict[str, Any]) -> None:
    """A running plugin reported progress.

    ``event`` is a JSON-serialisable dict with at least ``type`` (``"stage"``, ``"progress"``, ``"log"``,
    ``"metric"``, ``"result"``) and ``stage``; the same events stream as JSON lines from
    ``readtrack run --json``. Called on the runner's thread: keep implementations fast. The shapes (their
    type names are `readtrack.plugins.events`' constants):

    - ``{"type": "stage", "event": "start", "timeout_s": ...}`` (the stage's timeout, 0 for none), then
      ``{"type": "stage", "event": "end", "status": ..., "duration_s": ..., "error": ...}`` (status: passed,
      failed, error, timeout, cancelled, skipped);
    - ``{"type": "progress", "done": ..., "total": ..., "message": ...}``;
    - ``{"type": "log", "message": ...}`` (with ``"knobs_missed": STAGE`` when a stage a sweep judged to
      read no knob called ``ctx.config`` all the same: `readtrack.batch.sweep`);
    - ``{"type": "metric", "name": ..., "step": ..., "value": ...}``;
    - ``{"type": "result", "kind": "comparison" | "target" | "measured" | "bench", "data": {...}}``.

    The ``--json`` stream also opens with ``{"type": "start", "run": RunInfo}`` and closes with
    ``{"type": "record", "record": RunRecord}`` (or is one ``{"type": "error", "message": ...,
    "exit_code": ...}`` line when the run could not start); hooks get those two from
    ``readtrack_run_started`` and ``readtrack_run_finished`` instead.
    """


@hookspec
def readtrack_run_finished(run: RunInfo, record: RunRecord) -> None:
    """A run ended: passed, failed, errored, timed out or cancelled (``record.status`` says which).

    ``record`` holds every stage's result, the metric curves, the benchmark rows, timings and the
    environment. readtrack's history recorder stores it in SQLite from this hook.
    """


@hookspec
def readtrack_lineages() -> list[Lineage | Member]:
    """Declare lineages (families of papers in time) and members of them (`readtrack.plugins.lineages`).

    Return :class:`readtrack.plugins.lineages.Lineage` s (a family: its name, title, question, section and
    family bench) and :class:`readtrack.plugins.lineages.Member` s (a plugin, or an arm of one, joining a
    family declared here or anywhere else: what it improved over which earlier member, and the number that
    says so). ``readtrack_lineages = lineage_members(...)`` in a plugin's ``__init__.py`` is the usual way.
    Called when ``readtrack lineage`` (or the TUI's lineage view) asks, never while listing plugins; light,
    as ``readtrack_paper_plugins``. An implementation that raises is said in one line and left out.
    """
    raise NotImplementedError
