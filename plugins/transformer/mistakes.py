"""The classic mistakes in the Transformer, for ``readtrack practice``: its check must catch them
(tests/practice/test_practice.py)."""

from __future__ import annotations

import math

import torch

from readtrack.api import mistake


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


def _attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None,
    is_causal: bool,
    scale: float,
) -> torch.Tensor:
    """Eq. 1 with the masks, at the scale given."""
    scores = q @ k.transpose(-2, -1) * scale
    if is_causal:
        attn_mask = torch.ones(scores.shape[-2], scores.shape[-1], dtype=torch.bool, device=q.device).tril()
    if attn_mask is not None and attn_mask.dtype == torch.bool:
        scores = scores.masked_fill(~attn_mask, float("-inf"))
    elif attn_mask is not None:
        scores = scores + attn_mask
    return torch.softmax(scores, dim=-1) @ v


@mistake("scaled_dot_product_attention", fails="eq. 1 attention vs torch SDPA, d_v = 5 ≠ d_k = 8")
def scaled_dot_product_attention_scaled_by_d_v(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> torch.Tensor:
    """Takes d_k from v's last dimension: right whenever d_v = d_k, as in most models, wrong otherwise."""
    if is_causal and attn_mask is not None:
        raise ValueError("pass either attn_mask or is_causal, not both")
    return _attention(q, k, v, attn_mask, is_causal, scale or 1 / math.sqrt(v.shape[-1]))


@mistake("scaled_dot_product_attention", fails="eq. 1 attention vs torch SDPA, scale = 0.3 given")
def scaled_dot_product_attention_ignoring_scale(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> torch.Tensor:
    """Always divides by √d_k: the scale argument, when given, is ignored."""
    if is_causal and attn_mask is not None:
        raise ValueError("pass either attn_mask or is_causal, not both")
    return _attention(q, k, v, attn_mask, is_causal, 1 / math.sqrt(q.shape[-1]))


@mistake("scaled_dot_product_attention", fails="attn_mask and is_causal at once raise ValueError")
def scaled_dot_product_attention_with_both_masks(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
) -> torch.Tensor:
    """Accepts attn_mask and is_causal together and silently drops attn_mask for the causal one."""
    return _attention(q, k, v, attn_mask, is_causal, scale or 1 / math.sqrt(q.shape[-1]))


@mistake("sinusoidal_positions", fails="sinusoidal positions are float64")
def sinusoidal_positions_in_float32(max_len: int, d_model: int) -> torch.Tensor:
    """The right table in torch's default float32, not float64: close at float32's tolerance, but the
    fixed rotation PE(pos + k) = M·PE(pos) then holds only to float32's rounding."""
    pos = torch.arange(max_len).unsqueeze(1)
    two_i = torch.arange(0, d_model, 2)
    angle = pos / 10000 ** (two_i / d_model)
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return pe
