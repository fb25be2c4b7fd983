"""Dynamic Tanh (Zhu, Chen, He, LeCun and Liu 2025, arXiv 2503.10622) as a plain module.

DyT replaces a normalisation layer by an element-wise squashing function with a learnable input scale:

    DyT(x) = γ ⊙ tanh(α x) + β                                                   (section 4)

α is one learnable scalar for the whole layer (initialised to α₀ = 0.5, the paper's default outside LLMs),
γ (ones) and β (zeros) are per-channel vectors, the affine parameters a LayerNorm has. No statistic of any
kind is computed: every output element depends on its own input element only, so DyT neither looks at the
other features of a token (as LayerNorm does) nor at the other examples of a batch (as BatchNorm does).

The motivation (the paper's section 3): the input-output map of a trained LayerNorm, plotted element by
element, looks like an S-shaped tanh curve, linear for most inputs and squashing the few extreme ones.
"""

from __future__ import annotations

import torch
from torch import nn


class DyT(nn.Module):
    """DyT over the trailing ``normalized_shape`` dimensions (the channels); ``alpha`` is α (a scalar),
    ``weight`` γ and ``bias`` β (both of shape ``normalized_shape``), named like nn.LayerNorm's."""

    def __init__(self, normalized_shape: int | tuple[int, ...], alpha_init: float = 0.5) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.alpha_init = shape, alpha_init
        self.alpha = nn.Parameter(torch.full((), alpha_init))  # α: () one scalar, α₀ = 0.5 by default
        self.weight = nn.Parameter(torch.ones(shape))  # γ: starts as the identity re-scaling
        self.bias = nn.Parameter(torch.zeros(shape))  # β

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (..., *normalized_shape); α broadcasts over everything, γ and β over the leading dimensions
        return self.weight * torch.tanh(self.alpha * x) + self.bias  # sec. 4: (..., *normalized_shape)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, alpha_init={self.alpha_init}"
