"""A Ray cluster of two nodes on this machine, one CPU each, for the tests of ``--executor ray`` (issue 74).

`tests/conftest.py` starts one per test process, when a test first asks for ``ray_lab``; the tests that do are
in the ``ray`` xdist group, so one process runs them all and one cluster serves them. Every Ray process
listens on 127.0.0.1 alone (`readtrack.batch.ray_executor.LOOPBACK` in the nodes' environment). The plugins
are tiny ones of a tmp folder that Ray ships with each job (``runtime_env``): toy's train stage says whether
it runs from Ray's copy (``shipped``), and pauses per step when asked (``--set pause=0.05``), so a run lasts
as long as a test needs it to (seed 0 never pauses).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fake_plugins import FAILING, write_plugin
from ray.cluster_utils import Cluster

from readtrack.batch.ray_executor import LOOPBACK

CONFIG = """
from dataclasses import dataclass

from readtrack.plugins.knobs import knob


@dataclass(frozen=True)
class Config:
    steps: int = knob(20, low=1, high=10_000, help="steps")
    pause: float = knob(0.0, low=0.0, high=1.0, help="seconds of sleep per step")
"""

# train: a seeded descent (its numbers are the seed's alone), and 1.0 for "shipped" when its own file is
# the copy Ray unpacked on the node (runtime_resources/working_dir_files/...), 0.0 when run from the folder
TOY = """
import time

import torch

from .config import Config


def check(ctx):
    ctx.check_property("fine", True)


def train(ctx):
    cfg = ctx.config(Config)
    weights = torch.randn(8, dtype=torch.float64)
    loss = float((weights**2).sum())
    for step in range(cfg.steps):
        weights = weights * (0.8 + 0.1 * torch.rand(8, dtype=torch.float64))
        loss = float((weights**2).sum())
        ctx.metric("loss", step, loss)
        ctx.progress(step + 1, cfg.steps)
        time.sleep(cfg.pause if ctx.seed else 0.0)  # seed 0 never pauses: it finishes at once
    ctx.target("final loss", loss, 1e3, higher_is_better=False)
    ctx.measured("shipped", float("runtime_resources" in __file__))
"""

RAISES = """
def check(ctx):
    ctx.check_property("fine", True)


def train(ctx):
    raise RuntimeError("a deliberate failure on the cluster")
"""


@dataclass
class Lab:
    cluster: Cluster
    plugins: Path
    worker_home: Path
    root: Path

    @property
    def address(self) -> str:
        return str(self.cluster.address)

    def node_ids(self) -> set[str]:
        return {node.node_id for node in self.cluster.list_all_nodes()}

    def env(self, **more: str) -> dict[str, str]:
        """A driver's environment: this cluster, the plugin folder, loopback only."""
        return {**LOOPBACK, "READTRACK_PLUGINS_DIR": str(self.plugins), **more}

    def add_node(self) -> Any:
        with cluster_env(self.worker_home):
            node = self.cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
            self.cluster.wait_for_nodes()
        return node


class cluster_env:
    """The environment the cluster's processes start in: loopback only, a data dir of their own (they must
    never need it: the driver alone writes history), no user plugin folder (Ray ships it)."""

    def __init__(self, worker_home: Path) -> None:
        self.home = worker_home

    def __enter__(self) -> None:
        self.saved = dict(os.environ)
        os.environ.update({**LOOPBACK, "READTRACK_HOME": str(self.home)})
        os.environ.pop("READTRACK_PLUGINS_DIR", None)
        os.environ.pop("RAY_ADDRESS", None)

    def __exit__(self, *exc: object) -> None:
        os.environ.clear()
        os.environ.update(self.saved)


def start(root: Path) -> Lab:
    """The cluster, its head and one more node, and the plugin folder under ``root``."""
    plugins, worker_home = root / "plugins", root / "worker-home"
    for name, experiment in (("toy", TOY), ("raises", RAISES), ("fails", FAILING)):
        (write_plugin(plugins, name, experiment) / "config.py").write_text(CONFIG)
    with cluster_env(worker_home):
        head = {"num_cpus": 1, "include_dashboard": False, "node_ip_address": "127.0.0.1"}
        # a node that stops answering is declared dead after about 2 s (Ray's default: 30 s)
        head["_system_config"] = {"health_check_period_ms": 500, "health_check_failure_threshold": 4}
        cluster = Cluster(initialize_head=True, head_node_args=head)
    found = Lab(cluster, plugins, worker_home, root)
    found.add_node()
    return found
