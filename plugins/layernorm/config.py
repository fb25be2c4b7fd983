"""The knobs of layernorm's experiment (``readtrack knobs layernorm``; ``readtrack run layernorm --set K=V``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``norm`` is the ablation switch: the network the claim is about normalised with LayerNorm (the paper)
or with nothing, which makes it the baseline network itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    norm: str = knob(
        "layer",
        choices=("layer", "none"),
        help="what normalises the network under test (the 'LayerNorm' arm): LayerNorm or nothing",
        paper="layer",
        arm="LayerNorm",
        means={"layer": "LayerNorm", "none": "no normalisation"},
    )
    steps: int = knob(200, quick=100, low=1, high=10_000, help="Adam steps per network, one fresh batch each")
    batch: int = knob(128, low=1, high=4096, help="examples per step")
    depth: int = knob(6, low=1, high=64, help="ReLU layers of the He-initialised network")
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
