"""`readtrack new-plugin`: a new paper plugin in the user's plugin folder that runs from the first minute.

The folder gets the files of the plugin standard (``plugins/README.md``) and a test file: ``__init__.py``
with the page's sections to fill in and a declaration filled from the paper's entry (its synced arXiv
title when there is one) and one practice exercise, ``model.py`` with a placeholder idea, ``experiment.py``
whose check, train and bench already pass, ``config.py`` with the train stage's knobs, ``mistakes.py`` with
a wrong solution the check catches, and ``test_<name>.py`` that runs the stages and proves the check can
fail, through ``readtrack.testing``. Everything imports readtrack through ``readtrack.api`` only, as the
built-in plugins do. Every ``TODO`` marks where the paper's idea goes. The paper's ``plugin:`` field then
names it (a one-line edit; a paper that has a plugin already gets a list of both).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from readtrack.base.errors import UsageError

NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


@dataclass
class Scaffold:
    name: str
    folder: Path
    files: list[Path]
    paper_id: str | None  # the paper linked to the plugin, None when the list has no such paper
    others: list[str]  # the plugins the paper named before this one


def new_plugin(name: str, catalog_path: Path, *, paper_id: str | None = None) -> Scaffold:
    """Write plugin ``name`` into the user's plugin folder and link it from ``paper_id`` (default: the paper
    whose id is ``name``, when there is one). Refuses a name that is not a slug or is taken."""
    from readtrack.catalog import edits
    from readtrack.plugins.discovery import discover
    from readtrack.plugins.folders import user_plugins_dir
    from readtrack.plugins.links import load

    if not NAME.match(name):
        raise UsageError(f"plugin name {name!r} must be a slug: lowercase letters and digits, single hyphens")
    root = user_plugins_dir()
    if root is None:
        raise UsageError("no plugin folder: set READTRACK_PLUGINS_DIR")
    folder = root / name.replace("-", "_")
    if folder.exists():
        raise UsageError(f"{folder} already exists: not overwriting it")
    if any(p.name == name for p in discover()):
        raise UsageError(f"a plugin called {name} exists already (see `readtrack plugins`)")
    catalog = load(catalog_path)
    paper = catalog.get(paper_id) if paper_id else next((p for p in catalog.papers() if p.id == name), None)
    title, arxiv = (paper.title or paper.label or paper.id, paper.arxiv) if paper else (name, None)
    if paper is not None and paper.arxiv:
        synced = _synced_title(paper.arxiv)
        title = synced or title
    values = {
        "name": name,
        "module": name.replace("-", "_"),
        "title": title,
        "arxiv": arxiv,
        "arxiv_text": f"arXiv {arxiv}" if arxiv else "TODO: arXiv id or link",
        "paper_id": paper.id if paper else name,
    }
    folder.mkdir(parents=True)
    written = []
    for file_name, template in _TEMPLATES.items():
        target = folder / file_name.format(**values)
        target.write_text(template.format(**values), encoding="utf-8")
        written.append(target)
    if paper is not None:  # one plugin stays one word, `plugin: x`; a second makes it a list
        plugins = [*paper.plugins, name]
        edits.set_fields(catalog_path, paper.id, {"plugin": plugins if len(plugins) > 1 else name})
    return Scaffold(name, folder, written, paper.id if paper else None, paper.plugins if paper else [])


def _synced_title(arxiv: str) -> str | None:
    try:
        from readtrack.catalog import metadata

        record = metadata.get(arxiv)
    except Exception:  # no database yet: the list's title will do
        return None
    return record.title if record else None


_INIT = '''"""{title} ({arxiv_text}).

Claim: TODO: the one sentence this plugin demonstrates, in the paper's words.

Equations (TODO: the ones model.py implements, numbered as in the paper):

    y = x + W₂ φ(W₁ x)                     the scaffold's placeholder idea (replace it)

``model.py`` implements ``Idea``; TODO: say what it is in the paper's terms.

The tiny experiment: TODO: what check compares against (an independent reference), what train shows (the
claim as an A/B with the idea switched off, same seed, same batches) and why it is a fair small-scale echo.
If the claim does not reproduce at toy scale, say so here and report what was measured.
"""

from readtrack.api import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    name={name!r},  # what `readtrack run` takes, and the entry point's name once it is a pip package
    title={title!r},
    arxiv={arxiv!r},
    claim="TODO: the claim in one sentence.",
    paper_id={paper_id!r},
    exercises=[
        Exercise(
            target="Idea.forward",
            statement="""TODO: the paper's equation, its symbols mapped to the arguments.
            As scaffolded: y = x + W₂ φ(W₁ x) with φ the exact GELU, W₁ = self.w1 and W₂ = self.w2
            (nn.Linear layers, biases included). x: (batch, d) → y: (batch, d).""",
            hints=[
                "The residual: add x to what the two layers make of it.",
                "x + self.w2(F.gelu(self.w1(x)))",
            ],
            lines=1,
        )
    ],
)
'''

_MODEL = '''"""The idea of {title}, written like nanoGPT: the paper's notation, shapes at every step.

TODO: replace the placeholder ``Idea`` (a residual MLP block) with the paper's method.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Idea(nn.Module):
    """y = x + W₂ φ(W₁ x) with φ = GELU. TODO: the paper's idea."""

    def __init__(self, d: int, hidden: int) -> None:
        super().__init__()
        self.w1 = nn.Linear(d, hidden)
        self.w2 = nn.Linear(hidden, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (batch, d)
        return x + self.w2(F.gelu(self.w1(x)))  # (batch, d)
'''

_CONFIG = '''"""The knobs of {name}'s experiment (``readtrack knobs {name}``, ``run {name} --set K=V``).

The defaults are the experiment as calibrated: turn one and the run reports its targets without asserting
them. TODO: the knobs a reader would turn to see the claim move (the ablation switch first).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    steps: int = knob(600, quick=150, low=1, high=100_000, help="Adam steps, one fresh batch each")
    batch: int = knob(64, low=1, high=4096, help="examples per step")
    hidden: int = knob(32, low=1, high=1024, help="hidden units of the teacher and the student")
    lr: float = knob(3e-3, low=1e-5, high=1.0, help="Adam's learning rate")
'''

_MISTAKES = '''"""Wrong solutions of {name}'s exercise, for ``readtrack practice``: its check must catch
each, its first failing comparison named as ``fails`` says (``readtrack check-plugin {name}``).

TODO: the mistakes a reader really makes with the paper's idea (a missing scale, a mask off by one).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from readtrack.api import mistake

from .model import Idea


@mistake("Idea.forward", fails="Idea vs the reference")
def forward_without_the_residual(self: Idea, x: torch.Tensor) -> torch.Tensor:
    """Forgets the residual connection: y = W₂ φ(W₁ x)."""
    return self.w2(F.gelu(self.w1(x)))
'''

_EXPERIMENT = '''"""The {name} plugin's stages.

check: ``Idea`` against a reference written separately from it (float64, then float32), forward and
       gradients. TODO: compare the paper's idea with an independent reference (a PyTorch built-in with
       copied weights, an official package, or a naive version), on awkward shapes too.
train: TODO: the paper's claim. As scaffolded: ``Idea`` learns a random teacher of its own shape; the final
       error must fall under a tenth of the first.
bench: ``Idea`` against the reference at two sizes, each size's ratio against that size's reference
       (``group=batch``: a ratio never divides one size's time by another's).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from readtrack.api import RunContext, dtype_name

from .config import Config
from .model import Idea

D, HIDDEN = 16, 32  # the check's and the bench's sizes; train reads its own from config.py


def reference(model: Idea, x: torch.Tensor) -> torch.Tensor:
    """The block computed from its weights by hand, with the exact GELU x·Φ(x)."""
    h = x @ model.w1.weight.T + model.w1.bias
    h = h * 0.5 * (1 + torch.erf(h / 2**0.5))
    return x + h @ model.w2.weight.T + model.w2.bias


def check(ctx: RunContext) -> None:
    for dtype in ctx.check_dtypes:
        for batch in (1, 7):
            model = Idea(D, HIDDEN).to(ctx.device, dtype)
            x = torch.randn(batch, D, device=ctx.device, dtype=dtype)
            params = list(model.parameters())
            ours, grads = ctx.value_and_grads(model, x, params=params)
            ref, ref_grads = ctx.value_and_grads(lambda t: reference(model, t), x, params=params)
            name = f"({{dtype_name(dtype)}}, batch {{batch}})"
            ctx.check_close(f"Idea vs the reference {{name}}", ours, ref)
            ctx.check_close(f"gradients vs the reference {{name}}", grads, ref_grads)


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    teacher, student = Idea(D, cfg.hidden).to(ctx.device), Idea(D, cfg.hidden).to(ctx.device)
    opt = torch.optim.Adam(student.parameters(), lr=cfg.lr)
    g = torch.Generator(device=ctx.device).manual_seed(ctx.seed)
    first = last = float("nan")
    for step in range(cfg.steps):
        x = torch.randn(cfg.batch, D, device=ctx.device, generator=g)
        with torch.no_grad():
            y = teacher(x)
        loss = F.mse_loss(student(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = loss.item() if step == 0 else first
        last = loss.item()
        ctx.metric("loss", step, last)
        if step % 25 == 0:
            ctx.progress(step, cfg.steps)
    ctx.target("final loss / first loss", last / first, 0.1, higher_is_better=False, detail="TODO: the claim")


def bench(ctx: RunContext) -> None:
    for batch in (256, 4096):
        model = Idea(D, HIDDEN).to(ctx.device)
        x = torch.randn(batch, D, device=ctx.device)
        size = {{"group": batch, "shape": (batch, D)}}  # each batch size against its own reference
        with torch.no_grad():
            ctx.bench.measure(
                f"reference, batch {{batch}}", lambda: reference(model, x), baseline=True, **size
            )
            ctx.bench.measure(f"Idea, batch {{batch}}", lambda: model(x), **size)
'''

_TEST = '''"""Tests of the {name} plugin: ``pytest {module}`` beside its folder (``readtrack check-plugin
{name}`` checks the standard). The stages run through readtrack's runner exactly as ``readtrack run {name}``
does, and no run made here is recorded in history (``readtrack.testing``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# a plugin folder: readtrack finds it in its parent (a pip package is found by its entry point: drop this)
os.environ.setdefault("READTRACK_PLUGINS_DIR", str(Path(__file__).resolve().parents[1]))

from readtrack import load_plugin  # noqa: E402
from readtrack.testing import (  # noqa: E402
    assert_mistakes_caught,
    check_catches,
    emulated_cuda,
    failures,
    run,
)

NO_EMULATOR = emulated_cuda()  # before this process's first backward pass


def test_check_train_and_bench_pass() -> None:
    record = run("{name}")
    assert record.status == "passed", [line for stage in record.stages for line in failures(stage)]


@pytest.mark.skipif(bool(NO_EMULATOR), reason=NO_EMULATOR)
def test_it_keeps_cudas_device_rules() -> None:
    """On the emulated CUDA device (CUDA's rules, the CPU's numbers): a tensor left on the CPU, or a CPU
    generator in a device op, fails here as it would on a GPU."""
    record = run("{name}", device="emu")
    assert record.status == "passed", [line for stage in record.stages for line in failures(stage)]


def test_the_check_catches_a_broken_idea(monkeypatch: pytest.MonkeyPatch) -> None:
    """TODO: break the paper's idea the way a real bug would (a missing scale, a mask off by one)."""
    experiments = load_plugin("{name}").experiments

    class Broken(experiments.Idea):
        def forward(self, x):  # a residual connection counted twice
            return super().forward(x) + x

    monkeypatch.setattr(experiments, "Idea", Broken)
    check_catches("{name}", "Idea vs the reference")


def test_the_check_catches_every_mistake_and_passes_the_model_solution() -> None:
    assert_mistakes_caught("{name}")
'''

_TEMPLATES = {
    "__init__.py": _INIT,
    "model.py": _MODEL,
    "experiment.py": _EXPERIMENT,
    "config.py": _CONFIG,
    "mistakes.py": _MISTAKES,
    "test_{module}.py": _TEST,
}
