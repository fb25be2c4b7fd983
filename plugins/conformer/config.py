"""The knobs of conformer's experiment (``readtrack knobs conformer``; ``readtrack run conformer --set
KEY=VALUE``).

The defaults are the calibrated experiment: a 2-layer Conformer (d 24, 4 heads, kernel 7) against the
parameter-matched 2-layer Transformer, 400 Adam steps (60 quick) of 32 sequences of noisy frames (noise 0.1)
labelled by 4 speakers (1 quick) and the neighbours' agreement, each at its best rate of 1e-3, 3e-3, 1e-2
(quick: 3e-3, 1e-2). Turn one and the run reports its targets without asserting them. ``conv`` is the
ablation switch: false takes the convolution module out of every Conformer block (x'' = x', the first
ablation of the paper's table 3), leaving the macaron feed-forward modules and attention.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    conv: bool = knob(
        True,
        help="the Conformer blocks keep their convolution module; false: it is taken out (x'' = x')",
        paper="with (table 3 takes it out: the largest loss of its ablations)",
    )
    steps: int = knob(400, quick=60, low=1, high=20_000, help="Adam steps of each model at each rate")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate of both models",
        means={0.0: "each its best of 1e-3, 3e-3, 1e-2 (quick: 3e-3, 1e-2)"},
        paper="peak 0.05/√d with warm-up (Transformer schedule)",
    )
    batch: int = knob(32, low=1, high=1024, help="sequences of 24 frames per step (and per BatchNorm batch)")
    d_model: int = knob(
        24,
        choices=(8, 16, 24, 32, 48, 64, 96, 128),
        help="the models' width d (4 heads; the Transformer's FFN is widened to match the parameters)",
        paper="144 (S), 256 (M), 512 (L)",
    )
    layers: int = knob(2, low=1, high=16, help="blocks of each model", paper="16 (S, M), 17 (L)")
    kernel: int = knob(
        7,
        choices=(1, 3, 5, 7, 9, 15, 31, 33),
        help="the depthwise convolution's kernel (odd: a centred convolution)",
        paper="32 (table 7: 3 to 65)",
    )
    speakers: int = knob(
        4,
        quick=1,
        low=1,
        high=4,
        help="speaker codes in the labels (1: the local pattern alone; the task's difficulty)",
    )
    noise: float = knob(0.1, low=0.0, high=10.0, help="σ of the Gaussian noise on every frame")
