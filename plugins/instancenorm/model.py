"""Instance normalisation (Ulyanov, Vedaldi and Lempitsky 2016, arXiv 1607.08022) as a plain module.

A batch x of T images with C channels, each H × W, has elements x_tijk (t: the image, i: the channel, j
and k: the spatial position). Batch normalisation (eq. 3) takes one mean and variance per channel, over
the batch and the image, Σ over t, l and m; instance normalisation (eq. 4) takes them per image and per
channel, over that image's own pixels only:

    μ_ti = (1/HW) Σ_l Σ_m x_tilm         σ²_ti = (1/HW) Σ_l Σ_m (x_tilm − μ_ti)²
    y_tijk = (x_tijk − μ_ti) / √(σ²_ti + ε)                                              (eq. 4)

so the output of one image depends on nothing else in the batch, and training and test compute the same
thing (the paper's point: "apply the normalisation at test time too"). With ``affine=True`` a learned
per-channel gain γ_i (``weight``) and shift β_i (``bias``) follow, as in ``torch.nn.InstanceNorm2d``; by
default there are none and no running statistics are kept. Any number of trailing spatial dimensions is
fine: (N, C, L) is the 1-d case, (N, C, H, W) the paper's. Statistics are accumulated in at least float32.
"""

from __future__ import annotations

import torch
from torch import nn


class InstanceNorm(nn.Module):
    """Normalise each (image, channel) over its spatial positions; input (N, C, *spatial), spatial ≥ 1 dim."""

    def __init__(self, num_features: int, eps: float = 1e-5, affine: bool = False) -> None:
        super().__init__()
        self.num_features, self.eps, self.affine = num_features, eps, affine
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features))  # γ_i: starts as the identity
            self.bias = nn.Parameter(torch.zeros(num_features))  # β_i
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(2, x.dim()))  # the spatial positions l, m of each image t and channel i
        z = x.to(torch.promote_types(x.dtype, torch.float32))  # statistics in ≥ float32
        mu = z.mean(dim=dims, keepdim=True)  # μ_ti: (N, C, 1, 1)
        var = (z - mu).square().mean(dim=dims, keepdim=True)  # σ²_ti with 1/HW (biased): (N, C, 1, 1)
        y = (z - mu) / torch.sqrt(var + self.eps)  # eq. 4: (N, C, *spatial)
        if self.weight is not None and self.bias is not None:
            shape = (1, -1) + (1,) * len(dims)  # γ_i, β_i broadcast over images and positions
            y = self.weight.view(shape) * y + self.bias.view(shape)
        return y.to(x.dtype)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, affine={self.affine}"
