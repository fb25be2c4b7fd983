"""Knobs (issue 55): a plugin's ``config.py`` declares them, ``readtrack knobs`` lists them, ``run --set``
checks them before torch is imported, the experiment reads them, the record keeps what was turned, and a
run off the defaults reports its targets without asserting them. Real plugin packages on disk
(tests/fake_plugins.py), the CLI in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_runner import run_cli
from fake_plugins import KNOBBY_CONFIG, KNOBBY_EXPERIMENT, write_plugin

from readtrack.base.errors import UsageError
from readtrack.history import runs as history
from readtrack.history.spread import GroupRecord
from readtrack.plugins import knobs
from readtrack.plugins.knobs import knob
from readtrack.plugins.records import RunRecord


@pytest.fixture
def knobby(user_dir: Path) -> Path:
    folder = write_plugin(user_dir, "knobby", KNOBBY_EXPERIMENT)
    (folder / "config.py").write_text(KNOBBY_CONFIG)
    return folder


@dataclass(frozen=True)
class Example:
    steps: int = knob(300, quick=100, low=1, high=10_000, help="steps")
    lr: float = knob(3e-3, low=1e-6, high=10.0, help="Adam's learning rate")
    norm: str = knob("rms", choices=("rms", "layer", "none"), help="the norm")
    bias: bool = knob(False, help="a bias")
    width: int = knob(32, low=8, high=256, multiple_of=4, help="a width its 4 heads divide")


def test_values_are_parsed_checked_and_named_with_what_is_allowed() -> None:
    given = ["lr=1e-3,3e-3", "steps=2_000", "norm=none", "bias=yes", "width=12,48"]
    parsed = knobs.parse_settings(Example, given, "ex")
    want = {"lr": [1e-3, 3e-3], "steps": [2000], "norm": ["none"], "bias": [True], "width": [12, 48]}
    assert parsed == want
    wrong = {
        "lrr=1": "ex has no knob 'lrr'; did you mean lr?",
        "zzz=1": "ex has no knob 'zzz'; ex's knobs: steps, lr, norm, bias, width",
        "lr=fast": "--set lr=fast: lr is a number, 1e-06 to 10",
        "lr=100": "--set lr=100: out of range, lr is 1e-06 to 10",
        "lr=nan": "lr is a number, 1e-06 to 10",
        "steps=2.5": "steps is an integer, 1 to 10000",
        "norm=batch": "--set norm=batch: norm is one of rms, layer, none",
        "bias=maybe": "bias is true or false",
        "width=18": "--set width=18: width is a multiple of 4, 8 to 256",
        "width=4": "--set width=4: out of range, width is a multiple of 4, 8 to 256",
        "lr": "give KEY=VALUE",
        "lr=1e-3,": "an empty value",
        "lr=1e-3,0.001": "a value is given twice",
    }
    for pair, message in wrong.items():
        with pytest.raises(UsageError, match=message.replace("(", r"\(").replace("?", r"\?")):
            knobs.parse_settings(Example, [pair], "ex")
    with pytest.raises(UsageError, match="set twice"):
        knobs.parse_settings(Example, ["lr=1e-3", "lr=1e-2"], "ex")
    resolved = knobs.resolve(Example, True, {"lr": 0.01})
    assert (resolved.steps, resolved.lr, resolved.norm) == (100, 0.01, "rms")  # the quick default, turned lr
    assert knobs.off_default(Example, True, {"steps": 100, "lr": 0.01}) == {"lr": 0.01}


def test_knobs_lists_them_without_importing_torch(knobby: Path) -> None:
    probe = (
        "import sys; sys.argv = ['readtrack', 'knobs', 'knobby', '--json']\n"
        "from readtrack.cli import app as cli\ntry:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules, file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=600)
    assert result.stderr.strip().splitlines()[-1] == "False", result.stderr
    listed = json.loads(result.stdout)
    assert [k["name"] for k in listed] == ["steps", "decay", "arm", "width", "warmup"]
    want = {"type": "int", "full": 20, "quick": 10, "allowed": "1 to 1000", "paper": "100k", "choices": []}
    assert {key: listed[0][key] for key in want} == want
    table = run_cli("knobs", "knobby", env={"COLUMNS": "80"})
    assert table.returncode == 0, table.stderr
    assert "steps" in table.stdout and "(paper: 100k)" in table.stdout and "one of fast, slow" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 80
    (knobby / "config.py").unlink()  # a plugin without config.py
    bare = run_cli("knobs", "knobby")
    assert bare.returncode == 1 and "declares no knobs yet" in bare.stderr


def test_an_invalid_knob_is_refused_before_torch_is_imported(knobby: Path) -> None:
    probe = (
        "import sys; sys.argv = ['readtrack', 'run', 'knobby', '--set', 'stepz=3']\n"
        "from readtrack.cli import app as cli\n"
        "try:\n    cli.main()\nexcept SystemExit as e:\n    print(e.code)\n"
        "print('torch' in sys.modules, file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=600)
    assert result.stdout.strip() == "2"
    assert "knobby has no knob 'stepz'; did you mean steps?" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "False"


def test_a_turned_knob_reaches_the_experiment_and_the_record_and_asserts_no_target(knobby: Path) -> None:
    slow = run_cli("run", "knobby", "--quick", "--only", "train", "--set", "decay=0.9", "--set", "steps=10")
    # 0.9¹⁰ = 0.35 misses the 0.05 target: reported against it, not asserted, so the run passes
    assert slow.returncode == 0, slow.stdout + slow.stderr
    head = next(line for line in slow.stdout.splitlines() if line.startswith("knobby · "))
    assert head.startswith("knobby · decay=0.9 (off the defaults") and "steps=" not in head
    assert (
        slow.stdout.strip()
        .splitlines()[-1]
        .endswith("train passed · the claim is not asserted with decay=0.9")
    )
    assert "not asserted with these settings" in slow.stdout
    (record,) = history.entries("knobby")
    assert isinstance(record, RunRecord)
    assert record.info.settings == {"decay": 0.9}  # steps=10 is the quick default: not kept
    (train,) = record.stages
    assert not train.targets and train.measured[0].claim == (0.05, False)
    default = run_cli("run", "knobby", "--quick", "--only", "train", "--json")
    final = json.loads(default.stdout.splitlines()[-1])["record"]
    assert final["info"]["settings"] == {} and final["stages"][0]["targets"][0]["value"] == pytest.approx(
        0.8**10
    )
    listed = run_cli("history", "knobby", env={"COLUMNS": "120"}).stdout
    assert "decay=0.9" in listed
    compared = run_cli("compare", "knobby").stdout
    assert "decay=0.9" in compared


def test_seeds_with_a_turned_knob_run_it_in_every_worker(knobby: Path) -> None:
    result = run_cli("run", "knobby", "--quick", "--only", "train", "--seeds", "0-1", "--set", "arm=slow")
    assert result.returncode == 0, result.stdout + result.stderr
    (group,) = history.entries("knobby")
    assert isinstance(group, GroupRecord)
    assert [r.info.settings for r in group.runs] == [{"arm": "slow"}, {"arm": "slow"}]


def test_a_sweep_runs_every_setting_on_every_seed_and_tables_each_number(knobby: Path) -> None:
    """``--set decay=0.5,0.9`` is a sweep: the defaults (added for comparison) and both values, each on
    seeds 0-1, recorded as one group per setting under one sweep id; the end is a table per number."""
    argv = ["run", "knobby", "--quick", "--only", "train", "--set", "decay=0.5,0.9", "--seeds", "0-1"]
    too_many = run_cli(*argv, "--max", "1")  # more seeds per plugin than --max: refused in a pipe
    assert too_many.returncode == 2 and "knobby on 2 seeds (0-1), more than 1" in too_many.stderr
    assert history.entries("knobby") == []
    swept = run_cli(*argv, "--json")
    assert swept.returncode == 1, swept.stderr  # the defaults miss their target (0.8¹⁰ > 0.05)
    assert swept.stderr.startswith("readtrack: knobby sweep: 3 settings × 2 seeds = 6 runs; ")
    end = json.loads(swept.stdout.splitlines()[-1])
    assert [p.get("settings", {}) for p in end["plugins"]] == [{}, {"decay": 0.5}, {"decay": 0.9}]
    (final,) = [t for t in end["tables"] if t["name"] == "final loss"]
    rows = {r["settings"]: r for r in final["rows"]}
    assert rows[""]["defaults"] and rows[""]["mean"] == pytest.approx(0.8**10)
    assert rows[""]["claim"] == "asserted" and rows[""]["passed"] == 0  # missed on both seeds
    assert rows["decay=0.5"]["mean"] == pytest.approx(0.5**10) and rows["decay=0.5"]["runs"] == 2
    # the same on both seeds (intervals of width 0), yet two runs a side are too few for a verdict
    assert (
        rows["decay=0.5"]["verdict"] == "too few runs" and rows["decay=0.5"]["differs_from_defaults"] is None
    )
    assert rows["decay=0.5"]["claim"] == "not asserted with these settings"
    entries = history.entries("knobby")
    groups = [g for g in entries if isinstance(g, GroupRecord)]
    assert len(groups) == len(entries) == 3 and len({r.info.sweep_id for g in groups for r in g.runs}) == 1
    assert sorted(tuple(r.info.settings.items()) for g in groups for r in g.runs) == sorted(
        [(), (), (("decay", 0.5),), (("decay", 0.5),), (("decay", 0.9),), (("decay", 0.9),)]
    )
    shown = run_cli(
        "run", "knobby", "--quick", "--only", "train", "--set", "decay=0.5,0.9", "--set", "steps=5"
    )
    assert (
        "decay=0.5 steps=5" in shown.stdout and "defaults" in shown.stdout and "vs defaults" in shown.stdout
    )


def test_plot_saves_a_sweep_as_svg_and_png_one_curve_per_setting(knobby: Path, tmp_path: Path) -> None:
    """``run --set a,b --plot FILE`` and ``plot NAME -o FILE``: real SVG (parsed: one curve per setting, the
    title naming the plugin) and PNG (decoded: a picture, not a blank) files; matplotlib only for ``plot``."""
    import xml.etree.ElementTree as ET

    from matplotlib.image import imread

    svg, png = tmp_path / "sweep.svg", tmp_path / "sweep.png"
    argv = ["run", "knobby", "--quick", "--only", "train", "--set", "decay=0.5,0.7", "--plot", str(svg)]
    swept = run_cli(*argv)
    assert f"saved {svg}" in swept.stderr, swept.stderr
    root = ET.parse(svg).getroot()
    ids = [g.get("id") or "" for g in root.iter("{http://www.w3.org/2000/svg}g")]
    assert sorted(i for i in ids if i.startswith("curve-")) == ["curve-0-0", "curve-0-1", "curve-0-2"]
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "knobby · a sweep of decay over 3 settings × 1 seed · cpu · quick" in texts
    assert "decay=0.7 (seed 0)" in texts and "defaults" in texts

    saved = run_cli("plot", "knobby", "-o", str(png))  # the newest: the same sweep, all three settings
    assert saved.returncode == 0 and saved.stdout == f"saved {png}\n", saved.stderr
    picture = imread(png)
    assert picture.shape[0] > 300 and picture.shape[1] > 600 and float(picture.std()) > 0.05
    wrong = run_cli("plot", "knobby", "-o", str(tmp_path / "sweep.pdf"))
    assert wrong.returncode == 2 and "a plot is saved as .svg or .png, not .pdf" in wrong.stderr
    unknown = run_cli("plot", "knobby", "zzzz", "-o", str(png))
    assert unknown.returncode == 2 and "zzzz: no run of knobby with such an id" in unknown.stderr
    probe = (
        f"import sys; sys.argv = ['readtrack', 'plot', 'knobby', '-o', {str(png)!r}]\n"
        "from readtrack.cli import app as cli\ntry:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules, 'matplotlib' in sys.modules, file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=600)
    assert result.stderr.strip().splitlines()[-1] == "False True", result.stderr


def test_python_runs_a_setting_and_a_sweep_and_plots_them(knobby: Path) -> None:
    """For notebooks: ``readtrack.run(name, set=..., seeds=...)`` returns the records (one in this process,
    a sweep in workers), and ``readtrack.plot(records=...)`` the figure, one line per setting."""
    import readtrack

    (one,) = readtrack.run("knobby", set={"decay": 0.9}, only="train")
    assert one.info.settings == {"decay": 0.9} and one.stages[0].measured[0].value == pytest.approx(0.9**10)
    records = readtrack.run("knobby", set={"decay": [0.5, 0.9]}, seeds=range(2), only="train", jobs=2)
    turned = sorted((tuple(r.info.settings.items()), r.info.seed) for r in records)
    settings = [(), (("decay", 0.5),), (("decay", 0.9),)]
    assert turned == sorted((s, seed) for s in settings for seed in (0, 1))
    fig = readtrack.plot(records=records)
    curves = [
        line for axes in fig.axes for line in axes.get_lines() if (line.get_gid() or "").startswith("curve-")
    ]
    assert len(curves) == 3  # one panel: the loss, a line per setting (after the claim's panel)
    assert readtrack.plot("knobby").axes  # the newest: that sweep, from history
    with pytest.raises(UsageError, match="knobby has no knob 'decy'; did you mean decay"):
        readtrack.run("knobby", set={"decy": 1})


def test_python_refuses_an_empty_seed_list_and_a_seed_given_twice(knobby: Path) -> None:
    """``seeds=[]`` used to fail inside zip(), and ``seeds=[0, 0]`` to record a group of seeds [0, 0]."""
    import readtrack
    from readtrack.history import runs as history

    with pytest.raises(ValueError, match=r"^readtrack.run: seeds is empty: give at least one seed"):
        readtrack.run("knobby", seeds=[], only="train")
    with pytest.raises(
        ValueError, match=r"^readtrack.run: seeds gives 0 more than once: each seed runs once$"
    ):
        readtrack.run("knobby", seeds=iter([0, 1, 0]), only="train")
    assert history.entries() == []


def test_practice_trains_the_learners_code_with_a_knob_turned(tmp_path: Path) -> None:
    """``practice rmsnorm --check --train --set norm=none``: the learner's code (here the model solution)
    graded at the defaults, then trained with the knob turned: a what-if, reported, not the claim."""
    from readtrack import practice

    assert run_cli("practice", "rmsnorm").returncode == 0  # makes the workspace
    workspace = practice.workspace_file(practice.practice_plugin("rmsnorm"))
    plugin_model = Path(__file__).resolve().parents[2] / "plugins" / "rmsnorm" / "model.py"
    workspace.write_text(plugin_model.read_text())
    no_train = run_cli("practice", "rmsnorm", "--check", "--set", "norm=none")
    assert (
        no_train.returncode == 2 and "--set turns the knobs of the training: add --train" in no_train.stderr
    )
    typo = run_cli("practice", "rmsnorm", "--check", "--train", "--set", "nrm=none")
    assert typo.returncode == 2 and "rmsnorm has no knob 'nrm'; did you mean norm?" in typo.stderr
    turned = run_cli("practice", "rmsnorm", "--check", "--train", "--set", "norm=none")
    assert turned.returncode == 0, turned.stdout + turned.stderr
    assert "checks pass; trained with norm=none (targets reported, not asserted)" in turned.stdout
    assert "not asserted with these settings" in turned.stdout
    listed = json.loads(run_cli("practice", "--json").stdout)
    assert next(e for e in listed if e["plugin"] == "rmsnorm")["status"] == "checks pass"
