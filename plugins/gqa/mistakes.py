"""The classic mistake in grouped-query attention, for ``readtrack practice``: its check must catch it
(tests/test_practice.py)."""

from __future__ import annotations

import math

import torch

from readtrack.practice import mistake


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
