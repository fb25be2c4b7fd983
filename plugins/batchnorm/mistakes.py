"""Classic mistakes in BatchNorm, for ``readtrack practice``: its check must catch each, its first failing
comparison named as ``fails`` says (tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import BatchNorm


@mistake("BatchNorm.forward", fails="forward vs nn.BatchNorm1d")
def forward(self: BatchNorm, x: torch.Tensor) -> torch.Tensor:
    """Normalises with the unbiased variance (Tensor.var's default, 1/(m − 1)), not Algorithm 1's 1/m."""
    dims, shape = (0, *range(2, x.dim())), (1, -1) + (1,) * (x.dim() - 2)
    a = x.to(torch.promote_types(x.dtype, torch.float32))
    if self.training:
        mu, var = a.mean(dim=dims), a.var(dim=dims)  # unbiased: Σ (x − μ)² / (m − 1)
        with torch.no_grad():
            self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mu.to(self.running_mean))
            self.running_var.mul_(1 - self.momentum).add_(self.momentum * var.to(self.running_var))
            self.num_batches_tracked.add_(1)
    else:
        mu, var = self.running_mean, self.running_var
    y = self.weight.view(shape) * (a - mu.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
    return (y + self.bias.view(shape)).to(x.dtype)


@mistake("BatchNorm.forward", fails="running_var (unbiased batch variance) after 3 steps")
def forward_biased_running_variance(self: BatchNorm, x: torch.Tensor) -> torch.Tensor:
    """Normalises right, but keeps the biased σ²_B in the running variance: torch (and the paper's
    Algorithm 2) use the unbiased m/(m − 1)·σ²_B there, so inference normalises a little too much."""
    dims, shape = (0, *range(2, x.dim())), (1, -1) + (1,) * (x.dim() - 2)
    a = x.to(torch.promote_types(x.dtype, torch.float32))
    if self.training:
        mu = a.mean(dim=dims)
        var = (a - mu.view(shape)).square().mean(dim=dims)
        with torch.no_grad():
            self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mu.to(self.running_mean))
            self.running_var.mul_(1 - self.momentum).add_(self.momentum * var.to(self.running_var))
            self.num_batches_tracked.add_(1)
    else:
        mu, var = self.running_mean, self.running_var
    y = self.weight.view(shape) * (a - mu.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
    return (y + self.bias.view(shape)).to(x.dtype)


@mistake("BatchNorm.forward", fails="eval mode (running statistics): forward")
def forward_batch_statistics_at_inference(self: BatchNorm, x: torch.Tensor) -> torch.Tensor:
    """Always normalises with the batch's own statistics, eval mode too: the running averages are kept but
    never used, so a prediction depends on what else is in the batch."""
    dims, shape = (0, *range(2, x.dim())), (1, -1) + (1,) * (x.dim() - 2)
    a = x.to(torch.promote_types(x.dtype, torch.float32))
    m = x.numel() // x.shape[1]
    mu = a.mean(dim=dims)
    var = (a - mu.view(shape)).square().mean(dim=dims)
    if self.training:
        with torch.no_grad():
            self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mu.to(self.running_mean))
            self.running_var.mul_(1 - self.momentum).add_(
                self.momentum * (var * m / (m - 1)).to(self.running_var)
            )
            self.num_batches_tracked.add_(1)
    y = self.weight.view(shape) * (a - mu.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
    return (y + self.bias.view(shape)).to(x.dtype)
