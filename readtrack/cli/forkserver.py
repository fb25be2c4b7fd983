"""A worker that imports torch once and forks a fresh child for each run it is given (Linux only).

A batch or sweep (`readtrack.runner.workers`) used to start one ``python -m readtrack run … --json`` per run,
and each spent about two seconds importing torch, the CLI and the plugin before its first step: a quick run's
sweep paid that on every one of its runs. This server pays it once per worker. Started as
``python -m readtrack.cli.forkserver``, it imports torch and the run machinery (never touching CUDA, so a
child may still use it), then reads one job per line on stdin, a JSON list of ``readtrack`` arguments
(``["run", "rmsnorm", "--json", "--seed", "3", ...]``), and for each:

1. imports the plugin named by the job (once per plugin: later children inherit it);
2. forks; the child runs exactly the command ``readtrack ARGS`` would, in a copy of a process that has run
   nothing yet, its stdout and stderr the server's, stdin closed, and exits with its exit code;
3. waits for the child and writes ``{"type": "forkserver", "exit": CODE}`` on stdout: the job's end.

So every run still starts from a pristine process (a crash, a hang or a change to torch's global state
dies with its child) and gives the numbers it gives alone (``tests/cli/test_forkserver.py``). The server
exits at the end of stdin. SIGTERM to its process group stops the server and the child; the child records
its run as cancelled, as a run stopped by SIGTERM does.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence

from readtrack.runner.workers import END


def preload(args: Sequence[str]) -> None:
    """Import the plugin that ``args`` runs, so the children forked for it start with it imported. A plugin
    that fails to load is left to its child, which reports it as the run would."""
    if len(args) < 2 or args[0] != "run" or args[1].startswith("-"):
        return
    from readtrack.plugins import discovery as plugins

    try:
        plugins.load_plugin(args[1])
    except Exception:  # the child meets the same error and reports it in its own words
        return


def run_child(args: Sequence[str]) -> int:
    """In the forked child: run ``readtrack ARGS`` and return its exit code."""
    from readtrack.cli.launch import main

    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.argv = ["readtrack", *args]
    code: object = 0
    try:
        main()
    except SystemExit as stop:
        code = stop.code
    except BaseException:  # what the command did not handle: as an uncaught error in a process of its own
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message"): printed, exit 1, as Python does
    return 1


def serve() -> None:
    """Read jobs from stdin until it ends; fork, wait and report each (the module docstring)."""
    import torch  # noqa: F401  (the point of the server: imported once, inherited by every child)

    import readtrack.cli.app
    import readtrack.runner.calibration
    import readtrack.runner.history
    import readtrack.runner.run  # noqa: F401  (what every run imports on its way to its first stage)

    for line in sys.stdin:
        if not line.strip():
            continue
        args = [str(a) for a in json.loads(line)]
        preload(args)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = run_child(args)
            finally:
                os._exit(code & 0xFF if code >= 0 else 1)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        print(json.dumps({"type": END, "exit": code}), flush=True)


if __name__ == "__main__":
    serve()
