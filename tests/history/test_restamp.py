"""``benchmarks/restamp.py --rename`` (issue 84, item 7): the base's numbers renamed before they are compared
with today's, and a calibration's records re-stamped with today's fingerprint and the new names, only for
names today's code recorded. A real plugin's calibration.json copied into a folder of the test's own; the
script in a subprocess for its command line."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from readtrack.history import calibration

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "restamp.py"
OLD = "mean of 3 initialisations"
NEW = "mean of 3 inits"
RULES = [(re.compile(r"mean of (\d+) initialisations"), r"mean of \1 inits")]


@pytest.fixture(scope="module")
def restamp() -> ModuleType:
    spec = importlib.util.spec_from_file_location("restamp", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def lstm(tmp_path: Path) -> Path:
    """A copy of lstm's calibration (its full record names 'nn.RNN: the same weight, mean of 3
    initialisations')."""
    folder = tmp_path / "lstm"
    folder.mkdir()
    shutil.copy(REPO / "plugins" / "lstm" / calibration.FILE, folder / calibration.FILE)
    return folder


def test_the_base_numbers_are_compared_under_the_new_names(restamp: ModuleType) -> None:
    base = {
        "status": "passed",
        "targets": [("GRU: test MSE, mean of 3 initialisations", 0.01, 0.05)],
        "measured": [("steps to solve", 412.0, "per init; mean of 3 initialisations")],
    }
    today = {
        "status": "passed",
        "targets": [("GRU: test MSE, mean of 3 inits", 0.01, 0.05)],
        "measured": [("steps to solve", 412.0, "per init; mean of 3 inits")],
    }
    assert not restamp.same(base, today)
    assert restamp.same(restamp.renamed(base, RULES), today)
    moved = {**today, "targets": [("GRU: test MSE, mean of 3 inits", 0.011, 0.05)]}
    assert not restamp.same(restamp.renamed(base, RULES), moved)  # a renamed number still compared


def test_write_renames_and_restamps_only_the_base_records(restamp: ModuleType, lstm: Path) -> None:
    before = calibration.load(lstm)
    old = before[0].code
    produced = {"full": {f"nn.RNN: the same weight, {NEW}"}, "quick": set()}
    path = lstm / calibration.FILE
    text = restamp.restamped(path.read_text(encoding="utf-8"), old, "0123456789abcdef", RULES, produced)
    path.write_text(text, encoding="utf-8")
    after = calibration.load(lstm)
    assert [c.code for c in after] == ["0123456789abcdef"] * len(before)
    full = next(c for c in after if c.mode == "full")
    names = [n.name for n in full.numbers]
    assert f"nn.RNN: the same weight, {NEW}" in names and not any(OLD in n for n in names)
    # every value as it was measured, and the file as readtrack itself writes it
    assert [[n.values for n in c.numbers] for c in after] == [[n.values for n in c.numbers] for c in before]
    calibration.save(lstm, "lstm", after)
    assert path.read_text(encoding="utf-8") == text
    # a record of other code is left as it is
    again = restamp.restamped(text, "ffffffffffffffff", "1111111111111111", RULES, produced)
    assert again == text


def test_a_rename_the_runs_did_not_prove_writes_nothing(restamp: ModuleType, lstm: Path) -> None:
    text = (lstm / calibration.FILE).read_text(encoding="utf-8")
    old = calibration.load(lstm)[0].code
    with pytest.raises(ValueError, match="a name today's code did not record in a full run"):
        restamp.restamped(text, old, "0123456789abcdef", RULES, {"full": set(), "quick": set()})
    with pytest.raises(ValueError, match="not as readtrack writes it"):
        restamp.restamped(text.replace("\n ", "\n  ", 1), old, "0123456789abcdef", [], {})


def test_a_bad_pattern_is_one_line_and_exit_2() -> None:
    argv = [sys.executable, str(SCRIPT), "lstm", "--base", "HEAD", "--rename", "(seed", "init"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "--rename: missing ), unterminated subpattern" in result.stderr.strip().splitlines()[-1]
