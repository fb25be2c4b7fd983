"""The classic mistakes in the Transformer, for ``readtrack practice``: its check must catch them
(tests/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.practice import mistake


@mistake("scaled_dot_product_attention", fails="eq. 1 attention vs torch SDPA, no mask")
def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> torch.Tensor:
    """No 1/√d_k: the dot products grow with d_k and push the softmax into its flat, saturated regions."""
    if is_causal and attn_mask is not None:
        raise ValueError("pass either attn_mask or is_causal, not both")
    scores = q @ k.transpose(-2, -1) * (1.0 if scale is None else scale)
    if is_causal:
        L, S = scores.shape[-2], scores.shape[-1]
        attn_mask = torch.ones(L, S, dtype=torch.bool, device=q.device).tril()
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attn_mask, float("-inf"))
        else:
            scores = scores + attn_mask
    return torch.softmax(scores, dim=-1) @ v


@mistake("sinusoidal_positions", fails="sinusoidal positions vs sin/cos written out per entry, d_model = 64")
def sinusoidal_positions(max_len: int, d_model: int) -> torch.Tensor:
    """All the sines in the first half of the columns and the cosines in the second (concatenated, as
    some implementations do), not interleaved as in section 3.5."""
    pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)
    angle = pos / 10000 ** (two_i / d_model)
    return torch.cat([torch.sin(angle), torch.cos(angle[:, : d_model // 2])], dim=1)
