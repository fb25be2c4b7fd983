"""What a batch's run really took, as the batch saw it (issue 84): kept beside the stage durations a record
already holds, and read back for the time a batch announces before it starts (`readtrack.batch.estimate`).

A run's record times its stages; a run pays more: a worker process, its imports, the plugin's import, the
first optimizer's ``torch._dynamo``. A :class:`RunTime` is the wall time from the moment the batch handed the
run to its executor to the run's end, with what it ran on: the executor's kind (``fork server``, ``process``,
``ray``), which run of its worker it was (the first pays the worker's start, later ones of a fork server do
not), the device asked for (``auto`` as asked, so that a plan matches it before anything resolves it) and the
batch's workers. It is stored as JSON in the ``run_time`` column of ``runs`` (NULL for a run recorded before,
or made alone: such a run is not counted). Torch-free; the queries take a connection
(`readtrack.history.runs.connection`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

#: The ``runs`` column that holds a run's `RunTime` as JSON, and its DDL for an older file.
COLUMN = "run_time"
ADD_COLUMN = f"ALTER TABLE runs ADD COLUMN {COLUMN} TEXT"


@dataclass(frozen=True)
class RunTime:
    """What one run of a batch took, end to end, and what it ran on."""

    wall_s: float  # from handing the run to the executor to its end: process, imports and stages
    executor: str  # "fork server", "process", "ray"
    worker_run: int  # which run of its worker process: 1 the first (it paid the worker's start); 0 unknown
    device: str  # as asked ("auto", "cpu", "cuda")
    workers: int  # the batch's workers (runs at once)

    @property
    def first(self) -> bool:
        """Whether the run paid its worker's start (a process of its own always does)."""
        return self.worker_run <= 1 or self.executor == "process"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> RunTime | None:
        """The run time ``text`` holds; None for what this version cannot read."""
        try:
            data = json.loads(text)
            return cls(
                float(data["wall_s"]), str(data["executor"]), int(data["worker_run"]), str(data["device"]),
                int(data["workers"]),
            )  # fmt: skip
        except (ValueError, TypeError, KeyError):
            return None


def store(conn: sqlite3.Connection, times: Mapping[str, RunTime]) -> None:
    """Keep each run's time (by run id) with its row (already inserted, in ``conn``'s transaction)."""
    conn.executemany(
        f"UPDATE runs SET {COLUMN} = ? WHERE run_id = ?", [(t.to_json(), run) for run, t in times.items()]
    )


@dataclass(frozen=True)
class Timed:
    """A recorded run as the estimate sees it: its stages, threads, its stages' time and its run time."""

    plugin: str
    stages: tuple[str, ...]
    threads: int
    duration_s: float  # the runner's own time: its stages and what runs between them
    time: RunTime

    @property
    def overhead_s(self) -> float:
        """What the run paid beyond its own time: a process, imports, the plugin's import, history."""
        return max(0.0, self.time.wall_s - self.duration_s)


def timed_runs(
    conn: sqlite3.Connection, quick: bool, plugin: str | None = None, limit: int = 200
) -> list[Timed]:
    """The newest ``limit`` finished runs (passed or failed: an error or a timeout ends early) of this size
    (quick or full) that kept their run time, of ``plugin`` (None: of every plugin), newest first."""
    where = f"{COLUMN} IS NOT NULL AND quick = ? AND status IN ('passed', 'failed')"
    args: list[Any] = [int(quick)]
    if plugin is not None:
        where += " AND plugin = ?"
        args.append(plugin)
    rows = conn.execute(
        f"SELECT plugin, duration_s, {COLUMN} AS run_time, json_extract(record, '$.info.stages') AS stages,"
        f" json_extract(record, '$.info.threads') AS threads FROM runs WHERE {where}"
        " ORDER BY started_at DESC, rowid DESC LIMIT ?",
        [*args, limit],
    ).fetchall()
    found = []
    for row in rows:
        time = RunTime.from_json(row["run_time"])
        if time is None or row["duration_s"] is None:
            continue
        stages = tuple(json.loads(row["stages"] or "[]"))
        found.append(Timed(row["plugin"], stages, int(row["threads"] or 0), float(row["duration_s"]), time))
    return found
