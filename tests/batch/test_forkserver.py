"""Runs forked from a worker that imported torch once (`readtrack.batch.forkserver`): the same numbers as
a run made alone, nothing carried from one run to the next, a crash that kills only its run, and the imports
paid once per worker instead of once per run. Real processes, real plugins on disk; Linux only (elsewhere
every run is a process of its own, the path the rest of tests/batch/test_batch.py covers too)."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from fake_plugins import write_plugin

from readtrack.base.processes import python_module
from readtrack.batch import pool as workers
from readtrack.batch.groups import RunSettings
from readtrack.batch.pool import ForkServerPool, Outcome, run_jobs
from readtrack.batch.request import RunRequest
from readtrack.plugins import events

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


def run(
    plugin: str, seeds: range, settings: RunSettings, fork: bool = True
) -> tuple[list[Outcome], list[int]]:
    pids: list[int] = []

    def on_event(job: RunRequest, event: dict[str, Any]) -> None:
        if events.is_job(event, "start"):
            pids.append(event["pid"])

    jobs = [settings.request(plugin, seed, f"g-{plugin}") for seed in seeds]
    return ForkServerPool(1, fork=fork).run(jobs, on_event=on_event), pids


def numbers(outcome: Outcome) -> list[tuple[str, float]]:
    assert outcome.record is not None, outcome.error
    return [(m.name, m.value) for s in outcome.record.stages for m in s.measured]


def test_forked_runs_give_the_numbers_of_runs_made_alone_and_share_no_state(user_dir: Path) -> None:
    write_plugin(user_dir, "trainy", TRAINING)
    settings = RunSettings(device="cpu", only="train")
    forked, forked_pids = run("trainy", range(2), settings)
    alone, alone_pids = run("trainy", range(2), settings, fork=False)
    assert len(set(forked_pids)) == 1, "one worker: one fork server ran the two runs"
    assert len(set(alone_pids)) == 2
    assert [numbers(o) for o in forked] == [numbers(o) for o in alone]  # bit for bit
    assert [dict(numbers(o))["default dtype was float32"] for o in forked] == [1.0, 1.0]
    assert len({dict(numbers(o))["loss"] for o in forked}) == 2  # the seeds differ, so the test can fail


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

    def on_event(job: RunRequest, event: dict[str, Any]) -> None:
        if events.is_job(event, "start"):
            pids.append(event["pid"])

    def kill_the_server(outcome: Outcome) -> None:
        if outcome.job.seed == 0:
            os.kill(pids[0], signal.SIGKILL)
            time.sleep(0.5)

    settings = RunSettings(device="cpu", only="train")
    jobs = [settings.request("crashy", seed, "g") for seed in (0, 2, 3)]
    outcomes = run_jobs(jobs, workers=1, on_event=on_event, on_end=kill_the_server)
    assert [numbers(o) for o in outcomes] == [[("seed", 0.0)], [("seed", 2.0)], [("seed", 3.0)]]
    assert pids[0] != pids[1] == pids[2]


def test_a_server_reads_jobs_until_its_stdin_ends_and_reports_each_exit(user_dir: Path) -> None:
    """The protocol itself, spoken by hand: a request per line in, the run's events then one end line out.
    The child runs the request itself (no command line): a request the server cannot read is refused."""
    import subprocess

    write_plugin(user_dir, "crashy", CRASHING)
    lines = [RunRequest("crashy", s, "g", device="cpu", only="train").to_json() for s in (0, 1)]
    lines += [RunRequest("nosuchplugin").to_json(), '{"plugin": "crashy", "colour": "red"}']
    server = subprocess.run(
        python_module("readtrack.batch.forkserver"),
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ,
    )
    assert server.returncode == 0, server.stderr
    said = [json.loads(line) for line in server.stdout.splitlines() if line.startswith("{")]
    ends = [e["exit"] for e in said if e["type"] == events.ENDED]
    assert ends == [0, 3, 2, 2]  # passed, died, refused (an unknown plugin is a usage error), unreadable
    assert "nosuchplugin" in server.stderr and "unknown run request field(s): colour" in server.stderr
    records = [e for e in said if e["type"] == events.RECORD]
    assert [(r["record"]["info"]["seed"], r["record"]["info"]["group_id"]) for r in records] == [(0, "g")]


def test_the_imports_are_paid_once_per_worker_not_once_per_run(user_dir: Path) -> None:
    """A ratio with a wide margin, not a time: four short runs on one worker, forked against one process
    each (each of which imports torch, about 1-2 s, where a fork takes milliseconds: 0.3 of the time)."""
    write_plugin(user_dir, "crashy", CRASHING)
    settings = RunSettings(device="cpu", only="train")
    seeds = [0, 2, 4, 5]

    def timed(fork: bool) -> float:
        begun = time.perf_counter()
        jobs = [settings.request("crashy", s, "g") for s in seeds]
        outcomes = ForkServerPool(1, fork=fork).run(jobs)
        assert all(o.record is not None for o in outcomes)
        return time.perf_counter() - begun

    alone, forked = timed(fork=False), timed(fork=True)
    assert forked < 0.6 * alone, f"forked {forked:.2f} s, one process per run {alone:.2f} s"


def _left_in(groups: set[int]) -> list[str]:
    """Every process still in one of ``groups`` (a worker's session: the server and the children it forked),
    from /proc, as ``pid state``; waits a little for the ones being reaped."""
    deadline = time.monotonic() + 5
    while True:
        left = []
        for entry in Path("/proc").iterdir():
            try:
                stat = (entry / "stat").read_text()
            except (OSError, ValueError):
                continue  # not a process, or gone meanwhile
            fields = stat.rsplit(")", 1)[-1].split()  # after the command's name: state, ppid, pgrp, ...
            if entry.name.isdigit() and int(fields[2]) in groups:
                left.append(f"{entry.name} {fields[0]}")
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def test_an_error_in_on_end_stops_every_worker_it_started(user_dir: Path) -> None:
    """The history write failing (a full disk) as the first job ends, a second still running: the error
    goes on to the caller, and neither fork server nor any child of theirs is left behind."""
    write_plugin(user_dir, "crashy", CRASHING)
    settings = RunSettings(device="cpu", only="train")
    jobs = [settings.request("crashy", seed, "g") for seed in (0, 2, 3, 4)]
    pids: set[int] = set()

    def on_event(job: RunRequest, event: dict[str, Any]) -> None:
        if events.is_job(event, "start"):
            pids.add(event["pid"])

    def disk_full(outcome: Outcome) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        run_jobs(jobs, workers=2, on_event=on_event, on_end=disk_full)
    assert len(pids) == 2
    assert _left_in(pids) == []


# A stub fork server: it says each request's end first, and only then what the run printed, late.
LATE_TALKER = """
import json, os, sys, time

from readtrack.batch.forkserver import output_ended
from readtrack.plugins.events import OUTPUT_MARK_VARIABLE

token = os.environ.pop(OUTPUT_MARK_VARIABLE, "")
for line in sys.stdin:
    seed = json.loads(line)["seed"]
    print(json.dumps({"type": "forkserver", "exit": 1}), flush=True)
    time.sleep(0.3)
    sys.stderr.write(f"seed {seed}: out of memory\\n")
    output_ended(token)
"""


def test_a_runs_output_is_all_of_its_own_stderr_and_none_of_the_next_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outcome used to be built as soon as the end was said, its stderr not read yet: a failed run got
    no last line, and the next run (its buffer cleared first) got the late line of the one before."""
    (tmp_path / "late_talker.py").write_text(LATE_TALKER)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    )
    jobs = [RunRequest("stub", seed, "g") for seed in range(3)]
    outcomes = run_jobs(jobs, workers=1, server="late_talker")
    assert [o.output for o in outcomes] == [f"seed {s}: out of memory" for s in range(3)]
    assert [o.error for o in outcomes] == [
        f"the worker exited with code 1 without a record: seed {s}: out of memory" for s in range(3)
    ]


def test_the_server_fingerprints_the_plugin_before_it_forks_so_a_run_parses_nothing(
    user_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each run records its plugin's fingerprint; the server's `preload` computes it once, and every child
    forked after inherits it (a run then only reads the files' bytes to see they are unchanged)."""
    import ast

    from readtrack.batch.forkserver import preload
    from readtrack.history.calibration import package_fingerprint
    from readtrack.plugins import discovery

    write_plugin(user_dir, "crashy", CRASHING)
    discovery.discovery(refresh=True)
    preload(RunRequest("crashy", 0, "g-crashy"))
    parsed: list[str] = []
    parse = ast.parse

    def counting_parse(source: str, *a: Any, **k: Any) -> Any:
        parsed.append(source)
        return parse(source, *a, **k)

    monkeypatch.setattr(ast, "parse", counting_parse)
    assert package_fingerprint(discovery.load_plugin("crashy").info.package) is not None
    assert not parsed
