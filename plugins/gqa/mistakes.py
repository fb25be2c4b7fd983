"""Classic mistakes in grouped-query attention, for ``readtrack practice``: its check must catch each
(tests/practice/test_practice.py)."""

from __future__ import annotations

import math

import torch

from readtrack.api import mistake


@mistake("grouped_query_attention", fails="GQA vs SDPA enable_gqa")
def grouped_query_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False
) -> torch.Tensor:
    """Tiles the KV heads (0, 1, 0, 1, …: repeat) instead of interleaving them (0, 0, 1, 1, …)."""
    H, G = q.shape[1], k.shape[1]
    k = k.repeat(1, H // G, 1, 1)
    v = v.repeat(1, H // G, 1, 1)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        n_q, n_k = q.shape[-2], k.shape[-2]
        future = torch.ones(n_q, n_k, dtype=torch.bool, device=q.device).triu(n_k - n_q + 1)
        scores = scores.masked_fill(future, float("-inf"))
    return scores.softmax(dim=-1) @ v


@mistake("grouped_query_attention", fails="GQA vs SDPA, 2 queries over 5 keys, causal")
def causal_mask_counted_from_the_start(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False
) -> torch.Tensor:
    """Aligns the causal mask top-left (query i sees keys 0 … i, as SDPA's is_causal does) instead of counting
    it from the end: with fewer queries than keys (decoding with a cache) the last query misses the newest
    keys. With as many queries as keys the two agree."""
    H, G = q.shape[1], k.shape[1]
    if H % G:
        raise ValueError(f"{H} query heads cannot be split into groups over {G} key/value heads")
    k = k.repeat_interleave(H // G, dim=1)
    v = v.repeat_interleave(H // G, dim=1)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        n_q, n_k = q.shape[-2], k.shape[-2]
        future = torch.ones(n_q, n_k, dtype=torch.bool, device=q.device).triu(1)
        scores = scores.masked_fill(future, float("-inf"))
    return scores.softmax(dim=-1) @ v


@mistake("grouped_query_attention", fails="8 query heads over 3 KV heads (not a multiple) raise ValueError")
def no_value_error_for_a_grouping_that_does_not_divide(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool = False
) -> torch.Tensor:
    """Never checks that H is a multiple of G: 8 query heads over 3 KV heads repeat each KV head 8 // 3 = 2
    times, and the matmul of 8 heads with 6 fails with a RuntimeError about sizes, not the ValueError the
    statement asks for."""
    H, G = q.shape[1], k.shape[1]
    k = k.repeat_interleave(H // G, dim=1)
    v = v.repeat_interleave(H // G, dim=1)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        n_q, n_k = q.shape[-2], k.shape[-2]
        future = torch.ones(n_q, n_k, dtype=torch.bool, device=q.device).triu(n_k - n_q + 1)
        scores = scores.masked_fill(future, float("-inf"))
    return scores.softmax(dim=-1) @ v
