"""Classic mistakes in Longformer's sliding chunks, for ``readtrack practice``: the check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake


@mistake("chunk_window_mask", fails="Longformer vs SDPA with the dense mask, window only, N = 37")
def chunk_window_mask(n_chunks: int, c: int, window: int, N: int, device: torch.device) -> torch.Tensor:
    """The window off by one: |i − j| < w, so each position sees w − 1 neighbours a side, not w."""
    i = torch.arange(n_chunks * c, device=device).view(n_chunks, c, 1)
    j = (torch.arange(n_chunks, device=device) * c - c).view(n_chunks, 1, 1) + torch.arange(
        3 * c, device=device
    )
    return ((i - j).abs() < window) & (j >= 0) & (j < N)


@mistake("chunk_window_mask", fails="Longformer vs SDPA with the dense mask, window only, one token")
def chunk_window_mask_with_padding(
    n_chunks: int, c: int, window: int, N: int, device: torch.device
) -> torch.Tensor:
    """Only the window, not the bounds: the zero padding before the first chunk and after the last is
    attended as if it were keys (score 0, value 0), diluting the rows near the ends."""
    i = torch.arange(n_chunks * c, device=device).view(n_chunks, c, 1)
    j = (torch.arange(n_chunks, device=device) * c - c).view(n_chunks, 1, 1) + torch.arange(
        3 * c, device=device
    )
    return (i - j).abs() <= window
