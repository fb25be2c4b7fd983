"""Where the runs ran, said when it was more than one machine (issue 83): under a multi-seed run's per-seed
table, in `readtrack compare` of two runs and in a line-up of several; nothing new when all ran on one.
Records made by hand (tests/made_records.py), as a Ray cluster's driver records them (``environment.host``
and ``environment.node``, `readtrack.batch.ray_executor`)."""

from __future__ import annotations

from cli_runner import run_cli
from made_records import make_record, store
from rich.console import Console

from readtrack.history.machines import ran_on_line
from readtrack.history.spread import GroupRecord
from readtrack.plugins.records import RunRecord
from readtrack.render.batches import render_group


def ran_on(run_id: str, seed: int, host: str | None, node: str = "", **env: object) -> RunRecord:
    record = make_record(run_id=run_id, started_at=f"2026-01-01T10:00:0{seed}+00:00")
    record.info.seed = seed
    if host is not None:
        record.info.environment.update({"host": host, "node": node or f"{host}-node-{seed}"})
    record.info.environment.update(env)
    return record


def group_text(runs: list[RunRecord]) -> str:
    group = GroupRecord(
        "g1", "toy", [r.info.seed for r in runs], "2026-01-01T10:00:00+00:00", "passed", 9.0, runs
    )
    console = Console(width=120, record=True)
    render_group(group, console)
    return console.export_text()


def test_a_per_seed_table_says_the_machines_its_seeds_ran_on_when_more_than_one() -> None:
    runs = [
        ran_on("r0", 0, "gpu-a"),
        ran_on("r1", 1, "gpu-b"),
        ran_on("r2", 2, "gpu-a"),
        ran_on("r3", 3, "gpu-a"),
    ]
    text = group_text(runs)
    assert "ran on 2 machines: gpu-a (3 runs), gpu-b (1 run)" in text
    # two Ray nodes of one host are one machine: nothing new under the table (its "ran on" row names them)
    one_host = group_text([ran_on("r0", 0, "gpu-a", "n1"), ran_on("r1", 1, "gpu-a", "n2")])
    assert "machines" not in one_host and "devices" not in one_host
    assert "machines" not in group_text([ran_on("r0", 0, None), ran_on("r1", 1, None)])  # made here


def test_a_line_counts_hosts_and_devices_and_is_silent_for_one() -> None:
    h200 = {"device": "cuda:0", "device_name": "NVIDIA H200"}
    assert ran_on_line([ran_on("a", 0, None, **h200), ran_on("b", 1, None)]) == (
        "ran on 2 devices: cuda:0 (NVIDIA H200) (1 run), cpu (1 run)"
    )
    assert ran_on_line([ran_on("a", 0, "x", **h200), ran_on("b", 1, "y"), ran_on("c", 2, "y")]) == (
        "ran on 2 machines: x · cuda:0 (NVIDIA H200) (1 run), y · cpu (2 runs)"
    )
    assert ran_on_line([ran_on("a", 0, "x"), ran_on("b", 1, None)]) is None  # one host known: not two
    assert ran_on_line([ran_on("a", 0, "x"), ran_on("b", 1, "y"), ran_on("c", 2, None)]) == (
        "ran on 3 machines: x (1 run), y (1 run), host not recorded (1 run)"
    )
    assert ran_on_line([ran_on("a", 0, "x", "n1"), ran_on("b", 1, "x", "n2")]) is None


def test_compare_says_when_the_runs_compared_ran_on_two_machines_and_not_when_on_one() -> None:
    store(ran_on("aaaa1111", 0, "gpu-a"))
    store(ran_on("bbbb2222", 1, "gpu-b"))
    two = run_cli("compare", "toy")
    assert two.returncode == 0, two.stderr
    assert "ran on 2 machines: gpu-a (1 run), gpu-b (1 run)" in two.stdout
    store(ran_on("cccc3333", 2, "gpu-b"))  # the two newest: both on gpu-b
    one = run_cli("compare", "toy")
    assert one.returncode == 0, one.stderr
    assert "ran on" not in one.stdout and "machines" not in one.stdout
    three = run_cli("compare", "toy", "aaaa1111", "bbbb2222", "cccc3333")  # side by side
    assert three.returncode == 0, three.stderr
    assert "ran on 2 machines: gpu-a (1 run), gpu-b (2 runs)" in three.stdout


def test_every_attempt_of_a_run_is_kept_and_said_and_an_older_record_without_them_reads_as_one() -> None:
    """A run a cluster ran twice (its first node lost) keeps both attempts in its record, through history;
    its report and a multi-seed run's say them; a record written before readtrack kept attempts (no
    ``attempts`` key: the history's JSON column as an older readtrack wrote it) reads as a run made once."""
    import json
    import sqlite3

    from readtrack.base.paths import database_path
    from readtrack.history import runs as history
    from readtrack.render.runs import render_record

    lost = "its Ray worker on vm (node 1a2b3c4d) was lost; run again"
    record = ran_on("twice001", 1, "vm", "5e6f7a8b9")
    record.info.attempts = [
        {"attempt": 1, "node": "1a2b3c4d5", "host": "vm", "status": "retried", "error": lost, "wall_s": 1.5},
        {"attempt": 2, "node": "5e6f7a8b9", "host": "vm", "status": "passed", "error": None, "wall_s": 3.5},
    ]
    store(record)
    store(ran_on("older001", 0, "vm"))
    with sqlite3.connect(database_path()) as conn:  # as a readtrack before attempts wrote it
        (text,) = conn.execute("SELECT record FROM runs WHERE run_id = 'older001'").fetchone()
        data = json.loads(text)
        del data["info"]["attempts"]
        conn.execute("UPDATE runs SET record = ? WHERE run_id = 'older001'", (json.dumps(data),))
    found = {r.info.run_id: r for r in history.runs("toy")}
    assert found["twice001"].info.attempts == record.info.attempts and found["older001"].info.attempts == []
    said = "2 attempts: 1 on vm node 1a2b3c4d retried (its worker or node lost), 2 on vm node 5e6f7a8b passed"
    console = Console(width=200, record=True)
    render_record(found["twice001"], console)
    render_record(found["older001"], console)
    assert console.export_text().count(said) == 1 and "attempts" not in console.export_text().replace(
        said, ""
    )
    text = group_text([found["older001"], found["twice001"]])
    assert f"seed 1: {said}" in text and "seed 0: " not in text
