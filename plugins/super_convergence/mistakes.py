"""The classic mistake in the one-cycle policy, for ``readtrack practice``: its check must catch it
(tests/test_practice.py)."""

from __future__ import annotations

from readtrack.practice import mistake

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
