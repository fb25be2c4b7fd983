"""A run's events keep their order, its job start first, whatever thread is slow. Both defects showed in the
executor contract on the lab cluster under load (issue 91's runs: a run's record, or its run event, before
its start):

- the pool told a job's start after handing the job to an idle fork server, whose readers already run, so
  the run it forked could be heard first (a Ray worker keeps its servers between tasks: most of its jobs);
- the Ray worker's sender took a batch under its lock and sent it after, so the timer's flush and a stage's
  could send theirs in the other order (`readtrack.batch.ray_worker._Sender`).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fake_plugins import write_plugin

from readtrack.batch import pool
from readtrack.batch.ray_worker import _Sender
from readtrack.batch.request import RunRequest
from readtrack.plugins import events

QUICK = """
def train(ctx):
    for step in range(2):
        ctx.metric("loss", step, 1.0 / (step + 1))
    ctx.target("final loss", 0.5, 1.0, higher_is_better=False)
"""


@pytest.mark.skipif(not pool.forkserver_available(), reason="fork servers are Linux-only")
def test_a_job_handed_to_an_idle_fork_server_is_started_before_it_is_heard(
    user_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_plugin(user_dir, "quick", QUICK)
    sent = pool._send

    def slow_after_sending(server: Any, job: Any) -> bool:  # the dispatcher preempted once the job is out
        taken = sent(server, job)
        time.sleep(0.5)
        return taken

    monkeypatch.setattr(pool, "_send", slow_after_sending)
    told: dict[int, list[dict[str, Any]]] = {}
    lock = threading.Lock()

    def on_event(job: Any, event: dict[str, Any]) -> None:
        with lock:
            told.setdefault(job.seed, []).append(event)

    requests = [RunRequest("quick", seed, "order", device="cpu", only="train") for seed in range(3)]
    outcomes = pool.run_jobs(requests, workers=1, on_event=on_event)  # one server: seeds 1 and 2 handed over
    assert [o.record.status for o in outcomes if o.record is not None] == ["passed"] * 3
    for seed, said in sorted(told.items()):
        assert events.is_job(said[0], "start") and events.is_job(said[-1], "end"), (seed, said[:2])


class SlowFirstInbox:
    """An inbox whose first ``add.remote`` is slow to go out, as a preempted thread's is; it keeps the batches
    in the order they are sent (Ray's order for one caller's actor calls)."""

    def __init__(self) -> None:
        self.sent: list[list[tuple[int, dict[str, Any]]]] = []
        self.first = True

    @property
    def add(self) -> SlowFirstInbox:
        return self

    def remote(self, batch: list[tuple[int, dict[str, Any]]]) -> None:
        if self.first:
            self.first = False
            time.sleep(0.3)
        self.sent.append(batch)


def test_a_later_batch_never_overtakes_one_taken_before_it() -> None:
    inbox = SlowFirstInbox()
    sender = _Sender(inbox, 0, "node", "host", [])
    try:
        first = threading.Thread(target=sender.add, args=(events.job_start("toy", 0),))
        first.start()
        time.sleep(0.05)  # the start's batch is taken, and on its slow way to the inbox
        sender.add({"type": events.RECORD, "record": {}})
        first.join()
    finally:
        sender.stop.set()
    order = [event.get("type") for batch in inbox.sent for _, event in batch]
    assert order == [events.JOB, events.RECORD], order
