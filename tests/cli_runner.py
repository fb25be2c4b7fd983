"""Running the real readtrack CLI as a user would (imported by tests and conftest): `run_cli`.

A command that only reads and writes the reader's files (`IN_PROCESS`: listing, marking, notes, import and
export, sync, the citation graph, the feed, search, history, pictures) runs in this process, through the same
``readtrack.cli.app.main`` as the script, with its own argv, environment, working directory, standard streams
(not terminals, as in a pipe) and signal handlers, all put back after (issue 91: a subprocess cost each
of them a Python start and readtrack's imports). So does one `readtrack run` of one plugin on one seed
(`_one_run`: it runs in the command's own process, as here; a subprocess cost it torch's import too). Every
other command, the ones that start workers (batches, sweeps, practice's grader) or plugin code of their
own, runs in a subprocess as before, and so does any command given ``process=True``, where the
process boundary is what a test is about (exit on a signal or a closed pipe, what a start imports), or an
``env`` that sets a ``PYTHON*`` variable, which only a fresh interpreter reads.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

import pytest

#: The commands that run in the test's process (besides `_one_run`): none of them imports torch or a plugin's
#: modules (``knobs`` and ``plugins`` import their declarations and configs, which a subprocess reads afresh
#: after a test edits them), runs plugin code or starts a worker.
IN_PROCESS = frozenset(
    {
        "list", "show", "mark", "note", "tag", "add", "init", "import", "export", "sync", "stats", "search",
        "history", "compare", "refs", "cites", "next", "feed", "plot", "move",
    }
)  # fmt: skip


def run_cli(
    *args: str,
    input: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 600,
    process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run `readtrack ARGS` with the test's environment: in this process when its command is one of
    `IN_PROCESS` (and ``process`` is false), else as `python -m readtrack ARGS` in a real subprocess.

    ``timeout`` only guards a subprocess against a hang: it is generous, since a loaded 2-core machine makes a
    command that takes 2 s alone take many times that; a command past it fails the test saying so."""
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120", **(env or {})}
    start = time.perf_counter()
    fresh_interpreter = any(key.startswith("PYTHON") for key in env or {})  # -X importtime, a path, ...
    here = _command(args) in IN_PROCESS or _one_run(args, env) or _lineage_shown(args)
    if not process and not fresh_interpreter and here:
        try:
            return in_process(args, input, full_env, cwd)
        finally:
            _logged(args, time.perf_counter() - start, in_process=True)
    try:
        return subprocess.run(
            [sys.executable, "-m", "readtrack", *args],
            input=input,
            capture_output=True,
            text=True,
            env=full_env,
            cwd=cwd,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as err:
        pytest.fail(
            f"`readtrack {' '.join(args)}` was still running after {timeout:g} s (a hang?): {err.stderr!r}"
        )
    finally:
        _logged(args, time.perf_counter() - start, in_process=False)


#: ``readtrack run``'s options that take a value, and those that make a batch (worker processes, a cluster)
_RUN_VALUES = frozenset(
    {
        "-d", "--device", "--seed", "--seeds", "--only-tag", "-s", "--section", "-j", "--jobs", "--executor",
        "--address", "--max", "--threads", "--only", "--timeout", "--impl", "--set", "--plot", "--resume",
        "--catalog",
    }
)  # fmt: skip
_RUN_BATCH = frozenset(
    {"--seeds", "--all", "-j", "--jobs", "--executor", "--address", "--resume", "--retry-failed"}
)


def _lineage_shown(args: tuple[str, ...]) -> bool:
    """Whether ``args`` are `readtrack lineage` showing (no ``--run``: that one starts a batch's workers)."""
    return _command(args) == "lineage" and "--run" not in args


def _one_run(args: tuple[str, ...], env: dict[str, str] | None) -> bool:
    """Whether ``args`` are one `readtrack run` of one plugin on one seed, which runs in the command's own
    process (no batch, no sweep) and so may run in this one (issue 91: a subprocess cost each a Python start
    and torch's import, ~1.5 CPU-s). Not when ``env`` sets anything but readtrack's own variables: torch
    reads ``OMP_NUM_THREADS`` and its kin only as it is imported, which a fresh process alone does."""
    if _command(args) != "run" or any(
        k not in ("NO_COLOR", "COLUMNS") and not k.startswith("READTRACK_") for k in env or {}
    ):
        return False
    names, rest = [], iter(args[args.index("run") + 1 :])
    for arg in rest:
        if arg in _RUN_BATCH or arg.split("=", 1)[0] in _RUN_BATCH:
            return False
        if arg == "--set":
            if "," in next(rest, ""):
                return False  # a sweep
        elif arg in _RUN_VALUES:
            next(rest, None)
        elif not arg.startswith("-"):
            names.append(arg)
    return len(names) == 1


def _command(args: tuple[str, ...]) -> str:
    """The command ``args`` name (after ``--catalog PATH`` and ``--debug``), or ""."""
    rest = iter(args)
    for arg in rest:
        if arg == "--catalog":
            next(rest, None)
        elif not arg.startswith("-"):
            return arg
    return ""


class _Stream(io.StringIO):
    """A standard stream as a pipe shows it: text, no terminal, and the encoding a subprocess's pipe has."""

    encoding = "utf-8"

    def isatty(self) -> bool:
        return False


def in_process(
    args: tuple[str, ...], input: str | None, env: dict[str, str], cwd: Path | None
) -> subprocess.CompletedProcess[str]:
    """`readtrack.cli.app.main` run here as the script runs it, everything it could change put back."""
    import signal

    from readtrack.cli import app as cli

    saved_env, saved_argv, saved_cwd = dict(os.environ), sys.argv, os.getcwd()
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    saved_commands = list(cli.app.registered_commands)  # `only_the_invoked_command` keeps one
    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM, signal.SIGPIPE)
    saved_handlers = {sig: signal.getsignal(sig) for sig in handled}
    out, err = _Stream(), _Stream()
    code: int = 0
    try:
        os.environ.clear()
        os.environ.update(env)
        if _command(args) == "run":  # a fresh process imports the plugins afresh: edits between runs show
            from readtrack.plugins import discovery

            discovery.discovery(refresh=True)
        sys.argv = ["readtrack", *args]
        if cwd is not None:
            os.chdir(cwd)
        sys.stdin, sys.stdout, sys.stderr = _Stream(input or ""), out, err
        try:
            cli.main()
        except SystemExit as done:
            if isinstance(done.code, str):
                print(done.code, file=err)
                code = 1
            else:
                code = done.code or 0
        except Exception:  # what the interpreter does with an uncaught one: its traceback, exit 1
            traceback.print_exc(file=err)
            code = 1
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.chdir(saved_cwd)
        sys.argv = saved_argv
        os.environ.clear()
        os.environ.update(saved_env)
        cli.app.registered_commands = saved_commands
        if threading.current_thread() is threading.main_thread():  # only it may set them (and a command)
            for sig, handler in saved_handlers.items():
                if handler is not None:
                    signal.signal(sig, handler)
    return subprocess.CompletedProcess(["readtrack", *args], code, out.getvalue(), err.getvalue())


def _logged(args: tuple[str, ...], seconds: float, *, in_process: bool) -> None:
    """One line per CLI command into the suite's profile, while `benchmarks/bench_suite.py` runs it."""
    folder = os.environ.get("READTRACK_SUITE_TIMELINE")
    if folder:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        row = {"command": _command(args), "seconds": seconds, "in_process": in_process, "args": list(args)}
        with open(Path(folder) / f"cli-{worker}.jsonl", "a", encoding="utf-8") as log:
            log.write(json.dumps(row) + "\n")


def interruptible(*args: str, sigint_ignored: bool = False) -> list[str]:
    """The command line of `readtrack ARGS` for a test that sends it SIGINT: Python's own handler
    (KeyboardInterrupt) installed whatever this process's disposition, since pytest started as a background
    job of a non-interactive shell runs with SIGINT ignored and its children would inherit that; or, with
    ``sigint_ignored``, started the way such a job starts. SIGTERM and SIGHUP as a terminal's shell leaves
    them (not ignored, as under ``nohup``)."""
    handler = "signal.SIG_IGN" if sigint_ignored else "signal.default_int_handler"
    code = (
        f"import runpy, signal, sys; signal.signal(signal.SIGINT, {handler}); "
        "signal.signal(signal.SIGTERM, signal.SIG_DFL); signal.signal(signal.SIGHUP, signal.SIG_DFL); "
        f"sys.argv = ['readtrack', *{list(args)!r}]; runpy.run_module('readtrack', run_name='__main__')"
    )
    return [sys.executable, "-c", code]
