"""The knobs of lbfgs's experiment (``readtrack knobs lbfgs``; ``readtrack run lbfgs --set KEY=VALUE``).

The defaults are the calibrated experiment: L-BFGS with m = 10 pairs and the strong-Wolfe search against Adam
for up to 2000 steps at its best rate of a grid (1e-3, 1e-2, 0.1 quick; with 3e-3, 3e-2, 0.3 full), on
Rosenbrock from (−1.5, 2) and on a quadratic with κ = 1e4, n = 50. Turn one and the run reports its targets
without asserting them. ``m`` is the knob the claim is about: how many pairs (s, y) L-BFGS keeps, its memory
of the curvature (1: one pair; the paper's few, 3 to 20; n or more: as good as full BFGS here).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    m: int = knob(10, low=1, high=1000, help="L-BFGS's history: the pairs (s, y) it keeps", paper="3 to 20")
    steps: int = knob(2000, low=1, high=100_000, help="Adam's steps (one evaluation each) before it gives up")
    lr: float = knob(
        0.0,
        low=0.0,
        high=10.0,
        help="Adam's rate",
        means={0.0: "its best on each problem of 1e-3, 1e-2, 0.1 (full: and 3e-3, 3e-2, 0.3)"},
        paper="first-order methods (no Adam then)",
    )
    n: int = knob(50, low=2, high=2000, help="the quadratic's dimension (L-BFGS with m = n is measured too)")
    kappa: float = knob(
        1e4, low=1.0, high=1e12, help="the quadratic's condition number: eigenvalues log-spaced from 1 to κ"
    )
