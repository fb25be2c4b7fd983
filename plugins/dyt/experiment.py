"""DyT at toy scale: equal to its equation, free of statistics, and what it does in place of LayerNorm in a
small language model.

check: forward and every gradient (input, α, γ, β) equal the equation written separately with exp, in
       float64 and float32, on several shapes (a channel dimension of 1 among them); the gradients also equal
       the derivatives written out by hand (∂/∂α = Σ γ·x·(1 − tanh²(αx))·dy); float32 against float64. The
       properties: no statistics (the Jacobian is diagonal: no output depends on another feature, token or
       example, where ``nn.LayerNorm``'s couples a token's features), a bounded output |y − β| ≤ |γ|, and
       DyT ≈ γ·α·x + β for small α·x.
train: a small pre-norm transformer (``plugin_kit.transformer``, GPT-2's initialisation) learns order-1 Markov
       text of 16 symbols whose entropy rate is known, with LayerNorm, with DyT in every LayerNorm's place,
       and with no normalisation; same chains, same initialisation, same batches, each model at its own best
       Adam rate (the grid's pick on validation text), the held-out loss averaged over several chains and
       initialisations inside one run. Asserted: DyT's held-out loss within 0.05 nats of LayerNorm's (the
       paper's "match"); reported: the model without normalisation, and the time per step DyT / LayerNorm.
bench: DyT against ``nn.LayerNorm`` (the baseline) and ``nn.RMSNorm``, forward and a training step's
       forward+backward.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import NamedTuple

import torch
from torch import nn

from readtrack.api import RunContext, dtype_name, plural
from readtrack.plugin_kit.checks import compare_modules
from readtrack.plugin_kit.tasks import MarkovText
from readtrack.plugin_kit.timing import bench_layers
from readtrack.plugin_kit.transformer import TinyTransformer

from .config import Config
from .model import DyT

VOCAB, ORDER, HEADS = 16, 1, 2  # order-1 Markov text of 16 symbols; 2 attention heads
POOL, HELD_OUT = 4096, 256  # training sequences of each chain; validation and test sequences
RATES = (3e-3, 1e-2, 3e-2)  # Adam: each model its own best rate of this grid, on validation text
# The quick run trains the rate the grid picks at the quick budget (one block, 100 steps of 64 sequences), the
# pick on two chains and inits (0 and 1) by validation loss: LayerNorm 1e-2, DyT and no normalisation 3e-2;
# ``readtrack run dyt --quick --impl grid`` trains the whole grid to check it again.
QUICK_LR = {"LayerNorm": 1e-2, "DyT": 3e-2, "no normalisation": 3e-2}
SEED_STRIDE = 100  # run seed s trains chains and inits 100·s, 100·s + 1, ...: no two runs share one
#: The claim: DyT "matches" LayerNorm, read as a held-out loss at most 0.05 nats above it.
MARGIN = 0.05
#: and DyT is not the same as removing the norms: without them the held-out loss is ≥ 0.01 nats higher.
#: Reported only: its seed-to-seed spread is too wide for the calibration rule (the page says how wide).
BETTER = 0.01
#: what ``--set norm=...`` puts in the DyT model's place (the ablation switch of config.py)


def _no_norm(width: int) -> nn.Module:
    """What stands in a norm's place without normalisation: nothing."""
    return nn.Identity()


UNDER_TEST: dict[str, Callable[..., nn.Module]] = {"dyt": DyT, "layer": nn.LayerNorm, "none": _no_norm}
ARMS = ("LayerNorm", "DyT", "no normalisation")


class Equation(nn.Module):
    """The reference: DyT's equation (section 4) written out with exp, tanh(z) = 1 − 2 / (e^{2z} + 1) (no
    torch.tanh), with DyT's parameter names so that ``compare_modules`` copies the parameters across."""

    def __init__(self, normalized_shape: int | tuple[int, ...]) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.alpha = nn.Parameter(torch.tensor(0.5))
        self.weight, self.bias = nn.Parameter(torch.ones(shape)), nn.Parameter(torch.zeros(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight * (1 - 2 / (torch.exp(2 * self.alpha * x) + 1)) + self.bias


def check(ctx: RunContext) -> None:
    for shape, size in (((1,), (5, 1)), ((32,), (4, 7, 32)), ((7, 32), (4, 7, 32))):
        compare_modules(
            ctx,
            f"the DyT equation, normalized_shape={shape[0] if len(shape) == 1 else shape}",
            partial(DyT, shape),
            partial(Equation, shape),
            partial(_input, size),
        )
    exact = ctx.exact_dtype
    torch.manual_seed(ctx.seed)
    dyt = DyT(16).to(ctx.device, exact)
    with torch.no_grad():
        for p in dyt.parameters():
            p.normal_()
    _check_gradients_by_hand(ctx, dyt)
    # float32 against float64: the same parameters and input, DyT's float32 forward within float32's tolerance
    x = 3 * torch.randn(8, 5, 16, dtype=exact, device=ctx.device)
    with torch.no_grad():
        single = DyT(16).to(ctx.device, torch.float32)
        single.load_state_dict(dyt.state_dict())
        ctx.check_close(
            f"float32 forward vs the {dtype_name(exact)} equation", single(x.float()), _equation(dyt, x)
        )
    _check_no_statistics(ctx, dyt)
    with torch.no_grad():
        huge = 1e6 * torch.randn(8, 5, 16, dtype=exact, device=ctx.device)
        # |y − β| − |γ|, less the rounding of γ·t + β − β (a few ulps of |γ| + |β|)
        slack = 4 * torch.finfo(exact).eps * (dyt.weight.abs() + dyt.bias.abs())
        excess = ((dyt(huge) - dyt.bias).abs() - dyt.weight.abs() - slack).max().item()
        ctx.check_property(
            "bounded: |DyT(x) − β| ≤ |γ| for every x (inputs up to ~1e6; to rounding)",
            excess <= 0,
            f"largest |y − β| − |γ| − 4 ulps: {excess:.2e}",
            value=excess,
        )
        small = 1e-3 * torch.randn(8, 5, 16, dtype=exact, device=ctx.device)
        z = dyt.alpha * small  # α·x, small
        error = (dyt(small) - (dyt.weight * z + dyt.bias)).abs()
        rounding = 8 * torch.finfo(exact).eps * (dyt.bias.abs() + (dyt.weight * z).abs())
        bound = dyt.weight.abs() * z.abs() ** 3 / 3 + rounding  # |tanh z − z| ≤ |z|³/3
        ctx.check_property(
            "small α·x: DyT(x) ≈ γ·α·x + β, |error| ≤ |γ|·|αx|³/3",
            bool((error <= bound).all()),
            f"largest error {error.max().item():.2e}, "
            f"largest γ·α·x {(dyt.weight * z).abs().max().item():.2e}",
            value=error.max().item(),
        )
    for low in (torch.bfloat16, torch.float16):
        with torch.no_grad():
            got = DyT(32).to(ctx.device, low)(torch.randn(4, 32, device=ctx.device).to(low)).dtype
        ctx.check_property(
            f"a {dtype_name(low)} input gives a {dtype_name(low)} output (as nn.LayerNorm)",
            got == low,
            f"returned {dtype_name(got)}",
        )


def _input(size: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    return 2 * torch.randn(size, dtype=dtype)


def _equation(dyt: DyT, x: torch.Tensor) -> torch.Tensor:
    """DyT's equation with DyT's parameters, through ``Equation``."""
    ref = Equation(dyt.normalized_shape).to(x.device, x.dtype)
    ref.load_state_dict(dyt.state_dict())
    return ref(x)


def _check_gradients_by_hand(ctx: RunContext, dyt: DyT) -> None:
    """Autograd's gradients of DyT against the derivatives of its equation written out: with t = tanh(αx)
    and an upstream gradient dy, ∂/∂x = dy·γ·α·(1 − t²), ∂/∂α = Σ dy·γ·x·(1 − t²), ∂/∂γ = Σ dy·t, ∂/∂β = Σ dy
    (the sums over every leading dimension, and for α over the channels too)."""
    exact = ctx.exact_dtype
    x = (2 * torch.randn(3, 5, 16, dtype=exact, device=ctx.device)).requires_grad_()
    dy = torch.randn(3, 5, 16, dtype=exact, device=ctx.device)
    grads = torch.autograd.grad(dyt(x), [x, dyt.alpha, dyt.weight, dyt.bias], dy)
    with torch.no_grad():
        alpha, gamma = dyt.alpha, dyt.weight
        t = torch.tanh(alpha * x)
        by_hand = [
            dy * gamma * alpha * (1 - t**2),
            (dy * gamma * x * (1 - t**2)).sum(),
            (dy * t).sum(dim=(0, 1)),
            dy.sum(dim=(0, 1)),
        ]
    for name, got, expected in zip(("x", "α", "γ", "β"), grads, by_hand, strict=True):
        ctx.check_close(f"∂/∂{name} vs the derivative written out ({dtype_name(exact)})", got, expected)


def _check_no_statistics(ctx: RunContext, dyt: DyT) -> None:
    """The Jacobian of a (2 examples, 3 tokens, 16 features) input: DyT's is diagonal, so no output depends
    on another feature, token or example; nn.LayerNorm's couples the features of each token."""
    exact = ctx.exact_dtype
    x = 2 * torch.randn(2, 3, 16, dtype=exact, device=ctx.device)
    n = x.numel()
    jac = torch.autograd.functional.jacobian(dyt, x).reshape(n, n)  # (outputs, inputs)
    eye = torch.eye(n, dtype=torch.bool, device=ctx.device)
    off = jac[~eye].abs().max().item()
    ctx.check_property(
        "no statistics: ∂y_i/∂x_j = 0 for i ≠ j (other features, tokens and examples; Jacobian 96×96)",
        off == 0.0,
        f"largest off-diagonal |∂y_i/∂x_j|: {off:.2e}",
        value=off,
    )
    ctx.check_property(
        "and every output depends on its own input: ∂y_i/∂x_i ≠ 0",
        bool((jac[eye] != 0).all()),
        f"smallest |∂y_i/∂x_i|: {jac[eye].abs().min().item():.2e}",
    )
    layer_norm = nn.LayerNorm(16).to(ctx.device, exact)
    coupled = torch.autograd.functional.jacobian(layer_norm, x).reshape(n, n)[~eye].abs().max().item()
    ctx.check_property(
        "nn.LayerNorm, by contrast, couples the features of a token (off-diagonal Jacobian ≠ 0)",
        coupled > 1e-3,
        f"largest off-diagonal |∂y_i/∂x_j| of nn.LayerNorm: {coupled:.2e}",
        value=coupled,
    )


class _Run(NamedTuple):
    validation: float  # picks the rate
    test: float  # held-out loss − the chain's own loss on the same text (nats): what the claim reports
    seconds_per_step: float
    alpha: float  # mean α of the DyT layers after training (nan without DyT)


def _model(cfg: Config, arm: str, seed: int) -> TinyTransformer:
    """The pre-norm transformer with GPT-2's initialisation from ``seed``, its LayerNorms (two per block and
    the final one) left as they are, or each replaced by a DyT or by nothing: the norms draw no random
    numbers, so every arm starts from the same weights."""
    torch.manual_seed(seed)
    model = TinyTransformer(VOCAB, cfg.seq_len, cfg.d_model, HEADS, cfg.layers)
    factory = {"LayerNorm": nn.LayerNorm, "DyT": UNDER_TEST[cfg.norm], "no normalisation": UNDER_TEST["none"]}
    make: Callable[..., nn.Module] = factory[arm]
    if make is DyT:
        make = partial(DyT, alpha_init=cfg.alpha_init)
    if arm != "LayerNorm":
        for block in model.blocks:
            block.ln1, block.ln2 = make(cfg.d_model), make(cfg.d_model)
        model.ln_f = make(cfg.d_model)  # type: ignore[assignment]  # TinyTransformer types it LayerNorm
    return model


def _fit(ctx: RunContext, cfg: Config, arm: str, seed: int, lr: float, log: bool) -> _Run:
    """Adam on chain ``seed`` from initialisation ``seed``, batches drawn from ``seed`` (the same for every
    arm); validation text (seed + 2) picks the rate, the test text (seed + 1) is reported."""
    text = MarkovText.make(
        seed, order=ORDER, length=cfg.seq_len, pool=POOL, held_out=HELD_OUT, device=ctx.device
    )
    g = torch.Generator().manual_seed(seed + 2)
    validation = replace(text, held_out=text.chain.sample(HELD_OUT, cfg.seq_len, g, device=ctx.device))
    model = _model(cfg, arm, seed).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sync = torch.cuda.synchronize if torch.device(ctx.device).type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    metric = partial(ctx.metric, f"training loss: {arm} (lr {lr:g})") if log else None
    text.fit(model, opt, cfg.steps, seed, batch=cfg.batch, log=metric)
    sync()
    seconds = (time.perf_counter() - start) / cfg.steps
    alphas = [m.alpha.item() for m in model.modules() if isinstance(m, DyT)]
    alpha = statistics.mean(alphas) if alphas else float("nan")
    return _Run(validation.held_out_loss(model), text.held_out_loss(model) - text.floor, seconds, alpha)


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    seeds = [SEED_STRIDE * ctx.seed + i for i in range(cfg.inits)]  # each a chain and an initialisation
    inits = plural(len(seeds), "init")
    excess: dict[str, float] = {}
    per_step: dict[str, float] = {}
    for done, arm in enumerate(ARMS):
        if cfg.lr:
            grid: tuple[float, ...] = (cfg.lr,)
        elif ctx.quick and ctx.options.get("impl") != "grid":
            grid = (QUICK_LR[arm],)
        else:
            grid = RATES
        # the rate: the best of the grid on the first chain's validation text; the others train at it only
        first = {lr: _fit(ctx, cfg, arm, seeds[0], lr, log=True) for lr in grid}
        best = min(grid, key=lambda lr: first[lr].validation)
        runs = [first[best]] + [_fit(ctx, cfg, arm, seed, best, log=False) for seed in seeds[1:]]
        excess[arm] = statistics.mean(r.test for r in runs)
        per_step[arm] = statistics.mean(r.seconds_per_step for r in runs)
        in_place = f"norm={cfg.norm} in DyT's place; " if arm == "DyT" and cfg.norm != "dyt" else ""
        ctx.measured(
            f"{arm}: held-out loss − the chain's own (nats, mean of {inits})",
            excess[arm],
            f"{in_place}lr {best:g}, the best on validation of "
            + ", ".join(f"{lr:g}: {r.validation:.4f}" for lr, r in first.items())
            + f"; per init {', '.join(f'{r.test:.4f}' for r in runs)}",
        )
        if arm == "DyT" and cfg.norm == "dyt":
            ctx.measured(
                "DyT: α after training (mean over its layers and inits)",
                statistics.mean(r.alpha for r in runs),
                f"α₀ = {cfg.alpha_init:g}",
            )
        ctx.progress(done + 1, len(ARMS))
    setup = f"{inits}, {cfg.steps} Adam steps, {cfg.layers} pre-norm blocks of width {cfg.d_model}"
    setup += "" if cfg.norm == "dyt" else f", norm={cfg.norm} in DyT's place"
    ln, dyt, plain = (excess[arm] for arm in ARMS)
    ctx.target(
        "held-out loss DyT − LayerNorm (nats), each at its best lr",
        dyt - ln,
        MARGIN,
        higher_is_better=False,
        detail=f"{setup}; {dyt:.4f} vs {ln:.4f} above the chain's own loss",
    )
    ctx.target(
        "held-out loss no normalisation − DyT (nats), each at its best lr",
        plain - dyt,
        BETTER,
        detail=f"{setup}; {plain:.4f} vs {dyt:.4f}; 0 if DyT did nothing a plain model does not",
        asserted=False,
    )
    ctx.measured(
        "held-out loss no normalisation − LayerNorm (nats), each at its best lr",
        plain - ln,
        f"{plain:.4f} vs {ln:.4f} above the chain's own loss",
    )
    ctx.measured(
        "time per training step DyT / LayerNorm",
        per_step["DyT"] / per_step["LayerNorm"],
        f"{1e3 * per_step['DyT']:.2f} vs {1e3 * per_step['LayerNorm']:.2f} ms per step (wall time, "
        f"{ctx.device}); each layer alone is timed by the bench stage",
    )


def bench(ctx: RunContext) -> None:
    rows, hidden = (1024, 512) if ctx.quick else (8192, 1024)
    x = torch.randn(rows, hidden, device=ctx.device)
    variants: list[tuple[str, nn.Module]] = [
        ("nn.LayerNorm", nn.LayerNorm(hidden)),
        ("nn.RMSNorm", nn.RMSNorm(hidden, eps=1e-6)),
        ("DyT", DyT(hidden)),
    ]
    bench_layers(ctx, variants, x)
