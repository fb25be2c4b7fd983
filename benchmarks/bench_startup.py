"""`readtrack list` start-up against the floor of any Typer CLI, paired: issue 56's target is
`list` on a 1,000-paper list at most 1.5x ``python -c "import typer, rich"``, issue 87's at most 1.35x.

Each pair runs the two commands back to back, in alternating order, so a busy moment of the machine slows
both sides of a pair; the table gives the medians, the median of the per-pair ratios and its spread. Both
run warm: the list's model cache is filled by one run first, as every second `list` finds it, and both run
from compiled bytecode, kept under a temporary ``PYTHONPYCACHEPREFIX`` even where ``PYTHONDONTWRITEBYTECODE``
is set (an installed readtrack has its .pyc files; compiling 60 modules on every start is not what a user
waits for). With ``--imports`` it also prints what `list` imports beyond typer and rich, by cumulative
import time (``python -X importtime``), the place to look when the ratio grows.

With ``--phases`` it also times, in one fresh process, each phase of what `list` does after Python's start
(best of 8): typer and rich, readtrack's imports, Typer's command, loading and linking the list, the table.

Run: python benchmarks/bench_startup.py [--pairs 30] [--papers 1000] [--imports] [--phases]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_catalog import make_catalog

BASELINE = [sys.executable, "-c", "import typer, rich"]
LIST = [sys.executable, "-m", "readtrack", "list"]


def once(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def paired(env: dict[str, str], pairs: int) -> tuple[list[float], list[float]]:
    base, listed = [], []
    for i in range(pairs):
        if i % 2:
            listed.append(once(LIST, env))
            base.append(once(BASELINE, env))
        else:
            base.append(once(BASELINE, env))
            listed.append(once(LIST, env))
    return base, listed


def imports_beyond_baseline(env: dict[str, str], top: int = 15) -> list[tuple[str, float]]:
    """The modules `list` imports that ``import typer, rich`` does not, by cumulative microseconds."""

    def cumulative(cmd: list[str]) -> dict[str, float]:
        err = subprocess.run(
            [cmd[0], "-X", "importtime", *cmd[1:]], env=env, capture_output=True, text=True, check=True
        ).stderr
        found = {}
        for line in err.splitlines():
            m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
            if m:
                found[m[3]] = float(m[1])
        return found

    base, listed = cumulative(BASELINE), cumulative(LIST)
    extra = {name: us for name, us in listed.items() if name not in base and "." not in name}
    extra |= {
        name: us for name, us in listed.items() if name.startswith("readtrack") and name.count(".") <= 1
    }
    return sorted(extra.items(), key=lambda kv: -kv[1])[:top]


# `list`'s work, phase by phase, in a fresh process (what `readtrack.cli.app.list_papers` calls, in order)
PHASES = """
import sys, time
marks = [time.perf_counter()]
def mark(): marks.append(time.perf_counter())
import typer, rich; mark()
from readtrack.cli import app; mark()
app.only_the_invoked_command(["list"]); typer.main.get_command(app.app); mark()
from readtrack.catalog.reader import load
from readtrack.plugins import links; mark()
catalog = load(app._catalog_path()); mark()
links.link_plugins(catalog); mark()
from readtrack.render.papers import paper_table
text = paper_table(catalog, catalog.filter(), width=100, nested=True, color=False, cut=True); mark()
print(" ".join(f"{b - a:.6f}" for a, b in zip(marks, marks[1:])))
"""
PHASE_NAMES = (
    "import typer, rich",
    "import readtrack.cli.app",
    "Typer's command (list only)",
    "import the reader and the linker",
    "load the list (cached model)",
    "link its papers to plugins",
    "draw the table",
)


def phases(env: dict[str, str], runs: int = 8) -> list[tuple[str, float]]:
    """The best time of each phase over ``runs`` fresh processes, from the same folder as the paired runs (the
    linker's stamp covers the folder ``-c`` puts on sys.path: nothing may be written there meanwhile)."""
    best = [float("inf")] * len(PHASE_NAMES)
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PHASES], env=env, capture_output=True, text=True, check=True
        ).stdout
        best = [min(b, float(t)) for b, t in zip(best, out.split(), strict=True)]
    return list(zip(PHASE_NAMES, best, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=30)
    parser.add_argument("--papers", type=int, default=1_000)
    parser.add_argument("--imports", action="store_true", help="what list imports beyond typer and rich")
    parser.add_argument("--phases", action="store_true", help="each phase of list's work, best of 8")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Path(tmp) / "papers.yaml"
        catalog.write_text(make_catalog(args.papers))
        env = {**os.environ, "READTRACK_HOME": tmp, "READTRACK_CATALOG": str(catalog), "COLUMNS": "100"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        once(LIST, env)  # the model cache, as any second `list` finds it, and the bytecode of both sides
        once(BASELINE, env)
        base, listed = paired(env, args.pairs)
        ratios = [b and lst / b for b, lst in zip(base, listed, strict=True)]
        print(f"{args.pairs} pairs, {args.papers} papers, {sys.version.split()[0]}, {os.cpu_count()} cores")
        rows = [('python -c "import typer, rich"', base), ("readtrack list", listed)]
        print(f"{'command':<38} {'median':>9} {'min':>9}")
        for label, times in rows:
            print(f"{label:<38} {statistics.median(times) * 1e3:>7.1f}ms {min(times) * 1e3:>7.1f}ms")
        q1, _, q3 = statistics.quantiles(ratios, n=4)
        print(
            f"list / baseline: {statistics.median(listed) / statistics.median(base):.2f}x (medians); "
            f"per pair median {statistics.median(ratios):.2f}x, quartiles {q1:.2f}-{q3:.2f} "
            "(target <= 1.35x, issue 87)"
        )
        if args.phases:
            print("\neach phase of `list`, one fresh process, best of 8:")
            for name, seconds in phases(env):
                print(f"  {seconds * 1e3:7.1f} ms  {name}")
        if args.imports:
            print("\nimported by `list` beyond typer and rich (cumulative):")
            for name, us in imports_beyond_baseline(env):
                print(f"  {us / 1e3:7.1f} ms  {name}")


if __name__ == "__main__":
    main()
