"""Every face names the setting first (issue 73): a run's and a multi-seed run's report open with the
setting, say of the claim only what the runs tested, ``--json`` gives the setting before the numbers, and
``history`` has a setting column whose dates stay on one line at 80 columns and in a pipe. The fake knobby
plugin on disk (its quick defaults miss their target: 0.8¹⁰ > 0.05), the CLI in a subprocess, real SQLite."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import run_cli
from fake_plugins import KNOBBY_CONFIG, KNOBBY_EXPERIMENT, write_plugin


@pytest.fixture
def knobby(user_dir: Path) -> Path:
    folder = write_plugin(user_dir, "knobby", KNOBBY_EXPERIMENT)
    (folder / "config.py").write_text(KNOBBY_CONFIG)
    return folder


def report_lines(*args: str, status: int = 0) -> list[str]:
    done = run_cli("run", "knobby", "--quick", *args)
    assert done.returncode == status, done.stdout + done.stderr
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


def test_reports_open_with_the_setting_and_say_of_the_claim_only_what_was_tested(knobby: Path) -> None:
    """A multi-seed run of a turned knob used to open "knobby  paper knobby · cpu · seeds 0-1 · quick" (no
    setting at all) and end "the claim holds on every seed" although nothing was asserted; a check alone
    ended the same way."""
    lines = report_lines("--only", "train", "--set", "decay=0.5", "--seeds", "0-1")
    head = next(line for line in lines if line.startswith("knobby ·"))
    assert head.startswith(
        "knobby · decay=0.5 (off the defaults: targets reported, not asserted) · seeds 0-1"
    )
    result = lines[-1]
    assert result.startswith("result: passed") and result.endswith("the claim is not asserted with decay=0.5")

    # one run's report: tests/plugins/test_knobs.py (a turned knob reaches the experiment)

    lines = report_lines("--only", "train", "--seeds", "0-1", status=1)  # the defaults: the claim is tested
    assert any(line.startswith("knobby · defaults · seeds 0-1") for line in lines)
    assert lines[-1].endswith("the claim does not hold on seed 0-1")

    lines = report_lines("--only", "check", "--seeds", "0-1")  # no target: nothing said of the claim
    assert lines[-1].startswith("result: passed") and "claim" not in lines[-1]


def test_json_gives_the_setting_before_the_numbers(knobby: Path) -> None:
    done = run_cli(
        "run", "knobby", "--quick", "--only", "train", "--set", "decay=0.5", "--seeds", "0-1", "--json"
    )
    events = [json.loads(line) for line in done.stdout.splitlines()]
    (group,) = [e["group"] for e in events if e["type"] == "plugin_done"]
    assert list(group)[:3] == ["group_id", "plugin", "settings"] and group["settings"] == {"decay": 0.5}
    assert all(next(iter(run)) == "settings" and run["settings"] == {"decay": 0.5} for run in group["runs"])


def test_history_has_a_setting_column_and_keeps_dates_on_one_line(knobby: Path) -> None:
    """With a sweep listed beside a run, the date column used to wrap ("2026-11-28" over "02:21") in a pipe
    and the setting hid in the device column behind "cpu×1 quick"."""
    swept = run_cli("run", "knobby", "--quick", "--only", "train", "--set", "decay=0.5,0.9", "--seeds", "0-1")
    assert swept.returncode == 1, swept.stdout + swept.stderr  # the defaults miss their target
    assert run_cli("run", "knobby", "--quick", "--only", "train", "--set", "decay=0.5").returncode == 0

    piped = {k: v for k, v in os.environ.items() if k != "COLUMNS"} | {"NO_COLOR": "1"}
    outputs = {
        "80 columns": run_cli("history", env={"COLUMNS": "80"}).stdout,
        "a pipe": subprocess.run(
            [sys.executable, "-m", "readtrack", "history"],
            capture_output=True,
            text=True,
            env=piped,
            check=True,
        ).stdout,
        "120 columns": run_cli("history").stdout,
    }
    for where, text in outputs.items():
        lines = text.splitlines()
        header = next(line for line in lines if "started (UTC)" in line)
        assert header.split()[2:4] == ["plugin", "setting"], where
        rows = [line for line in lines if re.match(r" \d{4}-", line)]
        assert len(rows) == 2, where  # the sweep and the run, each one row whose date is whole
        assert all(re.match(r" \d{4}-\d\d-\d\d \d\d:\d\d ", row) for row in rows), (where, text)
        assert all(len(line) <= (120 if where == "120 columns" else 80) for line in lines), where
        assert re.search(r"knobby +decay=0\.5 ", rows[0]), (where, text)  # the setting next to the plugin
        assert re.search(r"knobby +a sweep of 3 ", rows[1]), (where, text)
