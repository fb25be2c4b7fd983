"""Classic mistakes in WeightNormLinear, for ``readtrack practice``:
its check must catch each (tests/practice/test_practice.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from readtrack.api import mistake

from .model import WeightNormLinear


@mistake("WeightNormLinear.forward", fails="forward vs torch weight_norm")
def forward(self: WeightNormLinear, x: torch.Tensor) -> torch.Tensor:
    """Normalises each column of v (over the output units, dim=0) instead of each unit's row: w's rows no
    longer have length g."""
    w = self.g.unsqueeze(1) * self.v / self.v.norm(dim=0, keepdim=True)
    return F.linear(x, w, self.b)


@mistake("WeightNormLinear.forward", fails="forward vs torch weight_norm")
def one_norm_for_the_whole_matrix(self: WeightNormLinear, x: torch.Tensor) -> torch.Tensor:
    """Divides by the norm of the whole matrix v (Frobenius): one length for all units, not one per unit."""
    w = self.g.unsqueeze(1) * self.v / self.v.norm()
    return F.linear(x, w, self.b)


@mistake("WeightNormLinear.forward", fails="gradients (input, g, v, b) vs torch weight_norm")
def norm_treated_as_a_constant(self: WeightNormLinear, x: torch.Tensor) -> torch.Tensor:
    """Detaches ‖v‖: the forward is right, but ∇_v L is g/‖v‖ · ∇_w L, not projected away from w (eq. 3),
    so training changes ‖v‖ along with the direction."""
    w = self.g.unsqueeze(1) * self.v / self.v.norm(dim=1, keepdim=True).detach()
    return F.linear(x, w, self.b)
