"""Root Mean Square layer normalisation (Zhang and Sennrich 2019, arXiv 1910.07467) as a plain module.

RMSNorm keeps LayerNorm's re-scaling and drops its re-centring: the summed inputs a are divided by their
root mean square over the n hidden units and multiplied by a learned gain g (eq. 4). No mean is
subtracted and there is no bias, so it costs one reduction instead of two:

    RMS(a) = √((1/n) Σ_i a_i² + ε)        ā_i = a_i / RMS(a) · g_i

ε sits inside the square root as in ``torch.nn.RMSNorm`` and in T5/Llama; the 1e-6 default is theirs.
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
        rms = torch.sqrt(a.square().mean(dim=dims, keepdim=True) + self.eps)  # eq. 4: (..., 1)
        return a / rms * self.weight  # (..., *normalized_shape)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"
