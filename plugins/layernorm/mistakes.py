"""Classic mistakes in LayerNorm, for ``readtrack practice``:
its check must catch each (tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import LayerNorm


@mistake("LayerNorm.forward", fails="forward vs nn.LayerNorm")
def forward(self: LayerNorm, a: torch.Tensor) -> torch.Tensor:
    """The unbiased variance (divides by H − 1, Tensor.var's default), not the paper's 1/H."""
    dims = tuple(range(-len(self.normalized_shape), 0))
    x = a.to(torch.promote_types(a.dtype, torch.float32))
    mu = x.mean(dim=dims, keepdim=True)
    var = x.var(dim=dims, keepdim=True)  # unbiased: Σ (a − μ)² / (H − 1)
    y = self.weight * (x - mu) / torch.sqrt(var + self.eps) + self.bias
    return y.to(a.dtype)


@mistake("LayerNorm.forward", fails="a bfloat16 input gives a bfloat16 output")
def float32_output_for_low_precision_input(self: LayerNorm, a: torch.Tensor) -> torch.Tensor:
    """Promotes to float32 for the statistics and never casts back: a bfloat16 (or float16) input comes out
    in float32, where nn.LayerNorm returns a's own dtype. The values are right, and more precise."""
    dims = tuple(range(-len(self.normalized_shape), 0))
    x = a.to(torch.promote_types(a.dtype, torch.float32))
    mu = x.mean(dim=dims, keepdim=True)
    var = (x - mu).square().mean(dim=dims, keepdim=True)
    return self.weight * (x - mu) / torch.sqrt(var + self.eps) + self.bias
