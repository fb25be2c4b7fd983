"""The knobs of groupnorm's experiment (``readtrack knobs groupnorm``; ``readtrack run groupnorm --set K=V``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``norm`` is the ablation switch: the network the claim is about normalised with GroupNorm (the paper)
or with BatchNorm, which makes it the baseline network itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    norm: str = knob(
        "group",
        choices=("group", "batch"),
        help="what normalises the network under test (the 'GN' arm): GroupNorm or BatchNorm",
        paper="group",
        arm="GN",
        means={"group": "GroupNorm", "batch": "BatchNorm"},
    )
    groups: int = knob(
        4,
        choices=(1, 2, 4, 8),
        help="GN's G in every layer (8 and 16 channels; 1: LayerNorm over (C, H, W), 8: near InstanceNorm)",
        paper="32",
    )
    steps: int = knob(
        600, quick=150, low=1, high=10_000, help="Adam steps per network, the same at either batch size"
    )
    channels: int = knob(8, choices=(8, 16, 32), help="channels of the first convolution (then twice that)")
    noise: float = knob(0.1, low=0.0, high=2.0, help="Gaussian pixel noise of the shapes images")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for every network",
        means={0.0: "each network its best of the grid on the validation split"},
    )
