"""The knobs of Longformer's train stage (issue 55): the defaults are the calibrated run, quick (80 Adam
steps) and full (400); both two layers of width 32 with a window of ±4, at rate 3e-3, batches of 32
sequences of 64 tokens, the task "does token 7 occur anywhere", read out at [CLS].

The ablation switch is ``global_cls``: whether the model under test gives [CLS] global attention (the
paper's choice for classification). With ``false`` it is the window-only model it is compared with, whose
[CLS] reaches ``depth · window`` positions: the targets then measure what a window alone can do.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    global_cls: bool = knob(
        True,
        help="the model under test's [CLS] attends to, and is attended by, every token: the ablation",
        paper="global attention on [CLS] for classification",
    )
    steps: int = knob(
        400, quick=80, low=1, high=100_000, help="Adam steps per model", paper="65k (pre-training)"
    )
    lr: float = knob(3e-3, low=1e-6, high=1.0, help="Adam's learning rate", paper="3e-5 (pre-training)")
    batch: int = knob(32, low=1, high=4096, help="sequences per Adam step", paper="64 (pre-training)")
    depth: int = knob(
        2, low=1, high=8, help="Longformer layers ([CLS]'s local reach is depth · window)", paper="12"
    )
    window: int = knob(
        4, low=1, high=64, help="w: each token sees ±w neighbours", paper="±256 (a window of 512)"
    )
    d_model: int = knob(32, choices=(8, 16, 32, 64, 128), help="model width (2 heads)", paper="768")
    seq_len: int = knob(
        64, low=8, high=1024, help="tokens per sequence, [CLS] included (the difficulty)", paper="4096"
    )
