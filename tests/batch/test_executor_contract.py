"""The executor contract (docs/running-on-a-cluster.md, "The executor contract"), one suite for every
executor (issue 83): the same cases run on this machine's pool of fork servers (``pool``), on a Ray of the
batch's own that `readtrack.batch.ray_executor.connect` starts on this machine and `shutdown` stops
(``own-ray``), and on the shared two-node test cluster of `tests/ray_lab.py` (``lab``). Real processes, real
Ray, real plugins on disk, everything on 127.0.0.1; the one thing made up is a GPU: Ray's fake GPU
resources, given to the Ray of its own (``RAY_OVERRIDE_RESOURCES``) and to a node added to the lab for the
GPU case. The executors are driven from this process, as the CLI and the TUI drive them.

What each case checks of every executor: one ``job`` start and one ``job`` end per run, every event of the
run between them, its outcome (``on_end``) after them; a run's crash, timeout or stderr its own; a cancel
(the ``cancel`` event, or Ctrl+C) keeps the finished runs as finished and the running ones as cancelled; an
``on_end`` that raises reaches the caller; and after each batch nothing of it is left running (/proc: the
fork servers each run's start names, the runs forked from them; on Ray, the cluster's CPUs free again).
A Ray worker keeps its idle fork servers between tasks by design (`readtrack.batch.ray_worker`), so on Ray
what must be gone is every run and every server that was running one, not an idle server.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fake_plugins import write_plugin

from readtrack.base.processes import python_module
from readtrack.batch import pool as local_pool
from readtrack.batch.executor import Executor, JobsCancelled, Outcome
from readtrack.batch.request import RunRequest
from readtrack.plugins import events

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not local_pool.forkserver_available(), reason="fork servers are Linux-only"),
]

# Trivial plugins (no torch in them: the fork server imports it once, the runs need none).
QUICK = """
import sys


def train(ctx):
    print(f"quick seed {ctx.seed} on stderr", file=sys.stderr, flush=True)
    for step in range(3):
        ctx.metric("loss", step, 1.0 / (step + 1))
        ctx.progress(step + 1, 3)
    ctx.target("final loss", 1.0 / 3, 0.5, higher_is_better=False)
"""

# Runs until it is stopped: by the runner's own timer (a stage timeout), a cancel, or its process's end.
SLOW = """
import time


def train(ctx):
    step = 0
    while True:
        step += 1
        ctx.progress(step, 1_000_000)
        time.sleep(0.05)
"""

# Dies without a record, as a segfault or the OOM killer would: odd seeds exit, even ones SIGKILL themselves.
CRASH = """
import os
import re
import signal
import sys


def train(ctx):
    print(f"crash seed {ctx.seed} dies", file=sys.stderr, flush=True)
    if ctx.seed % 2:
        os._exit(3)
    os.kill(os.getpid(), signal.SIGKILL)
"""

# A loop that swallows the runner's own timer: only the executor's kill (the timeout and a grace) stops it.
STUBBORN = """
def train(ctx):
    ctx.progress(0, 1)
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
"""

PLUGINS = {"quick": QUICK, "slow": SLOW, "crash": CRASH, "stubborn": STUBBORN}
WORKERS = 2  # the pool's; the lab has two nodes of one CPU, the Ray of its own is given two CPUs
#: Set in the pytest process of its own that runs the cases on a Ray of its own
#: (`test_every_case_on_a_ray_of_its_own`). A process that has started a Ray of its own cannot use another
#: cluster after it (Ray 2.60: every actor it creates there dies at once, "all references to the actor were
#: removed"): the lab's cases, and the tests after these that drive the lab from the test process
#: (test_ray_edges.py, the TUI's shelf), could not run in the same process.
OWN_RAY = "READTRACK_CONTRACT_OWN_RAY"
IN_OWN_RAY = os.environ.get(OWN_RAY) == "1"
# the Ray kinds run in the xdist group of the lab (one test process uses Ray at a time: tests/conftest.py)
RAY_KINDS = [pytest.param(kind, marks=pytest.mark.xdist_group("ray")) for kind in ("own-ray", "lab")]
RAY_KINDS = RAY_KINDS[:1] if IN_OWN_RAY else RAY_KINDS[1:]
KINDS = RAY_KINDS if IN_OWN_RAY else [pytest.param("pool"), *RAY_KINDS]


def request(plugin: str, seed: int, *, device: str = "cpu", timeout: float | None = None) -> RunRequest:
    return RunRequest(plugin, seed, f"contract-{plugin}", device=device, only="train", timeout=timeout)


@pytest.fixture(scope="module")
def contract_plugins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin folder of every case (for Ray: the job's working directory, shipped as it connects)."""
    folder = tmp_path_factory.mktemp("contract-plugins")
    for name, experiment in PLUGINS.items():
        write_plugin(folder, name, experiment)
    return folder


@dataclass
class Setup:
    """One executor under test and what its checks need."""

    kind: str
    executor: Executor
    ray: Any = None  # the Ray this process is connected to (the Ray executors)
    lab: Any = None  # tests/ray_lab.py's Lab (the lab)
    fork_servers: set[int] = field(default_factory=set)


_CONNECTED: dict[str, str] = {}  # which cluster this module connected this process to: {"kind": ...}


def _leave_ray() -> None:
    """Leave whatever Ray this process uses (an earlier test's, or ours), so that the next connect ships
    this module's plugin folder, and the next test's connect ships its own."""
    import ray

    from readtrack.batch.ray_executor import shutdown

    _CONNECTED.clear()
    if ray.is_initialized():
        shutdown()


@pytest.fixture(scope="module", params=KINDS)
def kind(
    request: pytest.FixtureRequest, contract_plugins: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The executor's kind, module-scoped so that pytest runs every case of one kind before the next: a Ray
    of its own is started once for all of its cases (a process joins one cluster at a time)."""
    if request.param == "pool":
        yield "pool"
        return
    from readtrack.batch import ray_executor

    _leave_ray()
    if request.param == "own-ray":
        home = tmp_path_factory.mktemp("own-ray-home")
        with pytest.MonkeyPatch.context() as env:
            env.setenv("READTRACK_PLUGINS_DIR", str(contract_plugins))
            env.setenv("READTRACK_HOME", str(home))  # its ray.log
            env.delenv("RAY_ADDRESS", raising=False)
            env.setenv("RAY_OVERRIDE_RESOURCES", '{"GPU": 2}')  # fake GPUs: none exists here
            ray_executor.connect(None, WORKERS)
        temp = ray_executor._CONNECTED["temp"]
        _CONNECTED["kind"] = "own-ray"
    try:
        yield request.param
    finally:
        _leave_ray()
    if request.param == "own-ray":  # stopped, and its folder removed, as at the end of a command
        assert not temp.exists(), list(temp.iterdir())[:5]


@pytest.fixture
def setup(
    kind: str, contract_plugins: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Setup]:
    monkeypatch.setenv("READTRACK_PLUGINS_DIR", str(contract_plugins))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    if kind == "pool":
        yield Setup(kind, local_pool.ForkServerPool(WORKERS))
        return
    from readtrack.batch.ray_executor import RayExecutor, connect

    if kind == "own-ray":
        ray = connect(None, WORKERS)  # the one `kind` started
        yield Setup(kind, RayExecutor(cpus=WORKERS), ray)
        return
    lab = request.getfixturevalue("ray_lab")
    if _CONNECTED.get("kind") != "lab":
        _leave_ray()
    ray = connect(lab.address, None)
    _CONNECTED["kind"] = "lab"
    yield Setup(kind, RayExecutor(address=lab.address), ray, lab)


@dataclass
class Told:
    """Everything an executor told, in order: ``("event", (plugin, seed), event)`` and ``("outcome", (plugin,
    seed), outcome)``; ``when(told)`` is called after each, under the lock (a case's trigger)."""

    lines: list[tuple[str, tuple[str, int], Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    when: Callable[[Told], None] = lambda told: None

    def on_event(self, request: RunRequest, event: dict[str, Any]) -> None:
        with self.lock:
            self.lines.append(("event", (request.plugin, request.seed), event))
            self.when(self)

    def on_end(self, outcome: Outcome) -> None:
        with self.lock:
            self.lines.append(("outcome", (outcome.job.plugin, outcome.job.seed), outcome))
            self.when(self)

    def of(self, run: tuple[str, int]) -> list[tuple[str, Any]]:
        return [(what, item) for what, key, item in self.lines if key == run]

    def jobs(self, run: tuple[str, int]) -> list[dict[str, Any]]:
        return [item for what, item in self.of(run) if what == "event" and events.is_job(item)]

    def starts(self) -> list[dict[str, Any]]:
        return [item for what, _, item in self.lines if what == "event" and events.is_job(item, "start")]

    def progressed(self, run: tuple[str, int]) -> bool:
        return any(what == "event" and item.get("type") == "progress" for what, item in self.of(run))

    def ended(self, run: tuple[str, int]) -> bool:
        return any(what == "outcome" for what, item in self.of(run))


def run_batch(setup: Setup, requests: list[RunRequest], told: Told, **more: Any) -> list[Outcome]:
    """``requests`` on the setup's executor, everything told into ``told``; the fork servers their starts
    name are kept in ``setup.fork_servers``, each checked to be started through `readtrack.base.processes`."""
    try:
        return setup.executor.run(requests, on_event=told.on_event, on_end=told.on_end, **more)
    finally:
        for start in told.starts():
            setup.fork_servers.add(int(start["pid"]))


def check_one_start_and_one_end(told: Told, runs: list[tuple[str, int]], ended: bool = True) -> None:
    """Each run: exactly one ``job`` start, first of its events; exactly one ``job`` end, last of them; its
    outcome (when ``ended``) after every event of its run."""
    for run in runs:
        mine = told.of(run)
        jobs = [item["event"] for item in told.jobs(run)]
        assert jobs == ["start", "end"], (run, mine)
        said = [item for what, item in mine if what == "event"]
        assert events.is_job(said[0], "start") and events.is_job(said[-1], "end"), (run, said)
        if ended:
            assert [what for what, _ in mine].count("outcome") == 1 and mine[-1][0] == "outcome", (run, mine)


def end_of(told: Told, run: tuple[str, int]) -> dict[str, Any]:
    (end,) = [item for item in told.jobs(run) if item["event"] == "end"]
    return end


def check_started_through_base_processes(setup: Setup) -> None:
    """Every fork server a run's start names runs the command line `python_module` gives (pid alive only: a
    server stopped a moment ago may be gone, or a zombie whose command line reads empty)."""
    expected = python_module(local_pool.SERVER)
    for pid in setup.fork_servers:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        except OSError:
            continue  # gone already: its command line cannot be read, and it is freed
        if argv == [b""]:
            continue  # exited, not yet reaped (a zombie has no command line): freed as well
        assert [a.decode() for a in argv] == expected, (pid, argv)


def processes_in(groups: set[int]) -> dict[int, int]:
    """Every process (pid: its group) in one of ``groups`` (a fork server's session: the server and the
    runs it forked), from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = stat.rsplit(")", 1)[-1].split()  # after the command's name: state, ppid, pgrp, ...
        if int(fields[2]) in groups and fields[0] != "Z":
            found[int(entry.name)] = int(fields[2])
    return found


def check_nothing_left_running(setup: Setup, servers_gone: set[int] | None = None) -> None:
    """No run of the batch is left (no process in a fork server's group but the server itself); the pool's
    servers are gone too, and on Ray those in ``servers_gone`` (those running a run when it was stopped),
    and the cluster's CPUs are all free again."""
    must_go = setup.fork_servers if setup.kind == "pool" else (servers_gone or set())
    deadline = time.monotonic() + 15
    while True:
        left = {
            pid: group
            for pid, group in processes_in(setup.fork_servers).items()
            if pid != group or group in must_go
        }
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not left, {pid: _cmdline(pid) for pid in left}
    if setup.ray is not None:
        ray = setup.ray
        while ray.available_resources().get("CPU", 0) < ray.cluster_resources().get("CPU", 0):
            assert time.monotonic() < deadline, ("CPUs still taken", ray.available_resources())
            time.sleep(0.1)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:200]
    except OSError:
        return "(gone)"


def test_a_passing_batch_tells_each_run_once_in_order_and_its_outcome_after_its_events(setup: Setup) -> None:
    requests = [request("quick", seed) for seed in range(3)]
    told = Told()
    outcomes = run_batch(setup, requests, told)
    assert [(o.job.plugin, o.job.seed) for o in outcomes] == [(r.plugin, r.seed) for r in requests]
    assert [o.record.status if o.record else o.error for o in outcomes] == ["passed"] * 3
    runs = [(r.plugin, r.seed) for r in requests]
    check_one_start_and_one_end(told, runs)
    for run in runs:
        said = [item for what, item in told.of(run) if what == "event"]
        kinds = [item["type"] for item in said]
        assert kinds.count(events.RECORD) == 1 and kinds.index(events.RECORD) < len(kinds) - 1, kinds
        assert end_of(told, run)["status"] == "passed"
        assert all(item["plugin"] == run[0] and item["seed"] == run[1] for item in said), said
    # each run's stderr is its own
    assert [o.output for o in outcomes] == [f"quick seed {seed} on stderr" for seed in range(3)]
    check_started_through_base_processes(setup)
    check_nothing_left_running(setup)


def test_a_run_that_dies_ends_once_as_an_error_with_its_own_stderr_and_touches_no_other(setup: Setup) -> None:
    requests = [request("quick", 0), request("crash", 1), request("crash", 2), request("quick", 3)]
    told = Told()
    outcomes = run_batch(setup, requests, told)
    check_one_start_and_one_end(told, [(r.plugin, r.seed) for r in requests])
    quick0, exited, killed, quick3 = outcomes
    assert [o.record.status if o.record else None for o in outcomes] == ["passed", None, None, "passed"]
    for outcome, code in ((exited, 3), (killed, -signal.SIGKILL)):
        run = (outcome.job.plugin, outcome.job.seed)
        assert outcome.exit_code == code, outcome
        said = f"crash seed {run[1]} dies"
        assert outcome.error == f"the worker exited with code {code} without a record: {said}"
        assert outcome.output == said  # its own, none of another run's
        assert end_of(told, run)["status"] == "error" and end_of(told, run)["error"] == outcome.error
    assert (quick0.output, quick3.output) == ("quick seed 0 on stderr", "quick seed 3 on stderr")
    check_started_through_base_processes(setup)
    check_nothing_left_running(setup)


def test_a_stage_past_its_timeout_ends_once_named_and_its_processes_are_freed(setup: Setup) -> None:
    """``slow`` is stopped by the runner's own timer (a record, ``timeout``); ``stubborn`` swallows it and
    its process is killed once past the timeout and the grace (no record: an error naming the timeout)."""
    requests = [request("slow", 1, timeout=1.0), request("stubborn", 2, timeout=1.0)]
    told = Told()
    slow, stubborn = run_batch(setup, requests, told)
    check_one_start_and_one_end(told, [(r.plugin, r.seed) for r in requests])
    assert slow.record is not None and slow.record.status == "timeout", slow
    assert end_of(told, ("slow", 1))["status"] == "timeout"
    assert stubborn.record is None and stubborn.stopped == "timeout", stubborn
    assert stubborn.error == "train ran past its 1 s timeout and its process was stopped"
    assert end_of(told, ("stubborn", 2))["status"] == "error"
    assert end_of(told, ("stubborn", 2))["error"] == stubborn.error
    check_started_through_base_processes(setup)
    (killed,) = [int(s["pid"]) for s in told.starts() if s["plugin"] == "stubborn"]
    check_nothing_left_running(setup, servers_gone={killed})


def test_an_on_end_that_raises_reaches_the_caller_and_every_process_is_freed(setup: Setup) -> None:
    """The history write hits a full disk as the first run ends, the next still running: the error goes on
    to the caller, and no run, nor any fork server that ran one then, is left."""
    requests = [request("quick", 0), request("slow", 1), request("slow", 2)]
    told = Told()

    def disk_full(outcome: Outcome) -> None:
        told.on_end(outcome)
        raise OSError(errno.ENOSPC, "No space left on device")

    began = time.monotonic()
    with pytest.raises(OSError, match="No space left on device"):
        setup.executor.run(requests, on_event=told.on_event, on_end=disk_full)
    took = time.monotonic() - began
    for start in told.starts():
        setup.fork_servers.add(int(start["pid"]))
    check_started_through_base_processes(setup)
    running = {int(s["pid"]) for s in told.starts() if s["plugin"] == "slow"}
    assert running, told.lines  # a run was running as the error came
    check_nothing_left_running(setup, servers_gone=running)
    assert took < local_pool.CANCEL_GRACE_S + 20, took


@pytest.mark.parametrize("how", ["cancel-event", "SIGINT", "SIGTERM", "SIGHUP"])
def test_a_cancel_keeps_the_finished_runs_as_finished_and_the_running_ones_as_cancelled(
    setup: Setup, how: str
) -> None:
    """Cancelled once ``quick`` has ended and both ``slow`` runs are inside their stage: by setting the
    ``cancel`` event, or by a signal to this process, taken by the executor's loop: Ctrl+C (SIGINT), or
    SIGTERM (`kill`, `timeout`, a scheduler) or SIGHUP (the terminal closed), which stop the runs the same
    way (issue 94: they used to leave them running, unrecorded)."""
    requests = [request("quick", 0), request("slow", 1), request("slow", 2)]
    cancel = threading.Event()
    asked: list[float] = []

    def when(told: Told) -> None:
        ready = told.ended(("quick", 0)) and told.progressed(("slow", 1)) and told.progressed(("slow", 2))
        if asked or not ready:
            return
        asked.append(time.monotonic())
        if how.startswith("SIG"):
            os.kill(os.getpid(), signal.Signals[how])
        else:
            cancel.set()

    told = Told(when=when)
    with pytest.raises(JobsCancelled) as cancelled, heard(how):
        run_batch(setup, requests, told, cancel=cancel)
    assert asked and time.monotonic() - asked[0] < local_pool.CANCEL_GRACE_S + 5
    assert cancelled.value.signum == (signal.Signals[how] if how.startswith("SIG") else signal.SIGINT)
    finished = cancelled.value.outcomes
    assert [(o.job.plugin, o.job.seed, o.record.status if o.record else o.error) for o in finished] == [
        ("quick", 0, "passed")
    ]
    cut = sorted(cancelled.value.cut_short, key=lambda o: o.job.seed)
    assert [(o.job.plugin, o.job.seed, o.record.status if o.record else o.error) for o in cut] == [
        ("slow", 1, "cancelled"),
        ("slow", 2, "cancelled"),
    ]
    check_one_start_and_one_end(told, [("quick", 0)])
    for run in (("slow", 1), ("slow", 2)):  # a cancelled run has its record, and no outcome of its own
        assert [item["event"] for item in told.jobs(run)] == ["start"] and not told.ended(run)
    check_started_through_base_processes(setup)
    running = {int(s["pid"]) for s in told.starts() if s["plugin"] == "slow"}
    check_nothing_left_running(setup, servers_gone=running)


@contextlib.contextmanager
def heard(how: str) -> Iterator[None]:
    """The signal ``how`` names as a terminal's shell leaves it: the executor takes only a signal that is not
    ignored (as ``nohup`` asks of SIGHUP, and a background job's shell of SIGINT), and a suite started that
    way ignores it in this process too."""
    sig = signal.Signals[how] if how.startswith("SIG") else None
    if sig is None or signal.getsignal(sig) is not signal.SIG_IGN:
        yield
        return
    signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(sig, signal.SIG_IGN)


@pytest.fixture
def gpus(setup: Setup) -> Iterator[int]:
    """Two fake GPUs on the cluster: the Ray of its own has them (`kind`); the lab gets a node with them."""
    if setup.kind == "own-ray":
        yield 2
        return
    from ray_lab import cluster_env

    lab = setup.lab
    with cluster_env(lab.worker_home):
        node = lab.cluster.add_node(num_cpus=2, num_gpus=2, node_ip_address="127.0.0.1")
        lab.cluster.wait_for_nodes()
    try:
        yield 2
    finally:
        lab.cluster.remove_node(node)


@pytest.mark.parametrize("kind", RAY_KINDS, indirect=True, scope="module")  # the pool maps no GPU to a run
def test_a_gpu_run_sees_the_gpu_ray_gave_its_task(setup: Setup, gpus: int) -> None:
    """Two CUDA runs at once, each given one of the two GPUs: CUDA_VISIBLE_DEVICES in the run's process (its
    fork server's environment, which the child forked for the run has: no exec between) is the GPU Ray gave
    its task (``gpus`` in its start: `ray.get_gpu_ids` in the task). No CUDA here: each run then ends as its
    own error, CUDA not available, as the contract says of a run's own failure."""
    requests = [request("quick", seed, device="cuda") for seed in (1, 2)]
    told = Told()
    outcomes = run_batch(setup, requests, told)
    check_one_start_and_one_end(told, [(r.plugin, r.seed) for r in requests])
    assert all(o.record is None and "CUDA is not available" in str(o.error) for o in outcomes), outcomes
    starts = told.starts()
    assert len(starts) == 2 and all(len(s["gpus"]) == 1 for s in starts), starts
    for start in starts:
        assert visible(int(start["pid"])) == start["gpus"][0], (start, visible(int(start["pid"])))
    check_started_through_base_processes(setup)
    check_nothing_left_running(setup)


def visible(pid: int) -> str | None:
    for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
        key, _, value = item.decode(errors="replace").partition("=")
        if key == "CUDA_VISIBLE_DEVICES":
            return value
    return None


@pytest.mark.skipif(IN_OWN_RAY, reason="this is the process of its own")
@pytest.mark.xdist_group("ray")
def test_every_case_on_a_ray_of_its_own(tmp_path: Path) -> None:
    """Every case above on a Ray of the batch's own (``own-ray``), in a pytest process of its own (`OWN_RAY`):
    started once for all of them by `connect`, stopped and its folder removed by `shutdown` at their end."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    here = str(Path(__file__).relative_to(repo))
    argv = [sys.executable, "-m", "pytest", "-n", "0", "-p", "no:cacheprovider", "-q", "--durations=0",
            "-o", "addopts=", "-k", "not test_every_case_on_a_ray_of_its_own", here]  # fmt: skip
    env = {**os.environ, OWN_RAY: "1"}
    env.pop("PYTEST_XDIST_WORKER", None)
    result = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert re.match(r"9 passed, 1 deselected in ", summary), result.stdout[-3000:]
