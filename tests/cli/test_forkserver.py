"""Runs forked from a worker that imported torch once (`readtrack.cli.forkserver`): the same numbers as a run
made alone, nothing carried from one run to the next, a crash that kills only its run, and the imports
paid once per worker instead of once per run. Real processes, real plugins on disk; Linux only (elsewhere
every run is a process of its own, the path the rest of tests/runner/test_batch.py covers too)."""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_plugins import write_plugin

from readtrack.runner import workers
from readtrack.runner.batch import Job, RunSettings
from readtrack.runner.workers import Outcome, run_jobs

pytestmark = pytest.mark.skipif(not workers.forkserver_available(), reason="fork servers are Linux-only")

# A little training whose numbers depend on every float operation, and a probe of torch's global state:
# the run sets the default dtype to float64 and never sets it back, as a careless plugin might.
TRAINING = """
import torch


def check(ctx):
    ctx.check_property("fine", True)


def train(ctx):
    ctx.measured("default dtype was float32", float(torch.get_default_dtype() == torch.float32))
    w = torch.randn(16, 16, requires_grad=True)
    x, y = torch.randn(64, 16), torch.randn(64, 16)
    opt = torch.optim.Adam([w], lr=0.01)
    for _ in range(50):
        loss = ((x @ w).tanh() - y).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    ctx.measured("loss", loss.item())
    torch.set_default_dtype(torch.float64)  # left behind: must not reach the next run
"""

CRASHING = """
import os


def check(ctx):
    ctx.check_property("fine", True)


def train(ctx):
    if ctx.seed == 1:
        os._exit(3)  # this run dies without a record, as a segfault or an OOM kill would
    ctx.measured("seed", float(ctx.seed))
"""


@dataclass(frozen=True)
class OwnProcesses:
    """The same runs as ``RunSettings`` gives, each a process of its own (no ``cli_args``: no fork server)."""

    settings: RunSettings

    def argv(self, job: Job) -> list[str]:
        return self.settings.argv(job)


def run(plugin: str, seeds: range, commands: Any, workers: int = 1) -> tuple[list[Outcome], list[int]]:
    pids: list[int] = []

    def on_event(job: Job, event: dict[str, Any]) -> None:
        if event.get("type") == "job" and event.get("event") == "start":
            pids.append(event["pid"])

    jobs = [Job(plugin, seed, f"g-{plugin}") for seed in seeds]
    return run_jobs(jobs, commands, workers=workers, on_event=on_event), pids


def numbers(outcome: Outcome) -> list[tuple[str, float]]:
    assert outcome.record is not None, outcome.error
    return [(m.name, m.value) for s in outcome.record.stages for m in s.measured]


def test_forked_runs_give_the_numbers_of_runs_made_alone_and_share_no_state(user_dir: Path) -> None:
    write_plugin(user_dir, "trainy", TRAINING)
    settings = RunSettings(device="cpu", only="train")
    forked, forked_pids = run("trainy", range(3), settings)
    alone, alone_pids = run("trainy", range(3), OwnProcesses(settings))
    assert len(set(forked_pids)) == 1, "one worker: one fork server ran the three runs"
    assert len(set(alone_pids)) == 3
    assert [numbers(o) for o in forked] == [numbers(o) for o in alone]  # bit for bit
    assert [dict(numbers(o))["default dtype was float32"] for o in forked] == [1.0, 1.0, 1.0]
    assert len({dict(numbers(o))["loss"] for o in forked}) == 3  # the seeds differ, so the test can fail


def test_a_run_that_dies_is_an_error_and_the_server_goes_on_with_the_next(user_dir: Path) -> None:
    write_plugin(user_dir, "crashy", CRASHING)
    outcomes, pids = run("crashy", range(3), RunSettings(device="cpu", only="train"))
    assert [o.exit_code for o in outcomes] == [0, 3, 0]
    assert outcomes[1].record is None
    assert outcomes[1].error is not None and "exited with code 3 without a record" in outcomes[1].error
    assert [numbers(o) for o in (outcomes[0], outcomes[2])] == [[("seed", 0.0)], [("seed", 2.0)]]
    assert len(set(pids)) == 1


def test_a_server_that_died_while_idle_is_replaced_and_no_job_is_lost(user_dir: Path) -> None:
    """The first run's server is killed (as the OOM killer might) while it waits for its next job: the next
    job goes to a new server, and every job ends with its record."""
    write_plugin(user_dir, "crashy", CRASHING)
    pids: list[int] = []

    def on_event(job: Job, event: dict[str, Any]) -> None:
        if event.get("type") == "job" and event.get("event") == "start":
            pids.append(event["pid"])

    def kill_the_server(outcome: Outcome) -> None:
        if outcome.job.seed == 0:
            os.kill(pids[0], signal.SIGKILL)
            time.sleep(0.5)

    jobs = [Job("crashy", seed, "g") for seed in (0, 2, 3)]
    settings = RunSettings(device="cpu", only="train")
    outcomes = run_jobs(jobs, settings, workers=1, on_event=on_event, on_end=kill_the_server)
    assert [numbers(o) for o in outcomes] == [[("seed", 0.0)], [("seed", 2.0)], [("seed", 3.0)]]
    assert pids[0] != pids[1] == pids[2]


def test_a_server_reads_jobs_until_its_stdin_ends_and_reports_each_exit(user_dir: Path) -> None:
    """The protocol itself, spoken by hand: a job per line in, the run's events then one end line out."""
    import subprocess
    import sys

    write_plugin(user_dir, "crashy", CRASHING)
    jobs = [["run", "crashy", "--json", "--no-record", "--only", "train", "--seed", str(s)] for s in (0, 1)]
    jobs.append(["run", "nosuchplugin", "--json", "--no-record"])
    server = subprocess.run(
        [sys.executable, "-m", "readtrack.cli.forkserver"],
        input="".join(json.dumps(j) + "\n" for j in jobs),
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ,
    )
    assert server.returncode == 0, server.stderr
    events = [json.loads(line) for line in server.stdout.splitlines() if line.startswith("{")]
    ends = [e["exit"] for e in events if e["type"] == workers.END]
    assert ends == [0, 3, 2]  # passed, died, refused (an unknown plugin is a usage error)
    assert "nosuchplugin" in server.stderr


def test_the_imports_are_paid_once_per_worker_not_once_per_run(user_dir: Path) -> None:
    """A ratio with a wide margin, not a time: six short runs on one worker, forked against one process
    each (each of which imports torch, about 1-2 s, where a fork takes milliseconds)."""
    write_plugin(user_dir, "crashy", CRASHING)
    settings = RunSettings(device="cpu", only="train")
    seeds = [0, 2, 3, 4, 5, 6]

    def timed(commands: Any) -> float:
        begun = time.perf_counter()
        jobs = [Job("crashy", s, "g") for s in seeds]
        outcomes = run_jobs(jobs, commands, workers=1)
        assert all(o.record is not None for o in outcomes)
        return time.perf_counter() - begun

    alone, forked = timed(OwnProcesses(settings)), timed(settings)
    assert forked < 0.6 * alone, f"forked {forked:.2f} s, one process per run {alone:.2f} s"
