"""The knobs of the CNN family bench (``readtrack knobs cnn-bench``; ``--set K=V``).

The defaults are the calibrated bench: turn one and the run reports its targets without asserting them.
``shortcuts`` is the ablation switch: ResNet's identity shortcuts, or none (its plain twin of the same
layers).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    steps: int = knob(
        600, quick=100, low=10, high=100_000, help="Adam steps of `batch` images for every network"
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="one Adam learning rate for every network",
        means={0.0: "each network its best of its own grid, on validation images (quick: the grid's pick)"},
    )
    batch: int = knob(32, low=1, high=1024, help="images per step")
    noise: float = knob(
        0.3, low=0.0, high=10.0, help="the Gaussian noise on the shapes' pixels (the task's difficulty)"
    )
    images: int = knob(4000, low=100, high=100_000, help="training images (the shapes, four classes)")
    reach: float = knob(
        0.8, low=0.3, high=1.0, help="the validation accuracy that 'steps to reach' waits for"
    )
    shortcuts: str = knob(
        "identity",
        choices=("identity", "none"),
        help="ResNet's shortcuts: identity (projections where the shape changes), or none: its plain twin",
        paper="identity (ResNet eq. 1, option B)",
    )
