"""Layer normalisation (Ba, Kiros and Hinton 2016, arXiv 1607.06450) as a plain module.

The summed inputs a of a layer are normalised with statistics over the layer's own H hidden units, for
each example separately (eq. 3), then re-scaled by a learned gain g and shifted by a learned bias b:

    μ = (1/H) Σ_i a_i        σ = √((1/H) Σ_i (a_i − μ)² + ε)        LN(a) = g ⊙ (a − μ) / σ + b

No batch statistics are involved, so training and inference compute the same thing and a batch of one is
fine. ε (inside the square root, as in ``torch.nn.LayerNorm``) only guards against division by zero.
Statistics are accumulated in at least float32, as the built-in does: in bfloat16 the mean and variance of
a few hundred units would lose most of their bits.
"""

from __future__ import annotations

import torch
from torch import nn


class LayerNorm(nn.Module):
    """Normalise over the trailing ``normalized_shape`` dimensions; ``weight`` is the gain g, ``bias`` b."""

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        self.weight = nn.Parameter(torch.ones(shape))  # g: starts as the identity re-scaling
        self.bias = nn.Parameter(torch.zeros(shape))  # b

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(-len(self.normalized_shape), 0))  # the H hidden units of each example
        x = a.to(torch.promote_types(a.dtype, torch.float32))  # statistics in ≥ float32
        mu = x.mean(dim=dims, keepdim=True)  # eq. 3: (..., 1)
        var = (x - mu).square().mean(dim=dims, keepdim=True)  # eq. 3, σ² with 1/H (biased): (..., 1)
        y = self.weight * (x - mu) / torch.sqrt(var + self.eps) + self.bias  # (..., *normalized_shape)
        return y.to(a.dtype)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"
