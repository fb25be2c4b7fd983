"""Classic mistakes in the Pre-LN / Post-LN block, for ``readtrack practice``: its check must catch each
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import Block


@mistake("Block.forward", fails="forward vs the equations, pre")
def normalised_residual(self: Block, x: torch.Tensor) -> torch.Tensor:
    """LN(x) + F(LN(x)): the residual carries the normalised stream, so the identity path is cut at every
    sublayer, the very path Pre-LN keeps clean."""
    if self.norm_position == "post":
        x = self.ln1(x + self.attn(x))
        return self.ln2(x + self.ffn(x))
    h = self.ln1(x)
    x = h + self.attn(h)
    h = self.ln2(x)
    return h + self.ffn(h)


@mistake("Block.forward", fails="forward vs the equations, pre")
def norm_after_the_sublayer(self: Block, x: torch.Tensor) -> torch.Tensor:
    """x + LN(F(x)): the LayerNorm inside the branch, but after the sublayer instead of before it."""
    if self.norm_position == "post":
        x = self.ln1(x + self.attn(x))
        return self.ln2(x + self.ffn(x))
    x = x + self.ln1(self.attn(x))
    return x + self.ln2(self.ffn(x))


@mistake("Block.forward", fails="forward vs the equations, post")
def post_ln_on_the_branch_only(self: Block, x: torch.Tensor) -> torch.Tensor:
    """x + LN(F(x)) for Post-LN: the LN normalises the sublayer's output, not the sum, so the stream grows
    unnormalised through the depth."""
    if self.norm_position == "pre":
        x = x + self.attn(self.ln1(x))
        return x + self.ffn(self.ln2(x))
    x = x + self.ln1(self.attn(x))
    return x + self.ln2(self.ffn(x))
