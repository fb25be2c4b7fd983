"""The knobs of sliding window attention's train stage (issue 55): the defaults are the calibrated run,
quick (160 Adam steps) and full (400); both at rate 3e-3 with batches of 64 sequences of 32 tokens of 16
symbols, models of width 32 with a window of W = 4, on the task "output the token 6 steps back".

The ablation switch is ``depth``: the layers of the deep model, set against one layer. L layers of window W
read L·(W − 1) + 1 positions, so two layers of W = 4 reach the token 6 back and one layer does not; with
``depth=1`` the two models are one and the claim goes. ``window`` and ``lag`` move the same boundary.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    depth: int = knob(
        2,
        low=1,
        high=8,
        help="layers of the deep model, against one layer: the ablation (it reads depth·(W − 1) back)",
        paper="32 layers",
    )
    window: int = knob(4, low=1, high=64, help="W: keys each query sees, its own included", paper="4096")
    lag: int = knob(6, low=1, high=16, help="the task: output the token this many steps back")
    steps: int = knob(400, quick=160, low=1, high=100_000, help="Adam steps per model")
    lr: float = knob(3e-3, low=1e-6, high=1.0, help="Adam's learning rate", paper="not stated")
    batch: int = knob(64, low=1, high=4096, help="sequences per Adam step")
    d_model: int = knob(32, choices=(8, 16, 32, 64, 128), help="model width (2 heads)", paper="4096")
    seq_len: int = knob(32, low=17, high=512, help="tokens per sequence", paper="8192 (context length)")
    vocab: int = knob(16, low=2, high=1024, help="symbols to copy (chance is 1/vocab)", paper="32000")
