"""The classic mistake in GPT-2's pre-LN block, for ``readtrack practice``: its check must catch it
(tests/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.practice import mistake

from .model import Block


@mistake("Block.forward", fails="pre-LN block vs nn.TransformerEncoderLayer, N = 1")
def forward(self: Block, x: torch.Tensor) -> torch.Tensor:
    """Normalises the residual stream itself before each sub-block (x = LN(x); x = x + Attn(x)) instead of
    only the sub-block's input: the identity path is no longer an identity."""
    if self.pre_ln:
        x = self.ln1(x)
        x = x + self.attn(x)
        x = self.ln2(x)
        return x + self.mlp(x)
    x = self.ln1(x + self.attn(x))
    return self.ln2(x + self.mlp(x))
