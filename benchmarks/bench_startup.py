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

With ``--commands`` it times, the same way, every torch-free command a reader types as often as `list`
(issue 96's target: each at most 1.3x the floor), on the repository's papers.yaml in a fresh data folder
that holds two recorded runs of rmsnorm, the search index and the citation graph of a local Semantic
Scholar (tests/fakes2.py on 127.0.0.1, so `refs`, `cites` and `next` answer from their cache), each warm:
run once first, so that a command that only reads is replayed (`readtrack.cli.replay`); with ``--first``
each run finds no replay entry, as the first run after its inputs changed does. ``--imports`` then prints,
for each command, what it imports beyond typer and rich.

Run: python benchmarks/bench_startup.py [--pairs 30] [--papers 1000] [--imports] [--phases]
     python benchmarks/bench_startup.py --commands [--first] [--pairs 15] [--imports] [--only show,plugins]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_catalog import make_catalog  # noqa: E402

BASELINE = [sys.executable, "-c", "import typer, rich"]
FORGET = False  # --first: each timed run finds no replay entry (the first run after its inputs changed)
LIST = [sys.executable, "-m", "readtrack", "list"]


#: issue 96's commands, as a reader types them (`--commands`): the same run history, index and cache for all
COMMANDS: dict[str, list[str]] = {
    "list": ["list"],
    "show rmsnorm": ["show", "rmsnorm"],
    "knobs rmsnorm": ["knobs", "rmsnorm"],
    "plugins": ["plugins"],
    "history": ["history"],
    "compare rmsnorm": ["compare", "rmsnorm"],
    "search attention": ["search", "attention"],
    "feed --help": ["feed", "--help"],
    "refs attention": ["refs", "attention"],
    "cites attention": ["cites", "attention"],
    "next": ["next"],
    "doctor": ["doctor"],
}


def once(cmd: list[str], env: dict[str, str], check: bool = True) -> float:
    if FORGET and cmd is not BASELINE:
        shutil.rmtree(Path(env["READTRACK_HOME"]) / "cache" / "replay", ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def paired(env: dict[str, str], pairs: int, command: list[str] = LIST) -> tuple[list[float], list[float]]:
    base, timed = [], []
    for i in range(pairs):
        if i % 2:
            timed.append(once(command, env))
            base.append(once(BASELINE, env))
        else:
            base.append(once(BASELINE, env))
            timed.append(once(command, env))
    return base, timed


def imports_beyond_baseline(
    env: dict[str, str], top: int = 15, command: list[str] = LIST
) -> list[tuple[str, float]]:
    """The modules ``command`` imports that ``import typer, rich`` does not, by cumulative microseconds."""

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

    base, listed = cumulative(BASELINE), cumulative(command)
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


def commands_table(pairs: int, only: list[str], imports: bool) -> None:
    """`--commands`: each command against the floor, paired, warm, in one prepared data folder."""
    sys.path.insert(0, str(REPO / "tests"))
    from fakes2 import FakeS2
    from made_records import make_record, store

    chosen = {label: args for label, args in COMMANDS.items() if not only or label.split()[0] in only}
    with tempfile.TemporaryDirectory() as tmp, FakeS2.sample(REPO / "papers.yaml") as server:
        home = Path(tmp)
        catalog = home / "papers.yaml"
        catalog.write_bytes((REPO / "papers.yaml").read_bytes())
        env = {
            **os.environ,
            "READTRACK_HOME": tmp,
            "READTRACK_CATALOG": str(catalog),
            "READTRACK_S2_URL": server.url,
            "READTRACK_S2_RECS_URL": server.recs_url,
            "READTRACK_S2_DELAY": "0",
            "COLUMNS": "100",
            "NO_COLOR": "1",
            "PYTHONPYCACHEPREFIX": str(home / "pycache"),
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["READTRACK_HOME"] = tmp  # `store` writes into the folder's history
        for run_id, started in (("r1", "2026-01-01T10:00:00+00:00"), ("r2", "2026-01-02T10:00:00+00:00")):
            store(make_record("rmsnorm", run_id=run_id, started_at=started))
        for paper in ("attention", "rmsnorm", "bert"):
            once([sys.executable, "-m", "readtrack", "mark", paper, "read"], env)
        once(BASELINE, env)
        print(f"{pairs} pairs per command, the repository's papers.yaml, {sys.version.split()[0]}, "
              f"{os.cpu_count()} cores; floor: python -c \"import typer, rich\"")  # fmt: skip
        print(f"{'command':<20} {'median':>9} {'floor':>9} {'ratio':>6} {'quartiles':>11}")
        for label, args in chosen.items():
            command = [sys.executable, "-m", "readtrack", *args]
            once(command, env, check=False)  # warm: its caches, as the second run of a day finds them
            once(command, env, check=False)
            base, timed = paired(env, pairs, command)
            ratios = [t / b for b, t in zip(base, timed, strict=True)]
            q1, _, q3 = statistics.quantiles(ratios * 2 if len(ratios) == 1 else ratios, n=4)
            took, floor = statistics.median(timed) * 1e3, statistics.median(base) * 1e3
            ratio = statistics.median(ratios)
            print(f"{label:<20} {took:>7.1f}ms {floor:>7.1f}ms {ratio:>5.2f}x {q1:>5.2f}-{q3:<5.2f}")
            if imports:
                for name, us in imports_beyond_baseline(env, 8, command):
                    print(f"{'':<22}{us / 1e3:7.1f} ms  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=30)
    parser.add_argument("--papers", type=int, default=1_000)
    parser.add_argument("--imports", action="store_true", help="what list imports beyond typer and rich")
    parser.add_argument("--phases", action="store_true", help="each phase of list's work, best of 8")
    parser.add_argument("--commands", action="store_true", help="every light command (issue 96), paired")
    parser.add_argument("--only", default="", help="with --commands: these commands only (show,plugins)")
    parser.add_argument(
        "--first", action="store_true", help="with --commands: no replay (each run the first after a change)"
    )
    args = parser.parse_args()
    if args.commands:
        global FORGET
        FORGET = args.first
        only = args.only.split(",") if args.only else []
        commands_table(args.pairs if args.pairs != 30 else 15, only, args.imports)
        return
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
