"""The knobs of adamw's experiment (``readtrack knobs adamw``; ``readtrack run adamw --set KEY=VALUE``).

The defaults are the calibrated experiment, the same in quick and full runs (lr 0.01, λ 0.1, 100 steps; w0 = 1
and 10; gradient noise of scales 0.01, 1 and 100 over 1024 weights each): turn one and the run reports its
targets without asserting them. ``decay`` is the ablation switch: the arm the claim is about (the 'AdamW'
arm) decays the weights outside the adaptive step (AdamW, the paper), puts λθ into the gradient (Adam + L2,
so both arms are the same optimiser), or does not decay at all (Adam).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    decay: str = knob(
        "decoupled",
        choices=("decoupled", "l2", "none"),
        help="how the arm under test (the 'AdamW' arm) applies λ: decoupled (AdamW), as L2, or not at all",
        paper="decoupled (Algorithm 2, line 12)",
        arm="AdamW",
        means={"decoupled": "AdamW", "l2": "Adam + L2", "none": "Adam without decay"},
    )
    lr: float = knob(
        0.01,
        low=1e-6,
        high=1.0,
        help="the rate lr = α·η_t of both optimisers",
        paper="swept with λ (Figure 2)",
    )
    weight_decay: float = knob(
        0.1,
        low=0.0,
        high=10.0,
        help="λ in PyTorch's convention (a decay of lr·λ per step for AdamW)",
        paper="swept with α (Figure 2): decoupled, its best λ does not move with α",
    )
    steps: int = knob(100, low=1, high=100_000, help="optimiser steps in each experiment")
    w0: float = knob(
        10.0,
        low=1e-3,
        high=1e6,
        help="experiment 1's large starting weight (the small one is 1): with L2 the decay depends on it",
    )
    noise: float = knob(
        100.0,
        low=1e-3,
        high=1e6,
        help="the largest gradient noise scale of experiment 2 (the others are 0.01 and 1): the difficulty",
    )
    group_size: int = knob(
        1024,
        low=1,
        high=1_000_000,
        help="weights per noise scale in experiment 2 (their mean w/w0 is compared)",
    )
