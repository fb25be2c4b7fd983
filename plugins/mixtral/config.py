"""The knobs of Mixtral's train stage (issue 55): the defaults are the calibrated run, quick (300 Adam steps
at 1e-2, the rate the grid picks for both models) and full (1000 steps, each model at its best of the grid
on a validation split); both 8 experts of width 32 with top-2 routing against a dense SwiGLU of width 64,
inputs of dimension 16 from 8 clusters with their own linear maps, batches of 256, load-balancing weight
0.01.

The ablation switch is ``experts``: the router picks 2 of them per token. With ``experts=2`` both run on
every token, so the MoE has no more capacity than the dense block of the same active parameters and the
claim's advantage goes; ``clusters`` sets how many distinct regimes the problem has for experts to divide.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    experts: int = knob(
        8, low=2, high=64, help="experts in the MoE, 2 active per token: the ablation", paper="8, top-2"
    )
    steps: int = knob(1000, quick=300, low=1, high=100_000, help="Adam steps per model")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for both models",
        means={0.0: "each its best of 1e-3, 3e-3, 1e-2 (quick: 1e-2)"},
        paper="not stated",
    )
    batch: int = knob(256, low=1, high=8192, help="examples per Adam step", paper="not stated")
    hidden: int = knob(
        32, low=1, high=1024, help="each expert's SwiGLU width (the dense block's: twice it)", paper="14336"
    )
    d_model: int = knob(16, low=1, high=256, help="input and output dimension", paper="4096")
    clusters: int = knob(
        8, low=1, high=64, help="the problem's regimes, each with its own linear map (the difficulty)"
    )
    balance: float = knob(
        0.01,
        low=0.0,
        high=10.0,
        help="weight of the load-balancing loss in the MoE's training loss",
        paper="not stated (Switch Transformer: 0.01)",
    )
