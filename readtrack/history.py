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

import contextlib
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
from readtrack.records import (
    RUN_STATUSES,
    GroupRecord,
    RunInfo,
    RunRecord,
    RunStatus,
    float_or_nan,
    jsonable,
)
from readtrack.spread import spreads
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
CREATE TABLE IF NOT EXISTS run_groups (
    group_id    TEXT PRIMARY KEY,
    plugin      TEXT NOT NULL,
    status      TEXT NOT NULL,  -- passed only when every seed's run passed
    seeds       TEXT NOT NULL,  -- JSON list, in run order
    started_at  TEXT NOT NULL,
    duration_s  REAL,
    missing     TEXT NOT NULL   -- JSON {seed: why} for seeds whose worker gave no record
);
CREATE INDEX IF NOT EXISTS run_groups_by_plugin ON run_groups (plugin, started_at);
"""

#: Columns added to ``runs`` after its first release, with their DDL (added on first use of an older file).
ADDED_COLUMNS = {"group_id": "ALTER TABLE runs ADD COLUMN group_id TEXT"}

#: The name the recorder is registered under with pluggy (``readtrack.plugins``); a run kept out of history
#: (``run_plugin(keep_history=False)``) skips the observer of this name.
RECORDER_NAME = "readtrack.history"

#: A ``running`` row whose process is gone (killed, power cut) is reported with this status.
INTERRUPTED: RunStatus = "interrupted"


@contextmanager
def _connect() -> Iterator[sqlite3.Connection]:
    conn = connect()
    try:
        ensure_schema(conn, SCHEMA)
        have = {row["name"] for row in conn.execute("PRAGMA table_info(runs)")}
        for column, ddl in ADDED_COLUMNS.items():
            if column not in have:
                with contextlib.suppress(sqlite3.OperationalError):  # another process added it first
                    conn.execute(ddl)
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
        _insert(conn, placeholder, os.getpid())


def _insert(
    conn: sqlite3.Connection, record: RunRecord, pid: int | None, finished_at: str | None = None
) -> None:
    info = record.info
    conn.execute(
        "INSERT OR REPLACE INTO runs (run_id, plugin, paper_id, device, status, quick, seed, started_at,"
        " finished_at, duration_s, pid, environment, record, group_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            info.run_id,
            info.plugin,
            info.paper_id,
            info.device,
            record.status,
            int(info.quick),
            info.seed,
            info.started_at,
            finished_at,
            None if record.status == "running" else record.duration_s,
            pid,
            _dumps(info.environment),
            _dumps(record.to_dict()),
            info.group_id,
        ),
    )


def record_group(group: GroupRecord) -> None:
    """Store a multi-seed run: every seed's finished run and the group row, in one transaction (a reader
    never sees part of a group)."""
    finished = _now()
    with _connect() as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for record in group.runs:
                record.info.group_id = group.group_id
                _insert(conn, record, None, finished)
            conn.execute(
                "INSERT OR REPLACE INTO run_groups (group_id, plugin, status, seeds, started_at, duration_s,"
                " missing) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    group.group_id,
                    group.plugin,
                    group.status,
                    json.dumps(group.seeds),
                    group.started_at,
                    group.duration_s,
                    json.dumps({str(k): v for k, v in group.missing.items()}),
                ),
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


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


#: What history lists: a run made alone, or the runs of one multi-seed run together.
Entry = RunRecord | GroupRecord


def entries(plugin: str | None = None, limit: int | None = None, *, finished: bool = False) -> list[Entry]:
    """History as a reader sees it, newest first: runs made alone and multi-seed groups (each one entry,
    its seeds' runs inside); only ``plugin``'s when given, at most ``limit``, only finished ones with
    ``finished``."""
    where, args = ["group_id IS NULL"], []
    if plugin:
        where.append("plugin = ?")
        args.append(plugin)
    if finished:
        where.append("status != 'running'")
    cap = "" if limit is None else f" LIMIT {max(0, int(limit))}"
    with _connect() as conn:
        rows = conn.execute(
            f"SELECT record, status, pid, started_at FROM runs WHERE {' AND '.join(where)}"
            f" ORDER BY started_at DESC, rowid DESC{cap}",
            args,
        ).fetchall()
        group_rows = conn.execute(
            "SELECT * FROM run_groups"
            + (" WHERE plugin = ?" if plugin else "")
            + f" ORDER BY started_at DESC, rowid DESC{cap}",
            [plugin] if plugin else [],
        ).fetchall()
        found: list[tuple[str, int, Entry | sqlite3.Row]] = [(r["started_at"], 0, r) for r in rows]
        found += [(g["started_at"], 1, g) for g in group_rows]
        found.sort(key=lambda item: item[0], reverse=True)  # stable: alone runs first on a tie
        chosen = found if limit is None else found[: max(0, int(limit))]
        return [_group(conn, item) if kind else _record(item) for _, kind, item in chosen]  # type: ignore[arg-type]


def _group(conn: sqlite3.Connection, row: sqlite3.Row) -> GroupRecord:
    seeds = [int(s) for s in json.loads(row["seeds"])]
    members = [
        _record(r)
        for r in conn.execute("SELECT record, status, pid FROM runs WHERE group_id = ?", (row["group_id"],))
    ]
    members.sort(key=lambda r: seeds.index(r.info.seed) if r.info.seed in seeds else len(seeds))
    return GroupRecord(
        group_id=row["group_id"],
        plugin=row["plugin"],
        seeds=seeds,
        started_at=row["started_at"],
        status=cast(RunStatus, row["status"]),
        duration_s=float_or_nan(row["duration_s"]),
        runs=members,
        missing={int(k): v for k, v in json.loads(row["missing"]).items()},
    )


def group(group_id: str) -> GroupRecord | None:
    """One multi-seed run by its id (a prefix is enough when it is unique), or None."""
    with _connect() as conn:
        rows = conn.execute(
            "SELECT * FROM run_groups WHERE group_id LIKE ? LIMIT 2", (group_id.replace("%", "") + "%",)
        ).fetchall()
        return _group(conn, rows[0]) if len(rows) == 1 else None


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


# A seed's run stands for its multi-seed group in listings: the group's verdict (failed when one seed
# failed), not the newest seed's own.
_VERDICT = "COALESCE(g.status, r.status) AS status"


def last_statuses() -> dict[str, LastStatus]:
    """Each plugin's newest run, or the verdict of the multi-seed run it belongs to (one query; no record
    JSON is parsed)."""
    with _connect() as conn:
        rows = conn.execute(
            f"SELECT r.plugin, {_VERDICT}, r.pid, r.started_at, r.device, r.duration_s FROM runs AS r"
            " LEFT JOIN run_groups AS g ON g.group_id = r.group_id"
            " WHERE r.rowid = (SELECT rowid FROM runs WHERE plugin = r.plugin"
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
    """Each plugin's newest run on each device kind (``cpu``, ``cuda``, ``mps``), in one query; a seed of a
    multi-seed run gives its group's verdict."""
    newest: dict[str, dict[str, LastStatus]] = {}
    with _connect() as conn:
        rows = conn.execute(
            f"SELECT r.run_id, r.plugin, {_VERDICT}, r.pid, r.started_at, r.device, r.duration_s"
            " FROM runs AS r LEFT JOIN run_groups AS g ON g.group_id = r.group_id"
            " ORDER BY r.started_at DESC, r.rowid DESC"
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
    older: Entry
    newer: Entry
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


def _run_summary(record: Entry) -> dict[str, Any]:
    info = record.info
    if isinstance(record, GroupRecord):
        return {
            **_run_summary(record.runs[0]),
            "run_id": None,
            "group_id": record.group_id,
            "seeds": record.seeds,
            "status": record.status,
            "duration_s": record.duration_s,
            "spread": [s.to_dict() for s in spreads(record.runs)],
        }
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


def _numbers(entry: Entry) -> dict[tuple[str, str], _Number]:
    """Every number of a run; of a multi-seed run, each number's mean over its seeds (passed when it
    passed on every seed)."""
    if isinstance(entry, GroupRecord):
        per_seed = [_numbers(r) for r in entry.runs]
        keys = list(dict.fromkeys(k for numbers in per_seed for k in numbers))
        found = {}
        for key in keys:
            seen = [n[key] for n in per_seed if key in n]
            values = [x.value for x in seen if x.value is not None and math.isfinite(x.value)]
            passes = [x.passed for x in seen if x.passed is not None]
            found[key] = _Number(
                sum(values) / len(values) if values else None,
                (all(passes) and len(seen) == len(per_seed)) if passes else None,
                seen[0].unit,
                any(x.noisy for x in seen),
            )
        return found
    record = entry
    found = {}
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


def compare_records(older: Entry, newer: Entry) -> RunComparison:
    """Line up every check error, target, measured value and bench median of two runs (of a multi-seed
    run: the mean over its seeds)."""
    old, new = _numbers(older), _numbers(newer)
    missing = _Number(None, None, "")
    deltas = []
    for key in list(old) + [k for k in new if k not in old]:
        o, n = old.get(key, missing), new.get(key, missing)
        deltas.append(
            Delta(key[0], key[1], o.value, n.value, o.passed, n.passed, o.unit or n.unit, o.noisy or n.noisy)
        )
    return RunComparison(newer.info.plugin, older, newer, deltas)


def plugin_entries(plugin: str | None, limit: int | None = None) -> list[Entry]:
    """`readtrack history [NAME]`: the newest entries (of ``plugin``); a name that is neither in history nor
    a plugin is a UsageError naming the closest plugins."""
    found = entries(plugin, limit=limit)
    if plugin and not found:
        from readtrack.plugins import get

        get(plugin)  # raises for an unknown name
    return found


def compare(plugin: str) -> RunComparison:
    """Compare the two newest finished runs of ``plugin``; a UsageError says so when there are fewer."""
    found = entries(plugin, limit=2, finished=True)
    if len(found) < 2:
        if not plugin_entries(plugin, limit=1):
            raise UsageError(
                f"cannot compare {plugin}: it was never run; run it twice (`readtrack run {plugin} --quick`, "
                "each run is recorded), then compare the two"
            )
        have = "no finished run" if not found else "only one finished run"
        raise UsageError(
            f"cannot compare {plugin}: history has {have} of it; run `readtrack run {plugin}` again first"
        )
    newer, older = found
    return compare_records(older, newer)
