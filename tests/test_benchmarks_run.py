"""Every benchmark runs (issue 96, item 4): each ``benchmarks/bench_*.py`` at its smallest size, in a
subprocess as a reader starts it, must exit 0 and print its table. No time is asserted: these prove the
scripts still work against the code they measure (a moved file, a renamed hook, a paper that gained a second
plugin), not that anything is fast.

Each case runs from the repository's root with a data dir of its own, no READTRACK_* variable of the test
process (as a reader's shell has none) and temporary files under the test's folder. Every server a benchmark
talks to is a fake of tests/ on 127.0.0.1, and arXiv and Semantic Scholar point at a closed port of
127.0.0.1 for any benchmark that would not set them itself.

`CASES` is the table: each script's smallest case and the line it always prints. Their wall times on the
2-core VM (``-n0``): knobs 15.9 s and runs 17.6 s (both slow: torch runs, whole commands), sync 8.4 s (slow:
100 downloads with 50 ms of latency), startup --commands 7.5 s, tui 6.4 s, catalog 3.4 s, plugins_listing
3.1 s, feed 2.4 s, practice 2.2 s, paper_view 2.0 s, startup 1.3 s, search 1.0 s, library_import 0.7 s,
next 0.6 s, import 0.2 s. `SKIPPED` says why bench_executors.py (Ray) and bench_suite.py (the whole suite)
are not run here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_plugins import write_plugin

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"
#: where a benchmark that sets no server of its own would reach out: a closed port of this machine
NOWHERE = "http://127.0.0.1:9"


@dataclass(frozen=True)
class Case:
    script: str
    args: tuple[str, ...]
    prints: str  # part of a line of the table the script prints at every size
    plugins: tuple[str, ...] = ()  # tiny plugins (tests/fake_plugins.py) in READTRACK_PLUGINS_DIR
    slow: bool = False  # over ~10 s on 2 cores

    @property
    def id(self) -> str:
        return " ".join((self.script.removesuffix(".py"), *self.args))


CASES = [
    Case("bench_catalog.py", ("--runs", "1"), "splice edit (in-process)"),  # 1,000 and 10,000 papers: fixed
    Case(
        "bench_feed.py",
        ("--seeds", "1", "--repeat", "1", "--window", "50", "--windows", "1", "--draws", "1"),
        "| readtrack total |",
    ),
    Case("bench_import.py", ("--runs", "1", "--papers", "20"), "readtrack import (new papers.yaml)"),
    Case(
        "bench_knobs.py",
        (
            "--repeat",
            "1",
            "--seeds",
            "1",
            "--steps",
            "5",
            "--only",
            "train",
        ),  # a sweep of 4 runs, then each alone
        "the same runs one command at a time",
        slow=True,
    ),
    Case("bench_library_import.py", ("--runs", "1", "--items", "20"), "| Zotero |"),
    Case("bench_next.py", ("--delay", "0", "--read", "1"), "warm cache"),
    Case("bench_paper_view.py", ("--runs", "1"), "in-app, later opens"),
    Case("bench_plugins_listing.py", ("--runs", "1"), "readtrack plugins --json"),
    Case("bench_practice.py", ("--repeat", "1", "rmsnorm"), "| `readtrack practice` |"),
    Case(
        "bench_runs.py",
        (
            "--repeat",
            "1",
            "--plugin",
            "tiny",
            "--shelf",
            "tiny,tiny2",
            "--busy",
            "0",
        ),  # a shelf of one is no batch; no spinner: a core's worth of CPU for a ratio nobody reads here
        "| shelf metrics identical to sequential |",
        plugins=("tiny", "tiny2"),
        slow=True,
    ),
    Case(
        "bench_search.py",
        ("--papers", "50", "--pdfs", "2", "--pages", "1", "--distinct", "1", "--runs", "1"),  # marks paper-29
        "update after mark",
    ),
    Case("bench_startup.py", ("--pairs", "2", "--papers", "10", "--phases", "--imports"), "list / baseline:"),
    Case("bench_startup.py", ("--commands", "--pairs", "1", "--imports"), "show rmsnorm"),
    # fixed sizes: 100 downloads with 50 ms of latency, one at a time, are most of its 10 s
    Case("bench_sync.py", ("--runs", "1"), "total bytes served / file size", slow=True),
    Case("bench_tui.py", ("--runs", "1"), "filter work per key (worst)"),
]

SKIPPED = {
    "bench_executors.py": (
        "needs Ray: it starts a Ray of its own and a two-node cluster (on 127.0.0.1), and its 18-run "
        "sweep has no smaller size; even `--skip-sweep --short 2 --repeat 1` takes about 42 s on 2 cores, "
        "8 of them Ray's start. tests/batch/test_ray.py covers the Ray executor"
    ),
    "bench_lineages.py": (
        "runs every member's quick claim of each family (a minute or more a family on 2 cores), and has no "
        "smaller case than a family; tests/cli/test_lineage.py runs `lineage --run` on a tiny family"
    ),
    "bench_suite.py": "runs the whole test suite (`pytest -n auto`): no smaller case, and not from inside it",
}


def test_every_benchmark_has_a_smallest_case_or_a_reason() -> None:
    scripts = {path.name for path in BENCHMARKS.glob("bench_*.py")}
    covered = {case.script for case in CASES} | set(SKIPPED)
    assert scripts - covered == set(), "a benchmark with no smallest case and no reason"
    assert covered - scripts == set(), "a case of a benchmark that is gone"
    assert not {case.script for case in CASES} & set(SKIPPED)


def environment(case: Case, folder: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("READTRACK_")}
    (folder / "home").mkdir()
    (folder / "tmp").mkdir()
    env |= {
        "READTRACK_HOME": str(folder / "home"),
        "READTRACK_ARXIV_API": NOWHERE,
        "READTRACK_S2_URL": NOWHERE,
        "READTRACK_S2_RECS_URL": NOWHERE,
        "TMPDIR": str(folder / "tmp"),  # what a benchmark leaves in its mkdtemp() goes with the test's folder
        "OMP_NUM_THREADS": "1",  # as bench_feed.py asks; torch's runs set their own threads
        "NO_COLOR": "1",
    }
    if case.plugins:
        for name in case.plugins:
            write_plugin(folder / "plugins", name)
        env["READTRACK_PLUGINS_DIR"] = str(folder / "plugins")
    return env


@pytest.mark.parametrize(
    "case",
    [pytest.param(case, id=case.id, marks=[pytest.mark.slow] if case.slow else []) for case in CASES]
    + [
        pytest.param(Case(script, (), ""), id=script.removesuffix(".py"), marks=pytest.mark.skip(reason=why))
        for script, why in SKIPPED.items()
    ],
)
def test_a_benchmark_runs_at_its_smallest_and_prints_its_table(case: Case, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / case.script), *case.args],
        cwd=REPO,
        env=environment(case, tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    assert done.returncode == 0, report
    assert any(case.prints in line for line in done.stdout.splitlines()), report
