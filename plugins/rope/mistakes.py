"""Classic mistakes in RoPE, for ``readtrack practice``: its check must catch each
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake

from .model import rotary_angles


@mistake("apply_rotary", fails="eq. 34 vs the complex form")
def apply_rotary(x: torch.Tensor, positions: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """Rotates the halves (x_i, x_i+d/2), GPT-NeoX's "rotate_half", not the paper's adjacent pairs."""
    d = x.shape[-1]
    angles = rotary_angles(positions, d, base)  # (..., N, d/2)
    cos = torch.cat([angles.cos(), angles.cos()], dim=-1).to(x.dtype)  # (..., N, d)
    sin = torch.cat([angles.sin(), angles.sin()], dim=-1).to(x.dtype)
    first, second = x[..., : d // 2], x[..., d // 2 :]
    rotated = torch.cat([-second, first], dim=-1)
    return x * cos + rotated * sin


def _rotate_pairs(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Eq. 34 on adjacent pairs with cos and sin already (..., N, d)."""
    pairs = x.unflatten(-1, (x.shape[-1] // 2, 2))
    rotated = torch.stack([-pairs[..., 1], pairs[..., 0]], dim=-1).flatten(-2)
    return x * cos + rotated * sin


@mistake("apply_rotary", fails="θ_i = base^(−2i/d) with the base given")
def apply_rotary_at_the_default_base(
    x: torch.Tensor, positions: torch.Tensor, base: float = 10000.0
) -> torch.Tensor:
    """Ignores the base argument: θ_i = 10000^(−2i/d) whatever base is asked for."""
    d = x.shape[-1]
    if d % 2:
        raise ValueError(f"rotary embedding needs an even head dimension, got {d}")
    angles = rotary_angles(positions, d, 10000.0)
    cos = angles.cos().repeat_interleave(2, dim=-1).to(x.dtype)
    sin = angles.sin().repeat_interleave(2, dim=-1).to(x.dtype)
    return _rotate_pairs(x, cos, sin)


@mistake("apply_rotary", fails="returns x's dtype")
def apply_rotary_in_float64(x: torch.Tensor, positions: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """Never casts cos and sin to x's dtype: the float64 angles promote a float32 x to a float64 output."""
    d = x.shape[-1]
    if d % 2:
        raise ValueError(f"rotary embedding needs an even head dimension, got {d}")
    angles = rotary_angles(positions, d, base)
    cos, sin = angles.cos().repeat_interleave(2, dim=-1), angles.sin().repeat_interleave(2, dim=-1)
    return _rotate_pairs(x, cos, sin)


@mistake("apply_rotary", fails="an odd d (7) raises ValueError")
def apply_rotary_for_any_d(x: torch.Tensor, positions: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """No check of d: an odd d fails inside a reshape with a RuntimeError instead of a ValueError."""
    d = x.shape[-1]
    angles = rotary_angles(positions, d, base)
    cos = angles.cos().repeat_interleave(2, dim=-1).to(x.dtype)
    sin = angles.sin().repeat_interleave(2, dim=-1).to(x.dtype)
    return _rotate_pairs(x, cos, sin)
