"""The PaLM block (Chowdhery et al. 2022, arXiv 2204.02311, section 2 "Model Architecture"), like nanoGPT.

A decoder-only Transformer with the paper's six changes to the standard block:

    SwiGLU MLP             MLP(x) = (Swish(x W) ⊙ x V) W₂                       (Shazeer 2020)
    parallel layers        y = x + MLP(LN(x)) + Attention(LN(x))                 instead of the serial
                           x' = x + Attention(LN(x)),  y = x' + MLP(LN(x'))     (the paper's formula
                           for it, y = x + MLP(LN(x + Attention(LN(x)))), drops the attention residual)
    multi-query attention  K and V are one head of size d_head, shared by all H query heads
    RoPE                   queries and keys rotated by their position (Su et al. 2021)
    shared embeddings      the output logits are h Eᵀ with E the input embedding
    no biases              in any dense layer or layer norm

In the parallel block the attention's and the MLP's input projections read the same LN(x), so they are one
matmul (``W_in``); the paper credits this fusion with ~15% faster training at large scale. ``serial=True``
builds the standard block with the same layers for the A/B.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def swiglu(x: torch.Tensor, W: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """Swish(x W) ⊙ (x V), with Swish = SiLU (β = 1): (..., D) → (..., F)."""
    return F.silu(x @ W) * (x @ V)


def rotary(x: torch.Tensor) -> torch.Tensor:
    """RoPE on x (B, heads, N, d) at positions 0 … N−1: pairs (x_2i, x_2i+1) rotated by n·10000^(−2i/d).
    Angles in float64 on the CPU (every device has it there), then cast: long positions keep their phase."""
    n, d = x.shape[-2], x.shape[-1]
    theta = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # (d/2,)
    angles = torch.arange(n, dtype=torch.float64)[:, None] * theta  # (N, d/2)
    cos = angles.cos().repeat_interleave(2, dim=-1).to(x.device, x.dtype)  # (N, d)
    sin = angles.sin().repeat_interleave(2, dim=-1).to(x.device, x.dtype)
    x_pairs = x.unflatten(-1, (d // 2, 2))  # (..., N, d/2, 2)
    rotated = torch.stack((-x_pairs[..., 1], x_pairs[..., 0]), dim=-1).flatten(
        -2
    )  # (−x_1, x_0, −x_3, x_2, …)
    return x * cos + rotated * sin


def multi_query_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Causal attention of q (B, H, N, d) over one shared key/value head k, v (B, 1, N, d) → (B, H, N, d)."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, H, N, N): k broadcasts over heads
    n = q.shape[-2]
    future = torch.ones(n, n, dtype=torch.bool, device=q.device).triu(1)
    return scores.masked_fill(future, float("-inf")).softmax(dim=-1) @ v  # v broadcasts too


class PaLMBlock(nn.Module):
    """One layer: parallel (PaLM) or serial (the standard pre-LN block) around the same sublayers."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, serial: bool = False) -> None:
        super().__init__()
        self.n_heads, self.d_head, self.d_ff, self.serial = n_heads, d_model // n_heads, d_ff, serial
        # Q (H heads), K and V (one head each), then the MLP's W and V: one fused input projection
        self.splits = (d_model, self.d_head, self.d_head, d_ff, d_ff)
        self.norm = nn.LayerNorm(d_model, bias=False)
        self.W_in = nn.Linear(d_model, sum(self.splits), bias=False)
        self.W_o = nn.Linear(d_model, d_model, bias=False)  # attention output
        self.W_2 = nn.Linear(d_ff, d_model, bias=False)  # MLP output
        self.norm_mlp = nn.LayerNorm(d_model, bias=False) if serial else None  # the serial block's second LN

    def attention(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """q (B, N, D), k and v (B, N, d_head) → (B, N, D)."""
        B, N, D = q.shape
        q = rotary(q.view(B, N, self.n_heads, self.d_head).transpose(1, 2))  # (B, H, N, d)
        k = rotary(k.unsqueeze(1))  # (B, 1, N, d): the one key head, rotated like the queries
        y = multi_query_attention(q, k, v.unsqueeze(1))  # (B, H, N, d)
        return self.W_o(y.transpose(1, 2).reshape(B, N, D))

    def mlp(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """SwiGLU from the two halves of its input projection: (B, N, F) each → (B, N, D)."""
        return self.W_2(F.silu(a) * b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.serial:  # y = x + MLP(LN(x)) + Attention(LN(x)), one matmul for both inputs
            q, k, v, a, b = self.W_in(self.norm(x)).split(self.splits, dim=-1)
            return x + self.attention(q, k, v) + self.mlp(a, b)
        assert self.norm_mlp is not None
        D, d = self.splits[0], self.d_head
        W_attn, W_mlp = self.W_in.weight.split((D + 2 * d, 2 * self.d_ff))  # the same weights, two matmuls
        q, k, v = F.linear(self.norm(x), W_attn).split((D, d, d), dim=-1)
        x = x + self.attention(q, k, v)
        a, b = F.linear(self.norm_mlp(x), W_mlp).split((self.d_ff, self.d_ff), dim=-1)
        return x + self.mlp(a, b)

    def kv_cache_elements(self, batch: int, length: int) -> int:
        """Numbers a decoder keeps per layer for ``length`` tokens: one key and one value head (MQA)."""
        return 2 * batch * length * self.d_head


class PaLM(nn.Module):
    """Token embedding E (no position embedding: RoPE), blocks, a final LN, logits LN(h) Eᵀ."""

    def __init__(
        self,
        vocab: int,
        d_model: int,
        n_heads: int,
        layers: int,
        d_ff: int | None = None,
        serial: bool = False,
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        # E ~ N(0, 1/D), not the paper's N(0, 1): with tied weights, unit-variance embeddings dominate a small
        # model's residual stream and each token's own logit starts near √D (see the plugin's page)
        nn.init.normal_(self.embed.weight, std=d_model**-0.5)
        d_ff = d_ff or 4 * d_model
        self.blocks = nn.ModuleList(PaLMBlock(d_model, n_heads, d_ff, serial) for _ in range(layers))
        self.norm = nn.LayerNorm(d_model, bias=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:  # (B, N) → logits (B, N, vocab)
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x)
        return self.norm(x) @ self.embed.weight.T  # shared input-output embeddings
