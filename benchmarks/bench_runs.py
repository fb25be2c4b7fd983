"""How runs behave on a busy machine and in parallel: the three numbers of issue 28.

1. Load: ``readtrack run rope --quick --only train`` idle, then beside two busy CPU-bound processes, with
   the default policy (one thread) and with ``--threads 2``: the loaded/idle ratio of each.
2. The shelf: ``readtrack run A B C ... --quick --jobs 2`` against the sum of the same plugins' quick runs one
   after another (each its own command, as a reader runs them), and whether every metric is identical.
3. Seeds: ``readtrack run rope --quick --seeds 0-4 --jobs 2`` against one seed's run.

Run it on a quiet machine (nothing else busy): ``python benchmarks/bench_runs.py [--repeat 3] [--all]``.
Wall times of whole commands (python start and torch import included), medians of ``--repeat`` runs.
``--plugin NAME`` times another plugin than rope in 1 and 3, ``--shelf A,B`` another shelf in 2 (two plugins
at least: one plugin's run is no batch, and 2 compares batches). With two tiny plugins (tests/fake_plugins.py
in ``READTRACK_PLUGINS_DIR``), ``--repeat 1 --plugin P --shelf P,Q --busy 0`` is the smallest run of the whole
script (``--busy N``: 1's busy processes, two by default; none makes its ratio about 1, every step still run).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SHELF = ["rope", "vit", "clip", "resnet", "gan", "rtrbm"]  # quick runs of 5-10 s each


def readtrack(*args: str, home: str) -> tuple[float, list[dict[str, Any]]]:
    """Run ``readtrack ARGS --json``; its wall time and JSON events."""
    env = {**os.environ, "READTRACK_HOME": home}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "readtrack", *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"readtrack {' '.join(args)} failed ({done.returncode}): {done.stderr[-500:]}")
    return wall, [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


@contextmanager
def busy(processes: int) -> Iterator[None]:
    """``processes`` CPU-bound Python loops beside whatever runs in the block."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        time.sleep(0.5)
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def median_wall(repeat: int, *args: str, home: str) -> float:
    return statistics.median(readtrack(*args, home=home)[0] for _ in range(repeat))


def numbers(record: dict[str, Any]) -> list[tuple[str, float]]:
    return [
        (item["name"], item["value"])
        for stage in record["stages"]
        for item in (*stage["targets"], *stage["measured"])
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (median)")
    parser.add_argument("--all", action="store_true", help="the shelf ratio over every plugin, not six")
    parser.add_argument("--plugin", default="rope", help="the plugin of 1 and 3 (default rope)")
    parser.add_argument("--shelf", default=",".join(SHELF), help="2's plugins, comma-separated")
    parser.add_argument(
        "--busy", type=int, default=2, help="1's CPU-bound processes beside the run (default 2)"
    )
    options = parser.parse_args()
    home = tempfile.mkdtemp(prefix="bench-runs-")
    name = options.plugin
    train = ("run", name, "--quick", "--only", "train", "--device", "cpu")

    print(f"1. {name} quick train (s): idle, beside {options.busy} busy processes, ratio")
    rows = []
    for label, extra in (("default (1 thread)", ()), ("--threads 2", ("--threads", "2"))):
        idle = median_wall(options.repeat, *train, *extra, home=home)
        with busy(options.busy):
            loaded = median_wall(options.repeat, *train, *extra, home=home)
        rows.append((label, idle, loaded))
        print(f"   {label:<20} idle {idle:6.1f}  loaded {loaded:6.1f}  ratio {loaded / idle:4.2f}x")

    plugins = options.shelf.split(",")
    if options.all:
        from readtrack.plugins.discovery import discover

        plugins = [p.name for p in discover() if p.status == "ok"]
    print(f"2. the shelf: {len(plugins)} plugins, quick")
    sequential, alone = 0.0, {}
    for plugin in plugins:
        wall, events = readtrack("run", plugin, "--quick", "--device", "cpu", home=home)
        sequential += wall
        alone[plugin] = numbers(events[-1]["record"])
    wall, events = readtrack("run", *plugins, "--quick", "--device", "cpu", "--jobs", "2", home=home)
    together = {e["plugin"]: numbers(e["record"]) for e in events if e["type"] == "plugin_done"}
    same = all(together.get(p) == alone[p] for p in plugins)
    print(f"   sequential sum {sequential:6.1f}  --jobs 2 {wall:6.1f}  ratio {wall / sequential:4.2f}x")
    print(f"   every metric identical to its sequential run: {same}")

    print(f"3. {name} quick, seeds 0-4 with --jobs 2 against seed 0 alone")
    one = median_wall(options.repeat, "run", name, "--quick", "--device", "cpu", home=home)
    five = median_wall(
        options.repeat,
        "run",
        name,
        "--quick",
        "--device",
        "cpu",
        "--seeds",
        "0-4",
        "--jobs",
        "2",
        home=home,
    )
    print(f"   one seed {one:6.1f}  five seeds {five:6.1f}  ratio {five / one:4.2f}x")

    print()
    print("| measure | value | target |")
    print("|---|---|---|")
    print(f"| {name} quick train loaded/idle, default policy | {rows[0][2] / rows[0][1]:.2f}x | ≤ 2x |")
    print(f"| {name} quick train loaded/idle, --threads 2 | {rows[1][2] / rows[1][1]:.2f}x | (reference) |")
    print(f"| shelf of {len(plugins)} with --jobs 2 / sequential sum | {wall / sequential:.2f}x | ≤ 0.6x |")
    print(f"| shelf metrics identical to sequential | {same} | True |")
    print(f"| --seeds 0-4 --jobs 2 / one seed | {five / one:.2f}x | ≤ 3x |")


if __name__ == "__main__":
    main()
