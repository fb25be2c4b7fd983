"""Batch normalisation (Ioffe and Szegedy 2015, arXiv 1502.03167) as a plain module.

Each feature (channel) k is normalised with the mean and variance of its values over the mini-batch B
(and, for images, over every position: section 3.2), then re-scaled by a learned γ and shifted by β:

    μ_B = (1/m) Σ_i x_i        σ²_B = (1/m) Σ_i (x_i − μ_B)²                           (Algorithm 1)
    x̂_i = (x_i − μ_B) / √(σ²_B + ε)        y_i = γ x̂_i + β

m is the number of values per feature (N for (N, C) inputs, N·H·W for (N, C, H, W) ones), and σ²_B is the
biased variance (1/m). At inference the batch's statistics are replaced by population estimates
(Algorithm 2): y = γ (x − E[x]) / √(Var[x] + ε) + β, a fixed affine map of each example. The paper averages
the statistics of many training batches, with the unbiased m/(m − 1)·σ²_B for the variance; this module
keeps them as PyTorch's ``nn.BatchNorm`` does, as exponential moving averages with its momentum convention

    running ← (1 − momentum) · running + momentum · batch statistic          (momentum 0.1)

where the variance's batch statistic is the UNBIASED m/(m − 1)·σ²_B (the normalisation itself uses the
biased one). Parameters and buffers are named like torch's (``weight`` γ, ``bias`` β, ``running_mean``,
``running_var``, ``num_batches_tracked``), so an ``nn.BatchNorm1d``/``nn.BatchNorm2d`` state dict loads
as is. Statistics are accumulated in at least float32.
"""

from __future__ import annotations

import torch
from torch import nn


class BatchNorm(nn.Module):
    """Batch normalisation of (N, C) or (N, C, H, W) inputs (any (N, C, ...)): statistics over every
    dimension but C; ``weight`` is γ, ``bias`` β, both (C,)."""

    running_mean: torch.Tensor
    running_var: torch.Tensor
    num_batches_tracked: torch.Tensor

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))  # γ: starts as the identity re-scaling
        self.bias = nn.Parameter(torch.zeros(num_features))  # β
        self.register_buffer("running_mean", torch.zeros(num_features))  # E[x] estimate, (C,)
        self.register_buffer("running_var", torch.ones(num_features))  # Var[x] estimate, (C,)
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dims = (0, *range(2, x.dim()))  # every dimension but C: the batch and the positions
        shape = (1, -1) + (1,) * (x.dim() - 2)  # (C,) → (1, C, 1, ...) to broadcast over x
        a = x.to(torch.promote_types(x.dtype, torch.float32))  # statistics in ≥ float32
        if self.training:
            m = x.numel() // x.shape[1]  # values per feature in this mini-batch
            if m < 2:
                raise ValueError(f"Expected more than 1 value per channel when training, got input {x.shape}")
            mu = a.mean(dim=dims)  # μ_B, (C,)
            var = (a - mu.view(shape)).square().mean(dim=dims)  # σ²_B, biased (1/m), (C,)
            with torch.no_grad():  # Algorithm 2's population statistics, as moving averages
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mu.to(self.running_mean))
                unbiased = var * m / (m - 1)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * unbiased.to(self.running_var))
                self.num_batches_tracked.add_(1)
        else:
            mu, var = self.running_mean, self.running_var  # inference: a fixed affine map per example
        x_hat = (a - mu.view(shape)) / torch.sqrt(var.view(shape) + self.eps)  # Algorithm 1: (N, C, ...)
        y = self.weight.view(shape) * x_hat + self.bias.view(shape)  # y = γ x̂ + β
        return y.to(x.dtype)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"
