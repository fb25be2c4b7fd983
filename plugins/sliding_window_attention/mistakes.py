"""Classic mistakes in sliding window attention, for ``readtrack practice``: its check must catch each
(tests/practice/test_practice.py)."""

from __future__ import annotations

import math

import torch

from readtrack.api import mistake


@mistake("sliding_window_attention", fails="windowed attention vs SDPA with a band mask")
def sliding_window_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int) -> torch.Tensor:
    """The window off by one: i − W ≤ j ≤ i sees W + 1 keys, not the plugin's W."""
    n = q.shape[-2]
    i = torch.arange(n, device=q.device).view(n, 1)
    j = torch.arange(n, device=q.device).view(1, n)
    visible = (j <= i) & (j >= i - window)
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    return scores.masked_fill(~visible, float("-inf")).softmax(dim=-1) @ v


@mistake("sliding_window_attention", fails="a window W < 1 (0) raises ValueError")
def sliding_window_attention_for_any_window(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int
) -> torch.Tensor:
    """No check of W: with W = 0 every key is masked, and each row's softmax over −inf alone is NaN."""
    n = q.shape[-2]
    i = torch.arange(n, device=q.device).view(n, 1)
    j = torch.arange(n, device=q.device).view(1, n)
    visible = (j <= i) & (j > i - window)
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    return scores.masked_fill(~visible, float("-inf")).softmax(dim=-1) @ v
