"""The knobs of gpt's experiment (``readtrack knobs gpt``; ``readtrack run gpt --set KEY=VALUE``).

The defaults are the calibrated experiment: a 2-layer GPT of width 32 (4 heads) pretrained on unlabelled text
from two Markov chains (1000 Adam steps, quick 400), then fine-tuned, full batch, to tell which chain wrote 8
symbols from 64 labelled sequences (quick 16), 100 steps (quick 40), each arm at its best rate on validation.
The full run repeats this on 3 chain pairs with one draw of the labels each (the spread over seeds is the
pair's, not the draw's); the quick run on 1 pair with 3 draws. Turn a knob and the run reports its targets
without asserting them. ``pretrain`` is the ablation switch: the arm under test fine-tunes the pretrained
weights (the paper), or starts from the same random weights as the scratch arm, which makes the two arms one
model."""

from __future__ import annotations

from dataclasses import dataclass

from readtrack.api import knob


@dataclass(frozen=True)
class Config:
    pretrain: bool = knob(
        True,
        help="the 'pretrained' arm fine-tunes the generatively pretrained GPT; off: it starts from scratch",
        paper="on (unsupervised pre-training on BooksCorpus)",
    )
    pretrain_steps: int = knob(
        1000, quick=400, low=1, high=100_000, help="Adam steps of language modelling (L_1) before fine-tuning"
    )
    steps: int = knob(100, quick=40, low=1, high=10_000, help="full-batch Adam steps of fine-tuning (L_2)")
    lr: float = knob(
        0.0,
        low=0.0,
        high=1.0,
        help="fine-tuning's Adam rate for every arm",
        means={0.0: "each its best of 3e-4, 1e-3, 3e-3 on validation (quick: 1e-3, 3e-3)"},
        paper="6.25e-5",
    )
    labels: int = knob(
        64,
        quick=16,
        low=2,
        high=4096,
        multiple_of=2,
        help="labelled sequences to fine-tune on, half from each chain (the difficulty)",
    )
    pairs: int = knob(
        3,
        quick=1,
        low=1,
        high=20,
        help="pairs of Markov chains (each its own corpus, pretraining and label draws), averaged in one run",
    )
    draws: int = knob(
        1, quick=3, low=1, high=20, help="draws of the labelled set per chain pair, averaged inside one run"
    )
    d_model: int = knob(
        32, choices=(8, 16, 32, 64, 128), help="the GPT's width (4 heads)", paper="768 (12 heads)"
    )
    layers: int = knob(2, low=1, high=12, help="the GPT's post-LN blocks", paper="12")
