"""Small networks that several plugins' experiments train."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn


def deep_mlp(
    depth: int, width: int, d_in: int, classes: int, norm: Callable[[int], nn.Module] | None = None
) -> nn.Sequential:
    """depth × (Linear → [norm] → ReLU), then a linear read-out.

    Linear layers get He (Kaiming) initialisation with zero biases, the standard start for a ReLU stack:
    it keeps the activations' scale from layer to layer, so a network without normalisation is not
    handicapped by a shrinking signal (PyTorch's default init would be).
    """
    layers: list[nn.Module] = []
    for i in range(depth):
        linear = nn.Linear(d_in if i == 0 else width, width)
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        nn.init.zeros_(linear.bias)
        layers += [linear, norm(width) if norm is not None else nn.Identity(), nn.ReLU()]
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)
