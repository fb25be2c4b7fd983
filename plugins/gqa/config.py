"""The knobs of GQA's train stage (issue 55): the defaults are the calibrated run, quick (one layer, 200 Adam
steps, each model at its rate of ``QUICK_LR``) and full (two layers, 600 steps, each model at its best of the
grid on validation text); both on order-2 Markov text of 16 symbols, 32 tokens a sequence, batches of 32.

The ablation switch is ``groups``: the KV heads the grouped model's 8 query heads share. 2 is the calibrated
GQA-2 (a 4× smaller cache), 8 is multi-head attention itself (parity by construction) and 1 is multi-query
attention; the uptraining of the full run mean-pools the multi-head model to the same number of KV heads.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    groups: int = knob(
        2,
        choices=(1, 2, 4, 8),
        help="KV heads of the grouped model (8 query heads; 8 is multi-head, 1 multi-query): the ablation",
        paper="GQA-8 (8 KV heads for 64 query heads, T5-XXL)",
    )
    steps: int = knob(
        600,
        quick=200,
        low=1,
        high=100_000,
        help="Adam steps per model (uptraining: 5% more)",
        paper="uptraining: 5% of the checkpoint's pre-training steps",
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for every model",
        means={
            0.0: "each its best of 3e-3, 1e-2, 3e-2 (quick: multi-head 1e-2, GQA-2 3e-2, another group "
            "count the grid's best)"
        },
        paper="T5's recipe (Adafactor); uptraining with the same",
    )
    batch: int = knob(32, low=1, high=4096, help="sequences per Adam step", paper="T5's recipe")
    depth: int = knob(2, quick=1, low=1, high=24, help="transformer blocks", paper="T5-XXL (24 + 24 layers)")
    d_model: int = knob(
        64, choices=(32, 64, 128, 256, 512), help="model width (8 heads of d_model / 8)", paper="4096"
    )
    seq_len: int = knob(32, low=3, high=1024, help="tokens per sequence", paper="T5's 512 input tokens")
    vocab: int = knob(
        16, low=2, high=64, help="symbols of the order-2 Markov chain (the difficulty)", paper="32k subwords"
    )
