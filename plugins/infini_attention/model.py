"""Infini-attention (Munkhdalai, Faruqui and Gopal 2024, arXiv 2404.07143): local causal attention inside a
segment plus a compressive memory of every earlier segment, mixed by a learnt gate per head.

A long input is read in segments of N tokens. Each head keeps an associative matrix M (d_k × d_v) and a
normaliser z (d_k), both of a fixed size however many segments have been read. For segment s, with
σ = ELU + 1 and the same Q, K, V the local attention uses (section 3.1):

    A_dot = softmax(Q Kᵀ / √d_k) V, causal within the segment                       (2)
    A_mem = σ(Q) M_{s−1} / σ(Q) z_{s−1}        retrieval, from the memory *before* this segment    (3)
    M_s = M_{s−1} + σ(K)ᵀ V,   z_s = z_{s−1} + Σ_t σ(K_t)                   linear update          (4)
    M_s = M_{s−1} + σ(K)ᵀ (V − σ(K) M_{s−1} / σ(K) z_{s−1})                 delta-rule update      (5)
    A = sigmoid(β) ⊙ A_mem + (1 − sigmoid(β)) ⊙ A_dot                        one scalar β per head  (6)
    O = [A¹; …; A^H] W_O                                                                             (7)

M_0 = 0 and z_0 = 0: the first segment retrieves nothing (0/0 is read as 0), and its delta-rule update is
the linear one. The paper scales eq. 2 by √d_model; this uses the per-head √d_k, as SDPA does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: The compressive memory of one layer: M (B, H, d_k, d_v) and z (B, H, d_k).
Memory = tuple[torch.Tensor, torch.Tensor]


def sigma(x: torch.Tensor) -> torch.Tensor:
    """σ(x) = ELU(x) + 1 > 0: the feature map of the linear attention the memory implements."""
    return F.elu(x) + 1.0


def retrieve(sq: torch.Tensor, M: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Eq. 3: σ(Q) M / σ(Q) z for σ(Q) (B, H, N, d_k) → (B, H, N, d_v). An empty memory (z = 0) gives 0."""
    numerator = sq @ M  # (B, H, N, d_v)
    denominator = sq @ z.unsqueeze(-1)  # (B, H, N, 1); > 0 once anything is stored, since σ > 0
    # An empty memory's 0/0 is read as 0/1. Dividing by a clamped tiny number gives the same 0 forward, but
    # a backward of gradient/tiny, which overflows to inf for a gradient above ~4, and then inf · M = NaN.
    return numerator / torch.where(denominator > 0, denominator, 1.0)


def update(sk: torch.Tensor, v: torch.Tensor, memory: Memory, delta: bool) -> Memory:
    """Eq. 4 (linear) or eq. 5 (delta rule) for one segment: σ(K) (B, H, N, d_k), V (B, H, N, d_v)."""
    M, z = memory
    if delta:
        v = v - retrieve(sk, M, z)  # store only what the memory does not already return for these keys
    return M + sk.transpose(-2, -1) @ v, z + sk.sum(dim=-2)  # (B, H, d_k, d_v), (B, H, d_k)


def empty_memory(q: torch.Tensor, d_v: int) -> Memory:
    """M_0 = 0 and z_0 = 0 for queries (B, H, ·, d_k), on their device and in their dtype."""
    B, H, _, d_k = q.shape
    return q.new_zeros(B, H, d_k, d_v), q.new_zeros(B, H, d_k)


def compressive_memory(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    segment: int,
    memory: Memory | None = None,
    delta: bool = False,
) -> tuple[torch.Tensor, Memory]:
    """A_mem for every position of q, k, v (B, H, T, d) read in segments of ``segment`` (the last one may
    be shorter), and the memory after the last segment: each segment retrieves from M_{s−1}, then stores."""
    memory = memory if memory is not None else empty_memory(q, v.shape[-1])
    out = []
    # One split, not a slice per segment: each slice's backward would write a gradient of the full length.
    for q_s, k_s, v_s in zip(*(t.split(segment, dim=-2) for t in (q, k, v)), strict=True):  # (B, H, ≤N, d)
        out.append(retrieve(sigma(q_s), *memory))  # eq. 3, before this segment is stored
        memory = update(sigma(k_s), v_s, memory, delta)  # eq. 4 or 5
    return torch.cat(out, dim=-2), memory  # (B, H, T, d_v)


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Eq. 2 for one segment: softmax(Q Kᵀ / √d_k) V with a causal mask, (..., N, d) → (..., N, d)."""
    N = q.shape[-2]
    scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5  # (..., N, N)
    future = torch.ones(N, N, dtype=torch.bool, device=q.device).triu(1)
    return scores.masked_fill(future, float("-inf")).softmax(dim=-1) @ v


def local_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, segment: int) -> torch.Tensor:
    """Eq. 2 in every segment at once: q, k, v (B, H, T, d) padded to S whole segments and viewed as
    (B, H, S, N, d). The padding follows the last real token, so the causal mask hides it."""
    B, H, T, _ = q.shape
    S = -(-T // segment)  # segments, the last one possibly short
    q, k, v = (F.pad(t, (0, 0, 0, S * segment - T)).view(B, H, S, segment, t.shape[-1]) for t in (q, k, v))
    return causal_attention(q, k, v).view(B, H, S * segment, -1)[..., :T, :]  # (B, H, T, d_v)


class InfiniAttention(nn.Module):
    """Multi-head Infini-attention over segments of ``segment`` tokens. ``use_memory=False`` is the
    ablation: A = A_dot, each segment on its own (the gate forced to local attention)."""

    def __init__(
        self, d_model: int, n_heads: int, segment: int, delta: bool = False, use_memory: bool = True
    ) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model {d_model} cannot be split into {n_heads} heads")
        self.n_heads, self.d_head, self.segment = n_heads, d_model // n_heads, segment
        self.delta, self.use_memory = delta, use_memory
        self.W_qkv = nn.Linear(d_model, 3 * d_model, bias=False)
        self.W_o = nn.Linear(d_model, d_model, bias=False)
        self.beta = nn.Parameter(torch.zeros(n_heads))  # eq. 6: sigmoid(0) = 1/2, memory and local alike

    def forward(self, x: torch.Tensor, memory: Memory | None = None) -> tuple[torch.Tensor, Memory | None]:
        """x (B, T, D), any T, read segment by segment after ``memory`` → (B, T, D) and the new memory.
        Each call starts a segment: a stream read in several calls must be cut at segment boundaries."""
        B, T, D = x.shape
        q, k, v = (
            t.view(B, T, self.n_heads, self.d_head).transpose(1, 2) for t in self.W_qkv(x).split(D, dim=-1)
        )  # (B, H, T, d)
        A_dot = local_attention(q, k, v, self.segment)  # (B, H, T, d): eq. 2
        if self.use_memory:
            A_mem, memory = compressive_memory(q, k, v, self.segment, memory, self.delta)  # eqs. 3–5
            gate = torch.sigmoid(self.beta).view(1, -1, 1, 1)  # (1, H, 1, 1)
            A = gate * A_mem + (1 - gate) * A_dot  # eq. 6
        else:
            A = A_dot
        return self.W_o(A.transpose(1, 2).reshape(B, T, D)), memory  # eq. 7


class Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int, segment: int, delta: bool, use_memory: bool) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = InfiniAttention(d_model, n_heads, segment, delta, use_memory)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x: torch.Tensor, memory: Memory | None) -> tuple[torch.Tensor, Memory | None]:
        a, memory = self.attn(self.norm1(x), memory)
        x = x + a
        return x + self.mlp(self.norm2(x)), memory


class InfiniTransformer(nn.Module):
    """A small causal LM of pre-norm Infini-attention blocks; no position embeddings (the memory has no
    positions, and local attention needs none for the passkey task)."""

    def __init__(
        self,
        vocab: int,
        d_model: int,
        n_heads: int,
        layers: int,
        segment: int,
        delta: bool = False,
        use_memory: bool = True,
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.blocks = nn.ModuleList(
            Block(d_model, n_heads, segment, delta, use_memory) for _ in range(layers)
        )
        self.norm, self.head = nn.LayerNorm(d_model), nn.Linear(d_model, vocab)

    def forward(
        self, tokens: torch.Tensor, memories: list[Memory | None] | None = None
    ) -> tuple[torch.Tensor, list[Memory | None]]:
        """Logits (B, T, vocab) for tokens (B, T) read after ``memories`` (one per layer), and the new ones:
        a stream can be read in any number of calls, holding only a fixed-size memory in between."""
        x = self.embed(tokens)  # (B, T, D)
        new: list[Memory | None] = []
        for n, block in enumerate(self.blocks):
            x, memory = block(x, memories[n] if memories else None)
            new.append(memory)
        return self.head(self.norm(x)), new
