"""A sweep seen again (issue 84, item 5): ``readtrack history SWEEP_ID`` and ``compare SWEEP_ID`` print the
sweep's tables (each number's mean ± sd, 95% interval and verdict beside the defaults) as the end of its
run printed them, drawn from its recorded runs by the same function. A real sweep of a fake plugin with
knobs, whose numbers vary with the seed, the CLI in a subprocess, real SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import run_cli
from fake_plugins import KNOBBY_CONFIG, write_plugin

# the loss moves with the seed (an interval of some width) and with decay (settings that differ or not)
SEEDED = """
from .config import Config


def check(ctx):
    ctx.check_property("always", True)


def train(ctx):
    cfg = ctx.config(Config)
    loss = 1.0
    for step in range(cfg.steps):
        loss *= cfg.decay
        ctx.metric("loss", step, loss)
    ctx.target("final loss", loss * (1 + 0.05 * ctx.seed), 0.05, higher_is_better=False)
    ctx.measured("wobble", 1.0 + 0.01 * ctx.seed + (0.5 if cfg.decay == 0.5 else 0.0))
"""


@pytest.fixture
def seeded(user_dir: Path) -> Path:
    folder = write_plugin(user_dir, "seeded", SEEDED)
    (folder / "config.py").write_text(KNOBBY_CONFIG)
    return folder


def _tables(stdout: str) -> list[str]:
    """The sweep's tables and their legend: from the first table's title to the legend's end."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("final loss  (the claim"))
    end = max(i for i, line in enumerate(lines) if "(more seeds: --seeds 0-4)" in line)
    return lines[start : end + 1]


def _within(block: list[str], lines: list[str]) -> bool:
    return any(lines[i : i + len(block)] == block for i in range(len(lines) - len(block) + 1))


def test_history_and_compare_of_a_sweep_print_its_tables_as_its_run_ended(seeded: Path) -> None:
    wide = {"COLUMNS": "100"}
    sweep = ["run", "seeded", "--quick", "--only", "train", "--set", "decay=0.5,0.9", "--seeds", "0-2"]
    ran = run_cli(*sweep, env=wide)
    assert ran.returncode == 1, ran.stdout + ran.stderr  # the defaults miss their target: 0.8¹⁰ > 0.05
    ended = _tables(ran.stdout)
    shown = "\n".join(ended)
    rows = {line.split()[0]: line.split()[1:] for line in ended if line.startswith(" decay=")}
    assert rows["decay=0.9"][-1] == "same" and rows["decay=0.5"][-1] == "differs", shown  # wobble's rows
    assert "0.9852 … 1.035" in shown and "missed 3/3" in shown, shown  # intervals and the claim

    (entry,) = json.loads(run_cli("history", "seeded", "--json").stdout)
    ident = entry["sweep_id"][:8]
    for command in ("history", "compare"):
        seen = run_cli(command, ident, env=wide)
        assert seen.returncode == 0, seen.stdout + seen.stderr
        assert _within(ended, seen.stdout.splitlines()), f"{command}:\n{seen.stdout}\nthe run's end:\n{shown}"
        assert max(len(line) for line in seen.stdout.splitlines()) <= 100
    # compare NAME, whose newest entry is the sweep, shows it as compare SWEEP_ID does
    assert _within(ended, run_cli("compare", "seeded", env=wide).stdout.splitlines())
