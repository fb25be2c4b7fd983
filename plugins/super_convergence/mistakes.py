"""Classic mistakes in the one-cycle policy, for ``readtrack practice``: its check must catch each
(tests/practice/test_practice.py)."""

from __future__ import annotations

import math

import torch

from readtrack.api import mistake

from .model import cos_anneal


@mistake("one_cycle_lr", fails="one-cycle vs OneCycleLR(cycle_momentum=False), every step")
def one_cycle_lr(
    step: int,
    total_steps: int,
    max_lr: float,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> float:
    """The peak one step late, at k = pct_start · T (steps counted from 1): every rate of the cycle is off."""
    initial = max_lr / div_factor
    final = initial / final_div_factor
    peak = float(pct_start * total_steps)
    if step <= peak:
        return cos_anneal(initial, max_lr, step / peak)
    return cos_anneal(max_lr, final, (step - peak) / (total_steps - 1 - peak))


@mistake("one_cycle_lr", fails="one-cycle returns a Python float at every step")
def one_cycle_lr_as_a_tensor(
    step: int,
    total_steps: int,
    max_lr: float,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> float:
    """The right rates, annealed with torch.cos: each one a 0-d tensor, not the Python float an optimiser's
    param_groups hold."""
    initial = max_lr / div_factor
    final = initial / final_div_factor
    peak = pct_start * total_steps - 1

    def anneal(start: float, end: float, pct: float) -> float:
        cosine = torch.cos(torch.tensor(math.pi * pct, dtype=torch.float64))
        return end + (start - end) / 2 * (1 + cosine)  # type: ignore[return-value]

    if step <= peak:
        return anneal(initial, max_lr, step / peak)
    return anneal(max_lr, final, (step - peak) / (total_steps - 1 - peak))
