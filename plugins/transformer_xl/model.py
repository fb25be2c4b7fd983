"""Transformer-XL (Dai et al. 2019, arXiv 1901.02860): segment-level recurrence with relative positions.

A long text is read in segments of L tokens. Each layer keeps the hidden states it saw for the previous
segment as a memory of M states, with the gradient stopped (SG), and its keys and values come from
[memory; segment] while its queries come from the segment alone (section 3.2):

    h̃ = [SG(m) ∘ h],   q = h W_q,   k = h̃ W_k,E,   v = h̃ W_v

Absolute positions would collide across segments, so the score of query i and key j uses their distance
i − j through a sinusoid R_{i−j} and two learnt biases u and v (section 3.3, the (a)+(c) and (b)+(d) terms):

    A_ij = (q_i + u)ᵀ k_j  +  (q_i + v)ᵀ W_k,R R_{i−j}
              "AC": content        "BD": position

BD is computed for every distance at once, as a (L, M + L) matrix indexed by distance, then moved into
(query, key) order by the *relative shift* (pad one column, reshape, drop a row) instead of a gather.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def sinusoid(distances: torch.Tensor, d: int) -> torch.Tensor:
    """R for each distance (P,) → (P, d): [sin(p·ω), cos(p·ω)] with ω_k = 10000^(−2k/d), in float64 (the
    caller casts it to its dtype, so a float64 model gets float64 positions)."""
    omega = 1.0 / 10000 ** (torch.arange(0, d, 2, device=distances.device, dtype=torch.float64) / d)
    angle = distances.to(torch.float64).unsqueeze(1) * omega  # (P, d/2)
    return torch.cat([angle.sin(), angle.cos()], dim=-1)


def rel_shift(x: torch.Tensor) -> torch.Tensor:
    """Scores indexed by (query i, column c), where column c holds distance P − 1 − c, into scores indexed
    by (query i, key j): out[..., i, j] = x[..., i, j + L − 1 − i] wherever key j is visible from query i
    (j ≤ i + P − L); the other entries are meaningless and must be masked."""
    *lead, L, P = x.shape
    padded = torch.cat([x.new_zeros(*lead, L, 1), x], dim=-1)  # (..., L, P + 1)
    return padded.view(*lead, P + 1, L)[..., 1:, :].reshape(*lead, L, P)


class RelativeAttention(nn.Module):
    """Multi-head attention over [memory; segment] with relative positional scores."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads, self.d_head = n_heads, d_model // n_heads
        self.W_qkv = nn.Linear(d_model, 3 * d_model, bias=False)
        self.W_r = nn.Linear(d_model, d_model, bias=False)  # W_k,R: positions get their own key projection
        self.W_o = nn.Linear(d_model, d_model, bias=False)
        self.u = nn.Parameter(torch.zeros(n_heads, self.d_head))  # the content bias of term (c)
        self.v = nn.Parameter(torch.zeros(n_heads, self.d_head))  # the position bias of term (d)

    def scores(self, h: torch.Tensor, memory: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The masked scores (B, H, L, P) and the values (B, H, P, d) for segment h (B, L, D)."""
        B, L, D = h.shape
        full = h if memory is None else torch.cat([memory, h], dim=1)  # h̃: (B, P, D), P = M + L
        P = full.shape[1]
        q = self.W_qkv(h)[..., :D]  # queries from the segment only
        _, k, v = self.W_qkv(full).split(D, dim=-1)  # keys and values from memory and segment
        q, k, v = (
            t.view(B, -1, self.n_heads, self.d_head).transpose(1, 2) for t in (q, k, v)
        )  # (B, H, ·, d)
        R = sinusoid(torch.arange(P - 1, -1, -1, device=h.device), D).to(h.dtype)  # distances P−1 … 0
        r = self.W_r(R).view(P, self.n_heads, self.d_head).transpose(0, 1)  # (H, P, d)
        AC = (q + self.u[:, None]) @ k.transpose(-2, -1)  # (B, H, L, P): terms (a) + (c)
        BD = rel_shift((q + self.v[:, None]) @ r.transpose(-2, -1))  # (B, H, L, P): terms (b) + (d)
        scores = (AC + BD) / math.sqrt(self.d_head)
        i, j = torch.arange(L, device=h.device).unsqueeze(1), torch.arange(P, device=h.device)
        return scores.masked_fill(j > i + (P - L), float("-inf")), v  # causal over memory and segment

    def forward(self, h: torch.Tensor, memory: torch.Tensor | None) -> torch.Tensor:
        scores, v = self.scores(h, memory)
        y = scores.softmax(dim=-1) @ v  # (B, H, L, d)
        return self.W_o(y.transpose(1, 2).flatten(2))


class Layer(nn.Module):
    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.attn = RelativeAttention(d_model, n_heads)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.ReLU(), nn.Linear(4 * d_model, d_model))

    def forward(self, h: torch.Tensor, memory: torch.Tensor | None) -> torch.Tensor:
        h = self.norm1(h + self.attn(h, memory))  # post-norm, as the paper's code
        return self.norm2(h + self.ff(h))


class TransformerXL(nn.Module):
    """A language model read segment by segment; ``memory_len`` = 0 turns the recurrence off."""

    def __init__(self, vocab: int, d_model: int, n_heads: int, layers: int, memory_len: int) -> None:
        super().__init__()
        self.memory_len = memory_len
        self.embed = nn.Embedding(vocab, d_model)
        self.layers = nn.ModuleList(Layer(d_model, n_heads) for _ in range(layers))
        self.head = nn.Linear(d_model, vocab)

    def forward(
        self, segment: torch.Tensor, memories: list[torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits for one segment (B, L) and the next memories: each layer's input states, last M kept,
        detached (SG): gradients never flow into the previous segment."""
        h = self.embed(segment)  # (B, L, D)
        new_memories = []
        for n, layer in enumerate(self.layers):
            memory = memories[n] if memories else None
            if self.memory_len:
                seen = h if memory is None else torch.cat([memory, h], dim=1)
                new_memories.append(seen[:, -self.memory_len :].detach())
            h = layer(h, memory if self.memory_len else None)
        return self.head(h), new_memories
