"""What a knob says (issue 73): a special value shown with what it means (``lr 0.0``: each arm its best
rate), no internal constant's name in a knob's words, ``knobs`` wrapping at words at 80 columns, and a
knob's words left out of the calibration fingerprint (a clearer help needs no recalibration; a default
still does). The shelf's real ``config.py`` files; the CLI in a subprocess."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from cli_runner import run_cli

from readtrack.history import calibration
from readtrack.plugins.knobs import Knob, KnobError, knob, knobs_of

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted((REPO / "plugins").glob("*/config.py"))


def shelf_knobs() -> list[tuple[str, Knob]]:
    found: list[tuple[str, Knob]] = []
    for path in CONFIGS:
        module = importlib.import_module(f"plugins.{path.parent.name}.config")
        found += [(path.parent.name, k) for k in knobs_of(module.Config)]
    return found


def test_a_zero_that_means_something_says_what_and_no_help_names_a_constant() -> None:
    """``lr = 0.0`` used to read as a rate of zero unless one found "0: each its best…" inside the help; and
    three helps said "(quick: its QUICK_LR)", a name only experiment.py knows."""
    knobs = shelf_knobs()
    assert (
        len({name for name, _ in knobs})
        == len(CONFIGS)
        == len(list((REPO / "plugins").glob("*/__init__.py")))
    )
    zero_rates = [(name, k) for name, k in knobs if k.name == "lr" and 0.0 in (k.quick, k.full)]
    assert len(zero_rates) >= 30
    for name, k in zero_rates:
        assert k.shown(0.0).startswith("0.0 (") and k.shown(0.0).endswith(")"), (name, k.means)
        assert "0:" not in k.help, (name, k.help)  # said once, in means=, not also in the help
    constant = re.compile(r"\b[A-Z]{2,}[A-Z0-9]*_[A-Z0-9_]+\b|\bexperiment\.[A-Za-z_]+")  # not L_1
    for name, k in knobs:
        words = " ".join([k.help, k.paper, *(w for _, w in k.means)])
        assert not constant.search(words), (name, k.name, words)


def test_means_is_checked_like_a_default_and_shown_beside_the_value() -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Config:
        lr: float = knob(0.0, low=0.0, high=1.0, help="the rate", means={0.0: "each arm its best rate"})
        steps: int = knob(10, low=0, high=99, help="steps", means={0: "none"})

    lr, steps = knobs_of(Config)
    assert lr.shown(0.0) == "0.0 (each arm its best rate)" and lr.shown(0.01) == "0.01"
    assert steps.shown(0) == "0 (none)" and steps.shown(False) == "false"

    @dataclass(frozen=True)
    class Wrong:
        lr: float = knob(0.1, low=0.01, high=1.0, help="the rate", means={0.0: "each arm its best rate"})

    with pytest.raises(KnobError, match=r"Wrong.lr: means= 0 is out of range \(0.01 to 1\)"):
        knobs_of(Wrong)


def test_knobs_wraps_at_words_at_80_columns_and_shows_what_zero_means() -> None:
    """At 80 columns ``knobs vae`` used to fold "reparameteris / ed" inside its allowed column and cut its
    help with an ellipsis."""
    listed = run_cli("knobs", "vae", env={"COLUMNS": "80"})
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    words = {w.strip(",.()'") for line in lines for w in line.split()}
    assert {"reparameterised", "score-function", "0.0:"} <= words, listed.stdout
    assert "…" not in listed.stdout and not any(w in words for w in ("reparameteris", "ed", "reparameteri"))
    assert "0.0: each its best of 1e-3, 3e-3, 1e-2 on the validation split" in " ".join(listed.stdout.split())
    wide = run_cli("knobs", "vae", env={"COLUMNS": "120"}).stdout
    assert wide.splitlines()[2].split()[:5] == ["knob", "quick", "full", "allowed", "what"]


def test_a_knobs_words_are_not_code_for_the_fingerprint(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    config = (
        "from readtrack.api import knob\n"
        "class Config:\n"
        "    lr: float = knob(\n"
        "        {default}, low=0.0, high=1.0, help={help!r}, paper='1e-3', means={{0.0: {means!r}}}\n"
        "    )\n"
    )
    (folder / "config.py").write_text(config.format(default=0.0, help="the rate", means="each its best"))
    first = calibration.fingerprint(folder)
    (folder / "config.py").write_text(
        config.format(default=0.0, help="Adam's rate", means="each arm its best")
    )
    assert calibration.fingerprint(folder) == first
    (folder / "config.py").write_text(config.format(default=0.001, help="the rate", means="each its best"))
    assert calibration.fingerprint(folder) != first


def test_compare_says_what_a_special_value_in_its_settings_means(user_dir: Path) -> None:
    """A sweep over ``decay=0,0.5`` lined up by ``compare``: "0.0" is what the knob's ``means`` says."""
    from fake_plugins import KNOBBY_CONFIG, KNOBBY_EXPERIMENT, write_plugin

    folder = write_plugin(user_dir, "knobby", KNOBBY_EXPERIMENT)
    old = 'help="the loss\'s factor per step"'
    assert old in KNOBBY_CONFIG
    (folder / "config.py").write_text(
        KNOBBY_CONFIG.replace(old, old + ', means={0.0: "no loss after step 0"}')
    )
    swept = run_cli("run", "knobby", "--quick", "--only", "train", "--set", "decay=0,0.5")
    assert swept.returncode == 1, swept.stdout + swept.stderr  # the defaults miss their target
    lined = run_cli("compare", "knobby", env={"COLUMNS": "80"})
    assert lined.returncode == 0, lined.stderr
    assert "decay 0.0: no loss after step 0" in lined.stdout.splitlines()
    assert "0.5: " not in lined.stdout  # a value that means only itself says nothing more
