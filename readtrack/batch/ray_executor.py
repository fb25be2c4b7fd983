"""The executor of a Ray cluster: ``readtrack run ... --executor ray [--address HOST:PORT]``.

`RayExecutor` sends each `RunRequest` to the cluster as one Ray task (`readtrack.batch.ray_worker`) that
asks for ``num_cpus`` = the run's threads and, for ``--device cuda``, one GPU; Ray places it. The cluster is
the one at ``--address``, else at Ray's own ``RAY_ADDRESS``, else a Ray started for the command on this
machine with the CPUs of ``--jobs``, listening on loopback only and without a dashboard (Ray's dashboard
and job API run whatever is sent to them, unauthenticated: `LOOPBACK`), its session folder a temporary one,
removed as the process ends (`shutdown`). A cluster that cannot be reached is one line and exit 2
(`ClusterError`) within `CONNECT_S`; one that refuses this driver for want of its token says so, with the fix;
what Ray itself says meanwhile goes to the data dir's ``ray.log`` (`ray_log`), not to the terminal, and so do
the lines the cluster sends the driver while connected (`_lines_to`: a lost node's errors and
``[state-dump]``, the workers' output). A process joins one cluster (`connect`), and its environment is left
as it was.

While runs go on, their events come back through an inbox actor on the driver's node, so progress looks as
it does locally; the driver alone writes the history (`readtrack.batch.groups`), and each record names the
Ray node and the host that ran it (``environment.node``, ``environment.host``). Each attempt has one ``job``
start and one ``job`` end: the node's end is held until the run's outcome is taken, and told just before it.
A task whose worker or node dies is run again by Ray, `RETRIES` times at most (the lost attempt ends
``retried``, the next starts with its ``attempt``), and its outcome is taken once, from the attempt that
finished. A worker whose readtrack or plugin code differs from the driver's refuses the run, and the batch
stops with one line naming both (`readtrack.batch.identity`). Ctrl+C cancels every task (each run records
itself as cancelled within the grace, as locally) and raises `JobsCancelled` with what had finished.

The user's plugin folder (``READTRACK_PLUGINS_DIR``, or ``plugins/`` beside papers.yaml) travels with the
job as its ``runtime_env`` working directory, made each worker's plugin folder by the job's setup hook
(`readtrack.batch.ray_worker.use_shipped_plugins`); built-in plugins run where readtrack is installed. Ray is
imported only here, and this module only when ``--executor ray`` is asked for. Torch-free.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from readtrack.base.errors import ClusterError, UsageError
from readtrack.batch.executor import JobsCancelled, OnEvent, Outcome, stop_asked
from readtrack.batch.identity import code_identity
from readtrack.batch.pool import CANCEL_GRACE_S
from readtrack.batch.request import RunRequest
from readtrack.plugins import events
from readtrack.plugins.records import RunRecord

#: What a Ray started by readtrack is told, so that its head, its workers and the driver all listen on
#: 127.0.0.1 and nowhere else (Ray otherwise binds every interface, whatever node address it is given;
#: Ray reads this as it is imported), and send no usage statistics anywhere.
LOOPBACK = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
#: Seconds to reach a cluster's head before saying it cannot be reached.
CONNECT_S = 3.0
#: What a driver joining a cluster is told (unless its environment says otherwise): something that answers
#: at the address but is no Ray head is given up after 3 tries of a second (Ray's default: 20).
IMPATIENT = {"RAY_NUM_REDIS_GET_RETRIES": "3"}
#: How many times a task whose worker or node died is run again.
RETRIES = 2
INSTALL = "pip install 'readtrack[ray]'"
#: The file in the data dir that keeps what Ray says while readtrack connects (`ray_log`).
RAY_LOG = "ray.log"
#: What Ray says when the cluster asks for a token this driver lacks (token authentication).
TOKEN_REFUSED = ("InvalidAuthToken", "AuthenticationError", "Authentication token is missing")


def import_ray() -> Any:
    """Ray, or a UsageError that says how to install it."""
    try:
        import ray
    except ImportError:
        raise UsageError(f"--executor ray needs Ray: {INSTALL}") from None
    return ray


def cluster_address(address: str | None) -> str | None:
    """The cluster asked for: ``address``, else ``RAY_ADDRESS``; None for a Ray of this command's own."""
    return (address or os.environ.get("RAY_ADDRESS") or "").strip() or None


def check_reachable(address: str) -> None:
    """A ClusterError unless something listens at ``address`` (``HOST:PORT``; ``auto``, the cluster that
    ``ray start`` left on this machine, is Ray's to find)."""
    if address == "auto":
        return
    match = re.fullmatch(r"(?:ray://)?\[?([^\]]+?)\]?:(\d+)", address)
    if match is None:
        raise ClusterError(
            f"Ray address {address!r}: give HOST:PORT, the head's (`ray start --head` prints it)"
        )
    host, port = match.group(1), int(match.group(2))
    try:
        socket.create_connection((host, port), timeout=CONNECT_S).close()
    except OSError as err:
        why = err.strerror or str(err) or type(err).__name__
        raise ClusterError(
            f"no Ray cluster at {address}: {why.lower()} (start one with `ray start --head`, or leave "
            "--address and RAY_ADDRESS out for a Ray of this command's own)"
        ) from None
    if not os.environ.get("RAY_USE_TLS") and not speaks_grpc(host, port):
        raise ClusterError(
            f"{address} answers, but not as a Ray head (no gRPC within {CONNECT_S:g} s): give the port of "
            "the head's GCS, the one `ray start --head --port` names"
        )


def speaks_grpc(host: str, port: int) -> bool:
    """Whether ``host:port`` takes a gRPC (HTTP/2) connection within `CONNECT_S`, as a Ray head's GCS does
    (Ray itself would try for minutes something that accepts and hangs up)."""
    import grpc  # Ray's own dependency

    channel = grpc.insecure_channel(f"{host}:{port}")
    try:
        grpc.channel_ready_future(channel).result(timeout=CONNECT_S)
    except grpc.FutureTimeoutError:
        return False
    finally:
        channel.close()
    return True


def runtime_env() -> dict[str, Any]:
    """The job's ``runtime_env``: the user's plugin folder as its working directory, when it has plugins."""
    from readtrack.plugins.folders import plugin_inits, user_plugins_dir

    folder = user_plugins_dir()
    if folder is None or not plugin_inits(folder):
        return {}
    excludes = ["__pycache__/", "*.pyc", ".git/", ".venv/"]  # (".*" would leave out everything: Ray's rule)
    hook = "readtrack.batch.ray_worker.use_shipped_plugins"  # the worker's plugin folder: Ray's copy
    return {"working_dir": os.fspath(folder), "excludes": excludes, "worker_process_setup_hook": hook}


def connect(address: str | None, cpus: int | None) -> Any:
    """Ray, connected to the cluster at ``address`` (`cluster_address`), or to a Ray started here with
    ``cpus`` CPUs on loopback only (`LOOPBACK`); once per process: another cluster than the one this process
    uses is refused in one line. Nothing of the process is left changed: Ray's settings (`LOOPBACK`,
    `IMPATIENT`) are in its environment only while it loads and starts (the processes of a Ray started here
    inherit them), and what Ray says meanwhile goes to `ray_log`, named by the error it explains. A Ray
    started here keeps its session folder in a temporary folder of its own, stopped and removed as the
    process ends (`shutdown`)."""
    target = cluster_address(address)
    settings = LOOPBACK if target is None else {k: os.environ.get(k, v) for k, v in IMPATIENT.items()}
    with _environment(settings):  # before Ray is imported: it reads some of these once, as it loads
        ray = import_ray()
        if ray.is_initialized():
            return _the_same(ray, target)
        if target is not None:
            check_reachable(target)
        log = ray_log()
        temp = None if target is not None else _temp_dir()
        # Ray's own lines (the token authentication it turns on, the instance it started) are not the user's;
        # what the cluster forwards (log_to_driver) goes to the log with Ray's other lines (`_lines_to`)
        quiet: dict[str, Any] = {"log_to_driver": True, "logging_level": logging.ERROR}
        try:
            with _stderr_to(log):  # its C++ client's lines (retries, refusals) are written on descriptor 2
                if temp is None:
                    ray.init(address=target, runtime_env=runtime_env(), **quiet)
                else:
                    ray.init(  # "local": a new Ray, never the one `ray start` left on this machine
                        address="local", num_cpus=cpus, include_dashboard=False, _node_ip_address="127.0.0.1",
                        runtime_env=runtime_env(), _temp_dir=os.fspath(temp), **quiet,
                    )  # fmt: skip
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as err:
            if temp is not None:
                shutil.rmtree(temp, ignore_errors=True)
            raise ClusterError(_why_not(err, target, log)) from None
    _lines_to(log)
    _CONNECTED.update(target=target, temp=temp)
    if temp is not None:
        atexit.register(shutdown)  # after Ray's own: run before it
    return ray


#: What this process's `connect` connected to: ``target`` (None: a Ray of its own) and ``temp``, the
#: temporary folder of a Ray of its own.
_CONNECTED: dict[str, Any] = {}


def ray_log() -> Path:
    """Where Ray's own lines go while readtrack connects (``ray.log`` in the data dir, the last connect's)."""
    from readtrack.base.paths import data_dir

    return data_dir() / RAY_LOG


def shutdown() -> None:
    """Leave the Ray this process connected to; a Ray of its own is stopped and its folder removed."""
    ray = import_ray()
    temp = _CONNECTED.pop("temp", None)
    _CONNECTED.clear()
    if ray.is_initialized():
        with contextlib.suppress(OSError), _stderr_to(ray_log(), append=True):
            ray.shutdown()
    _lines_to(None)
    if temp is not None:
        shutil.rmtree(temp, ignore_errors=True)


def _the_same(ray: Any, target: str | None) -> Any:
    """``ray``, already initialised in this process, when it is the cluster ``target`` names; else a
    ClusterError (Ray joins one cluster per process)."""
    if "target" in _CONNECTED:
        now = _CONNECTED["target"]
        if now == target:
            return ray
    else:  # initialised by the process itself (a test, a notebook): whatever it is, unless another is named
        now = ray.get_runtime_context().gcs_address
        if target in (None, "auto", now) or (target or "").removeprefix("ray://") == now:
            return ray
    here = f"the Ray cluster at {now}" if now else "a Ray of its own"
    asked = f"the one at {target}" if target else "a Ray of its own"
    raise ClusterError(f"this process already uses {here}; {asked} needs a readtrack process of its own")


#: What Ray's driver printed the cluster's lines with, while `_lines_to` has them written to a file instead.
_PRINTERS: dict[str, Any] = {}
_WRITING = threading.Lock()


def _lines_to(path: Path | None) -> None:
    """The lines the cluster sends this driver, written to ``path`` (``ray.log``) instead of the terminal
    while connected (None: printed again, as Ray does). They are of two kinds, both printed by Ray's driver
    from threads of its own whatever readtrack prints meanwhile: what ``log_to_driver`` forwards (the
    workers' output, the raylets' and GCS's ``.err`` files: a node that dies leaves its ``[state-dump]``
    there, sent once per node of a host), and the errors the raylets publish (``(raylet) Task run_on_node
    failed ... will be retried``, on stdout, where ``--json`` writes its events), which Ray prints even
    without ``log_to_driver``. Ray's driver has no setting for either: its dispatcher's handler and its
    module's printer are replaced."""
    from ray._private import worker as driver
    from ray._private.ray_logging import global_worker_stdstream_dispatcher as dispatcher

    if path is None:
        if "printer" in _PRINTERS:
            driver.print_to_stdstream = _PRINTERS.pop("printer")
        dispatcher.remove_handler("readtrack")
        return

    def write(data: dict[str, Any], ignore_prefix: bool = False) -> None:
        who = ", ".join(str(data[key]) for key in ("pid", "ip") if data.get(key))
        with _WRITING, contextlib.suppress(OSError), path.open("a", encoding="utf-8") as log:
            log.writelines(f"({who}) {line}\n" for line in data.get("lines") or [])

    _PRINTERS.setdefault("printer", driver.print_to_stdstream)
    driver.print_to_stdstream = write
    dispatcher.remove_handler("ray_print_logs")
    dispatcher.remove_handler("readtrack")
    dispatcher.add_handler("readtrack", write)


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in this process's environment inside, and the environment as it was afterwards (what Ray
    itself sets as it starts, ``PYTHONBREAKPOINT`` for its debugger, included)."""
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        for key in [key for key in os.environ if key not in saved]:
            del os.environ[key]
        os.environ.update({key: value for key, value in saved.items() if os.environ.get(key) != value})


@contextlib.contextmanager
def _stderr_to(path: Path, append: bool = False) -> Iterator[None]:
    """Descriptor 2 (where Ray's C++ code writes) into ``path`` inside, the terminal's again afterwards."""
    sys.stderr.flush()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab" if append else "wb") as log:
        saved = os.dup(2)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _temp_dir() -> Path:
    """A folder of its own for a Ray started here (its sockets' paths must stay short: /tmp when the
    system's temporary folder has a long name)."""
    base = tempfile.gettempdir()
    return Path(tempfile.mkdtemp(prefix="readtrack-ray-", dir=base if len(base) <= 40 else "/tmp"))


def _why_not(err: BaseException, target: str | None, log: Path) -> str:
    """The one line of a failed connect: token authentication named when Ray's lines say it refused us."""
    said = str(err).strip()
    try:
        lines = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        lines = ""
    where = target or "this machine"
    if any(word in text for text in (said, lines) for word in TOKEN_REFUSED):
        return (
            f"the Ray cluster at {where} uses token authentication and refused this driver "
            "(InvalidAuthToken): set RAY_AUTH_MODE=token, with the cluster's token in ~/.ray/auth_token "
            f"or RAY_AUTH_TOKEN (Ray's own lines: {log})"
        )
    line = said.splitlines()[0] if said else type(err).__name__
    return f"cannot use the Ray cluster at {where}: {line} (Ray's own lines: {log})"


def resources(request: RunRequest) -> dict[str, Any]:
    """What a run's task asks Ray for: a CPU per torch thread, a GPU for a CUDA run."""
    gpu = request.device.strip().lower().startswith("cuda")
    return {"num_cpus": max(1, request.threads), "num_gpus": 1 if gpu else 0}


def check_feasible(ray: Any, requests: Sequence[RunRequest]) -> None:
    """A ClusterError when no node of the cluster has what a request asks for (a task Ray would keep
    waiting for, silently): more CPUs than a node has, or a GPU where none has one."""
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    most = {key: max((n.get(key, 0) for n in nodes), default=0) for key in ("CPU", "GPU")}
    for request in requests:
        asked = resources(request)
        if asked["num_cpus"] > most["CPU"] or asked["num_gpus"] > most["GPU"]:
            what = (
                f"{asked['num_gpus']} GPU for --device {request.device}"
                if asked["num_gpus"] > most["GPU"]
                else f"{asked['num_cpus']} CPUs for --threads {request.threads}"
            )
            raise ClusterError(
                f"no node of the Ray cluster has {what} (its largest node: {most['CPU']:g} CPUs, "
                f"{most['GPU']:g} GPUs; {len(nodes)} node{'' if len(nodes) == 1 else 's'})"
            )


def cluster_summary(address: str | None) -> str:
    """``2 nodes, 2 CPUs, 0 GPUs at 127.0.0.1:6379`` (``readtrack doctor``); connects to the cluster."""
    ray = connect(address, None)
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    total = ray.cluster_resources()
    cpus, gpus = int(total.get("CPU", 0)), int(total.get("GPU", 0))
    where = cluster_address(address) or "this machine (a Ray of its own, loopback only)"
    plural = "" if len(nodes) == 1 else "s"
    return f"{len(nodes)} node{plural}, {cpus} CPUs, {gpus} GPUs at {where}"


@dataclass(frozen=True)
class RayExecutor:
    """The executor of a Ray cluster (`readtrack.batch.executor.Executor`; the module docstring)."""

    address: str | None = None
    cpus: int | None = None  # a Ray started here: its CPUs (None: this machine's)
    retries: int = RETRIES

    def run(
        self,
        requests: Sequence[RunRequest],
        *,
        on_event: OnEvent | None = None,
        on_end: Callable[[Outcome], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> list[Outcome]:
        for request in requests:
            if re.fullmatch(r"cuda:\d+", request.device.strip().lower()):
                raise UsageError(
                    f"--device {request.device} with --executor ray: use --device cuda (Ray gives each run "
                    "its GPU)"
                )
        ray = connect(self.address, self.cpus)
        check_feasible(ray, requests)
        return _Batch(ray, list(requests), self.retries, on_event, on_end).run(cancel)


class _Batch:
    """One `RayExecutor.run`: the tasks in flight, the inbox, what has ended."""

    def __init__(
        self,
        ray: Any,
        requests: list[RunRequest],
        retries: int,
        on_event: OnEvent | None,
        on_end: Callable[[Outcome], None] | None,
    ) -> None:
        self.ray, self.requests, self.retries = ray, requests, retries
        self.on_event, self.on_end = on_event, on_end
        self.ended: dict[int, Outcome] = {}
        self.records: dict[int, dict[str, Any]] = {}  # the last record each run streamed (a cancelled one's)
        self.started: dict[int, float] = {}
        self.where: dict[int, tuple[str, str]] = {}
        self.over: set[int] = set()  # runs whose end came through the inbox (their task is returning)
        self.held: dict[int, dict[str, Any]] = {}  # that end, told with the run's outcome (`end`)
        self.attempts: dict[int, int] = {}  # how many times each run has started
        self.lost: dict[int, list[dict[str, Any]]] = {}  # each run's lost attempts, as its record keeps them

    def run(self, cancel: threading.Event | None) -> list[Outcome]:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        from readtrack.batch import ray_worker

        ray = self.ray
        here = ray.get_runtime_context().get_node_id()
        mailbox = ray.remote(num_cpus=0)(ray_worker.Inbox)
        self.inbox = mailbox.options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False)
        ).remote()
        task = ray.remote(ray_worker.run_on_node)
        identities = {plugin: code_identity(plugin) for plugin in {r.plugin for r in self.requests}}
        pending: dict[Any, int] = {}
        for i, request in enumerate(self.requests):
            options = {**resources(request), "max_retries": self.retries, "retry_exceptions": False}
            ref = task.options(name=request.label, **options).remote(
                request.to_json(), i, identities[request.plugin], self.inbox
            )
            pending[ref] = i
            self.started[i] = time.perf_counter()
        try:
            with stop_asked(cancel) as asked:
                while pending:
                    ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0.1)
                    self.drain()
                    for ref in ready:
                        self.end(pending.pop(ref), ref)
                    if asked():
                        raise KeyboardInterrupt
        except KeyboardInterrupt:  # Ctrl+C taken above, or cancel: stop the tasks (a 2nd Ctrl+C now raises)
            cut = self.stop(pending)
            raise JobsCancelled([self.ended[i] for i in sorted(self.ended)], cut) from None
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        finally:
            ray.kill(self.inbox)
        return [self.ended[i] for i in range(len(self.requests))]

    def drain(self) -> None:
        """Hand on every event the inbox holds, in order; an attempt's own ``job end`` is held back and told
        with its outcome (`end`), so that each attempt ends once, and its outcome after all its events."""
        for i, event in self.ray.get(self.inbox.take.remote()):
            request = self.requests[i]
            if events.is_job(event, "start"):
                self.attempts[i] = self.attempts.get(i, 0) + 1
                if i in self.where:  # a second attempt: the first one's node or worker died
                    retried = self._retried(i)
                    self.tell(request, retried)  # the lost attempt's one end
                    node, host = self.where[i]
                    self.lost.setdefault(i, []).append(
                        {"attempt": self.attempts[i] - 1, "node": node, "host": host, "status": "retried",
                         "error": retried["error"], "wall_s": retried["wall_s"]}
                    )  # fmt: skip
                    self.over.discard(i)  # the first attempt may have ended before its node died
                    self.held.pop(i, None)
                    event = {**event, "attempt": self.attempts[i]}
                self.where[i] = (str(event.get("node")), str(event.get("host")))
                self.started[i] = time.perf_counter()
            elif events.is_job(event, "end"):
                self.over.add(i)
                self.held[i] = event
                continue
            elif event.get("type") == events.RECORD:
                self.records[i] = event["record"]
            self.tell(request, event)

    def tell(self, request: RunRequest, event: dict[str, Any]) -> None:
        if self.on_event is not None:
            self.on_event(request, event)

    def _retried(self, i: int) -> dict[str, Any]:
        node, host = self.where[i]
        request = self.requests[i]
        lost = f"its Ray worker on {host} (node {node[:8]}) was lost; run again"
        wall = time.perf_counter() - self.started[i]
        return events.job_end(request.plugin, request.seed, "retried", lost, wall, retry=True)

    def end(self, i: int, ref: Any) -> None:
        """Take request ``i``'s outcome from its finished task (refusals stop the batch); tell its attempt's
        end (the node's, held by `drain`, or one said here when the task gave none), then the outcome."""
        ray, request = self.ray, self.requests[i]
        exceptions = ray.exceptions
        wall = time.perf_counter() - self.started[i]
        held = self.held.pop(i, None)
        try:
            answer = ray.get(ref)
        except exceptions.RayTaskError as err:  # the task itself raised: readtrack's own bug on the worker
            outcome = Outcome(request, None, 1, f"the Ray task failed: {err.cause!r}", wall, output=str(err))
            held = None
        except exceptions.RayError as err:  # its worker or node died, more often than retried
            line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            tries = self.retries + 1
            outcome = Outcome(request, None, 1, f"its Ray worker was lost {tries} times: {line}", wall)
            held = None
        else:
            if answer.refused is not None:
                raise ClusterError(answer.refused)
            outcome = answer.outcome
            if outcome.record is not None:
                outcome.record.info.environment.update({"node": answer.node, "host": answer.host})
                self.keep_attempts(i, outcome.record)
        if i not in self.where:  # it never started: said as a start and an end, as the pool says it
            self.tell(request, events.job_start(request.plugin, request.seed))
        if held is None:
            status = outcome.record.status if outcome.record is not None else "error"
            held = events.job_end(request.plugin, request.seed, status, outcome.error, outcome.wall_s)
        self.tell(request, held)
        self.ended[i] = outcome
        if self.on_end is not None:
            self.on_end(outcome)

    def keep_attempts(self, i: int, record: RunRecord) -> None:
        """Run ``i``'s record keeps every attempt (`RunInfo.attempts`) when one or more were lost: theirs,
        then the one that made the record."""
        if i not in self.lost:
            return
        env = record.info.environment
        last = {"attempt": len(self.lost[i]) + 1, "node": env.get("node"), "host": env.get("host")}
        last.update(status=record.status, error=None, wall_s=record.duration_s)
        record.info.attempts = [*self.lost[i], last]

    def returned(self, ref: Any) -> bool:
        """Whether the ready task ``ref`` returned a run's outcome (rather than being cancelled)."""
        try:
            answer = self.ray.get(ref)
        except self.ray.exceptions.RayError:
            return False
        return answer.refused is None

    def stop(self, pending: dict[Any, int]) -> list[Outcome]:
        """Cancel every task still running; wait the grace for them to record themselves as cancelled
        (their records come through the inbox); return those as cut short. A run whose end has come
        through the inbox is not cancelled: its task is returning, and its outcome is kept as finished."""
        ray = self.ray
        for ref, i in pending.items():
            if i not in self.over:
                ray.cancel(ref)  # KeyboardInterrupt in the task: its pool stops the run, which records itself
        left = list(pending)
        deadline = time.monotonic() + CANCEL_GRACE_S + 2
        while left and time.monotonic() < deadline:
            ready, left = ray.wait(left, num_returns=len(left), timeout=0.2)
            self.drain()
            for ref in ready:
                if self.returned(ref):
                    self.end(pending[ref], ref)
        for ref in left:
            ray.cancel(ref, force=True)
        self.drain()
        cut = []
        for i in sorted(pending.values()):
            if i in self.records and i not in self.ended:
                record = RunRecord.from_dict(self.records[i])
                if i in self.where:
                    record.info.environment.update(dict(zip(("node", "host"), self.where[i], strict=True)))
                self.keep_attempts(i, record)
                wall = time.perf_counter() - self.started[i]
                cut.append(Outcome(self.requests[i], record, 130, None, wall))
        return cut
