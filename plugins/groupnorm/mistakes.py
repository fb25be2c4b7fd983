"""Classic mistakes in GroupNorm, for ``readtrack practice``: its check must catch each
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import GroupNorm


def _affine(self: GroupNorm, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    if self.weight is not None:
        per_channel = (1, x.shape[1]) + (1,) * (x.dim() - 2)
        h = h * self.weight.view(per_channel) + self.bias.view(per_channel)
    return h.to(x.dtype)


@mistake("GroupNorm.forward", fails="forward vs nn.GroupNorm(3, 6)")
def forward(self: GroupNorm, x: torch.Tensor) -> torch.Tensor:
    """Interleaved groups: x.reshape(N, C/G, G, ...) puts channel c in group c % G, not c // (C/G), so each
    group mixes channels from all over the layer (right only for G = 1 and G = C)."""
    N, C = x.shape[:2]
    G = self.num_groups
    h = x.to(torch.promote_types(x.dtype, torch.float32)).reshape(N, C // G, G, -1).transpose(1, 2)
    h = h.reshape(N, G, -1)  # (N, G, ...): group g holds channels g, g + G, g + 2G, ...
    mu = h.mean(dim=-1, keepdim=True)
    var = (h - mu).square().mean(dim=-1, keepdim=True)
    h = (h - mu) / torch.sqrt(var + self.eps)
    h = h.reshape(N, G, C // G, -1).transpose(1, 2).reshape(x.shape)
    return _affine(self, h, x)


@mistake("GroupNorm.forward", fails="forward vs nn.GroupNorm(3, 6)")
def forward_with_batch_statistics(self: GroupNorm, x: torch.Tensor) -> torch.Tensor:
    """Statistics over the batch too (a group's channels in every example, BatchNorm's S_i with groups):
    the very dependence on the batch that GN removes."""
    N = x.shape[0]
    G = self.num_groups
    h = x.to(torch.promote_types(x.dtype, torch.float32)).reshape(N, G, -1)
    mu = h.mean(dim=(0, 2), keepdim=True)  # (1, G, 1): over the examples as well
    var = (h - mu).square().mean(dim=(0, 2), keepdim=True)
    h = ((h - mu) / torch.sqrt(var + self.eps)).reshape(x.shape)
    return _affine(self, h, x)


@mistake("GroupNorm.forward", fails="forward vs nn.GroupNorm(3, 6)")
def forward_unbiased_variance(self: GroupNorm, x: torch.Tensor) -> torch.Tensor:
    """The unbiased variance (divides by m − 1, Tensor.var's default), not the paper's 1/m: off most where
    a group is small (one channel of a 1×1 map: m = 1 gives nan)."""
    N = x.shape[0]
    h = x.to(torch.promote_types(x.dtype, torch.float32)).reshape(N, self.num_groups, -1)
    mu = h.mean(dim=-1, keepdim=True)
    var = h.var(dim=-1, keepdim=True)  # Σ (x − μ)² / (m − 1)
    h = ((h - mu) / torch.sqrt(var + self.eps)).reshape(x.shape)
    return _affine(self, h, x)
