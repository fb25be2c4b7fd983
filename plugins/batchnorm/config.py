"""The knobs of batchnorm's experiment (``readtrack knobs batchnorm``; ``readtrack run batchnorm --set K=V``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``norm`` is the ablation switch: the network the claim is about normalised with BatchNorm (the paper)
or with nothing, which makes it the baseline network itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    norm: str = knob(
        "batch",
        choices=("batch", "none"),
        help="what normalises the network under test (the 'BatchNorm' arm): BatchNorm or nothing",
        paper="batch",
        arm="BatchNorm",
        means={"batch": "BatchNorm", "none": "no normalisation"},
    )
    steps: int = knob(200, quick=100, low=1, high=10_000, help="SGD steps per network, one fresh batch each")
    batch: int = knob(128, low=2, high=4096, help="examples per step (and per BatchNorm batch)")
    depth: int = knob(8, low=1, high=64, help="ReLU layers of the He-initialised network")
    width: int = knob(32, low=2, high=1024, help="units per layer")
    lr: float = knob(
        0.0,
        low=0.0,
        high=10.0,
        help="SGD's rate (momentum 0.9) for every network",
        means={0.0: "each its best of the grid on the validation split"},
    )
    inits: int = knob(
        4, quick=1, low=1, high=32, help="initialisations averaged inside one run (each its own task draw)"
    )
