"""The knobs of clip's experiment (``readtrack knobs clip``; ``readtrack run clip --set KEY=VALUE``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``pairing`` is the ablation switch: every image is trained beside its own caption (the paper), or the
captions are shuffled over the training images, so that nothing ties a shape to its word and zero-shot
classification by prompts has nothing to transfer (every variant is trained so).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    pairing: str = knob(
        "matched",
        choices=("matched", "shuffled"),
        help="each training image beside its own caption, or the captions shuffled over the images",
        paper="matched (image, text) pairs",
    )
    steps: int = knob(600, quick=200, low=1, high=100_000, help="Adam steps of each variant")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate of every variant",
        means={0.0: "each its best of 1e-3, 3e-3 on validation (quick: 3e-3)"},
        paper="5e-4 for the ResNets (Adam, decoupled weight decay)",
    )
    batch: int = knob(
        128, low=2, high=4096, help="pairs per step: each image against this many captions", paper="32768"
    )
    embed: int = knob(32, low=1, high=1024, help="d_e, the joint embedding's width")
    hidden: int = knob(128, low=1, high=2048, help="the encoders' hidden width")
    examples: int = knob(
        16_000, low=100, high=200_000, help="training pairs drawn (¾ kept: the seen combinations)"
    )
    noise: float = knob(0.1, low=0.0, high=2.0, help="pixel noise sd of the shape images (the difficulty)")
