"""Layer normalisation at toy scale: equal to ``nn.LayerNorm``, invariant as the paper says, and what that
invariance buys in training against a fairly set-up network without it.

check: forward and gradients equal ``torch.nn.LayerNorm`` with the same gain and bias (float64, then
       float32); in bfloat16 the error against float64 is no worse than the built-in's (statistics are
       accumulated in float32); the output ignores a per-example shift and re-scaling of the input; an
       example's output does not depend on the rest of the batch (unlike batch normalisation's).
train: a 6-layer ReLU network with and without LayerNorm after every linear layer, both He-initialised,
       on a 4-class problem whose inputs arrive badly scaled (×100, raw units nobody standardised), one
       pass over fresh examples. Paired: both networks train on the same data from the same initialisation
       and batches, each at its own best Adam rate of the same grid (chosen on a validation split, never on
       the test losses the claim reports); the pair is repeated from several seeds inside one run (3 quick,
       8 full) and the test losses averaged. Asserted: without LayerNorm the test loss is at least 1.5×
       the loss with it. The full run also trains both on standardised inputs and reports (does not
       assert) which trains faster and how much each network loses to the bad scale.
bench: forward and a training step's forward+backward against ``nn.LayerNorm``.
"""

from __future__ import annotations

import itertools
import math
import statistics
from functools import partial
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.api import RunContext, plural
from readtrack.plugin_kit.checks import compare_modules
from readtrack.plugin_kit.models import deep_mlp
from readtrack.plugin_kit.tasks import teacher_classes
from readtrack.plugin_kit.timing import bench_layers

from .config import Config
from .model import LayerNorm

N_HELD_OUT = 2048  # examples in each of the validation split (it picks the rate) and the test split
# Each network gets the best rate of this grid (Adam), chosen on a validation split: the ablation is tuned
# as carefully as the idea. The grids, the same for both networks, hold each one's best rate inside.
RATES = (3e-3, 1e-2, 3e-2, 1e-1)
QUICK_RATES = (1e-2, 3e-2)
SEED_STRIDE = 100  # run seed s trains seeds 100·s, 100·s + 1, ...: no two runs share an initialisation
#: The claim: without LayerNorm the test loss at the bad input scale is at least half again as high.
CLAIM = 1.5


def check(ctx: RunContext) -> None:
    for shape in (32, (7, 32)):
        compare_modules(
            ctx,
            f"nn.LayerNorm, normalized_shape={shape}",
            partial(LayerNorm, shape),
            partial(nn.LayerNorm, shape),
            lambda dtype: 3 * torch.randn(4, 7, 32, dtype=dtype) + 1,
        )
    _check_low_precision(ctx)
    # The statistics in float32, the output in a's own dtype, as nn.LayerNorm returns it.
    from readtrack.api import dtype_name

    for low in (torch.bfloat16, torch.float16):
        with torch.no_grad():
            got = LayerNorm(32).to(ctx.device, low)(torch.randn(4, 32, dtype=low, device=ctx.device)).dtype
        ctx.check_property(
            f"a {dtype_name(low)} input gives a {dtype_name(low)} output (a's dtype, as nn.LayerNorm)",
            got == low,
            f"returned {dtype_name(got)}",
        )

    # Invariances the paper lists (Table 1): re-centring and re-scaling of each example's summed inputs.
    # ε is set to 1e-12 here: it only guards division by zero, and with the default 1e-5 the re-scaling
    # invariance holds up to ε/σ² instead of exactly.
    exact = ctx.exact_dtype
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


def _check_low_precision(ctx: RunContext) -> None:
    """In bfloat16 the mean and variance must be accumulated in float32, as nn.LayerNorm does: computed in
    bfloat16 they lose most of their bits and the output error roughly doubles."""
    hidden = 1024
    ours, ref = LayerNorm(hidden).to(ctx.device), nn.LayerNorm(hidden).to(ctx.device)
    x = 3 * torch.randn(64, hidden, device=ctx.device) + 1  # a mean to subtract: where precision goes
    exact = ours.to(ctx.exact_dtype)(x.to(ctx.exact_dtype))
    with torch.no_grad():
        ours_error = (ours.to(torch.bfloat16)(x.bfloat16()).to(exact.dtype) - exact).abs().mean().item()
        ref_error = (ref.to(torch.bfloat16)(x.bfloat16()).to(exact.dtype) - exact).abs().mean().item()
    ctx.check_property(
        "bfloat16: mean error against float64 no worse than nn.LayerNorm's (+10%)",
        ours_error <= 1.1 * ref_error,
        f"ours {ours_error:.2e}, nn.LayerNorm {ref_error:.2e} (1024 units, inputs 3·N(0,1) + 1)",
        value=ours_error / ref_error,
    )


class _Run(NamedTuple):
    validation: float  # picks the rate
    test: float  # what the claim reports
    losses: list[float]  # the loss of each step's fresh batch


def _train_one(ctx: RunContext, cfg: Config, seed: int, normalise: bool, lr: float, scale: float) -> _Run:
    """Adam on the 4-class teacher problem drawn with ``seed``, inputs ×``scale``, with or without
    LayerNorm after every linear layer.

    One pass over fresh examples (steps × batch, no repeats), so the held-out losses measure how far training
    got, not over-fitting; the validation split picks the rate, the test split is reported.
    """
    n_train = cfg.steps * cfg.batch
    X, y = teacher_classes(n_train + 2 * N_HELD_OUT, 32, 4, seed=1000 + seed, device=ctx.device)
    X = scale * X  # (n, 32): raw units nobody standardised
    torch.manual_seed(seed)  # the same linear weights with and without LayerNorm (it draws no numbers)
    norm = LayerNorm if normalise and cfg.norm == "layer" else None  # --set norm=none: the plain network
    model = deep_mlp(cfg.depth, cfg.width, 32, 4, norm).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for step in range(cfg.steps):
        batch = slice(step * cfg.batch, (step + 1) * cfg.batch)  # the same batches with and without
        loss = F.cross_entropy(model(X[batch]), y[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        held_out = [slice(n_train + k * N_HELD_OUT, n_train + (k + 1) * N_HELD_OUT) for k in range(2)]
        validation, test = (F.cross_entropy(model(X[part]), y[part]).item() for part in held_out)
    return _Run(validation, test, losses)


def _arm(
    ctx: RunContext, cfg: Config, init_seeds: list[int], normalise: bool, scale: float
) -> tuple[float, list[_Run]]:
    """One network trained from each of ``init_seeds`` at its best rate of the grid, chosen on the validation
    loss of the first seed (the others train at that rate only, which keeps the quick run quick)."""
    label = "LayerNorm" if normalise else "no normalisation"
    rates = (QUICK_RATES if ctx.quick else RATES) if cfg.lr == 0 else (cfg.lr,)
    first = {lr: _train_one(ctx, cfg, init_seeds[0], normalise, lr, scale) for lr in rates}
    best = min(first, key=lambda lr: first[lr].validation)
    ctx.log(
        f"inputs ×{scale:g}, {label}: validation losses of seed {init_seeds[0]} "
        + ", ".join(f"lr {lr:g} {r.validation:.3f}" for lr, r in first.items())
    )
    return best, [first[best]] + [
        _train_one(ctx, cfg, seed, normalise, best, scale) for seed in init_seeds[1:]
    ]


def _steps_to(losses: list[list[float]], level: float) -> float:
    """The first step at which the training loss, averaged over the seeds and the last 10 steps, is at most
    ``level`` (nan if never): how fast a network trains."""
    curve = [statistics.mean(values) for values in zip(*losses, strict=True)]
    smooth = [statistics.mean(curve[max(0, i - 9) : i + 1]) for i in range(len(curve))]
    return float(next((i + 1 for i, v in enumerate(smooth) if v <= level), math.nan))


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    init_seeds = [SEED_STRIDE * ctx.seed + i for i in range(cfg.inits)]  # disjoint between runs
    inits = plural(len(init_seeds), "init")
    scales = (cfg.input_scale,) if ctx.quick or cfg.input_scale == 1 else (cfg.input_scale, 1.0)
    rates = (QUICK_RATES if ctx.quick else RATES) if cfg.lr == 0 else (cfg.lr,)
    grid = ", ".join(f"{r:g}" for r in rates)
    test: dict[tuple[str, float], float] = {}
    for done, (scale, normalise) in enumerate(itertools.product(scales, (True, False))):
        label = "LayerNorm" if normalise else "no normalisation"
        lr, runs = _arm(ctx, cfg, init_seeds, normalise, scale)
        test[label, scale] = statistics.mean(r.test for r in runs)
        for step, values in enumerate(zip(*(r.losses for r in runs), strict=True)):
            name = f"training loss, inputs ×{scale:g}: {label} (lr {lr:g})"
            ctx.metric(name, step, statistics.mean(values))
        ctx.measured(
            f"inputs ×{scale:g}, {label}: test loss (mean of {inits})",
            test[label, scale],
            f"lr {lr:g}, the best of {grid} on seed {init_seeds[0]}'s validation split; "
            f"per init {', '.join(f'{r.test:.3f}' for r in runs)}",
        )
        if scale == 1.0:
            ctx.measured(
                f"inputs ×1, {label}: steps to a training loss of 0.5",
                _steps_to([r.losses for r in runs], 0.5),
                f"mean over {inits} of each step's fresh-batch loss, over the last 10 steps",
            )
        ctx.progress(done + 1, 2 * len(scales))

    bad = cfg.input_scale
    plain, normed = test["no normalisation", bad], test["LayerNorm", bad]
    setup = f"{inits}, {cfg.steps} Adam steps, {cfg.depth} He-initialised layers of {cfg.width}"
    setup += "" if cfg.norm == "layer" else f", norm={cfg.norm} in LayerNorm's place"
    ctx.target(
        f"inputs ×{bad:g}: test loss without / with LayerNorm, each at its best lr",
        plain / normed,
        CLAIM,
        detail=f"{setup}; {plain:.3f} vs {normed:.3f}; chance level is ln 4 = 1.39",
    )
    if not ctx.quick:
        for label in ("LayerNorm", "no normalisation"):
            ctx.measured(
                f"{label}: test loss with inputs ×{bad:g} / with inputs ×1",
                test[label, bad] / test[label, 1.0],
                "1: insensitive to the scale; in LayerNorm's network only the first layer's bias sees it",
            )


def bench(ctx: RunContext) -> None:
    rows, hidden = (1024, 512) if ctx.quick else (8192, 1024)
    x = torch.randn(rows, hidden, device=ctx.device)
    bench_layers(ctx, [("nn.LayerNorm", nn.LayerNorm(hidden)), ("LayerNorm", LayerNorm(hidden))], x)
