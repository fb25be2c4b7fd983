"""Layer normalisation at toy scale: equal to ``nn.LayerNorm``, invariant as the paper says, faster training.

check: forward and gradients equal ``torch.nn.LayerNorm`` with the same gain and bias (float64, then
       float32); the output ignores a per-example shift and re-scaling of the input; an example's output
       does not depend on the rest of the batch (unlike batch normalisation's).
train: a 12-layer ReLU network, with and without layer normalisation after every linear layer, from the
       same seed and the same batches, on a 4-class problem: the normalised one trains much faster.
bench: forward and forward+backward time against ``nn.LayerNorm``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.experiment import RunContext

from .model import LayerNorm


def check(ctx: RunContext) -> None:
    torch.set_flush_denormal(True)
    torch.manual_seed(ctx.seed)
    exact = torch.float32 if ctx.device.startswith("mps") else torch.float64  # MPS has no float64
    for dtype in dict.fromkeys([exact, torch.float32]):
        name = str(dtype).removeprefix("torch.")
        for shape in (32, (7, 32)):
            ours = LayerNorm(shape).to(ctx.device, dtype)
            ref = nn.LayerNorm(shape).to(ctx.device, dtype)
            with torch.no_grad():  # a random gain and bias, so that they are really tested
                ours.weight.normal_(), ours.bias.normal_()
                ref.weight.copy_(ours.weight), ref.bias.copy_(ours.bias)
            x = 3 * torch.randn(4, 7, 32, dtype=dtype, device=ctx.device) + 1
            out, grads = ctx.value_and_grads(ours, x, params=list(ours.parameters()))
            expected, ref_grads = ctx.value_and_grads(ref, x, params=list(ref.parameters()))
            ctx.check_close(f"forward vs nn.LayerNorm, normalized_shape={shape} ({name})", out, expected)
            ctx.check_close(
                f"gradients (input, g, b) vs nn.LayerNorm, shape={shape} ({name})", grads, ref_grads
            )

    # Invariances the paper lists (Table 1): re-centring and re-scaling of each example's summed inputs.
    # ε is set to 1e-12 here: it only guards division by zero, and with the default 1e-5 the re-scaling
    # invariance holds up to ε/σ² instead of exactly.
    norm = LayerNorm(64, eps=1e-12).to(ctx.device, exact)
    x = torch.randn(8, 64, dtype=exact, device=ctx.device)
    shift = 10 * torch.randn(8, 1, dtype=exact, device=ctx.device)  # one scalar per example
    scale = torch.rand(8, 1, dtype=exact, device=ctx.device) * 10 + 0.1
    with torch.no_grad():
        ctx.check_close("invariant to a per-example shift: LN(a + c) = LN(a)", norm(x + shift), norm(x))
        ctx.check_close(
            "invariant to a per-example re-scaling: LN(s·a) = LN(a), s > 0", norm(scale * x), norm(x)
        )
        alone = norm(x[:1])
        other = torch.cat([x[:1], 5 * torch.randn(7, 64, dtype=exact, device=ctx.device)])
        ctx.check_close(
            "independent of the rest of the batch: LN(batch)[0] = LN(example 0)", norm(other)[:1], alone
        )
        batch_norm = nn.BatchNorm1d(64).to(ctx.device, exact).train()
        moved = (batch_norm(x)[:1] - batch_norm(other)[:1]).abs().max().item()
    ctx.check_property(
        "batch normalisation, by contrast, depends on the rest of the batch",
        moved > 0.1,
        f"BatchNorm1d output of example 0 moved by {moved:.2f} when the other examples changed",
        value=moved,
    )


def deep_network(depth: int, width: int, d_in: int, classes: int, normalise: bool) -> nn.Sequential:
    """depth × (Linear → [LayerNorm] → ReLU), then a linear read-out. PyTorch's default initialisation."""
    layers: list[nn.Module] = []
    for i in range(depth):
        layers.append(nn.Linear(d_in if i == 0 else width, width))
        if normalise:
            layers.append(LayerNorm(width))
        layers.append(nn.ReLU())
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def _train_pair(ctx: RunContext, seed: int, steps: int, record: bool) -> tuple[list[float], list[float]]:
    """Full-data loss every 10 steps for the plain and the normalised network, trained A/B on one seed."""
    g = torch.Generator().manual_seed(1000 + seed)
    X = torch.randn(2048, 32, generator=g)  # (n, d_in)
    teacher = torch.randn(32, 4, generator=g)
    y = (X @ teacher).argmax(dim=-1)  # 4 classes, linearly separable
    X, y = X.to(ctx.device), y.to(ctx.device)
    curves = []
    for normalise in (False, True):
        torch.manual_seed(seed)  # the same linear-layer weights in both (LayerNorm draws no random numbers)
        model = deep_network(12, 64, 32, 4, normalise).to(ctx.device)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        batches = torch.Generator().manual_seed(seed)  # the same batches in both
        label = "LayerNorm" if normalise else "no normalisation"
        curve = []
        for step in range(steps + 1):
            if step % 10 == 0:
                with torch.no_grad():
                    curve.append(F.cross_entropy(model(X), y).item())
                if record:
                    ctx.metric(f"loss ({label})", step, curve[-1])
            if step == steps:
                break
            idx = torch.randint(0, len(X), (128,), generator=batches).to(ctx.device)
            loss = F.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        curves.append(curve)
    return curves[0], curves[1]


def train(ctx: RunContext) -> None:
    torch.set_flush_denormal(True)  # denormals made the plain deep network several times slower on CPU
    steps = 150
    seeds = [ctx.seed] if ctx.quick else [ctx.seed + i for i in range(5)]
    finals, ratios = [], []
    for i, seed in enumerate(seeds):
        plain, normalised = _train_pair(ctx, seed, steps, record=i == 0)
        finals.append(normalised[-1])
        ratios.append(plain[-1] / normalised[-1])
        reach = next((10 * k for k, loss in enumerate(normalised) if loss <= 0.7), None)
        reach_plain = next((10 * k for k, loss in enumerate(plain) if loss <= 0.7), None)
        ctx.measured(
            f"seed {seed}: steps to full-data loss 0.7, LayerNorm",
            float("nan") if reach is None else reach,
            f"without normalisation: {'not within ' + str(steps) if reach_plain is None else reach_plain}",
        )
        ctx.progress(i + 1, len(seeds))
    detail = f"{len(seeds)} seed(s), {steps} Adam steps, 12 layers; chance level is ln 4 = 1.39"
    ctx.target(
        "final loss with LayerNorm (worst seed)", max(finals), 0.5, higher_is_better=False, detail=detail
    )
    ctx.target(
        "final loss without / with LayerNorm (worst seed)",
        min(ratios),
        2.0,
        detail="same initial weights and batches: only the normalisation differs",
    )
    if len(ratios) > 1:
        ctx.measured(
            "loss ratio, mean over seeds", statistics.mean(ratios), f"stdev {statistics.stdev(ratios):.2f}"
        )


def bench(ctx: RunContext) -> None:
    bench_norms(
        ctx, lambda hidden: [("nn.LayerNorm", nn.LayerNorm(hidden)), ("LayerNorm", LayerNorm(hidden))]
    )


def bench_norms(ctx: RunContext, variants: Callable[[int], list[tuple[str, nn.Module]]]) -> None:
    """Forward and forward+backward of each normalisation layer on one batch of rows; the first variant
    is the baseline. The rmsnorm plugin times its layers with this too, so the two compare like for like."""
    torch.set_flush_denormal(True)
    torch.manual_seed(ctx.seed)
    rows, hidden = (1024, 512) if ctx.quick else (8192, 1024)
    x = torch.randn(rows, hidden, device=ctx.device, requires_grad=True)
    common = {"tokens": rows, "shape": (rows, hidden), "dtype": x.dtype, "unit": "rows/s"}
    for i, (label, module) in enumerate(variants(hidden)):
        module = module.to(ctx.device)

        def forward(module: nn.Module = module) -> torch.Tensor:
            with torch.no_grad():
                return module(x)

        def forward_backward(module: nn.Module = module) -> None:
            module(x).sum().backward()

        ctx.bench.measure(f"{label} forward", forward, baseline=i == 0, **common)
        ctx.bench.measure(f"{label} forward+backward", forward_backward, **common)
