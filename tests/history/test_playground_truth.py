"""What a sweep's numbers say, said truly (issue 73): ``plot`` and ``compare`` take any id ``history`` prints
(a run's, a multi-seed run's, a sweep's) and two or more of them; below 3 runs a comparison gives no verdict;
a ratio's interval is never negative; a claim's number with knobs turned says it was not asserted. Runs
recorded directly in a real history database, the CLI in a subprocess; statistics on `Spread` itself."""

from __future__ import annotations

import io
import json
import math
import statistics
from pathlib import Path

import pytest
from cli_runner import run_cli
from fake_plugins import KNOBBY_CONFIG, KNOBBY_EXPERIMENT, write_plugin
from rich.console import Console

from readtrack.batch.groups import PluginOutcome
from readtrack.batch.sweep import tables
from readtrack.history import runs as history
from readtrack.history.spread import GroupRecord, Spread, t_quantile
from readtrack.plugins.records import Measured, RunInfo, RunRecord, StageResult, Target, claim_note
from readtrack.render.sweep import render_sweep

SWEEP = "5eed" * 8
RATIO = "test loss without / with the norm"


def seed_run(settings: dict[str, float], seed: int, ratio: float, started: str, run_id: str) -> RunRecord:
    """One seed's train stage: a claim's ratio (asserted at the defaults, reported with knobs turned) and a
    loss curve."""
    info = RunInfo(run_id, "knobby", "knobby", "cpu", ["train"], True, seed, started, settings=settings,
                   sweep_id=SWEEP)  # fmt: skip
    stage = StageResult("train", "passed", 1.0, curves={"loss": [(0, 1.0), (1, ratio / 10)]})
    if settings:
        stage.measured.append(Measured(RATIO, ratio, claim_note(2.0, True, calibrated=False)))
    else:
        stage.targets.append(Target(RATIO, ratio, 2.0))
    return RunRecord(info, "passed", 1.0, [stage])


def record_sweep(values: dict[float, tuple[float, ...]]) -> list[GroupRecord]:
    """A sweep of decay (0.8 is the default) in history: per value, one seed's ratio each."""
    plan = history.SweepPlan(SWEEP, "knobby", [{} if d == 0.8 else {"decay": d} for d in values], [0, 1],
                             "2026-01-01T10:00:00+00:00")  # fmt: skip
    groups = []
    for i, (decay, ratios) in enumerate(values.items()):
        settings = {} if decay == 0.8 else {"decay": decay}
        started = f"2026-01-01T10:00:0{i}+00:00"
        gid = f"{i + 1}{'a' * 31}"
        runs = [
            seed_run(settings, seed, r, started, f"{i + 1}{seed}{'b' * 30}") for seed, r in enumerate(ratios)
        ]
        group = GroupRecord(gid, "knobby", list(range(len(ratios))), started, "passed", 2.0, runs)
        history.record_group(group, plan)
        groups.append(group)
    history.sweep_ended(SWEEP, "finished", 6.0)
    return groups


@pytest.fixture
def knobby(user_dir: Path) -> Path:
    folder = write_plugin(user_dir, "knobby", KNOBBY_EXPERIMENT)
    (folder / "config.py").write_text(KNOBBY_CONFIG)
    return folder


def test_plot_and_compare_take_any_id_history_prints(knobby: Path, tmp_path: Path) -> None:
    """A sweep's id, its groups' ids and a seed's run id, as `history --json` gives them: ``plot`` draws any
    of them, ``compare`` two (older first, each named by its setting) or more side by side, with or without
    the plugin's name; one id or an unknown one is one line, exit 2."""
    record_sweep({0.8: (4.0, 5.0), 0.5: (1.0, 1.2), 0.9: (3.0, 3.5)})
    (entry,) = json.loads(run_cli("history", "knobby", "--json").stdout)
    sweep_id = entry["sweep_id"]
    groups = [g["group_id"][:8] for g in entry["groups"]]
    first_seed = entry["groups"][0]["runs"][0]["info"]["run_id"][:8]
    second = entry["groups"][1]["runs"][1]["info"]["run_id"][:8]

    for ident in (sweep_id[:8], first_seed):
        saved = run_cli("plot", "knobby", ident, "-o", str(tmp_path / f"{ident}.svg"))
        assert saved.returncode == 0 and (tmp_path / f"{ident}.svg").stat().st_size > 0, saved.stderr

    for argv in (["knobby", second, first_seed], [second, first_seed]):  # given newest first
        two = run_cli("compare", *argv, env={"COLUMNS": "100"})
        assert two.returncode == 0, two.stderr
        head = " ".join(two.stdout.split("\n\n")[0].split())
        assert head.startswith(f"knobby: defaults: run {first_seed}") and f"→ decay=0.5: run {second}" in head
        ratio = next(line for line in two.stdout.splitlines() if line.split()[:4] == RATIO.split()[:4])
        assert ratio.split()[-3:] == ["✓", "→", "†"]  # asserted at the defaults, reported with decay=0.5
        assert "† not asserted with these settings" in two.stdout
    lined = run_cli("compare", "knobby", *groups, env={"COLUMNS": "100"})
    assert lined.returncode == 0, lined.stderr
    header = next(line for line in lined.stdout.splitlines() if line.split()[:1] == ["name"]).split()
    assert header == ["name", *groups]
    assert f"  {groups[1]}: decay=0.5, " in lined.stdout

    one = run_cli("compare", "knobby", first_seed)
    assert one.returncode == 2 and "compare two or more" in one.stderr and len(one.stderr.splitlines()) == 1
    unknown = run_cli("plot", "knobby", "zzzz", "-o", str(tmp_path / "z.svg"))
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == (
        "readtrack: zzzz: no run of knobby with such an id (`readtrack history knobby` lists them)"
    )


def test_a_ratios_interval_is_computed_on_the_log_scale_and_never_negative() -> None:
    """Two seeds of a ratio, 1 and 8: the t interval (1 degree of freedom) of the values reached -40; of the
    logs, exponentiated, it is positive and centred (geometrically) on √8."""
    ratio = Spread(RATIO, "target", [0, 1], [1.0, 8.0])
    low, high = ratio.ci95
    logs = [0.0, math.log(8.0)]
    half = t_quantile(0.975, 1) * statistics.stdev(logs) / math.sqrt(2)
    assert ratio.log_scale and 0 < low < 1.0 < 8.0 < high
    assert (low, high) == pytest.approx(
        (math.exp(statistics.fmean(logs) - half), math.exp(math.log(8) / 2 + half))
    )
    assert low * high == pytest.approx(8.0)
    difference = Spread("test loss minus the baseline's", "measured", [0, 1], [1.0, 8.0])
    assert not difference.log_scale and difference.ci95[0] < 0  # not a ratio: the plain t interval
    assert not Spread("speed / baseline", "measured", [0, 1], [-1.0, 2.0]).log_scale  # a value ≤ 0


def sweep_tables(values: dict[float, tuple[float, ...]]) -> str:
    """The sweep's tables (from its groups read back from history) at 80 columns."""
    outcomes = [
        PluginOutcome("knobby", g.seeds, g, None, 1.0, tuple(g.info.settings.items()))
        for g in record_sweep(values)
    ]
    console = Console(width=80, record=True, color_system=None, file=io.StringIO())
    render_sweep("knobby", tables(outcomes), console)
    return console.export_text()


def test_below_three_runs_a_sweep_gives_no_verdict() -> None:
    """Two seeds: decay=0.5's ratio (about 1) against the defaults' (4.5) is 'too few', not 'within'; the
    claim is held at the defaults and not asserted with decay turned; no interval is negative."""
    shown = sweep_tables({0.8: (4.0, 5.0), 0.5: (1.0, 1.2), 0.9: (3.0, 3.5)})
    rows = {
        line.split()[0]: line.split() for line in shown.splitlines() if line.startswith((" de", " decay="))
    }
    assert rows["decay=0.5"][1] == "2" and rows["decay=0.5"][-5:] == ["too", "few", "(2)", "not", "asserted"]
    assert not any(word in row for row in rows.values() for word in ("within", "differs"))
    assert rows["defaults"][-2:] == ["held", "2/2"]
    assert "runs" in shown.split() and " n " not in shown
    assert not any(cell.startswith("-") for row in rows.values() for cell in row)
    assert "log scale" in shown and "not asserted with these settings" in shown


def test_from_three_runs_a_sweep_says_differs_or_within() -> None:
    shown = sweep_tables({0.8: (4.0, 4.5, 5.0), 0.5: (1.0, 1.1, 1.2), 0.9: (3.5, 4.4, 5.2)})
    verdicts = {
        line.split()[0]: line.split()[-3] for line in shown.splitlines() if line.startswith(" decay=")
    }
    assert verdicts == {"decay=0.5": "differs", "decay=0.9": "within"}
