"""``--executor ray`` on a real Ray cluster: two nodes on this machine, one CPU each, no mock of Ray.

One cluster (``ray_lab``, `tests/ray_lab.py`) serves every test here and the TUI's (``xdist_group``: one
test process runs them all); the driver is the real CLI in a subprocess. Every Ray process listens on
127.0.0.1 alone (`test_a_ray_started_for_the_command_listens_on_loopback_only_without_a_dashboard` checks
every socket of a Ray the CLI starts itself).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray
from cli_runner import interruptible, run_cli
from ray_lab import Lab
from rich.console import Console

from readtrack.batch.ray_executor import LOOPBACK, ray_log
from readtrack.history import runs as history
from readtrack.history.spread import GroupRecord
from readtrack.plugins.records import RunRecord
from readtrack.render.batches import group_renderables

pytestmark = [pytest.mark.xdist_group("ray"), pytest.mark.slow]


def events_of(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def group_of(plugin: str) -> GroupRecord:
    (group,) = history.entries(plugin)
    assert isinstance(group, GroupRecord)
    return group


def test_a_batch_spreads_over_both_nodes_and_its_numbers_are_those_of_runs_made_alone(ray_lab: Lab) -> None:
    args = ("run", "toy", "--seeds", "0-3", "--quick", "--only", "train", "--device", "cpu", "--json")
    result = run_cli(*args, "--executor", "ray", "--address", ray_lab.address, env=ray_lab.env())
    assert result.returncode == 0, result.stderr
    group = group_of("toy")
    assert sorted(r.info.seed for r in group.runs) == [0, 1, 2, 3] and group.status == "passed"
    nodes = {r.info.environment["node"] for r in group.runs}
    assert nodes == ray_lab.node_ids()  # both nodes ran some (each a CPU, four runs at once asked for)
    assert {r.info.environment["host"] for r in group.runs} == {socket.gethostname()}
    # a run is a child forked from a fork server its Ray worker keeps: torch imported less than once a run
    servers = {e["pid"] for e in events_of(result.stdout) if e.get("type") == "job" and e["event"] == "start"}
    assert len(servers) < 4, servers
    shipped = {r.info.seed: r.stages[0].measured[-1] for r in group.runs}
    assert all(m.name == "shipped" and m.value == 1.0 for m in shipped.values())  # Ray's copy of the folder
    assert not (ray_lab.worker_home / "history.sqlite").exists() and not list(
        ray_lab.worker_home.rglob("*.sqlite")
    )
    # the same run made alone, here: the same numbers to the last bit
    alone = run_cli("run", "toy", "--seed", "2", "--quick", "--only", "train", "--device", "cpu", "--json",
                    "--no-record", env={"READTRACK_PLUGINS_DIR": str(ray_lab.plugins)})  # fmt: skip
    record = RunRecord.from_dict(events_of(alone.stdout)[-1]["record"])
    (remote,) = [r for r in group.runs if r.info.seed == 2]
    assert remote.stages[0].curves == record.stages[0].curves and remote.stages[0].curves["loss"]
    assert [t.value for t in remote.stages[0].targets] == [t.value for t in record.stages[0].targets]
    assert record.stages[0].measured[-1].value == 0.0  # alone, it ran from the folder itself
    # the report names where each seed ran
    from readtrack.render.batches import seed_table

    console = Console(width=200, record=True)
    console.print(seed_table(group))
    (row,) = [line for line in console.export_text().splitlines() if line.strip().startswith("ran on")]
    assert row.count(socket.gethostname()) == 4 and all(node[:8] in row for node in nodes)


def test_a_built_in_plugin_runs_where_readtrack_is_installed_and_one_run_is_recorded_as_one(
    ray_lab: Lab,
) -> None:
    args = ("run", "rmsnorm", "--quick", "--only", "check", "--device", "cpu")
    result = run_cli(*args, "--executor", "ray", "--address", ray_lab.address, env=ray_lab.env())
    assert result.returncode == 0, result.stdout + result.stderr
    (run,) = history.runs()
    assert run.info.plugin == "rmsnorm" and run.status == "passed" and run.info.group_id is None
    assert run.info.environment["node"] in ray_lab.node_ids()


def test_a_failing_plugin_a_raising_one_and_a_timeout_are_recorded_as_locally(ray_lab: Lab) -> None:
    base = ("--quick", "--device", "cpu", "--json", "--executor", "ray", "--address", ray_lab.address)
    failed = run_cli("run", "fails", "raises", "--only", "train", *base, env=ray_lab.env())
    assert failed.returncode == 1, failed.stderr
    statuses = {r.info.plugin: r for r in history.runs()}
    assert statuses["fails"].status == "failed"
    raised = statuses["raises"]
    assert raised.status == "error" and "a deliberate failure on the cluster" in str(
        raised.stages[0].traceback
    )
    timed = run_cli(
        "run",
        "toy",
        "--only",
        "train",
        "--set",
        "pause=0.2",
        "--seed",
        "1",
        "--timeout",
        "1",
        *base,
        env=ray_lab.env(),
    )
    assert timed.returncode == 1, timed.stderr
    (toy,) = history.runs("toy")
    assert toy.status == "timeout" and toy.info.environment["node"] in ray_lab.node_ids()


def test_a_node_removed_mid_batch_its_runs_finish_on_the_other_each_recorded_once(ray_lab: Lab) -> None:
    args = ("run", "toy", "--seeds", "0-3", "--quick", "--only", "train", "--set", "pause=0.05")
    process = subprocess.Popen(
        [sys.executable, "-m", "readtrack", *args, "--device", "cpu", "--json", "--executor", "ray",
         "--address", ray_lab.address],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **ray_lab.env()},
    )  # fmt: skip
    assert process.stdout is not None
    head = ray_lab.cluster.head_node.node_id
    (other,) = [node for node in ray_lab.cluster.worker_nodes]
    seen: list[dict[str, Any]] = []
    for line in process.stdout:  # wait until a run is inside its train stage on the other node
        event = json.loads(line)
        seen.append(event)
        started_there = {
            e["seed"] for e in seen if e.get("event") == "start" and e.get("node") == other.node_id
        }
        if event.get("type") == "progress" and event["seed"] in started_there - {0}:  # 0 never pauses
            break
    ray_lab.cluster.remove_node(other)
    out, err = process.communicate(timeout=300)
    try:
        assert process.returncode == 0, err
        seen += events_of(out)
        retried = [e for e in seen if e.get("type") == "job" and e.get("status") == "retried"]
        assert retried, "the run on the removed node was not run again"
        group = group_of("toy")
        assert sorted(r.info.seed for r in group.runs) == [0, 1, 2, 3]  # each once: the plan's count
        assert len(history.runs("toy")) == 4 and group.status == "passed" and group.missing == {}
        again = {e["seed"] for e in retried}
        assert {r.info.environment["node"] for r in group.runs if r.info.seed in again} == {head}
        # every attempt is in the record: the lost one on the removed node, then the one that finished
        for run in group.runs:
            tried = [(a["node"], a["status"]) for a in run.info.attempts]
            assert tried == ([(other.node_id, "retried"), (head, "passed")] if run.info.seed in again else [])
        (run,) = [r for r in group.runs if r.info.seed in again][:1]
        assert f"its Ray worker on {socket.gethostname()} (node {other.node_id[:8]}) was lost" in str(
            run.info.attempts[0]["error"]
        )
        console = Console(width=200, record=True)
        for part in group_renderables(group):
            console.print(part)
        host, text = socket.gethostname(), console.export_text()
        assert f"seed {run.info.seed}: 2 attempts: 1 on {host} node {other.node_id[:8]} retried" in text
        assert f"retried (its worker or node lost), 2 on {host} node {head[:8]} passed" in text
        # Ray's lines (the raylets' errors, a dead node's [state-dump], what log_to_driver forwards) went to
        # ray.log, not to the terminal: stdout is readtrack's events alone, stderr readtrack's own lines
        assert [line for line in out.splitlines() if not line.startswith("{")] == []
        assert not [line for line in err.splitlines() if not line.startswith("readtrack: ")], err
        assert "(raylet) Task run_on_node failed" in ray_log().read_text(encoding="utf-8")
    finally:
        ray_lab.add_node()


def test_ctrl_c_cancels_every_task_frees_the_cpus_and_records_what_finished(ray_lab: Lab) -> None:
    # seed 0 finishes at once; seeds 1-3 pause 0.2 s a step for 10,000 steps
    slow = ("--quick", "--only", "train", "--set", "pause=0.2", "--set", "steps=10000", "--device", "cpu")
    where = ("--json", "--executor", "ray", "--address", ray_lab.address)
    process = started(interruptible("run", "toy", "--seeds", "0-3", *slow, *where), ray_lab)
    seed0_ended, running = False, set()
    for event in stream(process):  # seed 0 recorded, both CPUs busy with later seeds
        seed0_ended |= event.get("event") == "end" and event["seed"] == 0
        running |= {event["seed"]} if event.get("type") == "progress" and event["seed"] > 0 else set()
        if seed0_ended and len(running) == 2:
            break
    out = cancelled(process)
    last = events_of(out)[-1]
    assert (last["status"], last["recorded"]) == ("cancelled", [{"plugin": "toy", "seeds": [0]}])
    assert last["unfinished"] == {"toy": [1, 2, 3]}
    group = group_of("toy")
    assert group.status == "cancelled" and [r.info.seed for r in group.runs] == [0]
    assert sorted(group.missing) == [1, 2, 3]
    free = cpus_free_within(ray_lab, 10)
    assert free is not None, "the cluster's CPUs were still taken 10 s after the driver left"
    # one run stopped mid-stage records itself as cancelled, as `readtrack run NAME` does here
    process = started(interruptible("run", "toy", "--seed", "1", *slow, *where), ray_lab)
    for event in stream(process):
        if event.get("type") == "progress":
            break
    cancelled(process)
    (one,) = [r for r in history.runs("toy") if r.info.group_id is None]
    assert one.status == "cancelled" and one.info.environment["node"] in ray_lab.node_ids()


def started(argv: list[str], lab: Lab) -> subprocess.Popen[str]:
    env = {**os.environ, **lab.env()}
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def stream(process: subprocess.Popen[str]) -> Iterator[dict[str, Any]]:
    assert process.stdout is not None
    for line in process.stdout:
        yield json.loads(line)


def cancelled(process: subprocess.Popen[str]) -> str:
    """Ctrl+C to ``process``: its exit 130 within the grace, and its output."""
    began = time.monotonic()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert time.monotonic() - began < 15
    return out


def cpus_free_within(lab: Lab, seconds: float) -> float | None:
    """Seconds until every CPU of the cluster is free again (asked from a fresh driver), or None."""
    probe = (
        "import sys, time, ray\n"
        f"ray.init(address={lab.address!r}, logging_level='ERROR', log_to_driver=False)\n"
        "start = time.monotonic()\n"
        f"while time.monotonic() - start < {seconds}:\n"
        "    if ray.available_resources().get('CPU', 0) >= ray.cluster_resources().get('CPU', 0):\n"
        "        print(time.monotonic() - start); sys.exit(0)\n"
        "    time.sleep(0.2)\n"
        "sys.exit(1)\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env={**os.environ, **LOOPBACK}
    )
    return float(found.stdout.split()[-1]) if found.returncode == 0 else None


def test_a_driver_whose_code_differs_from_the_workers_is_refused_in_one_line(
    ray_lab: Lab, tmp_path: Path
) -> None:
    import readtrack

    stale = tmp_path / "stale"
    shutil.copytree(
        Path(readtrack.__file__).parent, stale / "readtrack", ignore=shutil.ignore_patterns("__pycache__")
    )
    with (stale / "readtrack" / "batch" / "request.py").open("a") as changed:
        changed.write("# an edit made on the driver's machine only\n")
    env = ray_lab.env(PYTHONPATH=str(stale))
    args = ("run", "toy", "--quick", "--only", "train", "--device", "cpu", "--executor", "ray")
    result = run_cli(
        *args, "--address", ray_lab.address, env=env, cwd=tmp_path
    )  # not the checkout's readtrack
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    codes = re.findall(r"readtrack \S+ \(code ([0-9a-f]{8})\)", line)
    assert len(codes) == 2 and codes[0] != codes[1] and "install the same code on every node" in line, line
    assert history.runs() == []


def test_an_unreachable_cluster_is_one_line_and_exit_2_within_seconds() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    began = time.monotonic()
    result = run_cli("run", "rmsnorm", "--executor", "ray", env={"RAY_ADDRESS": f"127.0.0.1:{port}"})
    assert time.monotonic() - began < 10
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"readtrack: no Ray cluster at 127.0.0.1:{port}: connection refused (start one with `ray start "
        "--head`, or leave --address and RAY_ADDRESS out for a Ray of this command's own)"
    )
    # something that answers but is no Ray head (it takes the connection and hangs up): given up in seconds
    with socket.create_server(("127.0.0.1", 0)) as impostor:

        def hang_up_on_everyone() -> None:
            while True:
                impostor.accept()[0].close()

        threading.Thread(target=hang_up_on_everyone, daemon=True).start()
        address = f"127.0.0.1:{impostor.getsockname()[1]}"
        began = time.monotonic()
        result = run_cli("run", "rmsnorm", "--executor", "ray", "--address", address)
        assert time.monotonic() - began < 10 and result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        f"readtrack: {address} answers, but not as a Ray head (no gRPC within 3 s): give the port of the "
        "head's GCS, the one `ray start --head --port` names"
    )
    wrong = run_cli("run", "rmsnorm", "--executor", "slurm")
    assert wrong.returncode == 2 and "use one of local, ray" in wrong.stderr


def test_doctor_shows_the_cluster_and_a_run_no_node_can_take_is_refused_not_left_waiting(
    ray_lab: Lab,
) -> None:
    result = run_cli("doctor", env={"RAY_ADDRESS": ray_lab.address, **LOOPBACK})
    assert f"cluster: Ray {ray.__version__}; 2 nodes, 2 CPUs, 0 GPUs at {ray_lab.address}" in result.stdout
    where = ("--executor", "ray", "--address", ray_lab.address)
    for asked, said in (
        (("--threads", "2"), "no node of the Ray cluster has 2 CPUs for --threads 2"),
        (("--device", "cuda"), "no node of the Ray cluster has 1 GPU for --device cuda"),
    ):
        refused = run_cli("run", "toy", "--quick", *asked, *where, env=ray_lab.env())
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.strip() == (f"readtrack: {said} (its largest node: 1 CPUs, 0 GPUs; 2 nodes)"), (
            refused.stderr
        )
    assert history.runs() == []


def listening(pids: set[int]) -> list[str]:
    """The local addresses (``127.0.0.1:PORT``) of every TCP socket that ``pids`` listen on, from /proc."""
    inodes: dict[str, int] = {}
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes[target[8:-1]] = pid
        except OSError:
            continue
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                found.append(_address(fields[1]))
    return found


def _address(hex_address: str) -> str:
    ip, port = hex_address.split(":")
    raw = bytes.fromhex(ip)
    if len(raw) == 16:  # an IPv6 socket: 127.0.0.1 is ::ffff:127.0.0.1
        words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
        text = socket.inet_ntop(socket.AF_INET6, words)
    else:
        text = socket.inet_ntoa(raw[::-1])
    return f"{text}:{int(port, 16)}"


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        found.add(current)
        todo += children.get(current, [])
    return found


def test_a_ray_started_for_the_command_listens_on_loopback_only_without_a_dashboard_and_leaves_nothing(
    ray_lab: Lab, tmp_path: Path
) -> None:
    """A Ray of the command's own (no address): every socket of its processes on 127.0.0.1 without our
    LOOPBACK variables set, no dashboard, and nothing of it left in the temporary folder once it is done
    (one Ray started for both, issue 91)."""
    import tempfile

    args = ("run", "toy", "--quick", "--only", "train", "--set", "pause=0.05", "--set", "steps=100")
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", *LOOPBACK)}
    temp = Path(tempfile.mkdtemp(prefix="rt-tmp-", dir="/tmp"))  # short: Ray's socket paths live under it
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "readtrack", *args, "--device", "cpu", "--json", "--executor", "ray",
             "--jobs", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**env, "READTRACK_PLUGINS_DIR": str(ray_lab.plugins), "TMPDIR": str(temp)},
        )  # fmt: skip
        assert process.stdout is not None
        for line in process.stdout:  # the run is inside its train stage: every Ray process is up
            if json.loads(line).get("type") == "progress":
                break
        family = descendants(process.pid)
        commands = {pid: _cmdline(pid) for pid in family}
        sockets = listening(family)
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        assert not [p.name for p in temp.iterdir() if "ray" in p.name], list(temp.rglob("*"))[:5]
        assert any(str(temp) in c for c in commands.values()), "Ray's session was not under TMPDIR"
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    assert any("gcs_server" in c for c in commands.values()) and any("raylet" in c for c in commands.values())
    assert len(sockets) >= 4, sockets  # the GCS, the raylet, the object manager, the worker
    assert all(s.startswith(("127.0.0.1:", "::ffff:127.0.0.1:")) for s in sockets), sockets
    # no dashboard: Ray keeps a head process for its own bookkeeping, without the web server (nothing on the
    # dashboard's port 8265) and without the job API that runs what is sent to it
    heads = [c for c in commands.values() if "dashboard/dashboard.py" in c]
    assert all("--disable-frontend" in c and "--modules-to-load=UsageStatsHead " in c for c in heads), heads
    assert not any(s.endswith(":8265") for s in sockets) and not any("JobHead" in c for c in heads)
    (run,) = history.runs("toy")
    assert run.status == "passed" and run.stages[0].measured[-1].value == 1.0  # shipped here too


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_a_run_asks_for_a_cpu_per_thread_and_a_gpu_for_cuda_and_cuda_n_is_left_to_ray() -> None:
    """What each task asks Ray for (no GPU here: the request is what can be checked, not the placement)."""
    from readtrack.base.errors import UsageError
    from readtrack.batch.ray_executor import RayExecutor, resources
    from readtrack.batch.request import RunRequest

    assert resources(RunRequest("rmsnorm", threads=3)) == {"num_cpus": 3, "num_gpus": 0}
    assert resources(RunRequest("rmsnorm", device="cuda")) == {"num_cpus": 1, "num_gpus": 1}
    with pytest.raises(UsageError, match=r"--device cuda:1 with --executor ray: use --device cuda"):
        RayExecutor().run([RunRequest("rmsnorm", device="cuda:1")])
