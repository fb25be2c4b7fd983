"""The test suite's profile: where its minutes go, and whether both cores stay busy to the end (issue 91).

Runs the README's test line's pytest (``pytest -n auto`` unless told otherwise) with the
`benchmarks/suite_timeline.py` plugin, which writes one JSON line per test from the process that ran it,
then prints:

- the whole run: wall time, the CPU it used (pytest and every process it waited for) against the cores';
- each worker: when its first test started and its last ended, how long it ran tests, and the tail, the
  seconds one worker ran alone at the end while the other had nothing left, with the tests of that tail;
- each test file: its tests' seconds split into fixture setup, call and teardown, and the CPU seconds spent
  on them (the worker's own and its waited-for children's) against that wall time;
- the slowest single tests and the xdist groups (a group is a chain one worker runs alone).

A measurement, not a test: nothing is asserted. ``--read DIR`` prints the profile of a run made earlier
(its timeline folder), ``--compare BEFORE`` adds the per-file seconds of an earlier run beside each file.
A fixed workload (`PROBE`) runs before and after the suite: a shared VM's speed moves, so two runs' times
compare only beside their probes.

``--write-durations tests/durations.json`` keeps the seconds of the long tests and groups, the order
`tests/conftest.py` starts them in (longest first). The CLI's subprocesses (`tests/cli_runner.py`) are
counted by command too.

Run: python benchmarks/bench_suite.py [--timeline DIR] [--compare DIR] [--top 25] [-- PYTEST ARGS]
     python benchmarks/bench_suite.py --read DIR [--compare DIR] [--write-durations tests/durations.json]
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
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Test:
    nodeid: str
    worker: str
    group: str | None
    start: float
    end: float
    setup: float
    call: float
    teardown: float
    cpu: float
    outcome: str

    @property
    def file(self) -> str:
        return self.nodeid.split("::", 1)[0]

    @property
    def wall(self) -> float:
        return self.end - self.start


@dataclass
class Worker:
    name: str
    started: float = 0.0
    collected: float = 0.0
    tests: list[Test] = field(default_factory=list)

    @property
    def first(self) -> float:
        return min(t.start for t in self.tests)

    @property
    def last(self) -> float:
        return max(t.end for t in self.tests)

    @property
    def busy(self) -> float:
        return sum(t.wall for t in self.tests)


@dataclass
class Timeline:
    workers: dict[str, Worker]
    wall: float | None = None  # the whole pytest command, as the driver timed it
    cpu: float | None = None  # its CPU seconds and its children's
    machine: float | None = None  # the CPU seconds every process of the machine spent meanwhile (`busy_cpu`)
    cli: list[tuple[str, float]] = field(default_factory=list)  # (command, seconds) of each CLI subprocess
    speed: tuple[float, float] | None = None  # `probe`'s CPU seconds before the run and after it

    @property
    def tests(self) -> list[Test]:
        return [t for w in self.workers.values() for t in w.tests]


def read(folder: Path) -> Timeline:
    workers: dict[str, Worker] = {}
    for path in sorted(folder.glob("*.jsonl")):
        if path.name.startswith("cli-"):
            continue
        worker = workers.setdefault(path.stem, Worker(path.stem))
        for line in path.read_text(encoding="utf-8").splitlines():
            row: dict[str, Any] = json.loads(line)
            event = row["event"]
            if event == "start":
                worker.started = row["time"]
            elif event == "collected":
                worker.collected = row["time"]
            elif event == "test":
                worker.tests.append(
                    Test(
                        row["nodeid"],
                        worker.name,
                        row.get("group"),
                        row["start"],
                        row["end"],
                        row.get("setup", 0.0),
                        row.get("call", 0.0),
                        row.get("teardown", 0.0),
                        row["cpu"] + row["children_cpu"],
                        row.get("outcome", "?"),
                    )
                )
    timeline = Timeline({name: w for name, w in workers.items() if w.tests})
    for path in sorted(folder.glob("cli-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            timeline.cli.append((row["command"], row["seconds"]))
    summary = folder / "run.json"
    if summary.exists():
        whole = json.loads(summary.read_text(encoding="utf-8"))
        timeline.wall, timeline.cpu, timeline.machine = whole["wall"], whole["cpu"], whole.get("machine")
        if "probe" in whole:
            timeline.speed = tuple(whole["probe"])
    return timeline


#: A fixed CPU workload, torch's and Python's, one thread: its CPU seconds say how fast this machine is at the
#: time. A shared VM's speed moves by 10-20 % over an hour (issue 91: the same pure-compute tests took 18 %
#: more CPU in one run than in another), so two runs' times compare only beside their probes.
PROBE = """
import time, torch
torch.set_num_threads(1)
start = time.process_time()
a = torch.randn(256, 256)
for _ in range(3200):
    a = torch.tanh(a @ a.T / 256)
x = 0
for i in range(24_000_000):
    x += i % 7
print(time.process_time() - start)
"""


def probe() -> float:
    """`PROBE`'s CPU seconds, in a fresh process (about 2 s on the developers' VM)."""
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def busy_cpu() -> float | None:
    """The CPU seconds all of this machine's processes have spent since it started (Linux's /proc/stat: every
    column but idle and iowait), or None elsewhere. What the run's own count misses: a process pytest never
    waits for, whose time no rusage collects: a Ray cluster's daemons and workers (raylet, GCS, the
    dashboard's agent, its worker processes and their fork servers), 136 of the ``ray`` group's 176 CPU-s
    alone (issue 91)."""
    try:
        fields = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0].split()[1:]
    except OSError:
        return None
    ticks = [int(f) for f in fields]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def run(folder: Path, pytest_args: list[str]) -> Timeline:
    """The suite, as the README's line runs it, with the timeline plugin loaded."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.jsonl"):
        old.unlink()
    env = {
        **os.environ,
        "READTRACK_SUITE_TIMELINE": str(folder),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "benchmarks"), os.environ.get("PYTHONPATH")])),
    }
    args = pytest_args or ["-n", "auto"]
    command = [sys.executable, "-m", "pytest", "-p", "suite_timeline", *args]
    print("$ " + " ".join(command[2:]), file=sys.stderr)
    first = probe()
    start, before, machine = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN), busy_cpu()
    code = subprocess.run(command, cwd=REPO, env=env, check=False).returncode
    wall, after, machine_after = (
        time.perf_counter() - start,
        resource.getrusage(resource.RUSAGE_CHILDREN),
        busy_cpu(),
    )
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    spent = None if machine is None or machine_after is None else machine_after - machine
    whole = {"wall": wall, "cpu": cpu, "machine": spent, "exit": code, "probe": [first, probe()]}
    (folder / "run.json").write_text(json.dumps(whole), encoding="utf-8")
    print(f"pytest exited {code}", file=sys.stderr)
    return read(folder)


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("-|-".join("-" * w for w in widths))
    for row in rows:
        lines.append(
            " | ".join(
                c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return "\n".join(lines)


def whole(timeline: Timeline) -> str:
    workers = list(timeline.workers.values())
    begin = min(w.started for w in workers)
    end = max(w.last for w in workers)
    busy = sum(w.busy for w in workers)
    cpu = sum(t.cpu for t in timeline.tests)
    lines = [
        f"tests: {len(timeline.tests)} on {len(workers)} workers",
        f"from the first worker's start to the last test's end: {minutes(end - begin)} ({end - begin:.1f} s)",
        f"tests' wall seconds, all workers: {busy:.1f} s; their CPU seconds (own and waited-for children):"
        f" {cpu:.1f} s ({cpu / busy:.0%} of their wall)",
    ]
    cores = len(os.sched_getaffinity(0))
    if timeline.wall is not None and timeline.cpu is not None:
        lines.append(
            f"the pytest command: {minutes(timeline.wall)} ({timeline.wall:.1f} s) wall,"
            f" {timeline.cpu:.1f} CPU-s: {timeline.cpu / timeline.wall:.0%} of one core,"
            f" {timeline.cpu / (timeline.wall * cores):.0%} of this machine's {cores} cores"
        )
        if timeline.machine is not None:
            lines.append(
                "the whole machine meanwhile (/proc/stat: Ray's processes too, and anything else running):"
                f" {timeline.machine:.1f} CPU-s, {timeline.machine / (timeline.wall * cores):.0%} of it"
            )
    if timeline.speed is not None:
        lines.append(
            f"the machine's speed: a fixed workload (PROBE) took {timeline.speed[0]:.2f} CPU-s before the run"
            f" and {timeline.speed[1]:.2f} after; compare two runs' times beside these"
        )
    return "\n".join(lines)


def per_worker(timeline: Timeline, top: int) -> str:
    workers = sorted(timeline.workers.values(), key=lambda w: w.last)
    begin = min(w.started for w in workers)
    rows = [
        [
            w.name,
            f"{w.collected - w.started:.1f}",
            f"{w.first - begin:.1f}",
            f"{w.last - begin:.1f}",
            f"{w.busy:.1f}",
            str(len(w.tests)),
        ]
        for w in workers
    ]
    out = table(["worker", "collect s", "first test at", "last test ends at", "tests' s", "tests"], rows)
    if len(workers) > 1:
        first_done = workers[0].last
        alone = [t for t in workers[-1].tests if t.end > first_done]
        tail = workers[-1].last - first_done
        out += f"\n\ntail: {workers[-1].name} ran alone for {tail:.1f} s after {workers[0].name} had finished"
        if alone:
            out += "; its tests then:\n" + "\n".join(
                f"  {t.wall:6.1f} s  {t.nodeid}" + (f"  [group {t.group}]" if t.group else "")
                for t in sorted(alone, key=lambda t: -t.wall)[:top]
            )
    return out


def per_file(timeline: Timeline, before: Timeline | None, top: int) -> str:
    files: dict[str, list[Test]] = defaultdict(list)
    for test in timeline.tests:
        files[test.file].append(test)
    earlier: dict[str, float] = defaultdict(float)
    for test in before.tests if before else []:
        earlier[test.file] += test.wall
    ordered = sorted(files.items(), key=lambda kv: -sum(t.wall for t in kv[1]))
    rows = []
    for name, tests in ordered[:top]:
        wall = sum(t.wall for t in tests)
        row = [
            name,
            str(len(tests)),
            f"{sum(t.setup for t in tests):.1f}",
            f"{sum(t.call for t in tests):.1f}",
            f"{sum(t.teardown for t in tests):.1f}",
            f"{wall:.1f}",
            f"{sum(t.cpu for t in tests) / wall:.0%}",
        ]
        if before:
            row.append(f"{earlier.get(name, 0.0):.1f}")
        rows.append(row)
    header = ["file", "tests", "setup s", "call s", "teardown s", "total s", "CPU/wall"]
    if before:
        header.append("before s")
    rest = sum(t.wall for _, tests in ordered[top:] for t in tests)
    return table(header, rows) + f"\n(the other {max(0, len(ordered) - top)} files: {rest:.1f} s)"


def slowest(timeline: Timeline, top: int) -> str:
    rows = [
        [
            t.nodeid[:100],
            t.worker,
            f"{t.setup:.1f}",
            f"{t.call:.1f}",
            f"{t.teardown:.1f}",
            f"{t.cpu / t.wall:.0%}",
        ]
        for t in sorted(timeline.tests, key=lambda t: -t.wall)[:top]
    ]
    return table(["test", "worker", "setup s", "call s", "teardown s", "CPU/wall"], rows)


def groups(timeline: Timeline) -> str:
    chains: dict[str, list[Test]] = defaultdict(list)
    for test in timeline.tests:
        if test.group:
            chains[test.group].append(test)
    if not chains:
        return "(no xdist groups)"
    begin = min(w.started for w in timeline.workers.values())
    rows = [
        [
            name,
            str(len(tests)),
            ",".join(sorted({t.worker for t in tests})),
            f"{sum(t.wall for t in tests):.1f}",
            f"{min(t.start for t in tests) - begin:.1f}",
            f"{max(t.end for t in tests) - begin:.1f}",
        ]
        for name, tests in sorted(chains.items(), key=lambda kv: -sum(t.wall for t in kv[1]))
    ]
    return table(["group", "tests", "worker", "seconds", "starts at", "ends at"], rows)


def cli(timeline: Timeline, top: int) -> str:
    if not timeline.cli:
        return "(none logged: tests/cli_runner.py logs each `run_cli` while this profile runs)"
    commands: dict[str, list[float]] = defaultdict(list)
    for command, seconds in timeline.cli:
        commands[command].append(seconds)
    rows = [
        [command or "(none)", str(len(times)), f"{sum(times):.1f}", f"{sum(times) / len(times):.2f}"]
        for command, times in sorted(commands.items(), key=lambda kv: -sum(kv[1]))[:top]
    ]
    total = sum(seconds for _, seconds in timeline.cli)
    return table(["command", "runs", "seconds", "mean s"], rows) + (
        f"\n{len(timeline.cli)} subprocesses of the CLI, {total:.1f} s of the tests' wall time"
    )


def durations(timeline: Timeline, least: float = 1.0) -> dict[str, dict[str, float]]:
    """What `tests/conftest.py` orders the suite by: every test of ``least`` seconds or more, every group."""
    chains: dict[str, float] = defaultdict(float)
    for test in timeline.tests:
        if test.group:
            chains[test.group] += test.wall
    tests = {
        t.nodeid: round(t.wall, 1)
        for t in sorted(timeline.tests, key=lambda t: t.nodeid)
        if t.wall >= least and not t.group
    }
    return {"groups": {name: round(seconds, 1) for name, seconds in sorted(chains.items())}, "tests": tests}


def report(timeline: Timeline, before: Timeline | None, top: int) -> str:
    sections = [
        ("The run", whole(timeline)),
        ("Workers", per_worker(timeline, top)),
        ("Files, by their tests' seconds", per_file(timeline, before, top)),
        ("Slowest tests", slowest(timeline, top)),
        ("xdist groups", groups(timeline)),
        ("CLI subprocesses, by command", cli(timeline, top)),
    ]
    return "\n\n".join(f"## {title}\n\n{body}" for title, body in sections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--timeline", type=Path, help="where the run's timeline goes (default: a temp folder)"
    )
    parser.add_argument("--read", type=Path, help="print the profile of an earlier run's timeline folder")
    parser.add_argument("--compare", type=Path, help="an earlier run's timeline folder, its seconds per file")
    parser.add_argument("--top", type=int, default=25, help="rows per table")
    parser.add_argument(
        "--write-durations",
        type=Path,
        help="write the long tests' and groups' seconds (tests/durations.json)",
    )
    parser.add_argument("pytest_args", nargs="*", help="after --: pytest's arguments (default: -n auto)")
    args = parser.parse_args()
    if args.read:
        timeline = read(args.read)
    else:
        folder = args.timeline or Path(tempfile.mkdtemp(prefix="suite-timeline-"))
        timeline = run(folder, args.pytest_args)
        print(f"timeline: {folder}", file=sys.stderr)
    if not timeline.workers:
        sys.exit("no test ran: nothing to profile")
    print(report(timeline, read(args.compare) if args.compare else None, args.top))
    if args.write_durations:
        text = json.dumps(durations(timeline), indent=1, ensure_ascii=False) + "\n"
        args.write_durations.write_text(text, encoding="utf-8")
        print(f"wrote {args.write_durations}", file=sys.stderr)


if __name__ == "__main__":
    main()
