"""``readtrack run --resume ID`` (issue 83): a group or a sweep cut short by Ctrl-C runs what it left, into
the same group, as it first ran. Real batches of fake plugins on disk, SIGINT to the CLI in a subprocess,
the CLI again to resume, real SQLite history read back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_runner import interruptible, run_cli
from fake_plugins import FAILING, KNOBBY_CONFIG, PASSING, write_plugin

from readtrack.batch.groups import BatchCancelled, Job, RunSettings, run_batch
from readtrack.history import runs as history
from readtrack.history import sweeps as sweeps_history
from readtrack.history.spread import GroupRecord
from readtrack.plugins.records import RunInfo, RunRecord, StageResult

# seed 0 passes at once; every other seed hangs in its check while the file HOLD exists (a resume removes it
# first, and every seed then passes)
HELD_BY_A_FILE = """
import os
import time


def check(ctx):
    ctx.check_property("fine", True)
    if ctx.seed > 0:
        ctx.log("holding")
        while os.path.exists({hold!r}):
            time.sleep(0.02)


def train(ctx):
    ctx.target("reached", 1.0, 0.5)
"""

# a sweep's: every setting ends at once (the defaults miss their target), but decay=0.5 holds seed 1 while
# the file HOLD exists
SWEEP_HELD_BY_A_FILE = """
import os
import time

from .config import Config


def check(ctx):
    ctx.check_property("always", True)


def train(ctx):
    cfg = ctx.config(Config)
    ctx.target("final loss", cfg.decay ** cfg.steps, 0.05, higher_is_better=False)
    if cfg.decay == 0.5 and ctx.seed == 1:
        ctx.log("holding")
        while os.path.exists({hold!r}):
            time.sleep(0.02)
"""


def events_of(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused command says (exit 2, nothing on stdout, no traceback)."""
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("readtrack: "), result.stderr
    return lines[0]


def held(user_dir: Path, tmp_path: Path, name: str = "partly") -> Path:
    """The plugin ``name`` (HELD_BY_A_FILE) and its hold file, in place."""
    hold = tmp_path / f"{name}.hold"
    hold.write_text("")
    write_plugin(user_dir, name, HELD_BY_A_FILE.format(hold=str(hold)))
    return hold


def cut_in_process(plugin: str, seeds: list[int], settings: RunSettings) -> GroupRecord:
    """A real batch cancelled the moment seed 0 ends (the KeyboardInterrupt raised where Ctrl-C would land),
    the group as history keeps it: a cheaper cut than a subprocess's, for the refusals. One worker, so that
    seed 0 ends first whatever the load: with two, a later seed whose worker started sooner could finish
    before it and be kept (seen once on a loaded machine: toy's seed 1, 20 steps of 0.05 s)."""

    def ctrl_c_when_seed_0_ends(job: Job, event: dict[str, Any]) -> None:
        if event.get("type") == "job" and event.get("event") == "end" and job.seed == 0:
            raise KeyboardInterrupt

    with pytest.raises(BatchCancelled):
        run_batch([plugin], seeds, settings, workers=1, on_event=ctrl_c_when_seed_0_ends)
    (group,) = history.entries(plugin)
    assert isinstance(group, GroupRecord) and group.status == "cancelled"
    return group


def test_ctrl_c_then_resume_runs_only_the_missing_seeds_into_the_same_group(
    user_dir: Path, tmp_path: Path
) -> None:
    """``run partly --seeds 0-3 --quick --only check`` cut by SIGINT after seed 0 ended: the message and
    `history` say how to resume; ``run --resume ID`` (the 8 characters history shows) runs seeds 1-3 alone,
    quick, check only, on the cpu, into the same group, which ends passed with every seed once, seed 0's run
    the one recorded first."""
    hold = held(user_dir, tmp_path)
    argv = ["run", "partly", "--seeds", "0-3", "--jobs", "2", "--json", "--device", "cpu", "--quick"]
    process = subprocess.Popen(
        interruptible(*argv, "--only", "check"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    seed0_ended = holding = False
    for line in process.stdout:  # wait for seed 0 to end and a later seed to hold
        event = json.loads(line)
        seed0_ended |= event["type"] == "job" and event["event"] == "end" and event["seed"] == 0
        holding |= event["type"] == "log" and event["seed"] > 0
        if seed0_ended and holding:
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 130, err
    (cut,) = history.entries("partly")
    assert isinstance(cut, GroupRecord) and [r.info.seed for r in cut.runs] == [0]
    ident = cut.group_id[:8]
    last = json.loads(out.splitlines()[-1])
    assert last["message"].endswith(f"; resume with `readtrack run --resume {ident}`"), last["message"]
    listed = run_cli("history", "partly")
    assert (
        f"partly {ident}: 1 of 4 seeds finished; resume with `readtrack run --resume {ident}`"
        in listed.stdout
    )

    hold.unlink()
    resumed = run_cli("run", "--resume", ident, "--json")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    ran = sorted(e["seed"] for e in events_of(resumed.stdout) if e["type"] == "job" and e["event"] == "start")
    assert ran == [1, 2, 3]
    assert f"partly group {ident}: 1 of 4 seeds finished; resuming seeds 1-3 (3 runs), quick, cpu, check" in (
        resumed.stderr
    )
    (group,) = history.entries("partly")  # one entry: the same group, complete
    assert isinstance(group, GroupRecord) and group.group_id == cut.group_id
    assert group.status == "passed" and group.missing == {} and group.seeds == [0, 1, 2, 3]
    assert [r.info.seed for r in group.runs] == [0, 1, 2, 3]
    assert group.runs[0].info.run_id == cut.runs[0].info.run_id
    assert {(r.info.quick, tuple(r.info.stages), r.info.device) for r in group.runs} == {
        (True, ("check",), "cpu")
    }
    assert len(history.runs("partly")) == 4
    assert "resume" not in run_cli("history", "partly").stdout

    again = run_cli("run", "--resume", ident)
    assert again.returncode == 0, again.stderr
    assert f"the group {ident} of partly: nothing left to resume (4 of 4 seeds finished)" in again.stderr


def test_ctrl_c_in_a_sweep_then_resume_runs_what_it_left_into_the_same_sweep(
    user_dir: Path, tmp_path: Path
) -> None:
    """One worker, so the order is known: the defaults on seeds 0 and 1, decay=0.5 on seed 0, then SIGINT
    while decay=0.5 holds seed 1; decay=0.9 never starts. ``--resume SWEEP`` runs decay=0.5 seed 1 (into
    its group) and decay=0.9 on both seeds (a group of the sweep): the sweep ends one entry, every setting
    on every seed once, nothing missing, its first runs kept; the tables cover all three settings."""
    hold = tmp_path / "sweep.hold"
    hold.write_text("")
    folder = write_plugin(user_dir, "paused", SWEEP_HELD_BY_A_FILE.format(hold=str(hold)))
    (folder / "config.py").write_text(KNOBBY_CONFIG)
    argv = ["run", "paused", "--quick", "--only", "train", "--set", "decay=0.5,0.9", "--seeds", "0-1"]
    process = subprocess.Popen(
        interruptible(*argv, "--jobs", "1", "--device", "cpu"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "120"},
    )
    assert process.stdout is not None
    for line in process.stdout:  # the progress prints a line as each run ends
        if line.startswith("paused decay=0.5 seed 0:"):
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 130, out + err
    (entry,) = json.loads(run_cli("history", "paused", "--json").stdout)
    sweep_id = entry["sweep_id"]
    assert entry["counts"] == {"runs": 6, "passed": 1, "failed": 2, "missing": 3}
    assert f"resume with `readtrack run --resume {sweep_id[:8]}`" in err
    first = {r["info"]["run_id"] for g in entry["groups"] for r in g["runs"]}

    hold.unlink()
    resumed = run_cli("run", "--resume", sweep_id[:8], "--jobs", "1")
    assert resumed.returncode == 1, resumed.stdout + resumed.stderr  # the defaults miss their target
    assert "resuming 2 settings on seeds 0-1 (3 runs), quick, cpu, train" in resumed.stderr
    assert "decay" in resumed.stdout and "final loss" in resumed.stdout  # the sweep's table, every setting
    (entry,) = json.loads(run_cli("history", "paused", "--json").stdout)
    assert entry["sweep_id"] == sweep_id and entry["status"] == "failed"
    assert entry["counts"] == {"runs": 6, "passed": 4, "failed": 2, "missing": 0} and entry["not_run"] == []
    ran = sorted(
        (json.dumps(r["info"]["settings"]), r["info"]["seed"]) for g in entry["groups"] for r in g["runs"]
    )
    assert ran == sorted(
        (json.dumps(s), seed) for s in ({}, {"decay": 0.5}, {"decay": 0.9}) for seed in (0, 1)
    )
    assert first <= {r["info"]["run_id"] for g in entry["groups"] for r in g["runs"]}
    assert all(g["missing"] == {} for g in entry["groups"]) and len(entry["groups"]) == 3
    swept = sweeps_history.sweep(sweep_id)
    assert swept is not None and {r.info.sweep_id for r in swept.runs} == {sweep_id}
    assert {tuple(r.info.stages) for r in swept.runs} == {("train",)}


def test_a_second_resume_of_a_group_being_resumed_is_refused_in_one_line(
    user_dir: Path, tmp_path: Path
) -> None:
    """Two ``run --resume ID`` at once (issue 94): both ran every seed left, and the later replaced the
    earlier's runs. Now the first holds the group while it runs; the second is refused, naming it, and runs
    nothing; once the first has ended, a third finds nothing left."""
    hold = held(user_dir, tmp_path)
    group = cut_in_process("partly", [0, 1, 2], RunSettings(device="cpu", only="check"))
    ident = group.group_id[:8]
    first = subprocess.Popen(
        [sys.executable, "-m", "readtrack", "run", "--resume", ident, "--json", "--jobs", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert first.stdout is not None
        for line in first.stdout:  # seed 1 is running, held by the file
            if json.loads(line).get("type") == "log":
                break
        line = one_line_error(run_cli("run", "--resume", ident, "--json"))
        assert line == (
            f"readtrack: --resume {ident}: the group {ident} of partly is being resumed by another readtrack "
            f"(pid {first.pid}); `readtrack history partly` shows it when that ends"
        )
    finally:
        hold.unlink()
        _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    (whole,) = history.entries("partly")
    assert isinstance(whole, GroupRecord) and [r.info.seed for r in whole.runs] == [0, 1, 2]
    assert whole.runs[0].info.run_id == group.runs[0].info.run_id
    again = run_cli("run", "--resume", ident)
    assert again.returncode == 0 and "nothing left" in again.stderr.lower(), again.stderr


def test_options_that_contradict_the_group_are_refused_in_one_line(user_dir: Path, tmp_path: Path) -> None:
    hold = held(user_dir, tmp_path)
    write_plugin(user_dir, "other", PASSING)
    group = cut_in_process("partly", [0, 1, 2], RunSettings(device="cpu", only="check"))
    ident = group.group_id[:8]
    hold.unlink()
    refusals = {
        ("--seeds", "5-9"): "--seeds 5-9: the group",
        ("--seed", "4"): "--seed 4: the group",
        ("--quick",): "--quick: the group",
        ("--only", "train"): "--only train: the group",
        ("--timeout", "5"): "--timeout 5.0: the group",
        ("--set", "lr=1"): "--set: a resume runs the group's own runs",
        ("--all",): "--all: a resume runs the group's own runs",
    }
    for extra, said in refusals.items():
        line = one_line_error(run_cli("run", "--resume", ident, *extra))
        assert f"readtrack: --resume {ident} {said}" in line, line
    line = one_line_error(run_cli("run", "other", "--resume", ident))
    assert line.endswith(f": the group {ident} of partly runs partly, not other; leave the name out")
    line = one_line_error(run_cli("run", "--retry-failed"))
    assert line == "readtrack: --retry-failed goes with --resume ID (a group's or a sweep's id)"
    (still,) = history.entries("partly")  # nothing ran
    assert isinstance(still, GroupRecord) and [r.info.seed for r in still.runs] == [0]
    agreeing = run_cli("run", "partly", "--resume", ident, "--seeds", "0-2", "--only", "check", "--dry-run")
    assert agreeing.returncode == 0, agreeing.stderr
    assert agreeing.stdout.splitlines() == [
        f"partly group {ident}: 1 of 3 seeds finished; resuming seeds 1-2 (2 runs), full, cpu, check",
        "nothing run (--dry-run)",
    ]


def test_an_unknown_id_is_one_line_and_exit_2(user_dir: Path) -> None:
    line = one_line_error(run_cli("run", "--resume", "0123abcd"))
    assert line == "readtrack: 0123abcd: no group or sweep has such an id (`readtrack history` lists them)"
    write_plugin(user_dir, "alone", PASSING)
    assert run_cli("run", "alone", "--only", "check").returncode == 0
    (run,) = history.runs("alone")
    line = one_line_error(run_cli("run", "--resume", run.info.run_id[:8]))
    assert "a run of alone made alone, not a group or a sweep: nothing to resume" in line


def test_nothing_to_resume_says_so_and_exits_0_and_failed_seeds_rerun_only_when_asked(user_dir: Path) -> None:
    """A group that ran to its end, two seeds failing: nothing to resume (exit 0), the failures named; with
    --retry-failed both run again, each new run taking its seed's place (the group still one run a seed)."""
    write_plugin(user_dir, "broken", FAILING)
    assert run_cli("run", "broken", "--seeds", "0-1", "--only", "check", "--device", "cpu").returncode == 1
    (group,) = history.entries("broken")
    assert isinstance(group, GroupRecord)
    ident = group.group_id[:8]
    nothing = run_cli("run", "--resume", ident)
    assert nothing.returncode == 0, nothing.stderr
    assert nothing.stderr.strip() == (
        f"readtrack: the group {ident} of broken: nothing left to resume (2 of 2 seeds finished); 2 runs did "
        "not pass: --retry-failed runs them again"
    )
    assert len(history.runs("broken")) == 2
    retried = run_cli("run", "--resume", ident, "--retry-failed", "--json")
    assert retried.returncode == 1, retried.stderr  # they fail again
    (again,) = history.entries("broken")
    assert isinstance(again, GroupRecord) and again.group_id == group.group_id
    assert [r.info.seed for r in again.runs] == [0, 1] and len(history.runs("broken")) == 2
    assert {r.info.run_id for r in again.runs}.isdisjoint(r.info.run_id for r in group.runs)


def test_a_group_recorded_before_requests_were_kept_is_refused_with_how_to_run_it_again(
    user_dir: Path,
) -> None:
    """A history file of an older readtrack: the group has no request stored; refused, naming the command."""
    runs = [
        RunRecord(
            RunInfo(
                f"old-run-{seed}", "toy", "toy", "cpu", ["check"], False, seed, "2026-01-01T10:00:00+00:00"
            ),
            "passed",
            1.0,
            [StageResult("check", "passed")],
        )
        for seed in (0,)
    ]
    history.record_group(GroupRecord("0ld6" * 8, "toy", [0, 1], "2026-01-01T10:00:00+00:00", "cancelled", 1.0,
                                     runs, {1: "cancelled before it finished"}))  # fmt: skip
    line = one_line_error(run_cli("run", "--resume", "0ld60ld6"))
    assert line == (
        "readtrack: 0ld60ld6: the group 0ld60ld6 of toy was recorded before readtrack kept what its runs "
        "were asked to be (the stages, the device, the timeout), so it cannot be resumed; run it again "
        "(`readtrack run toy --seeds 0-1`, with its options)"
    )
    assert "resume with" not in run_cli("history").stdout


@pytest.mark.slow
@pytest.mark.xdist_group("ray")  # the one test process that holds the Ray cluster (`ray_lab`)
def test_a_resume_runs_on_a_ray_cluster_with_the_executor_options_passed_through(
    ray_lab: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group cut here (toy's seeds 1-2 pause 1 s, seed 0 none) resumed with ``--executor ray --address``:
    seeds 1-2 run on the cluster's nodes with the group's knobs, into the group, seed 0's run kept."""
    monkeypatch.setenv("READTRACK_PLUGINS_DIR", str(ray_lab.plugins))
    settings = RunSettings(device="cpu", quick=True, only="train", settings=(("pause", 0.05),))
    cut = cut_in_process("toy", [0, 1, 2], settings)
    assert [r.info.seed for r in cut.runs] == [0]
    where = ("--executor", "ray", "--address", ray_lab.address)
    result = run_cli("run", "--resume", cut.group_id[:8], "--json", *where, env=ray_lab.env())
    assert result.returncode == 0, result.stdout + result.stderr
    (group,) = history.entries("toy")
    assert isinstance(group, GroupRecord) and group.group_id == cut.group_id and group.status == "passed"
    assert [r.info.seed for r in group.runs] == [0, 1, 2] and group.runs[0].info.run_id == cut.runs[
        0
    ].info.run_id
    resumed = group.runs[1:]
    assert {r.info.environment.get("node") for r in resumed} <= ray_lab.node_ids()
    assert all(r.info.settings == {"pause": 0.05} and r.info.stages == ["train"] for r in resumed)
