"""`readtrack lineage` as a reader uses it (issue 92): the families listed, one in time with its steps'
verdicts, a third-party plugin joining a family, a tiny family run as one batch and recorded, bad input.
The data behind it: tests/plugins/test_lineages.py."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import run_cli
from fake_plugins import write_plugin
from made_records import make_record, store

from readtrack.plugins.records import StageResult, Target

#: A user plugin joining the built-in recurrent family, between the GRU (2014) and S4 (2021).
JOINS_RECURRENT = """
from readtrack.api import Member, lineage_members

readtrack_lineages = lineage_members(
    Member("recurrent", "echo", title="A fake echo network", arxiv="1606.01234", improves=("gru",),
           what="echoes what it saw", number="final loss"),
)
"""

#: Two tiny plugins that make a family of their own, its steps measured by their "final loss" target.
TINY_FAMILY = """
from readtrack.api import Lineage, Member, lineage_members

readtrack_lineages = lineage_members(
    {lineage}Member("tiny-family", {name!r}, year={year}, what="a tiny step", number="final loss"),
)
"""


def tiny_family(user_dir: Path) -> None:
    family = 'Lineage("tiny-family", "A tiny family", "Does each tiny plugin lose less?"),\n    '
    write_plugin(
        user_dir,
        "tiny_a",
        name="tiny-a",
        extra_init=TINY_FAMILY.format(lineage=family, name="tiny-a", year=2001),
    )
    write_plugin(
        user_dir, "tiny_b", name="tiny-b", extra_init=TINY_FAMILY.format(lineage="", name="tiny-b", year=2005)
    )


def test_the_families_are_listed_with_what_the_reader_read_and_ran() -> None:
    listed = json.loads(run_cli("lineage", "--json").stdout)
    by_name = {lineage["name"]: lineage for lineage in listed}
    assert list(by_name) == [
        "optimizers", "recurrent", "cnn", "detection", "attention", "tokenization", "normalization",
    ]  # fmt: skip
    assert by_name["recurrent"]["members"] == ["rnn", "lstm", "gru", "mamba:s4", "mamba"]
    assert by_name["recurrent"]["read"] == 0 and by_name["recurrent"]["runs"] == 0
    assert run_cli("mark", "lstm", "read").returncode == 0
    store(make_record("gru", run_id="g1"))
    again = {lineage["name"]: lineage for lineage in json.loads(run_cli("lineage", "--json").stdout)}
    assert again["recurrent"]["read"] == 1 and again["recurrent"]["runs"] == 1
    table = run_cli("lineage", env={"COLUMNS": "80"}).stdout
    assert table.splitlines()[0].split() == ["lineage", "members", "read", "runs", "title"]
    assert all(len(line) <= 80 for line in table.splitlines())


def test_a_lineage_in_time_says_each_steps_number_and_verdict_or_that_it_has_not_run() -> None:
    gru = make_record("gru", run_id="gru-run-1")
    gru.stages = [StageResult("train", "passed", 1.0, targets=[
        Target("GRU: test MSE on the adding problem", 0.0041, 0.05, higher_is_better=False)])]  # fmt: skip
    lstm = make_record("lstm", run_id="lstm-run-1")
    far = "LSTM − nn.RNN: the far value's weight, same initialisation and batches"
    lstm.stages = [StageResult("train", "failed", 1.0, targets=[Target(far, -0.2, 0.0)])]
    store(gru)
    store(lstm)
    done = run_cli("lineage", "recurrent", env={"COLUMNS": "80"})
    assert done.returncode == 0 and done.stderr == ""
    lines = done.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert lines[0] == "Recurrent networks: RNN, LSTM, GRU; S4 and Mamba"
    text = " ".join(done.stdout.split())
    assert "1990 rnn Finding Structure in Time [todo]" in text
    assert "RMS error predicting a XOR bit: not run (readtrack run rnn --quick)" in text
    assert "batches: -0.2 (≥ 0), not held (quick run, seed 3, lstm-run)" in text  # said, never hidden
    assert (
        "Jun 2014 gru Learning Phrase" in text
        and "0.0041 (≤ 0.05), held (quick run, seed 3, gru-run-" in text
    )
    assert "over mamba:s4: a state space whose" in text
    shown = json.loads(run_cli("lineage", "recurrent", "--json").stdout)
    members = {m["key"]: m for m in shown["members"]}
    assert members["lstm"]["verdict"] == "not held" and members["lstm"]["number"] == -0.2
    assert members["gru"]["verdict"] == "held" and members["rnn"]["verdict"] == "not run"
    assert members["mamba:s4"]["verdict"] is None and members["mamba:s4"]["improves"] == []
    assert set(members["gru"]) >= {
        "plugin", "arm", "title", "year", "arxiv", "status", "improves", "what", "number", "verdict",
    }  # fmt: skip
    assert shown["bench"] == []


def test_a_third_party_plugin_joins_a_built_in_family_in_the_order_of_its_date(user_dir: Path) -> None:
    write_plugin(user_dir, "echo", extra_init=JOINS_RECURRENT)
    shown = json.loads(run_cli("lineage", "recurrent", "--json").stdout)
    keys = [m["key"] for m in shown["members"]]
    assert keys == ["rnn", "lstm", "gru", "echo", "mamba:s4", "mamba"]  # June 2016: after 2014, before 2021
    echo = shown["members"][3]
    assert echo["title"] == "A fake echo network" and echo["year"] == 2016 and echo["improves"] == ["gru"]
    assert echo["status"] is None  # not in the reader's list


def test_a_tiny_family_runs_as_one_batch_is_recorded_and_streams_its_verdicts_last(user_dir: Path) -> None:
    tiny_family(user_dir)
    before = json.loads(run_cli("lineage", "tiny-family", "--json").stdout)
    assert [m["verdict"] for m in before["members"]] == ["not run", "not run"]
    streamed = run_cli("lineage", "tiny-family", "--run", "--quick", "--json", "--jobs", "1")
    assert streamed.returncode == 0, streamed.stderr
    lines = [json.loads(line) for line in streamed.stdout.splitlines()]  # every line is JSON
    done = {line["plugin"]: line["status"] for line in lines if line["type"] == "plugin_done"}
    assert done == {"tiny-a": "passed", "tiny-b": "passed"}
    last = lines[-1]  # the batch's JSON lines, then the lineage
    assert last["type"] == "lineage" and [m["verdict"] for m in last["lineage"]["members"]] == ["held"] * 2
    assert all(m["run"]["quick"] for m in last["lineage"]["members"])
    from readtrack.history.runs import runs

    assert {"tiny-a", "tiny-b"} <= {record.info.plugin for record in runs()}  # recorded
    text = " ".join(run_cli("lineage", "tiny-family", env={"COLUMNS": "80"}).stdout.split())
    assert "2001 tiny-a Fake paper tiny-a [not in the list]" in text
    assert "over tiny-a: a tiny step" in text and text.count(", held (quick run, seed 0,") == 2


def test_bad_input_is_one_line_and_exit_2(user_dir: Path) -> None:
    stray = JOINS_RECURRENT.replace('"recurrent", "echo"', '"nope", "stray"')
    write_plugin(user_dir, "stray", extra_init=stray)  # a member of a family nobody declares
    unknown = run_cli("lineage", "recurent")
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert "no lineage 'recurent': did you mean recurrent?" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1
    assert run_cli("lineage", "--run").returncode == 2
    alone = run_cli("lineage", "recurrent", "--quick")
    assert alone.returncode == 2 and "go with --run" in alone.stderr
    shown = run_cli("lineage")
    assert shown.returncode == 0 and "recurrent" in shown.stdout
    assert "readtrack: member stray names lineage 'nope', which nobody declares" in shown.stderr


def test_listing_the_lineages_imports_no_torch() -> None:
    from tests.cli.test_cli import imported_by

    imported = imported_by(("lineage",))
    assert "readtrack.cli.lineage" in imported and not any(m.startswith("readtrack.batch") for m in imported)


#: A family of two tiny plugins and a bench that trains both "on the same ground": it reports each member's
#: loss and time per step, and asserts the later member's loss (the step's number, from the bench).
BENCHED_FAMILY = """
from readtrack.api import Lineage, Member, lineage_members

readtrack_lineages = lineage_members(
    Lineage("benched", "A benched family", bench="tiny-bench"),
    Member("benched", "tiny-a", year=2001, what="the first", number="final loss"),
    Member("benched", "tiny-b", year=2005, what="less loss on the bench", source="bench",
           number="tiny-b: loss after 20 steps"),
)
"""
BENCH_EXPERIMENT = """
def check(ctx):
    ctx.check_property("two members", True, "tiny-a and tiny-b")


def train(ctx):
    losses = {"tiny-a": 0.5, "tiny-b": 0.25}
    for key, loss in losses.items():
        ctx.measured(f"{key}: time per step (ms)", 1.0)
    ctx.measured("tiny-a: loss after 20 steps", losses["tiny-a"])
    ctx.target("tiny-b: loss after 20 steps", losses["tiny-b"], 0.4, higher_is_better=False)
"""


def test_a_family_bench_runs_with_the_members_and_gives_each_its_row_and_a_step_its_verdict(
    user_dir: Path, tmp_path: Path
) -> None:
    write_plugin(user_dir, "tiny_a", name="tiny-a", extra_init=BENCHED_FAMILY)
    write_plugin(user_dir, "tiny_b", name="tiny-b")
    write_plugin(user_dir, "tiny_bench", BENCH_EXPERIMENT, name="tiny-bench")
    before = run_cli("lineage", "benched", env={"COLUMNS": "80"})
    assert "The family bench (tiny-bench): not run" in before.stdout
    done = run_cli("lineage", "benched", "--run", "--quick", "--jobs", "1", "--plot", str(tmp_path / "b.svg"))
    assert done.returncode == 0, done.stderr
    assert "3 plugins" in done.stderr  # the members' plugins and the bench, one batch
    text = " ".join(done.stdout.split())
    assert "tiny-b: loss after 20 steps: 0.25 (≤ 0.4), held" in text
    assert "The family bench (tiny-bench, defaults, run" in text
    assert "loss after 20 steps: tiny-a 0.5 · tiny-b 0.25" in text
    assert "time per step (ms): tiny-a 1 · tiny-b 1" in text
    shown = json.loads(run_cli("lineage", "benched", "--json").stdout)
    assert [(row["key"], row["loss after 20 steps"]) for row in shown["bench"]] == [
        ("tiny-a", 0.5),
        ("tiny-b", 0.25),
    ]
    assert shown["bench"][0]["plugin"] == "tiny-a" and shown["bench"][0]["setting"] == "defaults"
    svg = (tmp_path / "b.svg").read_text(encoding="utf-8")
    assert 'id="bench-0"' in svg and 'id="bench-1"' in svg  # a panel per quantity of the bench
