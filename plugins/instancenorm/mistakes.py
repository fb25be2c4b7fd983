"""Classic mistakes in InstanceNorm, for ``readtrack practice``:
its check must catch each (tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import InstanceNorm


def _affine(self: InstanceNorm, y: torch.Tensor) -> torch.Tensor:
    """γ_i · y + β_i when the module has them (shared by the mistakes: the error is elsewhere)."""
    if self.weight is None or self.bias is None:
        return y
    shape = (1, -1) + (1,) * (y.dim() - 2)
    return self.weight.view(shape) * y + self.bias.view(shape)


@mistake("InstanceNorm.forward", fails="forward vs nn.InstanceNorm2d")
def batch_statistics(self: InstanceNorm, x: torch.Tensor) -> torch.Tensor:
    """Batch normalisation's statistics (eq. 3): one mean and variance per channel over the batch and the
    positions, (0, 2, 3, ...), not per image. Each image's output then depends on the others."""
    dims = (0, *range(2, x.dim()))
    z = x.to(torch.promote_types(x.dtype, torch.float32))
    mu = z.mean(dim=dims, keepdim=True)  # (1, C, 1, 1): over the batch too
    var = (z - mu).square().mean(dim=dims, keepdim=True)
    return _affine(self, (z - mu) / torch.sqrt(var + self.eps)).to(x.dtype)


@mistake("InstanceNorm.forward", fails="forward vs nn.InstanceNorm2d")
def layer_statistics(self: InstanceNorm, x: torch.Tensor) -> torch.Tensor:
    """Statistics per image over the channels and the positions (layer normalisation's), (1, 2, 3, ...), not
    per image and channel: a channel's contrast leaks into the others'."""
    dims = tuple(range(1, x.dim()))
    z = x.to(torch.promote_types(x.dtype, torch.float32))
    mu = z.mean(dim=dims, keepdim=True)  # (N, 1, 1, 1)
    var = (z - mu).square().mean(dim=dims, keepdim=True)
    return _affine(self, (z - mu) / torch.sqrt(var + self.eps)).to(x.dtype)


@mistake("InstanceNorm.forward", fails="forward vs nn.InstanceNorm2d")
def unbiased_variance(self: InstanceNorm, x: torch.Tensor) -> torch.Tensor:
    """The unbiased variance (divides by HW − 1, Tensor.var's default), not the paper's 1/HW: the outputs
    come out too small, by √((HW − 1)/HW), most on small images."""
    dims = tuple(range(2, x.dim()))
    z = x.to(torch.promote_types(x.dtype, torch.float32))
    mu = z.mean(dim=dims, keepdim=True)
    var = z.var(dim=dims, keepdim=True)  # unbiased: Σ (x − μ)² / (HW − 1)
    return _affine(self, (z - mu) / torch.sqrt(var + self.eps)).to(x.dtype)
