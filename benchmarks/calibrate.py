"""Calibrate quick targets on many seeds (issue 42): each target's mean, standard deviation, worst seed and
margin in standard deviations, as a Markdown table for benchmarks/RESULTS.md.

``python benchmarks/calibrate.py [NAME ...] [--seeds 0-19] [--jobs 2] [--home DIR] [--no-run]``

Runs ``readtrack run NAME... --quick --only train --seeds S --jobs J --yes`` (one thread per run) in a data
dir of its own (``--home``, default a new temporary one), then reads each plugin's newest multi-seed run from
that history. ``--no-run`` only reads (a calibration already run into ``--home``). The rule the table serves:
a quick target is asserted only when every seed passes and (mean − threshold) / sd ≥ 3.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="plugins (default: every plugin)")
    parser.add_argument("--seeds", default="0-19")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--home", default=None, help="data dir for the runs and their history")
    parser.add_argument("--no-run", action="store_true", help="read the history in --home, run nothing")
    args = parser.parse_args()
    home = args.home or tempfile.mkdtemp(prefix="calibrate-")
    os.environ["READTRACK_HOME"] = home  # before readtrack reads it
    from readtrack import history, plugins
    from readtrack.records import GroupRecord, Target

    names = args.names or [row["name"] for row in plugins.listing() if row["status"] == "ok"]
    if not args.no_run:
        which = names if args.names else ["--all"]
        command = [sys.executable, "-m", "readtrack", "run", *which, "--quick", "--only", "train"]
        command += ["--seeds", args.seeds, "--jobs", str(args.jobs), "--yes"]
        subprocess.run(command, check=False, stdout=subprocess.DEVNULL)
    print(f"seeds {args.seeds}, history in {home}")
    print()
    print(
        "| plugin | quick target | threshold | mean ± sd | worst seed's value | margin (sd) | failing seeds |"
    )
    print("|---|---|---|---|---|---:|---|")
    for name in names:
        groups = [g for g in history.entries(name, limit=5) if isinstance(g, GroupRecord) and g.runs]
        if not groups:
            print(f"| {name} | (no multi-seed run recorded) | | | | | |")
            continue
        per_target: dict[str, list[tuple[int, Target]]] = {}
        for run in groups[0].runs:
            for stage in run.stages:
                for target in stage.targets:
                    per_target.setdefault(target.name, []).append((run.info.seed, target))
        for label, seeded in per_target.items():
            first = seeded[0][1]
            values = [t.value for _, t in seeded]
            mean = statistics.mean(values)
            sd = statistics.stdev(values) if len(values) > 1 else 0.0
            higher, threshold = first.higher_is_better, first.target
            margin = (mean - threshold) * (1 if higher else -1) / sd if sd else float("inf")
            worst = min(values) if higher else max(values)
            failing = ", ".join(str(s) for s, t in seeded if not t.passed) or "–"
            print(
                f"| {name} | {label} | {'≥' if higher else '≤'} {threshold:g} | {mean:.4f} ± {sd:.4f} | "
                f"{worst:.4f} | {margin:.1f} | {failing} |"
            )


if __name__ == "__main__":
    main()
