"""A light command run again on unchanged inputs prints what it printed, without running (issue 96:
`readtrack.cli.replay`); any input that changed, or a damaged entry, and it runs again. The CLI as a reader
runs it: the commands that print only what they read, in this process or a subprocess, on the test's own data
dir, list and plugin folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_runner import run_cli
from fake_plugins import KNOBBY_CONFIG, KNOBBY_EXPERIMENT, write_plugin
from made_records import make_record, store

from readtrack.base import quickcache
from readtrack.cli import replay

# The probe a subprocess runs: the command, then which of its modules were imported (a replay imports no
# run history, no rich console, no plugin).
PROBE = (
    "import sys, runpy\n"
    "sys.argv = ['readtrack', *sys.argv[1:]]\n"
    "try:\n    runpy.run_module('readtrack', run_name='__main__')\n"
    "except SystemExit as e:\n    assert not e.code, e.code\n"
    "loaded = [m for m in ('readtrack.history.runs', 'rich.console', 'readtrack.plugins.discovery') "
    "if m in sys.modules]\n"
    "print('LOADED', *loaded, file=sys.stderr)\n"
)


def probed(*args: str) -> tuple[str, list[str]]:
    """``readtrack ARGS`` in a fresh interpreter: its output, and which heavy modules it imported."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "120"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    loaded = next(line for line in done.stderr.splitlines() if line.startswith("LOADED")).split()[1:]
    return done.stdout, loaded


def entries(home: Path) -> list[Path]:
    folder = home / "cache" / "replay"
    return sorted(folder.iterdir()) if folder.is_dir() else []


@pytest.fixture
def knobby(user_dir: Path) -> Path:
    folder = write_plugin(user_dir, "knobby", KNOBBY_EXPERIMENT)
    (folder / "config.py").write_text(KNOBBY_CONFIG)
    return folder


def test_a_second_history_is_replayed_importing_nothing_it_drew_with(readtrack_home: Path) -> None:
    store(make_record("rmsnorm", run_id="r1"))
    first, loaded = probed("history")
    assert "r1" in first and "readtrack.history.runs" in loaded and "rich.console" in loaded
    assert len(entries(readtrack_home)) == 1
    second, loaded = probed("history")
    assert second == first and loaded == []  # printed from the entry: no history read, nothing drawn
    store(make_record("rmsnorm", run_id="r2", started_at="2026-01-02T10:00:00+00:00"))  # the database changed
    third, loaded = probed("history")
    assert "r2" in third and "readtrack.history.runs" in loaded


def test_each_input_that_changes_runs_the_command_again(
    readtrack_home: Path, catalog_file: Path, knobby: Path
) -> None:
    """The list, a plugin's file, the environment and the width: each change is seen; and what is the same
    is replayed (the same bytes)."""
    shown = run_cli("show", "rmsnorm").stdout
    assert run_cli("show", "rmsnorm").stdout == shown and "☐ todo" in shown
    assert run_cli("mark", "rmsnorm", "read").returncode == 0  # papers.yaml changed
    assert "☑ read" in run_cli("show", "rmsnorm").stdout

    knobs = run_cli("knobs", "knobby").stdout
    assert "training steps" in knobs and run_cli("knobs", "knobby").stdout == knobs
    config = knobby / "config.py"
    config.write_text(KNOBBY_CONFIG.replace("training steps", "optimizer steps"))
    os.utime(config, ns=(time.time_ns(), time.time_ns() + 10**9))  # a later time, whatever the clock's grain
    assert "optimizer steps" in run_cli("knobs", "knobby").stdout

    store(make_record("rmsnorm", run_id="r1"))
    wide = run_cli("history", env={"COLUMNS": "120"}).stdout
    narrow = run_cli("history", env={"COLUMNS": "60"}).stdout
    assert wide != narrow and max(map(len, narrow.splitlines())) <= 60
    assert run_cli("history", env={"COLUMNS": "120"}).stdout == wide
    as_json = json.loads(run_cli("history", "--json").stdout)
    assert len(as_json) == 1 and "r1" in json.dumps(as_json)
    assert len(entries(readtrack_home)) >= 4


def test_a_copy_that_keeps_the_size_and_the_modification_time_is_seen(
    readtrack_home: Path, knobby: Path
) -> None:
    """``cp -p`` of a file of the same size: only the change time tells (issue 94 saw the plugin-links stamp
    miss it)."""
    config = knobby / "config.py"
    assert "training steps" in run_cli("knobs", "knobby").stdout
    before = config.stat()
    config.write_text(KNOBBY_CONFIG.replace("training steps", "trainings step"))  # the same size
    os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same time, as cp -p leaves it
    assert config.stat().st_size == before.st_size and config.stat().st_mtime_ns == before.st_mtime_ns
    assert "trainings step" in run_cli("knobs", "knobby").stdout


def test_a_new_plugin_file_is_seen(readtrack_home: Path, knobby: Path) -> None:
    first = run_cli("knobs", "knobby").stdout
    (knobby / "notes.md").write_text("a file added beside the plugin")  # a folder's time changed
    (knobby / "config.py").write_text(KNOBBY_CONFIG.replace("units per layer", "units in a layer"))
    assert "units in a layer" in run_cli("knobs", "knobby").stdout != first


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"not marshal at all",
        b"(\xff\xff\xff\x7f",  # marshal's "a tuple of 2**31 items": 16 GB asked for, were it read
        {"format": 2, "inputs": [], "out": 5, "err": ""},  # well-formed files of the wrong types
        {"format": 2, "inputs": [["x", 1]], "out": "forged\n", "err": ""},
        {"format": 2, "inputs": [("x", "1", 2, 3)], "out": "forged\n", "err": ""},
        {"format": 2, "inputs": "all", "out": "forged\n", "err": ""},
        {"format": 2, "out": "forged\n"},
    ],
    ids=[
        "empty",
        "garbage",
        "huge-tuple",
        "out-not-text",
        "input-not-stat",
        "stat-not-ints",
        "inputs-str",
        "no-inputs",
    ],
)
def test_a_damaged_entry_is_a_miss_rewritten(readtrack_home: Path, damage: bytes | dict[str, object]) -> None:
    store(make_record("rmsnorm", run_id="r1"))
    printed = run_cli("history").stdout
    (entry,) = entries(readtrack_home)
    if isinstance(damage, bytes):
        entry.write_bytes(damage)
    else:
        quickcache.write(entry, damage)
    damaged = entry.read_bytes()
    again = run_cli("history")
    assert again.returncode == 0 and again.stdout == printed and again.stderr == ""
    assert entry.read_bytes() != damaged  # rewritten by the run
    assert run_cli("history").stdout == printed


def test_only_a_clean_read_is_kept(readtrack_home: Path, catalog_file: Path) -> None:
    """Not kept: a failure, a writing or fetching option, help; a command line of another command."""
    assert run_cli("compare", "nosuch").returncode != 0
    assert run_cli("search", "zzzznothing").returncode == 1
    assert run_cli("show", "rmsnorm", "--help").returncode == 0
    assert run_cli("list").returncode == 0
    assert entries(readtrack_home) == []
    assert replay.command_of(["refs", "bert", "--refresh"]) is None
    assert replay.command_of(["next", "--add", "1"]) is None
    assert replay.command_of(["--catalog", "history", "show", "x"]) == "show"  # the list named "history"
    assert replay.command_of(["run", "rmsnorm"]) is None


def test_entries_are_capped_the_oldest_removed(readtrack_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replay, "MAX_ENTRIES", 3)
    for paper in ("rmsnorm", "bert", "gpt", "t5", "vit"):
        assert run_cli("show", paper).returncode == 0
        time.sleep(0.01)
    kept = entries(readtrack_home)
    assert len(kept) == 3
    shown = run_cli("show", "vit").stdout  # the newest is kept, and replayed
    assert "vit" in shown and len(entries(readtrack_home)) == 3


def test_an_entry_is_kept_beside_any_module_imported_before(readtrack_home: Path) -> None:
    """`readtrack.cli.app.main` in a process that imported torch first (a notebook, this test's worker): its
    modules' own kinds of ``__path__`` (``torch.classes``) are no reason to keep nothing."""
    import torch.classes  # noqa: F401

    store(make_record("rmsnorm", run_id="r1"))
    printed = run_cli("history").stdout
    assert len(entries(readtrack_home)) == 1
    assert run_cli("history").stdout == printed


def test_a_reader_that_goes_away_ends_a_command_and_its_replay_with_141_and_nothing_said(
    readtrack_home: Path,
) -> None:
    """``readtrack history | head -1``, run then replayed: 141 and nothing on stderr both times, as `list`
    (rich's own answer to a closed pipe was exit 1, an error to ``set -o pipefail``)."""
    for n in range(40):
        store(make_record("rmsnorm", run_id=f"r{n:02d}", started_at=f"2026-01-01T10:{n:02d}:00+00:00"))
    assert run_cli("history", process=True).returncode == 0
    assert len(entries(readtrack_home)) == 1
    store(make_record("rmsnorm", run_id="r99", started_at="2026-01-02T10:00:00+00:00"))  # not a replay
    for how in ("run", "replayed"):
        if how == "replayed":
            assert run_cli("history", process=True).returncode == 0  # kept again, for the next to replay
        process = subprocess.Popen(
            [sys.executable, "-m", "readtrack", "history"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "120"},  # as run_cli's
        )
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # gone before a line is read
        err = process.stderr.read()
        assert process.wait(timeout=60) == 141, err
        assert err == b""
    assert len(entries(readtrack_home)) == 1
