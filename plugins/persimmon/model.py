"""The Persimmon-8B block (Adept, "Releasing Persimmon-8B", 2023), like nanoGPT.

Three of the release's architecture choices, in a pre-LN decoder block:

    squared ReLU           MLP(x) = W₂ ReLU(W₁ x)²                              (So et al. 2021, Primer)
    partial rotary         RoPE on the first half of each head's dimensions, the rest unrotated
    QK layer norm          q̂ = LN_q(q), k̂ = LN_k(k) per head (learned scale and shift), then
                           softmax(q̂ k̂ᵀ / √d) v                                 (Dehghani et al. 2023)

``qk_norm=False`` builds the same block without the two layer norms, for the A/B.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def squared_relu(x: torch.Tensor) -> torch.Tensor:
    return F.relu(x).square()


def partial_rotary(x: torch.Tensor, fraction: float = 0.5) -> torch.Tensor:
    """RoPE on the first ``fraction`` of the last dimension of x (..., N, d) at positions 0 … N−1: pairs
    (x_2i, x_2i+1) of that part rotated by n·10000^(−2i/r), r = fraction·d; the rest passes unchanged."""
    n, d = x.shape[-2], x.shape[-1]
    r = int(d * fraction) // 2 * 2  # the rotated width, even
    theta = 10000.0 ** (-torch.arange(0, r, 2, dtype=torch.float64) / r)  # (r/2,)
    angles = torch.arange(n, dtype=torch.float64)[:, None] * theta  # (N, r/2), float64 on the CPU
    cos = angles.cos().repeat_interleave(2, dim=-1).to(x.device, x.dtype)  # (N, r)
    sin = angles.sin().repeat_interleave(2, dim=-1).to(x.device, x.dtype)
    x_rot, x_pass = x[..., :r], x[..., r:]
    pairs = x_rot.unflatten(-1, (r // 2, 2))
    turned = torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).flatten(-2)  # (−x_1, x_0, −x_3, x_2, …)
    return torch.cat((x_rot * cos + turned * sin, x_pass), dim=-1)


class Attention(nn.Module):
    """Causal multi-head attention, QK layer norm optional; ``max_logit``: the largest |logit| computed."""

    def __init__(self, d_model: int, n_heads: int, qk_norm: bool = True) -> None:
        super().__init__()
        self.n_heads, self.d_head = n_heads, d_model // n_heads
        self.W_qkv = nn.Linear(d_model, 3 * d_model)
        self.W_o = nn.Linear(d_model, d_model)
        self.q_norm = nn.LayerNorm(self.d_head) if qk_norm else None
        self.k_norm = nn.LayerNorm(self.d_head) if qk_norm else None
        self.max_logit = 0.0

    def logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(q̂ k̂ᵀ / √d before the mask (B, H, N, N), v (B, H, N, d)) for x (B, N, D)."""
        B, N, _ = x.shape
        q, k, v = (
            self.W_qkv(x).view(B, N, 3, self.n_heads, self.d_head).permute(2, 0, 3, 1, 4)
        )  # (B, H, N, d)
        if self.q_norm is not None and self.k_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)
        q, k = partial_rotary(q), partial_rotary(k)
        return q @ k.transpose(-2, -1) / math.sqrt(self.d_head), v

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, D = x.shape
        scores, v = self.logits(x)
        self.max_logit = max(self.max_logit, scores.detach().abs().max().item())
        future = torch.ones(N, N, dtype=torch.bool, device=x.device).triu(1)
        y = scores.masked_fill(future, float("-inf")).softmax(dim=-1) @ v  # (B, H, N, d)
        return self.W_o(y.transpose(1, 2).reshape(B, N, D))


class Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int, qk_norm: bool = True) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = Attention(d_model, n_heads, qk_norm)
        self.W_1, self.W_2 = nn.Linear(d_model, 4 * d_model), nn.Linear(4 * d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.W_2(squared_relu(self.W_1(self.norm2(x))))


class LanguageModel(nn.Module):
    """Token embedding (positions come from the partial rotary), blocks, a final LN, an untied read-out."""

    def __init__(self, vocab: int, d_model: int, n_heads: int, layers: int, qk_norm: bool = True) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, qk_norm) for _ in range(layers))
        self.norm, self.head = nn.LayerNorm(d_model), nn.Linear(d_model, vocab, bias=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:  # (B, N) → (B, N, vocab)
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))

    def max_logit(self) -> float:
        """The largest |attention logit| any layer has computed since the model was built."""
        return max(block.attn.max_logit for block in self.blocks if isinstance(block, Block))
