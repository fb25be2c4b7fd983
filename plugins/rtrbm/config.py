"""The knobs of rtrbm's experiment (``readtrack knobs rtrbm``; ``readtrack run rtrbm --set KEY=VALUE``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``temporal`` is the ablation switch: the arm the claim is about is the RTRBM (its hidden biases set by
the previous frame's expected hidden state) or, switched off, the same RBM with W′ = 0 as the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    temporal: bool = knob(
        True,
        help="the 'RTRBM' arm has its temporal connection W′ r_(t−1); false: it is the plain RBM too",
        paper="true",
    )
    steps: int = knob(
        400, quick=150, low=1, high=20_000, help="Adam steps per model (CD-1), the rate decayed linearly to 0"
    )
    lr: float = knob(
        0.0,
        quick=2e-2,
        low=0.0,
        high=1.0,
        help="Adam's peak rate for both arms",
        means={0.0: "each arm its best of 5e-3, 1e-2, 2e-2 on validation videos"},
        paper="not Adam: plain gradient steps",
    )
    batch: int = knob(32, low=1, high=1024, help="videos per step")
    hidden: int = knob(
        256, quick=128, low=1, high=2048, help="hidden units of the RBM (both arms)", paper="not checked here"
    )
    frames: int = knob(10, low=3, high=100, help="frames per video (prediction is scored from frame 3 on)")
    speed: float = knob(
        1.0, low=0.0, high=4.0, help="the ball's pixels per frame on the 8 × 8 screen (the task's difficulty)"
    )
    inits: int = knob(2, quick=1, low=1, high=20, help="initialisations averaged inside one run (paired A/B)")
