"""The knobs of rmsnorm's experiment (``readtrack knobs rmsnorm``; ``readtrack run rmsnorm --set KEY=VALUE``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``norm`` is the ablation switch: the network the claim is about normalised with RMSNorm (the paper),
with LayerNorm in its place, or with nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    norm: str = knob(
        "rms",
        choices=("rms", "layer", "none"),
        help="what normalises the network under test (the 'RMSNorm' arm): RMSNorm, LayerNorm or nothing",
        paper="rms",
        arm="RMSNorm",
        means={"rms": "RMSNorm", "layer": "LayerNorm", "none": "no normalisation"},
    )
    steps: int = knob(100, low=1, high=10_000, help="Adam steps per network, one fresh batch each")
    batch: int = knob(128, low=1, high=4096, help="examples per step")
    depth: int = knob(6, low=1, high=64, help="ReLU layers of the He-initialised network", paper="6+ layers")
    width: int = knob(32, low=2, high=1024, help="units per layer")
    input_scale: float = knob(
        100.0, low=1e-3, high=1e6, help="the inputs' scale: raw units nobody standardised (the difficulty)"
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for every network",
        means={0.0: "each its best of 3e-3, 1e-2, 3e-2 on the validation split"},
    )
    inits: int = knob(3, quick=1, low=1, high=20, help="initialisations averaged inside one run")
