"""Weight normalisation (Salimans and Kingma 2016, arXiv 1602.07868) as a plain linear layer.

Each output unit's weight vector w is written as a direction v and a length g (eq. 2):

    y = w · x + b,        w = g · v / ‖v‖                                                    (eq. 1, eq. 2)

so ‖w‖ = g whatever v is. The gradients follow by the chain rule (eq. 3, autograd computes them):

    ∇_g L = ∇_w L · v / ‖v‖        ∇_v L = (g / ‖v‖) · M_w ∇_w L,   M_w = I − w wᵀ / ‖w‖²     (eq. 3, 4)

∇_v L is ∇_w L scaled by g/‖v‖ and projected away from w (hence orthogonal to v). No statistics of the
batch are involved: an example's output is the same whatever else is in the batch, one example included.

Data-dependent initialisation (section 3): with g = 1 and b = 0, a first batch gives the pre-activations
t = v · x / ‖v‖ of each unit; setting g ← 1/σ[t] and b ← −μ[t]/σ[t] makes the initial pre-activations
y = g·t + b have mean 0 and variance 1 over that batch, layer after layer in a single forward pass.
"""

from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F
from torch import nn


class WeightNormLinear(nn.Module):
    """y = x wᵀ + b with w = g · v / ‖v‖ per output unit (eq. 2); parameters ``v``, ``g`` and ``b``."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.v = nn.Parameter(torch.empty(out_features, in_features))  # the direction, one row per unit
        self.g = nn.Parameter(torch.ones(out_features))  # the length ‖w‖ of each unit's weight vector
        self.b = nn.Parameter(torch.zeros(out_features))
        nn.init.normal_(self.v, std=0.05)  # the paper's start; only the direction matters (eq. 2)

    def weight(self) -> torch.Tensor:
        """w = g · v / ‖v‖ (eq. 2): (out, in), each row of length g."""
        return self.g.unsqueeze(1) * self.v / self.v.norm(dim=1, keepdim=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight(), self.b)  # (..., in) → (..., out)   eq. 1

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


@torch.no_grad()
def data_dependent_init(model: nn.Module, x: torch.Tensor) -> None:
    """Section 3: one forward pass of the batch ``x`` (rows: examples) through ``model`` sets g and b of
    every ``WeightNormLinear`` in it, in the order the pass reaches them, so that its pre-activations have
    mean 0 and variance 1 over the batch; each later layer already sees its inputs' initialised layers."""

    def to_identity(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        layer = cast(WeightNormLinear, module)
        layer.g.fill_(1.0)  # so the output is t = v · x / ‖v‖
        layer.b.zero_()

    def normalise(module: nn.Module, inputs: tuple[torch.Tensor, ...], t: torch.Tensor) -> torch.Tensor:
        layer = cast(WeightNormLinear, module)
        t2 = t.reshape(-1, t.shape[-1])  # (rows, out)
        mu, sigma = t2.mean(dim=0), t2.std(dim=0, unbiased=False)  # μ[t], σ[t] over the batch: (out,)
        layer.g.copy_(1 / sigma)
        layer.b.copy_(-mu / sigma)
        return (t - mu) / sigma  # = g·t + b: what the next layer sees

    layers = [m for m in model.modules() if isinstance(m, WeightNormLinear)]
    hooks = [
        h
        for m in layers
        for h in (m.register_forward_pre_hook(to_identity), m.register_forward_hook(normalise))
    ]
    try:
        model(x)
    finally:
        for h in hooks:
            h.remove()


def weight_norm_mlp(depth: int, width: int, d_in: int, classes: int) -> nn.Sequential:
    """depth × (WeightNormLinear → ReLU), then a weight-normalised read-out: every weight vector of the
    network is reparameterised (the paper's networks), ready for ``data_dependent_init``."""
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [WeightNormLinear(d_in if i == 0 else width, width), nn.ReLU()]
    layers.append(WeightNormLinear(width, classes))
    return nn.Sequential(*layers)
