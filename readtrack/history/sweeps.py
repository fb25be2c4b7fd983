"""A sweep in history (issue 55): one entry of ``readtrack history``, its settings inside, and what
``readtrack compare`` lines up.

A sweep (``readtrack run NAME --set lr=A,B --seeds 0-2``) is recorded as a multi-seed group per setting, each
run marked with the sweep's id, and what it set out to run (`readtrack.history.runs.SweepPlan`). Read back,
it is a :class:`SweepRecord`: when it started, what it swept, how many of its runs passed, failed or are
missing (cut short by Ctrl-C, or still to come), and its groups. A sweep recorded before its plan was kept is
read from its groups alone. Torch-free, as all of history."""

from __future__ import annotations

import json
import re
import sqlite3
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from readtrack.base.errors import UsageError
from readtrack.history import runs as history
from readtrack.history.comparison import (
    Entry,
    Lineup,
    RunComparison,
    compare_records,
    knob_defaults,
    line_up,
)
from readtrack.history.spread import GroupRecord
from readtrack.plugins.knobs import settings_label
from readtrack.plugins.records import RunInfo, RunRecord, RunStatus, float_or_nan, worst_status


@dataclass
class SweepRecord:
    """A sweep: a multi-seed group per setting, one entry in ``readtrack history``. ``settings`` is what it
    set out to run (each setting's turned knobs in order, ``{}`` the defaults) on ``seeds``; ``groups`` the
    settings that have runs, in that order. ``status`` is ``running`` while it runs (``interrupted`` when
    its process is gone), ``cancelled`` when cut short, else the worst of its settings' (an error when a
    setting has no run at all)."""

    sweep_id: str
    plugin: str
    started_at: str
    status: RunStatus
    duration_s: float
    seeds: list[int]
    settings: list[dict[str, Any]]
    groups: list[GroupRecord] = field(default_factory=list)
    #: the plugin's defaults for the run size, where its config.py can still be read: what a setting that
    #: leaves a swept knob alone ran with (a setting keeps only its knobs off the defaults)
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def info(self) -> RunInfo:
        """The first setting's first run's info (device, quick, threads are shared by every run)."""
        return self.groups[0].info

    @property
    def runs(self) -> list[RunRecord]:
        return [r for g in self.groups for r in g.runs]

    @property
    def knobs(self) -> dict[str, list[Any]]:
        """Each knob the sweep turned and the values it took, in order: its default among them where a
        setting left it alone (``"default"`` when the plugin's config.py is gone)."""
        names = list(dict.fromkeys(key for turned in self.settings for key in turned))
        found: dict[str, list[Any]] = {key: [] for key in names}
        for turned in self.settings:
            for key in names:
                value = turned[key] if key in turned else self.defaults.get(key, "default")
                if value not in found[key]:
                    found[key].append(value)
        return found

    def not_run(self) -> list[dict[str, Any]]:
        """The settings with no run recorded (cut short, still to come, or no worker gave a record)."""
        have = {settings_label(g.info.settings) for g in self.groups}
        return [s for s in self.settings if settings_label(s) not in have]

    def counts(self) -> dict[str, int]:
        """Runs planned (settings × seeds), and of them passed, failed (any other end) and missing."""
        planned, runs = len(self.settings) * len(self.seeds), self.runs
        passed = sum(r.status == "passed" for r in runs)
        return {
            "runs": planned,
            "passed": passed,
            "failed": len(runs) - passed,
            "missing": planned - len(runs),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "sweep_id": self.sweep_id,
            "plugin": self.plugin,
            "started_at": self.started_at,
            "status": self.status,
            "duration_s": self.duration_s,
            "seeds": self.seeds,
            "settings": self.settings,
            "knobs": self.knobs,
            "counts": self.counts(),
            "not_run": self.not_run(),
            "groups": [g.to_dict() for g in self.groups],
        }


#: What ``readtrack history`` lists: runs made alone, multi-seed runs and sweeps, each one entry.
Listed = RunRecord | GroupRecord | SweepRecord


def listing(plugin: str | None = None, limit: int | None = None) -> list[Listed]:
    """History newest first as `readtrack.history.runs.entries` reads it, but a sweep is one entry, dated
    when it started, its settings' groups inside; only ``plugin``'s when given, at most ``limit``."""
    with history.connection() as conn:
        found = history.listed(conn, plugin, limit, sweeps=True)
        return [_sweep(conn, item) if isinstance(item, str) else item for item in found]


def _sweep(conn: sqlite3.Connection, sweep_id: str) -> SweepRecord:
    rows = conn.execute("SELECT * FROM run_groups WHERE sweep_id = ? ORDER BY started_at, rowid", (sweep_id,))
    groups = [history.group_of(conn, row) for row in rows]
    plan = conn.execute("SELECT * FROM sweeps WHERE sweep_id = ?", (sweep_id,)).fetchone()
    if plan is None:  # recorded before sweeps kept what they set out to run: what its groups ran
        settings = [g.info.settings for g in groups]
        seeds = list(dict.fromkeys(seed for g in groups for seed in g.seeds))
        started, state, duration = min(g.started_at for g in groups), "finished", float("nan")
    else:
        settings, seeds = json.loads(plan["settings"]), [int(x) for x in json.loads(plan["seeds"])]
        started, state, duration = plan["started_at"], plan["status"], float_or_nan(plan["duration_s"])
    order = [settings_label(s) for s in settings]
    groups.sort(
        key=lambda g: order.index(label) if (label := settings_label(g.info.settings)) in order else 0
    )
    status: RunStatus
    if state == "running":
        status = "running" if plan is not None and history.pid_alive(plan["pid"]) else history.INTERRUPTED
    elif state == "cancelled":
        status = "cancelled"
    else:
        no_run: list[RunStatus] = ["error"] if len(groups) < len(settings) else []
        status = worst_status([g.status for g in groups] + no_run)
    plugin = groups[0].plugin
    defaults = knob_defaults(plugin, groups[0].info.quick) or {}  # None: the plugin's config is gone
    return SweepRecord(sweep_id, plugin, started, status, duration, seeds, settings, groups, defaults)


#: A sweep's id, or the start of it (`readtrack history` shows 8 hex digits; 4 are enough when unique).
_SWEEP_ID = re.compile(r"[0-9a-f]{4,32}")


def sweep(ident: str) -> SweepRecord | None:
    """The sweep whose id starts with ``ident``; None when none does, a UsageError when several do."""
    if not _SWEEP_ID.fullmatch(ident.lower()):
        return None
    with history.connection() as conn:
        found = conn.execute(
            "SELECT DISTINCT sweep_id FROM run_groups WHERE sweep_id LIKE ? LIMIT 2", (ident.lower() + "%",)
        ).fetchall()
        if len(found) > 1:
            raise UsageError(f"{ident}: several sweeps have an id that starts so; give more of it")
        return _sweep(conn, found[0]["sweep_id"]) if found else None


def named(name: str | None, limit: int | None = None) -> list[Listed] | SweepRecord:
    """``readtrack history [NAME]``: the newest entries (of plugin NAME), a sweep as one; or, when NAME is
    no plugin's with runs but a sweep's id, that sweep. A name that is neither in history nor a plugin is
    a UsageError naming the closest plugins."""
    found = listing(name, limit)
    if name and not found:
        swept = sweep(name)
        if swept is not None:
            return swept
        history.plugin_entries(name, limit=1)  # raises for an unknown name
    return found


#: What ``readtrack history`` lists as an id (a run's, a multi-seed run's, a sweep's), or the start of it.
_ID = re.compile(r"[0-9a-z][0-9a-z-]{3,63}")


def by_id(ident: str, plugin: str | None = None) -> list[Entry] | SweepRecord | None:
    """The entry of history whose id starts with ``ident`` (4 characters or more, as `readtrack history`
    prints them): a sweep, a multi-seed run, or a run (made alone, or one seed of a multi-seed run); only
    ``plugin``'s when given. None when no id starts so; a UsageError when several do."""
    start = ident.strip().lower()
    if not _ID.fullmatch(start):
        return None
    mine = " AND plugin = ?" if plugin else ""
    args = [len(start), start, *([plugin] if plugin else [])]
    with history.connection() as conn:
        sweeps = conn.execute(
            f"SELECT DISTINCT sweep_id FROM run_groups WHERE substr(sweep_id, 1, ?) = ?{mine} LIMIT 2", args
        ).fetchall()
        groups = conn.execute(
            f"SELECT * FROM run_groups WHERE substr(group_id, 1, ?) = ?{mine} LIMIT 2", args
        )
        found: list[Any] = [("sweep", row["sweep_id"]) for row in sweeps]
        found += [("group", row) for row in groups]
        runs = conn.execute(
            f"SELECT record, status, pid FROM runs WHERE substr(run_id, 1, ?) = ?{mine} LIMIT 2", args
        )
        found += [("run", row) for row in runs]
        if len(found) > 1:
            raise UsageError(f"{ident}: several runs have an id that starts so; give more of it")
        if not found:
            return None
        ((kind, item),) = found
        if kind == "sweep":
            return _sweep(conn, item)
        return [history.group_of(conn, item) if kind == "group" else history._record(item)]


def columns(plugin: str | None, idents: Sequence[str]) -> tuple[list[Entry], SweepRecord | None]:
    """The runs and multi-seed runs ``idents`` name (a sweep's id: each of its settings), each once, in
    order; and the sweep when ``idents`` is one sweep's id. Only ``plugin``'s when given; a UsageError
    names an id that is no one's, or runs of two plugins."""
    found: list[Entry] = []
    swept = None
    for ident in idents:
        named = by_id(ident, plugin)
        if named is None:
            whose = f" of {plugin}" if plugin else ""
            listed = f"`readtrack history {plugin}`" if plugin else "`readtrack history`"
            raise UsageError(f"{ident}: no run{whose} with such an id ({listed} lists them)")
        if isinstance(named, SweepRecord):
            swept = named if len(idents) == 1 else None
            named = list(named.groups)
        found += [e for e in named if all(_ident(e) != _ident(f) for f in found)]
    plugins = list(dict.fromkeys(e.info.plugin for e in found))
    if len(plugins) > 1:
        raise UsageError(f"{', '.join(idents)}: runs of {' and '.join(plugins)}; compare runs of one plugin")
    return found, swept


def _ident(entry: Entry) -> str:
    return entry.group_id if isinstance(entry, GroupRecord) else entry.info.run_id


def compare(name: str, ids: Sequence[str] = ()) -> RunComparison | Lineup:
    """``readtrack compare NAME [ID]...``: with no id, the two newest finished runs of plugin NAME and how
    their numbers moved, or when the newest is a sweep's, or NAME is a sweep's id, that sweep's settings
    side by side (each the mean over its seeds). With ids (NAME a plugin, or itself the first id): two runs
    compared, or three and more lined up. A UsageError when there is nothing to compare."""
    if ids:
        return compare_ids(name, ids)
    found = history.entries(name, limit=1, finished=True)
    newest = (
        found[0].runs[0].info.sweep_id
        if found and isinstance(found[0], GroupRecord) and found[0].runs
        else None
    )
    swept = sweep(newest) if newest else (None if found else sweep(name))
    if swept is None:
        return history.compare(name)
    lineup = line_up(swept.groups)
    lineup.sweep_id, lineup.started_at, lineup.status = swept.sweep_id, swept.started_at, swept.status
    return lineup


def plugin_or_ids(name: str, ids: Sequence[str]) -> tuple[str | None, list[str]]:
    """``NAME [ID]...`` as ``readtrack compare`` and ``plot`` read it: NAME a plugin (None when it is no
    plugin's with runs but an id `by_id` finds: itself the first id) and the ids. A name that is neither is
    a UsageError naming the closest plugins."""
    if not history.entries(name, limit=1) and by_id(name) is not None:  # no plugin's runs: an id
        return None, [name, *ids]
    history.plugin_entries(name, limit=1)  # an unknown plugin, named with the closest ones
    return name, list(ids)


def compare_ids(name: str, ids: Sequence[str]) -> RunComparison | Lineup:
    """``readtrack compare NAME ID...`` (or ``compare ID ID...``): the entries the ids name (a sweep's id:
    every setting of it), two compared, older first, or more lined up as a sweep's settings are."""
    plugin, idents = plugin_or_ids(name, ids)
    found, swept = columns(plugin, idents)
    if len(found) < 2:
        raise UsageError(
            f"{' '.join(idents)}: one run; compare two or more (`readtrack compare {name} ID ID`), or a "
            "sweep's id"
        )
    if len(found) == 2 and swept is None:
        older, newer = sorted(found, key=lambda e: (e.started_at if isinstance(e, GroupRecord) else
                                                    e.info.started_at))  # fmt: skip
        comparison = compare_records(older, newer)
        comparison.ids = idents
        return comparison
    lineup = line_up(found)
    lineup.ids = idents
    if swept is not None:
        lineup.sweep_id, lineup.started_at, lineup.status = swept.sweep_id, swept.started_at, swept.status
    return lineup


def stage_times(plugin: str, quick: bool, limit: int = 30) -> dict[str, float]:
    """Each stage's median seconds in ``plugin``'s newest ``limit`` finished runs of this size (quick or
    full), passed or failed (an error or a timeout ends early): what a sweep's plan expects of a run;
    a stage never recorded is left out."""
    with history.connection() as conn:
        rows = conn.execute(
            "SELECT record FROM runs WHERE plugin = ? AND quick = ? AND status IN ('passed', 'failed')"
            " ORDER BY started_at DESC, rowid DESC LIMIT ?",
            (plugin, int(quick), limit),
        ).fetchall()
    durations: dict[str, list[float]] = {}
    for row in rows:
        for stage in json.loads(row["record"]).get("stages", []):
            seconds = stage.get("duration_s")
            if stage.get("status") in ("passed", "failed") and isinstance(seconds, (int, float)):
                durations.setdefault(stage["stage"], []).append(float(seconds))
    return {stage: statistics.median(found) for stage, found in durations.items()}
