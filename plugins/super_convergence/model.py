"""Super-convergence (Smith and Topin 2017), like nanoGPT: the one-cycle learning-rate policy and the LR
range test that picks its peak, plus the small MLP with batch norm they are tried on.

    one cycle (section 3, in PyTorch's two-phase form, step k = 0 … T−1, peak step k* = pct_start·T − 1):
        η₀ = η_max / div,  η_min = η₀ / final_div
        k ≤ k*:  η_k = cos_anneal(η₀ → η_max, k / k*)
        k > k*:  η_k = cos_anneal(η_max → η_min, (k − k*) / (T − 1 − k*))
        cos_anneal(a → b, p) = b + (a − b)·(1 + cos πp) / 2
    LR range test (section 3): train a few hundred steps with η rising linearly from η_lo to η_hi; the
        largest η before the loss stops falling is the cycle's η_max.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import torch
from torch import Tensor, nn


def cos_anneal(start: float, end: float, pct: float) -> float:
    """From ``start`` at pct = 0 to ``end`` at pct = 1 along half a cosine."""
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def one_cycle_lr(
    step: int,
    total_steps: int,
    max_lr: float,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> float:
    """η at ``step`` (0 … total_steps − 1): up from max_lr/div to max_lr by step pct_start·T − 1, then down
    to max_lr/(div·final_div) at the last step, both along cosines (OneCycleLR, cycle_momentum=False)."""
    initial = max_lr / div_factor  # η₀
    final = initial / final_div_factor  # η_min
    peak = float(pct_start * total_steps) - 1  # k*, the step at which η = η_max
    if step <= peak:
        return cos_anneal(initial, max_lr, step / peak)
    return cos_anneal(max_lr, final, (step - peak) / (total_steps - 1 - peak))


class MLP(nn.Module):
    """Linear → BatchNorm → ReLU, ``depth`` times, then a linear read-out: (B, d_in) → (B, classes)."""

    def __init__(self, d_in: int, width: int, classes: int, depth: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(depth):
            layers += [nn.Linear(d_in if i == 0 else width, width), nn.BatchNorm1d(width), nn.ReLU()]
        self.body = nn.Sequential(*layers, nn.Linear(width, classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x)


def lr_range_test(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    batches: Iterator[tuple[Tensor, Tensor]],
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    lr_lo: float,
    lr_hi: float,
    steps: int,
    smoothing: float = 0.9,
) -> tuple[list[float], list[float], float]:
    """Train ``steps`` steps with η rising linearly from lr_lo to lr_hi; returns the rates, the smoothed
    training losses (an exponential moving average, bias-corrected) and the suggested η_max: the rate at
    which the smoothed loss is lowest, the last one before raising η stops paying."""
    rates, losses = [], []
    average = 0.0
    for k in range(steps):
        lr = lr_lo + (lr_hi - lr_lo) * k / max(steps - 1, 1)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = next(batches)
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        average = smoothing * average + (1 - smoothing) * loss.item()
        rates.append(lr)
        losses.append(average / (1 - smoothing ** (k + 1)))
    best = min(range(steps), key=losses.__getitem__)
    return rates, losses, rates[best]
