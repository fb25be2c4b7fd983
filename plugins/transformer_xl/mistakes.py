"""The classic mistakes in Transformer-XL's relative attention, for ``readtrack practice``: its check must
catch them (tests/practice/test_practice.py)."""

from __future__ import annotations

import math

import torch

from readtrack.api import mistake

from .model import RelativeAttention, rel_shift, sinusoid


@mistake("RelativeAttention.scores", fails="relative attention vs per-pair R_(i−j)")
def scores(
    self: RelativeAttention, h: torch.Tensor, memory: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The distances in increasing order 0 … P − 1: rel_shift then pairs each query with R of the wrong
    distance (it expects column c to hold distance P − 1 − c)."""
    B, L, D = h.shape
    full = h if memory is None else torch.cat([memory, h], dim=1)
    P = full.shape[1]
    q = self.W_qkv(h)[..., :D]
    _, k, v = self.W_qkv(full).split(D, dim=-1)
    q, k, v = (t.view(B, -1, self.n_heads, self.d_head).transpose(1, 2) for t in (q, k, v))
    R = sinusoid(torch.arange(P, device=h.device), D).to(h.dtype)
    r = self.W_r(R).view(P, self.n_heads, self.d_head).transpose(0, 1)
    AC = (q + self.u[:, None]) @ k.transpose(-2, -1)
    BD = rel_shift((q + self.v[:, None]) @ r.transpose(-2, -1))
    s = (AC + BD) / math.sqrt(self.d_head)
    i, j = torch.arange(L, device=h.device).unsqueeze(1), torch.arange(P, device=h.device)
    return s.masked_fill(j > i + (P - L), float("-inf")), v


@mistake("rel_shift", fails="relative shift = gathering by distance")
def rel_shift_last_row(x: torch.Tensor) -> torch.Tensor:
    """Drops the last row of the (P + 1, L) view instead of the first: every row is shifted one column."""
    *lead, L, P = x.shape
    padded = torch.cat([x.new_zeros(*lead, L, 1), x], dim=-1)
    return padded.view(*lead, P + 1, L)[..., :-1, :].reshape(*lead, L, P)
