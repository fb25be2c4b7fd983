"""The classic mistake in ResNet's building block, for ``readtrack practice``: its check must catch it
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from readtrack.api import mistake

from .model import BasicBlock


@mistake("BasicBlock.forward", fails="block forward vs F.conv2d + BatchNorm by hand, identity shortcut")
def forward(self: BasicBlock, x: torch.Tensor) -> torch.Tensor:
    """The last ReLU before the addition, σ(F(x)) + x, instead of after it, σ(F(x) + x) (fig. 2)."""
    out = F.relu(self.bn1(self.conv1(x)))
    out = F.relu(self.bn2(self.conv2(out)))
    if self.residual:
        out = out + self.shortcut(x)
    return out
