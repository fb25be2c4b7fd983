"""The classic mistake in RoPE, for ``readtrack practice``:
its check must catch it (tests/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.practice import mistake

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
