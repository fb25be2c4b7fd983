"""A sweep's size before it starts (issue 73): its plan line first, ``--dry-run`` that runs nothing, the
question above 20 runs on a terminal, and a stage that reads no knob run at the defaults only (readtrack reads
``experiment.py``; the runner warns when that reading missed a ``ctx.config``). Fake plugins with knobs on
disk, the CLI in a subprocess (and on a pseudo-terminal), real SQLite."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from cli_runner import run_cli
from fake_plugins import KNOBBY_CONFIG, KNOBBY_EXPERIMENT, write_plugin
from terminal import Terminal

from readtrack.batch import sweep
from readtrack.batch.request import RunRequest
from readtrack.history import runs as history
from readtrack.history.spread import GroupRecord
from readtrack.plugins.discovery import discover
from readtrack.plugins.knobs import builtin_package


@pytest.fixture
def knobby(user_dir: Path) -> Path:
    folder = write_plugin(user_dir, "knobby", KNOBBY_EXPERIMENT)
    (folder / "config.py").write_text(KNOBBY_CONFIG)
    return folder


# check reads its knob through getattr, out of sight of readtrack's reading of the file; train through a
# helper of the module (read: the rule follows calls by plain name); bench reads none
EVASIVE = """
from .config import Config


def check(ctx):
    read = getattr(ctx, "con" + "fig")
    ctx.check_property("decay is a fraction", 0 < read(Config).decay < 1)


def train(ctx):
    cfg = settings(ctx)
    loss = 1.0
    for step in range(cfg.steps):
        loss *= cfg.decay
        ctx.metric("loss", step, loss)
    ctx.target("final loss", loss, 0.05, higher_is_better=False)


def settings(ctx):
    return ctx.config(Config)


def bench(ctx):
    ctx.bench.measure("nothing", lambda: None, baseline=True)
"""


def test_the_rule_reads_config_in_a_stage_and_the_module_functions_it_calls() -> None:
    found = sweep.knob_readers(EVASIVE)
    assert found.defined == ("check", "train", "bench") and found.reading == ("train",)
    assert found.blind(("check", "train", "bench")) == ("check", "bench")
    chained = "def check(ctx):\n    a(ctx)\n\ndef a(ctx):\n    b(ctx)\n\ndef b(ctx):\n    return ctx.config\n"
    assert sweep.knob_readers(chained).reading == ("check",)  # two calls away
    imported = "from .common import train\n\ndef check(ctx):\n    pass\n"
    assert sweep.knob_readers(imported).reading == ("train",)  # cannot be read: counts as reading
    assert sweep.knob_readers("def check(ctx:\n") == sweep.EVERY_STAGE  # a syntax error: sweep every stage


def test_a_built_in_check_reads_no_knob_but_one_the_bench_times_and_every_plugin_sweeps_train() -> None:
    """The rule on the real shelf, per knob: a check reads no knob (a sweep runs it once) but one that
    chooses the implementation under test, which the bench times as well (flashattention's `kernel`: the
    Triton forward the check verifies and the bench times), so a sweep of a training knob never repeats a
    check; and every plugin that declares knobs has a train stage the rule sees reading them (else its
    knobs could never be swept)."""
    plugins = [p for p in discover() if p.status == "ok" and builtin_package(p.name) is not None]
    assert len(plugins) > 50
    for plugin in plugins:
        assert plugin.info is not None
        readers = sweep.plugin_knob_readers(plugin.info.package, plugin.info.experiments)
        assert "train" in readers.reading, (plugin.name, readers)
        assert readers != sweep.EVERY_STAGE, plugin.name
        check, bench = readers.knobs_of("check"), readers.knobs_of("bench")
        assert check is not None and bench is not None, (plugin.name, readers)
        assert check <= bench, (plugin.name, check - bench)
        assert not readers.reads("check", ["lr", "steps"]), plugin.name


def test_a_settings_stages_travel_with_its_request_to_the_worker() -> None:
    """A sweep's setting runs a few stages (``only`` a tuple) and names those judged knob-blind; both come
    back from the JSON a worker reads, and the request still hashes (the batch keys its jobs by it)."""
    request = RunRequest("knobby", 1, "g", (("decay", 0.5),), only=("train", "bench"), knob_blind=("check",))
    again = RunRequest.from_json(request.to_json())
    assert again == request and hash(again) == hash(request)
    assert again.run_kwargs()["only"] == ("train", "bench") and again.run_kwargs()["knob_blind"] == ("check",)


def test_a_sweep_asks_above_20_runs_on_a_terminal_only() -> None:
    assert sweep.asks(21, confirmed=False, on_terminal=True)
    assert not sweep.asks(20, confirmed=False, on_terminal=True)
    assert not sweep.asks(21, confirmed=True, on_terminal=True)  # --yes
    assert not sweep.asks(500, confirmed=False, on_terminal=False)  # a pipe: it runs, its plan printed


def test_dry_run_prints_the_plan_and_runs_nothing(knobby: Path) -> None:
    argv = ["run", "knobby", "--quick", "--set", "decay=0.5,0.9", "--seeds", "0-1", "--dry-run"]
    planned = run_cli(*argv)
    assert planned.returncode == 0, planned.stderr
    lines = planned.stdout.splitlines()
    assert lines[0].startswith(
        "knobby sweep: 3 settings × 2 seeds = 6 runs (check and bench read no knob: run at the defaults "
        "only); time: no recorded run"
    )
    assert [line.split() for line in lines[1:4]] == [
        ["defaults", "check,", "train,", "bench"],
        ["decay=0.5", "train"],
        ["decay=0.9", "train"],
    ]
    assert lines[-1] == "nothing run (--dry-run)" and history.entries("knobby") == []


def test_a_sweep_says_its_plan_first_and_runs_a_knob_blind_stage_at_the_defaults_only(user_dir: Path) -> None:
    """Every stage, two settings beside the defaults: the defaults run check, train and bench, the other
    settings train alone; the plan is stderr's first line (stdout is JSON only), and check, which reads
    its knob where the rule cannot see it, makes the sweep warn once."""
    folder = write_plugin(user_dir, "evasive", EVASIVE)
    (folder / "config.py").write_text(KNOBBY_CONFIG)
    swept = run_cli("run", "evasive", "--quick", "--set", "decay=0.5,0.9", "--json")
    assert swept.returncode == 1, swept.stderr  # the defaults miss their target: 0.8¹⁰ > 0.05
    for line in swept.stdout.splitlines():
        json.loads(line)
    said = swept.stderr.splitlines()
    assert said[0].startswith(
        "readtrack: evasive sweep: 3 settings × 1 seed = 3 runs (check and bench read no knob: run once at "
        "the defaults)"
    )
    warned = [line for line in said if "check called ctx.config" in line]
    assert len(warned) == 1 and "readtrack's reading of experiment.py missed it" in warned[0]
    entries = history.entries("evasive")
    groups = [g for g in entries if isinstance(g, GroupRecord)]
    assert len(groups) == len(entries), entries  # a sweep's entries are groups
    stages = {tuple(g.info.settings.items()): g.runs[0].info.stages for g in groups}
    assert stages == {
        (): ["check", "train", "bench"],
        (("decay", 0.5),): ["train"],
        (("decay", 0.9),): ["train"],
    }


def test_a_sweep_of_a_stage_that_reads_no_knob_runs_it_once(knobby: Path) -> None:
    """``--only check --set decay=...``: one check at the defaults, said so, where every value ran the same
    check and the sweep ended "reported no number"."""
    result = run_cli("run", "knobby", "--quick", "--only", "check", "--set", "decay=0.5,0.6,0.7,0.9")
    assert result.returncode == 0, result.stderr
    assert "readtrack: check reads no knob: run once at the defaults" in result.stderr.splitlines()
    (run,) = history.entries("knobby")
    assert run.info.settings == {} and run.info.stages == ["check"]
    assert "reported no number" not in result.stdout


def test_above_20_runs_a_terminal_is_asked_first_and_no_starts_nothing(knobby: Path) -> None:
    """8 settings (the defaults among them) × 3 seeds = 24 runs: the plan, then the question; "n" starts
    nothing, exit 1."""
    values = "decay=0.1,0.2,0.3,0.4,0.5,0.6,0.7"
    argv = [sys.executable, "-m", "readtrack", "run", "knobby", "--quick", "--only", "train", "--set", values]
    terminal = Terminal([*argv, "--seeds", "0-2"], columns=200)
    try:
        terminal.wait_for("Start them?", timeout=120)
        terminal.type("n\r")
        terminal.wait_for("nothing started", timeout=60)
    finally:
        code = terminal.close()
    text = terminal.output.decode(errors="replace")
    assert "knobby sweep: 8 settings × 3 seeds = 24 runs" in text and "24 runs. Start them?" in text
    assert code == 1 and history.entries("knobby") == []


# bench reads one knob (width, through a helper of the module), train the others
WIDE_BENCH = KNOBBY_EXPERIMENT.replace(
    """def bench(ctx):
    ctx.bench.measure("nothing", lambda: None, baseline=True)""",
    """def bench(ctx):
    layer = build(ctx.config(Config))
    ctx.bench.measure(f"a layer of {len(layer)}", lambda: sum(layer), baseline=True)


def build(cfg):
    return [1.0] * cfg.width""",
)


def test_a_sweep_of_a_knob_the_bench_does_not_read_times_the_bench_once(user_dir: Path) -> None:
    """bench reads width alone: a sweep of decay times it once, at the defaults, and says so, where it
    timed the same bench at every decay (the machine's noise drawn as an effect); no warning, though bench
    calls ctx.config; a sweep of width times it at every setting."""
    folder = write_plugin(user_dir, "widebench", WIDE_BENCH)
    (folder / "config.py").write_text(KNOBBY_CONFIG)
    assert "def bench" in WIDE_BENCH and "cfg.width" in WIDE_BENCH
    swept = run_cli("run", "widebench", "--quick", "--set", "decay=0.1,0.2")
    assert swept.returncode == 1, swept.stderr  # the defaults miss their target: 0.8¹⁰ > 0.05
    said = swept.stderr.splitlines()
    assert said[0].startswith(
        "readtrack: widebench sweep: 3 settings × 1 seed = 3 runs (check and bench do not read decay: run "
        "once at the defaults)"
    )
    assert not [line for line in said if "ctx.config" in line]
    groups = [g for g in history.entries("widebench") if isinstance(g, GroupRecord)]
    stages = {tuple(g.info.settings.items()): g.runs[0].info.stages for g in groups}
    assert stages == {
        (): ["check", "train", "bench"],
        (("decay", 0.1),): ["train"],
        (("decay", 0.2),): ["train"],
    }
    planned = run_cli("run", "widebench", "--quick", "--set", "width=4,16", "--dry-run")
    assert planned.returncode == 0, planned.stderr
    assert [line.split() for line in planned.stdout.splitlines()[1:4]] == [
        ["defaults", "check,", "train,", "bench"],
        ["width=4", "train,", "bench"],
        ["width=16", "train,", "bench"],
    ]
