"""Issue 74's numbers: what running on Ray costs beside this machine's fork-server pool.

1. The sweep of ``bench_knobs.py`` (rmsnorm's quick run, 6 settings × 3 seeds = 18 runs, ``--jobs 2``), as a
   reader types it: ``readtrack run ... --json`` on the local pool, then with ``--executor ray`` (a Ray of the
   same 2 CPUs, started by the command and stopped at its end: its start-up is in the wall). Goal: Ray ≤ 1.25×
   the pool's wall. Repeated ``--repeat`` times, alternating; the medians.
2. Per run, through the Python API (`readtrack.batch.groups.run_batch`, a process per executor), ``--short``
   runs of rmsnorm's quick check (a fraction of a second each, so the executor's own costs show), on the
   pool, on a Ray of that process's own and on a Ray cluster of two nodes of one CPU each on this machine:
   the start-up (the call to the first event), each run's wall beyond its own stages once the workers are
   warm, submit → first event of the runs that start at once, and record → history (the last record's
   event reaching the driver → the group's row written).
3. Placement and recovery on the two-node cluster: where 4 quick trains ran, and, with the second node removed
   as soon as a run starts there, how long until that run starts again on the head, and the batch's wall.
4. From 1-2: how the shelf's quick calibration (58 plugins × 20 seeds, train only) would scale on N machines.

Run it on a quiet machine: ``python benchmarks/bench_executors.py [--repeat 3] [--short 12]``. Needs
``pip install -e '.[ray]'``.
"""

from __future__ import annotations

import os

from readtrack.batch.ray_executor import LOOPBACK

os.environ.update(LOOPBACK)  # before Ray is imported: the cluster of part 3 stays on 127.0.0.1 too

import argparse
import statistics
import sys
import tempfile
import threading
import time
from typing import Any

from bench_runs import readtrack

SWEEP = [
    "run",
    "rmsnorm",
    "--quick",
    "--set",
    "norm=rms,layer,none",
    "--set",
    "steps=50,100",
    "--seeds",
    "0-2",
]
SWEEP += ["--jobs", "2", "--yes"]


def sweep_walls(repeat: int) -> dict[str, list[float]]:
    """Part 1: the sweep's wall on each executor, in turn. For "already running", a Ray of 2 CPUs is started
    here before the command and stopped after it (as a cluster is running before the command: neither its
    start-up nor its shutdown is in the wall), and only then: a second Ray idle beside the others' runs made
    a Ray of the command's own start 4-5 s slower (8.6-10.3 s to the first run instead of 4.8) and the pool
    pay for its idle processes."""
    from ray.cluster_utils import Cluster

    kinds = {
        "local pool": [],
        "Ray, its own (2 CPUs, started and stopped by the command)": ["--executor", "ray"],
        "Ray, already running (2 CPUs, `--address`)": ["--executor", "ray", "--address"],
    }
    walls: dict[str, list[float]] = {label: [] for label in kinds}
    for _ in range(repeat):
        for label, extra in kinds.items():
            home = tempfile.mkdtemp(prefix="bench-executors-")
            running = None
            if extra[-1:] == ["--address"]:
                alone = {"num_cpus": 2, "include_dashboard": False, "node_ip_address": "127.0.0.1"}
                running = Cluster(initialize_head=True, head_node_args=alone)
                extra = [*extra, running.address]
            try:
                took, events = readtrack(*SWEEP, *extra, home=home)
            finally:
                if running is not None:
                    running.shutdown()
            runs = [e for e in events if e.get("type") == "seed_record"]
            if len(runs) != 18:
                raise SystemExit(f"{label}: {len(runs)} runs recorded, not 18")
            walls[label].append(took)
    return walls


class Timeline:
    """Timestamps of one batch's events, as the driver sees them."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.first: dict[tuple[str, int], float] = {}
        self.record: dict[tuple[str, int], float] = {}
        self.done_at = float("nan")
        self.durations: list[float] = []
        self.nodes: dict[int, str] = {}
        self.starts: list[tuple[float, int, str]] = []
        self.stage_starts: list[float] = []
        self.lock = threading.Lock()

    def on_event(self, job: Any, event: dict[str, Any]) -> None:
        now = time.perf_counter() - self.t0
        key = (job.group_id, job.seed)
        with self.lock:
            self.first.setdefault(key, now)
            if event.get("type") == "job" and event.get("event") == "start":
                self.starts.append((now, job.seed, str(event.get("node", "here"))))
                self.nodes[job.seed] = str(event.get("node", "here"))
            if event.get("type") == "stage" and event.get("event") == "start":
                self.stage_starts.append(now)
            if event.get("type") == "record":
                self.record[key] = now
                self.durations.append(float(event["record"]["duration_s"]))

    def on_done(self, outcome: Any) -> None:
        self.done_at = time.perf_counter() - self.t0  # the group's row is written: history has it


def per_run(executor: Any, short: int, workers: int, home: str) -> dict[str, float]:
    """Part 2 on ``executor``: ``short`` one-plugin batches of rmsnorm's quick check, one seed each."""
    from readtrack.batch import calibrate as core
    from readtrack.batch.groups import RunSettings, run_batch

    settings = RunSettings(device="cpu", quick=True, only="check", threads=1)
    line = Timeline()
    with core.runs_in(home):
        outcomes = run_batch(
            ["rmsnorm"], list(range(short)), settings, workers=workers, on_event=line.on_event,
            on_done=line.on_done, executor=executor,
        )  # fmt: skip
    wall = time.perf_counter() - line.t0
    assert outcomes[0].status == "passed", outcomes[0].error
    first_event = min(line.first.values())
    steady = (wall - first_event) * workers / short - statistics.mean(line.durations)
    wave = sorted(line.first.values())[:workers]
    return {
        "wall (s)": wall,
        "start-up: call → first event (s)": first_event,
        "per run beyond its stages, warm (s)": steady,
        "submit → first event, first wave (s)": statistics.median(wave),
        "call → first stage running (s)": min(line.stage_starts),
        "last record → history written (s)": line.done_at - max(line.record.values()),
        "runs' own stages, mean (s)": statistics.mean(line.durations),
    }


def child(kind: str, address: str, short: int) -> dict[str, float]:
    """Part 2 on one executor, in a process of its own (a fresh driver, as a reader's command is)."""
    import json
    import subprocess

    code = (
        "import json, sys, tempfile; sys.path.insert(0, sys.argv[1]); import bench_executors as b\n"
        "from readtrack.batch.pool import ForkServerPool\n"
        "from readtrack.batch.ray_executor import RayExecutor\n"
        "kind, address, short = sys.argv[2], sys.argv[3], int(sys.argv[4])\n"
        "executor = {'pool': lambda: ForkServerPool(2), 'ray': lambda: RayExecutor(cpus=2),\n"
        "            'cluster': lambda: RayExecutor(address=address)}[kind]()\n"
        "print(json.dumps(b.per_run(executor, short, 2, tempfile.mkdtemp(prefix='bench-executors-'))))\n"
    )
    here = os.path.dirname(os.path.abspath(__file__))
    done = subprocess.run(
        [sys.executable, "-c", code, here, kind, address, str(short)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"part 2 on {kind} failed: {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.splitlines()[-1]))


def part2(short: int, cluster_address: str) -> dict[str, dict[str, float]]:
    return {
        "local pool": child("pool", "", short),
        "Ray, its own (2 CPUs)": child("ray", "", short),
        "Ray, 2 nodes × 1 CPU": child("cluster", cluster_address, short),
    }


def recovery(cluster: Any) -> dict[str, float | str]:
    """Part 3: 4 quick trains of rmsnorm; the second node removed once a run starts there."""
    from readtrack.batch import calibrate as core
    from readtrack.batch.groups import RunSettings, run_batch
    from readtrack.batch.ray_executor import RayExecutor

    settings = RunSettings(device="cpu", quick=True, only="train", threads=1)
    home = tempfile.mkdtemp(prefix="bench-executors-")
    (worker,) = cluster.worker_nodes
    line = Timeline()
    removed: list[float] = []

    def watch(job: Any, event: dict[str, Any]) -> None:
        line.on_event(job, event)
        if not removed and event.get("type") == "job" and event.get("node") == worker.node_id:
            removed.append(time.perf_counter() - line.t0)
            threading.Thread(target=cluster.remove_node, args=(worker,), daemon=True).start()

    with core.runs_in(home):
        outcomes = run_batch(
            ["rmsnorm"],
            [0, 1, 2, 3],
            settings,
            workers=2,
            on_event=watch,
            executor=RayExecutor(cluster.address),
        )
    wall = time.perf_counter() - line.t0
    runs = outcomes[0].runs
    lost = [seed for (_, seed, node) in line.starts if node == worker.node_id]
    again = [t for (t, seed, node) in line.starts if seed in lost and node != worker.node_id]
    return {
        "runs recorded (of 4)": str(len(runs)),
        "seeds that started on the removed node": ", ".join(map(str, lost)) or "none",
        "removal → that run starts on the head (s)": (min(again) - removed[0])
        if again and removed
        else float("nan"),
        "batch wall (s)": wall,
        "mean run's stages (s)": statistics.mean(r.duration_s for r in runs),
    }


def placement(cluster: Any) -> str:
    """Part 3: where 4 quick trains of rmsnorm ran on the intact cluster."""
    from readtrack.batch import calibrate as core
    from readtrack.batch.groups import RunSettings, run_batch
    from readtrack.batch.ray_executor import RayExecutor

    settings = RunSettings(device="cpu", quick=True, only="train", threads=1)
    line = Timeline()
    with core.runs_in(tempfile.mkdtemp(prefix="bench-executors-")):
        run_batch(
            ["rmsnorm"],
            [0, 1, 2, 3],
            settings,
            workers=2,
            on_event=line.on_event,
            executor=RayExecutor(cluster.address),
        )
    head = cluster.head_node.node_id
    on_head = sum(node == head for node in line.nodes.values())
    return f"{on_head} of 4 runs on the head, {4 - on_head} on the other node"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--short", type=int, default=12)
    parser.add_argument("--skip-sweep", action="store_true")
    args = parser.parse_args()
    import ray
    from ray.cluster_utils import Cluster

    print(f"Ray {ray.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} cores\n")
    if not args.skip_sweep:
        walls = sweep_walls(args.repeat)
        print(f"1. the 18-run sweep (`readtrack {' '.join(SWEEP)}`), {args.repeat} times each, in turn\n")
        print("| executor | median wall (s) | walls (s) | / local pool |\n| --- | ---: | --- | ---: |")
        local = statistics.median(walls["local pool"])
        for label, times in walls.items():
            median = statistics.median(times)
            each = ", ".join(f"{t:.1f}" for t in times)
            print(f"| {label} | {median:.1f} | {each} | {median / local:.2f} |")
        print("\n(goal: Ray ≤ 1.25× the local pool)\n")
    head = {"num_cpus": 1, "include_dashboard": False, "node_ip_address": "127.0.0.1"}
    head["_system_config"] = {"health_check_period_ms": 500, "health_check_failure_threshold": 4}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    try:
        cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
        cluster.wait_for_nodes()
        found = part2(args.short, cluster.address)
        print(f"2. per run: {args.short} quick checks of rmsnorm, 2 at a time, in this process\n")
        labels = list(found)
        print("| | " + " | ".join(labels) + " |\n| --- |" + " ---: |" * len(labels))
        for row in found[labels[0]]:
            print(f"| {row} | " + " | ".join(f"{found[label][row]:.3f}" for label in labels) + " |")
        print(f"\n3. placement on the two-node cluster: {placement(cluster)}")
        recovered = recovery(cluster)
        print("   the second node removed as soon as a run starts there:\n")
        print("| | |\n| --- | ---: |")
        for key, value in recovered.items():
            print(f"| {key} | {value if isinstance(value, str) else f'{value:.2f}'} |")
        overhead = found["Ray, 2 nodes × 1 CPU"]["per run beyond its stages, warm (s)"]
        local = found["local pool"]["per run beyond its stages, warm (s)"]
        startup = found["Ray, 2 nodes × 1 CPU"]["start-up: call → first event (s)"]
        calibration_scaling(overhead, local, startup)
    finally:
        ray.shutdown()
        cluster.shutdown()


#: The quick shelf's mean run, all three stages (RESULTS.md, "The quick shelf's times": 647 s for 58
#: plugins): an upper bound for a calibration's train-only run.
SHELF_MEAN_RUN_S = 647 / 58


def calibration_scaling(overhead: float, local: float, startup: float) -> None:
    runs = 58 * 20
    print(
        f"\n4. the shelf's quick calibration, {runs} runs of at most {SHELF_MEAN_RUN_S:.1f} s each, "
        "2 cores a machine"
    )
    print(
        f"   (per run beyond its stages: Ray {overhead:.3f} s, the local pool {local:.3f} s; "
        f"start-up {startup:.1f} s)\n"
    )
    print(
        "| machines | CPUs | wall, Ray (min) | of which Ray's per-run cost (min) |\n"
        "| ---: | ---: | ---: | ---: |"
    )
    for machines in (1, 2, 4, 8, 16):
        cpus = 2 * machines
        wall = (runs * (SHELF_MEAN_RUN_S + overhead) / cpus + startup) / 60
        print(f"| {machines} | {cpus} | {wall:.1f} | {runs * overhead / cpus / 60:.2f} |")


if __name__ == "__main__":
    main()
