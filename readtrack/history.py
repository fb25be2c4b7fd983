"""Run history: every plugin run, stored in the ``runs`` table of readtrack's SQLite database.

The recorder is a plugin of the same pluggy mechanism as paper plugins (see ``readtrack.hookspecs``):
:class:`HistoryRecorder` inserts a ``running`` row from ``readtrack_run_started`` and fills it in from
``readtrack_run_finished``. A row keeps the whole :class:`~readtrack.records.RunRecord` as JSON (stage
results, curves, bench rows, environment) next to indexed columns for the queries the CLI and the TUI make:
:func:`runs`, :func:`last_run`, :func:`last_two`, :func:`last_statuses`, :func:`last_by_device` and
:func:`compare`.

Reading history needs neither torch nor the plugins themselves.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, NamedTuple, cast

from readtrack.errors import UsageError
from readtrack.hookspecs import hookimpl
from readtrack.records import RUN_STATUSES, RunInfo, RunRecord, RunStatus, jsonable
from readtrack.store import connect, ensure_schema

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,
    plugin      TEXT NOT NULL,
    paper_id    TEXT NOT NULL,
    device      TEXT NOT NULL,
    status      TEXT NOT NULL,  -- running, then passed | failed | error | timeout | cancelled
    quick       INTEGER NOT NULL,
    seed        INTEGER NOT NULL,
    started_at  TEXT NOT NULL,  -- ISO 8601, UTC
    finished_at TEXT,
    duration_s  REAL,
    pid         INTEGER,        -- the running process, to tell a killed run from a live one
    environment TEXT NOT NULL,  -- JSON
    record      TEXT NOT NULL   -- JSON of the RunRecord (a stage-less placeholder while running)
);
CREATE INDEX IF NOT EXISTS runs_by_plugin ON runs (plugin, started_at);
"""

#: A ``running`` row whose process is gone (killed, power cut) is reported with this status.
INTERRUPTED: RunStatus = "interrupted"


@contextmanager
def _connect() -> Iterator[sqlite3.Connection]:
    conn = connect()
    try:
        ensure_schema(conn, SCHEMA)
        yield conn
    finally:
        conn.close()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _dumps(value: Any) -> str:
    return json.dumps(jsonable(value))


def record_started(info: RunInfo) -> None:
    """Insert the ``running`` row for a run that is starting."""
    placeholder = RunRecord(info=info, status="running", duration_s=0.0)
    with _connect() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO runs (run_id, plugin, paper_id, device, status, quick, seed, started_at,"
            " pid, environment, record) VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)",
            (
                info.run_id,
                info.plugin,
                info.paper_id,
                info.device,
                int(info.quick),
                info.seed,
                info.started_at,
                os.getpid(),
                _dumps(info.environment),
                _dumps(placeholder.to_dict()),
            ),
        )


def record_finished(record: RunRecord) -> None:
    """Store a finished run (inserting it when its start was never recorded)."""
    info = record.info
    with _connect() as conn:
        updated = conn.execute(
            "UPDATE runs SET status = ?, finished_at = ?, duration_s = ?, record = ?, environment = ?"
            " WHERE run_id = ?",
            (
                record.status,
                _now(),
                record.duration_s,
                _dumps(record.to_dict()),
                _dumps(info.environment),
                info.run_id,
            ),
        ).rowcount
    if not updated:
        record_started(info)
        record_finished(record)


class HistoryRecorder:
    """The pluggy plugin that writes every run into history (registered by ``readtrack.plugins``)."""

    @hookimpl
    def readtrack_run_started(self, run: RunInfo) -> None:
        record_started(run)

    @hookimpl
    def readtrack_run_finished(self, run: RunInfo, record: RunRecord) -> None:
        record_finished(record)


# -- queries ---------------------------------------------------------------------------------------
def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but belongs to someone else, or we cannot tell: assume alive
    return True


def _status(row: sqlite3.Row) -> RunStatus:
    status = str(row["status"])
    if status == "running" and not _pid_alive(row["pid"]):
        return INTERRUPTED
    if status not in RUN_STATUSES:
        raise ValueError(f"run {row['run_id']} has an unknown status {status!r} in the history database")
    return cast(RunStatus, status)


def _record(row: sqlite3.Row) -> RunRecord:
    record = RunRecord.from_dict(json.loads(row["record"]))
    record.status = _status(row)
    return record


def runs(plugin: str | None = None, limit: int | None = None) -> list[RunRecord]:
    """Recorded runs, newest first; only ``plugin``'s when given, at most ``limit``."""
    sql = "SELECT record, status, pid FROM runs"
    args: list[Any] = []
    if plugin:
        sql += " WHERE plugin = ?"
        args.append(plugin)
    sql += " ORDER BY started_at DESC, rowid DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(max(0, int(limit)))
    with _connect() as conn:
        rows = conn.execute(sql, args).fetchall()
    return [_record(row) for row in rows]


def last_run(plugin: str) -> RunRecord | None:
    """The newest run of ``plugin`` (finished or not), or None."""
    found = runs(plugin, limit=1)
    return found[0] if found else None


def last_two(plugin: str) -> list[RunRecord]:
    """The two newest *finished* runs of ``plugin``, newest first (fewer when there are fewer)."""
    with _connect() as conn:
        rows = conn.execute(
            "SELECT record, status, pid FROM runs WHERE plugin = ? AND status != 'running'"
            " ORDER BY started_at DESC, rowid DESC LIMIT 2",
            (plugin,),
        ).fetchall()
    return [_record(row) for row in rows]


@dataclass(frozen=True)
class LastStatus:
    """The outcome of a plugin's newest run, for listings."""

    status: RunStatus
    started_at: str
    device: str
    duration_s: float | None


def last_statuses() -> dict[str, LastStatus]:
    """Each plugin's newest run (one query; no record JSON is parsed)."""
    with _connect() as conn:
        rows = conn.execute(
            "SELECT plugin, status, pid, started_at, device, duration_s FROM runs AS r"
            " WHERE rowid = (SELECT rowid FROM runs WHERE plugin = r.plugin"
            " ORDER BY started_at DESC, rowid DESC LIMIT 1)"
        ).fetchall()
    return {
        row["plugin"]: LastStatus(_status(row), row["started_at"], row["device"], row["duration_s"])
        for row in rows
    }


def newest_status(by_device: dict[str, dict[str, str]]) -> dict[str, str]:
    """plugin -> the status of its newest run on any device, from `last_by_device`'s statuses (newest
    first per plugin, so the first device listed holds it)."""
    return {plugin: next(iter(devices.values())) for plugin, devices in by_device.items() if devices}


def last_by_device() -> dict[str, dict[str, LastStatus]]:
    """Each plugin's newest run on each device kind (``cpu``, ``cuda``, ``mps``), in one query."""
    newest: dict[str, dict[str, LastStatus]] = {}
    with _connect() as conn:
        rows = conn.execute(
            "SELECT run_id, plugin, status, pid, started_at, device, duration_s FROM runs"
            " ORDER BY started_at DESC, rowid DESC"
        ).fetchall()
    for row in rows:
        kind = str(row["device"]).split(":")[0]
        per_device = newest.setdefault(row["plugin"], {})
        if kind not in per_device:
            per_device[kind] = LastStatus(_status(row), row["started_at"], row["device"], row["duration_s"])
    return newest


# -- comparing two runs ----------------------------------------------------------------------------
@dataclass
class Delta:
    """One number in two runs: ``change`` is new - old, ``ratio`` new / old (None when undefined)."""

    section: str  # check | target | measured | bench
    name: str
    old: float | None
    new: float | None
    old_passed: bool | None = None
    new_passed: bool | None = None
    unit: str = ""
    #: a bench median too noisy in either run (IQR over 20% of the median) for the change to mean much
    noisy: bool = False

    @property
    def change(self) -> float | None:
        if self.old is None or self.new is None or not (math.isfinite(self.old) and math.isfinite(self.new)):
            return None
        return self.new - self.old

    @property
    def ratio(self) -> float | None:
        if self.change is None or self.old is None or self.new is None or self.old == 0:
            return None
        return self.new / self.old

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "change": self.change, "ratio": self.ratio}


@dataclass
class RunComparison:
    """The two newest finished runs of a plugin and how their numbers moved."""

    plugin: str
    older: RunRecord
    newer: RunRecord
    deltas: list[Delta] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "plugin": self.plugin,
                "older": _run_summary(self.older),
                "newer": _run_summary(self.newer),
                "deltas": [d.to_dict() for d in self.deltas],
            }
        )


def _run_summary(record: RunRecord) -> dict[str, Any]:
    info = record.info
    return {
        "run_id": info.run_id,
        "started_at": info.started_at,
        "device": info.device,
        "quick": info.quick,
        "seed": info.seed,
        "status": record.status,
        "duration_s": record.duration_s,
        "environment": info.environment,
    }


class _Number(NamedTuple):
    value: float | None
    passed: bool | None
    unit: str
    noisy: bool = False


def _numbers(record: RunRecord) -> dict[tuple[str, str], _Number]:
    found: dict[tuple[str, str], _Number] = {}
    for stage in record.stages:
        for comp in stage.comparisons:
            unit = "max abs error" if comp.kind == "close" else "value"
            found[("check", comp.name)] = _Number(comp.max_abs, comp.passed, unit)
        for target in stage.targets:
            found[("target", target.name)] = _Number(target.value, target.passed, "")
        for measured in stage.measured:
            found[("measured", measured.name)] = _Number(measured.value, None, "")
        for row in stage.bench:
            median = None if row.error else row.median_s
            found[("bench", row.label)] = _Number(median, row.error is None, "median s", row.noisy)
    return found


def compare_records(older: RunRecord, newer: RunRecord) -> RunComparison:
    """Line up every check error, target, measured value and bench median of two runs."""
    old, new = _numbers(older), _numbers(newer)
    missing = _Number(None, None, "")
    deltas = []
    for key in list(old) + [k for k in new if k not in old]:
        o, n = old.get(key, missing), new.get(key, missing)
        deltas.append(
            Delta(key[0], key[1], o.value, n.value, o.passed, n.passed, o.unit or n.unit, o.noisy or n.noisy)
        )
    return RunComparison(newer.info.plugin, older, newer, deltas)


def compare(plugin: str) -> RunComparison:
    """Compare the two newest finished runs of ``plugin``; a UsageError says so when there are fewer."""
    found = last_two(plugin)
    if len(found) < 2:
        have = "no finished run" if not found else "only one finished run"
        raise UsageError(
            f"cannot compare {plugin}: history has {have} of it; run `readtrack run {plugin}` again first"
        )
    newer, older = found
    return compare_records(older, newer)
