"""Tables and pictures name what ran (issue 94, item 12): rmsnorm's ``norm`` switch is declared with
``arm="RMSNorm"``, so a run with ``norm=layer`` names LayerNorm where its numbers said "RMSNorm", and a sweep
over the switch names the arm by it ("the norm arm") and says once what it ran at each setting."""

from __future__ import annotations

from pathlib import Path

from cli_runner import run_cli

from readtrack.render import what_ran

LAYER = "LayerNorm (norm=layer)"


def test_a_switch_names_what_ran_in_its_arms_place() -> None:
    knobs = what_ran.switches("rmsnorm")
    assert [(k.name, k.arm) for k in knobs] == [("norm", "RMSNorm")]
    assert what_ran.swapped(knobs, {}) == {} and what_ran.swapped(knobs, {"norm": "rms", "steps": 5}) == {}
    names = what_ran.swapped(knobs, {"norm": "layer", "steps": 5})
    assert names == {"RMSNorm": LAYER}
    assert (
        what_ran.renamed("RMSNorm: test loss (mean of 1 init)", names)
        == f"{LAYER}: test loss (mean of 1 init)"
    )
    # the arm as a whole word: PyTorch's nn.RMSNorm (a reference) keeps its name
    assert what_ran.renamed("RMSNorm vs nn.RMSNorm, RMSNorms", names) == f"{LAYER} vs nn.RMSNorm, RMSNorms"
    assert what_ran.switches("no-such-plugin") == [] and what_ran.switches("gpt2") == []


def test_several_settings_name_the_arm_by_its_switch_and_say_what_it_ran_where() -> None:
    knobs = what_ran.switches("rmsnorm")
    names, lines = what_ran.roles(knobs, [{}, {"steps": 5}, {"norm": "layer"}, {"norm": "none"}])
    assert names == {"RMSNorm": "the norm arm"}
    said = (
        "the norm arm: RMSNorm (the defaults, steps=5), LayerNorm (norm=layer), no normalisation (norm=none)"
    )
    assert lines == [said]
    assert what_ran.roles(knobs, [{}, {"steps": 5}]) == ({}, [])  # the switch never turned: names stay


def test_a_run_with_the_switch_turned_reports_what_ran() -> None:
    ran = run_cli("run", "rmsnorm", "--quick", "--only", "train", "--set", "norm=layer", "--set", "steps=5")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    out = " ".join(ran.stdout.split())
    assert f"{LAYER}: test loss (mean of 1 init)" in out
    assert f"training loss: {LAYER} (its best lr)" in out
    assert "test loss without normalisation / with LayerNorm (norm=layer)" in out
    assert "RMSNorm: test loss" not in out and "training loss: RMSNorm" not in out, out


def test_a_sweep_over_the_switch_tables_and_draws_the_arm_by_its_switch(tmp_path: Path) -> None:
    picture = tmp_path / "sweep.svg"
    sweep = ["run", "rmsnorm", "--quick", "--only", "train", "--set", "norm=rms,layer", "--set", "steps=5"]
    ran = run_cli(*sweep, "--plot", str(picture), "--yes")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    out = " ".join(ran.stdout.split())
    assert "the norm arm: RMSNorm (the defaults, steps=5), LayerNorm (norm=layer steps=5)" in out
    assert "the norm arm: test loss (mean of 1 init)" in out and "RMSNorm: test loss" not in out
    drawn = " ".join(picture.read_text(encoding="utf-8").split())
    assert (
        "training loss: the norm arm (its best lr)" in drawn
        and "the norm arm: RMSNorm (the defaults" in drawn
    )
    assert "training loss: RMSNorm" not in drawn and "with RMSNorm" not in drawn  # titles and axes
