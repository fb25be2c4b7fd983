"""What runs inside a Ray worker for `readtrack.batch.ray_executor.RayExecutor`: one request per Ray task.

:func:`run_on_node` is the task. It first compares the code it would run with the driver's
(`readtrack.batch.identity`) and refuses, naming both, when they differ. Then it runs the request exactly as
this machine's pool does (`readtrack.batch.pool.run_jobs`): in a fresh child forked from a fork server
that imported torch once, so the run gives the numbers it gives alone. The fork servers are kept by the
Ray worker process between its tasks (`_SERVERS`): a sweep of quick runs pays torch's import once per Ray
worker, not once per run. They are kept by the GPUs they see: Ray sets ``CUDA_VISIBLE_DEVICES`` in its worker
for each GPU task, to the GPUs it gave that task, and a fork server (and every child it forks) keeps the
value it started with; so a task runs on servers started with its own GPUs (`servers`), never on those of
an earlier task that had others. Events go to the driver's :class:`Inbox` (an actor on the driver's node) in
batches, every `FLUSH_S` and at each stage's start and end, the last batch delivered before the task
returns, so the driver has every event of a run before its outcome.

Ray cancels a task (the driver's Ctrl+C) by raising KeyboardInterrupt in it: the pool then stops the run,
which records itself as cancelled within the grace, and that record reaches the inbox before the task ends.
Torch-free (the fork server imports torch, in its own process); imported only in Ray's worker processes.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from typing import Any

from readtrack.batch.executor import JobsCancelled, Outcome
from readtrack.batch.identity import code_identity, identity_text
from readtrack.batch.pool import _close, _Worker, run_jobs
from readtrack.batch.request import RunRequest
from readtrack.plugins import events

#: Seconds between two batches of events sent to the driver while a run goes on.
FLUSH_S = 0.2
#: The variable by which Ray gives a task its GPUs (and a fork server keeps those it started with).
VISIBLE = "CUDA_VISIBLE_DEVICES"

_SERVERS: dict[str | None, list[_Worker]] = {}  # this Ray worker's idle fork servers, by their `VISIBLE`
#: How many GPU sets' idle fork servers a Ray worker keeps: a task on another set closes those of the set used
#: longest ago (each server holds torch, a few hundred MB; a worker that met many GPU sets kept them all).
KEPT_SETS = 2


def use_shipped_plugins() -> None:
    """The job's ``worker_process_setup_hook`` when the driver ships the user's plugin folder: Ray runs it in
    each of the job's worker processes as it starts them, before any task, in the folder's copy on this node
    (its working directory), which becomes the worker's plugin folder (``READTRACK_PLUGINS_DIR``), as the
    job's ``env_vars`` would, had Ray said where the copy lies; the fork servers inherit it."""
    os.environ["READTRACK_PLUGINS_DIR"] = os.getcwd()


def servers() -> list[_Worker]:
    """The idle fork servers for this task: those started with the GPUs Ray gave it (`VISIBLE` as Ray set it
    for this task; a CPU task's, whatever it is, is the key of the servers it starts too). The servers of
    the sets beyond the `KEPT_SETS` used last are closed."""
    key = os.environ.get(VISIBLE)
    kept = _SERVERS.pop(key, [])
    _SERVERS[key] = kept  # the set used last, last
    while len(_SERVERS) > KEPT_SETS:
        _close(_SERVERS.pop(next(iter(_SERVERS))))
    return kept


class Inbox:
    """The driver's mailbox (a Ray actor on the driver's node): tasks add ``(index, event)`` pairs, the
    driver takes them all, in order, at each look."""

    def __init__(self) -> None:
        self.items: list[tuple[int, dict[str, Any]]] = []

    def add(self, items: list[tuple[int, dict[str, Any]]]) -> None:
        self.items.extend(items)

    def take(self) -> list[tuple[int, dict[str, Any]]]:
        items, self.items = self.items, []
        return items


@dataclass
class NodeOutcome:
    """A task's answer: the run's `Outcome` (None when refused), where it ran, and a refusal's line."""

    outcome: Outcome | None
    node: str
    host: str
    refused: str | None = None


class _Sender:
    """Buffers a run's events and sends them to the inbox in batches (see the module docstring)."""

    def __init__(self, inbox: Any, index: int, node: str, host: str, gpus: list[str]) -> None:
        self.inbox, self.index, self.node, self.host = inbox, index, node, host
        self.where: dict[str, Any] = {"node": node, "host": host, **({"gpus": gpus} if gpus else {})}
        self.buffer: list[tuple[int, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._every, daemon=True)
        self.thread.start()

    def add(self, event: dict[str, Any]) -> None:
        if event.get("type") == events.JOB:  # where it runs (its GPUs too), with its start and its end
            event = {**event, **self.where}
        with self.lock:
            self.buffer.append((self.index, event))
        if event.get("type") in (events.STAGE, events.RECORD, events.ERROR, events.JOB):
            self.flush()

    def flush(self, wait: bool = False) -> None:
        """Send what the buffer holds. The batch is taken and sent under one lock: Ray runs an actor's
        calls in the order they are sent, and two flushes (the timer's and a stage's) that took their
        batches in one order could otherwise send them in the other, a run's record before its start."""
        with self.lock:
            batch, self.buffer = self.buffer, []
            sent = self.inbox.add.remote(batch) if batch or wait else None
        if wait and sent is not None:
            import ray

            ray.get(sent)

    def _every(self) -> None:
        while not self.stop.wait(FLUSH_S):
            self.flush()

    def close(self) -> None:
        """Stop the timer and deliver what is left, waiting until the inbox has it."""
        self.stop.set()
        self.thread.join()
        self.flush(wait=True)


def where() -> tuple[str, str]:
    """This Ray node's id and this machine's host name."""
    import ray

    return ray.get_runtime_context().get_node_id(), socket.gethostname()


def run_on_node(request_json: str, index: int, driver: dict[str, str], inbox: Any) -> NodeOutcome:
    """The Ray task: run one request here, its events to ``inbox`` under ``index`` (see the module
    docstring). ``driver`` is the driver's `code_identity` of the request's plugin."""
    import ray

    node, host = where()
    request = RunRequest.from_json(request_json)
    mine = code_identity(request.plugin)
    if mine != driver:
        line = (
            f"node {node[:8]} ({host}) runs {identity_text(request.plugin, mine)}, the driver "
            f"{identity_text(request.plugin, driver)}: install the same code on every node"
        )
        return NodeOutcome(None, node, host, refused=line)
    sender = _Sender(inbox, index, node, host, [str(gpu) for gpu in ray.get_gpu_ids()])
    try:
        (outcome,) = run_jobs(
            [request], workers=1, on_event=lambda job, event: sender.add(event), keep=servers()
        )
    except JobsCancelled:
        sender.close()  # the cancelled run's own record, for the driver to keep
        raise
    sender.close()
    return NodeOutcome(outcome, node, host)
