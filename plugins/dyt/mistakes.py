"""Classic mistakes in DyT, for ``readtrack practice``: its check must catch each
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import DyT


@mistake("DyT.forward", fails="forward vs the DyT equation")
def forward(self: DyT, x: torch.Tensor) -> torch.Tensor:
    """α outside the tanh: γ·α·tanh(x) + β re-scales the output instead of the input, so the S-curve's
    width never changes (and at α = 1 it is right)."""
    return self.weight * self.alpha * torch.tanh(x) + self.bias


@mistake("DyT.forward", fails="forward vs the DyT equation")
def bias_inside_the_tanh(self: DyT, x: torch.Tensor) -> torch.Tensor:
    """β inside the tanh: γ·tanh(αx + β) shifts the input, and the output is no longer free to move."""
    return self.weight * torch.tanh(self.alpha * x + self.bias)


@mistake("DyT.forward", fails="gradients (input, alpha, weight, bias) vs the DyT equation")
def frozen_alpha(self: DyT, x: torch.Tensor) -> torch.Tensor:
    """α detached: the forward is right, but α never learns (∂/∂α = 0): a fixed tanh, not a dynamic one."""
    return self.weight * torch.tanh(self.alpha.detach() * x) + self.bias
