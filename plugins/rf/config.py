"""The knobs of rf's experiment (``readtrack knobs rf``; ``readtrack run rf --set KEY=VALUE``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``baseline`` is the ablation switch: the estimator subtracts its baselines (Williams's reinforcement
comparison in the "with a baseline" arm; b = J(θ) and the variance-minimising b*(t, s) in the variance
comparison), or every baseline is dropped, the idea removed: both arms are plain REINFORCE and every
variance ratio is 1. ``states``, ``horizon`` and ``slip`` set the chain MDP (the difficulty). The gradient
variances are exact, over every trajectory the chain can produce (at most 2^(2·horizon − 1): 32,768 at
horizon 8), so there is no knob for their sample size.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    baseline: bool = knob(
        True,
        help="the estimator subtracts its baselines (false: every baseline dropped, as if b = 0)",
        paper="true: (r − b) with reinforcement comparison",
    )
    steps: int = knob(300, quick=150, low=1, high=100_000, help="gradient-ascent updates of each policy")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1000.0,
        help="the ascent's rate of both arms",
        means={0.0: "each its best of 0.3, 1, 3, 10 (quick 0.3, 1), validated"},
    )
    batch: int = knob(16, low=1, high=4096, help="episodes per update")
    inits: int = knob(
        4,
        quick=2,
        low=1,
        high=20,
        help="initialisations averaged inside one run: policies trained (and validation seeds) per arm",
    )
    states: int = knob(6, low=2, high=50, help="the chain's length: the trap at the left end, 1 at the right")
    horizon: int = knob(
        8, low=1, high=10, help="steps per episode (≤ 10: the variances enumerate every trajectory)"
    )
    slip: float = knob(0.1, low=0.0, high=0.5, help="chance an action moves the other way (the difficulty)")
