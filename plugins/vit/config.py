"""The knobs of vit's experiment (``readtrack knobs vit``; ``readtrack run vit --set KEY=VALUE``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``model`` is the ablation switch: the network in the "ViT" arm, the Vision Transformer (the paper) or
the CNN itself, which leaves no inductive bias to tell the arms apart. ``radius`` sets how far the task
leans on that bias: the quick run's small shapes (radius 2-4 pixels) land in more places on the 16×16 image
and cut across the 4×4 patches in more ways than the full run's (3-5 pixels).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    model: str = knob(
        "vit",
        choices=("vit", "cnn"),
        help="the network in the 'ViT' arm: the Vision Transformer, or the LeNet-style CNN it is compared to",
        paper="vit",
        arm="ViT",
        means={"vit": "ViT", "cnn": "the CNN"},
    )
    images: int = knob(
        250, low=4, high=2000, help="training images of the small-data run (the full run adds 4000)",
        paper="ImageNet's 1.3M up to JFT's 300M",
    )  # fmt: skip
    radius: int = knob(
        5,
        quick=4,
        low=3,
        high=7,
        help="largest shape radius in pixels, the smallest 2 less (quick: small shapes, 2-4, where the bias "
        "matters more; full: 3-5, where the ViT reaches 0.95 with 4000 images in 300 steps)",
    )
    steps: int = knob(300, quick=150, low=1, high=20_000, help="Adam steps per network, the same for both")
    batch: int = knob(64, low=1, high=1024, help="images per step, the same batches for both arms")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for every network",
        means={
            0.0: "each its best of 1e-3, 3e-3, 6e-3 on validation (quick: one rate each, the ViT 2e-3, the "
            "CNN 6e-3)"
        },
    )
    dim: int = knob(
        32, low=1, high=512, help="the ViT's width D (2 heads, 1 when D is odd); MLP 2D", paper="768 (ViT-B)"
    )
    depth: int = knob(2, low=1, high=12, help="the ViT's encoder layers L", paper="12 (ViT-B)")
    inits: int = knob(
        3,
        low=1,
        high=16,
        help="initialisations averaged inside one run: replicates of the small-data A/B, each its own "
        "initialisation, batch order and training images (the k-th: images k·n … (k+1)·n − 1 of the pool)",
    )
