"""`readtrack CMD` builds only CMD's Click command (`readtrack.cli.app.only_the_invoked_command`): what a
person sees is what the whole app says, byte for byte, for help, usage errors, mistyped commands and runs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cli_runner import run_cli

from readtrack.cli import app as cli
from readtrack.cli.registry import ELSEWHERE

# `python -m readtrack ARGS` with every command kept, those of other modules imported: the same start, but
# for the pruning and the lazy imports (issue 87)
WHOLE_APP = (
    "import runpy; from readtrack.cli import app; "
    "app.only_the_invoked_command = lambda args: "
    "setattr(app.app, 'registered_commands', app.every_command()); "
    "runpy.run_module('readtrack', run_name='__main__', alter_sys=True)"
)


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--help"],
        ["list", "--bogus"],
        ["--catalog=papers.yaml", "list", "--status", "nosuch"],
        ["stats"],
        ["show", "nosuch-paper"],
        ["lst"],  # Click suggests the close command: every command must be there
        ["--help"],
        ["new-plugin", "--help"],
        ["run", "--help"],
        ["calibrate", "--help"],
        ["check-plugin", "--help"],
        ["cites", "--help"],
        ["next", "--bogus"],
        ["history", "--json", "nosuch-plugin"],
    ],
)
def test_a_command_says_what_the_whole_app_says(args: list[str]) -> None:
    alone = run_cli(*args, process=True)  # the process a command starts holds only that command
    whole = subprocess.run(
        [sys.executable, "-c", WHOLE_APP, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "120"},
        timeout=120,
    )
    assert (alone.returncode, alone.stdout, alone.stderr) == (whole.returncode, whole.stdout, whole.stderr)


@pytest.mark.parametrize(
    ("args", "kept"),
    [
        (["list"], ["list"]),
        (["--catalog", "x.yaml", "--debug", "new-plugin", "--help"], ["new-plugin"]),
        (["--catalog=x.yaml", "show", "adamw"], ["show"]),
        (["refs", "bert"], ["refs"]),
        ([], None),
        (["--help"], None),
        (["lst"], None),
        (["--catalog", "list"], None),  # `list` is --catalog's value here: no command named
    ],
)
def test_only_a_named_command_is_kept(
    monkeypatch: pytest.MonkeyPatch, args: list[str], kept: list[str]
) -> None:
    every = list(cli.app.registered_commands)
    monkeypatch.setattr(cli.app, "registered_commands", list(every))
    cli.only_the_invoked_command(args)
    names = [cli._command_name(c) for c in cli.app.registered_commands]
    assert names == (kept or [cli._command_name(c) for c in every])
    assert len(every) == 14 + len(ELSEWHERE)  # the app's own, and those of other modules
    if kept:  # the command itself, its module imported when it is another module's
        assert all(c.cls is not cli._Elsewhere for c in cli.app.registered_commands)
