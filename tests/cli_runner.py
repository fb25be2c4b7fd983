"""Running the real readtrack CLI in a subprocess, as a user would (imported by tests and conftest)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest


def run_cli(
    *args: str,
    input: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m readtrack ARGS` in a real subprocess with the test's environment.

    ``timeout`` only guards against a hang: it is generous, since a loaded 2-core machine makes a command
    that takes 2 s alone take many times that; a command past it fails the test saying so."""
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120", **(env or {})}
    start = time.perf_counter()
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
        _logged(args, time.perf_counter() - start)


def _logged(args: tuple[str, ...], seconds: float) -> None:
    """One line per CLI subprocess into the suite's profile, while `benchmarks/bench_suite.py` runs it."""
    folder = os.environ.get("READTRACK_SUITE_TIMELINE")
    if folder:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        command = next((a for a in args if not a.startswith("-")), "")
        with open(Path(folder) / f"cli-{worker}.jsonl", "a", encoding="utf-8") as log:
            log.write(json.dumps({"command": command, "seconds": seconds}) + "\n")


def interruptible(*args: str, sigint_ignored: bool = False) -> list[str]:
    """The command line of `readtrack ARGS` for a test that sends it SIGINT: Python's own handler
    (KeyboardInterrupt) installed whatever this process's disposition, since pytest started as a background
    job of a non-interactive shell runs with SIGINT ignored and its children would inherit that; or, with
    ``sigint_ignored``, started the way such a job starts."""
    handler = "signal.SIG_IGN" if sigint_ignored else "signal.default_int_handler"
    code = (
        f"import runpy, signal, sys; signal.signal(signal.SIGINT, {handler}); "
        f"sys.argv = ['readtrack', *{list(args)!r}]; runpy.run_module('readtrack', run_name='__main__')"
    )
    return [sys.executable, "-c", code]
