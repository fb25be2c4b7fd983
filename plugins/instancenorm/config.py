"""The knobs of instancenorm's experiment (``readtrack knobs instancenorm``; ``readtrack run instancenorm
--set K=V``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``norm`` is the ablation switch: the network the claim is about normalised with InstanceNorm (the
paper), with BatchNorm (which makes it the baseline network itself) or with nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    norm: str = knob(
        "instance",
        choices=("instance", "batch", "none"),
        help="what normalises the network under test (the 'InstanceNorm' arm): InstanceNorm, BatchNorm or "
        "nothing",
        paper="instance",
        arm="InstanceNorm",
        means={"instance": "InstanceNorm", "batch": "BatchNorm", "none": "no normalisation"},
    )
    steps: int = knob(200, quick=60, low=1, high=10_000, help="Adam steps per network, one fresh batch each")
    batch: int = knob(32, low=1, high=1024, help="images per step")
    channels: int = knob(16, quick=8, low=1, high=256, help="channels of each 3×3 convolution")
    layers: int = knob(3, low=1, high=16, help="3×3 convolution → norm → ReLU blocks before the 1×1 read-out")
    contrast: float = knob(
        2.0,
        low=1.0,
        high=100.0,
        help="training images arrive at a contrast log-uniform in [1/c, c] and a brightness in [−1, 1]",
    )
    far: float = knob(
        4.0,
        low=1.0,
        high=100.0,
        help="test images outside that range: contrast log-uniform in [1/f², 1/f] or [f, f²], brightness "
        "in [−f, f]",
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for every network",
        means={0.0: "each its best of the grid on the validation split"},
    )
    inits: int = knob(
        4, quick=2, low=1, high=32, help="initialisations averaged inside one run (each its own image draw)"
    )
