"""The knobs of dyt's experiment (``readtrack knobs dyt``; ``readtrack run dyt --set KEY=VALUE``).

The defaults are the calibrated experiment: turn one and the run reports its targets without asserting
them. ``norm`` is the ablation switch: the language model the claim is about has DyT in every norm's place
(the paper), LayerNorm (parity by construction) or nothing at all (the normaliser removed).
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    norm: str = knob(
        "dyt",
        choices=("dyt", "layer", "none"),
        help="what replaces every LayerNorm of the model under test (the 'DyT' arm)",
        paper="dyt",
        arm="DyT",
        means={"dyt": "DyT", "layer": "LayerNorm", "none": "no normalisation"},
    )
    alpha_init: float = knob(
        0.5, low=0.0, high=100.0, help="α₀, DyT's initial α", paper="0.5 (LLaMA: 0.2-0.8, smaller when wider)"
    )
    steps: int = knob(300, quick=100, low=1, high=100_000, help="Adam steps per model, one batch each")
    batch: int = knob(64, low=1, high=4096, help="sequences per Adam step")
    layers: int = knob(1, low=1, high=24, help="pre-norm transformer blocks", paper="12-80")
    d_model: int = knob(32, choices=(16, 32, 64, 128), help="model width (2 heads of d_model / 2)")
    seq_len: int = knob(16, low=2, high=256, help="tokens per sequence")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for every model",
        means={0.0: "each its best of 3e-3, 1e-2, 3e-2 on validation text (quick: the grid's pick)"},
    )
    inits: int = knob(
        4, quick=2, low=1, high=32, help="initialisations averaged inside one run (each its own chain)"
    )
