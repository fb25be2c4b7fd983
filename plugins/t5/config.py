"""The knobs of T5's experiment (``readtrack knobs t5``; ``readtrack run t5 --set KEY=VALUE``).

The defaults are the calibrated experiment: one encoder-decoder of one layer a side at d_model 32 learns
``copy:``, ``reverse:`` and ``sort:`` on strings of 8 digits (quick: 4) from a mix of the three, 1000 Adam
steps of 128 strings (quick: 400) at rate 1e-2 decayed linearly to 0, against the same model, data and
initialisation with no position information at all; turn one and the run reports its targets without
asserting them. ``position`` is the ablation switch: the model under test (the "relative bias" arm) has
T5's bucketed relative position bias, or none, which makes it the blind model again.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    position: str = knob(
        "relative",
        choices=("relative", "none"),
        help="what the model under test knows of order: T5's bucketed relative bias, or nothing",
        paper="relative (32 buckets up to offset 128, one table per stack)",
    )
    steps: int = knob(
        1000, quick=400, low=1, high=100_000, help="Adam steps per model, one fresh batch each", paper="2^19"
    )
    lr: float = knob(
        1e-2,
        low=1e-6,
        high=1.0,
        help="Adam's rate for both models, decayed linearly to 0 (1e-2 the best of 3e-3, 1e-2, 2e-2)",
        paper="Adafactor, 1/√max(n, 10^4)",
    )
    batch: int = knob(128, low=1, high=4096, help="strings per step, the three tasks mixed", paper="128")
    digits: int = knob(
        8, quick=4, low=1, high=64, help="digits per string (the difficulty)", paper="512 input tokens"
    )
    d_model: int = knob(
        32, choices=(8, 16, 32, 64, 128), help="model width (4 heads, d_ff = 4 d_model)", paper="768 (Base)"
    )
    inits: int = knob(1, low=1, high=20, help="initialisations averaged inside one run (each A/B paired)")
