"""The Ray worker's event sender keeps a run's events in their order whatever thread sends them: the timer's
flush and a stage's flush each take a batch and send it under one lock (`readtrack.batch.ray_worker._Sender`).
A sender thread slowed between taking its batch and sending it used to let a later batch overtake it: the
executor contract saw a run's record before its start on the lab cluster under load (issue 91's runs)."""

from __future__ import annotations

import threading
import time
from typing import Any

from readtrack.batch.ray_worker import _Sender
from readtrack.plugins import events


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
