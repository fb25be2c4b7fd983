"""RMSNorm at toy scale: equal to ``nn.RMSNorm``, re-scaling invariant but not re-centring invariant, and as
good as LayerNorm in a deep network for less compute.

check: forward and gradients equal ``torch.nn.RMSNorm(eps=1e-6)`` with the same gain (float64, then float32);
       the output ignores a per-example re-scaling of the input but not a shift (which is what makes it
       different from LayerNorm), and on zero-mean inputs it is exactly ``nn.LayerNorm`` without bias.
train: inputs ×100 into a 6-layer He-initialised ReLU network normalised with RMSNorm, with ``nn.LayerNorm``
       or not at all, same seed and batches, each at its own best learning rate chosen on a validation
       split: RMSNorm's test loss must be LayerNorm's (parity) and far below the unnormalised network's;
       training time is reported, not asserted.
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

from readtrack.api import RunContext, plural
from readtrack.plugin_kit.checks import compare_modules
from readtrack.plugin_kit.models import deep_mlp
from readtrack.plugin_kit.tasks import teacher_classes
from readtrack.plugin_kit.timing import bench_layers

from .config import Config
from .model import RMSNorm

RATES = (3e-3, 1e-2, 3e-2)  # Adam; each network gets its own best rate of it, chosen on a validation split
NORMS: dict[str, Callable[[int], nn.Module] | None] = {
    "RMSNorm": RMSNorm,
    "nn.LayerNorm": nn.LayerNorm,
    "no normalisation": None,
}
#: what ``--set norm=...`` puts in the RMSNorm network's place (the ablation switch of config.py)
UNDER_TEST: dict[str, Callable[[int], nn.Module] | None] = {
    "rms": RMSNorm,
    "layer": nn.LayerNorm,
    "none": None,
}


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

    # Low precision: the output keeps a's dtype, and the statistics are taken in float32: with |a| ~ 1000
    # the squares overflow float16 (max 65504), so statistics in float16 give inf and an output of zeros.
    from readtrack.api import dtype_name

    for low in (torch.bfloat16, torch.float16):
        mine = RMSNorm((7, 32)).to(ctx.device, low)
        ref = nn.RMSNorm((7, 32), eps=1e-6).to(ctx.device, low)
        with torch.no_grad():
            mine.weight.normal_()
            ref.load_state_dict(mine.state_dict())
            a = (1000 * torch.randn(4, 7, 32, device=ctx.device)).to(low)
            out, expected = mine(a), ref(a)
        name = dtype_name(low)
        ctx.check_property(
            f"returns a's dtype ({name} in, {name} out, as nn.RMSNorm)",
            out.dtype == low,
            f"returned {dtype_name(out.dtype)} for {name} input",
        )
        ctx.check_close(f"forward vs nn.RMSNorm ({name}, |a| ~ 1000: statistics in float32)", out, expected)


def _losses(
    ctx: RunContext, cfg: Config, seed: int, label: str, lr: float
) -> tuple[float, float, float, list[float]]:
    """Validation loss, test loss, wall time and the training loss of each step, of Adam on the 4-class
    teacher problem, inputs ×100.

    The stream is one pass over fresh examples (steps × batch, no repeats), so the held-out losses measure
    how far training got, not overfitting; the validation split picks the rate, the test split is reported.
    """
    n_train = cfg.steps * cfg.batch
    X, y = teacher_classes(n_train + 4096, 32, 4, seed=1000 + seed, device=ctx.device)
    X = cfg.input_scale * X  # raw units nobody standardised: what a re-scaling invariant layer absorbs
    torch.manual_seed(seed)  # the same linear-layer weights for every norm (the norms draw no random numbers)
    norm = UNDER_TEST[cfg.norm] if label == "RMSNorm" else NORMS[label]
    model = deep_mlp(cfg.depth, cfg.width, 32, 4, norm).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    start = time.perf_counter()
    losses = []
    for step in range(cfg.steps):
        batch = slice(step * cfg.batch, (step + 1) * cfg.batch)  # the same batches for every network
        loss = F.cross_entropy(model(X[batch]), y[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    elapsed = time.perf_counter() - start
    with torch.no_grad():
        val = F.cross_entropy(model(X[n_train : n_train + 2048]), y[n_train : n_train + 2048]).item()
        test = F.cross_entropy(model(X[n_train + 2048 :]), y[n_train + 2048 :]).item()
    return val, test, elapsed, losses


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    init_seeds = [ctx.seed + i for i in range(cfg.inits)]
    inits = plural(len(init_seeds), "init")
    rates = RATES if cfg.lr == 0 else (cfg.lr,)
    test: dict[str, list[float]] = {}
    seconds: dict[str, float] = {}
    for done, label in enumerate(NORMS):
        tried = {lr: [_losses(ctx, cfg, seed, label, lr) for seed in init_seeds] for lr in rates}
        # the network under test by what normalises it: norm=layer's arm is no RMSNorm, whatever its column
        arm = f"norm={cfg.norm} in RMSNorm's place" if label == "RMSNorm" and cfg.norm != "rms" else label
        for lr, runs in tried.items():
            ctx.log(f"{arm}, lr {lr:g}: validation losses {[round(r[0], 3) for r in runs]}")
        best = min(tried, key=lambda lr: statistics.mean(r[0] for r in tried[lr]))  # on validation
        test[label] = [r[1] for r in tried[best]]
        seconds[label] = statistics.mean(r[2] for r in tried[best])
        for step, values in enumerate(zip(*(r[3] for r in tried[best]), strict=True)):
            ctx.metric(f"training loss: {label} (its best lr)", step, statistics.mean(values))
        picked = f"lr {best:g}, the best of {', '.join(f'{r:g}' for r in rates)} on the validation split"
        per_init = f"per init {', '.join(f'{v:.3f}' for v in test[label])}"
        ctx.measured(
            f"{label}: test loss (mean of {inits})",
            statistics.mean(test[label]),
            f"{'' if arm == label else arm + '; '}{picked}; {per_init}",
        )
        ctx.progress(done + 1, len(NORMS))
    rms, ln, plain = (statistics.mean(test[k]) for k in NORMS)
    setup = f"{inits}, {cfg.steps} Adam steps, {cfg.depth} He-initialised layers of {cfg.width}"
    setup += f", inputs ×{cfg.input_scale:g}" + (
        "" if cfg.norm == "rms" else f", norm={cfg.norm} in RMSNorm's place"
    )
    ctx.target(
        "test loss RMSNorm − nn.LayerNorm (parity), each at its best lr",
        rms - ln,
        0.1,
        higher_is_better=False,
        detail=f"{setup}; {rms:.3f} vs {ln:.3f}",
        asserted=not ctx.quick,
    )
    ctx.target(
        "test loss without normalisation / with RMSNorm, each at its best lr",
        plain / rms,
        2.0,
        detail=f"{setup}; {plain:.3f} vs {rms:.3f}; chance level is ln 4 = 1.39",
    )
    ctx.measured(
        "training time RMSNorm / nn.LayerNorm",
        seconds["RMSNorm"] / seconds["nn.LayerNorm"],
        "wall time, noisy on a shared machine; each layer alone is timed by the bench stage",
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
