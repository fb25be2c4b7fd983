"""Classic mistakes in the Conformer block, for ``readtrack practice``: its check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from readtrack.api import mistake

from .model import ConformerBlock, ConvModule


@mistake("ConformerBlock.forward", fails="Conformer block vs eq. 1 written functionally, L = 1")
def block_forward(self: ConformerBlock, x: torch.Tensor) -> torch.Tensor:
    """Full-step feed-forward residuals (x + FFN(x)) instead of the macaron's half steps (x + ½ FFN(x))."""
    x = x + self.ffn1(x)
    x = x + self.mhsa(x)
    x = x + self.conv(x)
    return self.norm(x + self.ffn2(x))


@mistake("ConvModule.forward", fails="convolution module vs a per-tap loop, norms written out, L = 1")
def conv_forward(self: ConvModule, x: torch.Tensor) -> torch.Tensor:
    """GLU with its halves swapped: the second half gated by the first, σ(a) ⊗ b instead of a ⊗ σ(b)."""
    h = self.pointwise1(self.norm(x).transpose(1, 2))
    a, gate = h.chunk(2, dim=1)
    h = gate * torch.sigmoid(a)
    h = F.silu(self.batch_norm(self.depthwise(h)))
    return self.pointwise2(h).transpose(1, 2)
