"""How long a learner waits in ``readtrack practice`` (issue 40's numbers).

1. ``readtrack practice NAME --check`` for every plugin with exercises, the workspace holding the model
   solution (so the whole check runs): wall time of the whole command, Python start, the worker process and
   its torch import included. Issue 40's budget: at most 5 s each on the 2-core machine.
2. ``readtrack practice`` (the list of exercises and statuses) against ``readtrack list``: the list must be no
   slower.

``python benchmarks/bench_practice.py [--repeat 3] [NAME ...]``; medians of ``--repeat`` runs (the lists: of
3 × that), each in a fresh READTRACK_HOME. Prints a Markdown table for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from readtrack import practice


def solution(plugin: practice.PracticePlugin, path: Path) -> None:
    """Write the model solution where the learner's workspace goes: the plugin's ``model.py`` and, for an
    exercise on a function of another module (``Exercise.module``: r-cnn's ``nms``), that function's source
    after it, with the module's names imported as the workspace's stub imports them."""
    parts = [plugin.model_file.read_text(encoding="utf-8")]
    for exercise in plugin.exercises:
        if exercise.module:
            module = importlib.import_module(exercise.module)
            parts.append(f"from {exercise.module} import *  # noqa: F403\n")
            parts.append(inspect.getsource(getattr(module, exercise.target)))
    path.write_text("\n\n".join(parts), encoding="utf-8")


def timed(*args: str, home: str) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, the worker process's included) and exit code of
    ``readtrack ARGS``. On a busy machine the CPU time is the steadier number."""
    env = {**os.environ, "READTRACK_HOME": home, "NO_COLOR": "1"}
    env.pop("READTRACK_CATALOG", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "readtrack", *args], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="plugins (default: every plugin with exercises)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    plugins = [p for p in practice.practice_plugins() if not args.names or p.name in args.names]
    home = tempfile.mkdtemp(prefix="bench-practice-")
    try:
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print()
        print("| plugin | exercise(s) | `practice NAME --check` wall s | CPU s | exit | wall ≤ 5 s |")
        print("|---|---|---:|---:|---:|:-:|")
        for plugin in plugins:
            folder = Path(home) / "ws" / plugin.name
            folder.mkdir(parents=True)
            solution(plugin, folder / "model.py")  # the model solution: the whole check runs
            runs = [
                timed("practice", plugin.name, "--check", "--dir", str(folder), home=home)
                for _ in range(args.repeat)
            ]
            wall = statistics.median(t for t, _, _ in runs)
            cpu = statistics.median(c for _, c, _ in runs)
            codes = ",".join(str(code) for code in sorted({code for _, _, code in runs}))
            ok = "✓" if wall <= 5 and codes == "0" else "✗"
            print(
                f"| {plugin.name} | {', '.join(plugin.targets)} | {wall:.2f} | {cpu:.2f} | {codes} | {ok} |",
                flush=True,
            )
        print()
        print("| command | wall s (median) | CPU s (median) |")
        print("|---|---:|---:|")
        for command in ("list", "practice"):
            runs = [timed(command, home=home) for _ in range(3 * args.repeat)]
            wall = statistics.median(t for t, _, _ in runs)
            cpu = statistics.median(c for _, c, _ in runs)
            print(f"| `readtrack {command}` | {wall:.3f} | {cpu:.3f} |")
        print(f"\nload average after: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
