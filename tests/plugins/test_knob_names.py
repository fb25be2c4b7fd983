"""One meaning for "seeds" (issue 84, item 7): a run's seeds are ``--seeds``; the initialisations averaged
inside one run are a plugin's knob ``inits``. No built-in plugin has a knob named ``seeds`` (or ``*_seeds``),
no number a plugin records or its calibration holds hedges with "seed(s)", and ``--set seeds=N`` on a plugin
whose knob was renamed says what it is called now, in one line. The shelf's real ``config.py``,
``experiment.py`` and ``calibration.json`` files; the CLI in a subprocess."""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path

import pytest
from cli_runner import run_cli

from readtrack.base.errors import UsageError
from readtrack.plugins import knobs
from readtrack.plugins.knobs import knobs_of

REPO = Path(__file__).resolve().parents[2]
PLUGINS = sorted(p.parent for p in (REPO / "plugins").glob("*/config.py"))
HEDGES = ("seed(s)", "initialisation(s)")


def config_of(folder: Path) -> type:
    return importlib.import_module(f"plugins.{folder.name}.config").Config


def test_no_built_in_plugin_has_a_knob_named_seeds() -> None:
    named = [
        f"{folder.name}: {k.name}"
        for folder in PLUGINS
        for k in knobs_of(config_of(folder))
        if k.name == "seeds" or k.name.endswith("_seeds")
    ]
    assert named == [], "a run's seeds are --seeds; initialisations inside one run are the knob inits"
    assert sum("inits" in {k.name for k in knobs_of(config_of(f))} for f in PLUGINS) >= 18


def test_no_number_name_says_seed_s() -> None:
    """Neither a string the stages write (``experiment.py``'s literals and f-strings) nor a calibrated
    number's name: ``plural`` says ``1 init`` and ``3 inits``."""
    hedged = []
    for folder in PLUGINS:
        tree = ast.parse((folder / "experiment.py").read_text(encoding="utf-8"))
        texts = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
        hedged += [f"{folder.name}/experiment.py: {t!r}" for t in texts if any(h in t for h in HEDGES)]
        path = folder / "calibration.json"
        if path.exists():
            for record in json.loads(path.read_text(encoding="utf-8"))["calibrations"]:
                names = [n["name"] for n in record["numbers"]]
                hedged += [
                    f"{folder.name} ({record['mode']}): {n}" for n in names if any(h in n for h in HEDGES)
                ]
    assert hedged == []


def test_a_calibration_names_one_init_and_three_inits() -> None:
    """rmsnorm's quick run averages one initialisation, its full run three: the restamped records say so."""
    record = json.loads((REPO / "plugins" / "rmsnorm" / "calibration.json").read_text(encoding="utf-8"))
    names = {c["mode"]: {n["name"] for n in c["numbers"]} for c in record["calibrations"]}
    assert "RMSNorm: test loss (mean of 1 init)" in names["quick"]
    assert "RMSNorm: test loss (mean of 3 inits)" in names["full"]


def test_set_seeds_says_the_knob_is_inits_now() -> None:
    result = run_cli("run", "rmsnorm", "--quick", "--only", "train", "--set", "seeds=3")
    assert result.returncode == 2, result
    (line,) = result.stderr.strip().splitlines()
    assert "rmsnorm's knob 'seeds' is now 'inits' (initialisations averaged inside one run" in line
    assert line.endswith("did you mean --set inits=3?")
    assert "a run's own seeds are --seeds" in line


def test_a_renamed_knob_is_named_only_where_the_new_one_exists() -> None:
    config = config_of(REPO / "plugins" / "curriculum_learning")
    with pytest.raises(UsageError, match=r"'parity_seeds' is now 'parity_inits'.*--set parity_inits=2\?$"):
        knobs.parse_settings(config, ["parity_seeds=2"], "curriculum-learning")
    assert knobs.parse_settings(config, ["inits=3"], "curriculum-learning") == {"inits": [3]}
    # lstm never had the knob: the usual close-match hint, not a rename it never made
    with pytest.raises(UsageError, match="lstm has no knob 'seeds'; did you mean steps"):
        knobs.parse_settings(config_of(REPO / "plugins" / "lstm"), ["seeds=3"], "lstm")
