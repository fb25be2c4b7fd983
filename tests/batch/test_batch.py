"""Several seeds, several plugins, the whole shelf: ``readtrack run --seeds/--all/--jobs`` through the real
CLI in a subprocess, with real worker processes, real plugin packages on disk and real SQLite history."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cli_runner import interruptible, run_cli
from fake_plugins import FAILING, HANGING, write_plugin
from test_executor_contract import processes_in

from readtrack.base.errors import UsageError
from readtrack.batch.groups import BatchCancelled, Job, RunSettings, parse_seeds, run_batch, seeds_label
from readtrack.history import runs as history
from readtrack.history.spread import GroupRecord
from readtrack.plugins.records import RunRecord

# A target that holds on every seed but 3: the value is a draw of the seeded generator, and seed 3's draw
# is the one below the bar (the test checks that first, so a torch update cannot make this pass silently).
SEED_DEPENDENT = """
import torch


def check(ctx):
    ctx.check_property("fine", True)


def train(ctx):
    value = float(torch.rand(()).item())
    ctx.target("draw above the bar", value, {bar!r})
    ctx.measured("seed", float(ctx.seed))
"""

CRASHING = """
import os


def check(ctx):
    ctx.check_property("fine", True)


def train(ctx):
    os._exit(3)  # the worker dies without a record, as a segfault or an OOM kill would
"""


def _draws(seeds: range) -> list[float]:
    import torch

    out = []
    for seed in seeds:
        torch.manual_seed(seed)
        out.append(float(torch.rand(()).item()))
    return out


@pytest.fixture
def seed_dependent(user_dir: Path) -> float:
    """The toy plugin ``lucky`` and its bar: just above seed 3's draw, below every other seed's of 0-4."""
    draws = _draws(range(5))
    others = [d for i, d in enumerate(draws) if i != 3]
    assert draws[3] < min(others), f"seed 3 must draw lowest for this toy: {draws}"
    bar = (draws[3] + min(others)) / 2
    write_plugin(user_dir, "lucky", SEED_DEPENDENT.format(bar=bar), paper_id="lucky")
    return bar


def events_of(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


# -- parsing ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "seeds"),
    [
        ("0-4", [0, 1, 2, 3, 4]),
        ("5", [0, 1, 2, 3, 4]),
        ("0,3,7", [0, 3, 7]),
        ("0-2,10", [0, 1, 2, 10]),
        ("3-3", [3]),
        ("1,1,2", [1, 2]),
        (" 2 - 4 ", [2, 3, 4]),
    ],
)
def test_seeds_read_as_ranges_lists_and_counts(text: str, seeds: list[int]) -> None:
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["", "0", "4-1", "a", "1,,2", "-1", "0-4-5"])
def test_malformed_seeds_are_refused_with_the_forms_named(text: str) -> None:
    with pytest.raises(UsageError):
        parse_seeds(text)


def test_seed_labels_shorten_consecutive_runs() -> None:
    assert seeds_label([0, 1, 2, 3, 4]) == "0-4"
    assert seeds_label([0, 3, 7]) == "0,3,7"
    assert seeds_label([5]) == "5"
    assert seeds_label([0, 1, 2, 10, 37, 38]) == "0-2,10,37-38"


# -- several seeds ---------------------------------------------------------------------------------
def test_a_target_failing_on_one_seed_fails_the_multi_seed_run_and_names_the_seed(
    seed_dependent: float,
) -> None:
    result = run_cli("run", "lucky", "--seeds", "0-4", "--jobs", "2", "--device", "cpu")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "draw above the bar failed on seed 3" in result.stdout
    assert "4/5" in result.stdout  # seeds passed, in the spread table
    assert "the claim does not hold on seed 3" in result.stdout

    (entry,) = history.entries("lucky")
    assert isinstance(entry, GroupRecord)
    assert entry.seeds == [0, 1, 2, 3, 4] and entry.status == "failed"
    assert [r.info.seed for r in entry.runs] == [0, 1, 2, 3, 4]
    assert [r.status for r in entry.runs] == ["passed", "passed", "passed", "failed", "passed"]
    assert all(r.info.group_id == entry.group_id and r.info.threads == 1 for r in entry.runs)
    # Badges and `show` give the group's verdict, not that of whichever seed happened to start last.
    assert history.last_by_device()["lucky"]["cpu"].status == "failed"
    assert history.last_statuses()["lucky"].status == "failed"
    # Each seed's number is the one a run alone at that seed gives (the runs are independent processes).
    draws = _draws(range(5))
    values = [r.stages[1].targets[0].value for r in entry.runs]
    assert values == pytest.approx(draws, abs=1e-7)


NAMED_BY_SEED = """
def check(ctx):
    ctx.check_property("fine", True)


def train(ctx):
    rate = 0.1 if ctx.seed % 2 else 0.3  # a rate "picked" per seed, wrongly put in the name
    ctx.measured(f"accuracy, lr {rate:g}", 0.5)
    ctx.measured("accuracy", 0.5, f"lr {rate:g}")
"""


def test_a_name_that_changes_with_the_seed_is_pointed_out(user_dir: Path) -> None:
    """Seeds line up by name: a picked rate (or the seed) in a name splits one number into rows that are
    n/a on the other seeds. The run says so, naming the seeds, and leaves the well-named number alone."""
    write_plugin(user_dir, "renamer", NAMED_BY_SEED, paper_id="renamer")
    result = run_cli("run", "renamer", "--seeds", "0-3", "--device", "cpu", env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("! ")]
    assert len(lines) == 2, result.stdout
    assert lines[0].startswith("! accuracy, lr 0.3: not recorded on seeds 1,3, whose run finished"), lines
    assert lines[1].startswith("! accuracy, lr 0.1: not recorded on seeds 0,2, whose run finished"), lines
    assert "put what varies in the detail" in lines[0]


STOPS_ON_SEED_1 = """
def check(ctx):
    ctx.check_property("fine", True)


def train(ctx):
    ctx.measured("first", 1.0)
    if ctx.seed == 1:
        raise RuntimeError("stopped before the second number")
    ctx.measured("second", 2.0)
"""


def test_a_number_missing_from_a_run_that_stopped_is_not_blamed_on_its_name(user_dir: Path) -> None:
    write_plugin(user_dir, "stopper", STOPS_ON_SEED_1, paper_id="stopper")
    result = run_cli("run", "stopper", "--seeds", "0-2", "--device", "cpu", env={"COLUMNS": "200"})
    assert result.returncode != 0  # seed 1's error
    assert "a name that changes with the seed" not in result.stdout, result.stdout


def test_seeds_that_all_pass_exit_0_and_json_reports_the_spread(seed_dependent: float) -> None:
    result = run_cli("run", "lucky", "--seeds", "0,1,4", "--json", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    events = events_of(result.stdout)
    assert {e["seed"] for e in events if e["type"] == "seed_record"} == {0, 1, 4}
    (done,) = [e for e in events if e["type"] == "plugin_done"]
    group = done["group"]
    (target,) = [s for s in group["spread"] if s["kind"] == "target"]
    draws = [d for i, d in enumerate(_draws(range(5))) if i in (0, 1, 4)]
    assert target["values"] == pytest.approx(draws, abs=1e-7)
    assert target["mean"] == pytest.approx(sum(draws) / 3, abs=1e-7)
    assert target["n_passed"] == 3 and target["holds"] is True
    low, high = target["ci95"]
    assert low < target["mean"] < high
    timed = {"announced_s": None, "taken_s": events[-1].get("taken_s")}  # nothing recorded to announce from
    assert events[-1] == {
        "type": "batch",
        "status": "passed",
        "exit_code": 0,
        "plugins": [{"plugin": "lucky", "status": "passed"}],
        **timed,
    }
    assert isinstance(timed["taken_s"], float) and timed["taken_s"] > 0
    listed = json.loads(run_cli("history", "lucky", "--json").stdout)
    assert len(listed) == 1 and listed[0]["seeds"] == [0, 1, 4] and len(listed[0]["runs"]) == 3


def test_compare_lines_up_two_multi_seed_runs_by_their_means(seed_dependent: float) -> None:
    assert run_cli("run", "lucky", "--seeds", "0-1", "--device", "cpu").returncode == 0
    assert run_cli("run", "lucky", "--seeds", "2", "--device", "cpu", "--only", "train").returncode == 0
    result = run_cli("compare", "lucky", "--json")
    assert result.returncode == 0, result.stderr
    comparison = json.loads(result.stdout)
    assert comparison["older"]["seeds"] == [0, 1] and comparison["newer"]["seeds"] == [0, 1]
    (delta,) = [d for d in comparison["deltas"] if d["section"] == "target"]
    mean = sum(_draws(range(2))) / 2
    assert delta["old"] == pytest.approx(mean) and delta["new"] == pytest.approx(mean)
    shown = run_cli("compare", "lucky")
    assert "multi-seed run" in shown.stdout and "over seeds" in shown.stdout


def test_a_worker_that_dies_without_a_record_is_an_error_with_its_seed(user_dir: Path) -> None:
    write_plugin(user_dir, "crashy", CRASHING)
    result = run_cli("run", "crashy", "--seeds", "0-1", "--device", "cpu")
    assert result.returncode == 1
    assert "exited with code 3 without a record" in result.stdout
    assert history.entries("crashy") == []  # nothing to record: no seed gave a run


# -- threads ---------------------------------------------------------------------------------------
# A training whose numbers move with torch's thread count: a slope fitted by gradient descent on 2^22 points,
# each gradient a float32 sum that torch splits between its threads (and so adds in another order).
THREAD_SENSITIVE = """
import torch


def check(ctx):
    ctx.check_property("fine", True)


def train(ctx):
    g = torch.Generator().manual_seed(ctx.seed)
    x = torch.randn(2**22, generator=g)
    y = 3 * x + 0.1 * torch.randn(2**22, generator=g)
    a = 0.0
    for _ in range(10):
        a -= 0.5 * ((a * x - y) * x).mean().item()
    ctx.target("training loss", ((a * x - y) ** 2).mean().item(), 1.0, higher_is_better=False)
    ctx.measured("slope", a)
"""


def _train(env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "readtrack", "run", "threads", "--only", "train", "--json"]
    argv += ["--device", "cpu", "--no-record", *extra]
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **env}
    )


def test_the_default_thread_policy_makes_a_train_repeat_bit_for_bit_whatever_the_environment(
    user_dir: Path,
) -> None:
    """A training gives other numbers at 2 threads than at 1 (the last run shows it, so this test can fail):
    under the default policy the environment asking for 1, 2 or 4 threads changes nothing."""
    write_plugin(user_dir, "threads", THREAD_SENSITIVE)
    asks = [{"OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n} for n in ("1", "2", "4")]
    processes = [_train(env) for env in asks] + [_train({}, "--threads", "2")]
    records = []
    for process in processes:  # run side by side: under load too, the numbers must not move
        out, err = process.communicate(timeout=300)
        assert process.returncode in (0, 1), err
        records.append(RunRecord.from_dict(events_of(out)[-1]["record"]))
    numbers = [
        [(t.name, t.value) for t in r.stages[0].targets] + [(m.name, m.value) for m in r.stages[0].measured]
        for r in records
    ]
    assert numbers[0] == numbers[1] == numbers[2]
    assert [r.info.threads for r in records] == [1, 1, 1, 2]
    assert records[3].info.environment["cpu_threads"] == 2
    assert numbers[3] != numbers[0], "the training no longer depends on the thread count: make it bigger"


def test_a_bad_thread_count_is_one_readable_line(user_dir: Path) -> None:
    write_plugin(user_dir, "good")
    result = run_cli("run", "good", "--threads", "0")
    assert result.returncode == 2 and "--threads must be at least 1" in result.stderr
    result = run_cli("run", "good", env={"READTRACK_THREADS": "many"})
    assert result.returncode == 2 and "READTRACK_THREADS must be a whole number" in result.stderr


def test_run_show_and_history_display_the_thread_count(user_dir: Path, catalog_file: Path) -> None:
    write_plugin(user_dir, "good")
    from readtrack.catalog import edits

    edits.set_fields(catalog_file, "adamw", {"plugin": "good"})
    result = run_cli("run", "good", "--device", "cpu", "--threads", "2", "--only", "train")
    assert "seed 0 · cpu · 2 threads" in result.stdout
    assert "cpu×2" in run_cli("history").stdout
    assert "good: passed · cpu×2 · seed 0" in run_cli("show", "adamw").stdout
    shown = json.loads(run_cli("show", "adamw", "--json").stdout)
    assert shown["last_runs"]["good"]["threads"] == 2


# -- several plugins -------------------------------------------------------------------------------
def test_the_shelf_runs_plugins_in_parallel_and_lists_failures_first(user_dir: Path) -> None:
    write_plugin(user_dir, "good")
    write_plugin(user_dir, "bad", FAILING)
    result = run_cli("run", "good", "bad", "--device", "cpu", "--jobs", "2")
    assert result.returncode == 1, result.stderr
    table = result.stdout[result.stdout.index("failures first") :]
    assert table.index("bad") < table.index("good")
    assert "1 of 2 plugins passed" in result.stdout
    recorded = {r.info.plugin: r.status for r in history.entries() if isinstance(r, RunRecord)}
    assert recorded == {"good": "passed", "bad": "failed"}  # one seed: plain runs, no groups


def test_only_tag_picks_the_plugins_of_tagged_papers(user_dir: Path, catalog_file: Path) -> None:
    write_plugin(user_dir, "good")
    write_plugin(user_dir, "bad", FAILING)
    assert run_cli("add", "A good fake", "--section", "Fakes").returncode == 0
    text = catalog_file.read_text().replace(
        "title: A good fake", "title: A good fake\n        tags: [fakes]\n        plugin: good"
    )
    catalog_file.write_text(text)
    result = run_cli("run", "--all", "--only-tag", "fakes", "--json", "--device", "cpu")
    assert result.returncode == 0, result.stdout + result.stderr
    assert events_of(result.stdout)[-1]["plugins"] == [{"plugin": "good", "status": "passed"}]
    missing = run_cli("run", "--all", "--only-tag", "nothing-has-this")
    assert missing.returncode == 2 and "no plugin runs a paper tagged 'nothing-has-this'" in missing.stderr


def test_names_or_all_are_required_and_not_both(user_dir: Path) -> None:
    write_plugin(user_dir, "good")
    assert "name a plugin" in run_cli("run").stderr
    assert "not both" in run_cli("run", "good", "--all").stderr
    unknown = run_cli("run", "nosuch", "good")
    assert unknown.returncode == 2 and "nosuch" in unknown.stderr


def test_seed_and_seeds_together_are_refused_and_seed_reaches_a_batch(user_dir: Path) -> None:
    write_plugin(user_dir, "good")
    write_plugin(user_dir, "other")
    both = run_cli("run", "good", "--seed", "1", "--seeds", "0-2")
    assert both.returncode == 2 and "give one" in both.stderr
    two = run_cli("run", "good", "other", "--seed", "3", "--device", "cpu", "--jobs", "1")
    assert two.returncode == 0, two.stdout + two.stderr
    assert {entry.info.seed for name in ("good", "other") for entry in history.entries(name)} == {3}


def test_readtrack_jobs_is_the_default_number_of_workers_and_a_bad_value_is_refused(user_dir: Path) -> None:
    """``READTRACK_JOBS`` (the suite sets 1, tests/conftest.py) stands in for ``--jobs``; ``--jobs`` wins."""
    write_plugin(user_dir, "good")
    one = run_cli("run", "good", "--seeds", "0-2", "--device", "cpu", "--json", env={"READTRACK_JOBS": "1"})
    assert one.returncode == 0, one.stdout + one.stderr
    starts = [
        e
        for e in map(json.loads, one.stdout.splitlines())
        if e.get("type") == "job" and e["event"] == "start"
    ]
    assert len(starts) == 3 and len({e["pid"] for e in starts}) == 1  # one worker ran the three seeds
    for bad in ("0", "two", "-1"):
        refused = run_cli("run", "good", "--seeds", "0-2", "--device", "cpu", env={"READTRACK_JOBS": bad})
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert refused.stderr.strip() == (
            f"readtrack: READTRACK_JOBS={bad!r}: give how many runs at once, a whole number of 1 or more"
        )
    given = run_cli(
        "run", "good", "--seeds", "0-1", "--jobs", "1", "--device", "cpu", env={"READTRACK_JOBS": "x"}
    )
    assert given.returncode == 0, given.stdout + given.stderr


def test_ctrl_c_stops_every_worker_and_records_nothing(user_dir: Path) -> None:
    write_plugin(user_dir, "hang", HANGING)
    process = subprocess.Popen(
        interruptible("run", "hang", "--seeds", "0-1", "--jobs", "2", "--json", "--device", "cpu"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    pids, logged = set(), 0
    for line in process.stdout:  # wait until both workers are inside the hanging stage
        event = json.loads(line)
        if event["type"] == "job" and event["event"] == "start":
            pids.add(event["pid"])
        logged += event["type"] == "log"
        if logged == 2:
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 130, err
    assert json.loads(out.splitlines()[-1])["status"] == "cancelled"
    assert len(pids) == 2
    time.sleep(0.2)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert history.entries() == [] and history.runs() == []


# seed 0 passes at once; every other seed hangs in its check until it is stopped
FIRST_SEED_ONLY = """
import time


def check(ctx):
    ctx.check_property("fine", True)
    if ctx.seed > 0:
        ctx.log("about to hang")
        while True:
            time.sleep(0.02)


def train(ctx):
    ctx.target("reached", 1.0, 0.5)
"""


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_ctrl_c_records_the_seeds_that_finished_and_names_those_that_did_not(
    user_dir: Path, sig: str
) -> None:
    """Ctrl+C, and SIGTERM (`kill`, `timeout`, a scheduler) or SIGHUP (the terminal closed) the same way
    (issue 94: those left the fork servers and the running seeds going, reparented, and recorded nothing):
    the workers stop, the finished seeds are recorded, the others said, exit 128 + the signal."""
    write_plugin(user_dir, "partly", FIRST_SEED_ONLY)
    process = subprocess.Popen(
        interruptible("run", "partly", "--seeds", "0-3", "--jobs", "2", "--json", "--device", "cpu"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    seed0_ended = hanging = False
    workers = set()
    for line in process.stdout:  # wait for seed 0 to end and a later seed to hang
        event = json.loads(line)
        if event["type"] == "job" and event["event"] == "start":
            workers.add(int(event["pid"]))
        seed0_ended |= event["type"] == "job" and event["event"] == "end" and event["seed"] == 0
        hanging |= event["type"] == "log" and event["seed"] > 0
        if seed0_ended and hanging:
            break
    process.send_signal(signal.Signals[sig])
    out, err = process.communicate(timeout=300)
    assert process.returncode == 128 + signal.Signals[sig], err
    deadline = time.monotonic() + 15  # a run stopped at the exit may take a moment more to be gone
    while processes_in(workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers and processes_in(workers) == {}  # no fork server, no run left in their sessions
    last = json.loads(out.splitlines()[-1])
    assert last["exit_code"] == process.returncode
    assert (last["status"], last["recorded"]) == ("cancelled", [{"plugin": "partly", "seeds": [0]}])
    assert last["unfinished"] == {"partly": [1, 2, 3]}
    (group,) = history.entries("partly")
    assert isinstance(group, GroupRecord) and group.status == "cancelled"
    assert last["message"] == (
        "cancelled: recorded 1 finished run (partly seeds 0); not finished, not recorded: partly seeds 1-3; "
        f"resume with `readtrack run --resume {group.group_id[:8]}`"
    )
    assert [r.info.seed for r in group.runs] == [0] and group.runs[0].status == "passed"
    assert group.seeds == [0, 1, 2, 3] and sorted(group.missing) == [1, 2, 3]


def test_ctrl_c_right_after_a_seed_ended_still_records_that_seed(user_dir: Path) -> None:
    """Ctrl-C between a job's end (its event already out) and the batch hearing of it: the seed counts as
    finished. The KeyboardInterrupt is raised where the signal would land, in the thread telling that end."""
    write_plugin(user_dir, "partly", FIRST_SEED_ONLY)

    def ctrl_c_when_seed_0_ends(job: Job, event: dict[str, Any]) -> None:
        if event.get("type") == "job" and event.get("event") == "end" and job.seed == 0:
            raise KeyboardInterrupt

    with pytest.raises(BatchCancelled) as cancelled:
        run_batch(
            ["partly"], [0, 1, 2, 3], RunSettings(device="cpu"), workers=2, on_event=ctrl_c_when_seed_0_ends
        )
    assert [(o.plugin, [r.info.seed for r in o.runs]) for o in cancelled.value.recorded] == [("partly", [0])]
    assert cancelled.value.unfinished == {"partly": [1, 2, 3]}
    (group,) = history.entries("partly")
    assert isinstance(group, GroupRecord) and [r.info.seed for r in group.runs] == [0]


def test_more_than_50_seeds_are_refused_in_a_pipe_without_yes(user_dir: Path) -> None:
    write_plugin(user_dir, "good")
    many = run_cli("run", "good", "--seeds", "0-1000", "--device", "cpu")
    assert many.returncode == 2
    assert many.stderr.splitlines() == [
        "readtrack: 1,001 runs: good on 1,001 seeds (0-1000), more than 50: pass --yes to start them "
        "(or --max N to allow N seeds)"
    ]
    assert history.entries() == []
    few = run_cli("run", "good", "--seeds", "0-1", "--max", "1", "--device", "cpu", "--json")
    assert few.returncode == 2 and "2 runs: good on 2 seeds (0-1), more than 1" in few.stderr
    confirmed = run_cli("run", "good", "--seeds", "0-1", "--max", "1", "--yes", "--device", "cpu")
    assert confirmed.returncode == 0, confirmed.stdout + confirmed.stderr
    (group,) = history.entries("good")
    assert isinstance(group, GroupRecord) and group.seeds == [0, 1]


@pytest.mark.skipif(
    __import__("torch").cuda.is_available(), reason="checks the message of a machine without CUDA"
)
def test_an_unavailable_device_stops_the_shelf_before_any_worker_starts() -> None:
    result = run_cli("run", "--all", "--device", "cuda", "--quick")
    assert result.returncode == 2
    assert result.stderr.startswith("readtrack: CUDA is not available here")
    assert history.entries() == []


def test_a_reader_that_goes_away_ends_the_json_quietly_and_every_run_is_still_recorded(
    user_dir: Path,
) -> None:
    """``readtrack run NAME --seeds 0-1 --json | head -1``: the pipe closes after the first line (the first
    job's start, written before its worker has imported torch). It used to end in a BrokenPipeError with
    nothing recorded; now the output ends, the runs go on and are recorded, and it exits 141 (SIGPIPE)."""
    write_plugin(user_dir, "good")
    process = subprocess.Popen(
        [sys.executable, "-m", "readtrack", "run", "good", "--seeds", "0-1", "--json", "--only", "check",
         "--device", "cpu", "--jobs", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    first = json.loads(process.stdout.readline())
    process.stdout.close()  # as `head -1` does
    assert (first["type"], first["event"], first["seed"]) == ("job", "start", 0)
    err = process.stderr.read()
    assert process.wait(timeout=300) == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err
    (group,) = history.entries("good")
    assert isinstance(group, GroupRecord) and group.status == "passed"
    assert [r.info.seed for r in group.runs] == [0, 1]


def test_a_single_run_whose_reader_goes_away_runs_on_is_recorded_and_exits_141(user_dir: Path) -> None:
    """``readtrack run NAME --json | head -1`` of one run: it ended in Click's exit 1 on the broken pipe, the
    run stopped and recorded "interrupted"; now it goes on as a batch's runs do."""
    write_plugin(user_dir, "good")
    process = subprocess.Popen(
        [sys.executable, "-m", "readtrack", "run", "good", "--json", "--device", "cpu"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    first = json.loads(process.stdout.readline())
    process.stdout.close()  # as `head -1` does
    assert first["type"] == "start"
    err = process.stderr.read()
    assert process.wait(timeout=300) == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err
    (run,) = history.entries("good")
    assert isinstance(run, RunRecord) and run.status == "passed"
