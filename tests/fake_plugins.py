"""Tiny paper plugins written into tmp folders, for testing discovery and the runner with real packages.

Each is a real package on disk (``__init__.py`` declaring the plugin, ``model.py``, ``experiment.py``)
that readtrack imports exactly as it imports a user's plugin folder.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

DECLARE = """
from readtrack.plugins.declaration import PaperPlugin, hookimpl


@hookimpl
def readtrack_paper_plugins():
    return [
        PaperPlugin(
            name={name!r},
            paper_id={paper_id!r},
            title={title!r},
            arxiv=None,
            claim="a tiny fake claim",
            package=__name__,
            devices={devices!r},
            stage_timeout={stage_timeout!r},
        )
    ]
"""

MODEL = """
import torch


def double(x):
    return 2 * x
"""

# check passes against a reference, train reaches its target on a seeded curve, bench times two variants.
PASSING = """
import random
import sys
import time

import torch

from .model import double


def check(ctx):
    x = torch.arange(6, dtype=torch.float64)
    ctx.check_close("double vs x + x", double(x), x + x)
    ctx.check_property("linear", bool(torch.equal(double(2 * x), 2 * double(x))), "double(2x) == 2 double(x)")


def train(ctx):
    print("a plugin printing to stdout")  # must not break `readtrack run --json`
    ctx.log(f"impl={ctx.options.get('impl')}")
    loss = 1.0
    for step in range(20):
        loss *= 0.8 + 0.1 * torch.rand(()).item()
        ctx.metric("loss", step, loss)
        ctx.progress(step + 1, 20)
    ctx.target("final loss", loss, 0.5, higher_is_better=False)
    ctx.measured("python draw", random.random())
    ctx.measured("torch draw", torch.rand(()).item())


def bench(ctx):
    ctx.bench.measure("sleep 1 ms", lambda: time.sleep(0.001), baseline=True, tokens=100)
    ctx.bench.measure("sleep 4 ms", lambda: time.sleep(0.004), tokens=100, flops=4e6, flop_formula="4·10⁶")
"""

FAILING = """
import torch


def check(ctx):
    x = torch.ones(4, dtype=torch.float64)
    ctx.check_close("off by 1e-3", x + 1e-3, x)


def train(ctx):
    ctx.target("accuracy", 0.4, 0.9)
"""

RAISING_STAGE = """
import torch


def check(ctx):
    ctx.check_property("fine", True)


def train(ctx):
    raise ValueError("shapes (3, 4) and (5, 6) do not match\\nsecond line")


def bench(ctx):
    ctx.bench.measure("ok", lambda: None, baseline=True)
"""

HANGING = """
import time


def check(ctx):
    ctx.log("about to hang")
    while True:  # short sleeps: a stop raised into this thread lands between them
        time.sleep(0.02)


def train(ctx):
    ctx.target("never reached", 1.0, 0.0)
"""


# A plugin's knobs (config.py, issue 55) for the tests of knobs, sweeps and the TUI's Knobs panel.
KNOBBY_CONFIG = """
from __future__ import annotations

from dataclasses import dataclass

from readtrack.plugins.knobs import knob


@dataclass(frozen=True)
class Config:
    steps: int = knob(20, quick=10, low=1, high=1000, help="training steps", paper="100k")
    decay: float = knob(0.8, low=0.0, high=1.0, help="the loss's factor per step")
    arm: str = knob("fast", choices=("fast", "slow"), help="which arm of the comparison", paper="fast")
    width: int = knob(16, quick=8, low=2, high=64, help="units per layer")
    warmup: bool = knob(True, help="warm up first")
"""


def write_plugin(
    root: Path,
    folder: str,
    experiment: str = PASSING,
    *,
    name: str | None = None,
    paper_id: str | None = None,
    devices: tuple[str, ...] = ("cpu", "cuda", "mps"),
    stage_timeout: float = 60.0,
    init: str | None = None,
    extra_init: str = "",
) -> Path:
    """Create ``root/folder`` as a plugin package and return it."""
    package = root / folder
    package.mkdir(parents=True, exist_ok=True)
    name = name or folder
    if init is None:
        init = DECLARE.format(
            name=name,
            paper_id=paper_id or name,
            title=f"Fake paper {name}",
            devices=devices,
            stage_timeout=stage_timeout,
        )
    (package / "__init__.py").write_text(textwrap.dedent(init) + textwrap.dedent(extra_init))
    (package / "model.py").write_text(MODEL)
    (package / "experiment.py").write_text(experiment)
    return package


# The experiment of a plugin with KNOBBY_CONFIG: its train stage reports what its knobs resolved to.
KNOBBY_EXPERIMENT = """
from .config import Config


def check(ctx):
    ctx.check_property("always", True)


def train(ctx):
    cfg = ctx.config(Config)
    loss = 1.0
    for step in range(cfg.steps):
        loss *= cfg.decay
        ctx.metric("loss", step, loss)
    ctx.log(f"steps={cfg.steps} decay={cfg.decay} arm={cfg.arm} width={cfg.width} warmup={cfg.warmup}")
    ctx.target("final loss", loss, 0.05, higher_is_better=False)


def bench(ctx):
    ctx.bench.measure("nothing", lambda: None, baseline=True)
"""
