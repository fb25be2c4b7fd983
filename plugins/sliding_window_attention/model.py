"""Sliding window attention and its rolling-buffer KV cache (Mistral 7B, Jiang et al. 2023, arXiv
2310.06825, section 2), as plain functions and a small causal model.

Each position i attends only the last W positions, itself included:

    j is visible from i  ⇔  i − W < j ≤ i                                     (the window, W = window)

(W keys, the ones a W-entry rolling buffer holds; the paper's text and reference mask keep W + 1,
i − W ≤ j ≤ i: see the plugin's page.)

It is computed in chunks of W queries, each against the 2W keys it can see, so time and memory are
O(N·W) instead of O(N²). One layer sees W tokens back; k stacked layers see k·(W − 1) + 1 positions
(information moves W − 1 positions per layer): the receptive field grows with depth at O(N·W) cost.
At inference, keys and values of position i are stored in slot i mod W of a fixed buffer of W entries
(the rolling buffer cache): memory stays W entries per layer whatever the sequence length, and decoding
equals the full masked computation.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def sliding_window_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int) -> torch.Tensor:
    """softmax(QKᵀ/√d + M)·V with the window mask M, in O(N·W) time and memory, never the N×N matrix.

    q, k, v: (..., N, d). Queries are cut into chunks of W; the keys any query of chunk c can see lie in
    chunks c − 1 and c, so each chunk attends 2W keys: (N/W) chunks × W queries × 2W keys."""
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    n, d, C = q.shape[-2], q.shape[-1], window
    pad = -n % C  # pad N up to a multiple of C
    chunks = (n + pad) // C
    q_chunks = F.pad(q, (0, 0, 0, pad)).unflatten(-2, (chunks, C))  # (..., chunks, C, d)
    # A chunk of zeros in front: chunk c's keys are padded rows [cC, cC + 2C), positions cC − C … cC + C − 1.
    k_padded, v_padded = (F.pad(t, (0, 0, C, pad)) for t in (k, v))  # (..., C + N + pad, d)
    k_chunks = k_padded.unfold(-2, 2 * C, C).transpose(-1, -2)  # (..., chunks, 2C, d)
    v_chunks = v_padded.unfold(-2, 2 * C, C).transpose(-1, -2)  # (..., chunks, 2C, d)
    scores = q_chunks @ k_chunks.transpose(-1, -2) / math.sqrt(d)  # (..., chunks, C, 2C)
    i = torch.arange(chunks * C, device=q.device).view(chunks, C, 1)  # query positions
    j = (
        torch.arange(chunks, device=q.device).view(chunks, 1, 1) * C
        - C
        + torch.arange(2 * C, device=q.device)
    )
    visible = (j <= i) & (j > i - window) & (j >= 0)  # (chunks, C, 2C); j < 0 is the zero padding
    scores = scores.masked_fill(~visible, float("-inf"))  # every row keeps its own position: no NaN
    out = scores.softmax(dim=-1) @ v_chunks  # (..., chunks, C, d)
    return out.flatten(-3, -2)[..., :n, :]  # (..., N, d)


class RollingKVCache:
    """Keys and values of the last ``window`` positions in a fixed (batch, heads, window, d) buffer: position
    i lives in slot i mod window, overwriting position i − window, which no later query can see."""

    def __init__(self, batch: int, heads: int, window: int, d: int, *, like: torch.Tensor) -> None:
        self.window = window
        self.k = like.new_zeros(batch, heads, window, d)
        self.v = like.new_zeros(batch, heads, window, d)
        self.filled = 0  # positions written so far

    def append(self, k: torch.Tensor, v: torch.Tensor) -> None:
        """Store one position's keys and values, (batch, heads, d) each."""
        slot = self.filled % self.window
        self.k[:, :, slot], self.v[:, :, slot] = k, v
        self.filled += 1

    def attend(self, q: torch.Tensor) -> torch.Tensor:
        """The newest position's attention over the cache: q (batch, heads, d) → (batch, heads, d). Slot order
        does not matter (softmax over a set); unfilled slots are left out."""
        used = min(self.filled, self.window)
        k, v = self.k[:, :, :used], self.v[:, :, :used]  # (B, H, used, d)
        scores = (k @ q.unsqueeze(-1)).squeeze(-1) / math.sqrt(q.shape[-1])  # (B, H, used)
        return (scores.softmax(dim=-1).unsqueeze(-2) @ v).squeeze(-2)


class Block(nn.Module):
    """Pre-norm transformer block whose multi-head attention is windowed."""

    def __init__(self, d_model: int, heads: int, window: int) -> None:
        super().__init__()
        self.heads, self.window = heads, window
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv, self.out = nn.Linear(d_model, 3 * d_model), nn.Linear(d_model, d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)  # (B, N, D) each
        q, k, v = (t.unflatten(-1, (self.heads, -1)).transpose(1, 2) for t in (q, k, v))  # (B, H, N, d)
        y = sliding_window_attention(q, k, v, self.window).transpose(1, 2).flatten(-2)  # (B, N, D)
        x = x + self.out(y)
        return x + self.mlp(self.norm2(x))


class WindowedLM(nn.Module):
    """Token and learned position embeddings, ``layers`` windowed blocks and a read-out: the smallest model
    in which depth can carry information past the window."""

    def __init__(
        self, vocab: int, max_len: int, window: int, layers: int, d_model: int = 32, heads: int = 2
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.position = nn.Embedding(max_len, d_model)
        self.blocks = nn.Sequential(*(Block(d_model, heads, window) for _ in range(layers)))
        self.head = nn.Linear(d_model, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.embed(tokens) + self.position(positions)  # (B, N, D)
        return self.head(self.blocks(x))  # (B, N, vocab)
