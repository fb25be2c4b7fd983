"""RMSNorm at toy scale: equal to ``nn.RMSNorm``, re-scaling invariant but not re-centring invariant, and as
good as LayerNorm in a deep network for less compute.

check: forward and gradients equal ``torch.nn.RMSNorm(eps=1e-6)`` with the same gain (float64, then float32);
       the output ignores a per-example re-scaling of the input but not a shift (which is what makes it
       different from LayerNorm), and on zero-mean inputs it is exactly LayerNorm without bias.
train: the 12-layer ReLU network of the LayerNorm plugin, normalised with RMSNorm or with LayerNorm, from the
       same seed and batches: the final losses must be close; training time is reported, not asserted.
bench: RMSNorm against LayerNorm (this repo's and PyTorch's), forward and forward+backward.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.experiment import RunContext

# The LayerNorm that RMSNorm simplifies: the built-in layernorm plugin's, written in the same plain style.
from ..layernorm.experiment import bench_norms
from ..layernorm.model import LayerNorm
from .model import RMSNorm


def check(ctx: RunContext) -> None:
    torch.set_flush_denormal(True)
    torch.manual_seed(ctx.seed)
    exact = torch.float32 if ctx.device.startswith("mps") else torch.float64  # MPS has no float64
    for dtype in dict.fromkeys([exact, torch.float32]):
        name = str(dtype).removeprefix("torch.")
        for shape in (32, (7, 32)):
            ours = RMSNorm(shape).to(ctx.device, dtype)
            # eps passed explicitly: nn.RMSNorm's default (None) means finfo(dtype).eps, not 1e-6
            ref = nn.RMSNorm(shape, eps=1e-6).to(ctx.device, dtype)
            with torch.no_grad():
                ours.weight.normal_()
                ref.weight.copy_(ours.weight)
            x = 3 * torch.randn(4, 7, 32, dtype=dtype, device=ctx.device) + 1
            out, grads = ctx.value_and_grads(ours, x, params=list(ours.parameters()))
            expected, ref_grads = ctx.value_and_grads(ref, x, params=list(ref.parameters()))
            ctx.check_close(f"forward vs nn.RMSNorm, normalized_shape={shape} ({name})", out, expected)
            ctx.check_close(f"gradients (input, g) vs nn.RMSNorm, shape={shape} ({name})", grads, ref_grads)

    # ε = 1e-12: it only guards division by zero; with 1e-6 the re-scaling invariance holds up to ε/RMS².
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
        layer_norm = LayerNorm(64, eps=1e-12).to(ctx.device, exact)
        ctx.check_close(
            "on zero-mean inputs RMSNorm = LayerNorm (without bias)", norm(centred), layer_norm(centred)
        )
    ctx.check_property(
        "not invariant to a shift: RMSNorm(a + 2) ≠ RMSNorm(a) (it does not re-centre)",
        moved > 0.5,
        f"outputs moved by up to {moved:.2f}; LayerNorm's would not move",
        value=moved,
    )


def deep_network(norm: Callable[[int], nn.Module], depth: int = 12, width: int = 64) -> nn.Sequential:
    """depth × (Linear → norm → ReLU) on 32 inputs, then a 4-way read-out."""
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(32 if i == 0 else width, width), norm(width), nn.ReLU()]
    layers.append(nn.Linear(width, 4))
    return nn.Sequential(*layers)


def _train(
    ctx: RunContext, seed: int, norm: Callable[[int], nn.Module], label: str | None
) -> tuple[float, float]:
    """Final full-data loss and wall time of 150 Adam steps on the 4-class problem."""
    g = torch.Generator().manual_seed(1000 + seed)
    X = torch.randn(2048, 32, generator=g)  # (n, 32)
    y = (X @ torch.randn(32, 4, generator=g)).argmax(dim=-1)  # 4 linearly separable classes
    X, y = X.to(ctx.device), y.to(ctx.device)
    torch.manual_seed(seed)  # the same linear-layer weights for every norm (the norms draw no random numbers)
    model = deep_network(norm).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = torch.Generator().manual_seed(seed)  # and the same batches
    start = time.perf_counter()
    for step in range(150):
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
    torch.set_flush_denormal(True)
    seeds = [ctx.seed] if ctx.quick else [ctx.seed + i for i in range(5)]
    gaps, time_ratios = [], []
    for i, seed in enumerate(seeds):
        record = i == 0
        rms, rms_time = _train(ctx, seed, RMSNorm, "RMSNorm" if record else None)
        ln, ln_time = _train(ctx, seed, LayerNorm, "LayerNorm" if record else None)
        plain, _ = _train(ctx, seed, lambda width: nn.Identity(), "no normalisation" if record else None)
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
        detail=f"{len(seeds)} seed(s), 150 Adam steps, 12 layers; unnormalised, the loss stays near 0.9",
    )
    ctx.measured(
        "training time RMSNorm / LayerNorm",
        statistics.median(time_ratios),
        "wall time, noisy on a shared machine; the per-layer saving shows in the bench stage",
    )


def bench(ctx: RunContext) -> None:
    bench_norms(
        ctx,
        lambda hidden: [
            ("nn.LayerNorm", nn.LayerNorm(hidden)),
            ("nn.RMSNorm", nn.RMSNorm(hidden, eps=1e-6)),
            ("LayerNorm (layernorm plugin)", LayerNorm(hidden)),
            ("RMSNorm", RMSNorm(hidden)),
        ],
    )
