"""A batch's ``--json`` form (``readtrack run ... --seeds/--all/--set ... --json``): one JSON line per event,
a closing line per plugin, each setting's tables for a sweep; a reader that goes away (``| head -1``) ends the
output quietly while the runs go on and are recorded (exit `EXIT_PIPE_CLOSED`). The runs themselves are
`readtrack.batch.groups.run_batch`'s."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TextIO

from readtrack.base.errors import EXIT_PIPE_CLOSED
from readtrack.batch.estimate import Estimate
from readtrack.batch.executor import Executor, OnEvent
from readtrack.batch.groups import (
    Arm,
    BatchCancelled,
    PluginOutcome,
    Resumed,
    RunSettings,
    exit_code,
    run_batch,
)
from readtrack.batch.pool import Job
from readtrack.history.spread import GroupRecord
from readtrack.plugins import events
from readtrack.plugins.records import RunRecord, UntilClosed


class Tabled(Protocol):
    """A table of a sweep's numbers as the closing JSON line holds it (`readtrack.batch.sweep`'s)."""

    def to_dict(self) -> dict[str, object]: ...


def run_batch_json(
    stream: TextIO,
    plugins: Sequence[str],
    seeds: Sequence[int],
    settings: RunSettings,
    *,
    workers: int,
    arms: Sequence[Arm] = (),
    sweep_id: str | None = None,
    tables: Callable[[Sequence[PluginOutcome]], Sequence[Tabled]] = lambda outcomes: (),
    arm_stages: Sequence[tuple[str, ...] | None] = (),
    watch: OnEvent | None = None,
    executor: Executor | None = None,
    resume: Resumed | None = None,
    announced: Estimate | None = None,
) -> int:
    """``readtrack run --seeds/--all --json``: every worker's events as JSON lines tagged with ``plugin`` and
    ``seed`` (a worker's own record arrives as ``seed_record``), a ``plugin_done`` line with the run or the
    group once a plugin's seeds have all ended, and a closing ``batch`` line (a sweep's with its ``tables``,
    `readtrack.batch.sweep.tables` as the CLI passes it). ``watch`` hears every event too (the CLI's
    warnings on stderr). ``resume``: ``--resume``'s, as `run_batch` takes it. ``announced``: the time said
    before it started, carried by the closing line beside the time taken. Returns the exit code.

    A reader that goes away (``| head -1``) ends the output quietly: the batch runs on to its end, every run
    recorded as it would have been, and the exit code is `EXIT_PIPE_CLOSED`."""
    emit = UntilClosed(stream)

    def on_event(job: Job, event: dict[str, Any]) -> None:
        if watch is not None:
            watch(job, event)
        if event.get("type") == events.RECORD:
            event = {
                "type": events.SEED_RECORD,
                "plugin": job.plugin,
                "seed": job.seed,
                "record": event["record"],
            }
        emit(event)

    def on_done(outcome: PluginOutcome) -> None:
        entry = outcome.entry
        emit(
            {
                "type": events.PLUGIN_DONE,
                "plugin": outcome.plugin,
                **({"settings": dict(outcome.settings)} if outcome.settings else {}),
                "seeds": outcome.seeds,
                "status": outcome.status,
                "error": outcome.error,
                "wall_s": outcome.wall_s,
                "group": entry.to_dict() if isinstance(entry, GroupRecord) else None,
                "record": entry.to_dict() if isinstance(entry, RunRecord) else None,
            }
        )

    began = time.perf_counter()

    def times() -> dict[str, float | None]:
        return announced.to_dict(time.perf_counter() - began) if announced is not None else {}

    try:
        outcomes = run_batch(
            plugins, seeds, settings, workers=workers, on_event=on_event, on_done=on_done, arms=arms,
            sweep_id=sweep_id, arm_stages=arm_stages, executor=executor, resume=resume,
        )  # fmt: skip
    except BatchCancelled as stop:
        recorded = [
            {
                "plugin": o.plugin,
                **({"settings": dict(o.settings)} if o.settings else {}),
                "seeds": [r.info.seed for r in o.new_runs],
            }
            for o in stop.recorded
        ]
        emit(
            {
                "type": events.BATCH,
                "status": "cancelled",
                "exit_code": stop.exit_code,
                **({"sweep": sweep_id} if sweep_id else {}),
                "recorded": recorded,
                "unfinished": stop.unfinished,
                "message": stop.summary(),
                **times(),
            }
        )
        return EXIT_PIPE_CLOSED if emit.closed else stop.exit_code
    code = exit_code(outcomes)
    emit(
        {
            "type": events.BATCH,
            "status": "passed" if code == 0 else "failed",
            "exit_code": code,
            "plugins": [
                {
                    "plugin": o.plugin,
                    **({"settings": dict(o.settings)} if o.settings else {}),
                    "status": o.status,
                }
                for o in outcomes
            ],
            **(
                {"sweep": sweep_id, "tables": [table.to_dict() for table in tables(outcomes)]}
                if sweep_id
                else {}
            ),
            **times(),
        }
    )
    return EXIT_PIPE_CLOSED if emit.closed else code
