"""The two numbers of issue 55: how fast a bad knob is answered, and what a sweep costs beyond its runs.

1. ``readtrack run rmsnorm --set nosuch=1`` (exit 2, before torch is imported) and ``readtrack knobs
   rmsnorm``, beside ``python -c "import typer, rich"`` (the floor of any typer CLI): medians of
   ``--repeat`` runs of whole commands. Goal: an invalid knob answered in under 0.3 s.
2. A sweep of 6 settings × 3 seeds of rmsnorm's quick run (``--set norm=rms,layer,none --set steps=50,100
   --seeds 0-2 --jobs 2``): its wall time against the 18 runs' own durations summed and halved (two
   workers on two cores can do no better), and against the same 18 runs made one command at a time (python
   start and torch import included, as a reader runs them), halved. Goal: ≤ 1.2×.

``--seeds`` and ``--steps`` make the sweep smaller, ``--only STAGE`` its runs: ``--repeat 1 --seeds 1
--steps 5 --only train`` (3 settings and the defaults × seed 0, train only) is the script's smallest run.

Run it on a quiet machine: ``python benchmarks/bench_knobs.py [--repeat 7] [--skip-sweep] [--seeds 0-2]
[--steps 50,100]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench_runs import readtrack


def wall(argv: list[str], home: str) -> float:
    env = {**os.environ, "READTRACK_HOME": home}
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, env=env, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument("--seeds", default="0-2", help="the sweep's seeds: 0-2, 0,3 or a count (default 0-2)")
    parser.add_argument("--steps", default="50,100", help="the sweep's values of steps (default 50,100)")
    parser.add_argument(
        "--only",
        choices=("check", "train", "bench"),
        help="the one stage every run of the sweep runs (default: all)",
    )
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="bench-knobs-")
    cli = [sys.executable, "-m", "readtrack"]
    commands = {
        'python -c "import typer, rich"': [sys.executable, "-c", "import typer, rich"],
        "readtrack run rmsnorm --set nosuch=1": [*cli, "run", "rmsnorm", "--set", "nosuch=1"],
        "readtrack run rmsnorm --set steps=0": [*cli, "run", "rmsnorm", "--set", "steps=0"],
        "readtrack knobs rmsnorm": [*cli, "knobs", "rmsnorm"],
    }
    wall(commands["readtrack knobs rmsnorm"], home)  # warm the file cache and the bytecode
    print(f"| command | median of {args.repeat} (s) | min (s) |\n| --- | ---: | ---: |")
    for label, argv in commands.items():
        times = [wall(argv, home) for _ in range(args.repeat)]
        print(f"| `{label}` | {statistics.median(times):.3f} | {min(times):.3f} |")
    if args.skip_sweep:
        return
    only = ["--only", args.only] if args.only else []
    sweep = [
        "run",
        "rmsnorm",
        "--quick",
        *only,
        "--set",
        "norm=rms,layer,none",
        "--set",
        f"steps={args.steps}",
    ]
    took, events = readtrack(*sweep, "--seeds", args.seeds, "--jobs", "2", "--yes", home=home)
    runs = [e["record"] for e in events if e.get("type") == "seed_record"]
    summed = sum(r["duration_s"] for r in runs)
    print(f"\nsweep: {len(runs)} runs, wall {took:.1f} s, the runs' own durations summed {summed:.1f} s")
    print(f"wall / (summed / 2) = {took / (summed / 2):.2f} (goal ≤ 1.2)")
    alone = 0.0  # the same runs (18 by default), each its own command one after another, as a reader does
    for run in runs:
        info = run["info"]
        turned = [f"--set={key}={value}" for key, value in (info.get("settings") or {}).items()]
        alone += readtrack(
            "run", "rmsnorm", "--quick", *only, "--seed", str(info["seed"]), *turned, home=home
        )[0]
    print(f"the same runs one command at a time: {alone:.1f} s; wall / (that / 2) = {took / (alone / 2):.2f}")


if __name__ == "__main__":
    main()
