"""Run history: every plugin run, stored in the ``runs`` table of readtrack's SQLite database.

The recorder is a plugin of the same pluggy mechanism as paper plugins (see ``readtrack.plugins.hookspecs``):
:class:`HistoryRecorder` inserts a ``running`` row from ``readtrack_run_started`` and fills it in from
``readtrack_run_finished``. A row keeps the whole :class:`~readtrack.plugins.records.RunRecord` as JSON (stage
results, curves, bench rows, environment) next to indexed columns for the queries the CLI and the TUI make:
:func:`runs`, :func:`last_run`, :func:`last_statuses`, :func:`last_by_device` and
:func:`compare`. A multi-seed run is a group of runs (``run_groups``); a sweep (``--set lr=A,B``) is a group
per setting plus what it set out to run (``sweeps``), which `readtrack history` lists as one entry
(`readtrack.history.sweeps`).

Reading history needs neither torch nor the plugins themselves.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from readtrack.base.errors import UsageError, one_line
from readtrack.base.store import connect, ensure_schema
from readtrack.history import run_times
from readtrack.history.spread import GroupRecord
from readtrack.plugins.markers import hookimpl
from readtrack.plugins.records import RUN_STATUSES, RunInfo, RunRecord, RunStatus, float_or_nan, jsonable

if TYPE_CHECKING:
    from readtrack.history.comparison import RunComparison

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
CREATE TABLE IF NOT EXISTS sweeps (
    sweep_id    TEXT PRIMARY KEY,
    plugin      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    seeds       TEXT NOT NULL,  -- JSON list, in run order
    settings    TEXT NOT NULL,  -- JSON list: each setting's turned knobs ({} the defaults), in run order
    status      TEXT NOT NULL,  -- running, then finished | cancelled
    pid         INTEGER,        -- the sweeping process, to tell a killed sweep from a live one
    duration_s  REAL
);
"""

#: Columns added after a table's first release, with their DDL (added on first use of an older file) and
#: what fills them in for the rows already there (a sweep's groups: the sweep id their runs carry).
ADDED_COLUMNS = {
    ("runs", "group_id"): ("ALTER TABLE runs ADD COLUMN group_id TEXT", None),
    ("run_groups", "sweep_id"): (
        "ALTER TABLE run_groups ADD COLUMN sweep_id TEXT",
        "UPDATE run_groups SET sweep_id = (SELECT json_extract(record, '$.info.sweep_id') FROM runs"
        " WHERE runs.group_id = run_groups.group_id LIMIT 1)",
    ),
    # what a group's runs were asked to be (a run request as JSON, its seed aside): what `--resume` runs
    # again; NULL for a group recorded before readtrack kept it (such a group is not resumed)
    ("run_groups", "request"): ("ALTER TABLE run_groups ADD COLUMN request TEXT", None),
    # a sweep's: each setting's run request (JSON list, in run order), for `--resume`; NULL before
    ("sweeps", "requests"): ("ALTER TABLE sweeps ADD COLUMN requests TEXT", None),
    # what a batch's run took end to end, and on what (`readtrack.history.run_times`); NULL before
    ("runs", run_times.COLUMN): (run_times.ADD_COLUMN, None),
}

#: The name the recorder is registered under with pluggy (``readtrack.plugins.discovery``); a run kept out of
# history : (``run_plugin(keep_history=False)``) skips the observer of this name.
RECORDER_NAME = "readtrack.history.runs"

#: A ``running`` row whose process is gone (killed, power cut) is reported with this status.
INTERRUPTED: RunStatus = "interrupted"


@contextmanager
def connection(db: Path | None = None) -> Iterator[sqlite3.Connection]:
    """A connection to history (the data dir's database, or ``db``: a calibration's runs go into a database
    of their own, `readtrack.batch.calibrate`), its tables ensured (older files brought up to date)."""
    conn = connect(db)
    try:
        ensure_schema(conn, SCHEMA)
        have = {
            (table, row["name"])
            for table in {t for t, _ in ADDED_COLUMNS}
            for row in conn.execute(f"PRAGMA table_info({table})")
        }
        for column, (ddl, fill) in ADDED_COLUMNS.items():
            if column not in have:
                with contextlib.suppress(sqlite3.OperationalError):  # another process added it first
                    conn.execute(ddl)
                    if fill:
                        conn.execute(fill)
        conn.execute("CREATE INDEX IF NOT EXISTS run_groups_by_sweep ON run_groups (sweep_id)")
        yield conn
    finally:
        conn.close()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _dumps(value: Any) -> str:
    return json.dumps(jsonable(value))


def record_started(info: RunInfo, *, db: Path | None = None) -> None:
    """Insert the ``running`` row for a run that is starting."""
    placeholder = RunRecord(info=info, status="running", duration_s=0.0)
    with connection(db) as conn:
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


@dataclass(frozen=True)
class SweepPlan:
    """What a sweep set out to run: each setting's turned knobs, in run order (``{}`` the defaults), on
    every seed; stored with its first finished setting, so that history knows what did not run."""

    sweep_id: str
    plugin: str
    settings: list[dict[str, Any]]
    seeds: list[int]
    started_at: str
    #: each setting's run request as JSON (`readtrack.batch.request.RunRequest`), in the order of
    #: ``settings``: what ``readtrack run --resume`` runs again
    requests: list[str] = field(default_factory=list)


def record_group(
    group: GroupRecord,
    sweep: SweepPlan | None = None,
    *,
    request: str | None = None,
    replacing: bool = False,
    db: Path | None = None,
    times: Mapping[str, run_times.RunTime] | None = None,
) -> None:
    """Store a multi-seed run: every seed's finished run and the group row, in one transaction (a reader
    never sees part of a group); a sweep's setting with what the sweep set out to run (kept once);
    ``request``, what its runs were asked to be (a run request as JSON), with the group; ``times``, what
    each new run took as the batch saw it (by run id).

    ``replacing`` (``readtrack run --resume``): the group is already stored, and ``group`` is what it is
    now: its runs already stored stay as they are, its new runs are added, and a stored run of the group
    that ``group`` no longer holds (a cancelled or, retried, a failed seed's run, run again) is deleted."""
    finished = _now()
    sweep_id = next((r.info.sweep_id for r in group.runs if r.info.sweep_id), None)
    with connection(db) as conn:  # db: another database than the data dir's (`connection`)
        conn.execute("BEGIN IMMEDIATE")
        try:
            stored: set[str] = set()
            if replacing:
                rows = conn.execute("SELECT run_id FROM runs WHERE group_id = ?", (group.group_id,))
                stored = {row["run_id"] for row in rows}
                kept = {record.info.run_id for record in group.runs}
                conn.executemany("DELETE FROM runs WHERE run_id = ?", [(r,) for r in sorted(stored - kept)])
            for record in group.runs:
                if record.info.run_id in stored:
                    continue
                record.info.group_id = group.group_id
                _insert(conn, record, None, finished)
            run_times.store(conn, {r: t for r, t in (times or {}).items() if r not in stored})
            conn.execute(
                "INSERT OR REPLACE INTO run_groups (group_id, plugin, status, seeds, started_at, duration_s,"
                " missing, sweep_id, request) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    group.group_id,
                    group.plugin,
                    group.status,
                    json.dumps(group.seeds),
                    group.started_at,
                    group.duration_s,
                    json.dumps({str(k): v for k, v in group.missing.items()}),
                    sweep.sweep_id if sweep else sweep_id,
                    request,
                ),
            )
            if sweep is not None:
                conn.execute(
                    "INSERT OR IGNORE INTO sweeps (sweep_id, plugin, started_at, seeds, settings, status,"
                    " pid, requests) VALUES (?, ?, ?, ?, ?, 'running', ?, ?)",
                    (sweep.sweep_id, sweep.plugin, sweep.started_at, json.dumps(sweep.seeds),
                     _dumps(sweep.settings), os.getpid(),
                     json.dumps(sweep.requests) if sweep.requests else None),
                )  # fmt: skip
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def sweep_ended(sweep_id: str, status: str, duration_s: float, *, db: Path | None = None) -> None:
    """A sweep ran to its end (``finished``) or was cut short (``cancelled``); nothing when none of its
    settings was recorded."""
    with connection(db) as conn:
        conn.execute(
            "UPDATE sweeps SET status = ?, duration_s = ?, pid = NULL WHERE sweep_id = ?",
            (status, duration_s, sweep_id),
        )


def sweep_resumed(sweep_id: str) -> None:
    """A sweep runs again (``readtrack run --resume``): ``running`` in this process until `sweep_ended`."""
    with connection() as conn:
        conn.execute(
            "UPDATE sweeps SET status = 'running', pid = ? WHERE sweep_id = ?", (os.getpid(), sweep_id)
        )


def stored_requests(group_id: str | None = None, sweep_id: str | None = None) -> list[str] | None:
    """What was kept of what a group's runs (``group_id``: one request) or a sweep's settings (``sweep_id``:
    one a setting, in run order) were asked to be, as JSON; None when nothing was (recorded before
    readtrack kept it)."""
    with connection() as conn:
        if group_id is not None:
            row = conn.execute("SELECT request FROM run_groups WHERE group_id = ?", (group_id,)).fetchone()
            return [row["request"]] if row is not None and row["request"] else None
        row = conn.execute("SELECT requests FROM sweeps WHERE sweep_id = ?", (sweep_id,)).fetchone()
        return [str(r) for r in json.loads(row["requests"])] if row is not None and row["requests"] else None


def record_finished(
    record: RunRecord, *, db: Path | None = None, time: run_times.RunTime | None = None
) -> None:
    """Store a finished run (inserting it when its start was never recorded); ``time``, what it took as the
    batch that ran it saw it."""
    info = record.info
    with connection(db) as conn:
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
        if updated and time is not None:
            run_times.store(conn, {info.run_id: time})
    if not updated:
        record_started(info, db=db)
        record_finished(record, db=db, time=time)


class HistoryRecorder:
    """The pluggy plugin that writes every run into history (registered by `readtrack.runner.run` on the
    plugin manager before its first run)."""

    @hookimpl
    def readtrack_run_started(self, run: RunInfo) -> None:
        record_started(run)

    @hookimpl
    def readtrack_run_finished(self, run: RunInfo, record: RunRecord) -> None:
        record_finished(record)


# -- queries ---------------------------------------------------------------------------------------
def pid_alive(pid: int | None) -> bool:
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
    if status == "running" and not pid_alive(row["pid"]):
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
    with connection() as conn:
        rows = conn.execute(sql, args).fetchall()
    return [_record(row) for row in rows]


def last_run(plugin: str) -> RunRecord | None:
    """The newest run of ``plugin`` (finished or not), or None."""
    found = runs(plugin, limit=1)
    return found[0] if found else None


#: What history lists: a run made alone, or the runs of one multi-seed run together.
Entry = RunRecord | GroupRecord


def entries(
    plugin: str | None = None, limit: int | None = None, *, finished: bool = False, db: Path | None = None
) -> list[Entry]:
    """History as a reader sees it, newest first: runs made alone and multi-seed groups (each one entry,
    its seeds' runs inside; a sweep's settings each one); only ``plugin``'s when given, at most ``limit``,
    only finished ones with ``finished``; ``db``: another database than the data dir's."""
    with connection(db) as conn:
        return cast(list[Entry], listed(conn, plugin, limit, finished=finished))


def listed(
    conn: sqlite3.Connection,
    plugin: str | None,
    limit: int | None,
    *,
    finished: bool = False,
    sweeps: bool = False,
) -> list[Entry | str]:
    """`entries` on ``conn``; with ``sweeps``, a sweep's groups are left out and the sweep stands in their
    place as its id, dated when it started (`readtrack.history.sweeps` builds it)."""
    where, args = ["group_id IS NULL"], []
    if plugin:
        where.append("plugin = ?")
        args.append(plugin)
    if finished:
        where.append("status != 'running'")
    cap = "" if limit is None else f" LIMIT {max(0, int(limit))}"
    rows = conn.execute(
        f"SELECT record, status, pid, started_at FROM runs WHERE {' AND '.join(where)}"
        f" ORDER BY started_at DESC, rowid DESC{cap}",
        args,
    ).fetchall()
    in_groups = (["plugin = ?"] if plugin else []) + (["sweep_id IS NULL"] if sweeps else [])
    group_rows = conn.execute(
        "SELECT * FROM run_groups"
        + (f" WHERE {' AND '.join(in_groups)}" if in_groups else "")
        + f" ORDER BY started_at DESC, rowid DESC{cap}",
        [plugin] if plugin else [],
    ).fetchall()
    found: list[tuple[str, int, Any]] = [(r["started_at"], 0, r) for r in rows]
    found += [(g["started_at"], 1, g) for g in group_rows]
    if sweeps:
        sweep_rows = conn.execute(
            "SELECT g.sweep_id, COALESCE(MIN(s.started_at), MIN(g.started_at)) AS started_at"
            " FROM run_groups AS g LEFT JOIN sweeps AS s ON s.sweep_id = g.sweep_id"
            " WHERE g.sweep_id IS NOT NULL" + (" AND g.plugin = ?" if plugin else "")
            + f" GROUP BY g.sweep_id ORDER BY started_at DESC{cap}",
            [plugin] if plugin else [],
        ).fetchall()  # fmt: skip
        found += [(s["started_at"], 2, s["sweep_id"]) for s in sweep_rows]
    found.sort(key=lambda item: item[0], reverse=True)  # stable: alone runs first on a tie
    chosen = found if limit is None else found[: max(0, int(limit))]
    build = (_record, lambda row: group_of(conn, row), str)
    return [build[kind](item) for _, kind, item in chosen]


def group_of(conn: sqlite3.Connection, row: sqlite3.Row) -> GroupRecord:
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
    with connection() as conn:
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
    with connection() as conn:
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


def plugin_entries(plugin: str | None, limit: int | None = None) -> list[Entry]:
    """The newest entries (of ``plugin``); a name that is neither in history nor a plugin is a UsageError
    naming the closest plugins."""
    found = entries(plugin, limit=limit)
    if plugin and not found:
        from readtrack.plugins.discovery import get

        get(plugin)  # raises for an unknown name
    return found


def compare(plugin: str) -> RunComparison:
    """Compare the two newest finished runs (or multi-seed runs) of ``plugin``; a UsageError says so when
    there are fewer."""
    from readtrack.history.comparison import compare_records  # only to compare: not to list or show

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


def plugin_listing() -> list[dict[str, Any]]:
    """What ``readtrack plugins`` and the TUI show: one dict per plugin, with its last run from history."""
    from readtrack.plugins.discovery import discover

    try:
        by_device = last_by_device()
    except Exception as err:  # an unreadable database must not hide the plugins
        print(f"readtrack: run history unavailable: {one_line(err)}", file=sys.stderr)
        by_device = {}
    rows = []
    for plugin in discover():
        info = plugin.info
        devices = by_device.get(plugin.name, {})
        run = max(devices.values(), key=lambda r: r.started_at, default=None)
        rows.append(
            {
                "name": plugin.name,
                "paper_id": info.paper_id if info else None,
                "title": info.title if info else None,
                "arxiv": info.arxiv if info else None,
                "claim": info.claim if info else None,
                "devices": list(info.devices) if info else [],
                "source": plugin.source,
                "origin": plugin.origin,
                "status": plugin.status,
                "error": plugin.error,
                "last_run": None if run is None else _run_dict(run),
                "last_run_by_device": {kind: _run_dict(r) for kind, r in sorted(devices.items())},
            }
        )
    return rows


def _run_dict(run: LastStatus) -> dict[str, Any]:
    return {
        "status": run.status,
        "started_at": run.started_at,
        "device": run.device,
        "duration_s": run.duration_s,
    }
