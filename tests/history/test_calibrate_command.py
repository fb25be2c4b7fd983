"""``readtrack calibrate NAME`` (issue 72): a plugin of the user's folder calibrated on a few seeds, its
record written into its own folder only, the reader's history and ``benchmarks/RESULTS.md`` left alone; the
rule's missing torch release said; and ``run``, ``plugins`` and ``doctor`` each saying in one line when the
record goes stale (a code edit), not when a test file is added."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from cli_runner import run_cli

from readtrack.batch import calibrate as core
from readtrack.history import calibration, calibration_state
from readtrack.history.calibration import Calibration
from readtrack.history.calibration_state import missing
from readtrack.history.spread import GroupRecord, Spread

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "benchmarks" / "RESULTS.md"


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (bytecode aside), by its path there."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def calibration_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "calibrat" in line]


def test_calibrate_writes_only_beside_the_plugin_and_run_plugins_doctor_say_when_it_goes_stale(
    user_dir: Path, readtrack_home: Path, tmp_path: Path
) -> None:
    made = run_cli("new-plugin", "mine")
    assert made.returncode == 0, made.stderr
    folder = user_dir / "mine"
    before, results = files(folder), RESULTS.read_bytes()
    assert not (readtrack_home / "readtrack.db").exists()

    done = run_cli("calibrate", "mine", "--seeds", "0-1", "--write")
    assert done.returncode == 0, done.stderr
    after = files(folder)
    assert sorted(set(after) - set(before)) == [calibration.FILE]
    assert [p for p in before if after[p] != before[p]] == ["__init__.py"]  # the page's generated end
    (record,) = calibration.load(folder)
    assert (record.mode, record.seeds, record.code) == ("quick", [0, 1], calibration.fingerprint(folder))
    page = (folder / "__init__.py").read_text(encoding="utf-8")
    assert calibration.page_block_in(page) == calibration.page_block("mine", [record])
    # the runs went into a data dir of their own: the reader's has no history, RESULTS.md is the repo's
    assert not (readtrack_home / "readtrack.db").exists()
    assert RESULTS.read_bytes() == results
    assert not [p for root in (tmp_path, readtrack_home) for p in root.rglob("RESULTS.md")]
    release = calibration.torch_release(record.torch)
    (verdict,) = [line for line in done.stdout.splitlines() if line.startswith("mine, quick: ")]
    assert f"the record holds torch {release} (seeds 0, 1)" in verdict
    assert "18 more seeds on torch" in verdict and "a second torch release (10 seeds)" in verdict
    assert "0 targets break the rule" not in done.stdout
    assert re.search(r"margin -?\d+\.\d sd \(worst seed -?\d+\.\d sd\)", done.stdout)  # both distances
    assert f"recorded in {folder / calibration.FILE}" in done.stdout

    def listed() -> dict[str, object]:
        shown = run_cli("plugins", "--json")
        assert shown.returncode == 0, shown.stderr
        return next(row["calibration"] for row in json.loads(shown.stdout) if row["name"] == "mine")

    said = listed()
    assert said["state"] == "incomplete" and said["recorded"] == {"quick": {release: 2}}
    (folder / "test_x.py").write_text("def test_x() -> None:\n    assert True\n", encoding="utf-8")
    assert listed()["state"] == "incomplete"  # a test is not the plugin's code

    with (folder / "model.py").open("a", encoding="utf-8") as model:
        model.write("\n\ndef changed() -> int:\n    return 1\n")
    stale = f"mine: calibration stale: the code changed since its record (quick, torch {release})"
    assert listed()["state"] == "stale"
    plugins = run_cli("plugins", env={"COLUMNS": "80"})
    assert [line for line in calibration_lines(plugins.stdout) if "mine" in line] == [
        f"{stale}: run `readtrack calibrate mine --write` again"
    ]
    doctor = run_cli("doctor")
    (line,) = [line for line in doctor.stdout.splitlines() if line.startswith("calibration: ")]
    assert line.endswith("; stale: mine (`readtrack plugins` says why)"), line
    ran = run_cli("run", "mine", "--quick", "--only", "check")
    assert ran.returncode == 0, ran.stderr
    assert calibration_lines(ran.stderr) == [
        f"readtrack: {stale}: run `readtrack calibrate mine --write` again"
    ]


def test_a_calibrated_built_in_plugin_has_nothing_to_say() -> None:
    """What ``run rope`` says after its report: nothing, its record is fresh and complete."""
    from readtrack.cli.authoring import calibration_notes

    assert calibration_notes(["rope", "adamw"]) == []
    (state,) = calibration_state.plugin_states(["rope"]).values()
    assert state.kind == "fresh" and state.line().startswith("rope: calibrated on its code as it is: quick")


def test_pages_makes_the_pages_end_again_from_the_record_and_runs_nothing(
    user_dir: Path, readtrack_home: Path
) -> None:
    """``calibrate NAME --pages``: after the page's format changed, its generated end is made again from
    ``calibration.json`` as it stands (the record's bytes untouched, nothing run, no history); a plugin with
    no record is left as it is, said, exit 1."""
    assert run_cli("new-plugin", "mine").returncode == 0
    assert run_cli("new-plugin", "other").returncode == 0
    folder = user_dir / "mine"
    calibration.save(folder, "mine", [quick("2.14.1+cpu", 5, code=calibration.fingerprint(folder))])
    page = folder / "__init__.py"
    old = f"{calibration.MARKER} an older format): margin 9.9 sd"
    page.write_text(calibration.page_with_block(page.read_text(encoding="utf-8"), old), encoding="utf-8")
    record, other_page = (
        (folder / calibration.FILE).read_bytes(),
        (user_dir / "other" / "__init__.py").read_bytes(),
    )

    done = run_cli("calibrate", "mine", "other", "--pages")
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        "mine: its page's end made from calibration.json",
        "other: no calibration.json: its page left as it is",
    ]
    text = page.read_text(encoding="utf-8")
    assert calibration.page_block_in(text) == calibration.page_block("mine", calibration.load(folder))
    assert "(worst seed " in text and "9.9" not in text
    assert (folder / calibration.FILE).read_bytes() == record
    assert (user_dir / "other" / "__init__.py").read_bytes() == other_page
    assert not (readtrack_home / "readtrack.db").exists()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["rmsnrom"], "unknown plugin 'rmsnrom': did you mean rmsnorm?"),
        (["rope", "--seeds", "3-3"], "--seeds 3-3: a calibration needs 2 seeds or more"),
        (["rope", "--jobs", "0"], "--jobs must be at least 1, not 0"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], said: str) -> None:
    done = run_cli("calibrate", *args)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1 and said in done.stderr, done.stderr


def test_the_runs_history_is_never_the_readers_own(readtrack_home: Path) -> None:
    done = run_cli("calibrate", "rope", "--home", str(readtrack_home))
    assert done.returncode == 2 and "is your own data dir" in done.stderr, done.stderr
    assert not (readtrack_home / "readtrack.db").exists()


def test_runs_in_sets_the_home_and_restores_it_whatever_happens(
    readtrack_home: Path, user_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with core.runs_in(tmp_path / "runs"):
        assert os.environ["READTRACK_HOME"] == str(tmp_path / "runs")
        assert os.environ["READTRACK_PLUGINS_DIR"] == str(user_dir)
    assert os.environ["READTRACK_HOME"] == str(readtrack_home)
    monkeypatch.delenv("READTRACK_PLUGINS_DIR")
    with pytest.raises(KeyError), core.runs_in(tmp_path / "runs"):
        assert os.environ["READTRACK_PLUGINS_DIR"] == str(
            Path(os.environ["READTRACK_CATALOG"]).parent / "plugins"
        )
        raise KeyError("a run that fails")
    assert os.environ["READTRACK_HOME"] == str(readtrack_home) and "READTRACK_PLUGINS_DIR" not in os.environ


@pytest.mark.parametrize(
    ("recorded", "mode", "lacking"),
    [
        ({}, "quick", ["quick runs on 2 torch releases (20 and 10 seeds)"]),
        ({"2.14.1": 3}, "quick", ["17 more seeds on torch 2.14.1", "a second torch release (10 seeds)"]),
        ({"2.14.1": 20, "2.13.0": 10}, "quick", []),
        ({"2.14.1": 12, "2.13.0": 25}, "quick", []),  # 20 asked of either release, 10 of the other
        ({"2.14.1": 20, "2.13.0": 9}, "quick", ["1 more seed on torch 2.13.0"]),
        ({"2.14.1": 20, "2.13.0": 10, "2.12.0": 5}, "quick", ["5 more seeds on torch 2.12.0"]),
        ({"2.14.1": 5}, "full", ["5 more seeds on torch 2.14.1"]),
        ({}, "full", ["full runs on a torch release (10 seeds)"]),
    ],
)
def test_what_a_record_lacks_against_the_rule(
    recorded: dict[str, int], mode: str, lacking: list[str]
) -> None:
    assert missing(recorded, mode) == lacking


def quick(torch: str, seeds: int, code: str = "abc") -> Calibration:
    values = [0.9 + 0.001 * s for s in range(seeds)]
    acc = Spread("acc", "target", list(range(seeds)), values, [True] * seeds, 0.5, True)
    return Calibration("quick", torch, "AVX512", "2026-11-27", code, [acc])


def test_zero_targets_break_the_rule_is_said_only_of_a_complete_record() -> None:
    one = core.verdict("p", [quick("2.14.1+cpu", 20)], "quick", "abc")
    assert (
        one
        == "p, quick: the record holds torch 2.14.1 (seeds 0-19); missing a second torch release (10 seeds)"
    )
    both = core.verdict("p", [quick("2.14.1+cpu", 20), quick("2.13.0", 10)], "quick", "abc")
    assert both.endswith(f"; complete: 0 targets break the rule ({calibration.RULE})")
    other = core.verdict("p", [quick("2.14.1+cpu", 20), quick("2.13.0", 10, code="old")], "quick", "abc")
    assert "made on other code, to run again: torch 2.13.0; missing a second torch release" in other


def test_a_calibration_batch_leaves_the_environment_as_it_is_during_and_after(
    user_dir: Path, readtrack_home: Path, tmp_path: Path
) -> None:
    """``run_seeds`` names its own database to the batch: the process's environment (``READTRACK_HOME``,
    ``READTRACK_PLUGINS_DIR``, the rest) is the same at every event of the batch and after it, the runs are
    in the calibration's home, and the reader's data dir has no history (was: both swapped for the batch)."""
    from fake_plugins import write_plugin

    from readtrack.base.paths import database_in
    from readtrack.history import runs as history

    write_plugin(user_dir, "mine")
    before = dict(os.environ)
    seen: list[dict[str, str]] = []
    home = tmp_path / "calibration-home"
    core.run_seeds(
        ["mine"], [0, 1], full=False, jobs=2, home=home, on_event=lambda job, e: seen.append(dict(os.environ))
    )
    assert seen and all(env == before for env in seen)
    assert dict(os.environ) == before
    (group,) = history.entries("mine", db=database_in(home))
    assert isinstance(group, GroupRecord)
    assert group.status == "passed" and [r.info.seed for r in group.runs] == [0, 1]
    assert not (readtrack_home / "readtrack.db").exists()
    assert set(core.newest_runs("mine", [str(home)], [0, 1], quick=True).popitem()[1]) == {0, 1}
