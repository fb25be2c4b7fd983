"""Paper plugins that live outside the repository, as a plugin author writes them (issue 72).

One small plugin, *swish* (Ramachandran, Zoph and Le, arXiv 1710.05941): a page declaring an exercise, a
model, an experiment with check, train and bench, knobs in ``config.py`` and a wrong solution in
``mistakes.py``. It imports only ``readtrack.api``. It can be written two ways:

- :func:`write_package_plugin`: a distribution with its own entry point, laid out as ``pip install -e``
  leaves one (the source in ``ROOT/src/<module>``, a ``pyproject.toml``, and ``NAME-VERSION.dist-info`` with
  ``entry_points.txt`` in ``ROOT/site``). The environment it returns makes both importable for a subprocess
  (``PYTHONPATH``); :func:`use_here` does the same for this process;
- :func:`write_folder_plugin`: the same files as a folder of the user's plugin folder.

Nothing is installed and nothing is downloaded: ``importlib.metadata`` finds the ``.dist-info`` on the path.
A test may overwrite any file afterwards (``files=`` or by writing into the returned folder) to break it.
"""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

INIT = '''
"""Searching for Activation Functions (Ramachandran, Zoph and Le, arXiv 1710.05941).

Claim: swish, x·σ(βx), trains a small network as well as ReLU does.
"""

from readtrack.api import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    name={name!r},
    title="Searching for Activation Functions",
    arxiv="1710.05941",
    claim="swish, x·σ(βx), trains a small network as well as ReLU does",
    devices=("cpu",),
    stage_timeout=120.0,
    exercises=[
        Exercise(
            target="swish",
            statement="swish(x, beta) = x · sigmoid(beta · x), elementwise.",
            hints=["torch.sigmoid", "return x * torch.sigmoid(beta * x)"],
            lines=1,
        )
    ],
)
'''

MODEL = '''
"""swish and a tiny network that uses it."""

import torch
from torch import nn


def swish(x: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """x · σ(βx)."""
    return x * torch.sigmoid(beta * x)


class TinyNet(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.inner = nn.Linear(2, width)
        self.outer = nn.Linear(width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.outer(swish(self.inner(x)))
'''

EXPERIMENT = '''
"""check: swish against x / (1 + e^(-βx)); train: a tiny net fits a smooth function; bench: swish vs SiLU."""

import torch

from readtrack.api import RunContext

from .config import Config
from .model import TinyNet, swish


def check(ctx: RunContext) -> None:
    x = torch.linspace(-6, 6, 49, dtype=torch.float64)
    for beta in (1.0, 2.0):
        reference = x / (1 + torch.exp(-beta * x))
        ctx.check_close(f"swish vs x / (1 + exp(-beta x)), beta {{beta:g}}", swish(x, beta), reference)


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    g = torch.Generator().manual_seed(ctx.seed)
    x = torch.rand(128, 2, generator=g) * 4 - 2
    y = torch.sin(x[:, :1]) * x[:, 1:]
    net = TinyNet(cfg.width)
    first = last = 0.0
    for step in range(cfg.steps):  # plain gradient descent: an optimizer's first step costs a second
        loss = ((net(x) - y) ** 2).mean()
        net.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in net.parameters():
                p -= cfg.lr * p.grad
        first = loss.item() if step == 0 else first
        last = loss.item()
        ctx.metric("loss", step, last)
    ctx.target("final loss / first loss", last / first, 0.5, higher_is_better=False)


def bench(ctx: RunContext) -> None:
    x = torch.randn(4096)
    ctx.bench.measure("torch.nn.functional.silu", lambda: torch.nn.functional.silu(x), baseline=True)
    ctx.bench.measure("swish", lambda: swish(x))
'''

CONFIG = '''
"""swish's knobs."""

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    steps: int = knob(100, quick=60, low=1, high=10_000, help="gradient descent steps", paper="not stated")
    lr: float = knob(0.1, low=1e-4, high=1.0, help="the step size")
    width: int = knob(16, low=1, high=256, help="hidden units")
'''

MISTAKES = '''
"""Wrong solutions of swish's exercise: its check must catch each."""

import torch

from readtrack.api import mistake


@mistake("swish", fails="swish vs")
def sigmoid_only(x, beta=1.0):
    """Forgot to multiply by x."""
    return torch.sigmoid(beta * x)
'''

FILES = {
    "__init__.py": INIT,
    "model.py": MODEL,
    "experiment.py": EXPERIMENT,
    "config.py": CONFIG,
    "mistakes.py": MISTAKES,
}


def plugin_files(name: str = "swish") -> dict[str, str]:
    """The plugin's files, ``{file name: text}``, declaring the plugin ``name``."""
    return {file: textwrap.dedent(text).lstrip().format(name=name) for file, text in FILES.items()}


def write_package_plugin(
    root: Path,
    name: str = "swish",
    *,
    entry_point: str | None = None,
    distribution: str | None = None,
    version: str = "0.1",
    files: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A distribution ``distribution`` (default ``NAME-readtrack``) whose package (``NAME_readtrack``)
    declares the plugin ``name``, registered under the entry point ``entry_point`` (default: ``name``) of the
    group ``readtrack``, in ``root``. ``files`` replace or add files of the package. Returns the environment
    variables a subprocess needs to find it (``PYTHONPATH``, keeping the one this process has)."""
    module = f"{name.replace('-', '_')}_readtrack"
    distribution = distribution or f"{name}-readtrack"
    src, site = root / "src", root / "site"
    package = src / module
    package.mkdir(parents=True, exist_ok=True)
    for file, text in {**plugin_files(name), **(files or {})}.items():
        (package / file).write_text(text, encoding="utf-8")
    point = entry_point or name
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{distribution}"\nversion = "{version}"\ndependencies = ["readtrack"]\n\n'
        f'[project.entry-points.readtrack]\n"{point}" = "{module}"\n',
        encoding="utf-8",
    )
    info = site / f"{distribution.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[readtrack]\n{point} = {module}\n", encoding="utf-8")
    paths = [str(src), str(site), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"PYTHONPATH": os.pathsep.join(paths)}


def package_folder(root: Path, name: str = "swish") -> Path:
    """The package folder :func:`write_package_plugin` wrote into ``root``."""
    return root / "src" / f"{name.replace('-', '_')}_readtrack"


def write_folder_plugin(
    plugins_dir: Path, name: str = "swish", *, files: Mapping[str, str] | None = None
) -> Path:
    """The plugin ``name`` as a folder of the user's plugin folder ``plugins_dir``; returns the folder."""
    folder = plugins_dir / name.replace("-", "_")
    folder.mkdir(parents=True, exist_ok=True)
    for file, text in {**plugin_files(name), **(files or {})}.items():
        (folder / file).write_text(text, encoding="utf-8")
    return folder


def use_here(env: Mapping[str, str], monkeypatch: pytest.MonkeyPatch, name: str = "swish") -> None:
    """Make the plugin ``name`` of ``env`` (from :func:`write_package_plugin`) importable and discoverable in
    this process too, for this test, and discover again. Its modules are forgotten before and after: the next
    test's package of the same name is its own."""
    known = set(sys.path)
    for path in env["PYTHONPATH"].split(os.pathsep):
        if path not in known:
            monkeypatch.syspath_prepend(path)
    module = f"{name.replace('-', '_')}_readtrack"
    for loaded in [module, *(f"{module}.{file[:-3]}" for file in FILES if file != "__init__.py")]:
        monkeypatch.setitem(sys.modules, loaded, None)  # put back (that is, removed) when the test ends
        del sys.modules[loaded]
    from readtrack.plugins import discovery

    discovery.discover(refresh=True)
