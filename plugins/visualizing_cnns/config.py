"""The knobs of visualizing-cnns' experiment (``readtrack knobs visualizing-cnns``; ``readtrack run
visualizing-cnns --set KEY=VALUE``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``rule`` is the ablation switch: the backward projection whose map |·| the saliency claims test, the
gradient (Simonyan's saliency, the paper's) or the deconvnet's or guided backpropagation's in its place.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    rule: str = knob(
        "gradient",
        choices=("gradient", "deconvnet", "guided"),
        help="the projection whose map |·| the saliency claims test: the gradient, deconvnet or guided rule",
        paper="gradient (Simonyan eq. 3)",
    )
    steps: int = knob(400, low=1, high=10_000, help="Adam steps per network, one minibatch each")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate",
        means={0.0: "one network at each of 3e-3 and 6e-3, the one more accurate on validation kept"},
    )
    batch: int = knob(64, low=1, high=4096, help="training images per step")
    width: int = knob(
        1, low=1, high=8, help="LeNet-5 widths ×width: 6w and 16w filters, 120w and 84w hidden units"
    )
    noise: float = knob(
        0.1, low=0.0, high=2.0, help="sd of the Gaussian noise on every pixel (shapes and distractor are 1)"
    )
    images: int = knob(1000, low=1, high=1000, help="held-out images the backward maps are measured on")
    occluded: int = knob(
        300, quick=40, low=1, high=1000, help="held-out images occluded (a forward pass per pixel each)"
    )
