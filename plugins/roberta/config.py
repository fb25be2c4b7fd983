"""The knobs of RoBERTa's experiment (``readtrack knobs roberta``; ``readtrack run roberta --set KEY=VALUE``).

The defaults are the calibrated experiment: a fixed set of 64 sequences of 17 tokens (8 copy pairs, 16
symbols), seen for hundreds of epochs, one full-batch Adam step each, by a 2-layer encoder of width 32 with 4
heads; static masking keeps 10 masked copies as the paper's baseline. Turn one and the run reports its targets
without asserting them. ``masking`` is the ablation switch: how the arm under test (the "dynamic" one) is
masked, afresh each epoch (RoBERTa) or with the static arm's 10 fixed copies, which makes it the same run.
"""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    masking: str = knob(
        "dynamic",
        choices=("dynamic", "static"),
        help="how the arm under test is masked: a fresh mask every epoch, or the static arm's fixed copies",
        paper="dynamic",
    )
    copies: int = knob(
        10, low=1, high=1000, help="masked copies of the data the static schedule cycles through", paper="10"
    )
    steps: int = knob(
        300,
        quick=150,
        low=1,
        high=100_000,
        help="epochs over the fixed set, one full-batch Adam step each, per arm and rate",
        paper="1M steps of 256 sequences; 40 epochs, each static mask seen 4 times",
    )
    train_set: int = knob(
        64,
        low=4,
        high=65_536,
        help="sequences in the fixed training set (the less data, the more often each mask repeats)",
        paper="16GB of text (BookCorpus and Wikipedia, table 1)",
    )
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="Adam's rate for both arms",
        means={0.0: "each its best of 3e-3, 1e-2 by validation loss (quick: 1e-2)"},
        paper="1e-4 with warm-up and linear decay (BERT-base's, table 1)",
    )
    inits: int = knob(
        5, quick=1, low=1, high=20, help="initialisations averaged inside one run (each with its own data)"
    )
    hidden: int = knob(
        32,
        choices=(8, 16, 32, 64, 128),
        help="the encoder's width (4 heads, the FFN is 4× wider)",
        paper="768 (base)",
    )
    layers: int = knob(2, low=1, high=12, help="encoder layers", paper="12 (base)")
