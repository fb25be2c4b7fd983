"""A sweep in history (issue 55): one entry of ``readtrack history`` with what it swept and how its runs
ended, its settings behind its id, ``readtrack compare`` lining settings up (knobs as rows of their own),
and Ctrl-C keeping a sweep's finished runs. Real sweeps of fake plugins with knobs on disk, the CLI in a
subprocess, real SQLite."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import interruptible, run_cli
from fake_plugins import KNOBBY_CONFIG, KNOBBY_EXPERIMENT, write_plugin

from readtrack.base.paths import database_path
from readtrack.history import runs as history
from readtrack.history import sweeps as sweeps_history
from readtrack.history.spread import GroupRecord
from readtrack.plugins.records import RunInfo, RunRecord, StageResult, Target


@pytest.fixture
def knobby(user_dir: Path) -> Path:
    folder = write_plugin(user_dir, "knobby", KNOBBY_EXPERIMENT)
    (folder / "config.py").write_text(KNOBBY_CONFIG)
    return folder


def lines_of(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()


def test_a_sweep_is_one_entry_its_id_shows_its_settings_and_compare_lines_them_up(knobby: Path) -> None:
    """``--set decay=0.5,0.9 --seeds 0-1`` (the defaults added): one history entry naming the knob, its
    values and how its 6 runs ended; ``history ID`` its three settings; ``compare`` the settings side by
    side with the knob as a row of its own (the default's value marked), at 80 columns; then a run of the
    defaults compared with the sweep's last setting shows which knob differs."""
    sweep = ["run", "knobby", "--quick", "--only", "train", "--set", "decay=0.5,0.9", "--seeds", "0-1"]
    swept = run_cli(*sweep)
    assert swept.returncode == 1, swept.stdout + swept.stderr  # the defaults miss their target: 0.8¹⁰ > 0.05

    (entry,) = json.loads(run_cli("history", "knobby", "--json").stdout)
    ident = entry["sweep_id"]
    assert entry["settings"] == [{}, {"decay": 0.5}, {"decay": 0.9}]
    assert entry["knobs"] == {"decay": [0.8, 0.5, 0.9]}  # the defaults' setting ran decay's default
    assert entry["seeds"] == [0, 1] and entry["status"] == "failed"
    assert entry["counts"] == {"runs": 6, "passed": 4, "failed": 2, "missing": 0}
    groups = entry["groups"]
    assert [g["runs"][0]["info"]["settings"] for g in groups] == entry["settings"]
    assert {r["info"]["sweep_id"] for g in groups for r in g["runs"]} == {ident}

    for width in (80, 120):
        listed = lines_of(run_cli("history", "knobby", env={"COLUMNS": str(width)}))
        text = "\n".join(listed)
        assert ident[:8] in text
        # the setting column: a knob a line, wrapping after a comma, never inside a number
        assert {"decay=0.8,", "0.5,", "0.9"} <= set(text.split())
        assert {"a", "sweep", "of", "3", "settings:"} <= set(text.split())  # a cell may wrap between words
        assert sum(ident[:8] in line for line in listed) == 1  # one entry, not one per setting
        assert max(len(line) for line in listed) <= width
    assert "4/6 passed" in run_cli("history", env={"COLUMNS": "80"}).stdout
    wide = run_cli("history", env={"COLUMNS": "120"}).stdout
    assert {"4/6", "passed,", "2", "failed"} <= set(wide.split())

    parts = run_cli("history", ident[:8], env={"COLUMNS": "80"})
    shown = "\n".join(lines_of(parts))
    for setting, status, passed in (("defaults", "failed", "0/2"), ("decay=0.5", "passed", "2/2")):
        assert any(line.split()[:3] == [setting, status, passed] for line in shown.splitlines()), shown
    assert "result: failed in " in shown and "· 4/6 passed, 2 failed" in shown
    assert json.loads(run_cli("history", ident[:8], "--json").stdout) == entry

    for target in ("knobby", ident[:8]):  # the newest of knobby is the sweep: its settings side by side
        lined = lines_of(run_cli("compare", target, env={"COLUMNS": "80"}))
        assert max(len(line) for line in lined) <= 80
        header = next(line for line in lined if line.split()[:1] == ["name"]).split()
        assert header == ["name", "defaults", "decay=0.5", "decay=0.9"]  # each column headed by its setting
        decay = next(line for line in lined if line.split()[:1] == ["decay"]).split()
        assert decay == ["decay", "0.8*", "0.5", "0.9"]  # the default's value, marked
        loss = next(line for line in lined if line.split()[:2] == ["final", "loss"]).split()
        assert loss == ["final", "loss", "0.1074", "✗", "9.766e-04", "†", "0.3487", "†"]  # asserted or not
        assert any(line.startswith("† not asserted with these settings") for line in lined)
    probe = (  # the knobs' defaults come from config.py alone: neither listing nor comparing imports torch
        f"import sys; sys.argv = ['readtrack', 'compare', {ident[:8]!r}]\n"
        "from readtrack.cli import app as cli\ntry:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules, file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=600)
    assert result.stderr.strip().splitlines()[-1] == "False", result.stderr
    lineup = json.loads(run_cli("compare", ident[:8], "--json").stdout)
    assert [c["label"] for c in lineup["columns"]] == ["defaults", "decay=0.5", "decay=0.9"]
    assert lineup["settings"] == [
        {"knob": "decay", "values": [0.8, 0.5, 0.9], "defaults": [True, False, False], "differs": True}
    ]

    assert run_cli("run", "knobby", "--quick", "--only", "train").returncode == 1
    newest, older = json.loads(run_cli("history", "knobby", "--json").stdout)
    assert newest["info"]["settings"] == {} and older["sweep_id"] == ident  # a run alone prints as before
    compared = lines_of(run_cli("compare", "knobby", env={"COLUMNS": "80"}))
    assert max(len(line) for line in compared) <= 80
    settings = compared.index(next(line for line in compared if line.strip() == "settings"))
    # older: the sweep's newest setting. Its settings start in the same second; which one history calls the
    # newest is the one whose group was written last (two workers: either turned setting may finish last)
    _, last = history.entries("knobby", limit=2, finished=True)
    assert last.info.sweep_id == ident and last.info.settings in ({"decay": 0.5}, {"decay": 0.9})
    assert compared[settings + 1].split() == ["decay", f"{last.info.settings['decay']:g}", "0.8*", "≠"]
    assert any("* the plugin's default" in line for line in compared)


# every setting ends at once (the defaults miss their target), but decay=0.5 holds seed 1 until it is stopped
HOLDING = """
import time

from .config import Config


def check(ctx):
    ctx.check_property("always", True)


def train(ctx):
    cfg = ctx.config(Config)
    ctx.target("final loss", cfg.decay ** cfg.steps, 0.05, higher_is_better=False)
    if cfg.decay == 0.5 and ctx.seed == 1:
        ctx.log("holding")
        while True:
            time.sleep(0.02)
"""


def test_ctrl_c_in_a_sweep_keeps_the_finished_runs_says_so_and_history_shows_what_did_not_run(
    user_dir: Path,
) -> None:
    """One worker, so the order is known: the defaults on seeds 0 and 1, decay=0.5 on seed 0, then Ctrl-C
    while decay=0.5 holds seed 1; decay=0.9 never starts. Exit 130 as a batch's Ctrl-C, no traceback, the
    three finished runs in history with their settings and the sweep's id, the message naming them, and
    the sweep one cancelled entry that counts the three runs missing."""
    folder = write_plugin(user_dir, "paused", HOLDING)
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
    seen = []
    for line in process.stdout:  # the progress prints a line as each run ends
        seen.append(line)
        if line.startswith("paused decay=0.5 seed 0:"):
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 130, "".join(seen) + out + err
    assert "Traceback" not in err and "Traceback" not in out, err
    plan, message = [line for line in err.splitlines() if line.strip()]  # the sweep's plan said first
    assert plan.startswith("readtrack: paused sweep: 3 settings × 2 seeds = 6 runs; ")
    assert message.startswith(
        "readtrack: cancelled: recorded 3 finished runs (paused defaults seeds 0-1; paused decay=0.5 seeds "
        "0); not finished, not recorded: paused decay=0.5 seeds 1; paused decay=0.9 seeds 0-1;"
    ), message
    entries = history.entries("paused")
    groups = [g for g in entries if isinstance(g, GroupRecord)]
    assert len(groups) == len(entries), entries  # a sweep's entries are groups
    ident = {r.info.sweep_id for g in groups for r in g.runs}
    assert len(ident) == 1 and None not in ident
    (sweep_id,) = ident
    assert sweep_id is not None
    assert message.endswith(f"`readtrack history {sweep_id[:8]}` shows the sweep")
    kept = sorted((tuple(r.info.settings.items()), r.info.seed, r.status) for g in groups for r in g.runs)
    assert kept == [((), 0, "failed"), ((), 1, "failed"), ((("decay", 0.5),), 0, "passed")]

    (entry,) = json.loads(run_cli("history", "paused", "--json").stdout)
    assert entry["sweep_id"] == sweep_id and entry["status"] == "cancelled"
    assert entry["counts"] == {"runs": 6, "passed": 1, "failed": 2, "missing": 3}
    assert entry["not_run"] == [{"decay": 0.9}]
    shown = run_cli("history", sweep_id[:8], env={"COLUMNS": "80"}).stdout
    assert any(line.split()[:2] == ["decay=0.9", "not"] for line in shown.splitlines()), shown
    assert "! decay=0.5 seed 1: cancelled before it finished" in shown


def test_a_sweep_recorded_before_sweeps_kept_their_plan_is_still_one_entry() -> None:
    """History files written by the first sweeps have no ``sweeps`` table and no sweep column on groups:
    the sweep is read from its runs' sweep id, one entry of what its groups ran."""

    def group(settings: dict[str, float], started: str, gid: str) -> GroupRecord:
        runs = []
        for seed in (0, 1):
            info = RunInfo(f"{gid}-{seed}", "toy", "toy", "cpu", ["train"], True, seed, started,
                           settings=settings, sweep_id="5eed" * 8)  # fmt: skip
            stage = StageResult("train", "passed", targets=[Target("loss", 0.1, 0.5, higher_is_better=False)])
            runs.append(RunRecord(info, "passed", 1.0, [stage]))
        return GroupRecord(gid, "toy", [0, 1], started, "passed", 2.0, runs)

    history.record_group(group({}, "2026-01-01T10:00:00+00:00", "a" * 32))
    history.record_group(group({"lr": 0.1}, "2026-01-01T10:00:05+00:00", "b" * 32))
    conn = sqlite3.connect(database_path())  # back to the first sweeps' schema
    conn.executescript(
        "DROP INDEX run_groups_by_sweep; ALTER TABLE run_groups DROP COLUMN sweep_id; DROP TABLE sweeps;"
    )
    conn.close()
    (entry,) = sweeps_history.listing("toy")
    assert isinstance(entry, sweeps_history.SweepRecord) and entry.sweep_id == "5eed" * 8
    assert entry.settings == [{}, {"lr": 0.1}] and entry.status == "passed"
    assert entry.counts() == {"runs": 4, "passed": 4, "failed": 0, "missing": 0}
    assert len(history.entries("toy")) == 2  # the TUI and pictures still see each setting's group
