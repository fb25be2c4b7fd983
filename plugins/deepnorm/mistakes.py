"""Classic mistakes in the DeepNorm block, for ``readtrack practice``: its check must catch each
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import Block


@mistake("Block.forward", fails="forward vs the equations, deepnorm")
def alpha_on_the_sublayer(self: Block, x: torch.Tensor) -> torch.Tensor:
    """LN(x + α·G(x)): α up-weights the sublayer instead of the stream, the opposite of what DeepNorm does
    (Post-LN, α = 1, is unaffected, so only the DeepNorm comparison catches it)."""
    if self.norm_position == "pre":
        x = x + self.attn(self.ln1(x))
        return x + self.ffn(self.ln2(x))
    x = self.ln1(x + self.alpha * self.attn(x))
    return self.ln2(x + self.alpha * self.ffn(x))


@mistake("Block.forward", fails="forward vs the equations, deepnorm")
def alpha_on_the_attention_only(self: Block, x: torch.Tensor) -> torch.Tensor:
    """α on the attention's residual only: the feed-forward sublayer is a plain Post-LN one. Every sublayer
    is a layer of the depth α and β are counted for."""
    if self.norm_position == "pre":
        x = x + self.attn(self.ln1(x))
        return x + self.ffn(self.ln2(x))
    x = self.ln1(self.alpha * x + self.attn(x))
    return self.ln2(x + self.ffn(x))


@mistake("Block.forward", fails="forward vs the equations, post")
def normalised_input(self: Block, x: torch.Tensor) -> torch.Tensor:
    """LN(α·x + G(LN(x))): the sublayer is fed the normalised stream, half Pre-LN and half Post-LN; the
    extra LN changes Post-LN and DeepNorm alike."""
    if self.norm_position == "pre":
        x = x + self.attn(self.ln1(x))
        return x + self.ffn(self.ln2(x))
    x = self.ln1(self.alpha * x + self.attn(self.ln1(x)))
    return self.ln2(self.alpha * x + self.ffn(self.ln2(x)))
