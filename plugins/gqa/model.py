"""Grouped-query attention (Ainslie et al. 2023, GQA, arXiv 2305.13245) and the uptraining conversion.

H query heads share G key/value heads: query head h reads KV head ⌊h / (H/G)⌋. G = H is multi-head
attention (MHA), G = 1 multi-query attention (MQA); in between, the KV cache shrinks by H/G while quality
stays near MHA's. A trained MHA checkpoint becomes a GQA one by mean-pooling the key and value projection
heads of each group (section 2.1), then training a little more ("uptraining", 5% of the original steps).

    head_h = softmax(Q_h K_g(h)ᵀ / √d) V_g(h),   g(h) = ⌊h · G / H⌋
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


def grouped_query_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False
) -> torch.Tensor:
    """q (B, H, N, d); k and v (B, G, N, d) with H a multiple of G → (B, H, N, d)."""
    H, G = q.shape[1], k.shape[1]
    if H % G:
        raise ValueError(f"{H} query heads cannot be split into groups over {G} key/value heads")
    k = k.repeat_interleave(H // G, dim=1)  # (B, H, N, d): heads h = g·H/G … (g+1)·H/G − 1 read KV head g
    v = v.repeat_interleave(H // G, dim=1)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, H, N, N)
    if causal:
        n_q, n_k = q.shape[-2], k.shape[-2]
        future = torch.ones(n_q, n_k, dtype=torch.bool, device=q.device).triu(n_k - n_q + 1)
        scores = scores.masked_fill(future, float("-inf"))
    return scores.softmax(dim=-1) @ v  # (B, H, N, d)


@dataclass(frozen=True)
class KVCache:
    """What incremental decoding keeps per layer: the keys and values of the G KV heads for every token so
    far. GQA's saving is here: G heads are stored, not the H that the queries read."""

    k: torch.Tensor  # (B, G, t, d)
    v: torch.Tensor  # (B, G, t, d)

    def nbytes(self) -> int:
        """Bytes the cache's tensors hold in memory: their storage, so a cache of expanded views and one of
        real copies are told apart."""
        return sum(t.untyped_storage().nbytes() for t in (self.k, self.v))


class GroupedQueryAttention(nn.Module):
    """Self-attention with ``n_heads`` query heads and ``n_kv_heads`` key/value heads, no biases."""

    def __init__(self, d_model: int, n_heads: int, n_kv_heads: int) -> None:
        super().__init__()
        if d_model % n_heads or n_heads % n_kv_heads:
            raise ValueError(f"d_model {d_model}, {n_heads} heads and {n_kv_heads} KV heads do not divide")
        self.n_heads, self.n_kv_heads, self.d_head = n_heads, n_kv_heads, d_model // n_heads
        self.W_q = nn.Linear(d_model, d_model, bias=False)
        self.W_k = nn.Linear(d_model, n_kv_heads * self.d_head, bias=False)  # G heads, not H
        self.W_v = nn.Linear(d_model, n_kv_heads * self.d_head, bias=False)
        self.W_o = nn.Linear(d_model, d_model, bias=False)

    def forward(self, x: torch.Tensor, causal: bool = True) -> torch.Tensor:
        B, N, _ = x.shape
        q = self.W_q(x).view(B, N, self.n_heads, self.d_head).transpose(1, 2)  # (B, H, N, d)
        k = self.W_k(x).view(B, N, self.n_kv_heads, self.d_head).transpose(1, 2)  # (B, G, N, d): the cache
        v = self.W_v(x).view(B, N, self.n_kv_heads, self.d_head).transpose(1, 2)
        y = grouped_query_attention(q, k, v, causal)  # (B, H, N, d)
        return self.W_o(y.transpose(1, 2).reshape(B, N, -1))

    def decode_step(self, x_t: torch.Tensor, cache: KVCache | None = None) -> tuple[torch.Tensor, KVCache]:
        """One step of incremental decoding: x_t (B, 1, D) is the newest token; only it is projected, its key
        and value (G heads) are appended to ``cache``, and its query attends over every cached key (no mask
        needed: nothing later is in the cache). Returns the output (B, 1, D) and the longer cache."""
        B = x_t.shape[0]
        q = self.W_q(x_t).view(B, 1, self.n_heads, self.d_head).transpose(1, 2)  # (B, H, 1, d)
        k = self.W_k(x_t).view(B, 1, self.n_kv_heads, self.d_head).transpose(1, 2)  # (B, G, 1, d)
        v = self.W_v(x_t).view(B, 1, self.n_kv_heads, self.d_head).transpose(1, 2)
        if cache is not None:
            k, v = torch.cat([cache.k, k], dim=2), torch.cat([cache.v, v], dim=2)  # (B, G, t + 1, d)
        y = grouped_query_attention(q, k, v)  # (B, H, 1, d)
        return self.W_o(y.transpose(1, 2).reshape(B, 1, -1)), KVCache(k, v)

    def kv_cache_elements(self, batch: int, length: int) -> int:
        """Numbers a decoder keeps per layer for ``length`` tokens: keys and values of G heads."""
        return 2 * batch * length * self.n_kv_heads * self.d_head


def mean_pool_kv_heads(mha: GroupedQueryAttention, n_kv_heads: int) -> GroupedQueryAttention:
    """The uptraining conversion (section 2.1): a GQA layer whose key and value projections are the means of
    the original heads in each group; queries and output are copied."""
    d_model = mha.W_q.in_features
    gqa = GroupedQueryAttention(d_model, mha.n_heads, n_kv_heads).to(mha.W_q.weight)
    group = mha.n_kv_heads // n_kv_heads
    with torch.no_grad():
        gqa.W_q.weight.copy_(mha.W_q.weight)
        gqa.W_o.weight.copy_(mha.W_o.weight)
        for src, dst in ((mha.W_k, gqa.W_k), (mha.W_v, gqa.W_v)):
            heads = src.weight.view(n_kv_heads, group, mha.d_head, d_model)  # (G, heads per group, d, D)
            dst.weight.copy_(heads.mean(dim=1).reshape(-1, d_model))
    return gqa


class Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int, n_kv_heads: int) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = GroupedQueryAttention(d_model, n_heads, n_kv_heads)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class LanguageModel(nn.Module):
    """A small causal LM: token and position embeddings, pre-norm GQA blocks, a read-out."""

    def __init__(self, vocab: int, max_len: int, d_model: int, n_heads: int, n_kv_heads: int, layers: int):
        super().__init__()
        self.embed, self.position = nn.Embedding(vocab, d_model), nn.Embedding(max_len, d_model)
        self.blocks = nn.Sequential(*(Block(d_model, n_heads, n_kv_heads) for _ in range(layers)))
        self.norm, self.head = nn.LayerNorm(d_model), nn.Linear(d_model, vocab)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.blocks(self.embed(tokens) + self.position(positions))  # (B, N, D)
        return self.head(self.norm(x))  # (B, N, vocab)
