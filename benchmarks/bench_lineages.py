"""How long ``readtrack lineage NAME --run --quick`` takes, and what it shows (issue 92: at most 2 minutes
a family on 2 cores).

For each family (all of them, or those named), in a fresh READTRACK_HOME: ``readtrack lineage NAME --run
--quick --json`` as a reader runs it (every member's quick claim and the family bench as one batch, as many
workers as cores unless ``--jobs``), its wall time and the CPU of it and its children, and from the family it
prints last: how many steps held, did not, or have not run, and the members' plugins that ran.

``python benchmarks/bench_lineages.py [NAME ...] [--jobs N]``. Run it on a quiet machine: the times are
whole commands (Python start, the fork servers' torch import, every quick train). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def families() -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "readtrack", "lineage", "--json"], capture_output=True, text=True, check=True
    )
    return [lineage["name"] for lineage in json.loads(done.stdout)]


def measure(name: str, jobs: int | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-lineage-") as home:
        env = {**os.environ, "READTRACK_HOME": home}
        args = [sys.executable, "-m", "readtrack", "lineage", name, "--run", "--quick", "--json"]
        args += ["--jobs", str(jobs)] if jobs else []
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"readtrack lineage {name} --run failed ({done.returncode}): {done.stderr[-400:]}")
    lineage = json.loads(done.stdout.splitlines()[-1])["lineage"]
    verdicts = [m["verdict"] for m in lineage["members"]]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    plugins = sorted({m["plugin"] for m in lineage["members"]})
    return {
        "name": name, "wall": wall, "cpu": cpu, "plugins": len(plugins), "held": verdicts.count("held"),
        "not held": verdicts.count("not held"), "not run": verdicts.count("not run"),
        "none": verdicts.count(None), "exit": done.returncode,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="families (default: every one)")
    parser.add_argument("--jobs", type=int, default=None, help="workers (default: the command's own)")
    args = parser.parse_args()
    rows = [measure(name, args.jobs) for name in args.names or families()]
    print(f"`readtrack lineage NAME --run --quick`, {os.cpu_count()} cores, jobs {args.jobs or 'default'}\n")
    print("| family | plugins | wall s | CPU s | held | not held | not run | no number | exit |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['name']} | {r['plugins']} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['held']} | "
            f"{r['not held']} | {r['not run']} | {r['none']} | {r['exit']} |"
        )


if __name__ == "__main__":
    main()
