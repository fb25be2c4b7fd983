"""The knobs of the Pixel RNN's train stage (issue 55): the defaults are the calibrated run, quick (150 Adam
steps of 32 images, each model at its rate of ``QUICK_LR``, 64 samples a model) and full (500 steps of 64,
each model at its best of the grid on a validation split, 400 samples); both a PixelCNN of 16 feature maps
and 4 mask-B layers and a one-layer Row LSTM, on 8 × 8 bars images with each bar on with probability 0.2.

The ablation switch is ``mask``: the first layer's 7 × 7 mask, in both models. ``A`` is the paper's (the
pixels before the one predicted); ``B`` lets the first layer see the pixel it predicts too, so the model is
no longer a distribution (its "NLL" can fall below the exact floor, and it learns to copy a pixel it does not
have when sampling); ``none`` lets it see no pixel at all, leaving each model independent pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    mask: str = knob(
        "A",
        choices=("A", "B", "none"),
        help="the first layer's mask: A causal, B sees its own pixel too, none sees nothing: the ablation",
        paper="A (section 3.4)",
    )
    steps: int = knob(500, quick=150, low=1, high=10_000, help="Adam steps per model, one batch each")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for both models",
        means={0.0: "each its best of 3e-3, 1e-2, 3e-2 (quick: the PixelCNN 1e-2, the Row LSTM 3e-2)"},
        paper="RMSProp, rate not stated",
    )
    batch: int = knob(64, quick=32, low=1, high=512, help="bars images per step", paper="16 (CIFAR-10)")
    hidden: int = knob(16, low=1, high=256, help="feature maps per layer (h), both models", paper="128")
    depth: int = knob(
        4,
        low=0,
        high=32,
        help="the PixelCNN's residual 3 × 3 mask-B layers (the Row LSTM keeps one)",
        paper="15 (PixelCNN, CIFAR-10)",
    )
    size: int = knob(
        8,
        low=2,
        high=10,
        help="image side in pixels (the exact floor sums over 2^size row-bar sets)",
        paper="32 × 32 (CIFAR-10), 28 × 28 (binarised MNIST)",
    )
    p_bar: float = knob(
        0.2, low=0.01, high=0.99, help="the probability each bar is on (the difficulty)", paper="not stated"
    )
    samples: int = knob(
        400, quick=64, low=1, high=2000, help="images drawn pixel by pixel per model, checked as bars images"
    )
