"""Weight normalisation at toy scale: equal to PyTorch's ``weight_norm`` parametrization, with the gradients
of eq. 3, a data-dependent initialisation that does what section 3 says, and what it buys in training
against a fairly set-up plain network and against batch normalisation.

check: forward and gradients (input, g, v, b) equal ``nn.Linear`` under
       ``torch.nn.utils.parametrizations.weight_norm(dim=0)`` with copied parameters (float64, then float32,
       shapes down to one input and one output); the output is invariant to re-scaling v; autograd's
       gradients are eq. 3's (∇_v L orthogonal to v, to float64 precision); after the data-dependent
       initialisation every layer's pre-activations have mean 0 and variance 1 on the init batch; an
       example's output does not depend on the rest of the batch (batch normalisation's does).
train: a 6-layer ReLU network three ways: plain (He init), weight-normalised (the paper's init and its
       data-dependent initialisation) and with ``nn.BatchNorm1d`` after every linear layer, on a 4-class
       problem whose inputs arrive badly scaled (×100), one pass over fresh examples. Each network its own
       best Adam rate of the same grid, chosen on a validation split; same data and batches; repeated from
       several seeds inside one run (3 quick, 8 full) and the test losses averaged. Asserted: the plain
       network's test loss is at least 1.5× WeightNorm's. Reported: the share of BatchNorm's gain WeightNorm
       gets, the time per step WeightNorm / BatchNorm; the full run also trains all three on standardised
       inputs and reports the steps each needs to a training loss of 0.5, and each normaliser's speed-up.
bench: WeightNormLinear against nn.Linear, nn.Linear under torch's weight_norm and nn.Linear + BatchNorm1d,
       forward and a training step's forward+backward.
"""

from __future__ import annotations

import itertools
import math
import statistics
import time
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from readtrack.api import RunContext, dtype_name, plural
from readtrack.plugin_kit.models import deep_mlp
from readtrack.plugin_kit.tasks import teacher_classes
from readtrack.plugin_kit.timing import bench_layers

from .config import Config
from .model import WeightNormLinear, data_dependent_init, weight_norm_mlp

N_HELD_OUT = 2048  # examples in each of the validation split (it picks the rate) and the test split
N_INIT = 128  # the batch the data-dependent initialisation sees (section 3: "a single minibatch")
# Each network gets the best Adam rate of this grid, chosen on a validation split; the grid holds each
# network's best inside it (WeightNorm's is the lowest: its v starts at the paper's N(0, 0.05), small).
RATES = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
QUICK_RATES = (3e-3, 3e-2)
SEED_STRIDE = 100  # run seed s trains seeds 100·s, 100·s + 1, ...: no two runs share an initialisation
#: The claim: without weight normalisation the test loss at the bad input scale is at least half again as
#: high.
CLAIM = 1.5
ARMS = ("WeightNorm", "no normalisation", "BatchNorm")
#: where torch's weight_norm(dim=0) keeps g, (out, 1), and v, (out, in)
TORCH_NAMES = ("parametrizations.weight.original0", "parametrizations.weight.original1")


# -- check -----------------------------------------------------------------------------------------------
def _torch_weight_norm(ours: WeightNormLinear) -> nn.Module:
    """``nn.Linear`` under PyTorch's own weight_norm parametrization (dim=0: one norm per output unit), with
    ``ours``'s g, v and b copied in (its g is (out, 1), ours (out,))."""
    ref = weight_norm(nn.Linear(ours.in_features, ours.out_features), dim=0).to(ours.v.device, ours.v.dtype)
    ref.load_state_dict(
        {**dict(zip(TORCH_NAMES, (ours.g.unsqueeze(1), ours.v), strict=True)), "bias": ours.b}
    )
    return ref


def _check_against_torch(ctx: RunContext) -> None:
    for (d_in, d_out), lead in itertools.product(((32, 16), (5, 1), (2, 3)), ((4, 7), (1,))):
        for dtype in ctx.check_dtypes:
            ours = WeightNormLinear(d_in, d_out).to(ctx.device, dtype)
            with torch.no_grad():  # random g, v and b, so that g = 1 or b = 0 cannot hide a bug
                ours.g.uniform_(-2, 2), ours.v.normal_(), ours.b.normal_()
            ref = _torch_weight_norm(ours)
            x = 3 * torch.randn(*lead, d_in, dtype=dtype)
            out, grads = ctx.value_and_grads(ours, x, params=[ours.g, ours.v, ours.b])
            named = dict(ref.named_parameters())
            params = [named[TORCH_NAMES[0]], named[TORCH_NAMES[1]], named["bias"]]  # g, v, b
            expected, ref_grads = ctx.value_and_grads(ref, x, params=params)
            label = f"torch weight_norm(nn.Linear({d_in}, {d_out}), dim=0), input {(*lead, d_in)}"
            ctx.check_close(f"forward vs {label} ({dtype_name(dtype)})", out, expected)
            ctx.check_close(f"gradients (input, g, v, b) vs {label} ({dtype_name(dtype)})", grads, ref_grads)


def _check_eq3(ctx: RunContext) -> None:
    """Autograd's gradients of g and v are eq. 3's, written from ∇_w L; ∇_v L is orthogonal to v."""
    exact = ctx.exact_dtype
    layer = WeightNormLinear(24, 8).to(ctx.device, exact)
    with torch.no_grad():
        layer.g.uniform_(0.5, 2)
    x = torch.randn(16, 24, dtype=exact, device=ctx.device)
    dy = torch.randn(16, 8, dtype=exact, device=ctx.device)  # the gradient a loss sends back
    grad_g, grad_v = torch.autograd.grad(layer(x), [layer.g, layer.v], dy)
    with torch.no_grad():
        v, g = layer.v, layer.g.unsqueeze(1)  # (out, in), (out, 1)
        v_norm = v.norm(dim=1, keepdim=True)  # (out, 1)
        w = g * v / v_norm
        grad_w = dy.T @ x  # ∇_w L of y = x wᵀ + b: (out, in)
        eq3_g = (grad_w * v).sum(dim=1) / v_norm.squeeze(1)  # ∇_g L = ∇_w L · v / ‖v‖
        projected = grad_w - w * (grad_w * w).sum(dim=1, keepdim=True) / (w * w).sum(dim=1, keepdim=True)
        eq3_v = g / v_norm * projected  # ∇_v L = g / ‖v‖ · M_w ∇_w L
        cosine = (grad_v * v).sum(dim=1).abs() / (grad_v.norm(dim=1) * v_norm.squeeze(1))
    ctx.check_close("eq. 3: ∇_g L = ∇_w L · v / ‖v‖ (autograd vs the formula)", grad_g, eq3_g)
    ctx.check_close("eq. 3: ∇_v L = g / ‖v‖ · M_w ∇_w L (autograd vs the formula)", grad_v, eq3_v)
    worst = cosine.max().item()
    ctx.check_property(
        f"eq. 3: ∇_v L is orthogonal to v (|cos| ≤ 1e-12, {dtype_name(exact)})",
        worst <= 1e-12 if exact == torch.float64 else worst <= 1e-5,
        f"largest |cos(∇_v L, v)| over the 8 units: {worst:.1e}",
        value=worst,
    )


def _check_invariances(ctx: RunContext) -> None:
    exact = ctx.exact_dtype
    layer = WeightNormLinear(32, 16).to(ctx.device, exact)
    x = torch.randn(8, 32, dtype=exact, device=ctx.device)
    scale = torch.rand(16, 1, dtype=exact, device=ctx.device) * 10 + 0.1  # one factor per unit
    with torch.no_grad():
        before = layer(x)
        layer.v.mul_(scale)
        ctx.check_close(
            "invariant to re-scaling v: v → c·v, c > 0 per unit, leaves the output", layer(x), before
        )

    # Section 3: after the initialisation every layer's pre-activations have mean 0, variance 1 on the batch.
    torch.manual_seed(ctx.seed)
    net = weight_norm_mlp(4, 32, 16, 4).to(ctx.device, exact)
    batch = 100 * torch.randn(N_INIT, 16, dtype=exact, device=ctx.device) + 3  # badly scaled on purpose
    data_dependent_init(net, batch)
    seen: list[torch.Tensor] = []
    hooks = [
        m.register_forward_hook(lambda m, i, o: seen.append(o))
        for m in net
        if isinstance(m, WeightNormLinear)
    ]
    with torch.no_grad():
        net(batch)
    for h in hooks:
        h.remove()
    means = torch.cat([t.mean(dim=0) for t in seen])
    variances = torch.cat([t.var(dim=0, unbiased=False) for t in seen])
    ctx.check_close(
        f"data-dependent init: pre-activations of all {len(seen)} layers have mean 0", means, 0 * means
    )
    ctx.check_close(
        f"data-dependent init: pre-activations of all {len(seen)} layers have variance 1",
        variances,
        1 + 0 * variances,
    )

    # No batch statistics: an example's output is the same alone and inside any batch.
    other = torch.cat([batch[:1], 5 * torch.randn(31, 16, dtype=exact, device=ctx.device)])
    with torch.no_grad():
        ctx.check_close(
            "independent of the rest of the batch: batch of 1 = the same example in a batch of 32",
            net(batch[:1]),
            net(other)[:1],
        )
        batch_norm = deep_mlp(4, 32, 16, 4, nn.BatchNorm1d).to(ctx.device, exact).train()
        moved = (batch_norm(batch[:2])[:1] - batch_norm(other)[:1]).abs().max().item()
    ctx.check_property(
        "batch normalisation, by contrast, depends on the rest of the batch",
        moved > 0.1,
        f"a BatchNorm1d network's output for example 0 moved by {moved:.2f} when the other examples changed",
        value=moved,
    )


def check(ctx: RunContext) -> None:
    _check_against_torch(ctx)
    _check_eq3(ctx)
    _check_invariances(ctx)


# -- train -----------------------------------------------------------------------------------------------
class _Run(NamedTuple):
    validation: float  # picks the rate
    test: float  # what the claim reports
    losses: list[float]  # the loss of each step's fresh batch
    seconds_per_step: float


def _network(cfg: Config, arm: str, init_batch: torch.Tensor) -> nn.Module:
    if arm == "BatchNorm":
        return deep_mlp(cfg.depth, cfg.width, 32, 4, nn.BatchNorm1d)  # He init, BatchNorm after each linear
    if arm == "no normalisation" or cfg.norm == "none":  # --set norm=none: the plain network in WN's place
        return deep_mlp(cfg.depth, cfg.width, 32, 4)  # He init
    model = weight_norm_mlp(cfg.depth, cfg.width, 32, 4)  # v ~ N(0, 0.05), g = 1, b = 0
    if cfg.init == "data":
        data_dependent_init(model, init_batch)  # section 3: g, b from one batch
    return model


def _train_one(ctx: RunContext, cfg: Config, seed: int, arm: str, lr: float, scale: float) -> _Run:
    """Adam on the 4-class teacher problem drawn with ``seed``, inputs ×``scale``, for one network.

    One pass over fresh examples (steps × batch, no repeats), so the held-out losses measure how far training
    got, not over-fitting; the validation split picks the rate, the test split is reported. The
    data-dependent initialisation sees a batch of its own (unlabelled examples of the same distribution)."""
    n_train = cfg.steps * cfg.batch
    X, y = teacher_classes(n_train + 2 * N_HELD_OUT + N_INIT, 32, 4, seed=1000 + seed, device=ctx.device)
    X = scale * X  # (n, 32): raw units nobody standardised
    torch.manual_seed(seed)
    model = _network(cfg, arm, X[-N_INIT:]).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    start = time.perf_counter()
    for step in range(cfg.steps):
        batch = slice(step * cfg.batch, (step + 1) * cfg.batch)  # the same batches for every network
        loss = F.cross_entropy(model(X[batch]), y[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    seconds = (time.perf_counter() - start) / cfg.steps
    model.eval()  # BatchNorm: its running statistics, as at test time
    with torch.no_grad():
        held_out = [slice(n_train + k * N_HELD_OUT, n_train + (k + 1) * N_HELD_OUT) for k in range(2)]
        validation, test = (F.cross_entropy(model(X[part]), y[part]).item() for part in held_out)
    return _Run(validation if math.isfinite(validation) else math.inf, test, losses, seconds)


def _arm(
    ctx: RunContext, cfg: Config, init_seeds: list[int], arm: str, scale: float
) -> tuple[float, list[_Run]]:
    """One network trained from each of ``init_seeds`` at its best rate of the grid, chosen on the validation
    loss of the first seed (the others train at that rate only, which keeps the quick run quick)."""
    rates = (QUICK_RATES if ctx.quick else RATES) if cfg.lr == 0 else (cfg.lr,)
    first = {lr: _train_one(ctx, cfg, init_seeds[0], arm, lr, scale) for lr in rates}
    best = min(first, key=lambda lr: first[lr].validation)
    ctx.log(
        f"inputs ×{scale:g}, {arm}: validation losses of seed {init_seeds[0]} "
        + ", ".join(f"lr {lr:g} {r.validation:.3f}" for lr, r in first.items())
    )
    return best, [first[best]] + [_train_one(ctx, cfg, seed, arm, best, scale) for seed in init_seeds[1:]]


def _steps_to(losses: list[list[float]], level: float) -> float:
    """The first step at which the training loss, averaged over the seeds and the last 10 steps, is at most
    ``level`` (nan if never): how fast a network trains."""
    curve = [statistics.mean(values) for values in zip(*losses, strict=True)]
    smooth = [statistics.mean(curve[max(0, i - 9) : i + 1]) for i in range(len(curve))]
    return float(next((i + 1 for i, v in enumerate(smooth) if v <= level), math.nan))


def _share(plain: float, wn: float, bn: float) -> float:
    """WeightNorm's share of BatchNorm's improvement over the plain network: 1 all of it, 0 none."""
    return (plain - wn) / (plain - bn) if plain != bn else math.nan


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    init_seeds = [SEED_STRIDE * ctx.seed + i for i in range(cfg.inits)]  # disjoint between runs
    inits = plural(len(init_seeds), "init")
    scales = (cfg.input_scale,) if ctx.quick or cfg.input_scale == 1 else (cfg.input_scale, 1.0)
    rates = (QUICK_RATES if ctx.quick else RATES) if cfg.lr == 0 else (cfg.lr,)
    grid = ", ".join(f"{r:g}" for r in rates)
    test: dict[tuple[str, float], float] = {}
    steps: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for done, (scale, arm) in enumerate(itertools.product(scales, ARMS)):
        lr, runs = _arm(ctx, cfg, init_seeds, arm, scale)
        test[arm, scale] = statistics.mean(r.test for r in runs)
        if scale == cfg.input_scale:
            seconds[arm] = statistics.mean(r.seconds_per_step for r in runs)
        for step, values in enumerate(zip(*(r.losses for r in runs), strict=True)):
            ctx.metric(f"training loss, inputs ×{scale:g}: {arm} (lr {lr:g})", step, statistics.mean(values))
        ctx.measured(
            f"inputs ×{scale:g}, {arm}: test loss (mean of {inits})",
            test[arm, scale],
            f"lr {lr:g}, the best of {grid} on seed {init_seeds[0]}'s validation split; "
            f"per init {', '.join(f'{r.test:.3f}' for r in runs)}",
        )
        if scale == 1.0:
            steps[arm] = _steps_to([r.losses for r in runs], 0.5)
            ctx.measured(
                f"inputs ×1, {arm}: steps to a training loss of 0.5",
                steps[arm],
                f"mean over {inits} of each step's fresh-batch loss, over the last 10 steps",
            )
        ctx.progress(done + 1, len(scales) * len(ARMS))

    bad = cfg.input_scale
    plain, wn, bn = (test[arm, bad] for arm in ("no normalisation", "WeightNorm", "BatchNorm"))
    setup = f"{inits}, {cfg.steps} Adam steps, {cfg.depth} ReLU layers of {cfg.width}"
    setup += "" if cfg.norm == "weight" else f", norm={cfg.norm} in WeightNorm's place"
    setup += "" if cfg.init == "data" else ", no data-dependent init"
    ctx.target(
        f"inputs ×{bad:g}: test loss without / with WeightNorm, each at its best lr",
        plain / wn,
        CLAIM,
        detail=f"{setup}; {plain:.3f} vs {wn:.3f}; chance level is ln 4 = 1.39",
    )
    ctx.measured(
        f"inputs ×{bad:g}: share of BatchNorm's gain over the plain network WeightNorm gets",
        _share(plain, wn, bn),
        f"test losses: plain {plain:.3f}, WeightNorm {wn:.3f}, BatchNorm {bn:.3f}; 1: all of it",
    )
    ctx.measured(
        "time per training step WeightNorm / BatchNorm",
        seconds["WeightNorm"] / seconds["BatchNorm"],
        f"wall time at each one's best lr, {seconds['WeightNorm'] * 1e3:.2f} vs "
        f"{seconds['BatchNorm'] * 1e3:.2f} ms; noisy on a shared machine; the bench times each layer",
    )
    if 1.0 in scales:
        s_plain = steps["no normalisation"]
        for arm in ("BatchNorm", "WeightNorm"):
            ctx.measured(
                f"inputs ×1: speed-up of {arm}, steps to a training loss of 0.5 without / with it",
                s_plain / steps[arm],
                f"{s_plain:g} vs {steps[arm]:g} steps, each at its best lr; > 1: faster than the plain one",
            )


# -- bench -----------------------------------------------------------------------------------------------
def bench(ctx: RunContext) -> None:
    rows, d = (512, 128) if ctx.quick else (8192, 1024)
    x = torch.randn(rows, d, device=ctx.device)
    variants: list[tuple[str, nn.Module]] = [
        ("nn.Linear", nn.Linear(d, d)),
        ("WeightNormLinear", WeightNormLinear(d, d)),
        ("torch weight_norm(nn.Linear)", weight_norm(nn.Linear(d, d), dim=0)),
        ("nn.Linear + BatchNorm1d", nn.Sequential(nn.Linear(d, d), nn.BatchNorm1d(d))),
    ]
    bench_layers(ctx, variants, x)
