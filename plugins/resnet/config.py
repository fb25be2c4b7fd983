"""The knobs of resnet's experiment (``readtrack knobs resnet``; ``readtrack run resnet --set KEY=VALUE``).

The defaults are the calibrated experiment: BatchNorm MLPs of width 32 with 4 or 32 weight layers, plain or
residual, 300 SGD steps (100 quick) of 128 on a 4-class tanh-teacher problem, each network at its best rate of
0.03, 0.1, 0.3 (quick: the full run's winners). Turn one and the run reports its targets without asserting
them. ``shortcut`` is the ablation switch: false builds the residual networks without their identity shortcut,
σ(F(x)) in place of σ(F(x) + x), so that they are plain networks (the idea removed).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    shortcut: bool = knob(
        True,
        help="the residual networks add their identity shortcut; false: they are plain networks",
        paper="identity shortcuts (eq. 1)",
    )
    steps: int = knob(300, quick=100, low=1, high=100_000, help="SGD steps (momentum 0.9) per network")
    lr: float = knob(
        0.0,
        low=0.0,
        high=10.0,
        help="SGD's rate for every network",
        means={0.0: "each its best of 0.03, 0.1, 0.3 (quick: the full run's best)"},
        paper="0.1",
    )
    batch: int = knob(
        128,
        low=2,
        high=2048,
        help="examples per step, drawn from the 2048 (2 at least: BatchNorm)",
        paper="128",
    )
    depth: int = knob(
        32,
        choices=(8, 16, 32, 64, 128),
        help="weight layers of the deep networks, plain and residual (the shallow ones have 4)",
        paper="18 and 34 (ImageNet); 20 to 110 (CIFAR-10)",
    )
    width: int = knob(32, low=2, high=1024, help="units per layer", paper="64 to 512 channels")
    classes: int = knob(4, low=2, high=64, help="classes of the tanh teacher (the task's difficulty)")
