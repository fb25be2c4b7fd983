"""Root Mean Square layer normalisation (Zhang and Sennrich 2019, arXiv 1910.07467) as a plain module.

RMSNorm keeps LayerNorm's re-scaling and drops its re-centring: the summed inputs a are divided by their
root mean square over the n hidden units and multiplied by a learned gain g. No mean is subtracted and
there is no bias, so it costs one reduction instead of two. The paper's eq. 4 is

    ā_i = a_i / RMS(a) · g_i,        RMS(a) = √((1/n) Σ_i a_i²)

and has no ε. The code adds ε inside the square root, RMS(a) = √((1/n) Σ_i a_i² + ε), to guard against
dividing by zero for an all-zero input: that is where ``torch.nn.RMSNorm``, T5 and Llama put it, and 1e-6
is their default. Statistics are accumulated in at least float32, as the built-in does.
"""

from __future__ import annotations

import torch
from torch import nn


class RMSNorm(nn.Module):
    """Normalise over the trailing ``normalized_shape`` dimensions; ``weight`` is the gain g."""

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-6) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        self.weight = nn.Parameter(torch.ones(shape))  # g

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(-len(self.normalized_shape), 0))  # the n hidden units of each example
        x = a.to(torch.promote_types(a.dtype, torch.float32))  # statistics in ≥ float32
        rms = torch.sqrt(x.square().mean(dim=dims, keepdim=True) + self.eps)  # eq. 4, with ε: (..., 1)
        return (x / rms * self.weight).to(a.dtype)  # (..., *normalized_shape)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"
