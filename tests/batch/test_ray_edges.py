"""The Ray executor's edges (issue 83): one start and one end per attempt, each GPU task on its own GPUs,
no process-wide state changed, token authentication named, nothing left behind. The cluster is
`tests/ray_lab.py`'s (real Ray, two nodes on 127.0.0.1); a third node with 2 fake GPUs (Ray's ``num_gpus``
given to a node: no GPU exists here) is added for the GPU test and removed after it. Some tests drive the
executor from this process, as the TUI does (`tests/tui/test_ray_shelf.py`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from cli_runner import run_cli
from ray_lab import Lab, cluster_env

from readtrack.batch.executor import Outcome
from readtrack.batch.request import RunRequest
from readtrack.plugins import events

pytestmark = [pytest.mark.xdist_group("ray"), pytest.mark.slow]


@pytest.fixture
def driver(ray_lab: Lab, monkeypatch: pytest.MonkeyPatch) -> Any:
    """This process as the lab's driver: its plugin folder, the executor's `connect` to the lab."""
    from readtrack.batch.ray_executor import connect

    monkeypatch.setenv("READTRACK_PLUGINS_DIR", str(ray_lab.plugins))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    return connect(ray_lab.address, None)


def run_logged(lab: Lab, requests: list[RunRequest]) -> tuple[list[Outcome], list[tuple[str, Any]]]:
    """The requests run on the lab from this process: their outcomes, and every event and outcome in the
    order they were told (``("event", (seed, event))``, ``("outcome", seed)``)."""
    from readtrack.batch.ray_executor import RayExecutor

    told: list[tuple[str, Any]] = []
    outcomes = RayExecutor(address=lab.address).run(
        requests,
        on_event=lambda request, event: told.append(("event", (request.seed, event))),
        on_end=lambda outcome: told.append(("outcome", outcome.job.seed)),
    )
    return outcomes, told


def test_a_run_that_gives_no_record_starts_once_and_ends_once_and_its_outcome_comes_after(
    ray_lab: Lab, driver: Any
) -> None:
    # --device mps: each run is refused on its node (no MPS here): an error event, no record
    requests = [RunRequest("toy", seed=seed, device="mps", quick=True, only="train") for seed in (1, 2)]
    outcomes, told = run_logged(ray_lab, requests)
    assert [o.record for o in outcomes] == [None, None] and all("MPS" in str(o.error) for o in outcomes)
    for seed in (1, 2):
        mine = [(kind, what) for kind, what in told if (what[0] if kind == "event" else what) == seed]
        jobs = [what[1]["event"] for kind, what in mine if kind == "event" and events.is_job(what[1])]
        assert jobs == ["start", "end"], mine
        assert mine[-1] == ("outcome", seed), mine  # the outcome after every event of its run
        (end,) = [what[1] for kind, what in mine if kind == "event" and events.is_job(what[1], "end")]
        assert end["status"] == "error" and "MPS" in str(end["error"]) and end["node"] in ray_lab.node_ids()
    # the same through the CLI: one line per run
    args = ("run", "toy", "--seeds", "1-2", "--quick", "--only", "train", "--device", "mps")
    result = run_cli(*args, "--executor", "ray", "--address", ray_lab.address, env=ray_lab.env())
    said = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("toy seed")]
    assert len(said) == 2 and all("MPS is not available" in line for line in said), result.stdout


def test_each_gpu_task_runs_with_the_gpus_ray_gave_it_even_on_a_ray_worker_that_had_others(
    ray_lab: Lab, driver: Any
) -> None:
    """A Ray worker keeps fork servers between tasks: one started for a task on GPU 1 must not run a later
    task Ray gave GPU 0. Which GPUs a run had is read from its fork server's environment (/proc), the GPUs
    Ray gave its task from its job start (``gpus``: `ray.get_gpu_ids` in the task)."""
    ray = driver
    with cluster_env(ray_lab.worker_home):
        gpu_node = ray_lab.cluster.add_node(num_cpus=2, num_gpus=2, node_ip_address="127.0.0.1")
        ray_lab.cluster.wait_for_nodes()
    try:

        @ray.remote(num_gpus=1, num_cpus=0)
        class Holder:
            def gpus(self) -> list[str]:
                return [str(g) for g in ray.get_gpu_ids()]

        # the first GPU held elsewhere: the first run gets the other one, on a Ray worker of its own
        holder = Holder.remote()  # type: ignore[attr-defined]
        (held,) = ray.get(holder.gpus.remote())

        def cuda(seed: int) -> RunRequest:
            return RunRequest("toy", seed=seed, device="cuda", quick=True, only="train")

        _, told = run_logged(ray_lab, [cuda(1)])
        (first,) = starts(told)
        assert first["gpus"] != [held] and first["node"] == gpu_node.node_id
        assert visible(first["pid"]) == ",".join(first["gpus"])
        ray.kill(holder)  # its GPU free again: the next task given it may well run on the first run's worker
        deadline = time.monotonic() + 30
        while ray.available_resources().get("GPU", 0) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        # two GPU runs at once: each on servers that see its own GPU, and not the same
        _, told = run_logged(ray_lab, [cuda(1), cuda(2)])
        both = starts(told)
        assert len(both) == 2 and {tuple(s["gpus"]) for s in both} == {("0",), ("1",)}, both
        for start in both:
            assert visible(start["pid"]) == ",".join(start["gpus"]), (start, visible(start["pid"]))
    finally:
        ray_lab.cluster.remove_node(gpu_node)


def starts(told: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [what[1] for kind, what in told if kind == "event" and events.is_job(what[1], "start")]


def visible(pid: int) -> str | None:
    """``CUDA_VISIBLE_DEVICES`` in the environment process ``pid`` started with (a fork server's, which
    every run it forks inherits)."""
    for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
        key, _, value = item.decode(errors="replace").partition("=")
        if key == "CUDA_VISIBLE_DEVICES":
            return value
    return None


def test_a_batch_changes_nothing_of_the_process_and_another_cluster_is_refused_in_one_line(
    ray_lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    from readtrack.base.errors import ClusterError
    from readtrack.batch.ray_executor import IMPATIENT, connect

    monkeypatch.setenv("READTRACK_PLUGINS_DIR", str(ray_lab.plugins))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    for key in IMPATIENT:  # what an earlier connect of this process may have left
        monkeypatch.delenv(key, raising=False)
    before = dict(os.environ)
    connect(ray_lab.address, None)
    outcomes, _ = run_logged(ray_lab, [RunRequest("toy", seed=0, device="cpu", quick=True, only="train")])
    assert outcomes[0].record is not None and outcomes[0].record.status == "passed"
    connect(ray_lab.address, None)  # the same cluster: the same Ray
    assert dict(os.environ) == before
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        other = f"127.0.0.1:{free.getsockname()[1]}"
    for asked, named in ((other, f"the one at {other}"), (None, "a Ray of its own")):
        with pytest.raises(ClusterError) as refused:
            connect(asked, None)
        line = str(refused.value)
        assert line == (
            f"this process already uses the Ray cluster at {ray_lab.address}; {named} needs a readtrack "
            "process of its own"
        )
    assert dict(os.environ) == before


@pytest.mark.xdist_group("ray-token-head")  # a head of its own, not the lab: off the lab's chain (issue 91)
def test_a_cluster_with_token_authentication_is_named_in_one_line_and_rays_lines_go_to_a_log(
    tmp_path: Path,
) -> None:
    from readtrack.batch.ray_executor import LOOPBACK

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    temp = Path(tempfile.mkdtemp(prefix="rt-auth-", dir="/tmp"))  # Ray's socket paths must stay short
    token = "0123456789abcdef0123456789abcdef"
    env = {
        **os.environ, **LOOPBACK, "HOME": str(tmp_path / "head-home"), "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": token,
    }  # fmt: skip
    head = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "ray"), "start", "--head", f"--port={port}",
         "--node-ip-address=127.0.0.1", "--num-cpus=1", "--include-dashboard=false", f"--temp-dir={temp}",
         "--block"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        address = f"127.0.0.1:{port}"
        driver_env = {"HOME": str(tmp_path / "driver-home"), **LOOPBACK}  # no token here
        result = run_cli("run", "rmsnorm", "--executor", "ray", "--address", address, env=driver_env)
        assert result.returncode == 2, result.stderr
        (line,) = result.stderr.strip().splitlines()  # Ray's own lines are not on the terminal
        assert "token authentication" in line and "RAY_AUTH_MODE=token" in line and address in line, line
        log = Path(line.rsplit("Ray's own lines: ", 1)[1].rstrip(")"))
        assert "InvalidAuthToken" in log.read_text()
    finally:
        # `ray start --block` outlives a SIGTERM by more than 30 s (this test waited that long, issue 91): its
        # whole session goes at once, and whatever the head started under ``temp`` is gone within seconds
        os.killpg(head.pid, signal.SIGKILL)
        head.wait()
        deadline = time.monotonic() + 20
        while left_under(temp) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not left_under(temp), f"the token head's processes outlived it: {left_under(temp)}"
        import shutil

        shutil.rmtree(temp, ignore_errors=True)


def left_under(temp: Path) -> list[int]:
    """The processes whose command line names ``temp`` (a Ray's session folder): its raylet, GCS, workers."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(temp) in (proc / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found
