"""AdamW at toy scale: equal to ``torch.optim.AdamW``, and decoupled weight decay against Adam + L2.

check: 20 steps on a small network equal ``torch.optim.AdamW`` step for step (two parameter groups with
       their own lr and λ; float64, then float32); complex parameters too (optimised as real pairs); with
       zero gradients the weights shrink by exactly (1 − lr·λ) per step, the decay and nothing else.
train: two experiments where only regularisation acts (lr 0.01, λ 0.1, 100 steps), against PyTorch's Adam
       with L2 (``torch.optim.Adam(weight_decay=λ)``, line 6 of Algorithm 2):
       1. a loss that does not depend on w, from w₀ = 1 and w₀ = 10: AdamW gives w/w₀ = (1 − lr·λ)¹⁰⁰ =
          0.9048 for both; with L2, Adam's normalisation turns λw into a step of about lr whatever the
          size of w, so w/w₀ depends on w₀;
       2. weights whose gradients are zero-mean noise of scale 0.01, 1 or 100: AdamW shrinks all three
          groups alike; with L2 the decay is divided by √v̂, so the weights with large gradients are
          hardly regularised, which is the paper's argument for decoupling (section 2).
bench: step time against ``torch.optim.AdamW``: foreach=False (the baseline), the default, foreach=True.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from readtrack.api import RunContext, dtype_name

from .config import Config
from .model import AdamW

Factory = Callable[[list[torch.Tensor]], torch.optim.Optimizer]


def check(ctx: RunContext) -> None:
    exact = ctx.exact_dtype
    for dtype in ctx.check_dtypes:
        ours, ref, largest_gap = _twenty_steps(ctx, dtype)
        ctx.check_close(f"parameters after 20 steps vs torch.optim.AdamW ({dtype_name(dtype)})", ours, ref)
        ctx.log(f"{dtype}: largest difference at any of the 20 steps {largest_gap:.1e}")

    # Complex parameters are two real numbers each: v must hold |Re g|² and |Im g|², not g·g.
    complex_dtype = torch.complex64 if exact == torch.float32 else torch.complex128
    start = torch.randn(16, dtype=complex_dtype, device=ctx.device)
    target = torch.randn(16, dtype=complex_dtype, device=ctx.device)
    ours_z, ref_z = start.clone().requires_grad_(), start.clone().requires_grad_()
    ours_opt = AdamW([ours_z], lr=0.05, weight_decay=0.1)
    ref_opt = torch.optim.AdamW([ref_z], lr=0.05, weight_decay=0.1, foreach=False)
    for _ in range(5):
        for z, opt in ((ours_z, ours_opt), (ref_z, ref_opt)):
            opt.zero_grad()
            (z - target).abs().square().sum().backward()
            opt.step()
    ctx.check_close(
        f"complex parameters after 5 steps vs torch.optim.AdamW ({dtype_name(complex_dtype)})",
        torch.view_as_real(ours_z.detach()),
        torch.view_as_real(ref_z.detach()),
    )

    theta0 = torch.randn(100, dtype=exact, device=ctx.device)
    theta = theta0.clone().requires_grad_()
    opt = AdamW([theta], lr=0.05, weight_decay=0.2)
    for _ in range(30):
        theta.grad = torch.zeros_like(theta)
        opt.step()
    ctx.check_close(
        "zero gradient: θ_30 = θ_0 · (1 − lr·λ)^30 exactly (decay only)", theta, theta0 * 0.99**30
    )


def _twenty_steps(ctx: RunContext, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Train two copies of one small network, one with each optimiser; return both final parameter vectors."""
    torch.manual_seed(ctx.seed)
    net = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 3)).to(ctx.device, dtype)
    copy = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 3)).to(ctx.device, dtype)
    copy.load_state_dict(net.state_dict())

    def groups(model: nn.Sequential) -> list[dict[str, Any]]:
        # two groups with their own lr and λ, as people use for "no decay on biases"
        return [
            {"params": [model[0].weight, model[2].weight], "lr": 0.02, "weight_decay": 0.1},
            {"params": [model[0].bias, model[2].bias], "lr": 0.005, "weight_decay": 0.0},
        ]

    ours = AdamW(groups(net), betas=(0.8, 0.99), eps=1e-6)
    ref = torch.optim.AdamW(groups(copy), betas=(0.8, 0.99), eps=1e-6, foreach=False)
    X = torch.randn(64, 5, dtype=dtype, device=ctx.device)
    y = torch.randn(64, 3, dtype=dtype, device=ctx.device)
    gap = 0.0
    for _ in range(20):
        for model, opt in ((net, ours), (copy, ref)):
            opt.zero_grad()
            (model(X) - y).square().mean().backward()
            opt.step()
        a, b = (
            nn.utils.parameters_to_vector(net.parameters()),
            nn.utils.parameters_to_vector(copy.parameters()),
        )
        gap = max(gap, (a - b).abs().max().item())
    return a.detach(), b.detach(), gap


def _optimisers(cfg: Config) -> dict[str, Factory]:
    """The two arms at the run's lr and λ; ``decay`` (the ablation switch) says what the 'AdamW' arm is."""

    def adam_l2(params: list[torch.Tensor]) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)

    under_test: dict[str, Factory] = {
        "decoupled": lambda params: AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay),
        "l2": adam_l2,
        "none": lambda params: AdamW(params, lr=cfg.lr, weight_decay=0.0),
    }
    return {"AdamW": under_test[cfg.decay], "Adam + L2": adam_l2}


def train(ctx: RunContext) -> None:
    cfg = ctx.config(Config)
    optimisers = _optimisers(cfg)
    dtype = ctx.exact_dtype
    expected = (1 - cfg.lr * cfg.weight_decay) ** cfg.steps
    power = f"(1 − lr·λ)^{cfg.steps}"
    arm = {
        "decoupled": "",
        "l2": "; decay=l2: the 'AdamW' arm is Adam + L2",
        "none": "; decay=none: the 'AdamW' arm does not decay",
    }[cfg.decay]

    # 1. The loss does not depend on w (gradient 0): only the regulariser moves it.
    ratios: dict[tuple[str, float], float] = {}
    for name, make in optimisers.items():
        for w0 in (1.0, cfg.w0):
            w = torch.full((1,), w0, dtype=dtype, device=ctx.device, requires_grad=True)
            opt = make([w])
            for step in range(cfg.steps):
                w.grad = torch.zeros_like(w)
                opt.step()
                ctx.metric(f"w/w0, zero gradient, w0={w0:g} ({name})", step + 1, w.item() / w0)
            ratios[name, w0] = w.item() / w0
    for w0 in (1.0, cfg.w0):
        ctx.target(
            f"AdamW: |w/w0 − {power}| from w0={w0:g}",
            abs(ratios["AdamW", w0] - expected),
            1e-6,
            higher_is_better=False,
            detail=f"w/w0 = {ratios['AdamW', w0]:.4f}, {power} = {expected:.4f}{arm}",
        )
    ctx.target(
        f"Adam + L2: w/w0 from w0={cfg.w0:g} minus from w0=1 (the decay depends on the weight's size)",
        ratios["Adam + L2", cfg.w0] - ratios["Adam + L2", 1.0],
        0.3,
        detail=f"w0=1: {ratios['Adam + L2', 1.0]:.3f}, w0={cfg.w0:g}: {ratios['Adam + L2', cfg.w0]:.3f}",
    )
    ctx.progress(1, 2)

    # 2. Gradients that are pure noise, of three scales: how much does each group decay?
    scales = (0.01, 1.0, cfg.noise)
    per_group = cfg.group_size  # at 1024 the mean of w/w0 over a group is within ±0.01 of its expectation
    sigma = torch.tensor(scales, dtype=dtype).repeat_interleave(per_group).to(ctx.device)  # (3·n,)
    kept: dict[str, list[float]] = {}
    for name, make in optimisers.items():
        noise = torch.Generator().manual_seed(ctx.seed)  # the same noise for both optimisers
        w = torch.ones(len(sigma), dtype=dtype, device=ctx.device, requires_grad=True)
        opt = make([w])
        for _ in range(cfg.steps):
            w.grad = sigma * torch.randn(len(sigma), generator=noise, dtype=dtype).to(ctx.device)
            opt.step()
        kept[name] = w.detach().view(len(scales), per_group).mean(dim=1).tolist()  # mean w/w0 per group
        for scale, value in zip(scales, kept[name], strict=True):
            ctx.measured(f"{name}: mean w/w0 with gradient noise of scale {scale:g}", value)
    adamw_spread = max(kept["AdamW"]) - min(kept["AdamW"])
    ctx.target(
        "AdamW: the decay is the same whatever the gradient scale (spread of mean w/w0)",
        adamw_spread,
        0.05,
        higher_is_better=False,
        detail=f"groups kept {', '.join(f'{k:.3f}' for k in kept['AdamW'])}; {power} = {expected:.3f}{arm}",
    )
    l2 = kept["Adam + L2"]
    ctx.target(
        "Adam + L2: weights with large gradients are regularised less "
        f"(w/w0 at scale {cfg.noise:g} minus at 0.01)",
        l2[-1] - l2[0],
        0.5,
        detail=f"groups kept {', '.join(f'{k:.3f}' for k in l2)}",
    )
    ctx.progress(2, 2)


def bench(ctx: RunContext) -> None:
    tensors, size = (16, 256) if ctx.quick else (24, 1024)
    n_params = tensors * size * size
    for label, make in (
        ("torch.optim.AdamW foreach=False", lambda p: torch.optim.AdamW(p, foreach=False)),
        ("torch.optim.AdamW default", lambda p: torch.optim.AdamW(p)),
        ("torch.optim.AdamW foreach=True", lambda p: torch.optim.AdamW(p, foreach=True)),
        ("AdamW", lambda p: AdamW(p)),
    ):
        params = [torch.randn(size, size, device=ctx.device, requires_grad=True) for _ in range(tensors)]
        for p in params:
            p.grad = torch.randn_like(p)
        opt = make(params)
        ctx.bench.measure(
            label,
            opt.step,
            baseline=label.endswith("foreach=False"),
            tokens=n_params,
            unit="params/s",
            shape=(tensors, size, size),
            dtype=torch.float32,
            flops=12 * n_params,
            flop_formula="≈12 element-wise operations per parameter",
        )
