"""The executor seam (issue 71): a batch is `RunRequest`s handed to an `Executor`, whatever runs them; the
driver alone writes the history. A request travels as JSON and comes back the same."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from fake_plugins import write_plugin

from readtrack.batch.executor import OnEvent, Outcome, stop_asked
from readtrack.batch.groups import RunSettings, run_batch
from readtrack.batch.pool import ForkServerPool
from readtrack.batch.request import RunRequest
from readtrack.history import runs as history
from readtrack.history.spread import GroupRecord
from readtrack.plugins import events


def test_a_request_travels_as_json_and_comes_back_the_same() -> None:
    request = RunRequest("rmsnorm", 3, "g1", (("lr", 0.01), ("norm", "layer"), ("on", True)), "emu:1",
                         True, "train", 0.0, "triton", 2)  # fmt: skip
    assert RunRequest.from_json(request.to_json()) == request
    assert request.label == "rmsnorm lr=0.01 norm=layer on=true seed 3"
    with pytest.raises(ValueError, match="unknown run request field"):
        RunRequest.from_json('{"plugin": "rmsnorm", "colour": "red"}')


class Watching:
    """An executor of the test's own: it hands the requests to this machine's pool (a process per request)
    and keeps what it was given and every event it streamed."""

    def __init__(self) -> None:
        self.requests: list[RunRequest] = []
        self.events: list[tuple[RunRequest, dict[str, object]]] = []

    def run(
        self,
        requests: Sequence[RunRequest],
        *,
        on_event: OnEvent | None = None,
        on_end: Callable[[Outcome], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> list[Outcome]:
        self.requests += requests

        def seen(request: RunRequest, event: dict[str, object]) -> None:
            self.events.append((request, event))
            if on_event is not None:
                on_event(request, event)

        return ForkServerPool(1, fork=False).run(requests, on_event=seen, on_end=on_end, cancel=cancel)


def test_a_batch_runs_on_the_executor_it_is_given_and_the_driver_records_it(user_dir: Path) -> None:
    write_plugin(user_dir, "good")
    watching = Watching()
    settings = RunSettings(device="cpu", quick=True, only="train", threads=1)
    (outcome,) = run_batch(["good"], [0, 1], settings, workers=1, executor=watching)
    assert [(r.plugin, r.seed, r.device, r.quick, r.only, r.threads) for r in watching.requests] == [
        ("good", 0, "cpu", True, "train", 1),
        ("good", 1, "cpu", True, "train", 1),
    ]
    assert len({r.group_id for r in watching.requests}) == 1 and watching.requests[0].group_id
    kinds = [event["type"] for _, event in watching.events]
    assert kinds.count(events.JOB) == 4 and kinds.count(events.RECORD) == 2
    assert all(event["seed"] == request.seed for request, event in watching.events)
    assert isinstance(outcome.entry, GroupRecord) and outcome.status == "passed"
    (recorded,) = history.entries()
    assert isinstance(recorded, GroupRecord) and recorded.group_id == watching.requests[0].group_id
    assert [r.info.seed for r in recorded.runs] == [0, 1]


STUBBORN = """
import os


def check(ctx):
    ctx.check_property("fine", True)


def train(ctx):
    os.write(1, b"printed by C, no newline")  # on descriptor 1: must not break the event stream
    if ctx.seed == 1:
        while True:  # a loop that swallows the runner's own timer: only a kill stops it
            try:
                while True:
                    pass
            except BaseException:
                pass
    ctx.target("reached", 1.0, 0.5)
"""


def test_a_stage_past_its_timeout_is_killed_and_a_print_on_stdout_breaks_nothing(user_dir: Path) -> None:
    write_plugin(user_dir, "stubborn", STUBBORN)
    settings = RunSettings(device="cpu", only="train", timeout=1)
    requests = [settings.request("stubborn", seed, "g") for seed in (0, 1)]
    outcomes = ForkServerPool(1).run(requests)
    assert outcomes[0].record is not None and outcomes[0].record.status == "passed", outcomes[0].error
    assert "printed by C, no newline" in outcomes[0].output
    assert outcomes[1].record is None and outcomes[1].stopped == "timeout"
    assert outcomes[1].error == "train ran past its 1 s timeout and its process was stopped"


def test_ctrl_c_inside_an_executors_loop_is_taken_between_two_steps_and_the_handler_comes_back() -> None:
    """Ctrl+C used to raise wherever the driver was: between taking a finished Ray task's outcome and
    keeping it, a run that had finished (its end already printed) was recorded as not finished."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own, whatever ran before
    try:
        with stop_asked() as asked:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # a handler runs between two bytecodes: no KeyboardInterrupt in here
            assert asked()
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        # after it, Ctrl+C interrupts again (a second one, while the runs stop)
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
        cancel = threading.Event()
        seen: list[bool] = []

        def elsewhere() -> None:  # off the main thread (the TUI's worker): no handler can be set, none is
            with stop_asked(cancel) as asked:
                seen.append(signal.getsignal(signal.SIGINT) is signal.default_int_handler)
                seen.append(asked())
                cancel.set()
                seen.append(asked())

        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
        assert seen == [True, False, True]
    finally:
        signal.signal(signal.SIGINT, before)


def test_a_ray_worker_keeps_the_idle_fork_servers_of_its_last_two_gpu_sets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 94, item 15: a Ray worker kept an idle fork server for every GPU set a task of its ever had (each
    holds torch). It keeps those of the `KEPT_SETS` sets used last; a task on a new set closes the servers
    of the set used longest ago (the end of its stdin, as the pool closes an idle server)."""
    import subprocess
    import sys

    from readtrack.batch import ray_worker

    class Idle:  # a process waiting on its stdin, as an idle fork server does
        def __init__(self) -> None:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
            )

    monkeypatch.setattr(ray_worker, "_SERVERS", {})
    made: dict[str, Idle] = {}
    for gpus in ("0", "1", "0", "2"):
        monkeypatch.setenv(ray_worker.VISIBLE, gpus)
        kept = ray_worker.servers()
        if not kept:
            made[gpus] = Idle()
            kept.append(made[gpus])  # type: ignore[arg-type]
    assert ray_worker.KEPT_SETS == 2 and list(ray_worker._SERVERS) == ["0", "2"]  # "1": used longest ago
    assert made["1"].process.wait(timeout=30) == 0
    assert made["0"].process.poll() is None and made["2"].process.poll() is None
    ray_worker._close([made["0"], made["2"]])  # type: ignore[list-item]
