"""The classic mistake in RMSNorm, for ``readtrack practice``:
its check must catch it (tests/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.practice import mistake

from .model import RMSNorm


@mistake("RMSNorm.forward", fails="forward vs nn.RMSNorm")
def forward(self: RMSNorm, a: torch.Tensor) -> torch.Tensor:
    """Divides by the root of the mean of a, not of a²: it is not even scale invariant."""
    dims = tuple(range(-len(self.normalized_shape), 0))
    x = a.to(torch.promote_types(a.dtype, torch.float32))
    rms = torch.sqrt(x.mean(dim=dims, keepdim=True).abs() + self.eps)
    return (x / rms * self.weight).to(a.dtype)
