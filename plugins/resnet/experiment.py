"""ResNet at toy scale: the block exact against a composition written out, the properties residual learning
rests on, and the degradation problem of deep plain networks with its cure.

check: ``BasicBlock`` (conv-BN-ReLU-conv-BN + shortcut, ReLU after the addition) against the same block
       composed independently from ``F.conv2d`` and BatchNorm written out, float64 then float32, forward and
       the gradients of the input and every parameter, on awkward shapes (1×1 and odd images, batch 2) with
       each shortcut option (identity, A: zero-padding, B/C: projection) and the plain block; the eval-mode
       forward with the running statistics; the fully connected ``MLPBlock`` against x @ Wᵀ and BatchNorm
       written out. Properties: a block whose last BN has γ = β = 0 is the identity on its (post-ReLU) input;
       the parameter counts of options A, B and C equal their formulas; at initialisation the gradient at the
       input of a plain BN network explodes with depth while a residual one's barely grows.
train: the degradation problem (section 4.1, fig. 1 and 4): MLPs of width 32 with BatchNorm, depth 4 and
       32, plain and residual, trained with SGD on a random tanh teacher, each at its best learning rate of
       a grid, same seed and batches; training accuracy. Plain-32 trains worse than plain-4; residual-32
       does not. The full run also trains the conv ResNet-8 on the shapes images with shortcut options A, B
       and C (table 3) and reports their test accuracy and parameter counts.
bench: forward+backward of plain and residual MLPs at depth 8 and 32 (cost grows with depth; the shortcut
       adds an addition and nothing else).
"""

from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.api import RunContext, dtype_name
from readtrack.plugin_kit.images import shapes

from .config import Config
from .model import BasicBlock, DeepMLP, MLPBlock, ResNet, ResNetConfig, Shortcut

D_IN, WIDTH, CLASSES, EXAMPLES = 16, 32, 4, 2048  # the train stage's width and classes: config.py
# Each network gets the best SGD (momentum 0.9) rate of this grid; 0.01 was tried once and never won.
RATES = (0.03, 0.1, 0.3)
QUICK_RATES = {"plain-4": 0.03, "plain-32": 0.3, "residual-32": 0.03}  # the full run's winners


# -- check ------------------------------------------------------------------------------------------
def _bn(
    x: torch.Tensor, p: dict[str, torch.Tensor], name: str, bufs: dict[str, torch.Tensor] | None
) -> torch.Tensor:
    """BatchNorm written out, (x − mean) / √(var + ε) · γ + β per channel: the batch's statistics over
    (N, H, W) with the biased variance (training), or the running ones if ``bufs`` is given."""
    if bufs is None:
        mean = x.mean(dim=(0, 2, 3))
        var = (x - mean.view(1, -1, 1, 1)).square().mean(dim=(0, 2, 3))
    else:
        mean, var = bufs[f"{name}.running_mean"], bufs[f"{name}.running_var"]
    scale = p[f"{name}.weight"] / torch.sqrt(var + 1e-5)
    return (x - mean.view(1, -1, 1, 1)) * scale.view(1, -1, 1, 1) + p[f"{name}.bias"].view(1, -1, 1, 1)


def reference_block(
    x: torch.Tensor,
    p: dict[str, torch.Tensor],
    stride: int,
    residual: bool,
    bufs: dict[str, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Fig. 5 (left) written again with functional calls, independent of ``BasicBlock``'s modules."""
    out = F.relu(_bn(F.conv2d(x, p["conv1.weight"], stride=stride, padding=1), p, "bn1", bufs))
    out = _bn(F.conv2d(out, p["conv2.weight"], padding=1), p, "bn2", bufs)
    if not residual:
        return F.relu(out)
    if "shortcut.0.weight" in p:  # projection W_s: 1×1 conv with the stride, then BN
        short = _bn(F.conv2d(x, p["shortcut.0.weight"], stride=stride), p, "shortcut.1", bufs)
    else:  # identity; zero channels appended and every stride-th pixel kept when dimensions change
        short = torch.zeros_like(out)
        kept = x[:, :, ::stride, ::stride]
        short[:, : x.shape[1]] = kept
    return F.relu(out + short)


def reference_mlp_block(x: torch.Tensor, p: dict[str, torch.Tensor], residual: bool) -> torch.Tensor:
    """The fully connected block with BatchNorm written out: (h − mean) / √(biased var + ε) · γ + β."""

    def bn(h: torch.Tensor, name: str) -> torch.Tensor:  # (B, width), statistics over the batch
        mean, var = h.mean(0), (h - h.mean(0)).square().mean(0)
        return (h - mean) / torch.sqrt(var + 1e-5) * p[f"{name}.weight"] + p[f"{name}.bias"]

    out = bn(x @ p["fc1.weight"].T, "bn1").clamp(min=0)
    out = bn(out @ p["fc2.weight"].T, "bn2")
    return (out + x if residual else out).clamp(min=0)


def _randomise(module: nn.Module) -> None:
    """Random weights, γ and β, so that a gain of ones or a bias of zeros cannot hide a bug."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.randn_like(p) * (0.5 if "weight" in name and p.dim() > 1 else 1.0) + 0.1)


# (label, c_in, c_out, stride, residual, shortcut, input shape)
BLOCKS: list[tuple[str, int, int, int, bool, Shortcut, tuple[int, ...]]] = [
    ("identity shortcut", 3, 3, 1, True, "B", (2, 3, 5, 7)),
    ("option A, 3→6 channels, stride 2", 3, 6, 2, True, "A", (3, 3, 7, 5)),
    ("option B, 3→6 channels, stride 2", 3, 6, 2, True, "B", (2, 3, 6, 6)),
    ("option C, projection on 4→4, 1×1 image", 4, 4, 1, True, "C", (5, 4, 1, 1)),
    ("plain block, 3→5 channels, stride 2", 3, 5, 2, False, "B", (2, 3, 9, 4)),
]


def check(ctx: RunContext) -> None:
    g = torch.Generator().manual_seed(ctx.seed)
    for dtype in ctx.check_dtypes:
        for spec in BLOCKS:
            _check_block(ctx, dtype, g, *spec)
        _check_mlp_block(ctx, dtype, g)
    _check_identity(ctx)
    _check_parameter_counts(ctx)
    _check_gradient_at_input(ctx)


def _check_block(
    ctx: RunContext,
    dtype: torch.dtype,
    g: torch.Generator,
    label: str,
    c_in: int,
    c_out: int,
    stride: int,
    residual: bool,
    shortcut: Shortcut,
    shape: tuple[int, ...],
) -> None:
    name = dtype_name(dtype)
    block = BasicBlock(c_in, c_out, stride, residual, shortcut).to(ctx.device, dtype)
    _randomise(block)
    names = [n for n, _ in block.named_parameters()]
    params = list(block.parameters())
    x = torch.randn(shape, generator=g, dtype=dtype)
    out, grads = ctx.value_and_grads(block, x, params=params)
    copies = [p.detach().clone().requires_grad_() for p in params]
    p = dict(zip(names, copies, strict=True))
    expected, ref_grads = ctx.value_and_grads(
        lambda x: reference_block(x, p, stride, residual), x, params=copies
    )
    ctx.check_close(f"block forward vs F.conv2d + BatchNorm by hand, {label} ({name})", out, expected)
    what = f"block gradients vs F.conv2d + BatchNorm by hand, {label} ({name})"
    if dtype == ctx.exact_dtype:
        ctx.check_close(what, grads, ref_grads)
    else:
        # Two BatchNorms over 5 values a channel (the 1×1 image) cancel nearly everything: a float32 gradient
        # element can be off by more than an elementwise tolerance, the reference's as well as ours. So
        # float32 is held to float64's gradient norm-wise: every error within float32's rtol (1e-4) of the
        # largest gradient.
        exact = [c.detach().to(ctx.exact_dtype).requires_grad_() for c in copies]
        q = dict(zip(names, exact, strict=True))
        _, truth = ctx.value_and_grads(
            lambda x: reference_block(x, q, stride, residual), x.to(ctx.exact_dtype), params=exact
        )
        scale = float(truth.abs().max())
        ctx.check_close(f"{what}: vs float64, norm-wise", grads, truth, atol=1e-4 * scale, rtol=0)
        ctx.check_close(
            f"{what}: the reference vs float64, norm-wise", ref_grads, truth, atol=1e-4 * scale, rtol=0
        )
    # Inference: the running statistics the training forward left behind.
    block.eval()
    bufs = {n: b for n, b in block.named_buffers() if "running" in n}
    with torch.no_grad():
        got, want = block(x.to(ctx.device)), reference_block(x.to(ctx.device), p, stride, residual, bufs)
    ctx.check_close(f"block eval forward (running statistics), {label} ({name})", got, want)


def _check_mlp_block(ctx: RunContext, dtype: torch.dtype, g: torch.Generator) -> None:
    mlp = MLPBlock(7).to(ctx.device, dtype)
    _randomise(mlp)
    names, params = [n for n, _ in mlp.named_parameters()], list(mlp.parameters())
    copies = [p.detach().clone().requires_grad_() for p in params]
    p = dict(zip(names, copies, strict=True))
    x = torch.randn(3, 7, generator=g, dtype=dtype)
    out, grads = ctx.value_and_grads(mlp, x, params=params)
    expected, ref_grads = ctx.value_and_grads(lambda x: reference_mlp_block(x, p, True), x, params=copies)
    label = f"vs x @ Wᵀ and BatchNorm by hand ({dtype_name(dtype)})"
    ctx.check_close(f"MLP block forward {label}", out, expected)
    ctx.check_close(f"MLP block gradients {label}", grads, ref_grads)


def _check_identity(ctx: RunContext) -> None:
    """F(x) = 0 when the last BN's γ and β are zero: the block is then σ(x), the identity on a block's
    input, which follows a ReLU. Section 3.1's argument: a deeper residual net can copy a shallower one."""
    block = BasicBlock(6, 6).to(ctx.device, ctx.exact_dtype)
    _randomise(block)
    with torch.no_grad():
        block.bn2.weight.zero_()
        block.bn2.bias.zero_()
        x = F.relu(torch.randn(4, 6, 5, 5, dtype=ctx.exact_dtype, device=ctx.device))
        ctx.check_close(
            "a block with zero last-BN γ and β is the identity: block(x) = x for x ≥ 0", block(x), x
        )


def _check_parameter_counts(ctx: RunContext) -> None:
    """Table 3's options: A adds no parameters, B projections only where the width doubles (twice), C on
    every block. A projection from c to c' costs c·c' weights and 2c' for its BN."""
    n, w = 2, 8
    options = cast(tuple[Shortcut, ...], ("A", "B", "C"))
    nets = {s: ResNet(ResNetConfig(n=n, width=w, shortcut=s)) for s in options}
    counts = {s: sum(p.numel() for p in net.parameters()) for s, net in nets.items()}
    proj = lambda c, c2: c * c2 + 2 * c2  # noqa: E731
    b_extra = proj(w, 2 * w) + proj(2 * w, 4 * w)
    c_extra = b_extra + (n * proj(w, w) + (n - 1) * proj(2 * w, 2 * w) + (n - 1) * proj(4 * w, 4 * w))
    expected = [counts["A"] + b_extra, counts["A"] + c_extra]
    ctx.check_property(
        "shortcut parameters: B − A and C − A equal the projections' counts (n=2, width 8)",
        [counts["B"], counts["C"]] == expected,
        f"A {counts['A']}, B {counts['B']} (expected {expected[0]}), "
        f"C {counts['C']} (expected {expected[1]})",
        value=counts["C"] - counts["A"],
    )


def grad_at_input(depth: int, residual: bool, device: str) -> float:
    """‖∂L/∂x‖ at initialisation for a batch of 256 random inputs and labels (training-mode BN)."""
    torch.manual_seed(0)
    model = DeepMLP(depth, D_IN, WIDTH, CLASSES, residual).to(device)
    x = torch.randn(256, D_IN, device=device, requires_grad=True)
    y = torch.randint(0, CLASSES, (256,), device=device)
    (grad,) = torch.autograd.grad(F.cross_entropy(model(x), y), x)
    return grad.norm().item()


def _check_gradient_at_input(ctx: RunContext) -> None:
    growth = {}
    for residual in (False, True):
        norms = [grad_at_input(d, residual, ctx.device) for d in (4, 16, 64)]
        growth[residual] = norms[-1] / norms[0]
        ctx.log(f"{'residual' if residual else 'plain'}: ‖∂L/∂x‖ at depth 4, 16, 64: {norms}")
    ratio = growth[False] / growth[True]
    ctx.check_property(
        "gradient at the input, depth 4 → 64: plain BN net explodes, residual barely grows (≥ 100× less)",
        ratio >= 100,
        f"growth plain ×{growth[False]:.3g}, residual ×{growth[True]:.3g}",
        value=ratio,
    )


# -- train ------------------------------------------------------------------------------------------
def tanh_teacher(
    n: int, seed: int, device: str, hidden: int = 64, classes: int = CLASSES
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian inputs (n, 16) labelled by the arg-max of a random two-layer tanh network: a non-linear
    problem (4 classes by default) that a width-32 network can fit well, but not perfectly, in 300 steps."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, D_IN, generator=g)  # (n, 16)
    W1 = torch.randn(D_IN, hidden, generator=g) * (2 / D_IN**0.5)
    W2 = torch.randn(hidden, hidden, generator=g) * (2 / hidden**0.5)
    W3 = torch.randn(hidden, classes, generator=g)
    y = (torch.tanh(torch.tanh(X @ W1) @ W2) @ W3).argmax(-1)  # (n,)
    return X.to(device), y.to(device)


def train_accuracy(ctx: RunContext, cfg: Config, depth: int, residual: bool, lr: float) -> float:
    X, y = tanh_teacher(EXAMPLES, 1000 + ctx.seed, ctx.device, classes=cfg.classes)
    torch.manual_seed(ctx.seed)
    # shortcut=false (the ablation switch): the residual networks are built plain
    model = DeepMLP(depth, D_IN, cfg.width, cfg.classes, residual and cfg.shortcut).to(ctx.device)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    batches = torch.Generator().manual_seed(ctx.seed)  # the same batches for every variant
    for _ in range(cfg.steps):
        idx = torch.randint(0, EXAMPLES, (cfg.batch,), generator=batches).to(ctx.device)
        loss = F.cross_entropy(model(X[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        return (model(X).argmax(-1) == y).float().mean().item()


def _quick_rate(depth: int, residual: bool) -> float:
    """The full run's winning rate for this network; a deep one of any depth takes its 32-layer kind's."""
    return QUICK_RATES[f"{'residual' if residual else 'plain'}-{4 if depth == 4 else 32}"]


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    steps, deep = cfg.steps, cfg.depth
    variants = [("plain-4", 4, False), (f"plain-{deep}", deep, False), (f"residual-{deep}", deep, True)]
    if not ctx.quick:
        variants.insert(1, ("residual-4", 4, True))
    acc: dict[str, float] = {}
    for done, (label, depth, residual) in enumerate(variants):
        if cfg.lr != 0:
            rates: tuple[float, ...] = (cfg.lr,)
        else:
            rates = (_quick_rate(depth, residual),) if ctx.quick else RATES
        tried = {lr: train_accuracy(ctx, cfg, depth, residual, lr) for lr in rates}
        best = max(tried, key=lambda lr: tried[lr])
        acc[label] = tried[best]
        ctx.measured(
            f"{label}: training accuracy after {steps} SGD steps",
            acc[label],
            f"best lr {best:g} of {', '.join(f'{r:g}: {a:.3f}' for r, a in tried.items())}",
        )
        ctx.progress(done + 1, len(variants) + (0 if ctx.quick else 1))
    plain, cured = acc[f"plain-{deep}"], acc[f"residual-{deep}"]
    chosen = "each at its best lr" if cfg.lr == 0 else f"all at lr {cfg.lr:g}"
    ctx.target(
        f"degradation: plain-4 − plain-{deep} training accuracy (the deeper plain net trains worse)",
        acc["plain-4"] - plain,
        0.2,
        detail=f"{acc['plain-4']:.3f} vs {plain:.3f}, {chosen}, {steps} steps",
    )
    removed = "" if cfg.shortcut else "; shortcut=false: the residual nets are built without their shortcut"
    ctx.target(
        f"the cure: residual-{deep} − plain-{deep} training accuracy",
        cured - plain,
        0.25 if ctx.quick else 0.3,
        detail=f"{cured:.3f} vs {plain:.3f}; quick (100 steps) asks 0.25, full 0.3{removed}",
    )
    if not ctx.quick:
        _train_shortcut_options(ctx)
        ctx.progress(len(variants) + 1, len(variants) + 1)


def _train_shortcut_options(ctx: RunContext) -> None:
    """Table 3 at toy scale: ResNet-8 (n = 1, widths 8/16/32) on the shapes with options A, B, C, one
    learning rate (0.1, SGD momentum 0.9), 100 steps of 64, same seed and batches; reported, not asserted."""
    g = torch.Generator().manual_seed(ctx.seed)
    X, y = shapes(4000, g, device=ctx.device)
    X_test, y_test = shapes(2000, g, device=ctx.device)
    for option in cast(tuple[Shortcut, ...], ("A", "B", "C")):
        torch.manual_seed(ctx.seed)
        model = ResNet(ResNetConfig(n=1, shortcut=option)).to(ctx.device)
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        batches = torch.Generator().manual_seed(ctx.seed)
        for _ in range(100):
            idx = torch.randint(0, len(X), (64,), generator=batches).to(ctx.device)
            loss = F.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(X_test).argmax(-1) == y_test).float().mean().item()
        params = sum(p.numel() for p in model.parameters())
        ctx.measured(f"shapes, ResNet-8 option {option}: test accuracy", accuracy, f"{params} parameters")


# -- bench ------------------------------------------------------------------------------------------
def bench(ctx: RunContext) -> None:
    batch = 64 if ctx.quick else 1024
    x = torch.randn(batch, D_IN, device=ctx.device)
    y = torch.randint(0, CLASSES, (batch,), device=ctx.device)
    for depth in (8, 32):
        for residual in (False, True):
            model = DeepMLP(depth, D_IN, WIDTH, CLASSES, residual).to(ctx.device)
            params = list(model.parameters())

            def step(model: nn.Module = model, params: list[nn.Parameter] = params) -> object:
                return torch.autograd.grad(F.cross_entropy(model(x), y), params)

            ctx.bench.measure(
                f"{'residual' if residual else 'plain'}-{depth} MLP forward+backward",
                step,
                baseline=depth == 8 and not residual,
                tokens=batch,
                unit="examples/s",
                shape=(batch, D_IN),
                dtype=torch.float32,
                params={"depth": depth, "width": WIDTH},
            )
