"""Instance normalisation at toy scale: equal to ``nn.InstanceNorm2d``, invariant to each image's contrast,
and what that buys a small image-to-image network against the same network with batch normalisation.

check: forward and gradients equal ``torch.nn.InstanceNorm2d`` (with and without the affine γ, β, copied
       parameters; float64, then float32; odd spatial sizes such as 1×7 and 5×3) and ``nn.InstanceNorm1d``;
       equal to ``nn.GroupNorm`` with one group per channel; in bfloat16 the error against float64 is no
       worse than the built-in's; the output ignores a per-image, per-channel change of contrast and
       brightness (x → a·x + b, a > 0); an image's output does not depend on the rest of the batch (batch
       normalisation's does); train and eval mode compute the same thing (no running statistics).
train: a stylization-like task: a fully convolutional network renders each procedural shape image as its
       clean mask at one fixed contrast, whatever the contrast and brightness the image arrives at. Two
       networks, identical but for the normalisation after each 3×3 convolution, InstanceNorm or BatchNorm,
       He-initialised from the same seed, the same batches, each at its own best Adam rate of the same grid
       (chosen on a validation split at the training contrasts); the pair is repeated from several seeds
       inside one run and the numbers averaged. Test images are shown at contrasts inside the training
       range and, the same images, far outside it. Asserted: InstanceNorm's output moves by at most 0.01
       when the contrast leaves the range, BatchNorm's by at least 0.1, and there BatchNorm's test MSE
       exceeds InstanceNorm's by at least 0.05.
bench: forward and a training step's forward+backward against ``nn.InstanceNorm2d`` and ``nn.BatchNorm2d``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.api import RunContext, dtype_name, plural
from readtrack.plugin_kit import rates as rate_grid
from readtrack.plugin_kit.checks import compare_modules
from readtrack.plugin_kit.images import shapes
from readtrack.plugin_kit.timing import bench_layers

from .config import Config
from .model import InstanceNorm

N_HELD_OUT = 512  # images in each of the validation split (it picks the rate) and the test split
# Each network gets the best Adam rate of this grid, chosen on the validation split at the training contrasts
# (never on the out-of-range test the claim reports). A quick run trains the rate the grid picks at the quick
# budget (``readtrack run instancenorm --quick --impl grid --seeds 0-4``), the same for both networks.
RATES = (3e-3, 1e-2, 3e-2, 1e-1)
QUICK_RATE = {"InstanceNorm": 1e-1, "BatchNorm": 3e-2}  # each the best on 4 of seeds 0-4 (the 5th a near tie)
SEED_STRIDE = 100  # run seed s trains seeds 100·s, 100·s + 1, ...: no two runs share an initialisation
#: The claims. The output (an image, 0 to 1) of InstanceNorm's network moves by at most 1% of its range when
#: the contrast leaves the training range; BatchNorm's by at least 10%; and there BatchNorm's test MSE exceeds
#: InstanceNorm's by at least 0.05, a fifth of what rendering every pixel grey (0.5) scores.
STILL, MOVES, WORSE = 0.01, 0.1, 0.05
NORMS: dict[str, Callable[[int], nn.Module]] = {
    "instance": partial(InstanceNorm, affine=True),
    "batch": nn.BatchNorm2d,
    "none": lambda channels: nn.Identity(),
}


def check(ctx: RunContext) -> None:
    for affine in (True, False):
        for shape in ((4, 3, 5, 3), (2, 3, 1, 7), (3, 6, 8, 8)):
            compare_modules(
                ctx,
                f"nn.InstanceNorm2d, affine={affine}, input {shape}",
                partial(InstanceNorm, shape[1], affine=affine),
                partial(nn.InstanceNorm2d, shape[1], affine=affine),
                partial(_images, shape),
            )
    compare_modules(
        ctx,
        "nn.InstanceNorm1d, affine=True, input (4, 3, 9)",
        partial(InstanceNorm, 3, affine=True),
        partial(nn.InstanceNorm1d, 3, affine=True),
        lambda dtype: 3 * torch.randn(4, 3, 9, dtype=dtype) + 1,
    )
    # Group normalisation with one group per channel takes the same statistics: per image and channel.
    compare_modules(
        ctx,
        "nn.GroupNorm(C, C), input (4, 6, 5, 3)",
        partial(InstanceNorm, 6, affine=True),
        partial(nn.GroupNorm, 6, 6),
        lambda dtype: 3 * torch.randn(4, 6, 5, 3, dtype=dtype) + 1,
    )
    _check_low_precision(ctx)

    # The invariance the paper wants (section 2): a per-image, per-channel change of contrast and
    # brightness, x_ti·· → a_ti·x_ti·· + b_ti with a_ti > 0, leaves the output as it was. ε = 0 here: it
    # only guards division by zero, and with the default 1e-5 the invariance holds up to ε/σ².
    exact = ctx.exact_dtype
    norm = InstanceNorm(5, eps=0.0, affine=True).to(ctx.device, exact)
    with torch.no_grad():
        norm.weight.normal_(), norm.bias.normal_()
    x = torch.randn(6, 5, 7, 9, dtype=exact, device=ctx.device)
    a = torch.exp(2 * torch.randn(6, 5, 1, 1, dtype=exact, device=ctx.device))  # contrasts ×1/400…×400
    b = 10 * torch.randn(6, 5, 1, 1, dtype=exact, device=ctx.device)
    with torch.no_grad():
        ctx.check_close(
            "invariant to each image's contrast and brightness: IN(a·x + b) = IN(x)", norm(a * x + b), norm(x)
        )
        # Train and test compute the same thing: no running statistics (the paper keeps IN at test time).
        ctx.check_close(
            "the same in eval mode as in train mode (no running statistics)", norm.eval()(x), norm.train()(x)
        )
        # An image's output does not depend on the rest of the batch: batch normalisation's does.
        others = x.clone()
        others[1:] = 5 * torch.randn_like(x[1:]) - 2
        ctx.check_close(
            "image 0's output does not depend on the rest of the batch", norm(others)[0], norm(x)[0]
        )
        batch_norm = nn.BatchNorm2d(5).to(ctx.device, exact)
        moved = (batch_norm(others)[0] - batch_norm(x)[0]).abs().max().item()
    ctx.check_property(
        "and nn.BatchNorm2d's does (the contrast: statistics over the batch)",
        moved > 0.5,
        f"nn.BatchNorm2d's output of image 0 moved by {moved:.2f} when the other images changed",
        value=moved,
    )
    single = InstanceNorm(5, affine=True).to(ctx.device, exact)  # the default ε: σ² = 0 on one pixel
    with torch.no_grad():
        single.bias.normal_()
        one = single(torch.randn(2, 5, 1, 1, dtype=exact, device=ctx.device))
    ctx.check_close(
        "a 1×1 image gives β (x − μ = 0; nn.InstanceNorm2d refuses it)",
        one,
        single.bias.detach().view(1, 5, 1, 1).expand(2, 5, 1, 1),
    )


def _images(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    return 3 * torch.randn(shape, dtype=dtype) + 1  # a mean and a scale to take out


def _check_low_precision(ctx: RunContext) -> None:
    """In bfloat16 the statistics must be accumulated in float32, and the output keeps the input's dtype."""
    ours, ref = InstanceNorm(8), nn.InstanceNorm2d(8)
    x = 3 * torch.randn(16, 8, 32, 32, device=ctx.device) + 1  # a mean to subtract: where precision goes
    with torch.no_grad():
        exact = ours.to(ctx.device, ctx.exact_dtype)(x.to(ctx.exact_dtype))
        low = ours.to(ctx.device, torch.bfloat16)(x.bfloat16())
        ours_error = (low.to(exact.dtype) - exact).abs().mean().item()
        ref_error = (
            (ref.to(ctx.device, torch.bfloat16)(x.bfloat16()).to(exact.dtype) - exact).abs().mean().item()
        )
    ctx.check_property(
        "a bfloat16 input gives a bfloat16 output (the input's dtype, as nn.InstanceNorm2d)",
        low.dtype == torch.bfloat16,
        f"returned {dtype_name(low.dtype)}",
    )
    ctx.check_property(
        "bfloat16: mean error against float64 no worse than nn.InstanceNorm2d's (+10%)",
        ours_error <= 1.1 * ref_error,
        f"ours {ours_error:.2e}, nn.InstanceNorm2d {ref_error:.2e} (32×32 images, inputs 3·N(0,1) + 1)",
        value=ours_error / ref_error,
    )


def renderer(cfg: Config, norm: Callable[[int], nn.Module]) -> nn.Sequential:
    """layers × (3×3 convolution → norm → ReLU), then a 1×1 convolution to one output channel, the rendered
    image's logits (its sigmoid is the image, 0 to 1); (N, 1, S, S) → (N, 1, S, S). Convolutions are
    He-initialised and have no bias (the norm's shift is the bias). The first pads by replicating the border,
    so that a·x + b, padded, is a·(x padded) + b: the contrast change reaches the first norm as a
    per-channel a and shift, which InstanceNorm removes exactly."""
    blocks: list[nn.Module] = []
    for i in range(cfg.layers):
        c_in = 1 if i == 0 else cfg.channels
        conv = nn.Conv2d(
            c_in, cfg.channels, 3, padding=1, padding_mode="replicate" if i == 0 else "zeros", bias=False
        )
        nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
        blocks += [conv, norm(cfg.channels), nn.ReLU()]
    return nn.Sequential(*blocks, nn.Conv2d(cfg.channels, 1, 1))


def recontrast(
    x: torch.Tensor,
    g: torch.Generator,
    contrast: tuple[float, float],
    bright: float,
    *,
    both_sides: bool = False,
) -> torch.Tensor:
    """a·x + b per image: a log-uniform in ``contrast`` (or, ``both_sides``, in it or in its reciprocal range,
    each half the time), b uniform in [−bright, bright]; x (N, 1, S, S)."""
    n = x.shape[0]
    lo, hi = math.log(contrast[0]), math.log(contrast[1])
    log_a = lo + torch.rand(n, 1, 1, 1, generator=g) * (hi - lo)
    if both_sides:
        log_a = torch.where(torch.rand(n, 1, 1, 1, generator=g) < 0.5, -log_a, log_a)
    b = (2 * torch.rand(n, 1, 1, 1, generator=g) - 1) * bright
    return torch.exp(log_a).to(x.device) * x + b.to(x.device)


class _Run(NamedTuple):
    validation: float  # MSE at the training contrasts on the validation split: picks the rate
    inside: float  # test MSE at contrasts inside the training range
    outside: float  # test MSE, the same images at contrasts far outside it
    change: float  # mean |output outside − output inside| over the test pixels


def _train_one(ctx: RunContext, cfg: Config, seed: int, arm: str, lr: float) -> _Run:
    """Adam on the rendering task drawn with ``seed``: from a shape image at a random contrast and brightness
    to its clean mask (the pixels above 1/2 before the change: noise 0.1 crosses 1/2 with probability 6e-7),
    binary cross-entropy on each pixel; the test numbers are on the rendered image, the logits' sigmoid.

    One pass over fresh images (steps × batch, no repeats); the network is then put in eval mode (BatchNorm
    uses its running statistics, as at test time; InstanceNorm has none)."""
    g = torch.Generator().manual_seed(1000 + seed)
    n_train = cfg.steps * cfg.batch
    images, _ = shapes(n_train + 2 * N_HELD_OUT, g, device=ctx.device)  # (n, 1, 16, 16)
    masks = (images > 0.5).float()  # the content at one fixed contrast: what the network renders
    c = cfg.contrast
    seen = recontrast(images, g, (1 / c, c), 1.0)  # as the training images arrive
    far = recontrast(images[n_train + N_HELD_OUT :], g, (cfg.far, cfg.far**2), cfg.far, both_sides=True)
    torch.manual_seed(seed)  # the same convolution weights in both networks (the norms draw no numbers)
    norm = NORMS[cfg.norm] if arm == "InstanceNorm" else NORMS["batch"]  # --set norm=...: the arm under test
    model = renderer(cfg, norm).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for step in range(cfg.steps):
        batch = slice(step * cfg.batch, (step + 1) * cfg.batch)  # the same batches in both networks
        loss = F.binary_cross_entropy_with_logits(model(seen[batch]), masks[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        val, test = slice(n_train, n_train + N_HELD_OUT), slice(n_train + N_HELD_OUT, None)
        inside, outside = model(seen[test]).sigmoid(), model(far).sigmoid()  # the rendered images, 0 to 1
        return _Run(
            F.mse_loss(model(seen[val]).sigmoid(), masks[val]).item(),
            F.mse_loss(inside, masks[test]).item(),
            F.mse_loss(outside, masks[test]).item(),
            (outside - inside).abs().mean().item(),
        )


def _arm(ctx: RunContext, cfg: Config, init_seeds: list[int], arm: str) -> tuple[str, list[_Run]]:
    """One network per seed of ``init_seeds``, at its best rate of the grid, chosen on the validation loss of
    the first seed (the others train at that rate only)."""
    grid = rate_grid.rates(ctx, RATES, QUICK_RATE[arm]) if cfg.lr == 0 else (cfg.lr,)
    first = {lr: _train_one(ctx, cfg, init_seeds[0], arm, lr) for lr in grid}
    best = rate_grid.best({lr: r.validation for lr, r in first.items()})
    chosen = (
        rate_grid.choice({lr: r.validation for lr, r in first.items()}) if len(grid) > 1 else f"lr {best:g}"
    )
    ctx.log(f"{arm}: {chosen}")
    return chosen, [first[best]] + [_train_one(ctx, cfg, seed, arm, best) for seed in init_seeds[1:]]


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    init_seeds = [SEED_STRIDE * ctx.seed + i for i in range(cfg.inits)]  # disjoint between runs
    inits = plural(len(init_seeds), "init")
    c, f = cfg.contrast, cfg.far
    mean: dict[tuple[str, str], float] = {}
    for done, arm in enumerate(("InstanceNorm", "BatchNorm")):
        chosen, runs = _arm(ctx, cfg, init_seeds, arm)
        for field in _Run._fields:
            mean[arm, field] = statistics.mean(getattr(r, field) for r in runs)
        ctx.measured(
            f"{arm}: test MSE at contrasts inside the training range (mean of {inits})",
            mean[arm, "inside"],
            f"{chosen}; per init {', '.join(f'{r.inside:.3g}' for r in runs)}",
        )
        ctx.measured(
            f"{arm}: test MSE at contrasts outside the training range (mean of {inits})",
            mean[arm, "outside"],
            f"the same images at contrast ×1/{f**2:g}…×1/{f:g} or ×{f:g}…×{f**2:g}, brightness ±{f:g}; "
            f"per init {', '.join(f'{r.outside:.3g}' for r in runs)}",
        )
        ctx.progress(done + 1, 2)

    setup = f"{inits}, {cfg.steps} Adam steps, {cfg.layers} conv layers of {cfg.channels} channels"
    setup += "" if cfg.norm == "instance" else f", norm={cfg.norm} in InstanceNorm's place"
    ranges = (
        f"training contrasts ×1/{c:g}…×{c:g}, brightness ±1; test ×1/{f**2:g}…×1/{f:g} or ×{f:g}…×{f**2:g}"
    )
    ctx.target(
        "InstanceNorm: mean change of the output when the contrast leaves the training range",
        mean["InstanceNorm", "change"],
        STILL,
        higher_is_better=False,
        detail=f"{setup}; {ranges}; the output is an image, 0 to 1",
    )
    ctx.target(
        "BatchNorm: mean change of the output when the contrast leaves the training range",
        mean["BatchNorm", "change"],
        MOVES,
        detail=f"{setup}; eval mode: BatchNorm normalises with its running statistics",
    )
    ctx.target(
        "test MSE outside the training contrasts: BatchNorm − InstanceNorm, each at its best lr",
        mean["BatchNorm", "outside"] - mean["InstanceNorm", "outside"],
        WORSE,
        detail=f"{setup}; {mean['BatchNorm', 'outside']:.3g} vs {mean['InstanceNorm', 'outside']:.3g}; "
        "rendering every pixel grey scores 0.25",
    )
    ctx.measured(
        "test MSE inside the training contrasts: BatchNorm − InstanceNorm",
        mean["BatchNorm", "inside"] - mean["InstanceNorm", "inside"],
        "how much of the gap is there without leaving the range",
    )


def bench(ctx: RunContext) -> None:
    shape = (8, 16, 16, 16) if ctx.quick else (32, 64, 64, 64)
    x = torch.randn(shape, device=ctx.device)
    channels = shape[1]
    variants: list[tuple[str, nn.Module]] = [
        ("nn.InstanceNorm2d", nn.InstanceNorm2d(channels, affine=True)),
        ("InstanceNorm", InstanceNorm(channels, affine=True)),
        ("nn.BatchNorm2d", nn.BatchNorm2d(channels)),
    ]
    bench_layers(ctx, variants, x, unit="images/s")
