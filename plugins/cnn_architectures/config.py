"""The knobs of cnn-architectures' experiment (``readtrack knobs cnn-architectures``; ``readtrack run
cnn-architectures --set KEY=VALUE``).

The defaults are the calibrated experiment: LeNet-5 (second convolution 16 channels) trained with ReLU and
with tanh, 400 Adam steps of 64 each, on 4000 shapes with noise 0.1, each at its best rate of 1e-3, 3e-3,
1e-2 (quick: the rates seed 0 chose); the saturation target with every weight ×8 at initialisation; AlexNet,
ZF Net, VGG and GoogLeNet trained 200 steps (30 quick). Turn one and the run reports its targets without
asserting them. ``baseline`` is the ablation switch: the unit ReLU is compared with, tanh (AlexNet's figure
1), or relu in tanh's place, a unit that cannot saturate (the saturation target then fails).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    baseline: str = knob(
        "tanh",
        choices=("tanh", "relu"),
        help="the unit in the A/B's and the saturation target's 'tanh' networks: tanh, or relu in its place",
        paper="tanh (AlexNet fig. 1)",
    )
    steps: int = knob(
        400, low=25, high=20_000, help="Adam steps of each LeNet-5, watched every 25 (rounded down to 25s)"
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate of both LeNets",
        means={0.0: "each its best of 1e-3, 3e-3, 1e-2 (quick: seed 0's choice)"},
        paper="not stated for Adam (AlexNet: SGD at 0.01, chosen per network)",
    )
    batch: int = knob(64, low=1, high=1024, help="images per LeNet-5 step", paper="128 (AlexNet)")
    width: int = knob(
        16,
        low=1,
        high=256,
        help="channels of LeNet-5's second convolution (its first has 6)",
        paper="16 (LeNet-5's C3)",
    )
    noise: float = knob(
        0.1, low=0.0, high=10.0, help="the Gaussian noise on the shapes' pixels (the task's difficulty)"
    )
    weight_scale: float = knob(
        8.0,
        low=0.01,
        high=1000.0,
        help="every weight × this at initialisation, against ×1, in the saturation target",
        paper="not stated (the paper's claim is about training speed)",
    )
    brief_steps: int = knob(
        200, quick=30, low=1, high=20_000, help="Adam steps of 32 of AlexNet, ZF Net, VGG and GoogLeNet each"
    )
