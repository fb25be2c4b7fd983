"""Classic mistakes in RMSNorm, for ``readtrack practice``: its check must catch each
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import RMSNorm


@mistake("RMSNorm.forward", fails="forward vs nn.RMSNorm")
def forward(self: RMSNorm, a: torch.Tensor) -> torch.Tensor:
    """Divides by the root of the mean of a, not of a²: it is not even scale invariant."""
    dims = tuple(range(-len(self.normalized_shape), 0))
    x = a.to(torch.promote_types(a.dtype, torch.float32))
    rms = torch.sqrt(x.mean(dim=dims, keepdim=True).abs() + self.eps)
    return (x / rms * self.weight).to(a.dtype)


@mistake("RMSNorm.forward", fails="returns a's dtype (bfloat16")
def forward_in_float32(self: RMSNorm, a: torch.Tensor) -> torch.Tensor:
    """Promotes to float32 but never casts back: bfloat16 in, float32 out (nn.RMSNorm returns bfloat16)."""
    dims = tuple(range(-len(self.normalized_shape), 0))
    x = a.to(torch.promote_types(a.dtype, torch.float32))
    rms = torch.sqrt(x.square().mean(dim=dims, keepdim=True) + self.eps)
    return x / rms * self.weight


@mistake("RMSNorm.forward", fails="forward vs nn.RMSNorm (float16")
def forward_statistics_in_input_dtype(self: RMSNorm, a: torch.Tensor) -> torch.Tensor:
    """Takes the statistics in a's own dtype: float16 squares of values near 1000 overflow to inf."""
    dims = tuple(range(-len(self.normalized_shape), 0))
    rms = torch.sqrt(a.square().mean(dim=dims, keepdim=True) + self.eps)
    return a / rms * self.weight
