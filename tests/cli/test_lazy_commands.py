"""The commands of `readtrack.cli.plugins`, `authoring` and `related` are named by `readtrack.cli.registry`
and imported only when one of them runs (issue 87): `--help` lists them all from the table, a run imports
its own module alone."""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys

import pytest
import typer
from cli_runner import run_cli

from readtrack.cli import app as cli
from readtrack.cli.registry import ELSEWHERE

# the modules the table names, the three it began with among them
MODULES = tuple(dict.fromkeys(module for module, _ in ELSEWHERE.values()))
assert {"readtrack.cli.plugins", "readtrack.cli.authoring", "readtrack.cli.related"} <= set(MODULES)
COMMAND_MODULES = (*MODULES, "readtrack.cli.batches")


def one_line_help(command: typer.models.CommandInfo) -> str:
    """What `--help` shortens: the first paragraph of the command's help, whitespace collapsed."""
    assert command.callback is not None
    text = command.help or inspect.getdoc(command.callback) or ""
    return " ".join(text.split("\n\n")[0].split())


def test_the_registry_names_every_command_of_the_other_modules() -> None:
    """Each command of the modules, in their order, with its module and its one-line help: a command added,
    renamed or reworded there and not here fails, printing the entries to paste."""
    found = {}
    for module in MODULES:
        for command in importlib.import_module(module).commands.registered_commands:
            found[cli._command_name(command)] = (module, one_line_help(command))
    entries = "".join(f"    {name!r}: {value!r},\n" for name, value in found.items())
    assert list(ELSEWHERE.items()) == list(found.items()), (
        f"readtrack/cli/registry.py's ELSEWHERE:\n{entries}"
    )


def _imported_by(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    probe = (
        "import sys, runpy\n"
        f"sys.argv = ['readtrack', *{list(args)!r}]\n"
        "try:\n    runpy.run_module('readtrack', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print('READTRACK', *sorted(m for m in sys.modules if m.startswith('readtrack.')), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "120"},
        timeout=120,
    )
    line = next(line for line in result.stderr.splitlines() if line.startswith("READTRACK "))
    return result, set(line.split()[1:])


def test_help_lists_every_command_with_its_one_line_help_importing_none_of_their_modules() -> None:
    result, imported = _imported_by("--help")
    assert result.returncode == 0, result.stderr
    assert imported.isdisjoint(COMMAND_MODULES), sorted(imported & set(COMMAND_MODULES))
    listed = result.stdout.split("Commands:\n", 1)[1].splitlines()
    every = cli.every_command()  # the real commands, their modules imported (here, not in the probe)
    assert [row.split()[0] for row in listed] == [cli._command_name(c) for c in every]
    limit = 80 - 2 - 6 - max(len(cli._command_name(c)) for c in every)  # Click's width, at most 78
    for row, command in zip(listed, every, strict=True):
        real = typer.main.get_command_from_info(command, pretty_exceptions_short=True, rich_markup_mode=None)
        assert row.split(None, 1)[1] == real.get_short_help_str(limit), row


@pytest.mark.parametrize(
    ("args", "module"),
    [
        (["cites", "--help"], "readtrack.cli.related"),
        (["--catalog", "x.yaml", "calibrate", "--help"], "readtrack.cli.authoring"),
        (["knobs", "--help"], "readtrack.cli.plugins"),
    ],
)
def test_a_command_of_another_module_imports_that_module_alone(args: list[str], module: str) -> None:
    result, imported = _imported_by(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Usage: readtrack {args[-2]} "), result.stdout
    assert module in imported
    others = set(MODULES) - {module} - ({"readtrack.cli.authoring"} if module.endswith("plugins") else set())
    assert imported.isdisjoint(others), sorted(imported & others)


def test_a_command_click_finds_where_the_app_did_not_look_is_still_the_real_one() -> None:
    """``readtrack -- next --help``: `only_the_invoked_command` stops at ``--`` and keeps every command as
    `--help` lists it; Click then finds ``next``, and the app's group builds the real command."""
    assert run_cli("--", "next", "--help").stdout == run_cli("next", "--help").stdout
    assert "--json" in run_cli("next", "--help").stdout
