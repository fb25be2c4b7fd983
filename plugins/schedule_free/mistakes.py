"""Classic mistakes in Schedule-Free AdamW, for ``readtrack practice``: its check must catch each
(tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake


@mistake("schedule_free_update", fails="train-mode params y vs written-out reference")
def schedule_free_update(
    y: torch.Tensor,
    z: torch.Tensor,
    x: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    t: int,
    lr_t: float,
    c: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The interpolation weights swapped, y = β1 z + (1 − β1) x: the gradient is taken near the base
    iterate z (momentum 0.1 instead of 0.9), not near the average x."""
    v = beta2 * v + (1 - beta2) * g * g
    v_hat = v / (1 - beta2**t)
    d = g / (v_hat.sqrt() + eps) + weight_decay * y
    z = z - lr_t * d
    x = (1 - c) * x + c * z
    y = beta1 * z + (1 - beta1) * x
    return y, z, x, v


@mistake("schedule_free_update", fails="one step with ε = 0.1 (the eps given)")
def schedule_free_update_with_a_fixed_eps(
    y: torch.Tensor,
    z: torch.Tensor,
    x: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    t: int,
    lr_t: float,
    c: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """ε hard-coded to AdamW's default 1e-8 instead of the eps given: right at the default only."""
    v = beta2 * v + (1 - beta2) * g * g
    v_hat = v / (1 - beta2**t)
    d = g / (v_hat.sqrt() + 1e-8) + weight_decay * y
    z = z - lr_t * d
    x = (1 - c) * x + c * z
    y = (1 - beta1) * z + beta1 * x
    return y, z, x, v
