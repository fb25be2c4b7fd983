"""The knobs of pre-ln's experiment (``readtrack knobs pre-ln``; ``readtrack run pre-ln --set K=V``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``norm_position`` is the ablation switch: the network the claim is about (the "Pre-LN" arm) with its
LayerNorms inside the residual branches (the paper) or after the sum, which makes it the Post-LN baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    norm_position: str = knob(
        "pre",
        choices=("pre", "post"),
        help="where the 'Pre-LN' arm puts its LayerNorms: inside the residual branch, or after the sum",
        paper="pre",
        arm="Pre-LN",
        means={"pre": "x + F(LN(x)), final LN", "post": "LN(x + F(x)): Post-LN"},
    )
    layers: int = knob(8, low=1, high=64, help="transformer blocks L")
    d_model: int = knob(32, low=4, high=512, multiple_of=4, help="model width d (4 heads of d/4)")
    steps: int = knob(120, quick=50, low=1, high=10_000, help="Adam steps per network")
    warmup: int = knob(
        40, quick=20, low=0, high=10_000, help="linear warm-up steps of the Post-LN-with-warm-up reference"
    )
    batch: int = knob(16, low=1, high=1024, help="sequences of 16 tokens per step")
    lr_high: float = knob(
        1e-2, low=1e-5, high=1.0, help="the high learning rate the no-warm-up claim is made at"
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for the each-at-its-best comparison",
        means={0.0: "each arm its best of the grid (1e-3 … lr_high) on the validation split"},
    )
    inits: int = knob(
        3, quick=1, low=1, high=16, help="initialisations averaged inside one run (each its own chain)"
    )
