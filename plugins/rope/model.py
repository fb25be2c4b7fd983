"""Rotary position embedding (Su et al. 2021, RoFormer, arXiv 2104.09864) as plain functions and a layer.

RoPE encodes position m by rotating each pair of coordinates (x_2i, x_2i+1) of a query or key by the
angle m·θ_i, with θ_i = base^(−2i/d), i = 0 … d/2 − 1. In the paper's computationally efficient form
(eq. 34), with ⊗ the element-wise product:

    R(x, m) = x ⊗ (cos mθ_0, cos mθ_0, cos mθ_1, cos mθ_1, …)
            + (−x_1, x_0, −x_3, x_2, …) ⊗ (sin mθ_0, sin mθ_0, sin mθ_1, sin mθ_1, …)

Rotations compose, so ⟨R(q, m), R(k, n)⟩ = ⟨q, R(k, n − m)⟩: the attention score depends on the
positions only through n − m (the relative property, eq. 16), and a rotation keeps every vector's norm.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def rotary_angles(positions: torch.Tensor, d: int, base: float = 10000.0) -> torch.Tensor:
    """m·θ_i for each position m and pair i: (..., N) positions → (..., N, d/2) angles."""
    i = torch.arange(d // 2, dtype=torch.float64, device=positions.device)  # (d/2,)
    theta = base ** (-2 * i / d)  # θ_i = base^(−2i/d)
    return positions.to(torch.float64).unsqueeze(-1) * theta  # (..., N, d/2)


def apply_rotary(x: torch.Tensor, positions: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """Rotate x (..., N, d) at ``positions`` (N,) or (..., N) by eq. 34; d must be even.

    Angles are computed in float64 and cast to x's dtype, so positions in the thousands keep their phase.
    """
    d = x.shape[-1]
    if d % 2:
        raise ValueError(f"rotary embedding needs an even head dimension, got {d}")
    angles = rotary_angles(positions, d, base)  # (..., N, d/2)
    cos = angles.cos().repeat_interleave(2, dim=-1).to(x.dtype)  # (..., N, d): cos mθ_0, cos mθ_0, …
    sin = angles.sin().repeat_interleave(2, dim=-1).to(x.dtype)
    pairs = x.unflatten(-1, (d // 2, 2))  # (..., N, d/2, 2): (x_2i, x_2i+1)
    rotated = torch.stack([-pairs[..., 1], pairs[..., 0]], dim=-1).flatten(-2)  # (−x_1, x_0, −x_3, x_2, …)
    return x * cos + rotated * sin  # (..., N, d)


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with either RoPE on queries and keys (``positions="rope"``), or
    learned absolute position embeddings added to the input (``positions="learned"``, up to ``max_len``)."""

    def __init__(self, d_model: int, n_heads: int, positions: str = "rope", max_len: int = 256) -> None:
        super().__init__()
        if positions not in ("rope", "learned"):
            raise ValueError(f"positions must be 'rope' or 'learned', not {positions!r}")
        self.n_heads, self.positions = n_heads, positions
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.table = nn.Embedding(max_len, d_model) if positions == "learned" else None

    def forward(self, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        B, N, D = x.shape
        if self.table is not None:
            x = x + self.table(positions)  # absolute: the position is part of the content
        q, k, v = self.qkv(x).split(D, dim=-1)  # (B, N, D) each
        q, k, v = (t.view(B, N, self.n_heads, D // self.n_heads).transpose(1, 2) for t in (q, k, v))
        if self.positions == "rope":  # relative: only queries and keys turn, by their own position
            q, k = apply_rotary(q, positions), apply_rotary(k, positions)  # (B, H, N, d)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, H, N, d)
        return self.out(y.transpose(1, 2).reshape(B, N, D))


class TinyLM(nn.Module):
    """Token embedding → one attention layer (residual) → read-out: enough for a task of relative
    position, such as "output the token three steps back"."""

    def __init__(self, vocab: int, d_model: int = 32, n_heads: int = 2, positions: str = "rope") -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.attn = CausalSelfAttention(d_model, n_heads, positions)
        self.head = nn.Linear(d_model, vocab)
        nn.init.normal_(self.embed.weight, std=1 / math.sqrt(d_model))

    def forward(self, tokens: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        h = self.embed(tokens)  # (B, N, D)
        return self.head(h + self.attn(h, positions))  # (B, N, vocab)
