"""The time a batch announces before it starts, from what like runs took end to end (issue 84): the runs'
wall times kept in history as the batch saw them, the like runs chosen and the fallback order
(`readtrack.batch.estimate`), the line at the end that sets the announced time beside the time taken, a
real batch whose announcement agrees with what it took (within a wide factor: no absolute time is
asserted), and the fork server's pre-imported ``torch._dynamo`` inherited by its runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import run_cli
from fake_plugins import write_plugin
from made_records import make_record

from readtrack.batch import pool as workers
from readtrack.batch.estimate import Cost, Estimate, Shape, announce, estimate, makespan
from readtrack.batch.groups import RunSettings
from readtrack.batch.pool import ForkServerPool
from readtrack.history import runs as history
from readtrack.history.run_times import RunTime, Timed, timed_runs
from readtrack.history.spread import GroupRecord

EVERY = ("check", "train", "bench")


def timed(
    wall: float,
    *,
    plugin: str = "toy",
    stages: tuple[str, ...] = EVERY,
    executor: str = "fork server",
    worker_run: int = 1,
    device: str = "auto",
    threads: int = 1,
    duration: float = 1.0,
) -> Timed:
    return Timed(plugin, stages, threads, duration, RunTime(wall, executor, worker_run, device, 2))


def test_like_runs_keep_a_workers_first_run_apart_from_later_ones_laid_out_as_the_pool_hands_them() -> None:
    """Four runs on two fork servers: each server's first run pays its start (5 s), its second does not
    (2 s): 7 s, not 4 × 5 / 2 = 10 s nor the 4 × 1 / 2 s the stage times alone would say."""
    recorded = [timed(5.0, worker_run=1), timed(5.2, worker_run=1), timed(2.0, worker_run=2)]
    found = estimate([Shape("toy", EVERY, True)] * 4, 2, "fork server", recorded, {"toy": {"check": 0.5}})
    assert found.seconds == pytest.approx(5.1 + 2.0)
    assert found.text == "about 7 s on 2 workers (like runs' wall times)"
    # a process of its own per run pays the start every time
    alone = [timed(5.0, executor="process"), timed(5.0, executor="process")]
    assert estimate([Shape("toy", EVERY, True)] * 4, 2, "process", alone, {}).seconds == pytest.approx(10.0)


def test_only_like_runs_count_when_there_are_some_other_runs_of_these_stages_when_there_are_none() -> None:
    """Like: same plugin, stages, device asked, threads and executor; a run that differs in any of them
    (far slower here) counts only when no like run is recorded, and the line says so."""
    like = timed(3.0)
    unlike = [
        timed(30.0, device="cuda"),
        timed(30.0, threads=4),
        timed(30.0, executor="ray"),
        timed(30.0, stages=("train",)),
        timed(30.0, plugin="other"),
    ]
    shape = Shape("toy", EVERY, True)
    assert estimate([shape], 1, "fork server", [like, *unlike], {}).seconds == pytest.approx(3.0)
    elsewhere = estimate([shape], 1, "fork server", unlike, {})
    assert elsewhere.seconds == pytest.approx(30.0)  # the three of these stages: device, threads, executor
    assert "(wall times of these stages on other settings)" in elsewhere.text


def test_with_no_run_of_these_stages_the_stage_times_count_plus_a_runs_start_measured_here() -> None:
    """No run of ``train`` alone recorded: its median stage time plus what runs of any plugin paid beyond
    their own time (wall less the runner's duration: 4 s a worker's first run, 1 s a later one)."""
    machine = [
        timed(5.0, plugin="other", worker_run=1, duration=1.0),
        timed(2.0, plugin="other", worker_run=2, duration=1.0),
    ]
    shape = Shape("toy", ("train",), True)
    found = estimate([shape] * 2, 1, "fork server", [], {"toy": {"train": 0.5}}, machine)
    assert found.seconds == pytest.approx((0.5 + 4.0) + (0.5 + 1.0))
    assert "(stage times + a run's start here)" in found.text
    # a stage with no recorded time: the run is not counted, and the line says so
    partial = estimate(
        [shape, Shape("toy", EVERY, True)], 1, "fork server", [], {"toy": {"train": 0.5}}, machine
    )
    assert partial.text.endswith("; 1 run not counted: no recorded run)")
    # nothing recorded at all
    nothing = estimate([shape], 1, "fork server", [], {"toy": {"train": 0.5}}, [])
    assert nothing.seconds is None and nothing.text == "time: no recorded run of these stages to go by"


def test_makespan_gives_each_run_to_the_worker_that_frees_first() -> None:
    slow, quick = Cost(10.0, 9.0, "like runs"), Cost(2.0, 1.0, "like runs")
    # worker A: slow (10); worker B: quick (2), quick (3), quick (4), quick (5)
    assert makespan([slow, quick, quick, quick, quick], 2) == pytest.approx(10.0)
    assert makespan([quick] * 3, 8) == pytest.approx(2.0)  # more workers than runs: one run each


def test_the_end_of_a_batch_says_what_it_announced_beside_what_it_took() -> None:
    said = Estimate(9.0, 1, "about 9 s on 1 worker (like runs' wall times)")
    assert said.took(135.0) == "announced about 9 s, took 2 min 15 s"
    assert said.to_dict(135.0) == {"announced_s": 9.0, "taken_s": 135.0}
    unsaid = Estimate(None, 0, "time: no recorded run of these stages to go by")
    assert unsaid.took(3.2) == "took 3 s (no time was announced: no recorded run to go by)"
    assert unsaid.to_dict(3.2) == {"announced_s": None, "taken_s": 3.2}


def test_a_groups_run_times_are_kept_with_its_runs_and_read_back_old_runs_without_one_left_out() -> None:
    old = make_record("toy", run_id="old", started_at="2026-01-01T09:00:00+00:00")
    history.record_started(old.info)
    history.record_finished(old)  # recorded alone, or before readtrack kept run times: no run time
    runs = [make_record("toy", run_id=f"r{i}", started_at=f"2026-01-01T10:00:0{i}+00:00") for i in range(3)]
    group = GroupRecord("g1", "toy", [3, 3, 3], "2026-01-01T10:00:00+00:00", "passed", 9.0, runs)
    times = {f"r{i}": RunTime(4.0 + i, "fork server", i + 1, "auto", 2) for i in range(3)}
    history.record_group(group, times=times)
    with history.connection() as conn:
        found = timed_runs(conn, quick=True, plugin="toy")
    assert [t.time for t in found] == [times["r2"], times["r1"], times["r0"]]  # newest first, "old" left out
    assert found[0].stages == EVERY and found[0].overhead_s == pytest.approx(6.0 - 3.5)
    assert [r.info.run_id for r in history.runs("toy")] == ["r2", "r1", "r0", "old"]  # all still readable
    expected = announce([Shape("toy", EVERY, True, "auto", 0)], 1, "fork server")
    assert expected.seconds == pytest.approx(4.0) and "like runs" in expected.text


SLEEPING = """
import time


def check(ctx):
    ctx.check_property("fine", True)


def train(ctx):
    time.sleep(0.4)
    ctx.target("done", 1.0, 0.5)
"""


def test_a_real_batch_announces_what_it_then_takes_within_a_wide_factor(user_dir: Path) -> None:
    """First batch: nothing to go by, said, and its closing JSON line carries the time taken; the second,
    the same batch, announces from the first's wall times and takes about that (within 3x either way: the
    machine is shared, so no absolute time and only a wide ratio)."""
    write_plugin(user_dir, "sleepy", SLEEPING)
    argv = ["run", "sleepy", "--quick", "--seeds", "0-2", "--jobs", "2", "--json"]
    first = run_cli(*argv)
    assert first.returncode == 0, first.stderr
    assert "sleepy: 3 seeds = 3 runs; time: no recorded run of these stages to go by" in first.stderr
    closing = json.loads(first.stdout.splitlines()[-1])
    assert closing["announced_s"] is None and closing["taken_s"] > 0.4
    again = run_cli(*argv)
    assert again.returncode == 0, again.stderr
    assert "sleepy: 3 seeds = 3 runs; about " in again.stderr and "(like runs' wall times)" in again.stderr
    closing = json.loads(again.stdout.splitlines()[-1])
    ratio = closing["announced_s"] / closing["taken_s"]
    assert 1 / 3 < ratio < 3, closing
    # --dry-run says the same, from the two batches' runs now
    planned = run_cli("run", "sleepy", "--quick", "--seeds", "0-2", "--jobs", "2", "--dry-run")
    assert planned.stdout.startswith("sleepy: 3 seeds = 3 runs; about "), planned.stdout


PROBING = """
import sys

import torch


def check(ctx):
    ctx.measured("dynamo imported before the first optimizer", float("torch._dynamo" in sys.modules))
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    ctx.check_property("fine", True)
"""


@pytest.mark.skipif(not workers.forkserver_available(), reason="fork servers are Linux-only")
def test_forked_runs_inherit_torch_dynamo_from_their_server_and_know_which_run_of_it_they_are(
    user_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first optimizer a process builds imports ``torch._dynamo`` (~1 s, more under load): the server
    imports it once, before it forks, so no run pays it; each outcome says which run of its worker it was.
    (The other tests' servers leave it out: tests/conftest.py.)"""
    monkeypatch.setenv("READTRACK_FORKSERVER_DYNAMO", "1")
    write_plugin(user_dir, "probing", PROBING)
    settings = RunSettings(quick=True, only="check")
    jobs = [settings.request("probing", seed) for seed in range(3)]
    outcomes = ForkServerPool(1).run(jobs)
    assert [o.worker_run for o in outcomes] == [1, 2, 3]
    for outcome in outcomes:
        assert outcome.record is not None and outcome.record.status == "passed", outcome.error
        (measured,) = outcome.record.stages[0].measured
        assert measured.value == 1.0, "the run imported torch._dynamo itself"
