"""RMSNorm at toy scale: equal to ``nn.RMSNorm``, re-scaling invariant but not re-centring invariant, and as
good as LayerNorm in a deep network for less compute.

check: forward and gradients equal ``torch.nn.RMSNorm(eps=1e-6)`` with the same gain (float64, then float32);
       the output ignores a per-example re-scaling of the input but not a shift (which is what makes it
       different from LayerNorm), and on zero-mean inputs it is exactly ``nn.LayerNorm`` without bias.
train: a 12-layer He-initialised ReLU network normalised with RMSNorm or with ``nn.LayerNorm``, same seed,
       batches and learning rate: the final losses must be close; training time is reported, not asserted
       (and the network without normalisation is reported for scale).
bench: RMSNorm against PyTorch's LayerNorm and RMSNorm, forward and a training step's forward+backward.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.context import RunContext
from readtrack.plugin_kit.checks import compare_modules
from readtrack.plugin_kit.models import deep_mlp
from readtrack.plugin_kit.tasks import teacher_classes
from readtrack.plugin_kit.timing import bench_layers

from .model import RMSNorm

STEPS, LR = 150, 3e-3  # lr: the best of 1e-3..3e-2 for LayerNorm in this network (layernorm plugin)


def check(ctx: RunContext) -> None:
    for shape in (32, (7, 32)):
        compare_modules(
            ctx,
            f"nn.RMSNorm, normalized_shape={shape}",
            partial(RMSNorm, shape),
            # eps passed explicitly: nn.RMSNorm's default (None) means finfo(dtype).eps, not 1e-6
            partial(nn.RMSNorm, shape, eps=1e-6),
            lambda dtype: 3 * torch.randn(4, 7, 32, dtype=dtype) + 1,
        )

    # ε = 1e-12: it only guards division by zero; with 1e-6 the re-scaling invariance holds up to ε/RMS².
    exact = ctx.exact_dtype
    norm = RMSNorm(64, eps=1e-12).to(ctx.device, exact)
    x = torch.randn(8, 64, dtype=exact, device=ctx.device)
    scale = torch.rand(8, 1, dtype=exact, device=ctx.device) * 10 + 0.1  # one factor per example
    shift = torch.full((8, 1), 2.0, dtype=exact, device=ctx.device)
    with torch.no_grad():
        ctx.check_close(
            "invariant to a per-example re-scaling: RMSNorm(s·a) = RMSNorm(a)", norm(scale * x), norm(x)
        )
        moved = (norm(x + shift) - norm(x)).abs().max().item()
        centred = x - x.mean(dim=-1, keepdim=True)
        layer_norm = nn.LayerNorm(64, eps=1e-12, bias=False).to(ctx.device, exact)
        ctx.check_close(
            "on zero-mean inputs RMSNorm = nn.LayerNorm (without bias)", norm(centred), layer_norm(centred)
        )
    ctx.check_property(
        "not invariant to a shift: RMSNorm(a + 2) ≠ RMSNorm(a) (it does not re-centre)",
        moved > 0.5,
        f"outputs moved by up to {moved:.2f}; LayerNorm's would not move",
        value=moved,
    )


def _train(
    ctx: RunContext, seed: int, norm: Callable[[int], nn.Module] | None, label: str | None
) -> tuple[float, float]:
    """Final full-data loss and wall time of Adam on the 4-class teacher problem."""
    X, y = teacher_classes(2048, 32, 4, seed=1000 + seed, device=ctx.device)
    torch.manual_seed(seed)  # the same linear-layer weights for every norm (the norms draw no random numbers)
    model = deep_mlp(12, 64, 32, 4, norm).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    batches = torch.Generator().manual_seed(seed)  # and the same batches
    start = time.perf_counter()
    for step in range(STEPS):
        idx = torch.randint(0, len(X), (128,), generator=batches).to(ctx.device)
        loss = F.cross_entropy(model(X[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if label is not None and step % 10 == 0:
            ctx.metric(f"batch loss ({label})", step, loss.item())
    elapsed = time.perf_counter() - start
    with torch.no_grad():
        return F.cross_entropy(model(X), y).item(), elapsed


def train(ctx: RunContext) -> None:
    seeds = [ctx.seed] if ctx.quick else [ctx.seed + i for i in range(5)]
    gaps, time_ratios = [], []
    for i, seed in enumerate(seeds):
        record = i == 0
        rms, rms_time = _train(ctx, seed, RMSNorm, "RMSNorm" if record else None)
        ln, ln_time = _train(ctx, seed, nn.LayerNorm, "nn.LayerNorm" if record else None)
        plain, _ = _train(ctx, seed, None, "no normalisation" if record else None)
        gaps.append(rms - ln)
        time_ratios.append(rms_time / ln_time)
        ctx.measured(
            f"seed {seed}: final loss RMSNorm", rms, f"LayerNorm {ln:.3f}, no normalisation {plain:.3f}"
        )
        ctx.progress(i + 1, len(seeds))
    ctx.target(
        "final loss RMSNorm − LayerNorm (worst seed)",
        max(gaps),
        0.1,
        higher_is_better=False,
        detail=f"{len(seeds)} seed(s), {STEPS} Adam steps at lr {LR:g}, 12 He-initialised layers",
    )
    ctx.measured(
        "training time RMSNorm / nn.LayerNorm",
        statistics.median(time_ratios),
        "wall time, noisy on a shared machine; the per-layer saving shows in the bench stage",
    )


def bench(ctx: RunContext) -> None:
    rows, hidden = (1024, 512) if ctx.quick else (8192, 1024)
    x = torch.randn(rows, hidden, device=ctx.device)
    variants: list[tuple[str, nn.Module]] = [
        ("nn.LayerNorm", nn.LayerNorm(hidden)),
        ("nn.RMSNorm", nn.RMSNorm(hidden, eps=1e-6)),
        ("RMSNorm", RMSNorm(hidden)),
    ]
    bench_layers(ctx, variants, x)
