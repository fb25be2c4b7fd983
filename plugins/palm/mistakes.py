"""The classic mistakes in PaLM's block, for ``readtrack practice``: its check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from readtrack.api import mistake

from .model import PaLMBlock


@mistake("PaLMBlock.forward", fails="parallel block vs its weights in separate matmuls")
def forward(self: PaLMBlock, x: torch.Tensor) -> torch.Tensor:
    """The "parallel" block still feeds the MLP the attention's output, LN(x + Attention(LN(x))): serial
    in disguise, so the two input projections cannot be fused."""
    D, d = self.splits[0], self.d_head
    W_attn, W_mlp = self.W_in.weight.split((D + 2 * d, 2 * self.d_ff))
    q, k, v = F.linear(self.norm(x), W_attn).split((D, d, d), dim=-1)
    attended = self.attention(q, k, v)
    a, b = F.linear(self.norm(x + attended), W_mlp).split((self.d_ff, self.d_ff), dim=-1)
    return x + attended + self.mlp(a, b)


@mistake("PaLMBlock.forward", fails="serial block vs its weights in separate matmuls")
def forward_paper_formula(self: PaLMBlock, x: torch.Tensor) -> torch.Tensor:
    """The serial block as the paper's formula is written, y = x + MLP(LN(x + Attention(LN(x)))): the
    attention's residual is lost from the output."""
    if not self.serial:
        q, k, v, a, b = self.W_in(self.norm(x)).split(self.splits, dim=-1)
        return x + self.attention(q, k, v) + self.mlp(a, b)
    assert self.norm_mlp is not None
    D, d = self.splits[0], self.d_head
    W_attn, W_mlp = self.W_in.weight.split((D + 2 * d, 2 * self.d_ff))
    q, k, v = F.linear(self.norm(x), W_attn).split((D, d, d), dim=-1)
    h = x + self.attention(q, k, v)
    a, b = F.linear(self.norm_mlp(h), W_mlp).split((self.d_ff, self.d_ff), dim=-1)
    return x + self.mlp(a, b)
