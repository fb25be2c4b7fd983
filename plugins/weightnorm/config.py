"""The knobs of weightnorm's experiment (``readtrack knobs weightnorm``; ``readtrack run weightnorm --set
K=V``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``norm`` is the ablation switch: the network the claim is about weight-normalised (the paper) or not,
which makes it the plain He-initialised network itself; ``init`` turns the paper's data-dependent
initialisation (section 3) off, leaving g = 1 and b = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    norm: str = knob(
        "weight",
        choices=("weight", "none"),
        help="what the network under test (the 'WeightNorm' arm) is: weight-normalised, or the plain network",
        paper="weight",
        arm="WeightNorm",
        means={"weight": "WeightNorm", "none": "no normalisation"},
    )
    init: str = knob(
        "data",
        choices=("data", "none"),
        help="WeightNorm's g and b: set from a first batch (section 3) or left at g = 1, b = 0",
        paper="data",
        means={"data": "data-dependent", "none": "g = 1, b = 0"},
    )
    steps: int = knob(200, quick=100, low=1, high=10_000, help="Adam steps per network, one fresh batch each")
    batch: int = knob(128, low=2, high=4096, help="examples per step (BatchNorm needs two)")
    depth: int = knob(6, low=1, high=64, help="ReLU layers of each network")
    width: int = knob(32, low=2, high=1024, help="units per layer")
    input_scale: float = knob(
        100.0, low=1e-3, high=1e6, help="the inputs' scale: raw units nobody standardised (the difficulty)"
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for every network",
        means={0.0: "each its best of the grid on the validation split"},
    )
    inits: int = knob(
        8, quick=3, low=1, high=32, help="initialisations averaged inside one run (each its own task draw)"
    )
