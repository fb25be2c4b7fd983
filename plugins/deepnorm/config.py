"""The knobs of deepnorm's experiment (``readtrack knobs deepnorm``; ``readtrack run deepnorm --set K=V``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``residual`` is the ablation switch: the network the claim is about (the "DeepNorm" arm) built with
both of DeepNorm's parts (the paper), with only one of them, or with neither, which makes it the Post-LN
baseline itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    residual: str = knob(
        "deepnorm",
        choices=("deepnorm", "alpha-only", "init-only", "post"),
        help="what the 'DeepNorm' arm is: α-weighted residual and β-scaled init, one of them, or Post-LN",
        paper="deepnorm",
        arm="DeepNorm",
        means={
            "deepnorm": "LN(α·x + G(x)) with the β-scaled Xavier init",
            "alpha-only": "LN(α·x + G(x)) with the standard Xavier init (β = 1)",
            "init-only": "LN(x + G(x)) with the β-scaled Xavier init (α = 1)",
            "post": "Post-LN: α = β = 1",
        },
    )
    layers: int = knob(8, low=1, high=64, help="transformer blocks (N; α = (2N)^¼, β = (8N)^−¼)")
    d_model: int = knob(32, low=4, high=512, multiple_of=4, help="model width D (4 heads of D/4)")
    steps: int = knob(120, quick=50, low=1, high=10_000, help="Adam steps per network, no warm-up")
    batch: int = knob(16, low=1, high=1024, help="sequences of 16 tokens per step")
    lr_high: float = knob(
        1e-2,
        low=1e-5,
        high=1.0,
        help="the high learning rate the stability claim is made at (the difficulty)",
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
